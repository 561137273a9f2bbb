"""The cpu target of the neuron loop: its output functions and the drivers that call it.

``emit_spike`` and ``schedule_check`` are the loop's output functions on the CPU
(see eventsim.engine.neuron_loop): they append to growable buffers (one-element typed
lists holding an array: the list itself is never reassigned, which keeps numba's
reference counting out of the event loop).

``update_blocks`` advances one population's blocks of neurons (block kb: neurons
blk_start[kb] .. blk_start[kb+1]-1, its events part[blk_ptr[kb]:blk_ptr[kb+1]], see
kernels.partition_window): each block's events are sorted per neuron into the scratch
ev_* just before its neurons are advanced, so that they are still in cache when read.
``update_parallel`` runs it for every shard (thread) at once; ``gather_advance`` runs
the previous window's fan-out and the partition (``shard_partition``), then every
population of one model (``shard_blocks``, with work stealing: a shard that is done
takes blocks of a slower one), in one launch of the shards; ``run_windows`` runs the
whole window loop for a batch of windows, this launch per window, with no Python in
between (eventsim.engine.cpu: ``CpuEngine.step_windows``).

``compiled(kernel_module)`` compiles the loop and the drivers for one neuron model.
"""
from __future__ import annotations

import math

import numpy as np
from numba import prange

from .dual import compile_functions
from .kernels import (PAD, borrowed, borrowed_item, consume_shards, count_spikes, exchange, fanout_segments, fanout_shard, fetch_add,
                      merge_checks, partition_shard, push_check, push_spike, room_needed, sort_block,
                      window_of, window_room)

# the loop's output functions (compiled inline into it)
FUNCTIONS = ("emit_spike", "schedule_check")
DRIVERS = ("update_blocks", "update_parallel", "shard_partition", "shard_blocks", "gather_advance",
           "run_windows")

advance = sample_idle = None   # bound to the model's compiled loop by ``compiled``


def emit_spike(spikes, n, t, i):
    return push_spike(spikes[0], spikes[1], n, t, i)


def schedule_check(checks, n, t, i, ver):
    return push_check(checks[0], checks[1], checks[2], n, t, i, ver)


def update_blocks(kb0, kb1, i0, t1, state, params, t_state, ref_end, i_stim, version, updates,
                  blk_ptr, blk_start, part, ev_ptr, ev_fill, ev_t, ev_w, ev_kind, ev_f,
                  ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events,
                  spk_t, spk_id, n_spk, chk_t, chk_id, chk_ver, n_chk,
                  rec_col, rec_next, rec_var, rec_data, smp_t0, smp_dt, k_lim, row0, segs):
    """Blocks kb0 .. kb1-1 of the population starting at global id i0 through the window
    ending at t1 (see the module docstring); returns the new fill counts (n_spk, n_chk).
    segs: the blocks' bucket of the window and its segments (kernels.sort_block; n_seg =
    segs[1] = 0: none, every arrival is in part)."""
    # the arrays as borrowed (kernels.borrowed): no atomic reference counting in the
    # per-block calls below (the caller holds them)
    state, params, t_state, ref_end, i_stim = (borrowed(state), borrowed(params), borrowed(t_state),
                                               borrowed(ref_end), borrowed(i_stim))
    version, updates, blk_ptr, blk_start, part = (borrowed(version), borrowed(updates), borrowed(blk_ptr),
                                                  borrowed(blk_start), borrowed(part))
    ev_ptr, ev_fill, ev_t, ev_w, ev_kind, ev_f = (borrowed(ev_ptr), borrowed(ev_fill), borrowed(ev_t),
                                                  borrowed(ev_w), borrowed(ev_kind), borrowed(ev_f))
    ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events = (
        borrowed(ps_ptr), borrowed(ps_next), borrowed(ps_k), borrowed(ps_key), borrowed(ps_mean), borrowed(ps_w),
        borrowed(ps_events))
    rec_col, rec_next, rec_var, rec_data = borrowed(rec_col), borrowed(rec_next), borrowed(rec_var), borrowed(rec_data)
    spikes = (spk_t, spk_id)
    checks = (chk_t, chk_id, chk_ver)
    pois = (t1, ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events)
    for kb in range(kb0, kb1):
        j0 = blk_start[kb]
        j1 = blk_start[kb + 1]
        sort_block(part, blk_ptr[kb], blk_ptr[kb + 1], kb, j0, j1 - j0, segs, pois, ev_ptr, ev_fill, ev_t, ev_w,
                   ev_kind)
        n_spk, n_chk = advance(j0, j1, j0, i0, t1, state, params, t_state, ref_end, i_stim, version, updates,
                               ev_ptr, ev_t, ev_w, ev_kind, ev_f,
                               ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events,
                               spikes, n_spk, checks, n_chk,
                               rec_col, rec_next, rec_var, rec_data, smp_t0, smp_dt, k_lim, row0)
    return n_spk, n_chk


def update_parallel(chunk_kb, i0, t1, state, params, t_state, ref_end, i_stim, version, updates,
                    blk_ptr2, blk_start, part2, ev_ptr2, ev_fill2, ev_t2, ev_w2, ev_kind2, ev_f2,
                    ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events,
                    spk_t2, spk_id2, n_spk2, chk_t2, chk_id2, chk_ver2, n_chk2,
                    rec_col, rec_next, rec_var, rec_data, smp_t0, smp_dt, k_lim, row0, segs):
    """``update_blocks`` for every shard at once: shard s advances its blocks of this
    population, chunk_kb[s] .. chunk_kb[s+1]-1, with its own events (part2[s],
    blk_ptr2[s]), scratch (row s of the other *2 arrays), and growable spike and check
    buffers (spk_t2[s] etc.: typed lists of one-element typed lists), appending after
    n_spk2[s] / n_chk2[s] and leaving the new counts there. Neurons are independent
    within a window and every per-neuron (and per-stream) array is written by its
    neuron only, so the result does not depend on the shards."""
    for s_ in prange(chunk_kb.shape[0] - 1):
        s = np.int64(s_)   # prange's index is unsigned; typed lists want a signed one
        n_spk2[s], n_chk2[s] = update_blocks(
            chunk_kb[s], chunk_kb[s + 1], i0, t1, state, params, t_state, ref_end, i_stim, version, updates,
            blk_ptr2[s], blk_start, part2[s], ev_ptr2[s], ev_fill2[s], ev_t2[s], ev_w2[s], ev_kind2[s], ev_f2[s],
            ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events,
            spk_t2[s], spk_id2[s], n_spk2[s], chk_t2[s], chk_id2[s], chk_ver2[s], n_chk2[s],
            rec_col, rec_next, rec_var, rec_data, smp_t0, smp_dt, k_lim, row0, segs)


def shard_partition(s, t1, b, buckets, b_count, fan_t, fan_id, n_fan, run_ptr2, run_a, run_b, target, weight,
                    delay_index, delay_table, delay_values, use_table, W, B,
                    cur_t, cur_id, cur_di, cur_pos, cur_end, blk_of, blk_shard, n_blk, version,
                    blk_ptr2, part2, chk_t2, chk_id2, chk_ver2, n_chk2, taken, seg):
    """Shard s's first part of ``gather_advance``: its fan-out of the previous window's
    spikes, then its partition of this window's events (n_chk2[s]: its checks kept);
    then taken[s * PAD + 1] counts 1: its blocks may be taken (``shard_blocks``).
    seg = (D, blk_syn, my_kb2, n_my, raw_n, n_seg, seg_a, seg_b, lz_t, lz_src, lz_n, lz_a, lz_b,
    target, weight, row_w, blk_cnt): with blk_syn not empty (one delay D), the fan-out
    files the arrivals by block (kernels.fanout_segments) and the partition takes the
    bucket's plain records only; else the fan-out counts its records per block and bucket
    (blk_cnt), and the partition takes those counts where they cover the bucket."""
    D, blk_syn, my_kb2, n_my, raw_n, n_seg, seg_a, seg_b, lz_t, lz_src, lz_n, lz_a, lz_b, _tg, _wt, _rw, blk_cnt = seg
    segmented = blk_syn.shape[0] > 0
    if n_fan > 0:
        if segmented:
            fanout_segments(fan_t, fan_id, n_fan, D, W, B, blk_syn, my_kb2[s], n_my[s], target, weight, buckets[s],
                            b_count[s], raw_n[s], n_seg[s], seg_a[s], seg_b[s], lz_t[s], lz_src[s], lz_n[s], lz_a[s],
                            lz_b[s])
        else:
            fanout_shard(fan_t, fan_id, n_fan, run_ptr2[s], run_a, run_b, target, weight, delay_index, delay_table,
                         delay_values, use_table, W, B, buckets[s], b_count[s], blk_of, blk_cnt[s])
    nb = raw_n[s, b] if segmented else b_count[s, b]
    n_chk2[s] = partition_shard(s, t1, buckets[s, b], nb, chk_t2[s][0], chk_id2[s][0], chk_ver2[s][0],
                                n_chk2[s], version, cur_t, cur_id, cur_di, cur_pos, cur_end, blk_of, blk_shard,
                                n_blk, blk_ptr2[s], part2[s], blk_cnt[s, b])[0]
    fetch_add(taken, s * PAD + 1, 1)   # done: other shards may take its blocks (shard_blocks)


def shard_blocks(s, t1, group_i0, states, params, t_state, ref_end, i_stim, version, updates,
                 blk_ptr2, blk_start, part2, ev_ptr2, ev_fill2, ev_t2, ev_w2, ev_kind2, ev_f2,
                 ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events,
                 spk_t2, spk_id2, n_spk2, chk_t2, chk_id2, chk_ver2, n_chk2,
                 rec_cols, rec_nexts, rec_vars, rec_datas, smp_t0, smp_dt, k_lim, row0,
                 work_g2, work_kb2, n_work, taken, f_t2, f_id2, f_ver2, n_f2, b, buckets, seg):
    """Shard s's second part of ``gather_advance``: blocks of neurons through the window,
    its own first, then those the other shards have not taken yet (work stealing).

    Shard o's blocks are work_g2[o, j], work_kb2[o, j] (population, block), j < n_work[o];
    whoever advances some takes them by counting taken[o * PAD] up (``kernels.fetch_add``;
    a share of those left, as OpenMP's guided schedule), so each block is advanced once, by
    one shard, whichever: a block's result depends on its own events and neurons only.
    Shard s runs right after its own partition, in the same launch; it takes blocks of
    shard o only once o's partition is done (taken[o * PAD + 1] counted up by
    ``shard_partition``), and else leaves them to o: it never waits, so shards run one
    after the other (the serial twin) give the same result as shards at once.
    Shard s's spikes go to its buffer (the exchange orders them), the crossing checks of
    its own neurons to its list, those of other shards' neurons to f_*2[s]
    (``kernels.merge_checks`` files them after the launch). A shard slowed down (by the
    host, or by a window with more work in its neurons) no longer holds up the other,
    which takes over its remaining blocks. Run one shard after the other (the serial
    twin), the first advances every block.
    """
    n_spk = n_spk2[s]
    n_chk = n_chk2[s]
    n_f = n_f2[s]
    S = n_work.shape[0]
    (_D, blk_syn, _my_kb2, _n_my, _raw_n, n_seg, seg_a, seg_b, lz_t, lz_src, _lz_n, lz_a, lz_b, target, weight,
     row_w, _cnt) = seg
    # what update_blocks gets, taken once and borrowed (kernels.borrowed, borrowed_item):
    # each call would otherwise count every array, and every row taken of one, up at its
    # entry and down at its exit, atomic adds on counts that both shards share
    spk_t, spk_id = spk_t2[s], spk_id2[s]
    chk_t, chk_id, chk_ver = chk_t2[s], chk_id2[s], chk_ver2[s]
    f_t, f_id, f_ver = f_t2[s], f_id2[s], f_ver2[s]
    t_state, ref_end, i_stim, version, updates = (borrowed(t_state), borrowed(ref_end), borrowed(i_stim),
                                                  borrowed(version), borrowed(updates))
    ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events = (
        borrowed(ps_ptr), borrowed(ps_next), borrowed(ps_k), borrowed(ps_key), borrowed(ps_mean), borrowed(ps_w),
        borrowed(ps_events))
    blk_start, blk_ptr2, part2 = borrowed(blk_start), borrowed(blk_ptr2), borrowed(part2)
    ev_ptr, ev_fill, ev_t = borrowed(ev_ptr2)[s], borrowed(ev_fill2)[s], borrowed(ev_t2)[s]
    ev_w, ev_kind, ev_f = borrowed(ev_w2)[s], borrowed(ev_kind2)[s], borrowed(ev_f2)[s]
    buckets, seg_a, seg_b, lz_t, lz_src, lz_a, lz_b = (borrowed(buckets), borrowed(seg_a), borrowed(seg_b),
                                                       borrowed(lz_t), borrowed(lz_src), borrowed(lz_a), borrowed(lz_b))
    blk_syn, target, weight, row_w = borrowed(blk_syn), borrowed(target), borrowed(weight), borrowed(row_w)
    for k in range(S):
        o = (s + k) % S
        if k > 0 and fetch_add(taken, o * PAD + 1, 0) == 0:
            continue   # shard o is still partitioning: its blocks are its own
        n = n_work[o]
        while True:
            # guided: a share of what is left (all of it with one shard), at least one
            # block; consecutive blocks of a population in one call (a call per block cost
            # CUBA 15 % on one thread: 32 calls of 70 arguments per 0.1 ms window)
            left = n - fetch_add(taken, o * PAD, 0)
            c = left if S == 1 else max(1, left // (2 * S))
            j = fetch_add(taken, o * PAD, c)
            if j >= n:
                break
            end = min(j + c, n)
            while j < end:
                g = work_g2[o, j]
                kb0 = work_kb2[o, j]
                j1 = j + 1
                while j1 < end and work_g2[o, j1] == g and work_kb2[o, j1] == kb0 + (j1 - j):
                    j1 += 1
                kb1 = kb0 + (j1 - j)
                j = j1
                # checks of the shard's own neurons to its list, of others' to f_*2[s]
                if o == s:
                    c_t, c_id, c_ver, n_c = chk_t, chk_id, chk_ver, n_chk
                else:
                    c_t, c_id, c_ver, n_c = f_t, f_id, f_ver, n_f
                n_spk, n_c = update_blocks(
                    kb0, kb1, group_i0[g], t1, borrowed_item(states, g), borrowed_item(params, g), t_state, ref_end,
                    i_stim, version, updates, blk_ptr2[o], blk_start, part2[o], ev_ptr, ev_fill, ev_t, ev_w, ev_kind,
                    ev_f, ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events, spk_t, spk_id, n_spk,
                    c_t, c_id, c_ver, n_c,
                    borrowed_item(rec_cols, g), borrowed_item(rec_nexts, g), borrowed_item(rec_vars, g),
                    borrowed_item(rec_datas, g), smp_t0[g], smp_dt[g], k_lim[g], row0[g],
                    (buckets[o, b], n_seg[o, b], seg_a[o, b], seg_b[o, b], lz_t[o, b], lz_src[o, b], lz_a[o, b],
                     lz_b[o, b], blk_syn, target, weight, row_w))
                if o == s:
                    n_chk = n_c
                else:
                    n_f = n_c
    n_spk2[s] = n_spk
    n_chk2[s] = n_chk
    n_f2[s] = n_f


def gather_advance(n_shards, part_args, block_args, seg):
    """Step 5 of the previous window, then steps 1 and 2 of this one, for several
    populations of one model (same record layouts), in one launch of n_shards shards.
    Shard s runs ``shard_partition(s, *part_args, seg)``: it fans the previous window's n_fan
    spikes (fan_t, fan_id) out into its own buckets (kernels.fanout_shard with its view of
    the synapse table, run_ptr2[s]; first, since an arrival one minimum delay later lands
    in this window's bucket) and partitions its events of the window
    (kernels.partition_shard: bucket b, its checks, the current steps cur_pos .. cur_end-1).
    Then ``shard_blocks(s, *block_args, seg)``: the blocks of every population (first id
    group_i0[g], records states[g] and params[g], state probe rec_*[g]: typed lists), its
    own first, then, by work stealing, those of shards still busy whose partition is done.
    One launch per window instead of one per step and population: a shard's share
    balanced over all populations together, its events still in cache, and no barrier
    between partition and blocks (a shard slow to partition has its blocks taken over
    instead: at the microcircuit's scale 0.25 on 2 threads, 10 % less time than with a
    launch for each). The caller makes
    the scratch ev_*2[s] as long as part2[s], zeroes the work counters before, and files
    the stolen blocks' checks after (``kernels.merge_checks``)."""
    # (seg, a tuple of arrays, goes separately: a launch's gufunc takes no tuple of arrays
    # nested in another)
    for s_ in prange(n_shards):
        s = np.int64(s_)   # (prange's index is unsigned; typed lists want a signed one)
        shard_partition(s, *part_args, seg)
        shard_blocks(s, *block_args, seg)


# run_windows' reasons to stop (the first: its windows are done)
DONE, GROW_PART, GROW_BUCKETS = 0, 1, 2


def run_windows(t, until, stop_every, max_windows, fan_t, fan_id, fan_room, cap, outdeg2, rank, src_t, src_id,
                spike_count, out_t, out_id,
                buckets, b_count, run_ptr2, run_a, run_b, target, weight, delay_index, delay_table, delay_values,
                use_table, W, B, cur_t, cur_id, cur_di, cur_pos, blk_of, blk_shard, n_blk, group_i0,
                states, params, t_state, ref_end, i_stim, version, updates,
                blk_ptr2, blk_start, part2, ev_ptr2, ev_fill2, ev_t2, ev_w2, ev_kind2, ev_f2,
                ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events,
                spk_t2, spk_id2, n_spk2, chk_t2, chk_id2, chk_ver2, n_chk2,
                rec_cols, rec_nexts, rec_vars, rec_datas, smp_t0, smp_dt, k_lim, row0,
                work_g2, work_kb2, n_work, taken, f_t2, f_id2, f_ver2, n_f2, seg):
    """The window loop's steps (eventsim.engine.window_loop) for up to max_windows windows
    from t, in compiled code: no Python between windows (at scale 0.25 of the
    microcircuit, its 40-60 us per window were 5-9 % of a window on two threads). For one
    process without spike or Poisson sources, plasticity or state probes (the cpu
    engine's ``step_windows`` says when); everything else is the per-window path's,
    kernel for kernel, so the spikes are the same.

    Per window: the launch of ``shard_partition`` and ``shard_blocks`` on every shard
    (the previous window's fan-out, this window's partition, then its blocks advanced,
    with work stealing: see ``gather_advance``), the stolen blocks' checks filed with
    their shards, the exchange, the bucket consumed,
    the spikes counted, appended to out_t/out_id (growable buffers) and kept for the
    next launch's fan-out. Stops after the window ending at ``until``, after the first
    window whose end t has floor(t / every) > last for a row (every, last) of
    ``stop_every`` (the caller's commit and checkpoint times), after max_windows windows,
    or before a window that needs more room than part2 or the scratch has (GROW_PART) or
    after one whose spikes need more than ``cap`` records in a bucket (GROW_BUCKETS):
    the caller makes the room and calls again.

    Returns (reason, windows run, t, cur_pos, spikes appended, the pending fan-out
    (fan_t, fan_id) and the room it needs, the start of the last window with spikes
    (-inf: none))."""
    n_out = 0
    reason = DONE
    t_spiking = -np.inf
    windows = 0
    while t < until and windows < max_windows:
        k = window_of(t, W)
        t_end = (k + 1) * W
        t1 = min(t_end, until)
        b = k % B
        n_fan = fan_id.shape[0]
        c_end, need = window_room(t1, b, b_count, n_chk2, cur_t, cur_pos, fan_room if n_fan > 0 else -1)
        if need > part2.shape[1] or part2.shape[1] > ev_t2.shape[1]:
            reason = GROW_PART
            break
        for s in range(n_spk2.shape[0]):
            n_spk2[s] = 0
        for j in range(taken.shape[0]):   # (a plain loop: numba makes taken[:] = 0 a parallel launch)
            taken[j] = 0
        for s_ in prange(n_work.shape[0]):
            sh = np.int64(s_)
            shard_partition(sh, t1, b, buckets, b_count, fan_t, fan_id, n_fan, run_ptr2, run_a, run_b,
                            target, weight, delay_index, delay_table, delay_values, use_table, W, B, cur_t, cur_id,
                            cur_di, cur_pos, c_end, blk_of, blk_shard, n_blk, version, blk_ptr2, part2, chk_t2,
                            chk_id2, chk_ver2, n_chk2, taken, seg)
            shard_blocks(sh, t1, group_i0, states, params, t_state, ref_end, i_stim, version, updates,
                         blk_ptr2, blk_start, part2, ev_ptr2, ev_fill2, ev_t2, ev_w2, ev_kind2, ev_f2, ps_ptr, ps_next, ps_k,
                         ps_key, ps_mean, ps_w, ps_events, spk_t2, spk_id2, n_spk2, chk_t2, chk_id2, chk_ver2, n_chk2,
                         rec_cols, rec_nexts, rec_vars, rec_datas, smp_t0, smp_dt, k_lim, row0, work_g2, work_kb2,
                         n_work, taken, f_t2, f_id2, f_ver2, n_f2, b, buckets, seg)
        merge_checks(f_t2, f_id2, f_ver2, n_f2, chk_t2, chk_id2, chk_ver2, n_chk2, blk_of, blk_shard)
        fan_t = np.empty(0)
        fan_id = np.empty(0, dtype=np.int64)
        cur_pos = c_end
        st, si = exchange(spk_t2, spk_id2, n_spk2, src_t, src_id, 0, rank)
        consume_shards(b, t1 < t_end, t1, buckets, b_count, seg)
        windows += 1
        t0 = t
        t = t1
        if st.shape[0] > 0:
            count_spikes(spike_count, si)
            for j in range(st.shape[0]):
                n_out = push_spike(out_t, out_id, n_out, st[j], si[j])
            t_spiking = t0
            room, total = room_needed(outdeg2, si, b_count)
            if total > 0:
                fan_t, fan_id, fan_room = st, si, room
            if room > cap:
                reason = GROW_BUCKETS
                break
        stop = False
        for r in range(stop_every.shape[0]):
            if math.floor(t / stop_every[r, 0]) > stop_every[r, 1]:
                stop = True
        if stop:
            break
    return reason, windows, t, cur_pos, n_out, fan_t, fan_id, fan_room, t_spiking


_compiled: dict = {}


def compiled(kernel_module: str):
    """The cpu loop of a neuron model with its drivers: a namespace with ``advance``,
    ``sample_idle``, ``update_blocks``, ``update_parallel``, ``shard_partition``,
    ``shard_blocks``, ``gather_advance``, ``run_windows`` (each parallel one also as ``*_serial``) and
    ``model``."""
    if kernel_module in _compiled:
        return _compiled[kernel_module]
    import sys
    from .neuron_loop import compile_loop
    loop = compile_loop(kernel_module, "cpu", sys.modules[__name__])
    ns = dict(globals())
    ns["advance"] = loop.advance
    ns["sample_idle"] = loop.sample_idle
    ns["__name__"] = f"{__name__}.{kernel_module.rsplit('.', 1)[-1]}"
    drivers = compile_functions(ns, DRIVERS, "cpu", parallel=("update_parallel", "gather_advance", "run_windows"),
                                tag=loop.tag)
    out = type(loop)(**vars(loop), **vars(drivers))
    _compiled[kernel_module] = out
    return out
