"""Model-independent numba kernels of the window loop's steps, on the cpu.

What is here, by step (eventsim.engine.window_loop): growable buffers (buffer,
shard_buffers, push_spike, push_check, refill); gather (window_of, window_room,
partition_shard(s), sort_block with draw_window and merge_window, sort_by_time; choose:
a select without a branch); exchange (exchange: the window's spikes
in the documented order); consume (consume_shards);
deliver (shard_runs: each shard's view of the synapse table; fanout_shard(s); with one
delay, fanout_segments and its table block_synapses);
sources (emit_spike_sources, emit_poisson_sources, first_draws); counters
(count_spikes, count_emitted, count_pending). Every kernel works on plain arrays; the cpu engine
(eventsim.engine.cpu) allocates them and calls the kernels, the ``*_shards`` ones for
every shard at once (``*_shards_serial``: the same source compiled for one thread).
The per-neuron loop is not here: it is eventsim.engine.neuron_loop, per model.

Queue layout: per shard, a ring of B buckets, bucket k % B holding the synaptic
arrivals at the shard's neurons of window k = [k W, (k + 1) W), W = the network's
minimum delay. The buckets are rows of one 3-D array (shard, bucket, record) of
ARRIVAL records (time, weight, target), each with a fill count. With one delay
(fanout_segments), a bucket's first raw_n records are plain, the rest segments grouped
by block; per target neuron the order is the same. A spike segment holds no records,
only room for them: its spikes, whose synapses the blocks read from the synapse table
(sort_block), until something reads the bucket's records (write_spike_segments).

Deterministic order (the documented tie-break): a neuron's events in a window are
applied in order of time, and at equal times in queue order: by emission window,
then spike time, then the source's population rank (integrating populations, then
spike_source, then poisson_source populations; neurons by id: window_loop.spike_rank),
then synapse index (the order in which fan-out appends them, whatever the shards; the
per-neuron sort is stable). Current steps and crossing checks follow the synaptic
arrivals of the same instant. Inputs at the same instant are all applied before the
one threshold test, so the order only fixes the floating-point summation order.
"""
import math

import numpy as np
from numba import njit, prange, types
from llvmlite import ir
from numba.core import cgutils
from numba.extending import intrinsic
from numba.typed import List

from .dual import serial_twin

KIND_SYN = 0
KIND_CURRENT = 1
KIND_CHECK = 2

# queue records: one per synaptic arrival (24 bytes, one store per arrival)
ARRIVAL_DTYPE = np.dtype([("t", "f8"), ("w", "f8"), ("tgt", "i4"), ("pad", "i4")], align=True)
# a window's events partitioned by block of target neurons (partition_window)
PART_DTYPE = np.dtype([("t", "f8"), ("w", "f8"), ("tgt", "i4"), ("kind", "i4")], align=True)
# the update kernel's state-sampling arguments when a population records nothing
# (rec_col, rec_next, rec_var, rec_data, t0, dt, k_lim, row0; see eventsim.output.report)
NO_SAMPLES = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 0)),
              0.0, 1.0, 0, 0)


@njit(cache=True)
def _grown(a, n):
    """A copy of a[:n] in an array twice as long."""
    b = np.empty(2 * n + 64, dtype=a.dtype)
    # (a loop, not a slice assignment: that compiles numba's shape-mismatch message
    # formatting too, seconds of cold compile per caller)
    for k in range(n):
        b[k] = a[k]
    return b


# Typed lists are made and read here, in compiled (cached) code, never from Python:
# numba compiles its typed-list methods for each element type in every process that
# builds or indexes a typed list from Python (48 compilations, about 1 s and 20-30 MB
# per process, every MPI rank included); made here they come from the disk cache.

@njit(cache=True)
def buffer(a):
    """A growable buffer holding ``a``: a one-element typed list (the kernels replace
    the array when it is full; the list itself is never reassigned)."""
    out = List()
    out.append(a)
    return out


@njit(cache=True)
def shard_buffers(a, n):
    """n growable buffers (one per shard) in a typed list, each holding a copy of a."""
    out = List()
    for _ in range(n):
        out.append(buffer(a.copy()))
    return out


@njit(cache=True)
def list_of(arrays):
    """A typed list of the arrays of a (homogeneous) tuple."""
    out = List()
    for a in arrays:
        out.append(a)
    return out


@njit(cache=True)
def contents(buf):
    """The array a growable buffer holds (read from Python)."""
    return buf[0]


@njit(cache=True)
def shard_contents(bufs, s):
    """The array shard s's growable buffer holds (read from Python)."""
    return bufs[s][0]


@njit(cache=True)
def refill(buf, a, size):
    """A growable buffer made to hold ``a`` at its start, ``size`` elements long (at
    least len(a)): its content restored from a checkpoint."""
    new = np.zeros(max(size, a.shape[0]), dtype=buf[0].dtype)
    for k in range(a.shape[0]):   # (a loop: see _grown)
        new[k] = a[k]
    buf[0] = new


@njit(cache=True)
def copy_fills(old, new, b_count):
    """The records of every bucket, old[s, b, :b_count[s, b]], into new (the buckets grown:
    larger rows). Only what is filled: the rows' rest is never read, and copying whole
    rows of structured records through numpy (its per-field strided transfer, and the
    new rows' pages touched) held up the window loop for a third of a second at full
    scale, all threads waiting."""
    for s in range(old.shape[0]):
        for b in range(old.shape[1]):
            n = min(b_count[s, b], old.shape[2])
            for j in range(n):
                new[s, b, j] = old[s, b, j]


@njit(cache=True)
def refill_shard(bufs, s, a, size):
    """``refill`` of shard s's growable buffer."""
    refill(bufs[s], a, size)


@intrinsic
def fetch_add(typingctx, arr, i, v):
    """Atomically arr[i] += v (a 1-d int64 array); returns the value before (sequentially
    consistent: what a thread wrote before its fetch_add is seen by a thread whose
    fetch_add comes after). The work stealing of the shards' blocks counts with it."""
    sig = types.int64(arr, i, v)

    def codegen(context, builder, signature, args):
        a, idx, val = args
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, a)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [idx])
        return builder.atomic_rmw("add", ptr, val, "seq_cst")
    return sig, codegen


@intrinsic
def borrowed(typingctx, arr):
    """``arr`` without its reference count: the same array (data, shape, strides), with no
    meminfo, as numba's carray makes; the caller keeps ``arr`` alive while the result is
    used. Passed on to functions called per block, its reference counting costs a test
    of a null pointer instead of an atomic add: with several threads, every call's
    atomics on the same arrays' counts contended for one cache line."""
    sig = arr(arr)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
        ary.parent = cgutils.get_null_value(ary.parent.type)
        return ary._getvalue()
    return sig, codegen


@intrinsic
def borrowed_item(typingctx, lst, i):
    """lst[i] of a typed list of arrays, borrowed (as ``borrowed`` makes it), read in place:
    no bounds check (0 <= i < len(lst), the caller's promise) and no reference count.
    numba's own lst[i] is a call that counts the item up and its caller counts it down:
    two atomic adds per item taken, on counts that every thread taking it shares."""
    if not (isinstance(lst, types.ListType) and isinstance(lst.item_type, types.Array)):
        return None
    if not isinstance(i, types.Integer):
        return None
    from numba.typed.listobject import _container_get_data
    aryty = lst.item_type
    sig = aryty(lst, i)

    def codegen(context, builder, signature, args):
        lp = _container_get_data(context, builder, signature.args[0], args[0])
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(cgutils.voidptr_t, [cgutils.voidptr_t]),
                                            "numba_list_base_ptr")
        base = builder.bitcast(builder.call(fn, [lp]), context.get_data_type(aryty).as_pointer())
        ptr = cgutils.gep(builder, base, args[1])
        item = context.data_model_manager[aryty].load_from_data_pointer(builder, ptr)
        ary = context.make_array(aryty)(context, builder, item)
        ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
        ary.parent = cgutils.get_null_value(ary.parent.type)
        return ary._getvalue()
    return sig, codegen


def _prefetch_codegen(context, builder, signature, args):
    """LLVM's prefetch of the element of args[0] at the indices args[1:] (read, keep in
    every cache level, data): the code of ``prefetch`` and ``prefetch1``."""
    aryty = signature.args[0]
    ary = context.make_array(aryty)(context, builder, args[0])
    # (as i8*: one declaration of llvm.prefetch serves arrays of every element type in a module)
    ptr = builder.bitcast(cgutils.get_item_pointer(context, builder, aryty, ary, list(args[1:])),
                          ir.IntType(8).as_pointer())
    i32 = ir.IntType(32)
    fn = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32]), "llvm.prefetch.p0")
    builder.call(fn, [ptr, i32(0), i32(3), i32(1)])
    return context.get_dummy_value()


@intrinsic
def prefetch(typingctx, arr, i, j):
    """A hint that arr[i, j] (a 2-d array) will be read soon: its cache line is fetched
    without waiting for it (LLVM's prefetch: no fault, whatever the index)."""
    return types.void(arr, i, j), _prefetch_codegen


@intrinsic
def prefetch1(typingctx, arr, i):
    """``prefetch`` of arr[i] (a 1-d array)."""
    return types.void(arr, i), _prefetch_codegen


@intrinsic
def choose(typingctx, c, a, b):
    """a if c else b (c a boolean; a and b of one type), without a branch: LLVM's
    select, marked unpredictable, so that the code generator keeps it a conditional
    move instead of the branch it prefers inside loops (a branch on a coin toss is
    mispredicted half the time)."""
    if a != b:
        return None
    sig = a(c, a, b)

    def codegen(context, builder, signature, args):
        cond, x, y = args
        cond = builder.icmp_unsigned("!=", cond, ir.Constant(cond.type, 0))
        sel = builder.select(cond, x, y)
        sel.set_metadata("unpredictable", builder.module.add_metadata([]))
        return sel
    return sig, codegen


# shards' work counters (cpu_kernels.shard_blocks) sit this many int64 apart (128 bytes:
# one per cache-line pair, so that two shards' counters never share a line)
PAD = 16


@njit(cache=True)
def push_spike(buf_t, buf_id, n, t, i):
    """Append (t, i) to growable buffers (one-element typed lists of arrays); returns n + 1."""
    if n == borrowed_item(buf_t, 0).shape[0]:
        buf_t[0] = _grown(buf_t[0], n)
        buf_id[0] = _grown(buf_id[0], n)
    # (the arrays read in place: numba's buf_t[0] counts them up and down, a call each)
    borrowed_item(buf_t, 0)[n] = t
    borrowed_item(buf_id, 0)[n] = i
    return n + 1


@njit(cache=True)
def push_check(buf_t, buf_id, buf_ver, n, t, i, ver):
    """Append a crossing check (t, neuron i, version ver); returns n + 1."""
    if n == borrowed_item(buf_t, 0).shape[0]:
        buf_t[0] = _grown(buf_t[0], n)
        buf_id[0] = _grown(buf_id[0], n)
        buf_ver[0] = _grown(buf_ver[0], n)
    borrowed_item(buf_t, 0)[n] = t
    borrowed_item(buf_id, 0)[n] = i
    borrowed_item(buf_ver, 0)[n] = ver
    return n + 1


@njit(cache=True, inline="always")
def _window_near(k, t, W):
    """The window index k' with k' W <= t < (k' + 1) W (products in float64), from a guess k
    one off at most: what decides a window is these products, not the guess."""
    while k * W > t:
        k -= 1
    while (k + 1) * W <= t:
        k += 1
    return k


@njit(cache=True)
def window_of_scaled(t, W, inv_w):
    """``window_of(t, W)`` given inv_w = 1 / W: the same k from a product instead of a
    division (its guess, floor(t inv_w), may be one off; ``_window_near`` decides)."""
    return _window_near(int(math.floor(t * inv_w)), t, W)


@njit(cache=True)
def window_of(t, W):
    """Index k of the window [k W, (k + 1) W) that contains t (boundaries are k * W in float64)."""
    return _window_near(int(math.floor(t / W)), t, W)


def _synapse_delay(s, delay_index, delay_table, delay_values, use_table):
    """Synapse s's delay (ms): from the table of distinct delays, or stored per synapse
    (plain: compiled for the device by eventsim.engine.cuda_kernels too)."""
    if use_table:
        return delay_table[delay_index[s]]
    return delay_values[s]


synapse_delay = njit(cache=True, inline="always")(_synapse_delay)


@njit(cache=True)
def partition_shard(s, t1, bucket, nb, far_t, far_id, far_ver, n_far, version,
                    cur_t, cur_id, cur_di, cur_pos, cur_end, blk_of, blk_shard, n_blk, blk_ptr, part, cnt_row):
    """Shard s's events of the window ending at t1, partitioned by block of target
    neurons (stable).

    Inputs: the shard's bucket of the window (first nb ARRIVAL records: arrivals at its
    own neurons), its pending crossing checks (those with t < t1 are taken, stale ones
    dropped, the rest compacted), and the current steps cur_pos .. cur_end-1 of the
    window (those at its own blocks, blk_shard[kb] == s, are taken). blk_of[i] is neuron
    i's block. Output: part[blk_ptr[k]:blk_ptr[k + 1]] are block k's events (PART
    records: arrivals in queue order, then checks, then current steps; empty for blocks
    of other shards), each block then sorted per neuron by ``sort_block`` just before
    its neurons are advanced, so that the sorted events are still in cache when they
    are read (a single counting sort over every neuron scatters into as many places as
    there are neurons, and the update then reads them back from memory).
    Returns (new n_far, the largest block's event count); part must hold
    nb + n_far + (cur_end - cur_pos) records.

    cnt_row: the fan-out's counts of the bucket's records per block (cnt_row[k + 1]:
    block k's; ``fanout_shard``), taken instead of counting where they add up to nb;
    zeroed here in any case. They count only records that ``fanout_shard`` filed, and
    every way records leave a bucket zeroes them first (this partition before
    ``consume_shards``; ``CpuEngine.reset_state`` and a restore zero the table), so they
    add up to nb exactly when every record of the bucket was counted: a bucket with
    records filed otherwise (a restore, STDP's fan-out, spike segments written out,
    records kept past a cut) is counted here.
    """
    counts = np.zeros(n_blk + 1, dtype=np.int64)
    # (per record, without a branch: the plain records are those of nets with many
    # delays (one delay: fanout_segments files them by block), where a bucket holds a
    # spike's few synapses of that window, scattered over blocks. Counting and writing
    # run by run, a test per record whether the block changed, mispredicted: the
    # microcircuit on one thread 3.5 % slower. Indices unsigned: no test for a negative
    # one)
    one = np.uint64(1)
    # the bucket's records counted per block by the fan-out as it filed them
    # (``fanout_shard``), where that count holds for the whole bucket: no pass over a
    # bucket that comes from memory (at full scale the counting pass was two thirds of
    # the partition's time). The row is left zeroed for the bucket's next window.
    total = 0
    for k in range(n_blk + 1):
        total += cnt_row[k]
    if total == nb:
        for k in range(n_blk + 1):
            counts[k] = cnt_row[k]
    else:
        for uj in range(np.uint64(nb)):
            counts[np.uint64(blk_of[np.uint64(bucket[uj].tgt)]) + one] += 1
    for k in range(n_blk + 1):
        cnt_row[k] = 0
    for j in range(n_far):
        if far_t[j] < t1 and far_ver[j] == version[far_id[j]]:
            counts[blk_of[far_id[j]] + 1] += 1
    for j in range(cur_pos, cur_end):
        k = blk_of[cur_id[j]]
        if blk_shard[k] == s:
            counts[k + 1] += 1
    largest = 0
    for k in range(n_blk):
        largest = max(largest, counts[k + 1])
        counts[k + 1] += counts[k]
    for k in range(n_blk + 1):
        blk_ptr[k] = counts[k]
    fill = counts  # reused as the write cursor per block
    for uj in range(np.uint64(nb)):
        # (the bucket was filled windows ago: at full scale it comes from memory, and
        # its lines are asked for PF_PART records ahead)
        prefetch1(bucket, uj + np.uint64(PF_PART))
        r = bucket[uj]
        uk = np.uint64(blk_of[np.uint64(r.tgt)])
        upos = np.uint64(fill[uk])
        fill[uk] = upos + one
        o = part[upos]
        o.t = r.t
        o.w = r.w
        o.tgt = r.tgt
        o.kind = KIND_SYN
    keep = 0
    for j in range(n_far):
        i = far_id[j]
        if far_ver[j] != version[i]:
            continue  # stale: the neuron received input after this check was scheduled
        if far_t[j] < t1:
            k = blk_of[i]
            pos = fill[k]
            fill[k] = pos + 1
            o = part[pos]
            o.t = far_t[j]
            o.w = far_ver[j]
            o.tgt = i
            o.kind = KIND_CHECK
        else:
            far_t[keep] = far_t[j]
            far_id[keep] = far_id[j]
            far_ver[keep] = far_ver[j]
            keep += 1
    for j in range(cur_pos, cur_end):
        i = cur_id[j]
        k = blk_of[i]
        if blk_shard[k] != s:
            continue
        pos = fill[k]
        fill[k] = pos + 1
        o = part[pos]
        o.t = cur_t[j]
        o.w = cur_di[j]
        o.tgt = i
        o.kind = KIND_CURRENT
    return keep, largest


def partition_shards(t1, b, buckets, b_count, far_t2, far_id2, far_ver2, n_far, version,
                     cur_t, cur_id, cur_di, cur_pos, cur_end, blk_of, blk_shard, n_blk, blk_ptr2, part2, largest,
                     blk_cnt):
    """``partition_shard`` for every shard at once (shard s: row s of the *2 arrays, its
    bucket b, its checks; new check counts into n_far[s], largest block into largest[s]).
    blk_cnt[s, b]: the fan-out's counts per block."""
    for s_ in prange(n_far.shape[0]):
        s = np.int64(s_)   # prange's index is unsigned; typed lists want a signed one
        n_far[s], largest[s] = partition_shard(
            s, t1, buckets[s, b], b_count[s, b], far_t2[s][0], far_id2[s][0], far_ver2[s][0], n_far[s], version,
            cur_t, cur_id, cur_di, cur_pos, cur_end, blk_of, blk_shard, n_blk, blk_ptr2[s], part2[s],
            blk_cnt[s, b])


@njit(cache=True)
def window_room(t1, b, b_count, n_far, cur_t, cur_pos, fan_room):
    """(c_end, need) for the window ending at t1 (bucket b): its current steps are
    cur_pos .. c_end-1, and each shard's part2 row must hold need records (its bucket's
    arrivals, its checks, the steps; with fan_room >= 0, a fan-out still to come in the
    launch can fill the bucket up to fan_room). One call per window instead of a few
    numpy reductions."""
    c_end = max(cur_pos, np.searchsorted(cur_t, t1))
    need = 0
    far = 0
    for s in range(n_far.shape[0]):
        need = max(need, b_count[s, b] + n_far[s])
        far = max(far, n_far[s])
    if fan_room >= 0:
        need = max(need, fan_room + far)
    return c_end, need + (c_end - cur_pos)


@njit(cache=True, inline="always")
def _file(fill, x, t, w, kind, ev_t, ev_w, ev_kind):
    """An event into neuron x's next place (fill[x]) of the sorted scratch. (Indices are
    unsigned here and in the sorts: no test for a negative index at every access.)"""
    ux = np.uint64(x)
    pos = np.uint64(fill[ux])
    fill[ux] = pos + np.uint64(1)
    ev_t[pos] = t
    ev_w[pos] = w
    ev_kind[pos] = kind


@njit(cache=True, inline="always")
def _file_arrival(fill, x, t, w, ev_t, ev_w):
    """``_file`` of a synaptic arrival whose kind is written already."""
    ux = np.uint64(x)
    pos = np.uint64(fill[ux])
    fill[ux] = pos + np.uint64(1)
    ev_t[pos] = t
    ev_w[pos] = w


@njit(cache=True, _nrt=False)
def sort_block(part, a, b, kb, j0, nj, segs, pois, ev_ptr, fill, ev_t, ev_w, ev_kind):
    """Block kb's events (targets j0 .. j0+nj-1) sorted by (neuron, time) into ev_*, stable
    (queue order at equal times); neuron j0 + x's events are ev_*[ev_ptr[x]:ev_ptr[x + 1]].
    They are part[a:b] (the partition: arrivals, then checks, then current steps) and,
    when the block's bucket holds segments (``fanout_segments``; segs = (bucket, n_seg,
    seg_a, seg_b, lz_t, lz_src, lz_a, lz_b, blk_syn, target, weight, row_w), n_seg > 0), its
    arrivals of segment g < n_seg: bucket[seg_a[g, kb]:seg_b[g, kb]], or, for a spike
    segment (lz_a[g] >= 0), those of the spikes lz_*[lz_a[g]:lz_b[g]] read from the
    synapse table (each spike's synapses onto the block, blk_syn[src, kb] ..
    blk_syn[src, kb + 1]-1). They come after part's arrivals (those are the
    bucket's plain records: older) and before its checks and current steps: the order
    the partition of the whole bucket gives.

    A counting sort by neuron, then an insertion sort by time within each neuron:
    buckets are filled in emission order, so runs are nearly sorted and this is close
    to linear.

    In a block whose neurons have DRAW_AHEAD events each or more (on average), the
    Poisson arrivals of the window come in too, for each neuron with one stream
    (``draw_window``; pois = (t1, ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w,
    ps_events), the window's end and the streams as ``neuron_loop.advance`` takes
    them): merged after the neuron's events at equal times, as the loop takes them
    (``merge_window``). The loop then finds them among its events, in one sorted
    sequence, instead of choosing between its events and its stream at every step.
    Where the scratch has no room left for a neuron's arrivals, its stream and the rest
    of the block's stay with the loop, which draws them itself: the same draws, the
    same order, the same spikes.
    """
    bucket, n_seg, seg_a, seg_b, lz_t, lz_src, lz_a, lz_b, blk_syn, target, weight, row_w = segs
    for x in range(nj + 1):
        ev_ptr[x] = 0
    for j in range(a, b):
        ev_ptr[part[j].tgt - j0 + 1] += 1
    for g in range(n_seg):
        if lz_a[g] >= 0:
            la = lz_a[g]
            lb = lz_b[g]
            for jj in range(la, lb):
                # the rows of spikes to come, fetched ahead: their table entries
                # PF_ROW spikes ahead, their synapses' targets PF_SYN ahead
                if jj + PF_ROW < lb:
                    prefetch(blk_syn, lz_src[jj + PF_ROW], kb)
                if jj + PF_SYN < lb:
                    prefetch1(target, blk_syn[lz_src[jj + PF_SYN], kb])
                src = lz_src[jj]
                for syn in range(np.uint64(blk_syn[src, kb]), np.uint64(blk_syn[src, kb + 1])):
                    ev_ptr[np.uint64(target[syn] - j0 + 1)] += 1
        else:
            for r in range(seg_a[g, kb], seg_b[g, kb]):
                ev_ptr[bucket[r].tgt - j0 + 1] += 1
    n_queue = 0
    for x in range(nj):
        n_queue += ev_ptr[x + 1]
    # the Poisson arrivals go to the far half of what the events leave free first, so
    # that the merged events never reach them; only where the neurons have many events
    # each (DRAW_AHEAD), which is where taking arrivals from two sources costs the loop
    n_pz = 0
    room = (ev_t.shape[0] - n_queue) // 2
    pz0 = ev_t.shape[0] - room
    if n_queue >= DRAW_AHEAD * nj:
        n_pz = draw_window(j0, nj, pois, ev_t, pz0, ev_ptr)
    for x in range(nj):
        ev_ptr[x + 1] += ev_ptr[x]
        fill[x] = ev_ptr[x]
    n_other = 0   # (checks and current steps: their kinds move in the merge)
    if n_seg == 0:
        n_other = 1   # (no kinds filled ahead here: each event writes its own)
        for j in range(a, b):
            r = part[j]
            _file(fill, r.tgt - j0, r.t, r.w, r.kind, ev_t, ev_w, ev_kind)
    else:
        # every kind SYN first, in one sequential pass: the arrivals are then filed
        # without theirs (a third fewer scattered writes; the checks and current steps,
        # few, write theirs below)
        syn_kind = np.int32(KIND_SYN)
        for x in range(np.uint64(ev_ptr[nj])):
            ev_kind[x] = syn_kind
        for j in range(a, b):
            r = part[j]
            if r.kind == KIND_SYN:
                _file_arrival(fill, r.tgt - j0, r.t, r.w, ev_t, ev_w)
        for g in range(n_seg):
            if lz_a[g] >= 0:
                for jj in range(lz_a[g], lz_b[g]):
                    src = lz_src[jj]
                    ta = lz_t[jj]
                    wr = row_w[src]
                    a_ = np.uint64(blk_syn[src, kb])
                    b_ = np.uint64(blk_syn[src, kb + 1])
                    if wr == wr:   # (one weight for the whole row: not read per synapse)
                        for syn in range(a_, b_):
                            _file_arrival(fill, target[syn] - j0, ta, wr, ev_t, ev_w)
                    else:
                        for syn in range(a_, b_):
                            _file_arrival(fill, target[syn] - j0, ta, weight[syn], ev_t, ev_w)
            else:
                for k in range(seg_a[g, kb], seg_b[g, kb]):
                    r = bucket[k]
                    _file_arrival(fill, r.tgt - j0, r.t, r.w, ev_t, ev_w)
        for j in range(a, b):
            r = part[j]
            if r.kind != KIND_SYN:
                _file(fill, r.tgt - j0, r.t, r.w, r.kind, ev_t, ev_w, ev_kind)
                n_other += 1
    # (always, even where the events are in time order already, as a block holding spike
    # segments only has them: the pass costs less than it saves the neurons' loop, which
    # then reads its events from the nearest cache; skipping it made Brunel 10 % slower)
    sort_by_time(nj, ev_ptr, fill, ev_t, ev_w, ev_kind)
    if n_pz > 0:
        merge_window(j0, nj, pois, pz0, ev_ptr, fill, ev_t, ev_w, ev_kind, n_other > 0)


@njit(cache=True, inline="always")
def _take_arrival(ev_t, pos, k, tq, tn, d):
    """``draw_window``'s step: arrival tq into ev_t[pos], the stream one draw on (d: the
    interval after tn). Returns (pos, k, tq, tn) after it."""
    ev_t[np.uint64(pos)] = tq
    return pos + 1, k + 1, tn, tn + d


@njit(cache=True, _nrt=False)
def draw_window(j0, nj, pois, ev_t, pz0, count):
    """The Poisson arrivals before t1 of neurons j0 .. j0+nj-1 that have one stream, drawn
    into ev_t[pz0:], neuron after neuron, as many neurons' as it holds; each neuron's count
    added to count[x + 1]. The streams move on past them as ``neuron_loop.take_arrival``
    moves them (same draws, same sums). Returns how many were drawn."""
    t1, ps_ptr, ps_next, ps_k, ps_key, ps_mean, ps_w, ps_events = pois
    if ps_next.shape[0] == 0:
        return 0
    cap = ev_t.shape[0]
    pos = pz0
    for x in range(nj):
        i = j0 + x
        q = ps_ptr[i]
        if ps_ptr[i + 1] != q + 1:
            continue   # (no stream, or several: the loop merges those itself)
        tq = ps_next[q, 0]
        if tq >= t1 or not tq > 0.0:
            continue   # (none in the window; or at 0, which merge_window does not take)
        tn = ps_next[q, 1]
        k = ps_k[q]
        key = ps_key[q]
        mean = ps_mean[q]
        p0 = pos
        while tq < t1 and pos < cap:
            # four draws at a time: each is a function of (key, index) alone, so they do
            # not wait for one another (nor for the sums); those past the window's end
            # are drawn for nothing
            d1 = _exp_draw(key, k + 2, mean)
            d2 = _exp_draw(key, k + 3, mean)
            d3 = _exp_draw(key, k + 4, mean)
            d4 = _exp_draw(key, k + 5, mean)
            pos, k, tq, tn = _take_arrival(ev_t, pos, k, tq, tn, d1)
            if not (tq < t1 and pos < cap):
                break
            pos, k, tq, tn = _take_arrival(ev_t, pos, k, tq, tn, d2)
            if not (tq < t1 and pos < cap):
                break
            pos, k, tq, tn = _take_arrival(ev_t, pos, k, tq, tn, d3)
            if not (tq < t1 and pos < cap):
                break
            pos, k, tq, tn = _take_arrival(ev_t, pos, k, tq, tn, d4)
        if tq < t1:
            return p0 - pz0   # (out of room: this neuron's and the later ones' stay with the loop)
        ps_next[q, 0] = tq
        ps_next[q, 1] = tn
        ps_k[q] = k
        ps_events[q] += pos - p0
        count[x + 1] += pos - p0
    return pos - pz0


@njit(cache=True, inline="always")
def _merge_step(e, j, d, w, t_bits, wt_bits, ev_kind, kinds):
    """One step of ``merge_window`` for one neuron: the later of event e-1 and arrival
    j-1 (both in t_bits; the arrival at equal times) to place e + j - d - 1 (d: the
    neuron's first arrival); its kind too where ``kinds`` (a constant at every call).
    Returns the new (e, j)."""
    one = np.uint64(1)
    ue = e - one
    te = t_bits[ue]
    tp = t_bits[j - one]
    c = te > tp
    k = e + j - d - one
    t_bits[k] = choose(c, te, tp)
    wt_bits[k] = choose(c, wt_bits[ue], w)
    if kinds:
        ev_kind[k] = choose(c, ev_kind[ue], np.int32(KIND_SYN))
    ci = np.uint64(c)
    return e - ci, j - (one - ci)


@njit(cache=True, inline="always")
def _merge_rest(e, j, lo, d, w, t_bits, wt_bits, ev_kind, kinds):
    """``merge_window`` for one neuron from (e, j) to its end."""
    while (e > lo) & (j > d):
        e, j = _merge_step(e, j, d, w, t_bits, wt_bits, ev_kind, kinds)
    while j > d:   # (arrivals before every event left)
        j -= np.uint64(1)
        k = e + j - d
        t_bits[k] = t_bits[j]
        wt_bits[k] = w
        if kinds:
            ev_kind[k] = np.int32(KIND_SYN)


@njit(cache=True, _nrt=False)
def merge_window(j0, nj, pois, pz0, ev_ptr, fill, ev_t, ev_w, ev_kind, kinds):
    """Each neuron's Poisson arrivals (``draw_window``: in ev_t[pz0:], neuron after neuron, all
    of them > 0) merged into its sorted events ev_*[ev_ptr[x]:fill[x]], filling
    ev_*[ev_ptr[x]:ev_ptr[x + 1]]: from the back, an arrival after every event at its
    time. ``kinds``: whether the events' kinds move too; without (no check or current step
    among the block's events) every kind is and stays KIND_SYN (``sort_block`` fills them
    so), and a step makes one read and one write less.

    A merge step waits for an integer comparison and a conditional move only: which
    side comes next is a coin toss, so no branch on it (mispredicted half the time, it
    took longer than the rest of the merge). Times are compared and copied as their
    bits: positive floats order as their bits do as integers, and an event before every
    arrival (at or below 0, -0.0 included) has bits that are negative integers (the
    comparisons and conditional moves of floats went through mask registers, at three
    times the latency). Four neurons are merged at once: a step waits for the previous
    one (a read at the index it chose), so four independent chains take about the time
    of one.
    """
    if kinds:
        _merge_all(j0, nj, pois, pz0, ev_ptr, fill, ev_t, ev_w, ev_kind, True)
    else:
        _merge_all(j0, nj, pois, pz0, ev_ptr, fill, ev_t, ev_w, ev_kind, False)


@njit(cache=True, inline="always")
def _merge_all(j0, nj, pois, pz0, ev_ptr, fill, ev_t, ev_w, ev_kind, kinds):
    """``merge_window``'s body, with ``kinds`` a constant."""
    ps_ptr = pois[1]
    w_bits = pois[6].view(np.int64)
    t_bits = ev_t.view(np.int64)
    wt_bits = ev_w.view(np.int64)
    d = np.uint64(pz0)
    for x in range(0, nj, 4):
        # neurons x .. x+3 (a, b, c, f): events left lo .. e-1, arrivals left d .. j-1
        lo_a, e_a, d_a, j_a, w_a, d = _merge_setup(x, nj, j0, d, ev_ptr, fill, ps_ptr, w_bits)
        lo_b, e_b, d_b, j_b, w_b, d = _merge_setup(x + 1, nj, j0, d, ev_ptr, fill, ps_ptr, w_bits)
        lo_c, e_c, d_c, j_c, w_c, d = _merge_setup(x + 2, nj, j0, d, ev_ptr, fill, ps_ptr, w_bits)
        lo_f, e_f, d_f, j_f, w_f, d = _merge_setup(x + 3, nj, j0, d, ev_ptr, fill, ps_ptr, w_bits)
        while ((e_a > lo_a) & (j_a > d_a) & (e_b > lo_b) & (j_b > d_b) & (e_c > lo_c) & (j_c > d_c)
               & (e_f > lo_f) & (j_f > d_f)):
            e_a, j_a = _merge_step(e_a, j_a, d_a, w_a, t_bits, wt_bits, ev_kind, kinds)
            e_b, j_b = _merge_step(e_b, j_b, d_b, w_b, t_bits, wt_bits, ev_kind, kinds)
            e_c, j_c = _merge_step(e_c, j_c, d_c, w_c, t_bits, wt_bits, ev_kind, kinds)
            e_f, j_f = _merge_step(e_f, j_f, d_f, w_f, t_bits, wt_bits, ev_kind, kinds)
        _merge_rest(e_a, j_a, lo_a, d_a, w_a, t_bits, wt_bits, ev_kind, kinds)
        _merge_rest(e_b, j_b, lo_b, d_b, w_b, t_bits, wt_bits, ev_kind, kinds)
        _merge_rest(e_c, j_c, lo_c, d_c, w_c, t_bits, wt_bits, ev_kind, kinds)
        _merge_rest(e_f, j_f, lo_f, d_f, w_f, t_bits, wt_bits, ev_kind, kinds)


@njit(cache=True, inline="always")
def _merge_setup(x, nj, j0, d, ev_ptr, fill, ps_ptr, w_bits):
    """``merge_window``'s start for neuron x (none past the block: nothing to merge):
    (lo, e, d, j, w, the next neuron's d)."""
    z = np.uint64(0)
    if x >= nj:
        return z, z, d, d, np.int64(0), d
    lo = np.uint64(ev_ptr[x])
    e = np.uint64(fill[x])
    j = d + np.uint64(ev_ptr[x + 1] - fill[x])
    w = w_bits[ps_ptr[j0 + x]] if j > d else np.int64(0)
    return lo, e, d, j, w, j


@njit(cache=True)
def sort_by_time(nj, ev_ptr, ev_end, ev_t, ev_w, ev_kind):
    """Each neuron's events ev_*[ev_ptr[x]:ev_end[x]] sorted by time, stable (an
    insertion sort: they come nearly sorted)."""
    one = np.uint64(1)
    for x in range(nj):
        lo = np.uint64(ev_ptr[x])
        for j in range(lo + one, np.uint64(ev_end[x])):
            tj = ev_t[j]
            if ev_t[j - one] <= tj:
                continue
            wj = ev_w[j]
            kj = ev_kind[j]
            m = j   # (the place tj goes to: after every earlier event not later than tj)
            while m > lo and ev_t[m - one] > tj:
                ev_t[m] = ev_t[m - one]
                ev_w[m] = ev_w[m - one]
                ev_kind[m] = ev_kind[m - one]
                m -= one
            ev_t[m] = tj
            ev_w[m] = wj
            ev_kind[m] = kj


# Poisson arrivals are drawn ahead and merged into the events of a block (sort_block)
# whose neurons have at least this many events each on average in the window (Brunel:
# about 70, with 30 arrivals: 7 % faster on one thread). With a few events per neuron
# (the microcircuit: about 2 per window) merging cost more than it saved (about 30 % slower)
DRAW_AHEAD = 8
# segments a bucket holds at most (fanout_segments): with one delay, a bucket gets the
# arrivals of at most three windows' fan-outs; more are filed as plain records
MAXSEG = 4
# spike segments (sort_block): rows fetched this many spikes ahead, their synapses' targets
PF_ROW = 16
PF_SYN = 8
# the partition's bucket records read this many ahead (kernels.partition_shard), and the
# fan-out's bucket records written this many ahead (fanout_shard)
PF_PART = 32
PF_FAN = 8


@njit(cache=True)
def block_synapses(indptr, target, blk_start, blk_syn):
    """blk_syn[src, kb]: the first synapse of source src onto block kb or a later one (its
    CSR row sorted by target), so that its synapses onto block kb are blk_syn[src, kb] ..
    blk_syn[src, kb + 1]-1. Returns False, blk_syn unfinished, when a row is not sorted."""
    n_blk = blk_start.shape[0] - 1
    for src in range(indptr.shape[0] - 1):
        kb = 0
        for syn in range(indptr[src], indptr[src + 1]):
            if syn > indptr[src] and target[syn] < target[syn - 1]:
                return False
            while kb <= n_blk and blk_start[kb] <= target[syn]:
                blk_syn[src, kb] = syn
                kb += 1
        while kb <= n_blk:
            blk_syn[src, kb] = indptr[src + 1]
            kb += 1
    return True


@njit(cache=True)
def _write_spike_segment(bucket, g, spk_t, spk_id, la, lb, D, blk_syn, my_kb, n_my, target, weight, seg_a):
    """Segment g's records, the arrivals of spikes la .. lb-1 (time spk_t + D, source
    spk_id), written where ``fanout_segments`` left room for them: block kb's at
    bucket[seg_a[g, kb]:], in spike then synapse order."""
    for x in range(n_my):
        kb = my_kb[x]
        c = seg_a[g, kb]
        for jj in range(la, lb):
            src = spk_id[jj]
            ta = spk_t[jj] + D
            for syn in range(blk_syn[src, kb], blk_syn[src, kb + 1]):
                rec = bucket[c]
                rec.t = ta
                rec.w = weight[syn]
                rec.tgt = target[syn]
                c += 1


@njit(cache=True)
def write_spike_segments(blk_syn, my_kb, n_my, target, weight, bucket, n_seg, seg_a, lz_t, lz_src, lz_a, lz_b):
    """Every spike segment of one bucket (n_seg segments, seg_a: its per-block offsets,
    lz_*: its spikes) written out as records: the bucket then holds what the eager
    fan-out would have left there, for whatever reads it as records (a run cut
    mid-window, a checkpoint, a fan-out into plain records)."""
    for g in range(n_seg):
        if lz_a[g] >= 0:
            _write_spike_segment(bucket, g, lz_t, lz_src, lz_a[g], lz_b[g], 0.0, blk_syn, my_kb, n_my, target,
                                 weight, seg_a)
            lz_a[g] = -1


@njit(cache=True)
def row_weights(indptr, weight, row_w):
    """row_w[src]: the weight of every synapse of source src where they are all the same
    (the same bits), nan where not (or where it has none)."""
    wb = weight.view(np.int64)
    for src in range(indptr.shape[0] - 1):
        a, b = indptr[src], indptr[src + 1]
        same = b > a
        for syn in range(a + 1, b):
            if wb[syn] != wb[a]:
                same = False
                break
        row_w[src] = weight[a] if same else np.nan


@njit(cache=True)
def fanout_segments(spk_t, spk_id, n_spk, D, W, B, blk_syn, my_kb, n_my, target, weight, buckets, b_count,
                    raw_n, n_seg, seg_a, seg_b, lz_t, lz_src, lz_n, lz_a, lz_b):
    """``fanout_shard`` for a network whose synapses all have the delay D (CSR rows sorted
    by target, blk_syn: see block_synapses), the arrivals of each bucket grouped by block:
    the spikes (by time) whose arrivals land in one window make a segment g of its
    bucket b, block kb's part of it being buckets[b, seg_a[b, g, kb]:seg_b[b, g, kb]]
    (kb: the shard's blocks my_kb[:n_my]), in spike then synapse order: per target, the
    order of ``fanout_shard``. The blocks then read their arrivals there
    (``sort_block``): the partition's pass over every arrival is saved (16 % of
    Brunel's loop on one thread). A bucket's first raw_n[b] records are plain records
    (restored from a checkpoint, or filed by another fan-out): they come before its
    segments; with MAXSEG segments already, the bucket's records all become plain.

    A spike segment (the usual kind) writes no records: it keeps its spikes, arrival
    time and source, in lz_t[b], lz_src[b] (lz_a[b, g] .. lz_b[b, g]-1; lz_n[b] used)
    and leaves the room its records would take; each block reads its arrivals straight
    from the synapse table (``sort_block``). The bucket's records, written and read
    back once per arrival, were a third of Brunel's loop on one thread; the rows a
    block reads are a few cache lines per spike. Without room for the spikes in
    lz_t[b], a segment is written as records (lz_a[b, g] = -1), as are a bucket's spike
    segments before anything reads its records (``write_spike_segments``)."""
    cnt = np.zeros(n_my, dtype=np.int64)
    j = 0
    while j < n_spk:
        kw = window_of(spk_t[j] + D, W)
        j1 = j + 1
        while j1 < n_spk and window_of(spk_t[j1] + D, W) == kw:
            j1 += 1
        b = kw % B
        g = n_seg[b]
        if g == seg_a.shape[1]:   # (MAXSEG, as the engine allocates them)
            write_spike_segments(blk_syn, my_kb, n_my, target, weight, buckets[b], g, seg_a[b], lz_t[b],
                                 lz_src[b], lz_a[b], lz_b[b])
            raw_n[b] = b_count[b]
            lz_n[b] = 0
            g = 0
        for x in range(n_my):
            cnt[x] = 0
        for jj in range(j, j1):
            row = blk_syn[spk_id[jj]]
            for x in range(n_my):
                kb = my_kb[x]
                cnt[x] += row[kb + 1] - row[kb]
        pos = b_count[b]
        for x in range(n_my):
            kb = my_kb[x]
            seg_a[b, g, kb] = pos
            pos += cnt[x]
            seg_b[b, g, kb] = pos
        b_count[b] = pos
        n_seg[b] = g + 1
        la = lz_n[b]
        if la + (j1 - j) <= lz_t.shape[1]:
            for jj in range(j, j1):
                lz_t[b, la + jj - j] = spk_t[jj] + D   # (as fanout_shard computes it)
                lz_src[b, la + jj - j] = spk_id[jj]
            lz_a[b, g] = la
            lz_b[b, g] = la + (j1 - j)
            lz_n[b] = la + (j1 - j)
        else:
            lz_a[b, g] = -1
            _write_spike_segment(buckets[b], g, spk_t, spk_id, j, j1, D, blk_syn, my_kb, n_my, target, weight,
                                 seg_a[b])
        j = j1


@njit(cache=True)
def merge_checks(f_t2, f_id2, f_ver2, n_f2, far_t2, far_id2, far_ver2, n_far, blk_of, blk_shard):
    """Crossing checks of neurons of other shards (f_*2[r][0][:n_f2[r]]: those that shard r
    scheduled for blocks it took from other shards) appended to their own shards' lists
    (far_*2[s], n_far[s]), shard r after shard r (at most one check per neuron and window:
    the order of a neuron's checks is the windows'). n_f2 is emptied."""
    for r in range(n_f2.shape[0]):
        f_t = f_t2[r][0]
        f_id = f_id2[r][0]
        f_ver = f_ver2[r][0]
        for j in range(n_f2[r]):
            i = f_id[j]
            s = blk_shard[blk_of[i]]
            n_far[s] = push_check(far_t2[s], far_id2[s], far_ver2[s], n_far[s], f_t[j], i, f_ver[j])
        n_f2[r] = 0


@njit(cache=True)
def consume_shards(b, cut, t_cut, buckets, b_count, seg):
    """Every shard's bucket b emptied; with ``cut`` (a window cut short by run(until)) the
    records with t >= t_cut are kept (in their order: as plain records, see
    fanout_segments; spike segments written out first). seg: the engine's segment
    arrays (cpu_kernels.shard_partition)."""
    (_D, blk_syn, my_kb2, n_my, raw_n, n_seg, seg_a, _seg_b, lz_t, lz_src, lz_n, lz_a, lz_b, target, weight, _rw,
     _cnt) = seg
    for s in range(buckets.shape[0]):
        bucket = buckets[s, b]
        keep = 0
        if cut:
            write_spike_segments(blk_syn, my_kb2[s], n_my[s], target, weight, bucket, n_seg[s, b], seg_a[s, b],
                                 lz_t[s, b], lz_src[s, b], lz_a[s, b], lz_b[s, b])
            for j in range(b_count[s, b]):
                if bucket[j].t >= t_cut:
                    bucket[keep] = bucket[j]
                    keep += 1
        b_count[s, b] = keep
        raw_n[s, b] = keep
        n_seg[s, b] = 0
        lz_n[s, b] = 0


@njit(cache=True)
def exchange(spk_t2, spk_id2, n_spk2, src_t, src_id, n_src, rank):
    """The window's spikes of every shard (spk_*2[s], n_spk2[s] of them) and of the
    spike and Poisson sources (src_*, n_src) as one list in the documented order: by
    time, then by ``rank`` (the neuron's place in population order, integrating
    populations first, then spike_source, then poisson_source populations). Every shard
    delivers this same list, so what it queues does not depend on the shards."""
    total = n_src
    for s in range(n_spk2.shape[0]):
        total += n_spk2[s]
    t = np.empty(total)
    ids = np.empty(total, dtype=np.int64)
    n = 0
    for s in range(n_spk2.shape[0]):
        a_t = spk_t2[s][0]
        a_id = spk_id2[s][0]
        for j in range(n_spk2[s]):
            t[n] = a_t[j]
            ids[n] = a_id[j]
            n += 1
    a_t = src_t[0]
    a_id = src_id[0]
    for j in range(n_src):
        t[n] = a_t[j]
        ids[n] = a_id[j]
        n += 1
    r = np.empty(total, dtype=np.int64)
    for j in range(total):
        r[j] = rank[ids[j]]
    o1 = np.argsort(r, kind="mergesort")
    o2 = np.argsort(t[o1], kind="mergesort")
    o = o1[o2]
    return t[o], ids[o]


@njit(cache=True)
def shard_runs(indptr, target, shard_of, n_shards, count_only, run_ptr, run_a, run_b):
    """Each shard's view of the synapse table, for the fan-out: the synapses of source
    src onto neurons of shard s are the runs run_a[r] .. run_b[r]-1 (r from run_ptr[s, src]
    to run_ptr[s, src + 1]-1) of its CSR row, in CSR order. Rows sorted by target (as
    the network builder leaves them) give one run per target population and shard.
    With ``count_only``, returns the number of runs (run_* untouched); else fills them."""
    n = indptr.shape[0] - 1
    total = 0
    for s in range(n_shards):
        for src in range(n):
            if not count_only:
                run_ptr[s, src] = total
            inside = False
            for syn in range(indptr[src], indptr[src + 1]):
                mine = shard_of[target[syn]] == s
                if mine and not inside:
                    if not count_only:
                        run_a[total] = syn
                    total += 1
                elif inside and not mine and not count_only:
                    run_b[total - 1] = syn
                inside = mine
            if inside and not count_only:
                run_b[total - 1] = indptr[src + 1]
        if not count_only:
            run_ptr[s, n] = total
    return total


@njit(cache=True)
def fanout_shard(spk_t, spk_id, n_spk, run_ptr, run_a, run_b, target, weight,
                 delay_index, delay_table, delay_values, use_table, W, B, buckets, b_count, blk_of, cnt):
    """Append one ARRIVAL record per (spike, synapse onto a neuron of this shard) to the
    shard's bucket of its arrival window (buckets, b_count: the shard's rows); the
    shard's synapses of a source are runs of its CSR row (see shard_runs).

    Records are appended in spike order, then synapse (CSR) order: per target neuron,
    the order of the whole network's queue, whatever the shards. The arrival time and
    bucket are computed once per run of synapses with the same delay (with a delay
    table, most sources have one or a few distinct delays). The caller guarantees room
    (every bucket has at least the shard's share of the out-degrees free).

    cnt[b, k + 1] counts the records filed into bucket b for block k (blk_of[i]: neuron
    i's block), so that the partition of the bucket's window need not count them again
    (``partition_shard``): the count is one more increment per synapse, on a small
    table in cache, where the partition's count pass read the whole bucket back from
    memory.
    """
    inv_w = 1.0 / W
    for j in range(n_spk):
        src = spk_id[j]
        ts = spk_t[j]
        # the spike's window k0 and bucket b0: an arrival's bucket is b0 + (k - k0) (k >= k0,
        # wrapped once past B), its window k found with a product instead of a division
        # (window_of_scaled: the same k); with a delay per synapse (the microcircuit's),
        # a division and a modulo per synapse were a third of the fan-out's time
        k0 = window_of(ts, W)
        b0 = k0 % B
        last_d = -1.0
        ta = 0.0
        b = 0
        pos = np.uint64(b_count[0])   # bucket b's fill, kept here while b stays (see partition_shard)
        if j + 1 < n_spk:
            _prefetch_run(run_ptr[spk_id[j + 1]], run_ptr[spk_id[j + 1] + 1], run_a, target, weight, delay_index,
                          delay_values, use_table)
        for r in range(run_ptr[src], run_ptr[src + 1]):
            _prefetch_run(r + 1, run_ptr[src + 1], run_a, target, weight, delay_index, delay_values, use_table)
            # (indices as unsigned: no test for a negative index at each synapse)
            for syn in range(np.uint64(run_a[r]), np.uint64(run_b[r])):
                # (written out: through synapse_delay, even inlined, this loop took 1.7x as long)
                if use_table:
                    d = delay_table[delay_index[syn]]
                else:
                    d = delay_values[syn]
                if d != last_d:
                    last_d = d
                    ta = ts + d
                    b_count[b] = pos
                    b = b0 + (window_of_scaled(ta, W, inv_w) - k0)
                    while b >= B:
                        b -= B
                    pos = np.uint64(b_count[b])
                # (a bucket's next lines asked for ahead: each is written first by this
                # loop, which otherwise waits for it from memory)
                prefetch(buckets, np.uint64(b), pos + np.uint64(PF_FAN))
                rec = buckets[np.uint64(b), pos]
                tg = target[syn]
                rec.t = ta
                rec.w = weight[syn]
                rec.tgt = tg
                cnt[np.uint64(b), np.uint64(blk_of[np.uint64(tg)]) + np.uint64(1)] += 1
                pos += np.uint64(1)
        b_count[b] = pos


@njit(cache=True, inline="always")
def _prefetch_run(r, r_end, run_a, target, weight, delay_index, delay_values, use_table):
    """``fanout_shard``: the first lines of run r's synapses (r < r_end) asked for ahead.
    A spike's runs start anywhere in a synapse table of gigabytes at full scale, and the
    hardware's prefetcher follows a run only after its first misses."""
    if r < r_end:
        a = np.uint64(run_a[r])
        prefetch1(target, a)
        prefetch1(weight, a)
        if use_table:
            prefetch1(delay_index, a)
        else:
            prefetch1(delay_values, a)


@njit(cache=True)
def room_needed(outdeg2, si, b_count):
    """Before a fan-out of the spikes of sources si: (the fill any bucket of any shard
    could reach, the arrivals queued in all). outdeg2[src, s] is source src's synapse
    count onto shard s; b_count[s, b] bucket b's fill. (One call per window instead of
    four numpy reductions.)"""
    room = 0
    total = 0
    for s in range(outdeg2.shape[1]):
        need = 0
        for j in range(si.shape[0]):
            need += outdeg2[si[j], s]
        fullest = 0
        for b in range(b_count.shape[1]):
            fullest = max(fullest, b_count[s, b])
        room = max(room, fullest + need)
        total += need
    return room, total


def fanout_shards(spk_t, spk_id, n_spk, run_ptr2, run_a, run_b, target, weight,
                  delay_index, delay_table, delay_values, use_table, W, B, buckets, b_count, blk_of, blk_cnt):
    """``fanout_shard`` for every shard at once: each writes only its own rows (of
    buckets, b_count and blk_cnt)."""
    for s in prange(buckets.shape[0]):
        fanout_shard(spk_t, spk_id, n_spk, run_ptr2[s], run_a, run_b, target, weight, delay_index, delay_table,
                     delay_values, use_table, W, B, buckets[s], b_count[s], blk_of, blk_cnt[s])


@njit(cache=True)
def count_spikes(spike_count, gid):
    """One more spike for each neuron of gid (repeats counted: np.add.at, without its
    per-call cost)."""
    for j in range(gid.shape[0]):
        spike_count[gid[j]] += 1


@njit(cache=True)
def count_emitted(indptr, proj, spike_count, out):
    """Per projection, (spike, synapse) pairs emitted: each source's spike count on each
    of its synapses (one pass, no temporaries of synapse size)."""
    for src in range(indptr.shape[0] - 1):
        c = spike_count[src]
        if c:
            for s in range(indptr[src], indptr[src + 1]):
                out[proj[s]] += c


@njit(cache=True)
def count_pending(spk_t, spk_id, t_now, indptr, proj, delay_index, delay_table, delay_values,
                  use_table, out):
    """Per projection, arrivals of these spikes at or after t_now (not yet delivered)."""
    for j in range(spk_t.shape[0]):
        src = spk_id[j]
        for s in range(indptr[src], indptr[src + 1]):
            d = synapse_delay(s, delay_index, delay_table, delay_values, use_table)
            if spk_t[j] + d >= t_now:
                out[proj[s]] += 1


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

_exp_draw = _RNG.exp_draw
_stream_key = _RNG.stream_key


@njit(cache=True)
def emit_poisson_sources(i0, n, t1, mean, nxt, kk, keys, spk_t, spk_id, n_spk):
    """poisson_source neurons i0..i0+n-1: emit their spikes < t1.

    nxt[li] is the neuron's next spike time, kk[li] the index of the draw that made it,
    keys[li] its stream key (see first_draws), mean[li] its mean interval (ms).
    """
    for li in range(n):
        while nxt[li] < t1:
            n_spk = push_spike(spk_t, spk_id, n_spk, nxt[li], i0 + li)
            kk[li] += 1
            nxt[li] += _exp_draw(keys[li], kk[li], mean[li])
    return n_spk


@njit(cache=True)
def draw_after(nxt, kk, keys, mean):
    """Each Poisson stimulus stream's arrival after its next one: nxt[q, 1] = nxt[q, 0] +
    draw kk[q] + 1 (inf after an infinite next: a stream of rate 0). The neuron loop draws
    one arrival ahead (neuron_loop.take_arrival)."""
    for q in range(nxt.shape[0]):
        if nxt[q, 0] == np.inf:
            nxt[q, 1] = np.inf
        else:
            nxt[q, 1] = nxt[q, 0] + _exp_draw(keys[q], kk[q] + 1, mean[q])


@njit(cache=True)
def first_draws(seed, stream, idents, rate_per_ms, offset, nxt, keys, mean):
    """Stream keys (seed, stream, idents[j]), mean intervals, and the first event
    nxt[j] = offset[j] + draw 0 (inf when the rate is 0)."""
    for j in range(idents.shape[0]):
        keys[j] = _stream_key(seed, stream, idents[j])
        if rate_per_ms[j] > 0.0:
            mean[j] = 1.0 / rate_per_ms[j]
            nxt[j] = offset[j] + _exp_draw(keys[j], 0, mean[j])
        else:
            mean[j] = np.inf
            nxt[j] = np.inf


# the shard loops for several threads, and for one (no thread pool)
partition_shards_serial = serial_twin(partition_shards)
partition_shards = njit(cache=True, parallel=True)(partition_shards)
fanout_shards_serial = serial_twin(fanout_shards)
fanout_shards = njit(cache=True, parallel=True)(fanout_shards)
