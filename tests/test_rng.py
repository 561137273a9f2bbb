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


def test_ziggurat_layers_have_equal_area():
    """The ziggurat's tables against their definition, with numpy's exp: 256 layers of
    equal area V under e^{-x}, the base's tail beyond R, R Marsaglia & Tsang's."""
    from eventsim.engine import rng
    R = rng._ZR
    assert abs(R - 7.69711747013104972) < 1e-15
    V = math.exp(-R) * (R + 1.0)
    X = rng._ZW * 2.0 ** 56
    assert X[1] == R
    assert math.isclose(X[0] * math.exp(-R), V, rel_tol=1e-14)   # the base, tail included
    for i in range(1, 255):
        assert math.isclose(X[i] * (math.exp(-X[i + 1]) - math.exp(-X[i])), V, rel_tol=1e-9), i
    assert math.isclose(X[255] * (1.0 - math.exp(-X[255])), V, rel_tol=1e-9)   # the top closes
    assert np.all(np.diff(X[1:]) < 0)
    for i in range(255):   # sure region: a point below the next layer's width
        assert abs(int(rng._ZK[i]) - X[i + 1] / X[i] * 2.0 ** 56) <= 2 ** 4, i
    assert rng._ZK[255] == 0
    assert np.allclose(rng._ZF[1:256], np.exp(-X[1:]), rtol=1e-14, atol=0)


def test_ziggurat_draws_are_exponential_in_every_region():
    """400,000 draws against e^{-x}: the whole distribution (KS, 200 equal-probability
    bins), the mass between consecutive layer widths (where the wedges are: a wrong wedge
    test shows there), the tail beyond R, and how many first points miss their layer's
    sure region (wedges, tail, rejections: ``exp_rejected``)."""
    from eventsim.engine import rng
    n = 400_000
    key = np.uint64(CPU.stream_key(2024, 0x10000, 17))   # (a Python int would be typed int64)
    x = np.array([CPU.exp_std(key, k) for k in range(n)])
    assert stats.kstest(x, "expon").pvalue > 1e-3
    counts = np.bincount(np.minimum((-np.expm1(-x) * 200).astype(int), 199), minlength=200)
    assert stats.chisquare(counts).pvalue > 1e-3
    edges = np.concatenate([[0.0], (rng._ZW * 2.0 ** 56)[255:0:-1], [np.inf]])
    counts, _ = np.histogram(x, edges)
    expected = n * -np.diff(np.exp(-edges))
    assert stats.chisquare(counts, expected).pvalue > 1e-3
    for cut in (rng._ZR, 10.0):
        p = math.exp(-cut)
        assert abs((x > cut).sum() - n * p) < 5 * math.sqrt(n * p * (1 - p)), cut
    # beyond R (the base layer's tail: R - ln u), memorylessness: x - R is exponential
    assert stats.kstest(x[x > rng._ZR] - rng._ZR, "expon").pvalue > 1e-3
    # the first point's layer and position, by the reference SplitMix64
    missed = []
    for k in range(n):
        _, h = splitmix64_next((int(key) + G * k) & M)
        if (h >> 8) >= int(rng._ZK[h & 255]):
            missed.append(k)
    frac = len(missed) / n
    assert abs(frac - (1 - np.mean(rng._ZK.astype(float)) / 2.0 ** 56)) < 0.002


def test_draws_are_the_same_bits_compiled_and_in_python():
    """The CUDA simulator (and any target) runs the same source: draws, rejected ones
    included, are bit-identical to the compiled CPU ones."""
    from eventsim.engine import rng
    key = np.uint64(CPU.stream_key(5, 0x20001, 99))
    with np.errstate(over="ignore"):
        for k in range(3000):
            assert rng.exp_std(key, k) == CPU.exp_std(key, k)
            assert rng.exp_draw(key, k, 12.5) == CPU.exp_draw(key, k, 12.5)
