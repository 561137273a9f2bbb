"""Model-independent numba kernels of the window loop: gather/sort, fan-out, sources.

Every kernel works on plain arrays; eventsim.engine.simulation allocates and calls them.

Queue layout: a ring of B buckets, bucket k % B holding the synaptic arrivals of
window k = [k W, (k + 1) W), W = the network's minimum delay. A bucket is a row
of four 2-D arrays (time, weight, target, synapse index) with a fill count.

Deterministic order (the documented tie-break): a neuron's events in a window are
applied in order of (time, synapse index); non-synaptic events (current steps,
crossing checks) carry synapse index -1. Inputs at the same instant are all applied
before the one threshold test, so the order only fixes the floating-point
summation order, identically on every backend and thread count.
"""
import math

import numpy as np
from numba import njit

KIND_SYN = 0
KIND_CURRENT = 1
KIND_CHECK = 2


@njit(cache=True)
def push_spike(buf_t, buf_id, n, t, i):
    """Append (t, i) to growable buffers (one-element typed lists of arrays); returns n + 1."""
    if n == buf_t[0].shape[0]:
        nt = np.empty(2 * n + 64)
        nt[:n] = buf_t[0][:n]
        buf_t[0] = nt
        ni = np.empty(2 * n + 64, dtype=np.int64)
        ni[:n] = buf_id[0][:n]
        buf_id[0] = ni
    buf_t[0][n] = t
    buf_id[0][n] = i
    return n + 1


@njit(cache=True)
def push_check(buf_t, buf_id, buf_ver, n, t, i, ver):
    """Append a crossing check (t, neuron i, version ver); returns n + 1."""
    if n == buf_t[0].shape[0]:
        nt = np.empty(2 * n + 64)
        nt[:n] = buf_t[0][:n]
        buf_t[0] = nt
        ni = np.empty(2 * n + 64, dtype=np.int64)
        ni[:n] = buf_id[0][:n]
        buf_id[0] = ni
        nv = np.empty(2 * n + 64, dtype=np.int64)
        nv[:n] = buf_ver[0][:n]
        buf_ver[0] = nv
    buf_t[0][n] = t
    buf_id[0][n] = i
    buf_ver[0][n] = ver
    return n + 1


@njit(cache=True)
def window_of(t, W):
    """Index k of the window [k W, (k + 1) W) that contains t (boundaries are k * W in float64)."""
    k = int(math.floor(t / W))
    while k * W > t:
        k -= 1
    while (k + 1) * W <= t:
        k += 1
    return k


@njit(cache=True)
def gather_window(n_neurons, t1, b_t, b_w, b_tgt, b_syn, nb,
                  far_t, far_id, far_ver, n_far, version,
                  cur_t, cur_id, cur_di, cur_pos,
                  ev_ptr, ev_t, ev_w, ev_kind, ev_syn):
    """Per-neuron sorted events of one window.

    Inputs: the window's bucket (first nb records), the pending crossing checks
    (those with t < t1 are taken, stale ones dropped, the rest compacted), and the
    current-step list from cur_pos on (those with t < t1 are taken).
    Output: ev_ptr (n_neurons + 1) and the ev_* arrays sorted by (neuron, time, syn).
    Returns (number of events, new n_far, new cur_pos); the ev_* arrays must hold
    nb + n_far + (current steps in the window) records.
    """
    counts = np.zeros(n_neurons + 1, dtype=np.int64)
    for j in range(nb):
        counts[b_tgt[j] + 1] += 1
    for j in range(n_far):
        if far_t[j] < t1 and far_ver[j] == version[far_id[j]]:
            counts[far_id[j] + 1] += 1
    c_end = cur_pos
    while c_end < cur_t.shape[0] and cur_t[c_end] < t1:
        counts[cur_id[c_end] + 1] += 1
        c_end += 1
    for i in range(n_neurons):
        counts[i + 1] += counts[i]
    for i in range(n_neurons + 1):
        ev_ptr[i] = counts[i]
    fill = counts  # reused as the write cursor per neuron
    for j in range(nb):
        i = b_tgt[j]
        pos = fill[i]
        fill[i] = pos + 1
        ev_t[pos] = b_t[j]
        ev_w[pos] = b_w[j]
        ev_kind[pos] = KIND_SYN
        ev_syn[pos] = b_syn[j]
    keep = 0
    for j in range(n_far):
        i = far_id[j]
        if far_ver[j] != version[i]:
            continue  # stale: the neuron received input after this check was scheduled
        if far_t[j] < t1:
            pos = fill[i]
            fill[i] = pos + 1
            ev_t[pos] = far_t[j]
            ev_w[pos] = far_ver[j]
            ev_kind[pos] = KIND_CHECK
            ev_syn[pos] = -1
        else:
            far_t[keep] = far_t[j]
            far_id[keep] = far_id[j]
            far_ver[keep] = far_ver[j]
            keep += 1
    for j in range(cur_pos, c_end):
        i = cur_id[j]
        pos = fill[i]
        fill[i] = pos + 1
        ev_t[pos] = cur_t[j]
        ev_w[pos] = cur_di[j]
        ev_kind[pos] = KIND_CURRENT
        ev_syn[pos] = -1
    # insertion sort by (time, syn) within each neuron: buckets are filled in
    # emission order, so runs are nearly sorted and this is close to linear
    for i in range(n_neurons):
        a = ev_ptr[i]
        b = ev_ptr[i + 1]
        for j in range(a + 1, b):
            tj = ev_t[j]
            sj = ev_syn[j]
            if ev_t[j - 1] < tj or (ev_t[j - 1] == tj and ev_syn[j - 1] <= sj):
                continue
            wj = ev_w[j]
            kj = ev_kind[j]
            m = j - 1
            while m >= a and (ev_t[m] > tj or (ev_t[m] == tj and ev_syn[m] > sj)):
                ev_t[m + 1] = ev_t[m]
                ev_w[m + 1] = ev_w[m]
                ev_kind[m + 1] = ev_kind[m]
                ev_syn[m + 1] = ev_syn[m]
                m -= 1
            ev_t[m + 1] = tj
            ev_w[m + 1] = wj
            ev_kind[m + 1] = kj
            ev_syn[m + 1] = sj
    return ev_ptr[n_neurons], keep, c_end


@njit(cache=True)
def retain_after(t1, b_t, b_w, b_tgt, b_syn, nb):
    """Keep the records with t >= t1 (a window cut short by run(until)); returns the new count."""
    keep = 0
    for j in range(nb):
        if b_t[j] >= t1:
            b_t[keep] = b_t[j]
            b_w[keep] = b_w[j]
            b_tgt[keep] = b_tgt[j]
            b_syn[keep] = b_syn[j]
            keep += 1
    return keep


@njit(cache=True)
def sort_spikes(spk_t, spk_id, n):
    """Spikes ordered by (time, neuron id) (input is ordered by neuron id)."""
    order = np.argsort(spk_t[:n], kind="mergesort")
    return spk_t[:n][order], spk_id[:n][order]


@njit(cache=True)
def fanout(spk_t, spk_id, n_spk, indptr, target, weight, proj,
           delay_index, delay_table, delay_values, use_table, W, B,
           b_t, b_w, b_tgt, b_syn, b_count, proj_events):
    """Append one arrival per (spike, synapse) to the bucket of its arrival window.

    The caller guarantees room (every bucket has at least sum of out-degrees free).
    """
    for j in range(n_spk):
        src = spk_id[j]
        ts = spk_t[j]
        for s in range(indptr[src], indptr[src + 1]):
            if use_table:
                d = delay_table[delay_index[s]]
            else:
                d = delay_values[s]
            ta = ts + d
            k = int(math.floor(ta / W))
            while k * W > ta:
                k -= 1
            while (k + 1) * W <= ta:
                k += 1
            b = k % B
            pos = b_count[b]
            b_t[b, pos] = ta
            b_w[b, pos] = weight[s]
            b_tgt[b, pos] = target[s]
            b_syn[b, pos] = s
            b_count[b] = pos + 1
            proj_events[proj[s]] += 1


@njit(cache=True)
def emit_spike_sources(i0, n, t1, times, t_ptr, pos, spk_t, spk_id, n_spk):
    """spike_source neurons i0..i0+n-1: emit listed times < t1 (pos: next index per neuron).

    spk_t/spk_id are growable buffers (see push_spike); returns the new fill count.
    """
    for li in range(n):
        p = pos[li]
        end = t_ptr[li + 1]
        while p < end and times[p] < t1:
            n_spk = push_spike(spk_t, spk_id, n_spk, times[p], i0 + li)
            p += 1
        pos[li] = p
    return n_spk


from .rng import CPU as _RNG  # noqa: E402

_exp_interval = _RNG.exp_interval


@njit(cache=True)
def emit_poisson_sources(i0, n, t1, rate_per_ms, nxt, kk, seed, stream, spk_t, spk_id, n_spk):
    """poisson_source neurons i0..i0+n-1: emit their spikes < t1.

    nxt[li] is the neuron's next spike time, kk[li] the index of the draw that made it;
    draw k of neuron li is keyed (seed, stream, li, k).
    """
    for li in range(n):
        while nxt[li] < t1:
            n_spk = push_spike(spk_t, spk_id, n_spk, nxt[li], i0 + li)
            kk[li] += 1
            nxt[li] += _exp_interval(seed, stream, li, kk[li], rate_per_ms[li])
    return n_spk


@njit(cache=True)
def first_draws(seed, stream, idents, rate_per_ms, offset, nxt):
    """nxt[j] = offset + the first (k = 0) interval of stream (seed, stream, idents[j]); inf if rate 0."""
    for j in range(idents.shape[0]):
        if rate_per_ms[j] > 0.0:
            nxt[j] = offset[j] + _exp_interval(seed, stream, idents[j], 0, rate_per_ms[j])
        else:
            nxt[j] = np.inf
