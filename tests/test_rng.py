"""The kernels' counter-based generator against an independent pure-Python SplitMix64."""
import math

import numpy as np
from scipy import stats

from eventsim.engine.rng import CPU

M = (1 << 64) - 1
G = 0x9E3779B97F4A7C15


def splitmix64_next(state):
    """One step of the reference SplitMix64 (Steele et al. 2014): returns (new state, output)."""
    state = (state + G) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)


def test_draws_are_splitmix64_sequence_of_the_stream_key():
    seed, stream, ident = 12345, 0x10003, 77
    # the stream key, computed with the reference mixer
    _, h = splitmix64_next((seed + G * (stream + 1) - G) & M)
    _, key = splitmix64_next((h + G * (ident + 1) - G) & M)
    state = key
    for k in range(50):
        state, out = splitmix64_next(state)
        expected = 1.0 - (out >> 11) * 2.0 ** -53
        assert CPU.uniform_open0(seed, stream, ident, k) == expected


def test_exponential_intervals_are_exponential():
    rate = 0.02  # per ms
    x = np.array([CPU.exp_interval(7, 1, 3, k, rate) for k in range(20000)])
    assert stats.kstest(x, "expon", args=(0, 1 / rate)).pvalue > 1e-3
    assert abs(x.mean() * rate - 1) < 0.03


def test_streams_differ_and_are_uncorrelated():
    a = np.array([CPU.uniform_open0(1, 5, 10, k) for k in range(5000)])
    b = np.array([CPU.uniform_open0(1, 5, 11, k) for k in range(5000)])
    c = np.array([CPU.uniform_open0(2, 5, 10, k) for k in range(5000)])
    assert not np.array_equal(a, b) and not np.array_equal(a, c)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.05 and abs(np.corrcoef(a, c)[0, 1]) < 0.05
    assert 0.0 < a.min() and a.max() <= 1.0
    assert not math.isnan(a.sum())
