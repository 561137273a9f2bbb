"""Small hand-built networks for engine tests (independent of the scenario reader and builder)."""
import numpy as np

from eventsim.network.core import Network, Population, Projection, Stimulus, csr_from_edges
from reference import LIF_DEFAULTS


def lif_pop(name, size, offset, synapse="delta", v0=None, **params):
    p = dict(LIF_DEFAULTS, **params)
    arrays = {k: np.full(size, float(v)) for k, v in p.items()}
    init = {"v": np.full(size, p["v_rest"] if v0 is None else v0, dtype=float)}
    return Population(name, "lif", size, offset, arrays, {"synapse": synapse}, init)


def spike_source(name, times_per_neuron, offset):
    times = [np.sort(np.asarray(t, dtype=float)) for t in times_per_neuron]
    return Population(name, "spike_source", len(times), offset, {}, {}, {}, spike_times=times)


def network(pops, edges=(), projections=None, stimuli=(), seed=1):
    """edges: (src_gid, tgt_gid, weight, delay, proj_index)."""
    n = sum(p.size for p in pops)
    if edges:
        s, t, w, d, pr = (np.array(x) for x in zip(*edges))
    else:
        s = t = pr = np.zeros(0, dtype=np.int64)
        w = d = np.zeros(0)
    arr = csr_from_edges(n, s, t, w, d, pr)
    if projections is None:
        projections = [Projection("p", 0, pops[0].name, pops[-1].name, n_synapses=len(edges))]
    return Network(list(pops), projections, list(stimuli), seed=seed, **arr)


def driven_neuron(arrivals, synapse="delta", delay=1.0, current_steps=(), v0=None, **params):
    """One LIF neuron fed by spike sources so that input k arrives at arrivals[k][0] with weight arrivals[k][1]."""
    src = spike_source("src", [[t - delay] for t, _ in arrivals], 0)
    nrn = lif_pop("n", 1, len(arrivals), synapse=synapse, v0=v0, **params)
    edges = [(k, len(arrivals), w, delay, 0) for k, (_, w) in enumerate(arrivals)]
    stims = []
    if current_steps:
        ts, amps = zip(*current_steps)
        stims.append(Stimulus("step", "current", "n", np.array([len(arrivals)]),
                              times=np.array(ts, float), amplitudes=np.array(amps, float)))
    return network([src, nrn], edges, stimuli=stims)


# Spike-time tolerances (ms). A crossing is found to the last bits of its offset from the
# neuron's previous event; NEST's precise models meet 1e-13 ms (its test_iaf_ps_dc_accuracy
# and ticket-673 tests). An absolute time is a float64 sum of such offsets, each addition
# rounding by up to half an ulp of t: a time compared after n such sums may differ by n ulp.
SPIKE_TOL = 1e-13
# against tests/reference.py after many inputs: the reference computes v by other formulas,
# and a few ulp of v over the slope of v at the crossing can exceed SPIKE_TOL
REFERENCE_TOL = 1e-12
# a crossing that grazes the threshold (slope near 0) moves by (rounding of v) / slope
GRAZING_TOL = 1e-9


def spike_tol(t, roundings=4):
    """SPIKE_TOL plus ``roundings`` ulp of the time(s) t (ms)."""
    return SPIKE_TOL + roundings * np.spacing(np.abs(np.asarray(t, dtype=float)))
