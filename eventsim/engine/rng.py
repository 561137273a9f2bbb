"""Counter-based random numbers, identical on every backend.

Poisson trains are drawn inside the kernels from a stream keyed by
(seed, stream id, neuron id) and a draw index k, so a neuron's train does not depend
on thread count, device, or how the run is split into windows.

The generator is SplitMix64 used as a counter-based hash (Steele, Lea & Flood 2014,
"Fast splittable pseudorandom number generators"; the mixing function is Stafford's
"Mix13", as in Java's SplittableRandom): the stream key is
    key = mix64(mix64(seed + G (stream + 1)) + G (ident + 1))
and draw k is the top 53 bits of mix64(key + G (k + 1)), G = 0x9E3779B97F4A7C15.
Each draw costs three 64-bit mixes (about 4 ns here, against about 20 ns for
Philox4x32-10), and within a stream the draws are exactly SplitMix64's output sequence.

Exponential intervals come from the ziggurat method (Marsaglia & Tsang 2000, "The
ziggurat method for generating random variables", J. Stat. Softw. 5(8)) on draw k's
64 bits: 8 of them pick one of 256 layers of equal area under e^{-x}, 56 a point
across it; 97.8 % of draws are taken there with an integer compare and one multiply.
The rest (a point in a layer's wedge, or in the tail x > r) take further 64-bit
values from a sub-stream of draw k (``_extra``), so that draw k stays a function of
(key, k) alone. The method is exact: the intervals are exponential, not an
approximation of it, and cost no logarithm (-log(u) per arrival was 11 % of
Brunel's loop). The tables come from exact decimal arithmetic, so they are the same
bits on every machine.

Stream ids: ``STREAM_POISSON_STIMULUS + stimulus index`` for poisson stimuli and
``STREAM_POISSON_SOURCE + population index`` for poisson_source populations.
"""
import math
from decimal import Decimal, localcontext

import numpy as np

from .dual import compile_functions

STREAM_POISSON_STIMULUS = 0x10000
STREAM_POISSON_SOURCE = 0x20000

_G = np.uint64(0x9E3779B97F4A7C15)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_ONE = np.uint64(1)
_TWO_M53 = 1.0 / 9007199254740992.0


def _ziggurat_tables():
    """The exponential ziggurat's tables, in exact decimal arithmetic then rounded once.

    256 layers of area V: the base (layer 0, y <= e^{-R}: the rectangle of width R and
    the tail beyond) and 255 rectangles stacked on it, layer i spanning
    y in [F[i], F[i + 1]] with width X[i], F[i + 1] = F[i] + V / X[i], X[i + 1] =
    -ln F[i + 1]. R solves the closure (the top layer, up to y = 1, has area V too): it
    is Marsaglia & Tsang's 7.69711747013104972, to more digits (``tests/test_rng.py``
    checks the closure). Returns (W, K, F): a point u = ri 2^-56 (ri < 2^56) across
    layer i is x = ri W[i] (W[i] = X[i] 2^-56; layer 0's width is V / e^{-R}), under
    the curve for sure when ri < K[i] (x < X[i + 1], the width of the layer above;
    K[255] = 0: the top layer is all wedge), and F[i] = e^{-X[i]} for the wedge test."""
    with localcontext() as ctx:
        ctx.prec = 40
        r = Decimal(ZIGGURAT_R)
        f = (-r).exp()
        v = f * (r + 1)
        xs = [v / f, r]   # layer widths; xs[0]: the base's as a rectangle of area v
        fs = [Decimal(0), f]
        for _ in range(254):
            f = f + v / xs[-1]
            fs.append(f)
            xs.append(-f.ln())
        fs.append(Decimal(1))
        two56 = Decimal(2) ** 56
        w = np.array([float(x / two56) for x in xs])
        k = np.array([int(xs[i + 1] / xs[i] * two56) for i in range(255)] + [0], dtype=np.uint64)
        fx = np.array([float(fs[i]) for i in range(257)])
        fx[0] = float(fs[1])   # (layer 0's wedge test is never reached: its overhang is the tail)
        return w, k, fx


# Marsaglia & Tsang's r for 256 layers, solved to 30 digits (see _ziggurat_tables)
ZIGGURAT_R = "7.697117470131049714044628048015"
_ZW, _ZK, _ZF = _ziggurat_tables()
_ZR = float(Decimal(ZIGGURAT_R))
_U255 = np.uint64(255)
_S8 = np.uint64(8)
_SALT = np.uint64(0x6A09E667F3BCC909)   # (frac(sqrt 2): a sub-stream key distinct from any draw's)


def mix64(z):
    """Stafford's Mix13 finaliser on a uint64."""
    z = (z ^ (z >> _S30)) * _C1
    z = (z ^ (z >> _S27)) * _C2
    return z ^ (z >> _S31)


def stream_key(seed, stream, ident):
    return mix64(mix64(np.uint64(seed) + _G * (np.uint64(stream) + _ONE)) + _G * (np.uint64(ident) + _ONE))


def uniform_key(key, k):
    """A float64 in (0, 1], draw k of the stream with this key."""
    bits = mix64(key + _G * (np.uint64(k) + _ONE)) >> _S11
    return 1.0 - float(bits) * _TWO_M53


def uniform_open0(seed, stream, ident, k):
    """A float64 in (0, 1], the k-th draw of stream (seed, stream, ident)."""
    return uniform_key(stream_key(seed, stream, ident), k)


def _extra(h, m):
    """The m-th (m >= 1) extra 64-bit value of the draw whose first value is h."""
    return mix64((h ^ _SALT) + _G * np.uint64(m))


def exp_rejected(h0):
    """The rest of ``exp_std`` for a draw whose first point (64 bits h0) is outside its
    layer's sure region (2.2 % of draws): out of line, so that the event loop's
    inlined draw holds no call."""
    h = h0
    m = 1
    while True:
        i = int(h & _U255)
        ri = h >> _S8
        x = float(ri) * _ZW[i]
        if ri < _ZK[i]:
            return x
        if i == 0:
            u = 1.0 - float(_extra(h0, m) >> _S11) * _TWO_M53   # (0, 1]
            return _ZR - math.log(u)
        u = float(_extra(h0, m) >> _S11) * _TWO_M53   # [0, 1)
        if _ZF[i] + u * (_ZF[i + 1] - _ZF[i]) < math.exp(-x):
            return x
        h = _extra(h0, m + 1)
        m += 2


def exp_std(key, k):
    """Draw k of the stream as a standard exponential variate (the ziggurat: see the
    module docstring). Layer i = the low 8 bits, ri = the high 56; outside the sure
    region (``exp_rejected``), a wedge point is kept when a uniform height in the layer
    falls under e^{-x}, a tail point is R - ln(u); a rejected point is replaced by a new
    one."""
    h = mix64(key + _G * (np.uint64(k) + _ONE))
    i = int(h & _U255)
    ri = h >> _S8
    if ri < _ZK[i]:
        return float(ri) * _ZW[i]
    return exp_rejected(h)


def exp_draw(key, k, mean):
    """Draw k of the stream, as an exponential interval with the given mean (ms)."""
    return exp_std(key, k) * mean


def exp_interval(seed, stream, ident, k, rate_per_ms):
    """An exponential inter-event interval (ms) with the given rate (1/ms)."""
    return exp_draw(stream_key(seed, stream, ident), k, 1.0 / rate_per_ms)


_FUNCTIONS = ("mix64", "stream_key", "uniform_key", "uniform_open0", "_extra", "exp_rejected", "exp_std", "exp_draw", "exp_interval")
CPU = compile_functions(globals(), _FUNCTIONS, "cpu", inline=("mix64", "uniform_key", "exp_std", "exp_draw"))
_targets = {"cpu": CPU}


def functions(target):
    """The stream functions compiled for ``target`` ("cpu", "cuda"), once per process."""
    if target not in _targets:
        _targets[target] = compile_functions(globals(), _FUNCTIONS, target)
    return _targets[target]
