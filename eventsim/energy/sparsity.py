"""Sparsity of a run in NeuroBench's terms, from the event counters.

NeuroBench (Yik et al. 2024) defines its metrics for clock-driven models; an
event-driven run is read at a reference time step ``dt_ms`` (1 ms by default):

* activation_sparsity: 1 - (neuron-steps with a spike) / (neuron-steps), over
  non-source neurons; a neuron's spiking steps are taken as min(spikes, steps).
* synaptic operations: effective ACs = synaptic events + stimulus events (a binary
  spike times a non-zero weight is an accumulate; effective MACs are 0 for spikes);
  dense = (source size x target size summed over projections + stimulus inputs) x steps,
  the operations of hardware that exploits no sparsity.
* connection_sparsity: 1 - synapses / (source size x target size), summed over projections.
* membrane_updates: the event-driven state updates actually performed, next to the
  neuron-steps a clock-driven simulator at dt_ms would perform.
"""
from __future__ import annotations

import numpy as np

from .model import dense_synapses, n_steps


def sparsity(counters, dt_ms: float = 1.0, dense_inputs: int | None = None) -> dict:
    steps = n_steps(counters.t_stop, dt_ms)
    state = [p for p in counters.populations if not p.is_source]
    neuron_steps = sum(p.size for p in state) * steps
    spiking = sum(int(np.minimum(p.spike_count, np.uint64(steps)).sum()) for p in state)
    possible = dense_synapses(counters)
    if dense_inputs is None:
        dense_inputs = possible
    eff_ac = counters.synaptic_events + counters.stimulus_events
    dense = int(dense_inputs) * steps
    return {
        "dt_ms": dt_ms,
        "steps": steps,
        "activation_sparsity": (1.0 - spiking / neuron_steps) if neuron_steps else None,
        "connection_sparsity": (1.0 - counters.n_synapses / possible) if possible else None,
        "synaptic_operations": {"effective_acs": eff_ac, "effective_macs": 0, "dense": dense,
                                "ratio_effective_to_dense": (eff_ac / dense) if dense else None},
        "membrane_updates": counters.neuron_updates,
        "neuron_timesteps": neuron_steps,
    }
