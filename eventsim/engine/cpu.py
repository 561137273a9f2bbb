"""The CPU backend: allocates the engine's arrays and drives the numba kernels window by window."""
from __future__ import annotations

import importlib
import mmap
import time

import numpy as np
import numba

from eventsim.models import neuron_model
from eventsim.network.partition import BLOCK, block_starts, runs

from . import kernels as K
from . import cpu_kernels
from .comm import LOCAL
from .stdp import StdpState
from .window_loop import WindowLoop, population_params



def zeros_small_pages(shape, dtype):
    """A zeroed array in memory of its own, in small pages (no transparent huge pages).

    For the buckets, which grow while the window loop runs: numpy asks the kernel for
    huge pages for every array of 4 MB or more (madvise), and where the kernel then
    compacts memory to find one at each first write (its default ``defrag`` setting,
    this machine's), the growth of the microcircuit's buckets at scale 0.25 (to 450 MB)
    stalled the loop for 0.44 s in the copy alone, and the run's later first writes
    more (a 300 ms run on two threads 4.60 s, 3.60 s in small pages). The buckets are
    written at a few dozen places at a time and read in order: small pages cost them
    nothing measurable in translation."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if n == 0:
        return np.zeros(shape, dtype=dtype)
    mem = mmap.mmap(-1, n)   # (anonymous: zeroed; freed with the last array on it)
    if hasattr(mem, "madvise") and hasattr(mmap, "MADV_NOHUGEPAGE"):
        mem.madvise(mmap.MADV_NOHUGEPAGE)   # (also where huge pages are the system's default)
    return np.frombuffer(mem, dtype=dtype).reshape(shape)


class _NeuronGroup:
    """A population of integrating neurons with its model's kernel and tables."""

    def __init__(self, pop):
        model = neuron_model(pop.model)
        kernel = model.kernel_for(pop.options)
        km = importlib.import_module(kernel)
        self.pop = pop
        self.i0 = pop.offset
        self.n = pop.size
        self.params = population_params(km, pop)   # structured arrays: per neuron, or one shared
        self.state = km.init_state(pop)
        self.kernel_module = km
        self.kernels = cpu_kernels.compiled(kernel)
        self.sampler = None   # an eventsim.output.report.StateSampler while its state is recorded


# Poisson arrivals one block's sort takes in (kernels.sort_block), at least: Brunel's
# blocks of 512 neurons get about 15,000 in a window of 1.5 ms; a block with more leaves
# the rest to the neuron loop, which draws them itself
POISSON_ROOM = 16384


class CpuEngine(WindowLoop):
    """Exact window-by-window simulation of a Network on the CPU: the window loop
    (eventsim.engine.window_loop) on shards.

    Shards: shard s owns the s-th of S equal runs of every population's blocks of
    neurons, the arrivals at its neurons (its own queue, filled by its own fan-out from
    its runs of the synapse table, ``kernels.shard_runs``), their crossing checks and
    their spikes of a window. Steps 1, 2 and 5 run on every shard at once, each writing
    only what it owns; the exchange (step 3) puts every shard's spikes in one order,
    which every shard then delivers from. Per target neuron, the queue holds exactly the
    one-shard queue's arrivals in its order, so the output does not depend on S.

    ``threads`` (default 1; at most numba's thread count) advance blocks of neurons in
    parallel; the output is the same for any thread count. More than one thread starts
    numba's OpenMP pool, after which the process must not fork (GNU OpenMP aborts the
    child): use the "spawn" start method of multiprocessing then.
    """

    name = "cpu"

    def __init__(self, network, seed: int, threads=None, comm=None):
        self.threads = max(1, min(int(1 if threads is None else threads), numba.config.NUMBA_NUM_THREADS))
        self.S = self.threads   # this process's shards: one per thread
        # ranks (eventsim.engine.comm): rank r owns shards r*S .. r*S+S-1 of comm.size*S
        self.comm = LOCAL if comm is None else comm
        part = getattr(network, "part", None)
        if part is not None and tuple(part) != (self.comm.rank, self.comm.size):
            raise ValueError(f"network: built as rank {part[0]}'s part of {part[1]} ranks, but this is rank "
                             f"{self.comm.rank} of {self.comm.size}")
        self.groups = [_NeuronGroup(p) for p in network.populations
                       if p.model not in ("spike_source", "poisson_source")]
        super().__init__(network, seed)
        N = self.N
        # per-neuron engine state
        self.t_state = np.zeros(N)
        self.ref_end = np.full(N, -np.inf)
        self.i_stim = np.zeros(N)
        self.version = np.zeros(N, dtype=np.int64)
        self.updates = np.zeros(N, dtype=np.int64)
        self._setup_shards()
        # queue: per shard, a ring of B buckets of the arrivals at its neurons
        self.cap = 1024
        self._alloc_buckets(self.cap)
        self.b_count = self._per_shard(self.B, np.int64)
        # crossing checks, per shard: every neuron is checked at t = 0 (its initial v may
        # be above threshold); growable buffers are one-element typed lists of arrays
        idx = np.flatnonzero(self.integrating)
        self.far_t2, self.far_id2, self.far_ver2 = self._lists(np.float64), self._lists(np.int64), \
            self._lists(np.int64)
        self.n_far = np.zeros(self.S, dtype=np.int64)
        self._set_checks(np.zeros(idx.size), idx, np.zeros(idx.size, dtype=np.int64))
        # per shard: the window's spikes, its events partitioned by block (blocks never
        # straddle populations), and the scratch one block is sorted into
        self.spk_t2, self.spk_id2 = self._lists(np.float64), self._lists(np.int64)
        self.n_spk2 = np.zeros(self.S, dtype=np.int64)
        self.part2 = self._per_shard(1024, K.PART_DTYPE)
        self.blk_ptr2 = self._per_shard(self.n_blk + 1, np.int64)
        self.largest = np.zeros(self.S, dtype=np.int64)
        self.poisson_room = POISSON_ROOM if self.ps_next.shape[0] else 0
        self._alloc_scratch(1024)
        self.ev_ptr2 = self._per_shard(BLOCK + 1, np.int64)
        self.ev_fill2 = self._per_shard(BLOCK, np.int64)
        # work stealing (cpu_kernels.shard_blocks): per shard its blocks (population,
        # block) and a count of those taken (K.PAD apart), and the checks a shard
        # schedules for other shards' neurons
        self._taken = np.zeros(self.S * K.PAD, dtype=np.int64)
        self.f_t2, self.f_id2, self.f_ver2 = self._lists(np.float64), self._lists(np.int64), self._lists(np.int64)
        self.n_f2 = np.zeros(self.S, dtype=np.int64)
        # the spike and Poisson sources' spikes of a window
        self.src_t = K.buffer(np.zeros(256))
        self.src_id = K.buffer(np.zeros(256, dtype=np.int64))
        self.stdp = StdpState(network)
        self._setup_segments()
        # spikes whose fan-out waits for the next window's launch (see deliver)
        self._fan = self._no_fan = (np.zeros(0), np.zeros(0, dtype=np.int64))
        self._fan_room = 0
        # the compiled window loop's spikes (step_windows), and its windows per call
        self._out_t, self._out_id = K.buffer(np.zeros(256)), K.buffer(np.zeros(256, dtype=np.int64))
        self._batch_windows = 16
        if self.comm.size > 1:
            self._refuse_under_mpi()

    # ---- between runs (trials) ----
    def reset_state(self):
        """Every integrating neuron back to its initial state at the current time; the
        queued arrivals are dropped (counted in ``discarded``). Poisson streams go on."""
        self.discarded = getattr(self, "discarded", np.zeros(self.n_proj, dtype=np.int64))
        self.discarded += self.pending_synaptic_events()
        self.recent_t = np.zeros(0)
        self.recent_id = np.zeros(0, dtype=np.int64)
        self._fan = self._no_fan
        self.b_count[:] = 0
        self.blk_cnt[:] = 0   # (the fan-out's counts of the records just dropped)
        self._linearize()
        for g in self.groups:
            g.state = g.kernel_module.init_state(g.pop)
        self.t_state[:] = self.t
        self.ref_end[:] = -np.inf
        self.version += 1
        idx = np.concatenate([np.arange(g.i0, g.i0 + g.n) for g in self.groups]) if self.groups \
            else np.zeros(0, dtype=np.int64)
        self._set_checks(np.full(idx.size, self.t), idx, self.version[idx])

    # ---- checkpoints (eventsim/engine/checkpoint.py) ----
    # per-neuron and stream arrays that the window loop changes; everything else is
    # rebuilt from the network and seed, or is scratch refilled every window (ps_next:
    # its column 0 only, the streams' next arrivals; the arrival after each is drawn again)
    _STATE_ARRAYS = ("t_state", "ref_end", "i_stim", "version", "updates", "spike_count",
                     "recent_t", "recent_id", "ps_k", "ps_key", "ps_mean", "ps_events")

    def get_state(self):
        """{name: array or scalar}: everything a later window depends on, in a form that
        does not depend on thread count or buffer capacities."""
        self._fan_out_now()
        self._write_segments()
        d = {name: getattr(self, name).copy() for name in self._STATE_ARRAYS}
        d["ps_next"] = self.ps_next[:, 0].copy()
        d["t"] = self.t
        d["cur_pos"] = self.cur_pos
        # the checks by neuron, each bucket's arrivals by target neuron and, per target,
        # in queue order (the order fixes equal-time summation): the same for any shards
        ct, ci, cv = (np.concatenate([K.shard_contents(x, s)[:self.n_far[s]] for s in range(self.S)])
                      for x in (self.far_t2, self.far_id2, self.far_ver2))
        o = np.argsort(ci, kind="stable")
        d["far_t"], d["far_id"], d["far_ver"] = ct[o], ci[o], cv[o]
        counts, queue = [], []
        for b in range(self.B):
            q = np.concatenate([self.buckets[s, b, :self.b_count[s, b]] for s in range(self.S)])
            queue.append(q[np.argsort(q["tgt"], kind="stable")])
            counts.append(q.size)
        d["b_count"] = np.array(counts, dtype=np.int64)
        d["queue"] = np.concatenate(queue) if queue else np.zeros(0, dtype=K.ARRIVAL_DTYPE)
        if hasattr(self, "discarded"):
            d["discarded"] = self.discarded.copy()
        for j, g in enumerate(self.groups):
            d[f"group{j}_state"] = g.state.copy()
        for j, (_i0, _n, flat, ptr, pos) in enumerate(self.spike_sources):
            d[f"spike_source{j}_flat"], d[f"spike_source{j}_ptr"], d[f"spike_source{j}_pos"] = \
                flat.copy(), ptr.copy(), pos.copy()
        for j, (_i0, _n, mean, nxt, kk, keys) in enumerate(self.poisson_sources):
            for name, x in (("mean", mean), ("next", nxt), ("k", kk), ("key", keys)):
                d[f"poisson_source{j}_{name}"] = x.copy()
        return d

    def set_state(self, d):
        """Put the state of :meth:`get_state` (of an engine of the same network) back."""
        if "ps_events" not in d:   # format 1 as first written: counts per stimulus (only
            # their sums per stimulus are ever read: each goes to the stimulus's first stream)
            d = dict(d, ps_events=np.zeros_like(self.ps_events))
            for j in range(len(self.poisson_stimuli)):
                first = np.flatnonzero(self.ps_stim == j)
                if first.size:
                    d["ps_events"][first[0]] = int(np.asarray(d["stim_events"])[j])
        for name in self._STATE_ARRAYS:
            cur = getattr(self, name)
            new = np.asarray(d[name])
            if new.shape != cur.shape and name not in ("recent_t", "recent_id"):
                raise ValueError(f"checkpoint: engine array {name} has shape {new.shape}, expected {cur.shape}")
            setattr(self, name, new.astype(cur.dtype, copy=True))
        nxt = np.asarray(d["ps_next"], dtype=np.float64)
        if nxt.shape != self.ps_next.shape[:1]:
            raise ValueError(f"checkpoint: engine array ps_next has shape {nxt.shape}, expected "
                             f"{self.ps_next.shape[:1]}")
        self.ps_next[:, 0] = nxt
        K.draw_after(self.ps_next, self.ps_k, self.ps_key, self.ps_mean)
        self.t = float(d["t"])
        self.cur_pos = int(d["cur_pos"])
        self._set_checks(np.asarray(d["far_t"]), np.asarray(d["far_id"]), np.asarray(d["far_ver"]))
        self._fan = self._no_fan   # (the checkpoint's queue holds every arrival)
        q = np.asarray(d["queue"], dtype=K.ARRIVAL_DTYPE)
        bounds = np.concatenate([[0], np.cumsum(np.asarray(d["b_count"], dtype=np.int64))])
        segs = [q[bounds[b]:bounds[b + 1]] for b in range(self.B)]
        per = [[seg[self.shard_of[seg["tgt"]] == s] for seg in segs] for s in range(self.S)]
        need = max([x.size for row in per for x in row] + [1])
        if need > self.cap:
            self.buckets = None
            self._alloc_buckets(need)
        for s in range(self.S):
            for b, x in enumerate(per[s]):
                self.buckets[s, b, :x.size] = x
                self.b_count[s, b] = x.size
        self.blk_cnt[:] = 0   # (the records came in without the fan-out's counts: the partition counts them)
        self._linearize()
        if "discarded" in d:
            self.discarded = np.asarray(d["discarded"], dtype=np.int64).copy()
        for j, g in enumerate(self.groups):
            g.state = np.asarray(d[f"group{j}_state"]).astype(g.state.dtype, copy=True)
        for j, (i0, n_src, *_rest) in enumerate(self.spike_sources):
            self.spike_sources[j] = (i0, n_src, *(np.asarray(d[f"spike_source{j}_{k}"]).copy()
                                                  for k in ("flat", "ptr", "pos")))
        for j, (i0, n_src, *arrays) in enumerate(self.poisson_sources):
            self.poisson_sources[j] = (i0, n_src, *(np.asarray(d[f"poisson_source{j}_{k}"]).astype(a.dtype)
                                                    for k, a in zip(("mean", "next", "k", "key"), arrays)))

    # ---- set-up ----
    def _alloc_buckets(self, cap):
        old = getattr(self, "buckets", None)
        buckets = zeros_small_pages((self.S, self.B, cap), K.ARRIVAL_DTYPE)
        if old is not None:
            K.copy_fills(old, buckets, self.b_count)   # (each bucket's records: the rest is never read)
        self.buckets = buckets
        self.cap = cap

    def _alloc_scratch(self, cap):
        """Per shard: room for one block's sorted events, and for the Poisson arrivals that
        kernels.sort_block merges into them (POISSON_ROOM, twice: it draws them into the
        far half of what is free)."""
        cap += 2 * self.poisson_room
        self.ev_t2, self.ev_w2 = self._per_shard(cap, np.float64), self._per_shard(cap, np.float64)
        self.ev_kind2 = self._per_shard(cap, np.int32)
        self.ev_f2 = self._per_shard(cap, np.float64)   # (the neurons' decay factors: neuron_loop.leak_ahead)

    def _per_shard(self, n, dtype):
        """A row of at least n elements per shard, rows apart by whole 128-byte lines and
        at least one line: shards writing on one cache line (the buckets' fill counts)
        made the parallel fan-out slower than one thread."""
        per_line = max(1, 128 // np.dtype(dtype).itemsize)
        return np.zeros((self.S, (n + per_line - 1) // per_line * per_line + per_line), dtype=dtype)

    def _lists(self, dtype):
        """Per shard, a growable buffer (a one-element typed list holding an array)."""
        return K.shard_buffers(np.zeros(256, dtype=dtype), self.S)

    def _set_checks(self, t, ids, ver):
        """The pending crossing checks: (time, neuron, version), each to its neuron's shard."""
        for s in range(self.S):
            sel = self.shard_of[ids] == s
            n = int(sel.sum())
            size = max(n + 64, K.shard_contents(self.far_t2, s).shape[0])
            for bufs, a in ((self.far_t2, t[sel]), (self.far_id2, ids[sel]), (self.far_ver2, ver[sel])):
                K.refill_shard(bufs, s, np.ascontiguousarray(a, dtype=K.shard_contents(bufs, s).dtype), size)
            self.n_far[s] = n

    def _setup_shards(self):
        """Blocks of at most BLOCK neurons, aligned to population boundaries; shard s owns
        the s-th of S equal runs of each population's blocks (every population is spread
        over every shard, so each shard has a share of every population's work).
        The blocks of spike and Poisson sources (which receive nothing) are shard 0's."""
        S = self.S
        R, r = self.comm.size, self.comm.rank
        G = R * S   # shards of all ranks; this rank's are r*S .. r*S+S-1 (local 0 .. S-1)
        self.blk_start = block_starts(self.net.populations, self.N)
        self.n_blk = self.blk_start.shape[0] - 1
        self.blk_of = np.repeat(np.arange(self.n_blk, dtype=np.int32), np.diff(self.blk_start))
        # (-1: a block of another rank's shard, whose events never reach this rank's queue)
        self.blk_shard = np.full(self.n_blk, 0 if r == 0 else -1, dtype=np.int32)
        for g in self.groups:
            g.kb0 = int(np.searchsorted(self.blk_start, g.i0))
            g.kb1 = int(np.searchsorted(self.blk_start, g.i0 + g.n))
            chunk = runs(g.kb0, g.kb1, G)   # (eventsim.network.partition: rank r's are r*S .. r*S+S)
            for sh in range(G):
                self.blk_shard[chunk[sh]:chunk[sh + 1]] = sh - r * S if r * S <= sh < (r + 1) * S else -1
            g.chunk_kb = chunk[r * S:(r + 1) * S + 1].copy()
        self.shard_of = self.blk_shard[self.blk_of] if self.N else np.zeros(0, dtype=np.int32)
        # one launch for every population when they share a model and record layouts
        g0 = self.groups[0] if self.groups else None
        self._together = len(self.groups) > 1 and all(
            g.kernels is g0.kernels and g.state.dtype == g0.state.dtype and g.params.dtype == g0.params.dtype
            for g in self.groups)
        self._group_i0 = np.array([g.i0 for g in self.groups], dtype=np.int64)
        # each shard's blocks, population by population (the work lists of the launch)
        work = [[(gi, kb) for gi, g in enumerate(self.groups) for kb in range(g.chunk_kb[sh], g.chunk_kb[sh + 1])]
                for sh in range(S)]
        self._n_work = np.array([len(w) for w in work], dtype=np.int64)
        self._work_g2 = np.zeros((S, max(1, self._n_work.max(initial=0))), dtype=np.int64)
        self._work_kb2 = np.zeros_like(self._work_g2)
        for sh, w in enumerate(work):
            if w:
                self._work_g2[sh, :len(w)], self._work_kb2[sh, :len(w)] = np.array(w, dtype=np.int64).T
        self._lists_of = self._probes_of = self._no_probes = None
        # each shard's synapses, by source: runs of the CSR rows (the fan-out's rows),
        # and the room a spike needs in each shard's buckets
        net = self.net
        if G == 1:
            self.run_ptr2 = np.arange(self.N + 1, dtype=np.int64)[None, :]
            self.run_a, self.run_b = net.indptr[:-1], net.indptr[1:]
        else:
            self.run_ptr2 = np.zeros((S, self.N + 1), dtype=np.int64)
            n_runs = K.shard_runs(net.indptr, net.target, self.shard_of, S, True, self.run_ptr2,
                                  np.zeros(0, np.int64), np.zeros(0, np.int64))
            self.run_a, self.run_b = np.zeros(n_runs, dtype=np.int64), np.zeros(n_runs, dtype=np.int64)
            K.shard_runs(net.indptr, net.target, self.shard_of, S, False, self.run_ptr2, self.run_a, self.run_b)
        cum = np.concatenate([[0], np.cumsum(self.run_b - self.run_a)])
        self.outdeg2 = np.ascontiguousarray((cum[self.run_ptr2[:, 1:]] - cum[self.run_ptr2[:, :-1]]).T)

    # the fan-out by block's table, at most this many bytes (4 per neuron and block)
    SEGMENT_TABLE_BYTES = 64 << 20

    def _setup_segments(self):
        """The fan-out by block (kernels.fanout_segments) where it applies: every synapse
        has one delay, the CSR rows are sorted by target (as the network builder leaves
        them), no STDP (its fan-out is its own), and the table of each source's synapses
        per block fits in SEGMENT_TABLE_BYTES. Each bucket keeps its plain records first
        (raw_n), then up to MAXSEG segments (n_seg, offsets seg_a/seg_b per block), each a
        spike segment (its spikes in lz_t/lz_src[lz_a:lz_b], room for one spike of every
        neuron per bucket) or written out (lz_a = -1)."""
        net = self.net
        self.raw_n = self._per_shard(self.B, np.int64)
        self.n_seg = self._per_shard(self.B, np.int64)
        D, blk_syn = 0.0, np.zeros((0, 0), dtype=np.int32)
        n_syn = int(net.indptr[-1]) if self.N else 0
        if 0 < n_syn < 2 ** 31 and not self.stdp.active and \
                self.N * (self.n_blk + 1) * 4 <= self.SEGMENT_TABLE_BYTES:
            d_lo, d_hi = net.delay_bounds()
            if d_lo == d_hi:
                table = np.zeros((self.N, self.n_blk + 1), dtype=np.int32)
                if K.block_synapses(net.indptr, net.target, self.blk_start, table):
                    D, blk_syn = d_lo, table
        width = self.n_blk if blk_syn.size else 1
        self.seg_a = np.zeros((self.S, self.B, K.MAXSEG, width), dtype=np.int64)
        self.seg_b = np.zeros_like(self.seg_a)
        room = max(64, self.N) if blk_syn.size else 1
        self.row_w = np.zeros(self.N if blk_syn.size else 0)
        if blk_syn.size:
            K.row_weights(net.indptr, net.weight, self.row_w)
        self.lz_t = np.zeros((self.S, self.B, room))
        self.lz_src = np.zeros((self.S, self.B, room), dtype=np.int64)
        self.lz_n = self._per_shard(self.B, np.int64)
        self.lz_a = np.full((self.S, self.B, K.MAXSEG), -1, dtype=np.int64)
        self.lz_b = np.zeros_like(self.lz_a)
        # per shard and bucket, its records per block as the fan-out counted them
        # (kernels.fanout_shard; blk_cnt[s, b, k + 1]: block k's), taken by the bucket's
        # partition where they add up to its records (kernels.partition_shard)
        self.blk_cnt = np.zeros((self.S, self.B, self.n_blk + 1), dtype=np.int64)
        self._seg = (D, blk_syn, self._work_kb2, self._n_work, self.raw_n, self.n_seg, self.seg_a, self.seg_b,
                     self.lz_t, self.lz_src, self.lz_n, self.lz_a, self.lz_b, net.target, net.weight, self.row_w,
                     self.blk_cnt)

    def _linearize(self):
        """Every bucket's records as plain records (after a fan-out or a restore that
        wrote plain records after, or without, segments: spike segments written out
        first where records were added after them, ``_write_segments``)."""
        self.raw_n[:] = self.b_count
        self.n_seg[:] = 0
        self.lz_n[:] = 0

    def _write_segments(self):
        """Every bucket's spike segments written out as records (kernels.write_spike_segments),
        before anything reads the buckets' records or adds plain records after them."""
        _D, blk_syn, my_kb2, n_my, _raw_n, n_seg, seg_a, _seg_b, lz_t, lz_src, _lz_n, lz_a, lz_b, tgt, wt = \
            self._seg[:15]
        for s in range(self.S):
            for b in range(self.B):
                if n_seg[s, b]:
                    K.write_spike_segments(blk_syn, my_kb2[s], n_my[s], tgt, wt, self.buckets[s, b], n_seg[s, b],
                                           seg_a[s, b], lz_t[s, b], lz_src[s, b], lz_a[s, b], lz_b[s, b])

    # ---- the window loop's steps (see eventsim.engine.window_loop) ----
    def gather(self, b, t1):
        """Each shard's events of the window (its bucket b, due checks, current steps),
        partitioned by block into part2[s]; with one launch for all populations, done
        there (``advance``)."""
        # (the fan-out waiting for this launch can fill bucket b up to its room)
        c_end, need = K.window_room(t1, b, self.b_count, self.n_far, self.cur_t, self.cur_pos,
                                    self._fan_room if self._fan[1].size else -1)
        if need > self.part2.shape[1]:
            self.part2 = self._per_shard(max(need, 2 * self.part2.shape[1]), K.PART_DTYPE)
        self._window = (b, c_end)
        if self._together:
            if self.part2.shape[1] > self.ev_t2.shape[1]:   # no block can hold more than its shard
                self._alloc_scratch(self.part2.shape[1])
            return
        self._parallel(K.partition_shards, K.partition_shards_serial)(
            t1, b, self.buckets, self.b_count, self.far_t2, self.far_id2, self.far_ver2, self.n_far, self.version,
            self.cur_t, self.cur_id, self.cur_di, self.cur_pos, c_end, self.blk_of, self.blk_shard, self.n_blk,
            self.blk_ptr2, self.part2, self.largest, self.blk_cnt)
        self.cur_pos = c_end
        largest = int(self.largest.max())
        if largest > self.ev_t2.shape[1]:
            self._alloc_scratch(max(largest, 2 * self.ev_t2.shape[1]))

    def advance(self, t1):
        """Every shard's neurons through the window, population by population; spikes and
        new checks go to the shard's buffers. Populations of one model with the same
        record layouts (typically all of them) go in one launch of the shards,
        with the partition of step 1 (cpu_kernels.gather_advance)."""
        self.n_spk2[:] = 0
        shared = self._shared()
        if self._together:
            b, c_end = self._window
            k = self.groups[0].kernels
            fan_t, fan_id = self._fan
            self._fan = self._no_fan
            net = self.net
            part_args = (t1, b, self.buckets, self.b_count, fan_t, fan_id, fan_id.size, self.run_ptr2, self.run_a,
                         self.run_b, net.target, net.weight, self.delay_index, self.delay_table, self.delay_values,
                         self.use_table, self.W, self.B, self.cur_t, self.cur_id, self.cur_di, self.cur_pos, c_end,
                         self.blk_of, self.blk_shard, self.n_blk, self.version, self.blk_ptr2, self.part2,
                         self.far_t2, self.far_id2, self.far_ver2, self.n_far, self._taken)
            block_args = (t1, self._group_i0, *self._group_lists(t1), *shared, *self._probe_lists(t1),
                          *self._stealing(), b, self.buckets)
            self._parallel(k.gather_advance, k.gather_advance_serial)(self.S, part_args, block_args, self._seg)
            K.merge_checks(self.f_t2, self.f_id2, self.f_ver2, self.n_f2, self.far_t2, self.far_id2, self.far_ver2,
                           self.n_far, self.blk_of, self.blk_shard)
            self.cur_pos = c_end
            return
        for g in self.groups:
            samples = K.NO_SAMPLES if g.sampler is None else g.sampler.window(t1)
            self._parallel(g.kernels.update_parallel, g.kernels.update_parallel_serial)(
                g.chunk_kb, g.i0, t1, g.state, g.params, *shared, *samples,
                (self.buckets[0, 0], 0, self.seg_a[0, 0], self.seg_b[0, 0], self.lz_t[0, 0], self.lz_src[0, 0],
                 self.lz_a[0, 0], self.lz_b[0, 0], self._seg[1], self.net.target, self.net.weight, self.row_w))
            # (no segments: see _fan_out)

    def step_windows(self, t_until, stop_every=()):
        """Several windows in one call of the compiled window loop
        (``cpu_kernels.run_windows``: no Python between windows) where it applies: one
        process, one launch for all populations, no spike or Poisson sources, plasticity
        or state probes; else one window (``step_window``). The spikes are the same
        either way. Each call runs about ``BATCH_S`` seconds of windows (the count
        adapted to the last call's), so that the caller's progress, stop requests and
        wall-clock commits stay timely."""
        if not self._batches():
            return self.step_window(t_until)
        k = self.groups[0].kernels
        fan_t, fan_id = self._fan
        stops = np.array(stop_every, dtype=np.float64).reshape(-1, 2)
        wall = time.perf_counter()
        reason, windows, t, cur_pos, n, fan_t, fan_id, fan_room, t_spiking = self._parallel(
            k.run_windows, k.run_windows_serial)(
            self.t, t_until, stops, self._batch_windows, fan_t, fan_id, self._fan_room, self.cap, self.outdeg2,
            self.rank, self.src_t, self.src_id, self.spike_count, self._out_t, self._out_id,
            self.buckets, self.b_count, self.run_ptr2, self.run_a, self.run_b, self.net.target, self.net.weight,
            self.delay_index, self.delay_table, self.delay_values, self.use_table, self.W, self.B,
            self.cur_t, self.cur_id, self.cur_di, self.cur_pos, self.blk_of, self.blk_shard, self.n_blk,
            self._group_i0, *self._group_lists(t_until), *self._shared(), *self._probe_lists(t_until),
            *self._stealing(), self._seg)
        if windows:
            per = (time.perf_counter() - wall) / windows
            self._batch_windows = int(min(max(self.BATCH_S / max(per, 1e-9), 1), 4096))
        self.t, self.cur_pos = t, cur_pos
        self._fan, self._fan_room = ((fan_t, fan_id) if fan_id.size else self._no_fan), fan_room
        if reason == cpu_kernels.GROW_PART:
            kw = K.window_of(self.t, self.W)
            self.gather(kw % self.B, min((kw + 1) * self.W, t_until))
        elif reason == cpu_kernels.GROW_BUCKETS:
            self._alloc_buckets(max(2 * self.cap, fan_room))
        st = K.contents(self._out_t)[:n].copy()
        si = K.contents(self._out_id)[:n].copy()
        if n:
            self._remember(st, si, t_spiking)
        return st, si

    BATCH_S = 0.05
    # False: every window on the per-window path (bench/phases.py times its steps there)
    compiled_loop = True

    def _batches(self):
        """Whether ``step_windows`` runs the compiled window loop (see there)."""
        return (self.compiled_loop and self._together and self.comm.size == 1 and not self.stdp.active
                and not self.spike_sources and not self.poisson_sources
                and all(g.sampler is None for g in self.groups))

    def _shared(self):
        """The arguments every advance kernel takes, in their order."""
        return (self.t_state, self.ref_end, self.i_stim, self.version, self.updates,
                self.blk_ptr2, self.blk_start, self.part2, self.ev_ptr2, self.ev_fill2, self.ev_t2, self.ev_w2,
                self.ev_kind2, self.ev_f2, self.ps_ptr, self.ps_next, self.ps_k, self.ps_key, self.ps_mean, self.ps_w,
                self.ps_events, self.spk_t2, self.spk_id2, self.n_spk2,
                self.far_t2, self.far_id2, self.far_ver2, self.n_far)

    def _stealing(self):
        """The work-stealing arguments of a launch (cpu_kernels.shard_blocks), its
        counters zeroed."""
        self._taken[:] = 0
        return self._work_g2, self._work_kb2, self._n_work, self._taken, self.f_t2, self.f_id2, self.f_ver2, self.n_f2

    def _group_lists(self, t1):
        """The populations' records as typed lists (rebuilt only when an array changed:
        a reset or a restore replaces them)."""
        arrays = [g.state for g in self.groups] + [g.params for g in self.groups]
        if self._lists_of is None or any(a is not b for a, b in zip(arrays, self._lists_of)):
            self._lists_of = arrays
            G = len(self.groups)
            self._records = (K.list_of(tuple(arrays[:G])), K.list_of(tuple(arrays[G:])))
        return self._records

    def _probe_lists(self, t1):
        """The state probes' arguments per population, as typed lists and arrays (the
        typed lists rebuilt only when an array changed; all of it cached without probes)."""
        if all(g.sampler is None for g in self.groups):
            if self._no_probes is None:
                self._no_probes = tuple(K.list_of((x,) * len(self.groups)) for x in K.NO_SAMPLES[:4]) + tuple(
                    np.full(len(self.groups), x, dtype=np.asarray(x).dtype) for x in K.NO_SAMPLES[4:])
            return self._no_probes
        per = [K.NO_SAMPLES if g.sampler is None else g.sampler.window(t1) for g in self.groups]
        arrays = [x for p in per for x in p[:4]]
        if self._probes_of is None or any(a is not b for a, b in zip(arrays, self._probes_of)):
            self._probes_of = arrays
            self._probes = tuple(K.list_of(tuple(p[j] for p in per)) for j in range(4))
        return self._probes + (np.array([p[4] for p in per]), np.array([p[5] for p in per]),
                               np.array([p[6] for p in per], dtype=np.int64),
                               np.array([p[7] for p in per], dtype=np.int64))

    def exchange(self, t1):
        """The sources' spikes, and every shard's, as one list in the documented order."""
        n_src = 0
        for (i0, n, flat, ptr, pos) in self.spike_sources:
            n_src = K.emit_spike_sources(i0, n, t1, flat, ptr, pos, self.src_t, self.src_id, n_src)
        for (i0, n, mean, nxt, kk, keys) in self.poisson_sources:
            n_src = K.emit_poisson_sources(i0, n, t1, mean, nxt, kk, keys, self.src_t, self.src_id, n_src)
        if self.comm.size == 1:
            return K.exchange(self.spk_t2, self.spk_id2, self.n_spk2, self.src_t, self.src_id, n_src, self.rank)
        # every rank emits the sources alike; its shards' spikes go to every rank, and the
        # whole list is put in the documented order (time, then rank) on each
        t, gid = K.exchange(self.spk_t2, self.spk_id2, self.n_spk2, self.src_t, self.src_id, 0, self.rank)
        t, gid, self.flags_agreed = self.comm.allgather(t, gid, self.flags_asked)
        t = np.concatenate([t, K.contents(self.src_t)[:n_src]])
        gid = np.concatenate([gid, K.contents(self.src_id)[:n_src]])
        o = np.lexsort((self.rank[gid], t))
        return t[o], gid[o]

    def deliver(self, st, si):
        """Fan the window's spikes out: each shard queues the arrivals at its own neurons.

        With one launch for all populations (``advance``), the fan-out runs in the next
        window's launch, before its partition: one launch per window instead of two, and
        no wait for the slower shard in between. Every bucket has the room for it now;
        whatever reads the queue before that launch (``get_state``) fans out first."""
        self._fan_out_now()
        room, total = K.room_needed(self.outdeg2, si, self.b_count)
        if room > self.cap:
            self._alloc_buckets(max(2 * self.cap, room))
        if total == 0:
            return
        if self.stdp.active:   # (on one thread: a source's plastic synapses share its traces)
            self.stdp.fanout(self, st, si)   # (plain records: no segments with STDP, _setup_segments)
            return
        if self._together:
            self._fan = (st, si)
            self._fan_room = room
            return
        self._fan_out(st, si)

    def _fan_out(self, st, si):
        net = self.net
        self._write_segments()
        self._parallel(K.fanout_shards, K.fanout_shards_serial)(
            st, si, si.size, self.run_ptr2, self.run_a, self.run_b, net.target, net.weight, self.delay_index,
            self.delay_table, self.delay_values, self.use_table, self.W, self.B, self.buckets, self.b_count,
            self.blk_of, self.blk_cnt)
        self._linearize()

    def _fan_out_now(self):
        """The fan-out still waiting for the next launch (``deliver``), now."""
        if self._fan[1].size:
            st, si = self._fan
            self._fan = self._no_fan
            self._fan_out(st, si)

    def _parallel(self, parallel, serial):
        """The compilation of a shard loop to run: on numba's threads for several shards;
        for one, the serial one (no thread pool starts: the process may still fork)."""
        if self.S == 1:
            return serial
        numba.set_num_threads(self.S)
        return parallel

    def consume(self, b, t_cut):
        K.consume_shards(b, t_cut is not None, 0.0 if t_cut is None else t_cut, self.buckets, self.b_count,
                         self._seg)

    def record_post(self, st, si):
        if self.stdp.active:
            self.stdp.record_post(st, si)

    def stream_events(self):
        return self.comm.sum(self.ps_events)

    def neuron_updates(self):
        return self.comm.sum(self.updates)

    def _refuse_under_mpi(self):
        """What does not run on several ranks, refused before anything runs."""
        from eventsim.errors import BackendUnavailableError
        if self.stdp.active and self.net.part is None:
            # (a plastic synapse lives with its target: the STDP fan-out writes every
            # synapse of its table, so the table must hold this rank's targets only)
            raise BackendUnavailableError(
                f"mpi: STDP on {self.comm.size} ranks needs each rank's part of the network "
                "(build_network(scenario, part=(rank, ranks)); the command line builds parts)")

    # ---- state probes (eventsim.output.report.StateSampler) ----
    def probe_groups(self):
        return self.groups

    def sample_idle(self, sp, k_lim):
        g = sp.group
        lo, hi = self._local_range(g)
        g.kernels.sample_idle(self.t, lo, hi, g.i0, g.state, g.params, self.t_state, self.ref_end, self.i_stim,
                              sp.rec_col, sp.rec_next, sp.rec_var, sp.data, sp.start, sp.interval, k_lim, sp.row0)

    def _local_range(self, g):
        """The population's neurons this rank advances (local ids lo .. hi-1: its shards'
        blocks are one run; all of them in one process)."""
        return (int(self.blk_start[g.chunk_kb[0]]) - g.i0, int(self.blk_start[g.chunk_kb[-1]]) - g.i0)

    def gather_samples(self, sampler, frames):
        if self.comm.size == 1:
            return frames
        lo, hi = self._local_range(sampler.group)
        nv = len(sampler.variables)
        mine = np.repeat((sampler.node_ids >= lo) & (sampler.node_ids < hi), nv)
        parts = self.comm.gather((mine, frames[:, mine]))
        if parts is None:
            return None
        out = np.zeros_like(frames)
        for cols, values in parts:
            out[:, cols] = values
        return out
