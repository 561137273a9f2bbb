"""Plastic weights in the output file: samples at an interval and transmitted-weight events.

Layout (documented in docs/scenario-format.md, [record]):

    /weights/<projection>/samples/time      float64 (n_samples,), ms, attribute units
    /weights/<projection>/samples/weight    float64 (n_samples, n_synapses): the weights at
                                            each time, synapses in the order of
                                            /weights/<projection>/source_ids, target_ids
    /weight_events/<projection>/timestamps  float64, ms: pre spike time of each transmission
    /weight_events/<projection>/source_ids, target_ids   uint64, population-local ids
    /weight_events/<projection>/weight      float64: the weight that spike carried

Sampled weights are those event-by-event updates give at the sample time (see
``Simulation.weights``); a sample at time T is taken after running to T exactly.
"""
from __future__ import annotations

import numpy as np


def sample_times(duration, interval):
    """0, interval, 2 interval, ... <= duration (ms)."""
    n = int(np.floor(duration / interval + 1e-9))
    return np.arange(n + 1) * interval


def run_sampling_weights(sim, duration, names, interval, progress=None):
    """Run ``sim`` to ``duration``, taking the weights of projections ``names`` at every
    sample time. Returns {name: (times, weights (n, n_syn))} of the samples reached.

    The samples are kept in ``sim.weight_samples`` as they are taken, so a checkpoint
    holds them; a simulation restored from one goes on with the next sample."""
    store = sim.weight_samples
    for n in names:
        store.setdefault(n, ([], []))
    taken = set(store[names[0]][0]) if names else set()
    for t in sample_times(duration, interval):
        # taken before a checkpoint this run was resumed from, or before the checkpoint
        # a new run started from (it samples from there on)
        if t in taken or t < sim.t:
            continue
        if t > sim.t:
            sim.run(t, progress=progress)
        if sim.t < t:   # stopped early (signal)
            break
        for n in names:
            w = sim.weights(n)     # on ranks: collective, None except on rank 0
            if w is not None:
                store[n][0].append(t)
                store[n][1].append(w)
    if sim.t < duration and not sim.should_stop():
        sim.run(duration, progress=progress)
    # (on ranks other than 0, no samples: rank 0 holds them)
    return {n: (np.array(store[n][0]), np.array(store[n][1]).reshape(len(store[n][0]), -1) if store[n][0]
                else np.zeros((0, 0))) for n in names}


def weight_writers(sim, samples, event_names):
    """Callables f(h5file) (SonataWriter.finish extras) writing samples and weight events.
    The events are taken now (on ranks a collective: every rank calls this)."""
    events = {name: sim.weight_events(name) for name in event_names}
    def write_samples(f):
        for name, (times, w) in samples.items():
            g = f.require_group("weights").require_group(name).create_group("samples")
            g.create_dataset("time", data=times).attrs["units"] = "ms"
            g.create_dataset("weight", data=w)

    def write_events(f):
        for name in event_names:
            t, src, tgt, w = events[name]
            g = f.require_group("weight_events").create_group(name)
            g.create_dataset("timestamps", data=t).attrs["units"] = "ms"
            g.create_dataset("source_ids", data=src.astype(np.uint64))
            g.create_dataset("target_ids", data=tgt.astype(np.uint64))
            g.create_dataset("weight", data=w)
    return [write_samples, write_events]
