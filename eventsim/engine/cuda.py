"""The cuda backend: the window loop (eventsim.engine.window_loop) with its steps on the GPU.

One shard: the device holds every neuron. Per window [t, t1): (1) gather the window's bucket, due crossing checks and current
steps per target neuron (count, prefix sum, scatter, per-neuron sort by the full
order key); (2) one thread per integrating neuron runs the exact update (Poisson
stimulus draws and crossing search included); (3) poisson_source neurons emit;
(4) the spikes are compacted and put in the documented order on the device (spike_source
trains, which live on the host, are added first), and the ordered list is copied to the
host (it is the run's output); (5) one thread per (spike, synapse) pair fans the device's
list out into the ring of arrival buckets.
The host keeps only bookkeeping: window bounds, spike counts, the recent spikes for
the pending-event count, capacities. Kernels: eventsim.engine.cuda_kernels.

STDP (the plasticity "event" rules) runs on the device too, with the CPU's equations
(eventsim.engine.plasticity, compiled for both): see ``_DeviceStdp``.

Set-up and the random streams are the window loop's (same keys, same draws), so cpu
and cuda simulate the same network with the same input trains; the per-neuron loop is
eventsim.engine.neuron_loop's, as on the cpu.
"""
from __future__ import annotations

import importlib
import math

import numpy as np
from numba import cuda

from eventsim.errors import CapacityError
from eventsim.models import neuron_model

from . import cuda_kernels as CK
from . import kernels as K
from . import plasticity as P
from .stdp import StdpState
from .window_loop import WindowLoop, population_params


def _grid(n, block):
    """(blocks, threads per block) covering n threads (no block wider than n: the
    simulator pays for every thread launched)."""
    block = max(1, min(block, n))
    return (n + block - 1) // block, block


class _DeviceGroup:
    """A population of integrating neurons: its records on the device and its kernels."""

    def __init__(self, pop, W):
        model = neuron_model(pop.model)
        kernel = model.kernel_for(pop.options)
        self.km = importlib.import_module(kernel)
        self.kernels = CK.model_kernels(kernel)
        self.pop = pop
        self.i0 = pop.offset
        self.n = pop.size
        self.params_h = population_params(self.km, pop)
        self.state = cuda.to_device(self.km.init_state(pop))
        self.params = cuda.to_device(self.params_h)
        self.sampler = None   # an eventsim.output.report.StateSampler while its state is recorded
        t_ref = float(self.params_h["t_ref"].min()) if pop.size else 1.0
        # spikes of one neuron are >= t_ref apart: at most floor(W / t_ref) + 1 in a window
        self.kslots = math.floor(W / t_ref) + 2 if t_ref > 0 else None


def _groups(keys, js):
    """Spike indices ``js`` (ascending: time order) grouped by keys[js], each group in
    time order: (the keys, ptr into members, members)."""
    members = js[np.argsort(keys[js], kind="stable")]
    uniq, counts = np.unique(keys[members], return_counts=True)
    ptr = np.zeros(uniq.size + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return uniq.astype(np.int64), ptr, members.astype(np.int64)


class _DeviceStdp:
    """The STDP state of the cuda engine: StdpState's arrays (same layout, same set-up)
    on the device, updated by eventsim.engine.cuda_kernels' STDP kernels.

    Per window: one thread per plastic synapse of a spiking source runs the source's
    spikes of the window in time order (the CPU's per-synapse updates, in the same
    order per synapse; a synapse's result depends on no other thread) and leaves the
    weight each spike carries in a per-(spike, synapse) array the fan-out reads. The
    post-spike history is updated on the device as well (one thread per history row
    that gets spikes; compaction, one thread per row, when a row would overflow, as on
    the CPU). The host keeps an exact copy of the row lengths (they change only by the
    counts it appends, and by compaction, after which it reads them back: 8 bytes per
    row, only then), groups the window's spikes with numpy, and copies the per-pair
    weights back only while a weight log is on. ``weights`` copies the state to the
    host and applies the CPU's flushed_weights. Update counts are kept per synapse and
    summed per projection when read.
    """

    def __init__(self, net, eng):
        self.host = h = StdpState(net)
        self.active = h.active
        self.rule = h.rule
        self.log_proj = h.log_proj          # Simulation.record_weight_events sets it
        if not self.active:
            return
        self.net = net
        idx = np.flatnonzero(h.slot >= 0)   # the plastic synapses, in CSR (= slot) order
        self.p_outdeg = np.bincount(net.sources()[idx], minlength=net.n_neurons)
        p_ptr = np.zeros(net.n_neurons + 1, dtype=np.int64)
        np.cumsum(self.p_outdeg, out=p_ptr[1:])
        self.slot_proj = net.proj[idx]
        self.d_p_ptr = cuda.to_device(p_ptr)
        self.d_p_syn = cuda.to_device(idx.astype(np.int64))
        self.d_proj = cuda.to_device(net.proj)
        self.d_slot = cuda.to_device(h.slot)
        for name in ("rule", "pp", "kp", "kpt", "last_pre", "h_row", "h_t", "h_km", "h_kmt", "h_n",
                     "base_t", "base_km", "tr_t", "tr_km", "tr_kmt", "inv_tm", "inv_tmt",
                     "in_ptr", "in_src", "in_d"):
            a = getattr(h, name)
            setattr(self, "d_" + name, cuda.to_device(a if a.size else np.zeros(1, a.dtype)))
        self.d_syn_upd = cuda.to_device(np.zeros(idx.size, dtype=np.int64))
        self.h_n = h.h_n.copy()               # exact host copy of the row lengths
        self.cap = h.cap
        self.d_pair_w = cuda.device_array(1024)
        self.log = []                         # (t, s, w) chunks of the weight log
        self.block = eng.block

    @property
    def n_updates(self):
        """Weight updates per projection (as the CPU's n_plastic_updates)."""
        out = np.zeros(self.rule.size, dtype=np.int64)
        if self.active:
            np.add.at(out, self.slot_proj, self.d_syn_upd.copy_to_host())
        return out

    def pair_weights(self, n_pairs):
        if n_pairs > self.d_pair_w.shape[0]:
            self.d_pair_w = cuda.device_array(max(n_pairs, 2 * self.d_pair_w.shape[0]))
        return self.d_pair_w

    def pre_spikes(self, eng, d_st, st, si, d_pair_off, pair_off, n_pairs):
        """The window's pre spikes (st, si sorted) on the plastic synapses: weights,
        traces, per-pair weights (pair numbers from pair_off), last spike times."""
        js = np.flatnonzero(self.p_outdeg[si] > 0)
        if not js.size:
            return
        src, ptr, members = _groups(si, js)
        grp_off = np.zeros(src.size + 1, dtype=np.int64)
        np.cumsum(self.p_outdeg[src], out=grp_off[1:])
        n_thr = int(grp_off[-1])
        d_src, d_ptr, d_mem = cuda.to_device(src), cuda.to_device(ptr), cuda.to_device(members)
        bs = self.block
        CK.stdp_pre_spikes[_grid(n_thr, bs)](
            n_thr, cuda.to_device(grp_off), src.size, d_src, d_ptr, d_mem, d_st, d_pair_off,
            eng.d_indptr, self.d_p_ptr, self.d_p_syn, eng.d_target, eng.d_weight, self.d_proj,
            eng.d_delay_index, eng.d_delay_table, eng.d_delay_values, eng.use_table,
            self.d_rule, self.d_pp, self.d_slot, self.d_kp, self.d_kpt, self.d_syn_upd, self.d_last_pre,
            self.d_h_row, self.d_h_t, self.d_h_km, self.d_h_kmt, self.d_h_n, self.d_base_t, self.d_base_km,
            self.d_pair_w)
        CK.stdp_last_pre[_grid(src.size, bs)](src.size, d_src, d_ptr, d_mem, d_st, self.d_last_pre)
        if self.log_proj[self.rule >= 0].any():
            self._log(st, si, pair_off, n_pairs)

    def _log(self, st, si, pair_off, n_pairs):
        """Append the logged transmissions in the CPU's order (spike, then synapse)."""
        net = self.net
        w = self.d_pair_w[:n_pairs].copy_to_host()
        spk = np.repeat(np.arange(si.size), np.diff(pair_off))
        s = net.indptr[si[spk]] + (np.arange(n_pairs) - pair_off[spk])
        sel = (self.host.slot[s] >= 0) & self.log_proj[net.proj[s]]
        if sel.any():
            self.log.append((st[spk[sel]], s[sel], w[sel]))

    def record_post(self, d_st, si):
        """The window's spikes of plastic targets into the history (after the fan-out)."""
        h = self.host
        rows = h.h_row[si]
        js = np.flatnonzero(rows >= 0)
        if not js.size:
            return
        grp_row, ptr, members = _groups(rows, js)
        add = np.diff(ptr)
        bs = self.block
        if int((self.h_n[grp_row] + add).max()) > self.cap:
            n_rows = self.h_n.size
            CK.stdp_compact[_grid(n_rows, bs)](n_rows, self.d_h_t, self.d_h_km, self.d_h_kmt, self.d_h_n,
                                               self.d_base_t, self.d_base_km, self.d_in_ptr, self.d_in_src,
                                               self.d_in_d, self.d_last_pre)
            self.h_n = self.d_h_n.copy_to_host()
            need = int((self.h_n[grp_row] + add).max())
            if need > self.cap:
                self._grow(max(2 * self.cap, need))
        CK.stdp_record_post[_grid(grp_row.size, bs)](
            grp_row.size, cuda.to_device(grp_row), cuda.to_device(ptr), cuda.to_device(members), d_st,
            self.d_h_t, self.d_h_km, self.d_h_kmt, self.d_h_n, self.d_tr_t, self.d_tr_km, self.d_tr_kmt,
            self.d_inv_tm, self.d_inv_tmt)
        self.h_n[grp_row] += add

    def _grow(self, cap):
        for name in ("d_h_t", "d_h_km", "d_h_kmt"):
            old = getattr(self, name).copy_to_host()
            new = np.zeros((old.shape[0], cap))
            new[:, :old.shape[1]] = old
            setattr(self, name, cuda.to_device(new))
        self.cap = cap

    def weights(self, eng, t_end):
        """All weights as event-by-event updates leave them at t_end (the CPU's
        flushed_weights on a host copy of the device state)."""
        net = self.net
        out = np.empty_like(net.weight)
        P.flushed_weights(net.indptr, net.target, eng.d_weight.copy_to_host(), net.proj,
                          eng.delay_index, eng.delay_table, eng.delay_values, eng.use_table,
                          self.host.rule, self.host.pp, self.host.slot, self.d_kp.copy_to_host(),
                          self.d_last_pre.copy_to_host(), self.host.h_row, self.d_h_t.copy_to_host(),
                          self.d_h_kmt.copy_to_host(), self.d_h_n.copy_to_host(), t_end, out)
        return out

    def weight_log(self):
        """Transmissions of the logged projections: (t, synapse index, weight), in order."""
        if not self.log:
            return np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0)
        return tuple(np.concatenate([c[i] for c in self.log]) for i in range(3))


class CudaEngine(WindowLoop):
    """Exact window-by-window simulation of a Network on a CUDA GPU.

    ``block_size``: threads per block of every launch (results do not depend on it).
    ``shuffle_seed``: for tests, permute each window's bucket before it is gathered
    (the arrival order the atomics happened to give must not matter).
    """

    name = "cuda"

    def __init__(self, network, seed: int, block_size: int = 128, shuffle_seed=None):
        self.block = int(block_size)
        self._shuffle = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
        super().__init__(network, seed)   # the same windows, streams, current steps and sources
        self._check_memory()
        self._alloc(self.N)
        self.stdp = _DeviceStdp(network, self)

    # ---- set-up ----
    def _device_bytes(self, N, cap, ev_cap, kslots):
        net = self.net
        per_neuron = 8 * 4 + 8 * 3 + 8 * kslots + 8 + 8 * 2 + 8 * 2 + 8 * 2
        records = 0
        for p in net.populations:
            if p.model not in ("spike_source", "poisson_source"):
                records += p.size * 8 * 48   # state + derived parameter records, generously
            else:
                records += p.size * 8 * 4
        n_plastic = sum(pr.n_synapses for pr in net.projections if pr.plasticity)
        stdp = 0
        if n_plastic:   # slot and proj per synapse; traces, counts, pair weights; history rows
            stdp = 10 * net.n_synapses + 48 * n_plastic + N * (3 * 8 * 16 + 8 * 12)
        return (net.synapse_bytes() + 8 * (N + 1) + 28 * self.B * cap + 28 * ev_cap
                + N * per_neuron + records + 40 * self.ps_stim.size + stdp)

    def _check_memory(self):
        """CapacityError (exit 2) before anything is allocated when the network cannot fit."""
        free, total = cuda.current_context().get_memory_info()
        avg = float(self.outdeg.mean()) if self.N else 0.0
        cap0 = max(1024, int(2 * avg * self.N * self.W / 1000.0 * 50))   # ~50 Hz of spikes
        need = self._device_bytes(self.N, cap0, max(1024, 2 * self.N), 4)
        if need > 0.9 * free:
            raise CapacityError(f"network: needs about {need / 2**30:.2f} GiB of GPU memory, "
                                f"the device has {free / 2**30:.2f} GiB free (of {total / 2**30:.2f})")
        self._cap0 = cap0

    def _alloc(self, N):
        net, W = self.net, self.W
        self._groups = [_DeviceGroup(pop, W) for pop in net.populations
                        if pop.model not in ("spike_source", "poisson_source")]
        # poisson_source populations emit on the device (the same streams as on the host)
        self.d_poisson_sources = [(i0, n, *(cuda.to_device(a) for a in arrays))
                                  for (i0, n, *arrays) in self.poisson_sources]
        integrating = self.integrating
        ks = [g.kslots for g in self._groups]
        self.snapshot = any(k is None for k in ks)   # t_ref = 0: no bound, retry on overflow
        self.kslots = max([k for k in ks if k is not None] + [4])
        # per-neuron engine state
        self.d_t_state = cuda.to_device(np.zeros(N))
        self.d_ref_end = cuda.to_device(np.full(N, -np.inf))
        self.d_i_stim = cuda.to_device(np.zeros(N))
        self.d_version = cuda.to_device(np.zeros(N, dtype=np.int64))
        self.d_updates = cuda.to_device(np.zeros(N, dtype=np.int64))
        # crossing checks: one per neuron (only the latest version is ever valid);
        # every integrating neuron is checked at t = 0 (its initial v may be above threshold)
        self.d_chk_t = cuda.to_device(np.where(integrating, 0.0, np.inf))
        self.d_chk_ver = cuda.to_device(np.zeros(N, dtype=np.int64))
        # synapse table
        self.d_indptr = cuda.to_device(net.indptr)
        self.d_target = cuda.to_device(net.target)
        self.d_weight = cuda.to_device(net.weight)
        self.d_no_pair_w = cuda.to_device(np.zeros(1))   # the fan-out's STDP arguments, unused without
        # the loop's state-sampling arguments: nothing recorded (see StateSampler)
        self.d_no_samples = tuple(cuda.to_device(a) if isinstance(a, np.ndarray) else a for a in K.NO_SAMPLES)
        self.d_delay_index = cuda.to_device(self.delay_index if self.delay_index.size else np.zeros(1, np.uint16))
        self.d_delay_table = cuda.to_device(self.delay_table if self.delay_table.size else np.zeros(1))
        self.d_delay_values = cuda.to_device(self.delay_values if self.delay_values.size else np.zeros(1))
        # Poisson stimulus streams (one owner neuron each): weight and event count per stream
        n_q = max(self.ps_stim.size, 1)
        self.d_ps_ptr = cuda.to_device(self.ps_ptr)
        self.d_ps_next = cuda.to_device(self.ps_next if self.ps_stim.size else np.zeros((1, 2)))
        self.d_ps_k = cuda.to_device(np.zeros(n_q, dtype=np.int64))
        self.d_ps_key = cuda.to_device(self.ps_key if self.ps_stim.size else np.zeros(1, np.uint64))
        self.d_ps_mean = cuda.to_device(self.ps_mean if self.ps_stim.size else np.ones(1))
        self.d_ps_w = cuda.to_device(self.ps_w if self.ps_stim.size else np.zeros(1))
        self.d_ps_events = cuda.to_device(np.zeros(n_q, dtype=np.int64))
        # current steps
        self.d_cur_t = cuda.to_device(self.cur_t if self.cur_t.size else np.zeros(1))
        self.d_cur_id = cuda.to_device(self.cur_id if self.cur_id.size else np.zeros(1, np.int64))
        self.d_cur_di = cuda.to_device(self.cur_di if self.cur_di.size else np.zeros(1))
        # queue: B buckets of arrival records (time, weight, target, sequence number)
        self.b_count = np.zeros(self.B, dtype=np.int64)
        self.d_b_count = cuda.to_device(self.b_count)
        self.n_pairs_total = 0
        self._alloc_buckets(self._cap0)
        # a window's events, sorted per neuron
        self.d_counts = cuda.to_device(np.zeros(N, dtype=np.int64))   # sort_events leaves it zeroed
        self.d_ev_ptr = cuda.device_array(N + 1, dtype=np.int64)
        self.d_fill = cuda.device_array(max(N, 1), dtype=np.int64)
        self.ev_cap = 0
        self._alloc_events(max(1024, 2 * N))
        # prefix sums: chunks of about sqrt(N)
        self.chunk = max(32, math.ceil(math.sqrt(max(N, 1))))
        self.nchunks = max(1, (N + self.chunk - 1) // self.chunk)
        self.d_sums = cuda.device_array(self.nchunks + 1, dtype=np.int64)
        # spike slots
        self._alloc_slots(self.kslots)
        self.d_spk_n = cuda.to_device(np.zeros(N, dtype=np.int64))
        self.d_flags = cuda.to_device(np.zeros(2, dtype=np.int64))
        self.d_spk_off = cuda.device_array(N + 1, dtype=np.int64)
        self.d_fill2 = cuda.device_array(max(N, 1), dtype=np.int64)
        # the window's spikes on the device: as collected, and in the documented order
        self.d_rank = cuda.to_device(self.rank if N else np.zeros(1, np.int64))
        self.d_win_t, self.d_st = cuda.device_array(1024), cuda.device_array(1024)
        self.d_win_id, self.d_si = (cuda.device_array(1024, dtype=np.int64) for _ in range(2))
        self.host_spk_t = K.buffer(np.zeros(64))
        self.host_spk_id = K.buffer(np.zeros(64, dtype=np.int64))

    def _alloc_buckets(self, cap):
        """(Re)allocate the buckets with ``cap`` records each, keeping their contents."""
        try:
            new = [cuda.device_array((self.B, cap), dtype=dt) for dt in (np.float64, np.float64, np.int32, np.int64)]
        except Exception as exc:   # out of device memory while growing
            raise CapacityError(f"network: the arrival queue needs {self.B} x {cap} records, more than "
                                f"the GPU has free ({exc.__class__.__name__})") from exc
        old = getattr(self, "d_bucket", None)
        if old is not None:
            for o, nw in zip(old, new):
                h = nw.copy_to_host()
                h[:, :o.shape[1]] = o.copy_to_host()
                nw.copy_to_device(h)
        self.d_bucket = new
        self.cap = cap

    def _alloc_events(self, cap):
        self.d_ev = [cuda.device_array(cap, dtype=dt) for dt in (np.float64, np.float64, np.int32, np.int64)]
        self.ev_cap = cap

    def _alloc_slots(self, kslots):
        self.kslots = kslots
        self.d_spk_t = cuda.device_array((max(self.N, 1), kslots), dtype=np.float64)

    # ---- read by Simulation ----
    @property
    def updates(self):
        return self.d_updates.copy_to_host()

    def stream_events(self):
        return self.d_ps_events.copy_to_host()[:self.ps_stim.size]

    # ---- state probes (eventsim.output.report.StateSampler) ----
    def probe_groups(self):
        return self._groups

    def _samples(self, sp, t1):
        """The loop's sampling arguments on the device for a window ending at t1: rec_next
        and the frame buffer live there between collects (mirrors of the sampler's)."""
        rec_col, rec_next, rec_var, data, t0, dt, k_lim, row0 = sp.window(t1)
        m = getattr(sp, "device", None)
        if m is None:
            m = sp.device = {"rec_col": cuda.to_device(rec_col), "rec_next": cuda.to_device(rec_next),
                             "rec_var": cuda.to_device(rec_var), "data": cuda.to_device(data)}
        elif m["data"].shape != data.shape:   # the sampler's buffer grew: keep what is written
            old = m["data"].copy_to_host()
            data[:old.shape[0]] = old
            m["data"] = cuda.to_device(data)
        return m["rec_col"], m["rec_next"], m["rec_var"], m["data"], t0, dt, k_lim, row0

    def sample_idle(self, sp, k_lim):
        g = sp.group
        _rc, _rn, _rv, d_data, *_ = self._samples(sp, self.t)
        if g.n:
            m = sp.device
            g.kernels.sample[_grid(g.n, self.block)](
                self.t, g.n, g.i0, g.state, g.params, self.d_t_state, self.d_ref_end, self.d_i_stim,
                m["rec_col"], m["rec_next"], m["rec_var"], d_data, sp.start, sp.interval, k_lim, sp.row0)
        sp.data[:] = d_data.copy_to_host()
        sp.rec_next[:] = sp.device["rec_next"].copy_to_host()

    # ---- between runs (trials) ----
    def reset_state(self):
        """As CpuEngine.reset_state: neurons to their initial state now, queued arrivals dropped.

        Weights that changed in ``network.weight`` since the run began (the trial rules
        change them between presentations, then reset) are copied to the device here;
        STDP synapses keep their device weights (the device holds their truth)."""
        self._sync_weights()
        self.discarded = getattr(self, "discarded", np.zeros(self.n_proj, dtype=np.int64))
        self.discarded += self.pending_synaptic_events()
        self.recent_t = np.zeros(0)
        self.recent_id = np.zeros(0, dtype=np.int64)
        self.b_count[:] = 0
        self.d_b_count.copy_to_device(self.b_count)
        for g in self._groups:
            g.state = cuda.to_device(g.km.init_state(g.pop))
        N = self.N
        ig = self.integrating
        self.d_t_state.copy_to_device(np.full(N, self.t))
        self.d_ref_end.copy_to_device(np.full(N, -np.inf))
        version = self.d_version.copy_to_host() + 1
        self.d_version.copy_to_device(version)
        self.d_chk_t.copy_to_device(np.where(ig, self.t, np.inf))
        self.d_chk_ver.copy_to_device(version)

    def _sync_weights(self):
        w = self.net.weight
        if self.stdp.active:
            w = self.d_weight.copy_to_host()
            static = self.stdp.host.slot < 0
            w[static] = self.net.weight[static]
        self.d_weight.copy_to_device(w)

    # ---- the window loop ----
    def _scan(self, d_counts, n, d_out, d_fill):
        """Exclusive prefix sum of d_counts[:n] into d_out[:n+1] (and d_fill[:n])."""
        bs = self.block
        chunk = self.chunk
        nchunks = max(1, (n + chunk - 1) // chunk)
        CK.scan_chunks[_grid(nchunks, bs)](d_counts, n, chunk, self.d_sums, nchunks)
        CK.scan_sums[1, 1](self.d_sums, nchunks)
        CK.scan_write[_grid(nchunks, bs)](d_counts, n, chunk, self.d_sums, nchunks, d_out, d_fill)

    def _fill(self, d_arr, n, value):
        if n:
            CK.fill_i64[_grid(n, self.block)](d_arr, n, value)

    def _gather(self, b, nb, t1):
        """The window's events sorted per neuron into d_ev (d_ev_ptr)."""
        N, bs = self.N, self.block
        c0 = self.cur_pos
        c1 = int(np.searchsorted(self.cur_t, t1, side="left")) if self.cur_t.size else 0
        c1 = max(c1, c0)
        need = nb + N + (c1 - c0)
        if need > self.ev_cap:
            self._alloc_events(max(need, 2 * self.ev_cap))
        bt, bw, btgt, bseq = (a[b] for a in self.d_bucket)
        ev_t, ev_w, ev_kind, ev_seq = self.d_ev
        if nb:
            CK.count_arrivals[_grid(nb, bs)](btgt, nb, self.d_counts)
        if c1 > c0:
            CK.count_currents[_grid(c1 - c0, bs)](self.d_cur_id, c0, c1, self.d_counts)
        CK.count_checks[_grid(N, bs)](N, t1, self.d_chk_t, self.d_chk_ver, self.d_version, self.d_counts)
        self._scan(self.d_counts, N, self.d_ev_ptr, self.d_fill)
        if nb:
            CK.scatter_arrivals[_grid(nb, bs)](bt, bw, btgt, bseq, nb, self.d_fill, ev_t, ev_w, ev_kind, ev_seq)
        CK.scatter_checks[_grid(N, bs)](N, t1, self.d_chk_t, self.d_chk_ver, self.d_version, self.d_fill,
                                        ev_t, ev_w, ev_kind, ev_seq)
        if c1 > c0:
            CK.scatter_currents[_grid(c1 - c0, bs)](self.d_cur_t, self.d_cur_id, self.d_cur_di, c0, c1,
                                                    self.d_fill, ev_t, ev_w, ev_kind, ev_seq)
        CK.sort_events[_grid(N, bs)](N, self.d_ev_ptr, ev_t, ev_w, ev_kind, ev_seq, self.d_counts)
        self.cur_pos = c1

    def _mutable(self):
        """The device arrays the update kernels change (saved when a retry may be needed)."""
        arrs = [self.d_t_state, self.d_ref_end, self.d_i_stim, self.d_version, self.d_updates,
                self.d_ps_next, self.d_ps_k, self.d_ps_events, self.d_chk_t, self.d_chk_ver]
        return arrs + [g.state for g in self._groups]

    def _update(self, t1):
        bs = self.block
        ev_t, ev_w, ev_kind, _ = self.d_ev
        saved = [a.copy_to_host() for a in self._mutable()] if self.snapshot else None
        while True:
            for g in self._groups:
                if g.n == 0:
                    continue
                g.kernels.update[_grid(g.n, bs)](
                    g.i0, g.n, t1, g.state, g.params,
                    self.d_t_state, self.d_ref_end, self.d_i_stim, self.d_version, self.d_updates,
                    self.d_ev_ptr, ev_t, ev_w, ev_kind,
                    self.d_ps_ptr, self.d_ps_next, self.d_ps_k, self.d_ps_key, self.d_ps_mean,
                    self.d_ps_w, self.d_ps_events,
                    self.d_spk_t, self.d_spk_n, self.d_chk_t, self.d_chk_ver, self.d_flags,
                    *(self.d_no_samples if g.sampler is None else self._samples(g.sampler, t1)))
            if saved is None or not self.d_flags.copy_to_host()[0]:
                return
            # a neuron without refractory period spiked more often than its slots hold:
            # the window again, from the saved state, with twice the slots
            for a, h in zip(self._mutable(), saved):
                a.copy_to_device(h)
            self._alloc_slots(2 * self.kslots)
            self.d_spk_n.copy_to_device(np.zeros(self.N, dtype=np.int64))
            self.d_flags.copy_to_device(np.zeros(2, dtype=np.int64))

    def _collect(self, n_win):
        """Compact every neuron's slots into the window's spike list on the device after
        its first n_win entries (empties the slots); returns the new length."""
        N = self.N
        self._scan(self.d_spk_n, N, self.d_spk_off, self.d_fill2)
        total = int(self.d_spk_off[N:N + 1].copy_to_host()[0])
        if total:
            self._win_room(n_win + total)
            CK.compact_spikes[_grid(N, self.block)](N, self.d_spk_t, self.d_spk_n, self.d_spk_off, n_win,
                                                    self.d_win_t, self.d_win_id)
        # (compact_spikes zeroes the counts; with no spikes they are zero already)
        return n_win + total

    def _win_room(self, n):
        """Room for n spikes in the window's lists (unordered and ordered)."""
        if n > self.d_win_t.shape[0]:
            old = (self.d_win_t, self.d_win_id)
            cap = max(n, 2 * self.d_win_t.shape[0])
            self.d_win_t, self.d_st = cuda.device_array(cap), cuda.device_array(cap)
            self.d_win_id, self.d_si = (cuda.device_array(cap, dtype=np.int64) for _ in range(2))
            self.d_win_t[:old[0].shape[0]].copy_to_device(old[0])
            self.d_win_id[:old[1].shape[0]].copy_to_device(old[1])

    # ---- the window loop's steps (see eventsim.engine.window_loop) ----
    def gather(self, b, t1):
        nb = int(self.b_count[b])
        if self._shuffle is not None and nb > 1:
            perm = self._shuffle.permutation(nb)
            for a in self.d_bucket:
                a[b, :nb].copy_to_device(np.ascontiguousarray(a[b, :nb].copy_to_host()[perm]))
        self._gather(b, nb, t1)

    def advance(self, t1):
        self._update(t1)

    def exchange(self, t1):
        """The window's spikes are compacted and put in order on the device; the host
        gets the ordered list (the run's output) and adds nothing but spike_source trains,
        which live on the host."""
        flags = self._emit_poisson_sources(t1)
        if flags[0]:
            raise RuntimeError("cuda engine: a neuron's spike slots overflowed (internal error)")
        n_win = self._collect(0)
        while flags[1]:   # a poisson source had more spikes than slots: continue where it stopped
            self.d_flags.copy_to_device(np.zeros(2, dtype=np.int64))
            flags = self._emit_poisson_sources(t1)
            n_win = self._collect(n_win)
        n_host = 0
        for (i0, n, flat, ptr, pos) in self.spike_sources:
            n_host = K.emit_spike_sources(i0, n, t1, flat, ptr, pos, self.host_spk_t, self.host_spk_id, n_host)
        if n_host:
            self._win_room(n_win + n_host)
            self.d_win_t[n_win:n_win + n_host].copy_to_device(K.contents(self.host_spk_t)[:n_host].copy())
            self.d_win_id[n_win:n_win + n_host].copy_to_device(K.contents(self.host_spk_id)[:n_host].copy())
            n_win += n_host
        if not n_win:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        CK.order_spikes[_grid(n_win, self.block)](n_win, self.d_win_t, self.d_win_id, self.d_rank, self.d_st, self.d_si)
        return self.d_st[:n_win].copy_to_host(), self.d_si[:n_win].copy_to_host()

    def _emit_poisson_sources(self, t1):
        """poisson_source spikes before t1 into the neurons' slots; returns the flags
        (flags[1]: a source had more spikes than slots, launch again after collecting)."""
        for (i0, n, mean, nxt, kk, keys) in self.d_poisson_sources:
            if n:
                CK.emit_poisson_sources[_grid(n, self.block)](i0, n, t1, mean, nxt, kk, keys,
                                                              self.d_spk_t, self.d_spk_n, self.d_flags)
        return self.d_flags.copy_to_host()

    def consume(self, b, t_cut):
        nb = int(self.b_count[b])
        if t_cut is not None and nb:
            self._retain(b, nb, t_cut)
        else:
            self.b_count[b] = 0
        self.d_b_count.copy_to_device(self.b_count)

    def deliver(self, st, si):
        self._fanout(st, si, self.d_st[:st.size], self.d_si[:si.size])

    def record_post(self, st, si):
        if self.stdp.active:
            self.stdp.record_post(self.d_st[:st.size], si)

    def _retain(self, b, nb, t1):
        h = [a[b, :nb].copy_to_host() for a in self.d_bucket]
        keep = h[0] >= t1
        m = int(keep.sum())
        for a, x in zip(self.d_bucket, h):
            if m:
                a[b, :m].copy_to_device(np.ascontiguousarray(x[keep]))
        self.b_count[b] = m

    def _fanout(self, st, si, d_st, d_si):
        deg = self.outdeg[si]
        n_pairs = int(deg.sum())
        if not n_pairs:
            return
        if int(self.b_count.max()) + n_pairs > self.cap:
            self._alloc_buckets(max(2 * self.cap, int(self.b_count.max()) + n_pairs))
        pair_off = np.zeros(si.size + 1, dtype=np.int64)
        np.cumsum(deg, out=pair_off[1:])
        d_pair_off = cuda.to_device(pair_off)
        stdp = self.stdp
        if stdp.active:   # plastic synapses first: the records carry the updated weights
            pair_w, slot = stdp.pair_weights(n_pairs), stdp.d_slot
            stdp.pre_spikes(self, d_st, st, si, d_pair_off, pair_off, n_pairs)
        else:
            pair_w, slot = self.d_no_pair_w, self.d_no_pair_w
        bt, bw, btgt, bseq = self.d_bucket
        CK.fanout[_grid(n_pairs, self.block)](
            n_pairs, d_st, d_si, d_pair_off, si.size,
            self.d_indptr, self.d_target, self.d_weight, slot, pair_w, stdp.active,
            self.d_delay_index, self.d_delay_table, self.d_delay_values, self.use_table, self.W, self.B,
            self.n_pairs_total, self.cap, bt, bw, btgt, bseq, self.d_b_count)
        self.n_pairs_total += n_pairs
        self.b_count = self.d_b_count.copy_to_host()
