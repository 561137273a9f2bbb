"""Statistics of a whole spike file, computed chunk by chunk.

Per population, one pass over the file's rows keeps only per-neuron and
per-bin accumulators (np.bincount) plus a little per-neuron state (last spike
time, last bin and the running count in it), so memory is O(neurons + bins),
not O(spikes). Streaming needs each neuron's spikes in time order, which holds
for files sorted by time or by id and for anything a simulator writes; a file
that breaks it is detected and analysed in memory after sorting instead.
The numbers equal those of eventsim.analysis.stats on the same spikes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from eventsim.errors import NotASpikeFileError

from . import stats

#: ISI histogram: log-spaced edges (ms); intervals outside are clipped in
ISI_EDGES_MS = np.logspace(-2, 5, 141)

#: default bin width (ms) of the population activity and the binned statistics
DEFAULT_BIN_MS = 1.0
#: cap on the number of bins (the default bin grows for very long windows)
MAX_BINS = 2_000_000


class _OrderBroken(Exception):
    """A neuron's spikes came out of time order: streaming is not exact."""


def default_bin_ms(t_start, t_stop):
    """1 ms, widened for windows longer than MAX_BINS ms."""
    return max(DEFAULT_BIN_MS, (t_stop - t_start) / MAX_BINS)


#: bytes of running statistics per neuron (the arrays below)
BYTES_PER_NEURON = 72


def _check_size(n, where):
    """CapacityError for a population size (a foreign file's n_nodes, or its largest
    id) whose per-neuron statistics would not fit in memory: refused before allocating."""
    from eventsim.errors import CapacityError
    from eventsim.network.memory import available_memory
    need = n * BYTES_PER_NEURON
    avail = available_memory()
    if need > avail // 2:
        raise CapacityError(f"{where}: a population of {n:,} neurons would need {need / 2**30:,.1f} GiB "
                            f"of per-neuron statistics, more than half of the {avail / 2**30:,.1f} GiB "
                            f"available; is n_nodes (or the largest node id) right?")


class PopulationAccumulator:
    """Running statistics of one population's spikes, fed chunk by chunk."""

    def __init__(self, n_neurons, t_start, t_stop, bin_ms, where=""):
        self.n = int(n_neurons)
        self.t_start, self.t_stop, self.bin_ms = t_start, t_stop, bin_ms
        self.nb = stats.n_bins_for(t_start, t_stop, bin_ms)
        self.where = where
        n = self.n
        _check_size(n, where)
        self.counts = np.zeros(n, np.int64)
        self.last_time = np.full(n, -np.inf)
        self.isi_n = np.zeros(n, np.int64)
        self.isi_mean = np.zeros(n)
        self.isi_m2 = np.zeros(n)
        self.last_bin = np.full(n, -1, np.int64)
        self.run = np.zeros(n, np.int64)
        self.sumsq = np.zeros(n)            # sum over bins of c_i(b)^2
        self.spikes_per_bin = np.zeros(self.nb, np.int64)
        self.active_per_bin = np.zeros(self.nb, np.int64)
        self.isi_hist = np.zeros(len(ISI_EDGES_MS) - 1, np.int64)

    def add(self, t, ids):
        """Feed spikes (ms, ids) inside the window; each neuron's spikes in time order
        across calls (raises _OrderBroken otherwise, before changing any state)."""
        if t.size == 0:
            return
        if int(ids.max()) >= self.n:
            raise NotASpikeFileError(
                f"{self.where}: node id {int(ids.max())} is outside the population "
                f"(n_nodes = {self.n})")
        order = np.argsort(ids, kind="stable")
        ids, t = ids[order], t[order]
        same = ids[1:] == ids[:-1]
        first = np.concatenate([[True], ~same])
        last = np.concatenate([~same, [True]])
        d = np.diff(t)
        if (d[same] < 0).any() or (t[first] < self.last_time[ids[first]]).any():
            raise _OrderBroken
        n = self.n
        self.counts += np.bincount(ids, minlength=n)

        # inter-spike intervals: within the chunk, plus one bridging from the last chunk
        bridge = first & np.isfinite(self.last_time[ids])
        x = np.concatenate([d[same], t[bridge] - self.last_time[ids[bridge]]])
        xi = np.concatenate([ids[1:][same], ids[bridge]])
        if x.size:
            # per-neuron mean and M2 of this chunk, merged into the running ones (Chan et al.)
            nc = np.bincount(xi, minlength=n)
            with np.errstate(invalid="ignore", divide="ignore"):
                mc = np.bincount(xi, weights=x, minlength=n) / nc
            m2c = np.bincount(xi, weights=(x - mc[xi]) ** 2, minlength=n)
            hit = nc > 0
            na, nb_ = self.isi_n[hit], nc[hit]
            tot = na + nb_
            delta = mc[hit] - self.isi_mean[hit]
            self.isi_mean[hit] += delta * nb_ / tot
            self.isi_m2[hit] += m2c[hit] + delta ** 2 * na * nb_ / tot
            self.isi_n[hit] = tot
            self.isi_hist += np.histogram(np.clip(x, ISI_EDGES_MS[0], ISI_EDGES_MS[-1]),
                                          ISI_EDGES_MS)[0]
        self.last_time[ids[last]] = t[last]

        # binned counts: k = rank of each spike within its (neuron, bin) cell, carried
        # across chunks; sum over spikes of (2k - 1) is sum over cells of c^2
        b = stats.bin_index(t, self.t_start, self.bin_ms, self.nb)
        start = first.copy()
        start[1:] |= b[1:] != b[:-1]
        pos = np.arange(t.size)
        k = pos - np.maximum.accumulate(np.where(start, pos, 0)) + 1
        carry = np.where(first & (b == self.last_bin[ids]), self.run[ids], 0)
        k += carry[start][np.cumsum(start) - 1]
        self.sumsq += np.bincount(ids, weights=2.0 * k - 1.0, minlength=n)
        self.spikes_per_bin += np.bincount(b, minlength=self.nb)
        self.active_per_bin += np.bincount(b[k == 1], minlength=self.nb)
        self.last_bin[ids[last]] = b[last]
        self.run[ids[last]] = k[last]

    # -- results --------------------------------------------------------------
    def window_s(self):
        return (self.t_stop - self.t_start) / 1000.0

    def rates(self):
        return self.counts / self.window_s()

    def cv(self):
        with np.errstate(invalid="ignore", divide="ignore"):
            cv = np.sqrt(self.isi_m2 / self.isi_n) / self.isi_mean
        cv[self.isi_n < 2] = np.nan
        return cv

    def bin_var(self):
        mean = self.counts / self.nb
        return np.maximum(self.sumsq / self.nb - mean ** 2, 0.0)

    def fano_time(self):
        with np.errstate(invalid="ignore", divide="ignore"):
            ff = self.bin_var() / (self.counts / self.nb)
        ff[self.counts == 0] = np.nan
        return ff


def _nanmean(x):
    return float(np.nanmean(x)) if np.isfinite(x).any() else math.nan


def describe(rates, cv, counts, fano_t, var_i, spikes_per_bin, active_per_bin, bin_ms):
    """The summary numbers of one population (or of the network) from accumulated arrays."""
    n = rates.size
    chi = math.nan
    if n and var_i.mean() > 0:
        chi = math.sqrt((spikes_per_bin / n).var() / var_i.mean())
    freq, psd = stats.power_spectrum(active_per_bin, bin_ms)
    return {
        "n_neurons": int(n),
        "n_spikes": int(counts.sum()),
        "rate_hz": float(rates.mean()) if n else math.nan,
        "rate_std_hz": float(rates.std()) if n else math.nan,
        "rate_median_hz": float(np.median(rates)) if n else math.nan,
        "n_silent": int((counts == 0).sum()),
        "cv_isi": _nanmean(cv),
        "n_cv_neurons": int(np.isfinite(cv).sum()),
        "fano": stats.fano_factor(counts),
        "fano_time": _nanmean(fano_t),
        "chi": chi,
        "activity_mean": float(active_per_bin.mean()),
        "activity_max": int(active_per_bin.max()) if active_per_bin.size else 0,
        "activity_peak_hz": stats.peak_frequency(freq, psd),
    }


@dataclass
class FileSummary:
    """Everything ``analyze`` reports, plus the arrays the plots need."""

    stats: dict              # JSON-ready numbers (NaN not yet replaced)
    accumulators: dict       # population -> PopulationAccumulator
    bin_ms: float


def summarize(sf, bin_ms=None):
    """Statistics of every population and of the whole network of an opened SpikeFile."""
    t0, t1 = sf.window
    bin_ms = float(bin_ms) if bin_ms is not None else default_bin_ms(t0, t1)
    accs = {}
    for pop, info in sf.populations.items():
        where = f"{sf.path}: {info.node_ids}"
        # size from n_nodes, else highest id in the whole file + 1 (one extra pass)
        size = sf.n_neurons(pop)
        acc = PopulationAccumulator(size, t0, t1, bin_ms, where)
        try:
            for t, ids in sf.iter_chunks(pop):
                acc.add(t, ids)
        except _OrderBroken:
            # spikes of some neuron out of time order: sort in memory, then one pass
            t, ids = sf.spikes(pop)
            acc = PopulationAccumulator(size, t0, t1, bin_ms, where)
            acc.add(t, ids)
        accs[pop] = acc

    pops = {}
    for pop, acc in accs.items():
        d = describe(acc.rates(), acc.cv(), acc.counts, acc.fano_time(), acc.bin_var(),
                     acc.spikes_per_bin, acc.active_per_bin, bin_ms)
        d["n_neurons_source"] = sf.n_neurons_source(pop)
        pops[pop] = d
    cat = lambda f: np.concatenate([f(a) for a in accs.values()])  # noqa: E731
    network = describe(cat(lambda a: a.rates()), cat(lambda a: a.cv()), cat(lambda a: a.counts),
                       cat(lambda a: a.fano_time()), cat(lambda a: a.bin_var()),
                       sum(a.spikes_per_bin for a in accs.values()),
                       sum(a.active_per_bin for a in accs.values()), bin_ms)
    out = {
        "file": sf.path,
        "populations": pops,
        "network": network,
        "window_ms": [t0, t1],
        "bin_ms": bin_ms,
        "complete": sf.complete,
        "t_committed": sf.t_committed,
        "duration": sf.duration,
        "notes": list(sf.notes),
    }
    return FileSummary(stats=out, accumulators=accs, bin_ms=bin_ms)

