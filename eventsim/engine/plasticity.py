"""STDP kernels: the STDP family updated spike by spike inside the engine's fan-out.

The rules and their keys are declared in ``models/plasticity/stdp.py``; this module
holds their numerics. The scheme is NEST's (lazy, exact): a plastic synapse is
updated when its source spikes. At a pre spike at t on synapse s (delay d, counted
as dendritic, last pre spike of the source at t_last):

1. potentiation by every post spike of the target *seen* (t_post + d) in (t_last, t],
   in time order (nearest-neighbour rules: the first one only);
2. depression by the post trace at t, from post spikes seen strictly before t;
3. the spike is transmitted with the new weight (the ARRIVAL record carries it);
4. the pre traces jump.

Post spikes are kept per target neuron (``history``) with the values of the post
traces just after each spike, while a synapse may still need them (see
``compact``). Everything a post spike does is thereby applied in time order
relative to the pre spikes of every synapse, which is what eager, event-by-event
updates give; the potentiation by post spikes seen after the last pre spike is
applied by ``flushed_weights`` when weights are read.

Before its first pre spike a synapse behaves as if its last pre spike was at
t = 0 with empty pre traces (NEST's convention: it matters only for the
nearest-neighbour rules, whose potentiation does not scale with K+).

Per projection, ``pp`` holds the rule's parameters (columns P_*), ``rule`` its code
(the ``code`` of the catalogue entry; -1: static).

One source for both backends: the per-synapse and per-row numerics (``FUNCTIONS``)
are plain Python, compiled here for the CPU (``CPU``, inlined into the kernels below:
they run per event and take arrays, whose reference counting a call would pay) and
by ``eventsim.engine.cuda_kernels`` for the GPU (``compile_functions(..., "cuda")``).
The CPU drivers below loop over spikes, synapses and rows and call them.
"""
import math

import numpy as np
from numba import njit

from .dual import compile_functions
from .kernels import push_spike, window_of

STDP, NN_SYMM, NN_PRE_CENTERED, NN_RESTR, TRIPLET = 0, 1, 2, 3, 4
# parameter columns of pp (one row per projection)
P_TAU_PLUS, P_TAU_MINUS, P_LAMBDA, P_ALPHA, P_MU_PLUS, P_MU_MINUS, P_W_MAX = 0, 1, 2, 3, 4, 5, 6
P_TAU_PLUS_TRIPLET, P_TAU_MINUS_TRIPLET = 7, 8
P_A_PLUS, P_A_PLUS_TRIPLET, P_A_MINUS, P_A_MINUS_TRIPLET = 9, 10, 11, 12
N_PARAMS = 13
PARAM_COLUMNS = {"tau_plus": P_TAU_PLUS, "tau_minus": P_TAU_MINUS, "lambda": P_LAMBDA,
                 "alpha": P_ALPHA, "mu_plus": P_MU_PLUS, "mu_minus": P_MU_MINUS, "w_max": P_W_MAX,
                 "tau_plus_triplet": P_TAU_PLUS_TRIPLET, "tau_minus_triplet": P_TAU_MINUS_TRIPLET,
                 "a_plus": P_A_PLUS, "a_plus_triplet": P_A_PLUS_TRIPLET,
                 "a_minus": P_A_MINUS, "a_minus_triplet": P_A_MINUS_TRIPLET}


# ---- the equations, plain Python (one source: compiled for the CPU below, for the GPU by cuda_kernels) ----

def _facilitate(code, w, k, ky, pp, pr):
    """Potentiation of weight w by pre trace value k (ky: slow post trace, triplet);
    pp[pr]: the projection's parameters."""
    wmax = pp[pr, P_W_MAX]
    if code == TRIPLET:
        nw = w + k * (pp[pr, P_A_PLUS] + pp[pr, P_A_PLUS_TRIPLET] * ky)
        return nw if nw < wmax else wmax
    nw = w / wmax + pp[pr, P_LAMBDA] * math.pow(1.0 - w / wmax, pp[pr, P_MU_PLUS]) * k
    return nw * wmax if nw < 1.0 else wmax


def _depress(code, w, k, kx, pp, pr):
    """Depression of weight w by post trace value k (kx: slow pre trace, triplet)."""
    if code == TRIPLET:
        nw = w - k * (pp[pr, P_A_MINUS] + pp[pr, P_A_MINUS_TRIPLET] * kx)
        return nw if nw > 0.0 else 0.0
    wmax = pp[pr, P_W_MAX]
    nw = w / wmax - pp[pr, P_ALPHA] * pp[pr, P_LAMBDA] * math.pow(w / wmax, pp[pr, P_MU_MINUS]) * k
    return nw * wmax if nw > 0.0 else 0.0


def _first_seen_after(h_t, row, n, t_last, d):
    """Index of the first entry of history row ``row`` seen (t_post + d) after t_last
    (n if none)."""
    lo, hi = 0, n
    while lo < hi:
        m = (lo + hi) // 2
        if h_t[row, m] + d > t_last:
            hi = m
        else:
            lo = m + 1
    return lo


def _potentiate(code, w, kp, t_last, d, row, h_t, h_kmt, h_n, t_end, inclusive, pp, pr, n_upd):
    """Potentiation of a synapse by the post spikes of history row ``row`` seen in
    (t_last, t_end] (inclusive) or (t_last, t_end). Returns (w, seen any, n_upd)."""
    n = h_n[row]
    j = _first_seen_after(h_t, row, n, t_last, d)
    seen = False
    while j < n:
        ts = h_t[row, j] + d
        if ts > t_end or (ts == t_end and not inclusive):
            break
        minus_dt = t_last - ts
        if code == STDP or code == NN_PRE_CENTERED:
            w = _facilitate(code, w, kp * math.exp(minus_dt / pp[pr, P_TAU_PLUS]), 0.0, pp, pr)
        elif code == TRIPLET:
            w = _facilitate(code, w, kp * math.exp(minus_dt / pp[pr, P_TAU_PLUS]), h_kmt[row, j] - 1.0, pp, pr)
        else:
            w = _facilitate(code, w, math.exp(minus_dt / pp[pr, P_TAU_PLUS]), 0.0, pp, pr)
        n_upd += 1
        seen = True
        if code == NN_PRE_CENTERED or code == NN_RESTR:
            break   # nearest neighbour: the first post spike after the pre spike only
        j += 1
    return w, seen, n_upd


def _post_trace(code, row, ts, d, h_t, h_km, h_n, base_t, base_km, pp, pr):
    """Post trace seen by a synapse at time ts: from the latest post spike seen strictly
    before, t_post + d < ts (NEST: get_K_values(ts - d)). All-to-all rules: K-;
    nearest-neighbour: exp of the distance to that one spike. 0 when there is none."""
    x = ts - d
    n = h_n[row]
    lo, hi = 0, n
    while lo < hi:   # first entry not strictly before
        m = (lo + hi) // 2
        if h_t[row, m] + d < ts:
            lo = m + 1
        else:
            hi = m
    if lo > 0:
        tp = h_t[row, lo - 1]
        km = h_km[row, lo - 1]
    elif base_t[row] > -math.inf:
        tp = base_t[row]
        km = base_km[row]
    else:
        return 0.0
    e = math.exp((tp - x) * (1.0 / pp[pr, P_TAU_MINUS]))
    if code == STDP or code == TRIPLET:
        return km * e
    return e


def pre_spike(code, w, kp, kpt, t_last, ts, d, row, h_t, h_km, h_kmt, h_n, base_t, base_km, pp, pr, n_upd):
    """A pre spike at ts on one plastic synapse (weight w, pre traces kp and kpt, delay d,
    previous pre spike at t_last; its target's history row ``row``): steps 1, 2 and 4 of
    the module docstring. Returns (w, kp, kpt, n_upd): the weight the spike carries, the
    new pre traces, and n_upd plus the number of weight updates made."""
    w, seen, n_upd = _potentiate(code, w, kp, t_last, d, row, h_t, h_kmt, h_n, ts, True, pp, pr, n_upd)
    if code == NN_PRE_CENTERED and seen:
        kp = 0.0
    if code != NN_RESTR or seen:
        km = _post_trace(code, row, ts, d, h_t, h_km, h_n, base_t, base_km, pp, pr)
        if code == TRIPLET:
            kx = kpt * math.exp((t_last - ts) / pp[pr, P_TAU_PLUS_TRIPLET])
            w = _depress(code, w, km, kx, pp, pr)
            kpt = kx + 1.0
        else:
            w = _depress(code, w, km, 0.0, pp, pr)
        n_upd += 1
    if code != NN_SYMM and code != NN_RESTR:
        kp = kp * math.exp((t_last - ts) / pp[pr, P_TAU_PLUS]) + 1.0
    return w, kp, kpt, n_upd


def record_post_spike(row, t, h_t, h_km, h_kmt, h_n, tr_t, tr_km, tr_kmt, inv_tau_minus, inv_tau_minus_triplet):
    """Append a post spike at t to history row ``row`` with the post traces just after it
    (K-, and K-_triplet for the triplet rule). The caller guarantees room."""
    km = tr_km[row] * math.exp((tr_t[row] - t) * inv_tau_minus[row]) + 1.0
    kmt = tr_kmt[row] * math.exp((tr_t[row] - t) * inv_tau_minus_triplet[row]) + 1.0
    tr_t[row] = t
    tr_km[row] = km
    tr_kmt[row] = kmt
    n = h_n[row]
    h_t[row, n] = t
    h_km[row, n] = km
    h_kmt[row, n] = kmt
    h_n[row] = n + 1


def compact_row(row, h_t, h_km, h_kmt, h_n, base_t, base_km, in_ptr, in_src, in_d, last_pre):
    """Drop the post spikes of history row ``row`` that no synapse can still need: those
    seen (t_post + d) at or before the last pre spike of every incoming plastic synapse.
    The newest dropped one stays as the row's base (the post trace at later times starts
    from it). Which rows are compacted when does not change any result: a synapse only
    reads entries seen after its last pre spike, and the latest one before."""
    n = h_n[row]
    if n == 0:
        return
    cut = n
    for k in range(in_ptr[row], in_ptr[row + 1]):
        c = _first_seen_after(h_t, row, n, last_pre[in_src[k]], in_d[k])
        if c < cut:
            cut = c
            if cut == 0:
                break
    if cut == 0:
        return
    base_t[row] = h_t[row, cut - 1]
    base_km[row] = h_km[row, cut - 1]
    for j in range(cut, n):
        h_t[row, j - cut] = h_t[row, j]
        h_km[row, j - cut] = h_km[row, j]
        h_kmt[row, j - cut] = h_kmt[row, j]
    h_n[row] = n - cut


FUNCTIONS = ("_facilitate", "_depress", "_first_seen_after", "_potentiate", "_post_trace", "pre_spike",
             "record_post_spike", "compact_row")
# all of them run per event or per row inside the loops below and take arrays: inlined
CPU = compile_functions(globals(), FUNCTIONS, "cpu", inline=FUNCTIONS)
_pre_spike = CPU.pre_spike
_potentiate_cpu = CPU._potentiate
_record_post_spike = CPU.record_post_spike
_compact_row = CPU.compact_row


# ---- CPU drivers ----

@njit(cache=True)
def fanout_plastic(spk_t, spk_id, n_spk, indptr, target, weight, proj,
                   delay_index, delay_table, delay_values, use_table, W, B,
                   shard_of, buckets, b_count,
                   rule, pp, slot, kp, kpt, last_pre, h_row, h_t, h_km, h_kmt, h_n, base_t, base_km,
                   n_plastic_updates, log_proj, log_t, log_s, log_w, n_log):
    """fanout (see kernels.fanout_shard; here for every shard: each arrival goes to
    the shard of its target, buckets[shard_of[target]]) with the STDP update of every plastic synapse before
    its ARRIVAL record is written, so the record carries the updated weight.

    slot[s]: index of synapse s in the plastic state arrays kp/kpt (-1: static).
    last_pre[src]: the source's previous spike time. h_*: post spike history (rows
    by h_row[target]). log_proj[p]: append (t, s, w) of every transmission of
    projection p to the growable buffers log_* (a weight recorder). Returns n_log.
    """
    for j in range(n_spk):
        src = spk_id[j]
        ts = spk_t[j]
        t_last = last_pre[src]
        last_d = -1.0
        ta = 0.0
        b = 0
        for s in range(indptr[src], indptr[src + 1]):
            if use_table:   # (written out, as in kernels.fanout_shard: faster than synapse_delay)
                d = delay_table[delay_index[s]]
            else:
                d = delay_values[s]
            if d != last_d:
                last_d = d
                ta = ts + d
                b = window_of(ta, W) % B
            w = weight[s]
            q = slot[s]
            if q >= 0:
                pr = proj[s]
                w, kp[q], kpt[q], n_plastic_updates[pr] = _pre_spike(
                    rule[pr], w, kp[q], kpt[q], t_last, ts, d, h_row[target[s]], h_t, h_km, h_kmt, h_n,
                    base_t, base_km, pp, pr, n_plastic_updates[pr])
                weight[s] = w
                if log_proj[pr]:
                    n_log = push_spike(log_t, log_s, n_log, ts, s)
                    if n_log > log_w[0].shape[0]:
                        grown = np.empty(2 * n_log + 64)
                        grown[:n_log - 1] = log_w[0][:n_log - 1]
                        log_w[0] = grown
                    log_w[0][n_log - 1] = w
            tg = target[s]
            sh = shard_of[tg]
            pos = b_count[sh, b]
            r = buckets[sh, b, pos]
            r.t = ta
            r.w = w
            r.tgt = tg
            b_count[sh, b] = pos + 1
        last_pre[src] = ts
    return n_log


@njit(cache=True)
def record_post_spikes(spk_t, spk_id, n_spk, h_row, h_t, h_km, h_kmt, h_n, tr_t, tr_km, tr_kmt,
                       inv_tau_minus, inv_tau_minus_triplet):
    """Append the window's spikes of plastic targets to their history rows (in time
    order). The caller guarantees room (see compact / grow)."""
    for j in range(n_spk):
        row = h_row[spk_id[j]]
        if row >= 0:
            _record_post_spike(row, spk_t[j], h_t, h_km, h_kmt, h_n, tr_t, tr_km, tr_kmt,
                               inv_tau_minus, inv_tau_minus_triplet)


@njit(cache=True)
def compact(h_t, h_km, h_kmt, h_n, base_t, base_km, in_ptr, in_src, in_d, last_pre):
    """compact_row for every history row."""
    for row in range(h_n.shape[0]):
        _compact_row(row, h_t, h_km, h_kmt, h_n, base_t, base_km, in_ptr, in_src, in_d, last_pre)


@njit(cache=True)
def flushed_weights(indptr, target, weight, proj, delay_index, delay_table, delay_values, use_table,
                    rule, pp, slot, kp, last_pre, h_row, h_t, h_kmt, h_n, t_end, out):
    """out = the weights as event-by-event updates leave them at t_end: the lazily held
    weights plus the potentiation by post spikes seen in (last pre spike, t_end).
    Reads the state only (a run can go on afterwards)."""
    for src in range(indptr.shape[0] - 1):
        t_last = last_pre[src]
        for s in range(indptr[src], indptr[src + 1]):
            w = weight[s]
            q = slot[s]
            if q >= 0:
                d = delay_table[delay_index[s]] if use_table else delay_values[s]
                pr = proj[s]
                w, _seen, _nu = _potentiate_cpu(rule[pr], w, kp[q], t_last, d, h_row[target[s]],
                                                h_t, h_kmt, h_n, t_end, False, pp, pr, 0)
            out[s] = w
