"""The CPU backend: allocates the engine's arrays and drives the numba kernels window by window."""
from __future__ import annotations

import importlib

import numpy as np
import numba
from numba import typed

from eventsim.models import neuron_model

from . import kernels as K
from . import cpu_kernels
from .stdp import StdpState
from .rng import STREAM_POISSON_SOURCE, STREAM_POISSON_STIMULUS

# neurons per block: a block's sorted events are advanced while still in cache
# (Brunel: 128 neurons x ~100 events x 24 bytes, well inside a 1 MiB L2)
BLOCK = 128


def poisson_draws(seed, stream, idents, rate_per_ms, offset):
    """(mean interval, first event, key) arrays of the Poisson streams ``idents`` of one
    stream id: keyed by (seed, stream, ident), first event = offset + draw 0 (see
    kernels.first_draws). ``rate_per_ms`` and ``offset``: scalars or one per stream."""
    n = idents.shape[0]
    nxt, keys, mean = np.empty(n), np.zeros(n, dtype=np.uint64), np.empty(n)
    K.first_draws(seed, stream, idents, np.broadcast_to(np.asarray(rate_per_ms, dtype=np.float64), (n,)).copy(),
                  np.broadcast_to(np.asarray(offset, dtype=np.float64), (n,)).copy(), nxt, keys, mean)
    return mean, nxt, keys


def spike_rank(net):
    """Each neuron's place in the documented order of a window's spikes at equal times:
    integrating populations first, then spike_source, then poisson_source populations,
    each in population order, neurons by id."""
    kind = {"spike_source": 1, "poisson_source": 2}
    rank = np.zeros(net.n_neurons, dtype=np.int64)
    r = 0
    for _k, _pi, pop in sorted((kind.get(p.model, 0), pi, p) for pi, p in enumerate(net.populations)):
        rank[pop.offset:pop.offset + pop.size] = np.arange(r, r + pop.size)
        r += pop.size
    return rank


class _NeuronGroup:
    """A population of integrating neurons with its model's kernel and tables."""

    def __init__(self, pop):
        model = neuron_model(pop.model)
        km = importlib.import_module(model.kernel_module)
        self.pop = pop
        self.i0 = pop.offset
        self.n = pop.size
        self.params = km.pack_params(pop)   # structured arrays: one record per neuron
        self.state = km.init_state(pop)
        self.kernel_module = km
        self.kernels = cpu_kernels.compiled(model.kernel_module)
        self.sampler = None   # an eventsim.output.report.StateSampler while its state is recorded


class CpuEngine:
    """Exact window-by-window simulation of a Network on the CPU.

    ``threads`` (default 1; at most numba's thread count) advance blocks of neurons in
    parallel; the output is the same for any thread count. More than one thread starts
    numba's OpenMP pool, after which the process must not fork (GNU OpenMP aborts the
    child): use the "spawn" start method of multiprocessing then.
    """

    name = "cpu"

    def __init__(self, network, seed: int, threads=None):
        self.net = net = network
        self.seed = int(seed)
        self.threads = max(1, min(int(1 if threads is None else threads), numba.config.NUMBA_NUM_THREADS))
        self.S = self.threads   # shards: one per thread
        N = self.N = net.n_neurons
        self._setup_queue_layout()
        self.recent_t = np.zeros(0)
        self.recent_id = np.zeros(0, dtype=np.int64)
        self.t = 0.0
        # per-neuron engine state
        self.t_state = np.zeros(N)
        self.ref_end = np.full(N, -np.inf)
        self.i_stim = np.zeros(N)
        self.version = np.zeros(N, dtype=np.int64)
        self.updates = np.zeros(N, dtype=np.int64)
        self.spike_count = np.zeros(N, dtype=np.int64)
        self.groups = []
        self.spike_sources = []
        self.poisson_sources = []
        integrating = np.zeros(N, dtype=bool)
        for pi, pop in enumerate(net.populations):
            if pop.model == "spike_source":
                times = [np.asarray(t, dtype=np.float64) for t in (pop.spike_times or [[]] * pop.size)]
                ptr = np.zeros(pop.size + 1, dtype=np.int64)
                ptr[1:] = np.cumsum([len(t) for t in times])
                flat = np.concatenate(times) if times else np.zeros(0)
                self.spike_sources.append((pop.offset, pop.size, flat, ptr, ptr[:-1].copy()))
            elif pop.model == "poisson_source":
                mean, nxt, keys = poisson_draws(self.seed, STREAM_POISSON_SOURCE + pi,
                                                np.arange(pop.size, dtype=np.int64),
                                                np.asarray(pop.params["rate"], dtype=np.float64) / 1000.0, 0.0)
                self.poisson_sources.append((pop.offset, pop.size, mean, nxt,
                                             np.zeros(pop.size, dtype=np.int64), keys))
            else:
                self.groups.append(_NeuronGroup(pop))
                integrating[pop.offset:pop.offset + pop.size] = True
        self.rank = spike_rank(net)
        self._setup_shards()
        # queue: per shard, a ring of B buckets of the arrivals at its neurons
        self.cap = 1024
        self._alloc_buckets(self.cap)
        self.b_count = np.zeros((self.S, self.B), dtype=np.int64)
        # crossing checks, per shard: every neuron is checked at t = 0 (its initial v may
        # be above threshold); growable buffers are one-element typed lists of arrays
        idx = np.flatnonzero(integrating)
        self.far_t2, self.far_id2, self.far_ver2 = self._lists(np.float64), self._lists(np.int64), \
            self._lists(np.int64)
        self.n_far = np.zeros(self.S, dtype=np.int64)
        self._set_checks(np.zeros(idx.size), idx, np.zeros(idx.size, dtype=np.int64))
        # per shard: the window's spikes, its events partitioned by block (blocks never
        # straddle populations), and the scratch one block is sorted into
        self.spk_t2, self.spk_id2 = self._lists(np.float64), self._lists(np.int64)
        self.n_spk2 = np.zeros(self.S, dtype=np.int64)
        self.part2 = np.zeros((self.S, 1024), dtype=K.PART_DTYPE)
        self.blk_ptr2 = np.zeros((self.S, self.n_blk + 1), dtype=np.int64)
        self.largest = np.zeros(self.S, dtype=np.int64)
        self._alloc_scratch(1024)
        self.ev_ptr2 = np.zeros((self.S, BLOCK + 1), dtype=np.int64)
        self.ev_fill2 = np.zeros((self.S, BLOCK), dtype=np.int64)
        # the spike and Poisson sources' spikes of a window
        self.src_t = typed.List([np.zeros(256)])
        self.src_id = typed.List([np.zeros(256, dtype=np.int64)])
        self._setup_stimuli()
        self.pbuf_t2 = np.zeros((self.S, 256))
        self.pbuf_w2 = np.zeros((self.S, 256))
        self.stdp = StdpState(net)

    # ---- between runs (trials) ----
    def set_spike_times(self, offset, times):
        """Replace the future spike times of the spike_source population starting at global
        id ``offset``: ``times`` holds one sorted float64 array per neuron (ms, >= now)."""
        for j, (i0, n, _flat, _ptr, _pos) in enumerate(self.spike_sources):
            if i0 == offset:
                times = [np.asarray(t, dtype=np.float64) for t in times]
                ptr = np.zeros(n + 1, dtype=np.int64)
                ptr[1:] = np.cumsum([len(t) for t in times])
                flat = np.concatenate(times) if times else np.zeros(0)
                self.spike_sources[j] = (i0, n, flat, ptr, ptr[:-1].copy())
                return
        raise KeyError(offset)

    def reset_state(self):
        """Every integrating neuron back to its initial state at the current time; the
        queued arrivals are dropped (counted in ``discarded``). Poisson streams go on."""
        self.discarded = getattr(self, "discarded", np.zeros(self.n_proj, dtype=np.int64))
        self.discarded += self.pending_synaptic_events()
        self.recent_t = np.zeros(0)
        self.recent_id = np.zeros(0, dtype=np.int64)
        self.b_count[:] = 0
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
    # rebuilt from the network and seed, or is scratch refilled every window
    _STATE_ARRAYS = ("t_state", "ref_end", "i_stim", "version", "updates", "spike_count",
                     "recent_t", "recent_id", "ps_k", "ps_next", "ps_key", "ps_mean", "ps_events")

    def get_state(self):
        """{name: array or scalar}: everything a later window depends on, in a form that
        does not depend on thread count or buffer capacities."""
        d = {name: getattr(self, name).copy() for name in self._STATE_ARRAYS}
        d["t"] = self.t
        d["cur_pos"] = self.cur_pos
        # the checks by neuron, each bucket's arrivals by target neuron and, per target,
        # in queue order (the order fixes equal-time summation): the same for any shards
        ct, ci, cv = (np.concatenate([x[s][0][:self.n_far[s]] for s in range(self.S)])
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
        self.t = float(d["t"])
        self.cur_pos = int(d["cur_pos"])
        self._set_checks(np.asarray(d["far_t"]), np.asarray(d["far_id"]), np.asarray(d["far_ver"]))
        q = np.asarray(d["queue"], dtype=K.ARRIVAL_DTYPE)
        bounds = np.concatenate([[0], np.cumsum(np.asarray(d["b_count"], dtype=np.int64))])
        per = [[q[bounds[b]:bounds[b + 1]][self.shard_of[q[bounds[b]:bounds[b + 1]]["tgt"]] == s]
                for b in range(self.B)] for s in range(self.S)]
        need = max([x.size for row in per for x in row] + [1])
        if need > self.cap:
            self.buckets = None
            self._alloc_buckets(need)
        for s in range(self.S):
            for b, x in enumerate(per[s]):
                self.buckets[s, b, :x.size] = x
                self.b_count[s, b] = x.size
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

    def reseed_streams(self, seed):
        """From now on, draw every Poisson stream (stimuli and poisson_source populations)
        from ``seed`` instead: each stream's next arrival becomes now + its first draw
        under the new key (a Poisson process forgets its past, so the continuation has
        the same law). For runs started from a checkpoint with another seed."""
        self.seed = int(seed)
        self._key_stimulus_streams(np.repeat(np.arange(self.N, dtype=np.int64), np.diff(self.ps_ptr)),
                                   lambda s: self.t)
        self.ps_k[:] = 0
        index = {p.offset: pi for pi, p in enumerate(self.net.populations)}
        for j, (i0, n, *_old) in enumerate(self.poisson_sources):
            pop = self.net.populations[index[i0]]
            mean, nxt, keys = poisson_draws(self.seed, STREAM_POISSON_SOURCE + index[i0], np.arange(n, dtype=np.int64),
                                            np.asarray(pop.params["rate"], dtype=np.float64) / 1000.0, self.t)
            self.poisson_sources[j] = (i0, n, mean, nxt, np.zeros(n, dtype=np.int64), keys)

    def _key_stimulus_streams(self, nn, offset):
        """Keys, mean intervals and first arrivals of every Poisson stimulus stream
        (``nn``: each stream's neuron; ``offset(stimulus)``: when its draws start)."""
        for j, s in enumerate(self.poisson_stimuli):
            sel = np.flatnonzero(self.ps_stim == j)
            self.ps_mean[sel], self.ps_next[sel], self.ps_key[sel] = poisson_draws(
                self.seed, STREAM_POISSON_STIMULUS + j, nn[sel], s.rate / 1000.0, offset(s))

    # ---- set-up ----
    def _setup_stimuli(self):
        """Poisson stimuli as per-(neuron, stimulus) streams; current steps as a sorted list."""
        net, N = self.net, self.N
        pois = [s for s in net.stimuli if s.kind == "poisson"]
        self.poisson_stimuli = pois
        nn = [np.asarray(s.ids, dtype=np.int64) for s in pois]
        ss = [np.full(len(s.ids), j, dtype=np.int64) for j, s in enumerate(pois)]
        nn = np.concatenate(nn) if nn else np.zeros(0, dtype=np.int64)
        ss = np.concatenate(ss) if ss else np.zeros(0, dtype=np.int64)
        order = np.lexsort((ss, nn))   # per neuron, streams in stimulus order
        nn, ss = nn[order], ss[order]
        self.ps_ptr = np.zeros(N + 1, dtype=np.int64)
        np.cumsum(np.bincount(nn, minlength=N), out=self.ps_ptr[1:])
        self.ps_stim = ss
        self.ps_w = np.array([s.weight for s in pois] or [0.0])[ss]
        self.ps_events = np.zeros(nn.size, dtype=np.int64)   # delivered, per stream
        self.ps_k = np.zeros(nn.size, dtype=np.int64)
        self.ps_next = np.empty(nn.size)
        self.ps_key = np.zeros(nn.size, dtype=np.uint64)
        self.ps_mean = np.empty(nn.size)
        CpuEngine._key_stimulus_streams(self, nn, lambda s: float(s.delay))   # (cuda borrows this set-up)
        # current steps: amplitude a_k holds from t_k on -> increments at t_k
        ct, ci, cd = [], [], []
        for s in net.stimuli:
            if s.kind != "current":
                continue
            amps = np.asarray(s.amplitudes, dtype=np.float64)
            inc = np.diff(np.concatenate([[0.0], amps]))
            for tk, dk in zip(np.asarray(s.times, dtype=np.float64), inc):
                ct.append(np.full(len(s.ids), tk))
                ci.append(np.asarray(s.ids, dtype=np.int64))
                cd.append(np.full(len(s.ids), dk))
        if ct:
            ct, ci, cd = np.concatenate(ct), np.concatenate(ci), np.concatenate(cd)
            order = np.lexsort((ci, ct))
            self.cur_t, self.cur_id, self.cur_di = ct[order], ci[order], cd[order]
        else:
            self.cur_t, self.cur_id, self.cur_di = np.zeros(0), np.zeros(0, np.int64), np.zeros(0)
        self.cur_pos = 0

    def _remember(self, st, si):
        """Spikes younger than the largest delay (their arrivals may still be queued)."""
        keep = self.recent_t >= self.t - self.d_max - self.W
        self.recent_t = np.concatenate([self.recent_t[keep], st])
        self.recent_id = np.concatenate([self.recent_id[keep], si])

    def _alloc_buckets(self, cap):
        old = getattr(self, "buckets", None)
        buckets = np.zeros((self.S, self.B, cap), dtype=K.ARRIVAL_DTYPE)
        if old is not None:
            buckets[:, :, :old.shape[2]] = old
        self.buckets = buckets
        self.cap = cap

    def _alloc_scratch(self, cap):
        """Per shard: room for one block's sorted events."""
        self.ev_t2, self.ev_w2 = np.zeros((self.S, cap)), np.zeros((self.S, cap))
        self.ev_kind2 = np.zeros((self.S, cap), dtype=np.int32)

    def _lists(self, dtype):
        """Per shard, a growable buffer (a one-element typed list holding an array)."""
        return typed.List([typed.List([np.zeros(256, dtype=dtype)]) for _ in range(self.S)])

    def _set_checks(self, t, ids, ver):
        """The pending crossing checks: (time, neuron, version), each to its neuron's shard."""
        for s in range(self.S):
            sel = self.shard_of[ids] == s
            n = int(sel.sum())
            K.refill((self.far_t2[s], self.far_id2[s], self.far_ver2[s]), (t[sel], ids[sel], ver[sel]),
                     max(n + 64, self.far_t2[s][0].shape[0]))
            self.n_far[s] = n

    @property
    def stim_events(self):
        """Poisson stimulus events delivered so far, per stimulus."""
        out = np.zeros(max(len(self.poisson_stimuli), 1), dtype=np.int64)
        np.add.at(out, self.ps_stim, self.ps_events)
        return out

    def _setup_queue_layout(self):
        """Window length W, ring size B, the largest delay, and the synapse table's delay
        storage as the kernels take it (shared with the cuda engine)."""
        net = self.net
        d_min, d_max = net.min_delay(), net.max_delay()
        # window length: the minimum delay (nothing emitted in a window lands in it);
        # with no synapses any length is exact, 1 ms keeps output flushing regular
        self.W = float(d_min) if np.isfinite(d_min) else 1.0
        self.B = int(np.floor(d_max / self.W)) + 2
        self.d_max = float(d_max)
        self.n_proj = max(len(net.projections), 1)
        self.use_table = net.delay_table is not None
        self.delay_index = net.delay_index if self.use_table else np.zeros(0, np.uint16)
        self.delay_table = net.delay_table if self.use_table else np.zeros(0)
        self.delay_values = net.delay_values if not self.use_table else np.zeros(0)
        self.outdeg = np.diff(net.indptr)

    def _setup_shards(self):
        """Blocks of at most BLOCK neurons, aligned to population boundaries; shard s owns
        the s-th of S equal runs of each population's blocks (every population is spread
        over every shard, so each shard has a share of every population's work).
        The blocks of spike and Poisson sources (which receive nothing) are shard 0's."""
        S = self.S
        starts = []
        for pop in self.net.populations:
            starts.extend(range(pop.offset, pop.offset + pop.size, BLOCK))
        self.blk_start = np.array(starts + [self.N], dtype=np.int64)
        self.n_blk = len(starts)
        self.blk_of = np.repeat(np.arange(self.n_blk, dtype=np.int32), np.diff(self.blk_start))
        self.blk_shard = np.zeros(self.n_blk, dtype=np.int32)
        for g in self.groups:
            g.kb0 = int(np.searchsorted(self.blk_start, g.i0))
            g.kb1 = int(np.searchsorted(self.blk_start, g.i0 + g.n))
            nb = g.kb1 - g.kb0
            g.chunk_kb = (g.kb0 + (np.arange(S + 1) * nb) // S).astype(np.int64)
            for sh in range(S):
                self.blk_shard[g.chunk_kb[sh]:g.chunk_kb[sh + 1]] = sh
        self.shard_of = self.blk_shard[self.blk_of] if self.N else np.zeros(0, dtype=np.int32)
        # out-degree per (source, shard): the room a spike needs in each shard's buckets
        net = self.net
        self.outdeg2 = np.zeros((self.N, S), dtype=np.int64)
        if net.n_synapses:
            np.add.at(self.outdeg2, (net.sources(), self.shard_of[net.target]), 1)

    # ---- the window loop ----
    def step_window(self, t_until):
        """Simulate one window (or its part before t_until); returns sorted emitted spikes (t, gid)."""
        W = self.W
        k = K.window_of(self.t, W)
        t1 = min((k + 1) * W, t_until)
        b = k % self.B
        self._gather(b, t1)
        self._advance(t1)
        st, si = self._exchange(t1)
        # the window's bucket is consumed, except arrivals after a cut-short window's end
        for s in range(self.S):
            nb = int(self.b_count[s, b])
            self.b_count[s, b] = K.retain_after(t1, self.buckets[s, b], nb) if t1 < (k + 1) * W and nb else 0
        if st.size:
            self._deliver(st, si)
            if self.stdp.active:
                self.stdp.record_post(st, si)
            np.add.at(self.spike_count, si, 1)
            self._remember(st, si)
        self.t = t1
        return st, si

    def _gather(self, b, t1):
        """Each shard's events of the window (its bucket b, due checks, current steps),
        partitioned by block into part2[s]."""
        c_end = max(self.cur_pos, int(np.searchsorted(self.cur_t, t1, side="left")))
        need = int((self.b_count[:, b] + self.n_far).max()) + (c_end - self.cur_pos)
        if need > self.part2.shape[1]:
            self.part2 = np.zeros((self.S, max(need, 2 * self.part2.shape[1])), dtype=K.PART_DTYPE)
        args = (self.version, self.cur_t, self.cur_id, self.cur_di, self.cur_pos, c_end, self.blk_of,
                self.blk_shard, self.n_blk)
        if self.S == 1:
            self.n_far[0], self.largest[0] = K.partition_shard(
                0, t1, self.buckets[0, b], self.b_count[0, b], self.far_t2[0][0], self.far_id2[0][0],
                self.far_ver2[0][0], self.n_far[0], *args, self.blk_ptr2[0], self.part2[0])
        else:
            numba.set_num_threads(self.S)
            K.partition_shards(t1, b, self.buckets, self.b_count, self.far_t2, self.far_id2, self.far_ver2,
                               self.n_far, *args, self.blk_ptr2, self.part2, self.largest)
        self.cur_pos = c_end
        largest = int(self.largest.max())
        if largest > self.ev_t2.shape[1]:
            self._alloc_scratch(max(largest, 2 * self.ev_t2.shape[1]))

    def _advance(self, t1):
        """Every shard's neurons through the window, population by population; spikes and
        new checks go to the shard's buffers."""
        self.n_spk2[:] = 0
        for g in self.groups:
            samples = K.NO_SAMPLES if g.sampler is None else g.sampler.window(t1)
            common = (g.i0, t1, g.state, g.params, self.t_state, self.ref_end, self.i_stim, self.version,
                      self.updates)
            streams = (self.ps_ptr, self.ps_next, self.ps_k, self.ps_key, self.ps_mean, self.ps_w, self.ps_events)
            if self.S == 1:
                self.n_spk2[0], self.n_far[0] = g.kernels.update_blocks(
                    g.kb0, g.kb1, *common, self.blk_ptr2[0], self.blk_start, self.part2[0],
                    self.ev_ptr2[0], self.ev_fill2[0], self.ev_t2[0], self.ev_w2[0], self.ev_kind2[0],
                    *streams, self.pbuf_t2[0], self.pbuf_w2[0],
                    self.spk_t2[0], self.spk_id2[0], self.n_spk2[0],
                    self.far_t2[0], self.far_id2[0], self.far_ver2[0], self.n_far[0], *samples)
            else:
                numba.set_num_threads(self.S)
                g.kernels.update_parallel(
                    g.chunk_kb, *common, self.blk_ptr2, self.blk_start, self.part2,
                    self.ev_ptr2, self.ev_fill2, self.ev_t2, self.ev_w2, self.ev_kind2,
                    *streams, self.pbuf_t2, self.pbuf_w2, self.spk_t2, self.spk_id2, self.n_spk2,
                    self.far_t2, self.far_id2, self.far_ver2, self.n_far, *samples)

    def _exchange(self, t1):
        """The sources' spikes, and every shard's, as one list in the documented order."""
        n_src = 0
        for (i0, n, flat, ptr, pos) in self.spike_sources:
            n_src = K.emit_spike_sources(i0, n, t1, flat, ptr, pos, self.src_t, self.src_id, n_src)
        for (i0, n, mean, nxt, kk, keys) in self.poisson_sources:
            n_src = K.emit_poisson_sources(i0, n, t1, mean, nxt, kk, keys, self.src_t, self.src_id, n_src)
        return K.exchange(self.spk_t2, self.spk_id2, self.n_spk2, self.src_t, self.src_id, n_src, self.rank)

    def _deliver(self, st, si):
        """Fan the window's spikes out: each shard queues the arrivals at its own neurons."""
        need = self.outdeg2[si].sum(axis=0)
        if int((self.b_count.max(axis=1) + need).max()) > self.cap:
            self._alloc_buckets(max(2 * self.cap, int((self.b_count.max(axis=1) + need).max())))
        if not need.any():
            return
        net = self.net
        args = (net.indptr, net.target, net.weight, self.delay_index, self.delay_table, self.delay_values,
                self.use_table, self.W, self.B, self.shard_of)
        if self.stdp.active:
            self.stdp.fanout(self, st, si)
        elif self.S == 1:
            K.fanout_shard(0, st, si, si.size, *args, self.buckets[0], self.b_count[0])
        else:
            numba.set_num_threads(self.S)
            K.fanout_shards(st, si, si.size, *args, self.buckets, self.b_count)

    def emitted_synaptic_events(self):
        """Per projection: (spike, synapse) pairs emitted so far (sum over synapses of the
        source's spike count; counted at the end rather than per synapse in fan-out)."""
        out = np.zeros(self.n_proj, dtype=np.int64)
        K.count_emitted(self.net.indptr, self.net.proj, self.spike_count, out)
        return out

    def pending_synaptic_events(self):
        """Per projection: arrivals still in the queue (emitted, not yet delivered).

        Recounted from the spikes still in flight: a spike at t of source j has an
        undelivered arrival on synapse s when t + delay_s >= the current time.
        """
        out = np.zeros(self.n_proj, dtype=np.int64)
        if self.recent_t.size:
            K.count_pending(self.recent_t, self.recent_id, self.t, self.net.indptr, self.net.proj,
                            self.delay_index, self.delay_table, self.delay_values, self.use_table, out)
        return out
