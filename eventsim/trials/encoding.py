"""Input encodings: a pattern (values, usually in [0, 1]) -> one spike train per input neuron.

Every encoder returns a list of sorted float64 arrays, times in ms relative to the
start of the presentation (0 <= t < window), one per neuron, ready for
``Simulation.set_spike_times`` once shifted by the presentation's start time.

- rate (Poisson): neuron i fires as a Poisson process of rate x_i * rate_max (Hz)
  during the window; x is clipped to [0, 1].
- latency (time to first spike): neuron i fires once, at (1 - x_i) * latency_max
  (ms), if x_i > threshold; stronger inputs fire earlier.
- delta modulation: for a signal sampled every ``dt`` ms, neuron i emits an ON
  spike at sample k when s_k - r >= threshold and (with ``off``) an OFF spike on
  neuron n + i when r - s_k >= threshold, where r is the level at the channel's
  last spike (initially 0, so a static pattern is a step from 0 at t = 0); r <- s_k
  at each spike.
"""
from __future__ import annotations

import numpy as np


def _clip01(values):
    return np.clip(np.asarray(values, dtype=np.float64).reshape(-1), 0.0, 1.0)


def rate_encode(values, window, rate_max, rng):
    """Poisson trains: neuron i at rate clip(x_i, 0, 1) * rate_max Hz over [0, window) ms.

    ``rng``: a numpy Generator (keyed by the caller, e.g. by (seed, epoch, pattern)).
    The count is drawn first (Poisson with mean rate * window), then the times uniformly:
    the same law as a Poisson process."""
    x = _clip01(values)
    counts = rng.poisson(x * rate_max * window / 1000.0)
    return [np.sort(rng.uniform(0.0, window, int(c))) for c in counts]


def latency_encode(values, latency_max, threshold=0.0):
    """One spike per neuron at (1 - x_i) * latency_max ms when x_i > threshold, else none."""
    x = _clip01(values)
    return [np.array([(1.0 - v) * latency_max]) if v > threshold else np.zeros(0) for v in x]


def delta_encode(signal, dt, threshold, off=False):
    """Delta modulation of ``signal`` (channels x samples, or one value per channel for a
    static pattern: one sample at t = 0). Sample k is at k * dt ms. Returns n trains
    (ON only) or 2n (ON for channels 0..n-1, then OFF)."""
    s = np.asarray(signal, dtype=np.float64)
    if s.ndim == 1:
        s = s[:, None]
    n, k = s.shape
    on = [[] for _ in range(n)]
    off_trains = [[] for _ in range(n)]
    for c in range(n):
        ref = 0.0
        for j in range(k):
            d = s[c, j] - ref
            if d >= threshold:
                on[c].append(j * dt)
                ref = s[c, j]
            elif -d >= threshold:
                if off:
                    off_trains[c].append(j * dt)
                ref = s[c, j]
    trains = [np.asarray(t, dtype=np.float64) for t in on]
    if off:
        trains += [np.asarray(t, dtype=np.float64) for t in off_trains]
    return trains


def complement(values):
    """ON/OFF (complementary) coding of a static pattern: x followed by 1 - x (x clipped
    to [0, 1]), so that a 0 is carried by spikes on its OFF channel."""
    x = _clip01(values)
    return np.concatenate([x, 1.0 - x])


def n_channels_out(n_features, encoding, off=False, complemented=False, bias=False):
    """How many input neurons an encoding needs for ``n_features`` pattern channels
    (``complemented``: ON and OFF copies; ``bias``: one always-on channel)."""
    n = 2 * n_features if (encoding == "delta" and off) or complemented else n_features
    return n + (1 if bias else 0)
