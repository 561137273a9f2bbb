"""The window loop, written once for every backend, and what backends share.

Simulated time advances in windows [k W, (k + 1) W) of the network's minimum delay W:
nothing emitted in a window can arrive in it, so each window's inputs are known when it
starts. ``WindowLoop.step_window`` runs one window in seven steps:

1. gather: each neuron's events of the window (synaptic arrivals from the queue's
   bucket of the window, due crossing checks, current steps), sorted by time;
2. advance: every integrating neuron through the window (eventsim.engine.neuron_loop);
3. exchange: the window's spikes of every shard, spike_source and poisson_source
   population as one list, ordered by time, then population rank (``spike_rank``);
4. consume: the window's bucket emptied (kept after t1 when the window is cut short);
5. deliver: the spikes fanned out into the queue (each shard its own targets), with
   the STDP update of every plastic synapse they cross (a backend may carry the fan-out
   out at the start of the next window's step 1, before anything reads the queue);
6. plasticity: the spikes of plastic targets into their post-synaptic history;
7. bookkeeping: spike counts and the recent spikes (pending-event counts).

A backend (eventsim.engine.cpu, eventsim.engine.cuda) is a subclass that implements
steps 1-6 as the methods ``gather(b, t1)``, ``advance(t1)``, ``exchange(t1) -> (t, gid)``,
``consume(b, t_cut)``, ``deliver(t, gid)`` and ``record_post(t, gid)``, plus
``stream_events()`` (Poisson stimulus events delivered, per stream) and
``reset_state()``; it may also run several windows per call (``step_windows``: the cpu
backend runs the same steps for a batch of windows in compiled code). Everything else
here is shared: the queue layout, the Poisson
streams and current steps, the spike and Poisson sources, the counters.
"""
from __future__ import annotations

import numpy as np

from . import kernels as K
from .comm import LOCAL
from .rng import STREAM_POISSON_SOURCE, STREAM_POISSON_STIMULUS


def poisson_draws(seed, stream, idents, rate_per_ms, offset):
    """(mean interval, first event, key) arrays of the Poisson streams ``idents`` of one
    stream id: keyed by (seed, stream, ident), first event = offset + draw 0 (see
    kernels.first_draws). ``rate_per_ms`` and ``offset``: scalars or one per stream."""
    n = idents.shape[0]
    nxt, keys, mean = np.empty(n), np.zeros(n, dtype=np.uint64), np.empty(n)
    K.first_draws(seed, stream, idents, np.broadcast_to(np.asarray(rate_per_ms, dtype=np.float64), (n,)).copy(),
                  np.broadcast_to(np.asarray(offset, dtype=np.float64), (n,)).copy(), nxt, keys, mean)
    return mean, nxt, keys


def population_params(km, pop):
    """A population's parameter records (``km.pack_params``): one record when every neuron
    has the same parameters (the per-neuron loop then reads one record for all: less
    memory to go through in every window), else one per neuron."""
    p = km.pack_params(pop)
    if p.shape[0] > 1 and bool(np.all(p == p[0])):
        return p[:1].copy()
    return p


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


class WindowLoop:
    """The window loop and the state every backend shares (see the module docstring)."""

    name = None
    comm = LOCAL     # the ranks (eventsim.engine.comm): one process unless a backend says so
    # on several ranks, what one rank asks (stop, commit: comm.STOP, comm.COMMIT) travels
    # with the window's spikes: every rank learns it at the same exchange (flags_agreed)
    flags_asked = 0
    flags_agreed = 0

    def __init__(self, network, seed: int):
        self.net = net = network
        self.seed = int(seed)
        N = self.N = net.n_neurons
        self._setup_queue_layout()
        self.recent_t = np.zeros(0)
        self.recent_id = np.zeros(0, dtype=np.int64)
        self.t = 0.0
        self.spike_count = np.zeros(N, dtype=np.int64)
        self.spike_sources = []      # (i0, n, times, ptr, position) per spike_source population
        self.poisson_sources = []    # (i0, n, mean, next, k, key) per poisson_source population
        self.integrating = np.zeros(N, dtype=bool)
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
                self.integrating[pop.offset:pop.offset + pop.size] = True
        self.rank = spike_rank(net)
        self._setup_stimuli()

    # ---- the loop ----
    def step_window(self, t_until):
        """Simulate one window (or its part before t_until); returns the window's spikes
        (times ms, global ids) in the documented order."""
        W = self.W
        k = K.window_of(self.t, W)
        t1 = min((k + 1) * W, t_until)
        b = k % self.B
        self.gather(b, t1)
        self.advance(t1)
        st, si = self.exchange(t1)
        self.consume(b, t1 if t1 < (k + 1) * W else None)
        if st.size:
            self.deliver(st, si)
            self.record_post(st, si)
            K.count_spikes(self.spike_count, si)
            self._remember(st, si)
        self.t = t1
        return st, si

    def step_windows(self, t_until, stop_every=()):
        """Simulate one or more windows (up to t_until); returns their spikes like
        ``step_window``. A backend may run several windows at once, stopping after the
        first window whose end t has floor(t / every) > last for one of the pairs
        (every, last) of ``stop_every`` (the caller's commit and checkpoint times); this
        one runs one window."""
        return self.step_window(t_until)

    # ---- the backend's steps ----
    def gather(self, b, t1):
        """Step 1: each neuron's events of the window ending at t1 (bucket b)."""
        raise NotImplementedError

    def advance(self, t1):
        """Step 2: every integrating neuron through the window."""
        raise NotImplementedError

    def exchange(self, t1):
        """Step 3: the window's spikes, sources included, as one ordered list (t, gid)."""
        raise NotImplementedError

    def consume(self, b, t_cut):
        """Step 4: bucket b emptied; arrivals at or after t_cut kept (t_cut None: all go)."""
        raise NotImplementedError

    def deliver(self, st, si):
        """Step 5: the spikes fanned out into the queue (STDP pre-synaptic updates)."""
        raise NotImplementedError

    def record_post(self, st, si):
        """Step 6: the spikes of plastic targets into their post-synaptic history."""
        raise NotImplementedError

    def stream_events(self):
        """Poisson stimulus events delivered so far, per stream."""
        raise NotImplementedError

    def neuron_updates(self):
        """Per neuron: the times it received input (one per distinct arrival time)."""
        return self.updates

    def gather_samples(self, sampler, frames):
        """A state probe's complete frames (rows: sample times; columns: its neurons x
        variables) for its sink: on several ranks each has its own neurons' columns,
        assembled on rank 0 (None on the others)."""
        return frames

    @property
    def stim_events(self):
        """Poisson stimulus events delivered so far, per stimulus."""
        out = np.zeros(max(len(self.poisson_stimuli), 1), dtype=np.int64)
        np.add.at(out, self.ps_stim, self.stream_events())
        return out

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

    def reseed_streams(self, seed):
        """From now on, draw every Poisson stream (stimuli and poisson_source populations)
        from ``seed`` instead: each stream's next arrival becomes now + its first draw
        under the new key (a Poisson process forgets its past, so the continuation has
        the same law). For runs started from a checkpoint with another seed."""
        self.seed = int(seed)
        self.ps_k[:] = 0
        self._key_stimulus_streams(np.repeat(np.arange(self.N, dtype=np.int64), np.diff(self.ps_ptr)),
                                   lambda s: self.t)
        index = {p.offset: pi for pi, p in enumerate(self.net.populations)}
        for j, (i0, n, *_old) in enumerate(self.poisson_sources):
            pop = self.net.populations[index[i0]]
            mean, nxt, keys = poisson_draws(self.seed, STREAM_POISSON_SOURCE + index[i0], np.arange(n, dtype=np.int64),
                                            np.asarray(pop.params["rate"], dtype=np.float64) / 1000.0, self.t)
            self.poisson_sources[j] = (i0, n, mean, nxt, np.zeros(n, dtype=np.int64), keys)

    def _key_stimulus_streams(self, nn, offset):
        """Keys, mean intervals and first arrivals of every Poisson stimulus stream, and the
        arrival after each (the loop draws one ahead; ps_k must be 0 already)
        (``nn``: each stream's neuron; ``offset(stimulus)``: when its draws start)."""
        for j, s in enumerate(self.poisson_stimuli):
            sel = np.flatnonzero(self.ps_stim == j)
            self.ps_mean[sel], self.ps_next[sel, 0], self.ps_key[sel] = poisson_draws(
                self.seed, STREAM_POISSON_STIMULUS + j, nn[sel], s.rate / 1000.0, offset(s))
        K.draw_after(self.ps_next, self.ps_k, self.ps_key, self.ps_mean)

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
        self.ps_next = np.empty((nn.size, 2))
        self.ps_key = np.zeros(nn.size, dtype=np.uint64)
        self.ps_mean = np.empty(nn.size)
        self._key_stimulus_streams(nn, lambda s: float(s.delay))
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

    def _remember(self, st, si, t_window=None):
        """Spikes younger than the largest delay (their arrivals may still be queued): kept
        as they come, pruned when read or every ``_RECENT_CHUNKS`` windows with spikes
        (concatenating per window cost more than the rest of the bookkeeping). The prune
        bound is the one of the last window with spikes, so that what is kept is the same
        whenever it is pruned. (``t_window``: the start of the last of the windows st, si
        come from; default: the current window's.)"""
        self._recent.append((st, si))
        self._recent_floor = (self.t if t_window is None else t_window) - self.d_max - self.W
        if len(self._recent) >= self._RECENT_CHUNKS:
            self._prune_recent()

    _RECENT_CHUNKS = 256

    def _prune_recent(self):
        chunks = self._recent
        if not chunks:
            return
        t = np.concatenate([self._recent_t] + [c[0] for c in chunks])
        gid = np.concatenate([self._recent_id] + [c[1] for c in chunks])
        keep = t >= self._recent_floor
        self._recent_t, self._recent_id = t[keep], gid[keep]
        chunks.clear()

    @property
    def recent_t(self):
        """Times (ms) of the spikes whose arrivals may still be queued (with ``recent_id``)."""
        self._prune_recent()
        return self._recent_t

    @recent_t.setter
    def recent_t(self, t):
        self._recent = []
        self._recent_t = t

    @property
    def recent_id(self):
        """Global ids of the spikes of ``recent_t``."""
        self._prune_recent()
        return self._recent_id

    @recent_id.setter
    def recent_id(self, gid):
        self._recent = []
        self._recent_id = gid

    def _setup_queue_layout(self):
        """Window length W, ring size B, the largest delay, and the synapse table's delay
        storage as the kernels take it."""
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

    def emitted_synaptic_events(self):
        """Per projection: (spike, synapse) pairs emitted so far (sum over synapses of the
        source's spike count; counted at the end rather than per synapse in fan-out)."""
        out = np.zeros(self.n_proj, dtype=np.int64)
        K.count_emitted(self.net.indptr, self.net.proj, self.spike_count, out)
        return self._over_parts(out)

    def pending_synaptic_events(self):
        """Per projection: arrivals still in the queue (emitted, not yet delivered).

        Recounted from the spikes still in flight: a spike at t of source j has an
        undelivered arrival on synapse s when t + delay_s >= the current time.
        """
        out = np.zeros(self.n_proj, dtype=np.int64)
        if self.recent_t.size:
            K.count_pending(self.recent_t, self.recent_id, self.t, self.net.indptr, self.net.proj,
                            self.delay_index, self.delay_table, self.delay_values, self.use_table, out)
        return self._over_parts(out)

    def _over_parts(self, counts):
        """Counts over the synapse table, for the whole network: summed over the ranks
        when each holds its part of the table (build_network(part=...))."""
        return self.comm.sum(counts) if self.net.part is not None else counts
