"""The CPU backend: allocates the engine's arrays and drives the numba kernels window by window."""
from __future__ import annotations

import importlib

import numpy as np
import numba
from numba import typed

from eventsim.models import neuron_model

from . import kernels as K
from .codegen import kernel_functions
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
        kf = kernel_functions(model.kernel_module)
        self.update = kf.update_population
        self.update_parallel = kf.update_parallel
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
        N = self.N = net.n_neurons
        self._setup_queue_layout()
        self.recent_t = np.zeros(0)
        self.recent_id = np.zeros(0, dtype=np.int64)
        self.t = 0.0
        self.t_stop = np.inf   # checks beyond it are not scheduled (kept infinite: runs continue)
        # per-neuron engine state
        self.t_state = np.zeros(N)
        self.ref_end = np.full(N, -np.inf)
        self.i_stim = np.zeros(N)
        self.version = np.zeros(N, dtype=np.int64)
        self.updates = np.zeros(N, dtype=np.int64)
        self.spike_count = np.zeros(N, dtype=np.int64)
        # queue: ring of B buckets
        self.cap = 1024
        self._alloc_buckets(self.cap)
        self.b_count = np.zeros(self.B, dtype=np.int64)
        # events of the current window, partitioned by block of neurons (blocks never
        # straddle populations), and the scratch one block is sorted into
        self.part = np.zeros(1024, dtype=K.PART_DTYPE)
        self.ev = np.zeros(1024, dtype=K.EVENT_DTYPE)
        self.ev_ptr = np.zeros(BLOCK + 1, dtype=np.int64)
        self.ev_fill = np.zeros(BLOCK, dtype=np.int64)
        # crossing checks: every neuron is checked at t = 0 (initial v may be above threshold)
        # (growable buffers are one-element typed lists of arrays, see kernels.push_spike)
        self.far_t = typed.List([np.zeros(N + 64)])
        self.far_id = typed.List([np.zeros(N + 64, dtype=np.int64)])
        self.far_ver = typed.List([np.zeros(N + 64, dtype=np.int64)])
        self.n_far = 0
        # spike buffer
        self.spk_t = typed.List([np.zeros(1024)])
        self.spk_id = typed.List([np.zeros(1024, dtype=np.int64)])
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
        self._setup_blocks()
        idx = np.flatnonzero(integrating)
        self.far_id[0][:idx.size] = idx
        self.n_far = idx.size
        self._setup_stimuli()
        self._setup_threads()
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
        if idx.size > self.far_t[0].shape[0]:
            self.far_t[0] = np.zeros(idx.size + 64)
            self.far_id[0] = np.zeros(idx.size + 64, dtype=np.int64)
            self.far_ver[0] = np.zeros(idx.size + 64, dtype=np.int64)
        self.far_t[0][:idx.size] = self.t
        self.far_id[0][:idx.size] = idx
        self.far_ver[0][:idx.size] = self.version[idx]
        self.n_far = idx.size

    # ---- checkpoints (eventsim/engine/checkpoint.py) ----
    # per-neuron and stream arrays that the window loop changes; everything else is
    # rebuilt from the network and seed, or is scratch refilled every window
    _STATE_ARRAYS = ("t_state", "ref_end", "i_stim", "version", "updates", "spike_count", "b_count",
                     "recent_t", "recent_id", "ps_k", "ps_next", "ps_key", "ps_mean", "stim_events")

    def get_state(self):
        """{name: array or scalar}: everything a later window depends on, in a form that
        does not depend on thread count or buffer capacities."""
        d = {name: getattr(self, name).copy() for name in self._STATE_ARRAYS}
        d["t"] = self.t
        d["cur_pos"] = self.cur_pos
        n = self.n_far
        d["far_t"], d["far_id"], d["far_ver"] = (x[0][:n].copy() for x in (self.far_t, self.far_id, self.far_ver))
        # each bucket's arrivals in queue order (the order fixes equal-time summation)
        d["queue"] = np.concatenate([self.buckets[b, :c] for b, c in enumerate(self.b_count)]) \
            if self.b_count.sum() else np.zeros(0, dtype=K.ARRIVAL_DTYPE)
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
        for name in self._STATE_ARRAYS:
            cur = getattr(self, name)
            new = np.asarray(d[name])
            if new.shape != cur.shape and name not in ("recent_t", "recent_id"):
                raise ValueError(f"checkpoint: engine array {name} has shape {new.shape}, expected {cur.shape}")
            setattr(self, name, new.astype(cur.dtype, copy=True))
        self.t = float(d["t"])
        self.cur_pos = int(d["cur_pos"])
        n = int(d["far_t"].shape[0])
        K.refill((self.far_t, self.far_id, self.far_ver), (d["far_t"], d["far_id"], d["far_ver"]),
                 max(n + 64, self.far_t[0].shape[0]))
        self.n_far = n
        need = int(self.b_count.max()) if self.b_count.size else 0
        if need > self.cap:
            self.buckets = None
            self._alloc_buckets(need)
        q = np.asarray(d["queue"], dtype=K.ARRIVAL_DTYPE)
        start = 0
        for b, c in enumerate(self.b_count):
            self.buckets[b, :c] = q[start:start + c]
            start += c
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
        self.stim_w = np.array([s.weight for s in pois] or [0.0])
        self.stim_events = np.zeros(max(len(pois), 1), dtype=np.int64)
        nn = [np.asarray(s.ids, dtype=np.int64) for s in pois]
        ss = [np.full(len(s.ids), j, dtype=np.int64) for j, s in enumerate(pois)]
        nn = np.concatenate(nn) if nn else np.zeros(0, dtype=np.int64)
        ss = np.concatenate(ss) if ss else np.zeros(0, dtype=np.int64)
        order = np.lexsort((ss, nn))   # per neuron, streams in stimulus order
        nn, ss = nn[order], ss[order]
        self.ps_ptr = np.zeros(N + 1, dtype=np.int64)
        np.cumsum(np.bincount(nn, minlength=N), out=self.ps_ptr[1:])
        self.ps_stim = ss
        self.ps_k = np.zeros(nn.size, dtype=np.int64)
        self.ps_next = np.empty(nn.size)
        self.ps_key = np.zeros(nn.size, dtype=np.uint64)
        self.ps_mean = np.empty(nn.size)
        CpuEngine._key_stimulus_streams(self, nn, lambda s: float(s.delay))   # (cuda borrows this set-up)
        # scratch for a neuron's Poisson arrivals of one window (refilled when exhausted)
        self.pbuf_t = np.zeros(256)
        self.pbuf_w = np.zeros(256)
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
        buckets = np.zeros((self.B, cap), dtype=K.ARRIVAL_DTYPE)
        if old is not None:
            buckets[:, :old.shape[1]] = old
        self.buckets = buckets
        self.cap = cap

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

    def _setup_threads(self):
        """Per-thread chunks of each population's blocks, and per-thread scratch and buffers."""
        T = self.threads
        for g in self.groups:
            nb = g.kb1 - g.kb0
            g.chunk_kb = (g.kb0 + (np.arange(min(T, nb) + 1) * nb) // max(min(T, nb), 1)).astype(np.int64)
        if T == 1:
            return
        self.ev2 = np.zeros((T, 1024), dtype=K.EVENT_DTYPE)
        self.ev_ptr2 = np.zeros((T, BLOCK + 1), dtype=np.int64)
        self.ev_fill2 = np.zeros((T, BLOCK), dtype=np.int64)
        self.pbuf_t2 = np.zeros((T, self.pbuf_t.shape[0]))
        self.pbuf_w2 = np.zeros((T, self.pbuf_t.shape[0]))
        self.stim_events2 = np.zeros((T, self.stim_events.shape[0]), dtype=np.int64)

        def lists(dtype):
            return typed.List([typed.List([np.zeros(256, dtype=dtype)]) for _ in range(T)])
        self.spk_t2, self.spk_id2 = lists(np.float64), lists(np.int64)
        self.chk_t2, self.chk_id2, self.chk_ver2 = lists(np.float64), lists(np.int64), lists(np.int64)
        self.n_spk2 = np.zeros(T, dtype=np.int64)
        self.n_chk2 = np.zeros(T, dtype=np.int64)

    def _setup_blocks(self):
        """Blocks of at most BLOCK neurons, aligned to population boundaries."""
        starts = []
        for pop in self.net.populations:
            starts.extend(range(pop.offset, pop.offset + pop.size, BLOCK))
        self.blk_start = np.array(starts + [self.N], dtype=np.int64)
        self.n_blk = len(starts)
        self.blk_of = np.repeat(np.arange(self.n_blk, dtype=np.int32), np.diff(self.blk_start))
        self.blk_ptr = np.zeros(self.n_blk + 1, dtype=np.int64)
        for g in self.groups:
            g.kb0 = int(np.searchsorted(self.blk_start, g.i0))
            g.kb1 = int(np.searchsorted(self.blk_start, g.i0 + g.n))

    # ---- the window loop ----
    def step_window(self, t_until):
        """Simulate one window (or its part before t_until); returns sorted emitted spikes (t, gid)."""
        W = self.W
        k = K.window_of(self.t, W)
        t1 = min((k + 1) * W, t_until)
        b = k % self.B
        nb = int(self.b_count[b])
        need = nb + self.n_far + (self.cur_t.shape[0] - self.cur_pos)
        if need > self.part.shape[0]:
            self.part = np.zeros(max(need, 2 * self.part.shape[0]), dtype=K.PART_DTYPE)
        self.n_far, self.cur_pos, largest = K.partition_window(
            t1, self.buckets[b], nb,
            self.far_t[0], self.far_id[0], self.far_ver[0], self.n_far, self.version,
            self.cur_t, self.cur_id, self.cur_di, self.cur_pos,
            self.blk_of, self.n_blk, self.blk_ptr, self.part)
        if largest > self.ev.shape[0]:
            self.ev = np.zeros(max(largest, 2 * self.ev.shape[0]), dtype=K.EVENT_DTYPE)
        n_spk = 0
        spk_t, spk_id = self.spk_t, self.spk_id
        far_t, far_id, far_ver, n_far = self.far_t, self.far_id, self.far_ver, self.n_far
        t_stop = self.t_stop
        for g in self.groups:
            samples = K.NO_SAMPLES if g.sampler is None else g.sampler.window(t1)
            if len(g.chunk_kb) > 2:
                if largest > self.ev2.shape[1]:
                    self.ev2 = np.zeros((self.threads, self.ev.shape[0]), dtype=K.EVENT_DTYPE)
                numba.set_num_threads(self.threads)
                g.update_parallel(
                    g.chunk_kb, g.i0, g.n, t1, t_stop, g.state, g.params,
                    self.t_state, self.ref_end, self.i_stim, self.version, self.updates,
                    self.blk_ptr, self.blk_start, self.part, self.ev_ptr2, self.ev_fill2, self.ev2,
                    self.ps_ptr, self.ps_stim, self.ps_next, self.ps_k, self.ps_key, self.ps_mean,
                    self.stim_w, self.stim_events2, self.pbuf_t2, self.pbuf_w2,
                    self.spk_t2, self.spk_id2, self.n_spk2, self.chk_t2, self.chk_id2, self.chk_ver2,
                    self.n_chk2, *samples)
                n_spk = K.append_chunks(self.spk_t2, self.spk_id2, self.n_spk2, spk_t, spk_id, n_spk)
                n_far = K.append_check_chunks(self.chk_t2, self.chk_id2, self.chk_ver2, self.n_chk2,
                                              far_t, far_id, far_ver, n_far)
                continue
            n_spk, n_far = g.update(
                g.i0, g.n, t1, t_stop, g.state, g.params,
                self.t_state, self.ref_end, self.i_stim, self.version, self.updates,
                self.blk_ptr, self.blk_start, g.kb0, g.kb1, self.part, self.ev_ptr, self.ev_fill, self.ev,
                self.ps_ptr, self.ps_stim, self.ps_next, self.ps_k, self.ps_key, self.ps_mean,
                self.stim_w, self.stim_events, self.pbuf_t, self.pbuf_w,
                spk_t, spk_id, n_spk, far_t, far_id, far_ver, n_far, *samples)
        self.n_far = n_far
        if self.threads > 1:
            self.stim_events += self.stim_events2.sum(axis=0)
            self.stim_events2[:] = 0
        for (i0, n, flat, ptr, pos) in self.spike_sources:
            n_spk = K.emit_spike_sources(i0, n, t1, flat, ptr, pos, spk_t, spk_id, n_spk)
        for (i0, n, mean, nxt, kk, keys) in self.poisson_sources:
            n_spk = K.emit_poisson_sources(i0, n, t1, mean, nxt, kk, keys, spk_t, spk_id, n_spk)
        # the window's bucket is consumed, except arrivals after a cut-short window's end
        if t1 < (k + 1) * W and nb:
            self.b_count[b] = K.retain_after(t1, self.buckets[b], nb)
        else:
            self.b_count[b] = 0
        st, si = K.sort_spikes(spk_t[0], spk_id[0], n_spk)
        if n_spk:
            need = int(self.outdeg[si].sum())
            if need:
                if int(self.b_count.max()) + need > self.cap:
                    self._alloc_buckets(max(2 * self.cap, int(self.b_count.max()) + need))
                if self.stdp.active:
                    self.stdp.fanout(self, st, si)
                else:
                    K.fanout(st, si, n_spk, self.net.indptr, self.net.target, self.net.weight,
                             self.delay_index, self.delay_table, self.delay_values, self.use_table, W,
                             self.B, self.buckets, self.b_count)
            if self.stdp.active:
                self.stdp.record_post(st, si)
            np.add.at(self.spike_count, si, 1)
            self._remember(st, si)
        self.t = t1
        return st, si

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
