"""Spikes kept in memory, per population: the default sink of a Simulation."""
from __future__ import annotations

import numpy as np


class SpikeRecorder:
    """Keeps spikes in memory, per population (the default sink of the Python API, and
    the SONATA writer's buffer between checkpoints)."""

    def __init__(self, network, populations=None):
        self.pops = [p for p in network.populations
                     if not p.hidden and (populations is None or p.name in populations)]
        self.offsets = np.array([p.offset for p in network.populations] + [network.n_neurons])
        self.index_of = {p.name: j for j, p in enumerate(network.populations)}
        self._t = {p.name: [] for p in self.pops}
        self._i = {p.name: [] for p in self.pops}
        self._raw_t, self._raw_i = [], []

    def append(self, t, gid):
        """A window's spikes (times, global ids): kept as they come; split by population
        when read (per window, the split cost more than the rest of the bookkeeping)."""
        if t.size:
            self._raw_t.append(t)
            self._raw_i.append(gid)

    def _split(self):
        if not self._raw_t:
            return
        t, gid = np.concatenate(self._raw_t), np.concatenate(self._raw_i)
        self._raw_t.clear()
        self._raw_i.clear()
        pi = np.searchsorted(self.offsets, gid, side="right") - 1
        for p in self.pops:
            sel = pi == self.index_of[p.name]
            if sel.any():
                self._t[p.name].append(t[sel])
                self._i[p.name].append(gid[sel] - p.offset)

    def commit(self, t_committed):
        pass

    def spikes(self, population):
        """(times ms float64, population-local ids int64), sorted by time."""
        self._split()
        ts = self._t[population]
        if not ts:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        return np.concatenate(ts), np.concatenate(self._i[population])

    def take(self, population):
        """spikes(population), then forget them."""
        out = self.spikes(population)
        self._t[population].clear()
        self._i[population].clear()
        return out


class RankSink:
    """The sink of MPI ranks other than 0 (docs/mpi.md): after the exchange every rank
    sees every spike, and rank 0's writer writes them; this one keeps nothing but the
    count (a writer's bookkeeping: n_written, t_committed)."""

    n_written = 0
    t_committed = 0.0
    partial = None

    def append(self, t, gid):
        self.n_written += int(t.size)

    def commit(self, t):
        self.t_committed = t

    def finish(self, *args, **kwargs):
        pass
