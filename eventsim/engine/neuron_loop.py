"""The per-neuron event loop, written once and compiled for every target.

``advance`` takes neurons through one window [t, t1): merge each neuron's sorted
events (synaptic arrivals, current steps, crossing checks) with its Poisson stimulus
streams; between events evolve the state exactly and search the first threshold
crossing (``first_crossing``); at each event instant apply every input that arrives
then, and test the threshold once. After the window's last event, predict the next
crossing under free evolution and schedule a check event for it (or for the end of
refractoriness), so that neurons without input cost nothing until something can
happen. A neuron with Poisson stimuli gets no check when no crossing can come before
its next Poisson arrival: that arrival touches it anyway (in a Poisson-driven network,
almost every neuron in almost every window).

Everything here is plain Python on scalars and arrays. ``compile_loop`` compiles it
for one neuron model and one target (``dual.compile_functions``): the model's
equations (``load``, ``evolve``, ``gap_bound``, ...) and the target's two output
functions are bound as globals, which is all that differs between targets:

- ``emit_spike(spikes, n, t, i)``: neuron i spiked at t; returns the new count n.
  cpu: append to a growable buffer (``spikes`` = (times, ids) one-element typed
  lists); cuda: into the neuron's own slots (``spikes`` = (slot_t, slot_n, flags)).
- ``schedule_check(checks, n, t, i, ver)``: a crossing check of neuron i at t,
  valid while its version is ver; returns the new count. cpu: append; cuda: the
  neuron's own entry (only the latest check of a neuron is ever valid).

The cpu driver (``eventsim.engine.cpu_kernels``) calls ``advance`` once per block of
neurons whose events it has just sorted. Where they are many, the sort has drawn the
window's Poisson arrivals of each neuron with one stream and merged them into its events
too (``kernels.draw_window``, ``kernels.merge_window``: the same draws, taken in the same
order, as ``take_arrival`` would take them here), and the loop finds those streams'
next arrival at or after the window's end. The cuda kernel
(``eventsim.engine.cuda_kernels``) calls it with one neuron per thread.

State sampling (``eventsim.output.report``): for a recorded neuron, each committed free
evolution from t to t' first writes the samples due in [t, t') from copies of the
state at t (``record_samples``). It only reads the state, so the simulation is the same
with and without recording. A sample at an event instant is taken after every input
of that instant and after a spike's reset (the state is right-continuous). Samples of
neurons without events are written by ``sample_idle``.
"""
from __future__ import annotations

import importlib
import math
import sys
import types

import numpy as np

from .dual import compile_functions, source_tag
from .kernels import KIND_CHECK, KIND_CURRENT, KIND_SYN

INF = math.inf
# crossing times: the search brackets a crossing by an aligned interval of LEAF ms
# (2^-37, 7.3e-12 ms), then refines it until the bracket is REFINE_REL of the offset (a
# few ulp; the contract asks for 1e-9 ms, NEST's precise models meet 1e-13 ms)
LEAF = 2.0 ** -37
# leaves grow with the search's extent beyond 2^51 LEAF (16 s), where offsets that are
# multiples of LEAF would no longer be exact
LEAF_REL = 2.0 ** -51
REFINE_REL = 4e-16
REFINE_STEPS = 60
# crossing checks: first interval tried (ms) and bound evaluations per scheduling
CHECK_STEP = 0.5
CHECK_EVALS = 4

# bound per model and target by compile_loop: the model's equations, the random
# stream's draw and the target's output functions
load = store = evolve = evolve_refractory = receive = gap_now = gap = gap_bound = None
spike_reset = refractory_period = recordable = exp_draw = emit_spike = schedule_check = None
leak = evolve_leaked = relative_leak = evolve_relative = None
# True where the model asks for its decay factors computed ahead (its LEAK_AHEAD) and
# has ``leak`` and ``evolve_leaked``: a constant of compilation
HAS_LEAK = False
# True where the model's state does not change with inputs while it is refractory (its
# REFRACTORY_INERT: delta synapses, v clamped), a constant of compilation
REFRACTORY_INERT = False
# a neuron's decay factors of a window are computed ahead (``leak_ahead``) where it has
# at least this many events in it
LEAK_AHEAD_MIN = 8


def state_values(s, p):
    """A model without ``recordable`` records its state tuple (names: its STATE_DTYPE fields)."""
    return s


def refine_crossing(s, p, i_ext, lo, hi):
    """The crossing in (lo, hi], given gap(lo) < 0 <= gap(hi), to the last bits: regula
    falsi with the Illinois modification (a stale end's gap is halved), bisection when a
    step would not fall strictly inside; it stops when the bracket is as small as the
    floating-point spacing near hi allows (or after REFINE_STEPS). Returns the late end
    hi, at which the computed gap is >= 0 (the neuron's state there is at threshold).
    Returns lo when gap(lo) >= 0 already: at lo = 0, a state at or above threshold
    that no input put there (an initial v >= v_th) fires at once."""
    g_lo = gap(s, p, i_ext, lo)
    if g_lo >= 0.0:
        return lo
    g_hi = gap(s, p, i_ext, hi)
    side = 0
    for _ in range(REFINE_STEPS):
        if hi - lo <= REFINE_REL * hi:
            break
        m = hi - g_hi * (hi - lo) / (g_hi - g_lo)
        if not (lo < m < hi):
            m = lo + 0.5 * (hi - lo)
            if not (lo < m < hi):
                break
        g_m = gap(s, p, i_ext, m)
        if g_m >= 0.0:
            hi, g_hi = m, g_m
            if side == 1:
                g_lo *= 0.5
            side = 1
        else:
            lo, g_lo = m, g_m
            if side == -1:
                g_hi *= 0.5
            side = -1
    return hi


def first_crossing(s, p, i_ext, h):
    """First dt in [0, h] (h finite) at which gap(dt) >= 0; INF if none (0 only for a
    state at threshold already: an initial v >= v_th).

    s is the neuron's state tuple. An advancing front over aligned dyadic intervals
    [m 2^k LEAF, (m + 1) 2^k LEAF]: at lo, the longest aligned interval is tried; it is
    skipped when the upper bound of the gap on it is negative, halved otherwise, down
    to LEAF. The bound is valid on every interval, so no crossing can be skipped,
    however brief. The first leaf whose end has gap >= 0 brackets the crossing;
    ``refine_crossing`` takes it to the last bits of dt.

    The intervals are the same whatever h (h only says where to stop), so the bracket,
    and the spike time, depend only on the state: a search that ends at the next input,
    at a window's end or at a run's cut (run(until) mid-window) finds the same crossing
    to the bit. (For h up to 2^51 LEAF, 16 s; beyond, leaves grow with h.)
    """
    top = LEAF
    while top < h:
        top *= 2.0
    leaf = max(LEAF, top * LEAF_REL)
    lo = 0.0
    span = top
    while lo < h:
        if gap_bound(s, p, i_ext, lo, lo + span) < 0.0:
            pass
        elif span > leaf:
            span *= 0.5
            continue
        elif gap(s, p, i_ext, lo + span) >= 0.0:
            dt = refine_crossing(s, p, i_ext, lo, lo + span)
            return dt if dt <= h else INF
        # past [lo, lo + span]: on with the longest interval aligned at the new lo
        lo += span
        while span < top:
            q = lo / (2.0 * span)   # (exact: powers of two)
            if q != math.floor(q):
                break
            span *= 2.0
    return INF


def crossing_free_until(s, p, i_ext, h0):
    """A lower bound (offset >= h0) of the first crossing after offset h0; INF if none can come.

    Cheap on purpose: at most a few bound evaluations. Intervals of growing length are
    skipped while the gap's upper bound on them is negative. The check scheduled at the
    returned offset wakes the neuron, whose search then starts again from its last input
    (most checks go stale first, when the neuron receives its next input).
    """
    if gap_bound(s, p, i_ext, h0, INF) < 0.0:
        return INF
    lo = h0
    step = CHECK_STEP
    for _ in range(CHECK_EVALS):
        if gap_bound(s, p, i_ext, lo, lo + step) < 0.0:
            lo += step
            step *= 2.0
        else:
            step *= 0.25
    return lo


def next_arrival(q0, q1, ps_next):
    """The earliest next arrival of streams q0 .. q1-1 (INF without streams).

    One stream (the common case: a neuron's Poisson input) is read directly: the loop,
    vectorised by the compiler, took a dozen instructions and a mispredicted branch or
    two to find that it had one element, at every neuron and window (the microcircuit
    at 0.25 on one thread 5 % faster without)."""
    if q1 == q0 + 1:
        return ps_next[np.uint64(q0), 0]
    tp = INF
    for q in range(np.uint64(q0), np.uint64(q1)):
        if ps_next[q, 0] < tp:
            tp = ps_next[q, 0]
    return tp


def take_arrival(q0, q1, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events):
    """Take the earliest next arrival of streams q0 .. q1-1 (q1 > q0; the lowest stream at
    equal times): the stream moves on by one draw and counts it as delivered (ps_events).
    Returns its weight.

    Each stream is drawn one arrival ahead: ps_next[q, 0] is its next arrival (made by
    draw ps_k[q]), ps_next[q, 1] the one after (kernels.draw_after). The loop's decisions
    read arrivals drawn in an earlier step, so they never wait for the draw just begun (a
    log on the path of every decision cost a quarter of the Poisson drawing's time in the
    microcircuit); the sums, and so the arrivals, are the same to the bit.
    """
    qm = q0
    for q in range(q0 + 1, q1):
        if ps_next[q, 0] < ps_next[qm, 0]:
            qm = q
    u = np.uint64(qm)
    k = ps_k[u] + 1
    ps_k[u] = k
    ps_events[u] += 1
    tq = ps_next[u, 1]
    ps_next[u, 0] = tq
    ps_next[u, 1] = tq + exp_draw(ps_key[u], k + 1, ps_mean[u])
    return ps_w[u]


def record_samples(s, p, t, t_end, refractory, i_ext, k, k_lim, t0, dt, row0, col, rec_var, data):
    """Write samples k, k+1, ... (time t0 + k dt, k < k_lim) that fall in [t, t_end) into
    data[k - row0, col nv + j] (nv = len(rec_var), j-th recorded variable), each from a copy
    of the state s at t evolved to the sample time; returns the next sample index.

    The caller guarantees t0 + k dt >= t. A sample at t itself is s (no evolution: no
    rounding)."""
    nv = rec_var.shape[0]
    while k < k_lim:
        ts = t0 + k * dt
        if ts >= t_end:
            break
        if ts == t:
            c = s
        elif refractory:
            c = evolve_refractory(s, p, ts - t)
        else:
            c = evolve(s, p, ts - t, i_ext)
        vals = recordable(c, p)
        r = k - row0
        for j in range(nv):
            data[r, col * nv + j] = vals[rec_var[j]]
        k += 1
    return k


def sample_idle(t_end, li_begin, li_end, i0, state, params, t_state, ref_end, i_stim,
                rec_col, rec_next, rec_var, data, t0, dt, k_lim, row0):
    """Samples before t_end of the recorded neurons i0 + li (li_begin <= li < li_end) of the
    population starting at global id i0 whose state is still at an earlier time t_state
    (no event since): free evolution of a copy from t_state, clamped until the end of
    refractoriness. No crossing can lie in between: the loop scheduled a check at or
    before the first possible one, which would have touched the neuron."""
    for li in range(li_begin, li_end):
        col = rec_col[li]
        if col < 0:
            continue
        k = rec_next[li]
        if k >= k_lim or t0 + k * dt >= t_end:
            continue
        i = i0 + li
        s = load(state[li])
        p = params[li if params.shape[0] > 1 else 0]   # one record: shared by the population
        t = t_state[i]
        rend = ref_end[i]
        if t < rend:
            tr = min(rend, t_end)
            k = record_samples(s, p, t, tr, True, i_stim[i], k, k_lim, t0, dt, row0, col, rec_var, data)
            s = evolve_refractory(s, p, tr - t)
            t = tr
        if t < t_end:
            k = record_samples(s, p, t, t_end, False, i_stim[i], k, k_lim, t0, dt, row0, col, rec_var,
                               data)
        rec_next[li] = k


def advance(i_begin, i_end, base, i0, t1, state, params,
            t_state, ref_end, i_stim, version, updates,
            ev_ptr, ev_t, ev_w, ev_kind, ev_f,
            ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events,
            spikes, n_spk, checks, n_chk,
            rec_col, rec_next, rec_var, rec_data, smp_t0, smp_dt, k_lim, row0):
    """Advance neurons i_begin .. i_end-1 (global ids) through the window ending at t1.

    state/params hold the records of the population starting at global id i0 (local
    index i - i0; params may hold one record, shared by every neuron); the other
    per-neuron arrays are global. Neuron i's events, sorted by
    time (queue order at equal times), are ev_*[ev_ptr[i - base]:ev_ptr[i - base + 1]]
    (a check's ev_w is the version it was scheduled under). ev_f: scratch as long as ev_t
    for the decay factors of a neuron's inputs (``leak_ahead``; empty: none computed
    ahead). ps_* are the neurons'
    Poisson stimulus streams (ps_ptr), drawn as their arrivals are taken (``take_arrival``).
    Spikes and crossing checks go to the target's ``emit_spike`` / ``schedule_check``
    (n_spk, n_chk: their counts, returned updated).

    rec_*: state sampling (see ``record_samples``): rec_col[li] the neuron's column in
    rec_data (-1: not recorded; rec_col empty: nothing recorded), rec_next[li] its next
    sample index; samples k < k_lim are written to row k - row0.
    """
    recording = rec_col.shape[0] > 0
    for i in range(i_begin, i_end):
        li = i - i0
        # (the neuron's indices as unsigned: no test for a negative index at each access)
        ui = np.uint64(i)
        uli = np.uint64(li)
        ux = np.uint64(i - base)
        e = ev_ptr[ux]
        e_end = ev_ptr[ux + np.uint64(1)]
        q0 = ps_ptr[ui]
        q1 = ps_ptr[ui + np.uint64(1)]
        # tp: the neuron's next Poisson arrival (INF without streams), kept up to date
        # as arrivals are taken (take_arrival)
        tp = next_arrival(q0, q1, ps_next)
        if e == e_end and tp >= t1:
            continue  # nothing arrives in this window: the neuron is not touched (nor read)
        one_stream = q1 == q0 + 1
        uq0 = np.uint64(q0)
        st = state[uli]
        s = load(st)
        p = params[uli if params.shape[0] > 1 else np.uint64(0)]   # one record: shared by the population
        t = t_state[ui]
        tref = refractory_period(p)
        ver = version[ui]
        rend = ref_end[ui]
        istim = i_stim[ui]
        n_upd = 0
        had_input = False
        touched = False
        col = rec_col[uli] if recording else -1
        k_smp = rec_next[uli] if col >= 0 else 0
        # the decay over each input's interval from the one before, computed ahead for the
        # common case below where the neuron has many events (the factor of input e holds
        # while t is the time of event e-1, or the neuron's time before its first event:
        # ``chained``)
        ahead = HAS_LEAK and col < 0 and e_end - e >= LEAK_AHEAD_MIN and ev_f.shape[0] > 0
        if ahead:
            leak_ahead(p, t, ev_t, ev_kind, ev_f, e, e_end)
        chained = ahead
        while True:
            # --- the common case, in a tight loop: an input alone at its instant (a synaptic
            # arrival or the arrival of a neuron's one Poisson stream), the neuron not
            # refractory, no crossing possible before it, no samples due. It does exactly
            # what the general loop below does with such an input; anything else (a check,
            # a current step, a tie, several streams, refractoriness, a possible crossing)
            # leaves it, before the event is taken, for the general loop. (A call such as
            # exp's makes every float live across it go through the stack; fewer live
            # values, fewer spills: 3 % of Brunel's loop, 11 % of the microcircuit's.)
            while col < 0:
                if REFRACTORY_INERT and t < rend:
                    # inputs during refractoriness change nothing in this model: skipped,
                    # counted as the general loop counts them
                    e, t, n_inert = skip_refractory(e, e_end, t, min(rend, tp, t1), ev_t, ev_kind)
                    if n_inert > 0:
                        touched = True
                        had_input = True
                        n_upd += n_inert
                        chained = False
                if chained and t >= rend:
                    # first a run of queued inputs whose factors are computed ahead, in a
                    # function of its own (``quiet_run``); then the input it stopped at,
                    # here or in the general loop
                    store(st, s)
                    t, e, n_run = quiet_run(st, p, istim, t, e, e_end, min(tp, t1), ev_t, ev_w, ev_f)
                    s = load(st)
                    if n_run > 0:
                        touched = True
                        had_input = True
                        n_upd += n_run
                        if gap_now(s, p) >= 0.0:
                            n_spk = emit_spike(spikes, n_spk, t, i)
                            s = spike_reset(s, p)
                            rend = t + tref
                # (indices as unsigned: no test for a negative one at every access)
                ue = np.uint64(e)
                tq = ev_t[ue] if e < e_end else INF
                from_queue = tq <= tp   # (queue order first at equal times, as below)
                if from_queue:
                    tn = tq
                    if e == e_end or ev_kind[ue] != KIND_SYN:
                        break   # (nothing left, or a check or current step next)
                    w = ev_w[ue]
                    tie = tp == tn or (e + 1 < e_end and ev_t[ue + np.uint64(1)] == tn)
                else:
                    if not one_stream:
                        break
                    tn = tp
                    w = ps_w[uq0]
                    tie = ps_next[uq0, 1] == tn
                # (tn < rend needs no test: here t >= rend and tn > t)
                if tie or tn >= t1 or tn <= t or t < rend:
                    break
                if gap_bound(s, p, istim, 0.0, tn - t) >= 0.0:
                    break
                if HAS_LEAK:
                    # the decay factor computed ahead, or here; no call to a library exp
                    # (the polynomial's range: nan outside, and the general loop takes it)
                    ea = ev_f[ue] if chained & from_queue else leak(p, tn - t)
                    if not ea == ea:
                        break
                    s = evolve_leaked(s, p, tn - t, istim, ea)
                else:
                    s = evolve(s, p, tn - t, istim)
                t = tn
                s = receive(s, p, w, False)
                if from_queue:
                    e += 1
                    chained = ahead
                else:
                    take_arrival(q0, q1, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events)
                    tp = ps_next[uq0, 0]
                    chained = False
                touched = True
                had_input = True
                n_upd += 1
                if gap_now(s, p) >= 0.0:
                    n_spk = emit_spike(spikes, n_spk, tn, i)
                    s = spike_reset(s, p)
                    rend = tn + tref
            chained = False
            # skip stale crossing checks (scheduled before an input) without touching the state
            while e < e_end and ev_kind[e] == KIND_CHECK and (had_input or ev_w[e] != ver):
                e += 1
            tn = INF
            check = False
            if e < e_end:
                tn = ev_t[e]
                check = ev_kind[e] == KIND_CHECK
            if tp < tn:
                tn = tp
                check = False
            if tn >= t1:
                break
            touched = True
            if check:
                # a valid check (the neuron's first event since it was scheduled) only
                # wakes the neuron: the search for a crossing runs, from the neuron's
                # last input, at its next input or at the window's end. The state is
                # not moved to the check's time, so where checks fall (they depend on
                # window ends and run cuts) never changes the result.
                e += 1
                continue
            # --- free evolution from t to tn, with every threshold crossing on the way ---
            while t < tn:
                if t < rend:
                    tr = min(rend, tn)
                    if col >= 0:
                        k_smp = record_samples(s, p, t, tr, True, istim, k_smp, k_lim, smp_t0, smp_dt,
                                               row0, col, rec_var, rec_data)
                    s = evolve_refractory(s, p, tr - t)
                    t = tr
                    continue
                # cheap exclusion first; the search only where a crossing is possible
                dt = INF
                if gap_bound(s, p, istim, 0.0, tn - t) >= 0.0:
                    dt = first_crossing(s, p, istim, tn - t)
                if col >= 0:
                    k_smp = record_samples(s, p, t, min(t + dt, tn), False, istim, k_smp, k_lim, smp_t0,
                                           smp_dt, row0, col, rec_var, rec_data)
                if dt == INF:
                    s = evolve(s, p, tn - t, istim)
                    t = tn
                    break
                s = evolve(s, p, dt, istim)
                t = t + dt
                n_spk = emit_spike(spikes, n_spk, t, i)
                s = spike_reset(s, p)
                rend = t + tref
            t = tn
            # --- every input that arrives at tn (queue order, then stream order), then one
            # threshold test ---
            refractory = tn < rend
            got_input = False
            while e < e_end and ev_t[e] == tn:
                k = ev_kind[e]
                if k == KIND_SYN:
                    s = receive(s, p, ev_w[e], refractory)
                    got_input = True
                elif k == KIND_CURRENT:
                    istim += ev_w[e]
                    got_input = True
                e += 1
            while tp == tn:
                w = take_arrival(q0, q1, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events)
                s = receive(s, p, w, refractory)
                got_input = True
                tp = next_arrival(q0, q1, ps_next)
            if got_input:
                had_input = True
                n_upd += 1
            if not refractory and gap_now(s, p) >= 0.0:
                n_spk = emit_spike(spikes, n_spk, tn, i)
                s = spike_reset(s, p)
                rend = tn + tref
        if touched:
            # --- after the window's last event: crossings before t1, then a check for later ---
            # (a new version invalidates every check scheduled before)
            ver += 1
            # the next Poisson arrival (tp >= t1) touches the neuron anyway: no check is
            # needed for a crossing that cannot come before it
            while True:
                if t < rend:
                    if rend < t1:
                        if col >= 0:
                            k_smp = record_samples(s, p, t, rend, True, istim, k_smp, k_lim, smp_t0,
                                                   smp_dt, row0, col, rec_var, rec_data)
                        s = evolve_refractory(s, p, rend - t)
                        t = rend
                        continue
                    if rend < tp:
                        n_chk = schedule_check(checks, n_chk, rend, i, ver)
                    break
                if tp < INF and gap_bound(s, p, istim, 0.0, tp - t) < 0.0:
                    break
                h = t1 - t
                dt = INF
                if h > 0.0 and gap_bound(s, p, istim, 0.0, h) >= 0.0:
                    dt = first_crossing(s, p, istim, h)
                if dt < INF:
                    if col >= 0:
                        k_smp = record_samples(s, p, t, t + dt, False, istim, k_smp, k_lim, smp_t0,
                                               smp_dt, row0, col, rec_var, rec_data)
                    s = evolve(s, p, dt, istim)
                    t = t + dt
                    n_spk = emit_spike(spikes, n_spk, t, i)
                    s = spike_reset(s, p)
                    rend = t + tref
                    continue
                lb = crossing_free_until(s, p, istim, max(h, 0.0))
                if lb < INF and t + lb < tp:
                    n_chk = schedule_check(checks, n_chk, t + lb, i, ver)
                break
        store(st, s)
        t_state[ui] = t
        version[ui] = ver
        ref_end[ui] = rend
        i_stim[ui] = istim
        updates[ui] += n_upd
        if col >= 0:
            rec_next[li] = k_smp
    return n_spk, n_chk


def leak_ahead(p, t, ev_t, ev_kind, ev_f, lo, hi):
    """The decay factors of a neuron's events lo .. hi-1 over their intervals from the event
    before (from t for the first): ev_f[k] = leak(p, ev_t[k] - ev_t[k - 1]), or nan where
    event k is not an input that ``quiet_run`` takes: not a synaptic arrival, not after
    the event before, at the time of the event after (a tie), or its factor outside the
    polynomial's range. In loops without branches or calls, which the compiler vectorises.
    """
    one = np.uint64(1)
    ulo = np.uint64(lo)
    uhi = np.uint64(hi)
    t_prev = t
    for k in range(ulo, uhi - one):
        tk = ev_t[k]
        f = leak(p, tk - t_prev)
        clean = (ev_kind[k] == KIND_SYN) & (tk > t_prev) & (ev_t[k + one] != tk)
        ev_f[k] = f if clean else math.nan
        t_prev = tk
    k = uhi - one   # (the last: no event after it in this neuron's)
    tk = ev_t[k]
    f = leak(p, tk - t_prev)
    ev_f[k] = f if (ev_kind[k] == KIND_SYN) & (tk > t_prev) else math.nan


def skip_refractory(e, e_end, t, t_stop, ev_t, ev_kind):
    """For a model whose state no input changes while it is refractory (REFRACTORY_INERT):
    the queued inputs e, e+1, ... before t_stop (the end of refractoriness, the window's
    end or the neuron's next stream arrival, whichever is first), instant by instant, each
    instant's events all synaptic arrivals; ``advance``'s general loop would move t to
    each and count it as one update, nothing else. Returns (e, t, instants taken)."""
    one = np.uint64(1)
    ue = np.uint64(e)
    u_end = np.uint64(e_end)
    n = 0
    while ue < u_end:
        tn = ev_t[ue]
        if not (tn < t_stop):
            break
        # the instant's events: synaptic arrivals all, or none taken
        uj = ue
        while uj < u_end and ev_t[uj] == tn and ev_kind[uj] == KIND_SYN:
            uj += one
        if uj < u_end and ev_t[uj] == tn:
            break
        ue = uj
        t = tn
        n += 1
    return np.int64(ue), t, n


def quiet_run(st, p, istim, t, e, e_end, t_lim, ev_t, ev_w, ev_f):
    """``advance``'s common case for a run of a neuron's queued inputs e, e+1, ... whose
    decay factors ``leak_ahead`` has computed (the caller calls it where t is the time of
    event e-1, or the neuron's time before its first event): each a synaptic arrival alone
    at its instant, before t_lim (the window's end or the neuron's next stream arrival,
    whichever is first), with no crossing possible before it and its factor in the
    polynomial's range (not nan); the neuron not refractory (the caller's test). It does
    with each what ``advance`` does, and stops before an input it cannot take, or after
    one that brings the neuron to threshold (the caller emits the spike at t).

    A function of its own, called once per run: it stores nothing until the run's end,
    so that the compiler keeps the neuron's parameters and state in registers through
    the run (inside ``advance``, among its stores and many live values, they were
    reloaded at every input); and it tests one factor instead of the input's kind,
    order and tie. The state comes and goes through its record st (``load``,
    ``store``): a state tuple passed in would lose what the model's load makes constant
    (the delta kernel's zero currents). Returns (t, e, inputs taken)."""
    s = load(st)
    if relative_leak(p, istim):
        s, t, ue = _quiet_loop(s, p, istim, t, e, e_end, t_lim, ev_t, ev_w, ev_f, True)
    else:
        s, t, ue = _quiet_loop(s, p, istim, t, e, e_end, t_lim, ev_t, ev_w, ev_f, False)
    store(st, s)
    return t, np.int64(ue), np.int64(ue) - e


def _quiet_loop(s, p, istim, t, e, e_end, t_lim, ev_t, ev_w, ev_f, relative):
    """``quiet_run``'s loop; ``relative`` (a constant at each call): the model's
    ``relative_leak`` holds, and the leak is ``evolve_relative``'s, one addition less
    between an input and the next, except before an input of weight -0.0 (the one case
    where it differs from ``evolve_leaked``'s once the weight is added). Returns (s, t,
    the index of the first input not taken)."""
    one = np.uint64(1)
    ue = np.uint64(e)
    u_end = np.uint64(e_end)
    while ue < u_end:
        ea = ev_f[ue]
        tn = ev_t[ue]
        if not ((ea == ea) & (tn < t_lim)):
            break
        if gap_bound(s, p, istim, 0.0, tn - t) >= 0.0:
            break
        w = ev_w[ue]
        if relative:
            if (w == 0.0) & (math.copysign(1.0, w) < 0.0):
                break
            s = evolve_relative(s, p, ea)
        else:
            s = evolve_leaked(s, p, tn - t, istim, ea)
        t = tn
        s = receive(s, p, w, False)
        ue += one
        if gap_now(s, p) >= 0.0:
            break
    return s, t, ue


def _no_leak(p, dt):
    return math.nan


def _evolve_unleaked(s, p, dt, i_ext, ea):
    return evolve(s, p, dt, i_ext)


def _not_relative(p, i_ext):
    return False


def _evolve_unrelative(s, p, ea):
    return s


# in dependency order (callees first)
FUNCTIONS = ("state_values", "refine_crossing", "first_crossing", "crossing_free_until", "next_arrival", "take_arrival",
             "record_samples", "sample_idle", "leak_ahead", "_quiet_loop", "quiet_run", "skip_refractory", "advance")
MODEL_FUNCTIONS = ("load", "store", "evolve", "evolve_refractory", "receive", "gap_now", "gap", "gap_bound",
                   "spike_reset", "refractory_period")
# _nrt=False on the cpu: no reference counting of array arguments in a function called
# once or twice per neuron and window (numba's atomic incref/decref of its arrays took
# half of the microcircuit's run time, and contend between threads)
NRT_FREE = ("quiet_run",)
# small leaves called once or twice per neuron and window: inlined on the cpu
INLINE = ("next_arrival", "take_arrival", "leak_ahead", "_quiet_loop", "skip_refractory")
# the stand-ins of a model without leak and evolve_leaked, or without relative_leak and
# evolve_relative
NO_LEAK = ("_no_leak", "_evolve_unleaked")
NO_RELATIVE = ("_not_relative", "_evolve_unrelative")


_compiled: dict = {}


def compile_loop(kernel_module: str, target: str, outputs) -> types.SimpleNamespace:
    """The loop compiled for the neuron model in ``kernel_module`` on ``target`` ("cpu",
    "cuda"), with ``outputs`` (a module holding the target's plain ``emit_spike`` and
    ``schedule_check``). Returns a namespace: the compiled FUNCTIONS, ``model`` (the
    model's compiled equations) and ``tag`` (the source tag of everything bound)."""
    key = (kernel_module, target, outputs.__name__)
    if key in _compiled:
        return _compiled[key]
    km = importlib.import_module(kernel_module)
    from . import rng
    model = km.CPU if target == "cpu" else compile_functions(vars(km), km.FUNCTIONS, target)
    draws = rng.functions(target)
    tag = source_tag(sys.modules[__name__], km, *getattr(km, "SOURCE_MODULES", ()), outputs)
    out_ns = compile_functions(vars(outputs), outputs.FUNCTIONS, target, inline=outputs.FUNCTIONS, tag=tag)
    ns = dict(globals())
    for name in MODEL_FUNCTIONS:
        ns[name] = getattr(model, name)
    ns["exp_draw"] = draws.exp_draw
    ns["emit_spike"] = out_ns.emit_spike
    ns["schedule_check"] = out_ns.schedule_check
    ns["__name__"] = f"{__name__}.{kernel_module.rsplit('.', 1)[-1]}"
    # the decay factors computed ahead (advance), where the model asks for it (its
    # constant LEAK_AHEAD) and says how; elsewhere stand-ins that the constant
    # HAS_LEAK = False leaves uncalled
    ns["HAS_LEAK"] = bool(getattr(km, "LEAK_AHEAD", False))
    ns["REFRACTORY_INERT"] = bool(getattr(km, "REFRACTORY_INERT", False))
    if ns["HAS_LEAK"]:
        ns["leak"], ns["evolve_leaked"] = model.leak, model.evolve_leaked
    else:
        stand_in = compile_functions(ns, NO_LEAK, target, inline=NO_LEAK, tag=tag)
        ns["leak"], ns["evolve_leaked"] = stand_in._no_leak, stand_in._evolve_unleaked
    if ns["HAS_LEAK"] and hasattr(model, "relative_leak"):
        ns["relative_leak"], ns["evolve_relative"] = model.relative_leak, model.evolve_relative
    else:
        stand_in = compile_functions(ns, NO_RELATIVE, target, inline=NO_RELATIVE, tag=tag)
        ns["relative_leak"], ns["evolve_relative"] = stand_in._not_relative, stand_in._evolve_unrelative
    if hasattr(model, "recordable"):
        ns["recordable"] = model.recordable
    else:
        ns["recordable"] = compile_functions(ns, ("state_values",), target, tag=tag).state_values
    compiled = compile_functions(ns, FUNCTIONS[1:], target, nrt_free=NRT_FREE if target == "cpu" else (),
                                 inline=INLINE, tag=tag)
    res = types.SimpleNamespace(model=model, tag=tag, **vars(compiled))
    _compiled[key] = res
    return res

