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
input cost nothing until something can happen.
"""
import math

import numpy as np
from numba import njit

from eventsim.engine.kernels import push_check, push_spike
from eventsim.engine.rng import CPU as _RNG
from eventsim.models.neurons._lif_kernel import CPU as _M  # @model-import

evolve = _M.evolve
evolve_refractory = _M.evolve_refractory
receive = _M.receive
gap_now = _M.gap_now
gap = _M.gap
gap_bound = _M.gap_bound
spike_reset = _M.spike_reset
refractory_period = _M.refractory_period
exp_interval = _RNG.exp_interval

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
def first_crossing(st, p, i_ext, h):
    """First dt in (0, h] (h finite) at which gap(dt) >= 0, to within TOL; INF if none.

    An advancing front: from lo, the longest interval [lo, lo + s] whose upper bound
    of the gap is negative is skipped (s halved until the bound excludes it). The
    bound is valid on every interval, so no crossing can be skipped, however brief.
    """
    lo = 0.0
    step = h
    while lo < h:
        s = min(2.0 * step, h - lo)
        excluded = False
        while True:
            if gap_bound(st, p, i_ext, lo, lo + s) < 0.0:
                excluded = True
                break
            if s <= TOL:
                break
            s *= 0.5
        if not excluded and gap(st, p, i_ext, lo + s) >= 0.0:
            return lo + s
        lo += s
        step = s
    return INF


@njit(cache=True)
def crossing_free_until(st, p, i_ext, h0):
    """A lower bound (offset >= h0) of the first crossing after offset h0; INF if none can come.

    Cheap on purpose: at most a few bound evaluations. Intervals of growing length are
    skipped while the gap's upper bound on them is negative; the check scheduled at the
    returned offset continues from there (most checks go stale first, when the neuron
    receives its next input).
    """
    if gap_bound(st, p, i_ext, h0, INF) < 0.0:
        return INF
    lo = h0
    step = CHECK_STEP
    for _ in range(CHECK_EVALS):
        if gap_bound(st, p, i_ext, lo, lo + step) < 0.0:
            lo += step
            step *= 2.0
        else:
            step *= 0.25
    return lo


@njit(cache=True)
def update_population(i0, n, t1, t_stop, state, params,
                      t_state, ref_end, i_stim, version, updates,
                      ev_ptr, ev_t, ev_w, ev_kind,
                      ps_ptr, ps_stim, ps_next, ps_k, stim_rate, stim_w, stim_stream,
                      stim_events, seed,
                      spk_t, spk_id, n_spk, chk_t, chk_id, chk_ver, n_chk):
    """Advance neurons i0 .. i0+n-1 (global ids) through the window ending at t1.

    state/params hold the population's rows (local index i - i0); the other
    per-neuron arrays are global. Emitted spikes and scheduled crossing checks are
    appended to growable buffers (one-element typed lists holding an array: the
    list itself is never reassigned, which keeps numba's reference counting out
    of the event loop). Returns the new fill counts (n_spk, n_chk).
    """
    for li in range(n):
        i = i0 + li
        st = state[li]
        p = params[li]
        t = t_state[i]
        tref = refractory_period(p)
        e = ev_ptr[i]
        e_end = ev_ptr[i + 1]
        q0 = ps_ptr[i]
        q1 = ps_ptr[i + 1]
        touched = False
        while True:
            # skip stale crossing checks without touching the state
            while e < e_end and ev_kind[e] == KIND_CHECK and ev_w[e] != version[i]:
                e += 1
            tn = INF
            trusted = False
            if e < e_end:
                tn = ev_t[e]
                # a valid check is the neuron's first event since it was scheduled, at a
                # time before which no crossing can occur: evolve there without searching
                trusted = ev_kind[e] == KIND_CHECK
            for q in range(q0, q1):
                if ps_next[q] < tn:
                    tn = ps_next[q]
                    trusted = False
            if tn >= t1:
                break
            touched = True
            # --- free evolution from t to tn, with every threshold crossing on the way ---
            while t < tn:
                if t < ref_end[i]:
                    tr = min(ref_end[i], tn)
                    evolve_refractory(st, p, tr - t)
                    t = tr
                    continue
                # cheap exclusion first; the search only where a crossing is possible
                dt = INF
                if not trusted and gap_bound(st, p, i_stim[i], 0.0, tn - t) >= 0.0:
                    dt = first_crossing(st, p, i_stim[i], tn - t)
                if dt == INF:
                    evolve(st, p, tn - t, i_stim[i])
                    t = tn
                    break
                evolve(st, p, dt, i_stim[i])
                t = t + dt
                n_spk = push_spike(spk_t, spk_id, n_spk, t, i)
                spike_reset(st, p)
                ref_end[i] = t + tref
            t = tn
            # --- every input that arrives at tn, then one threshold test ---
            refractory = tn < ref_end[i]
            got_input = False
            while e < e_end and ev_t[e] == tn:
                k = ev_kind[e]
                if k == KIND_SYN:
                    receive(st, p, ev_w[e], refractory)
                    got_input = True
                elif k == KIND_CURRENT:
                    i_stim[i] += ev_w[e]
                    got_input = True
                e += 1
            for q in range(q0, q1):
                s = ps_stim[q]
                while ps_next[q] == tn:
                    receive(st, p, stim_w[s], refractory)
                    stim_events[s] += 1
                    got_input = True
                    ps_k[q] += 1
                    ps_next[q] += exp_interval(seed, stim_stream[s], i, ps_k[q], stim_rate[s])
            if got_input:
                version[i] += 1
                updates[i] += 1
            if not refractory and gap_now(st, p) >= 0.0:
                n_spk = push_spike(spk_t, spk_id, n_spk, tn, i)
                spike_reset(st, p)
                ref_end[i] = tn + tref
        if touched:
            # --- after the window's last event: crossings before t1, then a check for later ---
            version[i] += 1
            while True:
                if t < ref_end[i]:
                    if ref_end[i] < t1:
                        evolve_refractory(st, p, ref_end[i] - t)
                        t = ref_end[i]
                        continue
                    if ref_end[i] <= t_stop:
                        n_chk = push_check(chk_t, chk_id, chk_ver, n_chk, ref_end[i], i, version[i])
                    break
                h = t1 - t
                dt = INF
                if h > 0.0 and gap_bound(st, p, i_stim[i], 0.0, h) >= 0.0:
                    dt = first_crossing(st, p, i_stim[i], h)
                if dt < INF:
                    evolve(st, p, dt, i_stim[i])
                    t = t + dt
                    n_spk = push_spike(spk_t, spk_id, n_spk, t, i)
                    spike_reset(st, p)
                    ref_end[i] = t + tref
                    continue
                s = crossing_free_until(st, p, i_stim[i], max(h, 0.0))
                if s < INF and t + s <= t_stop:
                    n_chk = push_check(chk_t, chk_id, chk_ver, n_chk, t + s, i, version[i])
                break
        t_state[i] = t
    return n_spk, n_chk
