"""The CPU engine's STDP state: allocates the per-synapse traces and the post-spike
history, and calls the kernels of :mod:`eventsim.engine.plasticity`."""
from __future__ import annotations

import numpy as np

from eventsim.errors import InputError
from eventsim.models.plasticity import plasticity_rules

from . import plasticity as P
from .kernels import buffer, contents, refill


class StdpState:
    """Plastic synapses of the "event" rules (the STDP family) of one network.

    ``active`` is False when the network has none; the engine then uses its static
    fan-out. Trial rules (emotion) change weights between runs and need nothing here.
    """

    def __init__(self, net, log_projections=()):
        self.net = net
        rules = plasticity_rules()
        n_proj = max(len(net.projections), 1)
        self.rule = np.full(n_proj, -1, dtype=np.int64)
        self.pp = np.zeros((n_proj, P.N_PARAMS))
        self.pp[:, P.P_TAU_PLUS] = self.pp[:, P.P_TAU_MINUS] = 1.0
        self.pp[:, P.P_TAU_PLUS_TRIPLET] = self.pp[:, P.P_TAU_MINUS_TRIPLET] = 1.0
        self.pp[:, P.P_W_MAX] = 1.0
        self.n_updates = np.zeros(n_proj, dtype=np.int64)
        self.log_proj = np.zeros(n_proj, dtype=np.bool_)
        for pr in net.projections:
            if not pr.plasticity:
                continue
            spec = net.plasticity.get(pr.plasticity, {})
            rule = rules.get(spec.get("rule"))
            if rule is None or rule.kind != "event":
                continue
            self.rule[pr.index] = rule.extra["code"]
            for key, p in rule.params.items():
                self.pp[pr.index, P.PARAM_COLUMNS[key]] = float(spec.get(key, p.default))
        for name in log_projections:
            self.log_proj[net.projection(name).index] = True
        self.active = bool((self.rule >= 0).any())
        if not self.active:
            return
        plastic = self.rule[net.proj] >= 0
        self.slot = np.full(net.n_synapses, -1, dtype=np.int64)
        idx = np.flatnonzero(plastic)
        self.slot[idx] = np.arange(idx.size)
        self.kp = np.zeros(idx.size)
        self.kpt = np.zeros(idx.size)
        # NEST's convention: before its first spike a source's "last spike" is t = 0
        self.last_pre = np.zeros(net.n_neurons)
        # history rows: one per neuron that is the target of a plastic synapse
        tgts = net.target[idx]
        rows = np.unique(tgts)
        self.h_row = np.full(net.n_neurons, -1, dtype=np.int64)
        self.h_row[rows] = np.arange(rows.size)
        self._check_post_taus(rows, tgts, idx)
        # incoming plastic synapses per row (for compaction): source and delay
        src = net.sources()[idx]
        d = net.delays()[idx]
        order = np.argsort(self.h_row[tgts], kind="stable")
        self.in_ptr = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.h_row[tgts], minlength=rows.size), out=self.in_ptr[1:])
        self.in_src = src[order].astype(np.int64)
        self.in_d = d[order]
        self.cap = 16
        n_rows = rows.size
        self.h_t = np.zeros((n_rows, self.cap))
        self.h_km = np.zeros((n_rows, self.cap))
        self.h_kmt = np.zeros((n_rows, self.cap))
        self.h_n = np.zeros(n_rows, dtype=np.int64)
        self.base_t = np.full(n_rows, -np.inf)
        self.base_km = np.zeros(n_rows)
        self.tr_t = np.zeros(n_rows)
        self.tr_km = np.zeros(n_rows)
        self.tr_kmt = np.zeros(n_rows)
        self.log_t = buffer(np.zeros(64))
        self.log_s = buffer(np.zeros(64, dtype=np.int64))
        self.log_w = buffer(np.zeros(64))
        self.n_log = 0

    def _check_post_taus(self, rows, tgts, idx):
        """The post traces belong to the target neuron (as in NEST): every plastic
        projection onto a neuron must agree on tau_minus (and tau_minus_triplet)."""
        net = self.net
        n_rows = rows.size
        self.inv_tm = np.zeros(n_rows)
        self.inv_tmt = np.zeros(n_rows)
        seen = {}
        for pr in net.projections:
            if self.rule[pr.index] < 0:
                continue
            taus = (self.pp[pr.index, P.P_TAU_MINUS], self.pp[pr.index, P.P_TAU_MINUS_TRIPLET])
            other = seen.setdefault(pr.target, (pr.name, taus))
            if other[1] != taus:
                raise InputError(f"plasticity: projections {other[0]!r} and {pr.name!r} onto population "
                                 f"{pr.target!r} use different tau_minus/tau_minus_triplet; the post "
                                 f"traces belong to the target neurons, so they must agree")
            sel = self.h_row[tgts[net.proj[idx] == pr.index]]
            self.inv_tm[sel] = 1.0 / taus[0]
            self.inv_tmt[sel] = 1.0 / taus[1]

    # ---- per window ----
    def fanout(self, eng, st, si):
        net = self.net
        self.n_log = P.fanout_plastic(
            st, si, st.shape[0], net.indptr, net.target, net.weight, net.proj,
            eng.delay_index, eng.delay_table, eng.delay_values, eng.use_table, eng.W, eng.B,
            eng.shard_of, eng.buckets, eng.b_count,
            self.rule, self.pp, self.slot, self.kp, self.kpt, self.last_pre,
            self.h_row, self.h_t, self.h_km, self.h_kmt, self.h_n, self.base_t, self.base_km,
            self.n_updates, self.log_proj, self.log_t, self.log_s, self.log_w, self.n_log)

    def record_post(self, st, si):
        """Add the window's spikes of plastic targets to the history (after the fan-out:
        a spike of this window is seen by synapses only in a later one)."""
        rows = self.h_row[si]
        rows = rows[rows >= 0]
        if rows.size == 0:
            return
        need = self.h_n + np.bincount(rows, minlength=self.h_n.size)
        if need.max() > self.cap:
            P.compact(self.h_t, self.h_km, self.h_kmt, self.h_n, self.base_t, self.base_km,
                      self.in_ptr, self.in_src, self.in_d, self.last_pre)
            need = self.h_n + np.bincount(rows, minlength=self.h_n.size)
            if need.max() > self.cap:
                self._grow(max(2 * self.cap, int(need.max())))
        P.record_post_spikes(st, si, st.shape[0], self.h_row, self.h_t, self.h_km, self.h_kmt, self.h_n,
                             self.tr_t, self.tr_km, self.tr_kmt, self.inv_tm, self.inv_tmt)

    def _grow(self, cap):
        for name in ("h_t", "h_km", "h_kmt"):
            old = getattr(self, name)
            new = np.zeros((old.shape[0], cap))
            new[:, :old.shape[1]] = old
            setattr(self, name, new)
        self.cap = cap

    # ---- checkpoints ----
    _STATE_ARRAYS = ("kp", "kpt", "last_pre", "h_t", "h_km", "h_kmt", "h_n", "base_t", "base_km",
                     "tr_t", "tr_km", "tr_kmt")

    def get_state(self):
        """{name: array}: traces, post histories (with their capacity, which decides when
        they are compacted), update counts and the weight log."""
        d = {"n_updates": self.n_updates.copy(), "log_proj": self.log_proj.copy()}
        if not self.active:
            return d
        d.update({name: getattr(self, name).copy() for name in self._STATE_ARRAYS})
        n = self.n_log
        d["log_t"], d["log_s"], d["log_w"] = (x[0][:n].copy() for x in (self.log_t, self.log_s, self.log_w))
        return d

    def set_state(self, d):
        self.n_updates = np.asarray(d["n_updates"], dtype=np.int64).copy()
        self.log_proj = np.asarray(d["log_proj"], dtype=np.bool_).copy()
        if not self.active:
            return
        for name in self._STATE_ARRAYS:
            cur = getattr(self, name)
            new = np.asarray(d[name]).astype(cur.dtype, copy=True)
            if new.shape[0] != cur.shape[0]:
                raise ValueError(f"checkpoint: STDP array {name} has {new.shape[0]} rows, expected {cur.shape[0]}")
            setattr(self, name, new)
        self.cap = self.h_t.shape[1]
        n = int(d["log_t"].shape[0])
        for buf, name, dtype in ((self.log_t, "log_t", np.float64), (self.log_s, "log_s", np.int64),
                                 (self.log_w, "log_w", np.float64)):
            refill(buf, np.ascontiguousarray(d[name], dtype=dtype), max(64, 2 * n))
        self.n_log = n

    # ---- reading ----
    def weights(self, eng, t_end):
        """All weights as event-by-event updates leave them at t_end (a new array)."""
        net = self.net
        out = np.empty_like(net.weight)
        P.flushed_weights(net.indptr, net.target, net.weight, net.proj,
                          eng.delay_index, eng.delay_table, eng.delay_values, eng.use_table,
                          self.rule, self.pp, self.slot, self.kp, self.last_pre,
                          self.h_row, self.h_t, self.h_kmt, self.h_n, t_end, out)
        return out

    def weight_log(self):
        """Transmissions of the logged projections: (t, synapse index, weight), in order."""
        n = self.n_log
        return tuple(contents(b)[:n].copy() for b in (self.log_t, self.log_s, self.log_w))
