"""Template of the per-neuron update kernel; the engine generates one copy per neuron model.

The generator (``eventsim.engine.codegen``) writes this file with the marked import
line pointing at a model's kernel module into a cache folder and imports it, so that
numba caches the compiled kernel on disk like any module function. The template
itself is importable (bound to the LIF model) so that it can be read and linted.

What the kernel does, for each neuron of one population in one window [t0, t1):
merge the neuron's sorted queue events (synaptic arrivals, current steps, crossing
checks) with its Poisson stimulus streams; between events evolve the state exactly
and search the first threshold crossing (``time_to_threshold``); at each event
instant apply every input that arrives then, and test the threshold once. After the
window's last event, predict the next crossing under free evolution and schedule a
check event for it (or for the end of refractoriness), so that neurons without
input cost nothing until something can happen. A neuron with Poisson stimuli gets no
check when no crossing can come before its next Poisson arrival: that arrival touches
it anyway (in a Poisson-driven network, almost every neuron in almost every window).

State sampling (``eventsim.output.report``): for a recorded neuron, each committed free
evolution from t to t' (the evolve / evolve_refractory calls below) first writes the
samples due in [t, t') from copies of the state at t (``record_samples``). It only reads
the state, so the simulation is the same with and without recording. A sample at an
event instant is taken after every input of that instant and after a spike's reset
(the state is right-continuous). Samples of neurons without events are written by
``sample_idle`` when the recorder collects them.
"""
import math

import numpy as np
from numba import njit, prange

from eventsim.engine.kernels import push_check, push_spike, sort_block
from eventsim.engine.rng import CPU as _RNG
from eventsim.models.neurons._lif_kernel import CPU as _M  # @model-import

load = _M.load
store = _M.store
evolve = _M.evolve
evolve_refractory = _M.evolve_refractory
receive = _M.receive
gap_now = _M.gap_now
gap = _M.gap
gap_bound = _M.gap_bound
spike_reset = _M.spike_reset
refractory_period = _M.refractory_period
exp_draw = _RNG.exp_draw


@njit(cache=True)
def _state_values(s, p):
    return s


# a model without ``recordable`` records its state tuple (names: its STATE_DTYPE fields)
recordable = getattr(_M, "recordable", _state_values)

INF = math.inf
# crossing times are found to within TOL ms (the contract asks for 1e-9 ms)
TOL = 1e-11
# crossing checks: first interval tried (ms) and bound evaluations per scheduling
CHECK_STEP = 0.5
CHECK_EVALS = 4
KIND_SYN = 0
KIND_CURRENT = 1
KIND_CHECK = 2


@njit(cache=True)
def first_crossing(s, p, i_ext, h):
    """First dt in (0, h] (h finite) at which gap(dt) >= 0, to within TOL; INF if none.

    s is the neuron's state tuple. An advancing front: from lo, the longest interval
    [lo, lo + span] whose upper bound of the gap is negative is skipped (span halved
    until the bound excludes it). The bound is valid on every interval, so no crossing
    can be skipped, however brief.
    """
    lo = 0.0
    step = h
    while lo < h:
        span = min(2.0 * step, h - lo)
        excluded = False
        while True:
            if gap_bound(s, p, i_ext, lo, lo + span) < 0.0:
                excluded = True
                break
            if span <= TOL:
                break
            span *= 0.5
        if not excluded and gap(s, p, i_ext, lo + span) >= 0.0:
            return lo + span
        lo += span
        step = span
    return INF


@njit(cache=True)
def crossing_free_until(s, p, i_ext, h0):
    """A lower bound (offset >= h0) of the first crossing after offset h0; INF if none can come.

    Cheap on purpose: at most a few bound evaluations. Intervals of growing length are
    skipped while the gap's upper bound on them is negative; the check scheduled at the
    returned offset continues from there (most checks go stale first, when the neuron
    receives its next input).
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


# _nrt=False: no reference counting of the array arguments. This is called once or
# twice per neuron and window, and numba's atomic incref/decref of its nine arrays
# took half of the microcircuit's run time (and contend between threads).
@njit(cache=True, _nrt=False)
def _fill_poisson(q0, q1, t1, ps_next, ps_k, ps_key, ps_mean, ps_stim, stim_w, stim_events,
                  pbuf_t, pbuf_w):
    """A neuron's next Poisson stimulus arrivals before t1, in time order (stimulus
    order at equal times), into pbuf (times, weights; up to its capacity). Returns how
    many. Each is delivered in this window, so it is counted here (stim_events).

    The draws of one stream do not depend on each other's results, so this tight loop
    overlaps their latency (the event loop would serialise it).
    """
    n = 0
    cap = pbuf_t.shape[0]
    if q1 == q0 + 1:
        tq = ps_next[q0]
        kq = ps_k[q0]
        key = ps_key[q0]
        mean = ps_mean[q0]
        w = stim_w[ps_stim[q0]]
        while tq < t1 and n < cap:
            pbuf_t[n] = tq
            pbuf_w[n] = w
            n += 1
            kq += 1
            tq += exp_draw(key, kq, mean)
        ps_next[q0] = tq
        ps_k[q0] = kq
        stim_events[ps_stim[q0]] += n
        return n
    while n < cap:
        qm = -1
        tm = t1
        for q in range(q0, q1):
            if ps_next[q] < tm:
                tm = ps_next[q]
                qm = q
        if qm < 0:
            break
        pbuf_t[n] = tm
        pbuf_w[n] = stim_w[ps_stim[qm]]
        stim_events[ps_stim[qm]] += 1
        n += 1
        ps_k[qm] += 1
        ps_next[qm] += exp_draw(ps_key[qm], ps_k[qm], ps_mean[qm])
    return n


@njit(cache=True)
def next_arrival(q0, q1, ps_next):
    """The earliest next arrival of streams q0 .. q1-1 (INF without streams)."""
    tp = INF
    for q in range(q0, q1):
        if ps_next[q] < tp:
            tp = ps_next[q]
    return tp


@njit(cache=True)
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


@njit(cache=True)
def sample_idle(t_end, i0, n, state, params, t_state, ref_end, i_stim,
                rec_col, rec_next, rec_var, data, t0, dt, k_lim, row0):
    """Samples before t_end of recorded neurons i0 .. i0+n-1 whose state is still at an
    earlier time t_state (no event since): free evolution of a copy from t_state, clamped
    until the end of refractoriness. No crossing can lie in between: the kernel scheduled a
    check at or before the first possible one, which would have touched the neuron."""
    for li in range(n):
        col = rec_col[li]
        if col < 0:
            continue
        k = rec_next[li]
        if k >= k_lim or t0 + k * dt >= t_end:
            continue
        i = i0 + li
        s = load(state[li])
        p = params[li]
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


@njit(cache=True)
def update_population(i0, n, t1, t_stop, state, params,
                      t_state, ref_end, i_stim, version, updates,
                      blk_ptr, blk_start, kb0, kb1, part, ev_ptr, ev_fill, ev,
                      ps_ptr, ps_stim, ps_next, ps_k, ps_key, ps_mean,
                      stim_w, stim_events, pbuf_t, pbuf_w,
                      spk_t, spk_id, n_spk, chk_t, chk_id, chk_ver, n_chk,
                      rec_col, rec_next, rec_var, rec_data, smp_t0, smp_dt, k_lim, row0):
    """Advance neurons i0 .. i0+n-1 (global ids) through the window ending at t1.

    state/params hold the population's records (local index i - i0); the other
    per-neuron arrays are global. The window's events come partitioned by block of
    neurons (``kernels.partition_window``: blocks kb0 .. kb1-1 are this population's,
    block kb covering neurons blk_start[kb] .. blk_start[kb+1]-1, its events
    part[blk_ptr[kb]:blk_ptr[kb+1]]); each block is sorted per neuron into the scratch
    ev (ev_ptr, ev_fill: block-local) just before its neurons are advanced. ps_* are the neurons' Poisson stimulus streams (ps_ptr), drawn in
    batches into the scratch pbuf. Emitted spikes and scheduled crossing checks are
    appended to growable buffers (one-element typed lists holding an array: the list
    itself is never reassigned, which keeps numba's reference counting out of the
    event loop). Returns the new fill counts (n_spk, n_chk).

    rec_*: state sampling (see ``record_samples``): rec_col[li] the neuron's column in
    rec_data (-1: not recorded; rec_col empty: nothing recorded), rec_next[li] its next
    sample index; samples k < k_lim are written to row k - row0.
    """
    recording = rec_col.shape[0] > 0
    for kb in range(kb0, kb1):
        a_blk = blk_ptr[kb]
        b_blk = blk_ptr[kb + 1]
        j0 = blk_start[kb]
        nj = blk_start[kb + 1] - j0
        if b_blk > a_blk:
            sort_block(part, a_blk, b_blk, j0, nj, ev_ptr, ev_fill, ev)
        for x in range(nj):
            i = j0 + x
            li = i - i0
            e = 0
            e_end = 0
            if b_blk > a_blk:
                e = ev_ptr[x]
                e_end = ev_ptr[x + 1]
            q0 = ps_ptr[i]
            q1 = ps_ptr[i + 1]
            if e == e_end and q0 == q1:
                continue  # nothing arrives: the neuron is not touched
            np_ = 0
            pp = 0
            if q1 > q0:
                np_ = _fill_poisson(q0, q1, t1, ps_next, ps_k, ps_key, ps_mean, ps_stim, stim_w,
                                        stim_events, pbuf_t, pbuf_w)
            st = state[li]
            s = load(st)
            p = params[li]
            t = t_state[i]
            tref = refractory_period(p)
            ver = version[i]
            rend = ref_end[i]
            istim = i_stim[i]
            n_upd = 0
            had_input = False
            touched = False
            col = rec_col[li] if recording else -1
            k_smp = rec_next[li] if col >= 0 else 0
            while True:
                # skip stale crossing checks (scheduled before an input) without touching the state
                while e < e_end and ev[e].kind == KIND_CHECK and (had_input or ev[e].w != ver):
                    e += 1
                if pp == np_ and q1 > q0:
                    np_ = _fill_poisson(q0, q1, t1, ps_next, ps_k, ps_key, ps_mean, ps_stim, stim_w,
                                        stim_events, pbuf_t, pbuf_w)
                    pp = 0
                tn = INF
                trusted = False
                if e < e_end:
                    tn = ev[e].t
                    # a valid check is the neuron's first event since it was scheduled, at a
                    # time before which no crossing can occur: evolve there without searching
                    trusted = ev[e].kind == KIND_CHECK
                if pp < np_ and pbuf_t[pp] < tn:
                    tn = pbuf_t[pp]
                    trusted = False
                if tn >= t1:
                    break
                touched = True
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
                    if not trusted and gap_bound(s, p, istim, 0.0, tn - t) >= 0.0:
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
                    n_spk = push_spike(spk_t, spk_id, n_spk, t, i)
                    s = spike_reset(s, p)
                    rend = t + tref
                t = tn
                # --- every input that arrives at tn, then one threshold test ---
                refractory = tn < rend
                got_input = False
                while e < e_end and ev[e].t == tn:
                    k = ev[e].kind
                    if k == KIND_SYN:
                        s = receive(s, p, ev[e].w, refractory)
                        got_input = True
                    elif k == KIND_CURRENT:
                        istim += ev[e].w
                        got_input = True
                    e += 1
                while True:
                    while pp < np_ and pbuf_t[pp] == tn:
                        s = receive(s, p, pbuf_w[pp], refractory)
                        got_input = True
                        pp += 1
                    if pp < np_ or q1 == q0:
                        break
                    # buffer exhausted exactly here: more arrivals at tn are possible
                    np_ = _fill_poisson(q0, q1, t1, ps_next, ps_k, ps_key, ps_mean, ps_stim, stim_w,
                                        stim_events, pbuf_t, pbuf_w)
                    pp = 0
                    if np_ == 0 or pbuf_t[0] != tn:
                        break
                if got_input:
                    had_input = True
                    n_upd += 1
                if not refractory and gap_now(s, p) >= 0.0:
                    n_spk = push_spike(spk_t, spk_id, n_spk, tn, i)
                    s = spike_reset(s, p)
                    rend = tn + tref
            if touched:
                # --- after the window's last event: crossings before t1, then a check for later ---
                # (a new version invalidates every check scheduled before)
                ver += 1
                # the next Poisson arrival (>= t1) touches the neuron anyway: no check is
                # needed for a crossing that cannot come before it
                tp = next_arrival(q0, q1, ps_next)
                while True:
                    if t < rend:
                        if rend < t1:
                            if col >= 0:
                                k_smp = record_samples(s, p, t, rend, True, istim, k_smp, k_lim, smp_t0,
                                                       smp_dt, row0, col, rec_var, rec_data)
                            s = evolve_refractory(s, p, rend - t)
                            t = rend
                            continue
                        if rend < tp and rend <= t_stop:
                            n_chk = push_check(chk_t, chk_id, chk_ver, n_chk, rend, i, ver)
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
                        n_spk = push_spike(spk_t, spk_id, n_spk, t, i)
                        s = spike_reset(s, p)
                        rend = t + tref
                        continue
                    lb = crossing_free_until(s, p, istim, max(h, 0.0))
                    if lb < INF and t + lb < tp and t + lb <= t_stop:
                        n_chk = push_check(chk_t, chk_id, chk_ver, n_chk, t + lb, i, ver)
                    break
            store(st, s)
            t_state[i] = t
            version[i] = ver
            ref_end[i] = rend
            i_stim[i] = istim
            updates[i] += n_upd
            if col >= 0:
                rec_next[li] = k_smp
    return n_spk, n_chk


@njit(cache=True, parallel=True)
def update_parallel(chunk_kb, i0, n, t1, t_stop, state, params,
                    t_state, ref_end, i_stim, version, updates,
                    blk_ptr, blk_start, part, ev_ptr2, ev_fill2, ev2,
                    ps_ptr, ps_stim, ps_next, ps_k, ps_key, ps_mean,
                    stim_w, stim_events2, pbuf_t2, pbuf_w2,
                    spk_t2, spk_id2, n_spk2, chk_t2, chk_id2, chk_ver2, n_chk2,
                    rec_col, rec_next, rec_var, rec_data, smp_t0, smp_dt, k_lim, row0):
    """``update_population`` on several threads: chunk c advances blocks
    chunk_kb[c] .. chunk_kb[c+1]-1 with its own scratch (ev2[c], pbuf_*2[c]), stimulus
    counters (stim_events2[c]) and growable spike and check buffers (spk_t2[c] etc.:
    typed lists of one-element typed lists), whose fill counts go to n_spk2[c] and
    n_chk2[c]. Neurons are independent within a window and every per-neuron array is
    written by its neuron only, so the result does not depend on the chunks: the
    caller concatenates the chunks' outputs in chunk (= neuron) order, which is the
    one-thread order."""
    for c_ in prange(chunk_kb.shape[0] - 1):
        c = np.int64(c_)   # prange's index is unsigned; typed lists want a signed one
        n_spk2[c], n_chk2[c] = update_population(
            i0, n, t1, t_stop, state, params, t_state, ref_end, i_stim, version, updates,
            blk_ptr, blk_start, chunk_kb[c], chunk_kb[c + 1], part, ev_ptr2[c], ev_fill2[c], ev2[c],
            ps_ptr, ps_stim, ps_next, ps_k, ps_key, ps_mean,
            stim_w, stim_events2[c], pbuf_t2[c], pbuf_w2[c],
            spk_t2[c], spk_id2[c], 0, chk_t2[c], chk_id2[c], chk_ver2[c], 0,
            rec_col, rec_next, rec_var, rec_data, smp_t0, smp_dt, k_lim, row0)
