"""numba.cuda kernels of the cuda backend's window loop (driven by eventsim.engine.cuda).

One source: the per-neuron event loop is eventsim.engine.neuron_loop's, compiled here
for the device against the model's device functions (``model_kernels``); what is the
device's own are its two output functions (a neuron writes its spikes to its own slots
and its next crossing check to its own entry: a thread cannot append to a growable host
buffer) and the kernel that runs one neuron per thread (``update_neurons``).

Determinism does not depend on thread or block order: atomics only count and reserve
positions; a neuron's events are then sorted by the full key (time, kind rank, queue
sequence number), where the sequence number of an arrival is its position in the CPU's
queue order (emission window, spike time, source id, synapse index), so equal-time
inputs are summed in the CPU's order. Every other write goes to a location owned by
one thread (Poisson counts are kept per stream, each owned by its target neuron).
"""
from __future__ import annotations

import math
import types

import numpy as np
from numba import cuda

from eventsim.engine import kernels as K
from eventsim.engine import plasticity as _P
from eventsim.engine import rng as _rng
from eventsim.engine.dual import compile_functions

KIND_SYN = K.KIND_SYN
KIND_CURRENT = K.KIND_CURRENT
KIND_CHECK = K.KIND_CHECK
INF = math.inf

_exp_draw = _rng.functions("cuda").exp_draw
_window_of = cuda.jit(device=True, inline=True)(K.window_of.py_func)


# ---- small model-independent kernels ----

@cuda.jit
def fill_i64(a, n, value):
    i = cuda.grid(1)
    if i < n:
        a[i] = value


@cuda.jit
def count_arrivals(btgt, nb, counts):
    j = cuda.grid(1)
    if j < nb:
        cuda.atomic.add(counts, btgt[j], 1)


@cuda.jit
def count_currents(cur_id, c0, c1, counts):
    j = c0 + cuda.grid(1)
    if j < c1:
        cuda.atomic.add(counts, cur_id[j], 1)


@cuda.jit
def count_checks(n, t1, chk_t, chk_ver, version, counts):
    i = cuda.grid(1)
    if i < n and chk_t[i] < t1 and chk_ver[i] == version[i]:
        cuda.atomic.add(counts, i, 1)


# exclusive prefix sum of counts[0:n] into out[0:n+1] (and fill[0:n]), in three launches:
# chunk sums, a serial scan of the chunk sums, chunk scans (integer sums: exact in any order)
@cuda.jit
def scan_chunks(counts, n, chunk, sums, nchunks):
    c = cuda.grid(1)
    if c < nchunks:
        s = 0
        for i in range(c * chunk, min((c + 1) * chunk, n)):
            s += counts[i]
        sums[c] = s


@cuda.jit
def scan_sums(sums, nchunks):
    if cuda.grid(1) == 0:
        acc = 0
        for c in range(nchunks):
            x = sums[c]
            sums[c] = acc
            acc += x
        sums[nchunks] = acc


@cuda.jit
def scan_write(counts, n, chunk, sums, nchunks, out, fill):
    c = cuda.grid(1)
    if c < nchunks:
        acc = sums[c]
        for i in range(c * chunk, min((c + 1) * chunk, n)):
            out[i] = acc
            fill[i] = acc
            acc += counts[i]
        if c == nchunks - 1:
            out[n] = sums[nchunks]


@cuda.jit
def scatter_arrivals(bt, bw, btgt, bseq, nb, fill, ev_t, ev_w, ev_kind, ev_seq):
    j = cuda.grid(1)
    if j < nb:
        pos = cuda.atomic.add(fill, btgt[j], 1)   # reserve only; sort_events fixes the order
        ev_t[pos] = bt[j]
        ev_w[pos] = bw[j]
        ev_kind[pos] = KIND_SYN
        ev_seq[pos] = bseq[j]


@cuda.jit
def scatter_checks(n, t1, chk_t, chk_ver, version, fill, ev_t, ev_w, ev_kind, ev_seq):
    """Due crossing checks (consumed: the neuron is touched and schedules anew)."""
    i = cuda.grid(1)
    if i < n and chk_t[i] < t1 and chk_ver[i] == version[i]:
        pos = cuda.atomic.add(fill, i, 1)
        ev_t[pos] = chk_t[i]
        ev_w[pos] = chk_ver[i]
        ev_kind[pos] = KIND_CHECK
        ev_seq[pos] = 0
        chk_t[i] = INF


@cuda.jit
def scatter_currents(cur_t, cur_id, cur_di, c0, c1, fill, ev_t, ev_w, ev_kind, ev_seq):
    j = c0 + cuda.grid(1)
    if j < c1:
        pos = cuda.atomic.add(fill, cur_id[j], 1)
        ev_t[pos] = cur_t[j]
        ev_w[pos] = cur_di[j]
        ev_kind[pos] = KIND_CURRENT
        ev_seq[pos] = j


@cuda.jit(device=True, inline=True)
def _rank(kind):
    """The CPU's order at equal times: arrivals, then the check, then current steps."""
    if kind == KIND_SYN:
        return 0
    if kind == KIND_CHECK:
        return 1
    return 2


@cuda.jit
def sort_events(n, ev_ptr, ev_t, ev_w, ev_kind, ev_seq, counts):
    """Insertion sort of each neuron's events by (time, rank, sequence number): a total
    order, so the result does not depend on the order the scatter reserved slots in."""
    i = cuda.grid(1)
    if i >= n:
        return
    counts[i] = 0   # read by the scan already: ready for the next window
    a = ev_ptr[i]
    b = ev_ptr[i + 1]
    for j in range(a + 1, b):
        tj = ev_t[j]
        wj = ev_w[j]
        kj = ev_kind[j]
        sj = ev_seq[j]
        rj = _rank(kj)
        m = j - 1
        while m >= a:
            tm = ev_t[m]
            if tm < tj:
                break
            if tm == tj:
                rm = _rank(ev_kind[m])
                if rm < rj or (rm == rj and ev_seq[m] < sj):
                    break
            ev_t[m + 1] = tm
            ev_w[m + 1] = ev_w[m]
            ev_kind[m + 1] = ev_kind[m]
            ev_seq[m + 1] = ev_seq[m]
            m -= 1
        ev_t[m + 1] = tj
        ev_w[m + 1] = wj
        ev_kind[m + 1] = kj
        ev_seq[m + 1] = sj


@cuda.jit
def emit_poisson_sources(i0, n, t1, mean, nxt, kk, keys, spk_t, spk_n, flags):
    """poisson_source neurons i0..i0+n-1: their spikes < t1 into their slots (at most
    spk_t.shape[1] per launch; flags[1] = 1 when one has more: the host collects and
    relaunches)."""
    li = cuda.grid(1)
    if li >= n:
        return
    i = i0 + li
    c = spk_n[i]
    while nxt[li] < t1:
        if c == spk_t.shape[1]:
            flags[1] = 1
            break
        spk_t[i, c] = nxt[li]
        c += 1
        kk[li] += 1
        nxt[li] += _exp_draw(keys[li], kk[li], mean[li])
    spk_n[i] = c


@cuda.jit
def compact_spikes(n, spk_t, spk_n, off, base, out_t, out_id):
    """Every neuron's slots into the window's spike list at base + off[i] (neuron order);
    empties the slots."""
    i = cuda.grid(1)
    if i < n:
        p = base + off[i]
        for c in range(min(spk_n[i], spk_t.shape[1])):
            out_t[p + c] = spk_t[i, c]
            out_id[p + c] = i
        spk_n[i] = 0   # the slots are free for the next window


@cuda.jit
def order_spikes(n, t, ids, rank, out_t, out_id):
    """The window's n spikes in the documented order (time, then population rank, then
    list position), one thread per spike: its place is the number of spikes before it.
    n^2 comparisons, all independent: a window holds few spikes next to its arrivals."""
    j = cuda.grid(1)
    if j >= n:
        return
    tj = t[j]
    rj = rank[ids[j]]
    pos = 0
    for k in range(n):
        tk = t[k]
        if tk < tj:
            pos += 1
        elif tk == tj:
            rk = rank[ids[k]]
            if rk < rj or (rk == rj and k < j):
                pos += 1
    out_t[pos] = tj
    out_id[pos] = ids[j]


@cuda.jit(device=True, inline=True)
def _segment_of(off, n, j):
    """The segment m < n with off[m] <= j < off[m + 1] (off ascending, off[0] = 0)."""
    lo = 0
    hi = n
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if off[mid] <= j:
            lo = mid
        else:
            hi = mid
    return lo


_delay = cuda.jit(device=True, inline=True)(K._synapse_delay)


@cuda.jit
def fanout(n_pairs, st, si, pair_off, n_spk, indptr, target, weight, slot, pair_w, plastic,
           delay_index, delay_table, delay_values, use_table, W, B, seq_base, cap,
           bt, bw, btgt, bseq, b_count):
    """One thread per (spike, synapse) pair, pairs numbered in the CPU's queue order
    (spikes sorted by time then id, synapses in CSR order): the number is the arrival's
    sequence key; its bucket slot is only reserved by the atomic. With ``plastic``, a
    plastic synapse (slot[s] >= 0) sends the weight stdp_pre_spikes left in pair_w[pair]."""
    j = cuda.grid(1)
    if j >= n_pairs:
        return
    m = _segment_of(pair_off, n_spk, j)   # the spike whose pairs include j
    s = indptr[si[m]] + (j - pair_off[m])
    ta = st[m] + _delay(s, delay_index, delay_table, delay_values, use_table)
    b = _window_of(ta, W) % B
    pos = cuda.atomic.add(b_count, b, 1)
    if pos < cap:
        bt[b, pos] = ta
        bw[b, pos] = pair_w[j] if plastic and slot[s] >= 0 else weight[s]
        btgt[b, pos] = target[s]
        bseq[b, pos] = seq_base + j


# ---- STDP: eventsim.engine.plasticity's equations compiled for the device ----
# Per window, after the spikes are known (driven by eventsim.engine.cuda._DeviceStdp):
# stdp_pre_spikes (one thread per plastic synapse of a spiking source), stdp_last_pre
# (one per spiking source), the fan-out, then stdp_compact (one per history row, only
# when a row would overflow) and stdp_record_post (one per plastic target that spiked).
# Every thread writes only what it owns: its synapse's weight, traces, update count and
# (spike, synapse) pair weights; its source's last spike time; its history row.

PD = compile_functions(vars(_P), _P.FUNCTIONS, "cuda")
_pre_spike = PD.pre_spike
_record_post_spike = PD.record_post_spike
_compact_row = PD.compact_row


@cuda.jit
def stdp_pre_spikes(n_thr, grp_off, n_grp, grp_src, grp_ptr, grp_spk, st, pair_off,
                    indptr, p_ptr, p_syn, target, weight, proj,
                    delay_index, delay_table, delay_values, use_table,
                    rule, pp, slot, kp, kpt, syn_upd, last_pre,
                    h_row, h_t, h_km, h_kmt, h_n, base_t, base_km, pair_w):
    """Thread k: plastic synapse number k - grp_off[g] (p_syn[p_ptr[src]:]) of source
    grp_src[g], through the source's spikes of this window (st[grp_spk[grp_ptr[g]:
    grp_ptr[g + 1]]], in time order) as the CPU's fanout_plastic does them; the weight
    each spike carries goes to pair_w at the (spike, synapse) pair's number."""
    k = cuda.grid(1)
    if k >= n_thr:
        return
    g = _segment_of(grp_off, n_grp, k)   # the source group whose synapses include k
    src = grp_src[g]
    s = p_syn[p_ptr[src] + (k - grp_off[g])]
    q = slot[s]
    d = _delay(s, delay_index, delay_table, delay_values, use_table)
    pr = proj[s]
    code = rule[pr]
    row = h_row[target[s]]
    w = weight[s]
    kk = kp[q]
    kt = kpt[q]
    nu = syn_upd[q]
    t_last = last_pre[src]
    off = s - indptr[src]
    for m in range(grp_ptr[g], grp_ptr[g + 1]):
        j = grp_spk[m]
        ts = st[j]
        w, kk, kt, nu = _pre_spike(code, w, kk, kt, t_last, ts, d, row, h_t, h_km, h_kmt, h_n,
                                   base_t, base_km, pp, pr, nu)
        pair_w[pair_off[j] + off] = w
        t_last = ts
    weight[s] = w
    kp[q] = kk
    kpt[q] = kt
    syn_upd[q] = nu


@cuda.jit
def stdp_last_pre(n_grp, grp_src, grp_ptr, grp_spk, st, last_pre):
    """A spiking source's last spike time (after stdp_pre_spikes has read the previous)."""
    g = cuda.grid(1)
    if g < n_grp:
        last_pre[grp_src[g]] = st[grp_spk[grp_ptr[g + 1] - 1]]


@cuda.jit
def stdp_compact(n_rows, h_t, h_km, h_kmt, h_n, base_t, base_km, in_ptr, in_src, in_d, last_pre):
    row = cuda.grid(1)
    if row < n_rows:
        _compact_row(row, h_t, h_km, h_kmt, h_n, base_t, base_km, in_ptr, in_src, in_d, last_pre)


@cuda.jit
def stdp_record_post(n_grp, grp_row, grp_ptr, grp_spk, st, h_t, h_km, h_kmt, h_n, tr_t, tr_km, tr_kmt,
                     inv_tau_minus, inv_tau_minus_triplet):
    """Thread g: the window's spikes of the plastic target with history row grp_row[g]
    (st[grp_spk[grp_ptr[g]:grp_ptr[g + 1]]], in time order) into its row."""
    g = cuda.grid(1)
    if g < n_grp:
        row = grp_row[g]
        for m in range(grp_ptr[g], grp_ptr[g + 1]):
            _record_post_spike(row, st[grp_spk[m]], h_t, h_km, h_kmt, h_n, tr_t, tr_km, tr_kmt,
                               inv_tau_minus, inv_tau_minus_triplet)


# ---- the per-neuron loop (eventsim.engine.neuron_loop) on the device ----

# the loop's output functions on the device (compiled into it by neuron_loop.compile_loop):
# a neuron writes its spikes to its own slots and its next crossing check to its own entry
FUNCTIONS = ("emit_spike", "schedule_check")


def emit_spike(spikes, n, t, i):
    """A spike of neuron i at t into its slot (spikes = (slot_t, slot_n, flags); flags[0] = 1
    when the slots overflow)."""
    slot_t = spikes[0]
    slot_n = spikes[1]
    c = slot_n[i]
    if c < slot_t.shape[1]:
        slot_t[i, c] = t
    else:
        spikes[2][0] = 1
    slot_n[i] = c + 1
    return n


def schedule_check(checks, n, t, i, ver):
    """Neuron i's crossing check (checks = (chk_t, chk_ver)): only its latest can be valid."""
    checks[0][i] = t
    checks[1][i] = ver
    return n


advance = sample_idle = None   # bound per model by model_kernels


def update_neurons(i0, n, t1, state, params, t_state, ref_end, i_stim, version, updates,
                   ev_ptr, ev_t, ev_w, ev_kind, ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events,
                   slot_t, slot_n, chk_t, chk_ver, flags,
                   rec_col, rec_next, rec_var, rec_data, smp_t0, smp_dt, k_lim, row0):
    """One thread per neuron i0 + li: neuron_loop.advance for that one neuron."""
    li = cuda.grid(1)
    if li >= n:
        return
    # (no decay factors computed ahead: ev_f empty)
    advance(i0 + li, i0 + li + 1, 0, i0, t1, state, params, t_state, ref_end, i_stim, version, updates,
            ev_ptr, ev_t, ev_w, ev_kind, ev_w[:0], ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events,
            (slot_t, slot_n, flags), 0, (chk_t, chk_ver), 0,
            rec_col, rec_next, rec_var, rec_data, smp_t0, smp_dt, k_lim, row0)


def sample_neurons(t_end, n, i0, state, params, t_state, ref_end, i_stim,
                   rec_col, rec_next, rec_var, data, t0, dt, k_lim, row0):
    """One thread per neuron i0 + li: neuron_loop.sample_idle for that one neuron."""
    li = cuda.grid(1)
    if li < n:
        sample_idle(t_end, li, li + 1, i0, state, params, t_state, ref_end, i_stim,
                    rec_col, rec_next, rec_var, data, t0, dt, k_lim, row0)


_kernels: dict = {}


def model_kernels(kernel_module: str) -> types.SimpleNamespace:
    """A neuron model's loop compiled for the device, its ``update`` kernel and its
    ``sample`` kernel (state samples of neurons without events; compiled on first launch)."""
    if kernel_module in _kernels:
        return _kernels[kernel_module]
    import sys
    from eventsim.engine.neuron_loop import compile_loop
    loop = compile_loop(kernel_module, "cuda", sys.modules[__name__])
    g = dict(globals())
    g["advance"] = loop.advance
    g["sample_idle"] = loop.sample_idle
    out = types.SimpleNamespace(loop=loop, update=cuda.jit(types.FunctionType(update_neurons.__code__, g,
                                                                              "update_neurons")),
                                sample=cuda.jit(types.FunctionType(sample_neurons.__code__, g, "sample_neurons")))
    _kernels[kernel_module] = out
    return out
