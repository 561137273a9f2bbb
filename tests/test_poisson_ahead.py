"""Poisson arrivals drawn ahead by the cpu's block sort (kernels.draw_window) and merged
into each neuron's events (kernels.merge_window), instead of drawn by the neuron loop."""
import numpy as np
import pytest

import eventsim
from eventsim.engine import kernels as K
from eventsim.engine import rng
from eventsim.engine.cpu import POISSON_ROOM
from eventsim.network.core import Stimulus
from netutil import lif_pop, network, spike_source


def _layout(rng_, nj, kinds=True):
    """Per neuron: its sorted events (time, weight, kind: synaptic arrivals only where not
    ``kinds``), some at 0, -0.0 or before, and its Poisson arrivals (> 0), both on a coarse
    grid so that many times are equal."""
    queue, arrivals = [], []
    for x in range(nj):
        nq = int(rng_.integers(0, 12))
        t = rng_.integers(-2, 20, nq) * 0.25
        if nq and x % 3 == 0:
            t[0] = -0.0 if x % 2 else 0.0
        t = np.sort(t, kind="stable")
        k = rng_.integers(0, 3, nq).astype(np.int32) if kinds else np.full(nq, K.KIND_SYN, np.int32)
        queue.append((t, rng_.normal(size=nq), k))
        npz = int(rng_.integers(0, 9)) if x % 5 != 4 else 0
        arrivals.append(np.sort(rng_.integers(1, 20, npz) * 0.25))
    return queue, arrivals


@pytest.mark.parametrize("kinds", [True, False])
def test_merge_puts_each_arrival_after_every_event_at_its_time(kinds):
    """Against a plain stable sort by (time, events before arrivals): neurons with no
    events, no arrivals, both, ties between them and among them, events at -0.0 and at
    negative times, a block whose size is not a multiple of the four merged at once.
    With checks and current steps among the events, their kinds move with them; without
    (the merge then leaves the kinds alone), every place in the block keeps the
    synaptic kind the sort filled it with."""
    r = np.random.default_rng(7)
    for nj in (1, 3, 4, 7, 13):
        queue, arrivals = _layout(r, nj, kinds)
        nq = np.array([q[0].size for q in queue])
        npz = np.array([a.size for a in arrivals])
        ev_ptr = np.zeros(nj + 1, np.int64)
        ev_ptr[1:] = np.cumsum(nq + npz)
        fill = ev_ptr[:-1] + nq
        n = int(ev_ptr[-1])
        pz = np.concatenate(arrivals + [np.zeros(0)])   # (after the block's room, as the sort puts them)
        cap = n + 4 + pz.size
        ev_t, ev_w, ev_k = np.full(cap, np.nan), np.full(cap, np.nan), np.full(cap, 9, np.int32)
        if not kinds:
            ev_k[:n] = K.KIND_SYN   # (as sort_block fills them)
        ev_t[cap - pz.size:] = pz
        for x, (t, w, k) in enumerate(queue):
            ev_t[ev_ptr[x]:fill[x]], ev_w[ev_ptr[x]:fill[x]], ev_k[ev_ptr[x]:fill[x]] = t, w, k
        ps_w = 0.5 + np.arange(nj, dtype=float)   # neuron x: one stream, x, of weight 0.5 + x
        pois = (np.inf, np.arange(nj + 1, dtype=np.int64), np.zeros((nj, 2)), np.zeros(nj, np.int64),
                np.zeros(nj, np.uint64), np.zeros(nj), ps_w, np.zeros(nj, np.int64))
        K.merge_window(0, nj, pois, cap - pz.size, ev_ptr, fill, ev_t, ev_w, ev_k, kinds)
        for x in range(nj):
            t, w, k = queue[x]
            items = [(t[m], 0, m, w[m], k[m]) for m in range(t.size)]
            items += [(a, 1, m, ps_w[x], K.KIND_SYN) for m, a in enumerate(arrivals[x])]
            items.sort(key=lambda it: it[:3])   # (time, events first, their order); -0.0 == 0.0
            s = slice(ev_ptr[x], ev_ptr[x + 1])
            want_t = np.array([it[0] for it in items], dtype=float)
            np.testing.assert_array_equal(ev_t[s].view(np.int64), want_t.view(np.int64))   # (-0.0 kept)
            np.testing.assert_array_equal(ev_w[s], [it[3] for it in items])
            np.testing.assert_array_equal(ev_k[s], [it[4] for it in items])
        assert np.isnan(ev_t[n:cap - pz.size]).all()   # nothing written past the block


def test_block_with_more_arrivals_than_the_sort_takes_leaves_the_rest_to_the_loop():
    """A block of 16 neurons with hundreds of synaptic events each per window (so that
    the sort draws their Poisson arrivals ahead) and one stream each that brings more
    arrivals per window than the sort's scratch takes in: the first neurons' are drawn
    ahead and merged, the others' drawn by the neuron loop. Each neuron fires at every
    arrival (a 5 mV step to a threshold 1 mV above rest, no refractoriness; the synaptic
    events weigh 0 mV), so its spikes are its stream's arrivals, drawn here as the
    contract documents the streams; the stimulus counter holds their number."""
    rate, n, n_src, t_stop, seed = 2.0e6, 16, 20, 3.0, 4
    src = spike_source("src", [np.arange(0.0, t_stop, 0.1) + 0.003 * s for s in range(n_src)], 0)
    nrn = lif_pop("n", n, n_src, synapse="delta", v_th=-69.0, v_reset=-70.0, t_ref=0.0)
    edges = [(s, n_src + x, 0.0, 1.0, 0) for s in range(n_src) for x in range(n)]
    stims = [Stimulus("drive", "poisson", "n", np.arange(n_src, n_src + n), rate=rate, weight=5.0, delay=0.0)]
    sim = eventsim.Simulation(network([src, nrn], edges, stimuli=stims), seed=seed)
    W = sim.engine.W
    assert n_src * (W / 0.1) >= 2 * K.DRAW_AHEAD   # (synaptic events per neuron and window)
    assert n * rate / 1000.0 * W > 1.5 * POISSON_ROOM   # (more arrivals than the room, with margin)
    sim.run(t_stop)
    t, i = sim.spikes("n")
    total = 0
    for x in range(n):
        want, at, k = [], 0.0, 0
        while True:
            at += rng.CPU.exp_interval(seed, rng.STREAM_POISSON_STIMULUS, n_src + x, k, rate / 1000.0)
            if at >= t_stop:
                break
            want.append(at)
            k += 1
        np.testing.assert_array_equal(t[i == x], want)
        total += len(want)
    assert int(sim.counters()["stimuli"]["drive"]["events"]) == total
    assert int(sim.counters()["projections"]["p"]["synaptic_events"]) > n * n_src * 10   # (they came)


def test_the_loops_next_arrival_is_the_earliest_of_a_neurons_streams():
    """neuron_loop.next_arrival, compiled as the loop calls it: the earliest next arrival
    of a neuron's streams q0 .. q1-1 (the lowest at equal times does not matter for the
    time), infinity without any; one stream is read directly (its own path), several
    are searched."""
    from eventsim.engine import cpu_kernels, neuron_loop
    loop = neuron_loop.compile_loop("eventsim.models.neurons._lif_exp_kernel", "cpu", cpu_kernels)
    ps_next = np.array([[3.5, 9.0], [1.25, 2.0], [7.0, 8.0], [1.25, 5.0], [0.5, 0.75]])
    for q0, q1 in ((0, 0), (2, 2), (0, 1), (1, 2), (4, 5), (0, 3), (2, 4), (0, 5), (1, 4)):
        want = ps_next[q0:q1, 0].min() if q1 > q0 else np.inf
        assert loop.next_arrival(q0, q1, ps_next) == want, (q0, q1)
