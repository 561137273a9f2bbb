"""Operation counts for a hardware profile, and the energy they cost.

Dynamic energy = sum over the profile's operations of count x J per operation
(point, low and high figures alike). Static energy = static power per chip x
chips used x wall time the chip takes (steps x step_wall_s). The band
(low_j, high_j) sums the low and high figures, so low_j <= total_j <= high_j.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def n_steps(t_stop_ms: float, time_step_ms: float) -> int:
    """Chip time steps that cover ``t_stop_ms`` of simulated time (the last one may be partial)."""
    return int(math.ceil(t_stop_ms / time_step_ms - 1e-9)) if t_stop_ms > 0 else 0


def operation_counts(counters, steps: int, routing=None, dense_inputs=None) -> dict:
    """Counts of every operation of ``models.hardware.OPERATIONS`` that can be had.

    counters: eventsim.energy.counters.Counters. steps: the chip's time steps.
    routing: the dict of :func:`eventsim.energy.mapping.route_counts`, or None (routing
    operations are then absent). dense_inputs: possible inputs per time step of the dense
    equivalent network (synapses of all projections as full matrices, plus stimulus inputs);
    default: the projections' source size x target size from the counters.
    """
    state = [p for p in counters.populations if not p.is_source]
    n_state = sum(p.size for p in state)
    active = sum(int(np.minimum(p.neuron_updates, np.uint64(steps)).sum()) for p in state)
    if dense_inputs is None:
        dense_inputs = dense_synapses(counters)
    c = {
        "synaptic_op": counters.synaptic_events + counters.stimulus_events,
        "plasticity_update": counters.plasticity_updates,
        "neuron_update": counters.neuron_updates,
        "neuron_timestep": n_state * steps,
        "neuron_timestep_active": active,
        "neuron_timestep_inactive": n_state * steps - active,
        "spike": counters.spikes,
        "dense_mac": dense_inputs * steps,
        "dense_weight_read": dense_inputs * steps,
    }
    if routing is not None:
        c.update(routing)
    return c


def dense_synapses(counters) -> int:
    """Synapses of the dense equivalent: source size x target size summed over projections."""
    size = {p.name: p.size for p in counters.populations}
    return int(sum(size.get(j.source, 0) * size.get(j.target, 0) for j in counters.projections))


@dataclass
class Estimate:
    profile: str
    counts: dict                 # operation -> count (those the profile prices)
    dynamic: dict                # operation -> J (point)
    dynamic_low: float
    dynamic_high: float
    static_j: float
    static_low: float
    static_high: float
    n_chips: int
    n_cores: int
    wall_s: float                # wall-clock time the chip takes for the workload
    steps: int
    missing: list = field(default_factory=list)   # priced operations without a count (treated as 0)

    @property
    def dynamic_j(self):
        return float(sum(self.dynamic.values()))

    @property
    def total_j(self):
        return self.dynamic_j + self.static_j

    @property
    def low_j(self):
        return self.dynamic_low + self.static_low

    @property
    def high_j(self):
        return self.dynamic_high + self.static_high


def estimate(profile, counts: dict, n_chips: int, n_cores: int = 0, steps: int | None = None) -> Estimate:
    """Energy of a workload (its operation ``counts``) on ``profile`` using ``n_chips`` chips."""
    dyn, lo, hi, used, missing = {}, 0.0, 0.0, {}, []
    for op, fig in profile.energy.items():
        n = counts.get(op)
        if n is None:
            missing.append(op)
            n = 0
        used[op] = int(n)
        dyn[op] = n * fig.value
        lo += n * fig.low
        hi += n * fig.high
    wall = (steps or 0) * profile.step_wall_s
    chips = max(int(n_chips), 0)
    st = profile.static
    return Estimate(profile=profile.name, counts=used, dynamic=dyn, dynamic_low=lo, dynamic_high=hi,
                    static_j=st.value * chips * wall, static_low=st.low * chips * wall,
                    static_high=st.high * chips * wall, n_chips=chips, n_cores=int(n_cores),
                    wall_s=wall, steps=int(steps or 0), missing=missing)
