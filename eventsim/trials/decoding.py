"""Output decodings: the output population's spikes in one presentation -> a class.

Every decoder returns ``(label, scores)``: ``label`` is the winning class, or -1 when
there is no single winner (no spike, or a tie), which counts as a wrong answer;
``scores`` (float64, one per class) is what the emotion function grades.

- rate: class k = output neuron k; the neuron with most spikes wins; scores = counts.
- first: the neuron whose first spike is earliest wins; scores = counts.
- population: the output neurons are split into n_classes equal contiguous groups
  (neuron i belongs to class i // (size / n_classes)); the group with most spikes wins.
"""
from __future__ import annotations

import numpy as np


def _unique_argmax(x):
    if x.size == 0:
        return -1
    best = x.max()
    if not np.isfinite(best) or np.count_nonzero(x == best) != 1:
        return -1
    return int(np.argmax(x))


def spike_counts(ids, size):
    return np.bincount(np.asarray(ids, dtype=np.int64), minlength=size).astype(np.float64)


def decode_rate(times, ids, size):
    counts = spike_counts(ids, size)
    if counts.max(initial=0) == 0:
        return -1, counts
    return _unique_argmax(counts), counts


def decode_first(times, ids, size):
    counts = spike_counts(ids, size)
    first = np.full(size, np.inf)
    np.minimum.at(first, np.asarray(ids, dtype=np.int64), np.asarray(times, dtype=np.float64))
    return _unique_argmax(-first), counts


def decode_population(times, ids, size, n_classes):
    if size % n_classes:
        raise ValueError(f"population decoding: {size} output neurons do not split into "
                         f"{n_classes} equal groups")
    counts = spike_counts(ids, size).reshape(n_classes, size // n_classes).sum(axis=1)
    if counts.max(initial=0) == 0:
        return -1, counts
    return _unique_argmax(counts), counts


def decode(kind, times, ids, size, n_classes):
    if kind == "rate":
        return decode_rate(times, ids, size)
    if kind == "first":
        return decode_first(times, ids, size)
    if kind == "population":
        return decode_population(times, ids, size, n_classes)
    raise ValueError(f"unknown decoding {kind!r}")
