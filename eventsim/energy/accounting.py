"""Energy accounting of one run on several hardware profiles: counts, mapping, energy, sparsity."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mapping import map_network, route_counts
from .model import dense_synapses, estimate, n_steps, operation_counts
from .sparsity import sparsity


@dataclass
class Connectivity:
    """The network's synapses as arrays (global ids), with per-neuron spike counts."""
    indptr: np.ndarray            # int64 (n_neurons + 1,)
    target: np.ndarray            # int (n_synapses,)
    spike_count: np.ndarray       # (n_neurons,) spikes per neuron in the run
    population_offsets: tuple     # first global id of each population
    stimulus_inputs: int = 0      # neurons receiving a spike stimulus (dense inputs per step)

    @property
    def n_neurons(self):
        return int(self.indptr.shape[0] - 1)


def account_profile(counters, profile, conn: Connectivity | None = None, mapping_method="auto", cache=None):
    """(Estimate, mapping info dict) of one run on one profile. ``cache``: a dict shared by the
    profiles of one run (the partition order does not depend on a profile's limits)."""
    steps = n_steps(counters.t_stop, profile.time_step_ms)
    dense_inputs = dense_synapses(counters) + (conn.stimulus_inputs if conn is not None else 0)
    info = {"method": None, "cores": 0, "chips": 0, "violations": 0}
    routing = None
    if profile.kind == "dense":
        n_chips, n_cores = 0, 0
    else:
        lim = profile.limits
        if conn is not None:
            m = map_network(lim, conn.n_neurons, conn.indptr, conn.target, conn.spike_count,
                            conn.population_offsets, method=mapping_method, cache=cache)
            routing = route_counts(conn.spike_count, conn.indptr, conn.target, m.core_of,
                                   m.cores_per_chip, lim.get("mesh_width"))
        else:
            offs = np.cumsum([0] + [p.size for p in counters.populations])[:-1]
            m = map_network(lim, counters.n_neurons, population_offsets=tuple(int(o) for o in offs))
        n_chips, n_cores = m.n_chips, m.n_cores
        info = {"method": m.method, "cores": m.n_cores, "chips": m.n_chips, "violations": m.violations}
        if routing is not None:
            info.update({k: routing[k] for k in ("spike_within_core", "spike_to_core", "spike_to_chip")})
    counts = operation_counts(counters, steps, routing, dense_inputs)
    est = estimate(profile, counts, n_chips, n_cores, steps)
    info["neuron_timesteps"] = counts["neuron_timestep"] if profile.clock_driven else None
    return est, info


def account(counters, profiles, conn: Connectivity | None = None, mapping_method="auto") -> dict:
    """The JSON-ready result: counts, per-profile energies and bands, sparsity."""
    t_s = counters.t_stop / 1000.0
    syn = counters.synaptic_events + counters.stimulus_events
    hw, cache = {}, {}
    for prof in profiles:
        est, info = account_profile(counters, prof, conn, mapping_method, cache)
        hw[prof.name] = {
            "title": prof.title,
            "total_j": est.total_j, "dynamic_j": est.dynamic_j, "static_j": est.static_j,
            "low_j": est.low_j, "high_j": est.high_j,
            "dynamic_by_operation_j": est.dynamic,
            "operations": est.counts,
            "static_power_w_per_chip": prof.static.value,
            # the static energy of the cores actually used, had the rest of the chip been given to others
            "static_core_share_j": (est.static_j * est.n_cores / (est.n_chips * prof.limits["cores_per_chip"])
                                    if est.n_chips and "cores_per_chip" in prof.limits else None),
            "wall_s": est.wall_s, "steps": est.steps, "time_step_ms": prof.time_step_ms,
            "j_per_synaptic_event": (est.total_j / syn) if syn else None,
            "j_per_simulated_s": (est.total_j / t_s) if t_s > 0 else None,
            "mapping": info,
            "missing_counts": est.missing,
            "source": prof.source,
            "path": prof.path,
        }
    dense_inputs = dense_synapses(counters) + (conn.stimulus_inputs if conn is not None else 0)
    return {
        "file": counters.path,
        "t_stop_ms": counters.t_stop,
        "counts": {
            "neurons": counters.n_neurons,
            "synapses": counters.n_synapses,
            "spikes": counters.spikes,
            "synaptic_events": counters.synaptic_events,
            "stimulus_events": counters.stimulus_events,
            "plasticity_updates": counters.plasticity_updates,
            "neuron_updates": counters.neuron_updates,
            "populations": {p.name: {"size": p.size, "model": p.model, "spikes": int(p.spike_count.sum()),
                                     "neuron_updates": int(p.neuron_updates.sum())}
                            for p in counters.populations},
            "projections": {j.name: {"synaptic_events": j.synaptic_events,
                                     "plasticity_updates": j.plasticity_updates,
                                     "n_synapses": j.n_synapses} for j in counters.projections},
            "stimuli": dict(counters.stimuli),
        },
        "connectivity": conn is not None,
        "hardware": hw,
        "sparsity": sparsity(counters, 1.0, dense_inputs),
    }
