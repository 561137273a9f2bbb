"""Spike-train statistics as functions on arrays (for notebooks and tests).

Every function takes the spikes of one population (or of a whole network with
ids made unique) as two parallel arrays: ``timestamps`` (ms) and ``node_ids``
(0 .. n_neurons-1), already restricted to the observation window
[t_start, t_stop] (both ends included). Formulas: docs/analysis.md.
The streaming version used on whole files (eventsim.analysis.summary) gives
the same numbers chunk by chunk.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.signal


def n_bins_for(t_start, t_stop, bin_ms):
    """Number of bins of width bin_ms covering [t_start, t_stop]; the last may be shorter."""
    return max(1, int(math.ceil((t_stop - t_start) / bin_ms - 1e-9)))


def bin_index(timestamps, t_start, bin_ms, n_bins):
    """Bin of each spike: floor((t - t_start) / bin_ms); a spike at t_stop joins the last bin."""
    b = np.floor((np.asarray(timestamps, dtype=np.float64) - t_start) / bin_ms).astype(np.int64)
    return np.clip(b, 0, n_bins - 1)


def spike_counts(node_ids, n_neurons):
    """Spikes per neuron (int64, length n_neurons; silent neurons count 0)."""
    return np.bincount(np.asarray(node_ids, dtype=np.int64), minlength=n_neurons)[:n_neurons]


def firing_rates(timestamps, node_ids, n_neurons, t_start, t_stop):
    """Mean firing rate of each neuron (Hz): n_i / ((t_stop - t_start) / 1000).

    As Elephant's ``mean_firing_rate(train, t_start, t_stop)``."""
    return spike_counts(node_ids, n_neurons) / ((t_stop - t_start) / 1000.0)


def _by_neuron(timestamps, node_ids):
    order = np.lexsort((np.asarray(timestamps), np.asarray(node_ids)))
    return np.asarray(timestamps, dtype=np.float64)[order], np.asarray(node_ids, dtype=np.int64)[order]


def isi(timestamps, node_ids):
    """Inter-spike intervals (ms) and the neuron each belongs to: ``(intervals, ids)``."""
    t, n = _by_neuron(timestamps, node_ids)
    same = n[1:] == n[:-1]
    return np.diff(t)[same], n[1:][same]


def cv_isi(timestamps, node_ids, n_neurons, min_spikes=3):
    """Coefficient of variation of the ISIs of each neuron: std(ISI) / mean(ISI),
    population std (ddof = 0), as Elephant's ``cv(isi(train))``.

    NaN for neurons with fewer than ``min_spikes`` spikes (default 3: at least
    two intervals)."""
    d, n = isi(timestamps, node_ids)
    k = np.bincount(n, minlength=n_neurons)[:n_neurons].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(n, weights=d, minlength=n_neurons)[:n_neurons] / k
        m2 = np.bincount(n, weights=(d - mean[n]) ** 2, minlength=n_neurons)[:n_neurons]
        cv = np.sqrt(m2 / k) / mean
    cv[k < max(min_spikes - 1, 1)] = np.nan
    return cv


def fano_factor(counts):
    """Fano factor across spike trains: Var(counts) / Mean(counts), ddof = 0,
    as Elephant's ``fanofactor``. NaN when every count is zero (or none given)."""
    c = np.asarray(counts, dtype=np.float64)
    if c.size == 0 or not c.any():
        return math.nan
    return float(c.var() / c.mean())


def binned_cells(timestamps, node_ids, n_neurons, t_start, t_stop, bin_ms):
    """Sparse binned spike counts: ``(neuron, bin, count)`` for every non-empty cell,
    and the number of bins."""
    nb = n_bins_for(t_start, t_stop, bin_ms)
    b = bin_index(timestamps, t_start, bin_ms, nb)
    key = np.asarray(node_ids, dtype=np.int64) * nb + b
    cells, count = np.unique(key, return_counts=True)
    return cells // nb, cells % nb, count, nb


def fano_factor_time(timestamps, node_ids, n_neurons, t_start, t_stop, bin_ms):
    """Per-neuron Fano factor over time bins, Var_t(c_i) / Mean_t(c_i), averaged over
    neurons that spiked at least once. Returns ``(mean, per_neuron)``; NaN when none spiked."""
    nid, _, c, nb = binned_cells(timestamps, node_ids, n_neurons, t_start, t_stop, bin_ms)
    s1 = np.bincount(nid, weights=c, minlength=n_neurons)[:n_neurons]
    s2 = np.bincount(nid, weights=c.astype(np.float64) ** 2, minlength=n_neurons)[:n_neurons]
    mean = s1 / nb
    with np.errstate(invalid="ignore", divide="ignore"):
        ff = (s2 / nb - mean ** 2) / mean
    ff[s1 == 0] = np.nan
    return (float(np.nanmean(ff)) if np.isfinite(ff).any() else math.nan), ff


def population_activity(timestamps, node_ids, t_start, t_stop, bin_ms):
    """The "brain wave": number of distinct neurons active in each bin.

    Returns ``(bin_edges_ms, n_active)``; the last edge is t_stop."""
    nb = n_bins_for(t_start, t_stop, bin_ms)
    b = bin_index(timestamps, t_start, bin_ms, nb)
    key = np.unique(np.asarray(node_ids, dtype=np.int64) * nb + b)
    active = np.bincount(key % nb, minlength=nb)
    edges = np.minimum(t_start + bin_ms * np.arange(nb + 1), t_stop)
    edges[-1] = t_stop
    return edges, active


def synchrony_chi(timestamps, node_ids, n_neurons, t_start, t_stop, bin_ms):
    """Golomb's synchrony measure chi on binned spike counts (a voltage proxy):

        chi^2 = Var_t(A) / mean_i Var_t(c_i),   A(b) = (1/N) sum_i c_i(b)

    chi is ~1/sqrt(N) for independent neurons and 1 for full synchrony.
    NaN when no neuron's count varies."""
    nid, bins, c, nb = binned_cells(timestamps, node_ids, n_neurons, t_start, t_stop, bin_ms)
    if n_neurons == 0:
        return math.nan
    s1 = np.bincount(nid, weights=c, minlength=n_neurons)[:n_neurons]
    s2 = np.bincount(nid, weights=c.astype(np.float64) ** 2, minlength=n_neurons)[:n_neurons]
    var_i = s2 / nb - (s1 / nb) ** 2
    pop = np.bincount(bins, weights=c, minlength=nb) / n_neurons
    den = var_i.mean()
    if not den > 0:
        return math.nan
    return float(math.sqrt(max(pop.var(), 0.0) / den))


def power_spectrum(activity, bin_ms, method="welch", nperseg=None):
    """Power spectral density of a binned activity trace.

    activity: values per bin; bin_ms: bin width (ms), so the sampling rate is
    1000 / bin_ms Hz. method "welch" (scipy.signal.welch, Hann window, segments
    of up to 256 bins, mean removed) or "periodogram". Returns ``(freq_hz, psd)``
    with psd in (activity units)^2 / Hz."""
    x = np.asarray(activity, dtype=np.float64)
    fs = 1000.0 / bin_ms
    if x.size < 2:
        return np.zeros(0), np.zeros(0)
    if method == "periodogram":
        return scipy.signal.periodogram(x, fs=fs, detrend="constant")
    if method != "welch":
        raise ValueError(f"method: 'welch' or 'periodogram', got {method!r}")
    seg = int(nperseg or min(256, x.size))
    return scipy.signal.welch(x, fs=fs, nperseg=seg, detrend="constant")


def peak_frequency(freq, psd):
    """Frequency (Hz) of the largest spectral peak above 0 Hz; NaN for a flat or empty spectrum."""
    if len(freq) < 2 or not np.any(psd[1:] > 0):
        return math.nan
    return float(freq[1:][np.argmax(psd[1:])])
