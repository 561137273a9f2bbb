"""The emotion rule's update (equations: models/plasticity/emotion.py, docs/trials.md).

Per presentation: ``emotion_value`` grades the answer, ``EmotionProjection.learn``
subtracts the reward baseline (``baseline``), computes E for each synapse of the
projection (``eligibility``) and applies S e E, the perturbation, the normalisation and
the bounds to the network's weights in place (``update``).
"""
from __future__ import annotations

import math

import numba
import numpy as np


def emotion_value(kind, label, tag, scores, reward, punishment, margin_scale=2.0):
    """e(output, tag) in (-1, 1): see the rule's equations. ``scores``: spike counts per class."""
    if kind == "tanh":
        # graded by the spike-count margin of the right class over the best wrong one, so a
        # right answer by a small margin still learns and a tie or silence (m = 0) does nothing
        other = np.delete(scores, tag).max(initial=0.0)
        m = math.tanh((scores[tag] - other) / margin_scale)
        return (reward if m > 0 else punishment) * m
    if label != tag:
        return -punishment
    if kind == "binary":
        return reward
    other = np.delete(scores, tag).max(initial=0.0)
    total = scores[tag] + other
    m = (scores[tag] - other) / total if total > 0 else -1.0
    return reward * (1.0 - m)


@numba.njit(cache=True)
def _trace_eligibility(src, tgt, delay, ptr, times, t_end, tau_pre, tau_e, out):
    """E_s = sum_{post spikes t} sum_{pre spikes u, u + d <= t} e^{-(t-u-d)/tau_pre} e^{-(t_end-t)/tau_e}.
    ``ptr``/``times``: each neuron's spike times (sorted), CSR by global id."""
    for s in range(src.shape[0]):
        i, j, d = src[s], tgt[s], delay[s]
        acc = 0.0
        for b in range(ptr[j], ptr[j + 1]):
            t = times[b]
            x = 0.0
            for a in range(ptr[i], ptr[i + 1]):
                u = times[a] + d
                if u > t:
                    break
                x += math.exp(-(t - u) / tau_pre)
            acc += x * math.exp(-(t_end - t) / tau_e)
        out[s] = acc


def _layer_rate(counts, start, stop):
    """v: counts of global ids [start, stop) divided by the layer's largest count (0 when
    the layer is silent), as an array indexed by global id (zeros outside the layer)."""
    v = np.zeros(counts.size)
    top = counts[start:stop].max(initial=0.0)
    if top > 0:
        v[start:stop] = counts[start:stop] / top
    return v


def spike_csr(n_neurons, times, gids):
    """(ptr, times) of spikes grouped by global neuron id, each neuron's times sorted."""
    order = np.lexsort((times, gids))
    ptr = np.zeros(n_neurons + 1, dtype=np.int64)
    np.cumsum(np.bincount(gids, minlength=n_neurons), out=ptr[1:])
    return ptr, np.ascontiguousarray(times[order], dtype=np.float64)


class EmotionProjection:
    """One projection under the emotion rule: its synapse indices into ``net.weight`` and
    its rule parameters (a normalised ``[plasticity.<label>]`` table)."""

    def __init__(self, net, name, params):
        self.net = net
        self.name = name
        self.p = params
        pr = net.projection(name)
        self.sel = np.flatnonzero(net.proj == pr.index)
        self.src = net.sources()[self.sel].astype(np.int64)
        self.tgt = net.target[self.sel].astype(np.int64)
        self.delay = np.ascontiguousarray(net.delays()[self.sel], dtype=np.float64)
        self.w_initial = net.weight[self.sel].copy()
        # the pre and post populations' global id ranges, for per-layer normalised counts
        pre, post = net.population(pr.source), net.population(pr.target)
        self.pre_range = (pre.offset, pre.offset + pre.size)
        self.post_range = (post.offset, post.offset + post.size)
        self.sigma_scale = 1.0      # perturbation multiplier (the loop decays it per epoch)
        # post neuron of each synapse, 0..n_post-1, for per-post normalisation
        self.post, self.post_index = np.unique(self.tgt, return_inverse=True)
        norm2 = np.bincount(self.post_index, weights=self.w_initial ** 2, minlength=self.post.size)
        self.l2_initial = np.sqrt(norm2)
        # running means of e and of the post counts, one row per pattern ("pattern") or a
        # single row; NaN until the first presentation sets them
        self._e_mean = {}
        self._post_mean = {}

    def _key(self, pattern):
        return pattern if self.p["baseline"] == "pattern" else 0

    def advantage(self, e, pattern=0):
        """e minus the running mean of e (baseline = "global" | "pattern"), then the mean
        moves towards e; e itself when baseline = "none"."""
        if self.p["baseline"] == "none":
            return e
        k = self._key(pattern)
        m = self._e_mean.get(k, e)
        self._e_mean[k] = m + self.p["baseline_rate"] * (e - m)
        return e - m

    def post_deviation(self, counts, pattern=0):
        """n_j - nbar_j per synapse (its post neuron's count minus that count's running
        mean, per pattern with baseline = "pattern"); the mean then moves towards n_j."""
        n = counts[self.post].astype(np.float64)
        k = self._key(pattern)
        m = self._post_mean.get(k, n)
        self._post_mean[k] = m + self.p["baseline_rate"] * (n - m)
        return (n - m)[self.post_index]

    @property
    def weights(self):
        return self.net.weight[self.sel]

    def eligibility(self, fired, spikes, t_end, counts=None, pattern=0):
        """E per synapse: ``fired`` bool per global id (binary), ``spikes`` = (ptr, times)
        CSR of the presentation's spikes by global id (trace), ``t_end`` the window end,
        ``counts`` spike count per global id (count, centred), ``pattern`` the presented
        pattern's index (centred with baseline = "pattern"; updates the running mean)."""
        if self.p["eligibility"] == "binary":
            return (fired[self.src] & fired[self.tgt]).astype(np.float64)
        if self.p["eligibility"] == "count":
            return _layer_rate(counts, *self.pre_range)[self.src] * _layer_rate(counts, *self.post_range)[self.tgt]
        if self.p["eligibility"] == "centred":
            return _layer_rate(counts, *self.pre_range)[self.src] * self.post_deviation(counts, pattern)
        out = np.zeros(self.sel.size)
        ptr, times = spikes
        _trace_eligibility(self.src, self.tgt, self.delay, ptr, times, float(t_end),
                           float(self.p["tau_pre"]), float(self.p["tau_e"]), out)
        return out

    def update(self, e, elig, rng=None, fired=None):
        """Apply S e E (+ perturbation, normalisation, bounds) to net.weight; returns the
        rule's dw (before perturbation and bounds)."""
        p = self.p
        dw = p["sensitivity"] * e * elig
        if p["normalise"] == "zero_mean":
            n = np.bincount(self.post_index, minlength=self.post.size)
            mean = np.bincount(self.post_index, weights=dw, minlength=self.post.size) / np.maximum(n, 1)
            dw = dw - mean[self.post_index]
        w = self.net.weight[self.sel] + dw
        if p["homeostasis"] > 0 and fired is not None:
            w += p["homeostasis"] * (fired[self.src] & ~fired[self.tgt])
        if p["perturbation"] > 0 and rng is not None:
            w += rng.normal(0.0, p["perturbation"] * self.sigma_scale, w.size)
        if p["normalise"] == "l2":
            norm = np.sqrt(np.bincount(self.post_index, weights=w ** 2, minlength=self.post.size))
            scale = np.divide(self.l2_initial, norm, out=np.ones_like(norm), where=norm > 0)
            w *= scale[self.post_index]
        np.clip(w, p["w_min"], p["w_max"], out=w)
        self.net.weight[self.sel] = w
        return dw

    def learn(self, e, pattern, fired, spikes, t_end, counts, rng=None):
        """One presentation's full update: the baseline, E, then ``update``; returns dw."""
        a = self.advantage(e, pattern)
        return self.update(a, self.eligibility(fired, spikes, t_end, counts, pattern), rng, fired)

    def reset_weights(self):
        """Put the projection's weights back to their values when this object was made."""
        self.net.weight[self.sel] = self.w_initial
