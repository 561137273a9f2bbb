"""Counter-based random numbers (Philox4x32-10), identical on every backend.

Poisson trains are drawn inside the kernels from a stream keyed by
(seed, stream id, neuron id, draw index), so a neuron's train does not depend on
thread count, device, or how the run is split into windows (Salmon et al. 2011,
"Parallel random numbers: as easy as 1, 2, 3"; the Random123 Philox4x32-10).

Stream ids: ``STREAM_POISSON_STIMULUS + stimulus index`` for poisson stimuli and
``STREAM_POISSON_SOURCE + population index`` for poisson_source populations.
"""
import numpy as np

from .dual import compile_functions

STREAM_POISSON_STIMULUS = 0x10000
STREAM_POISSON_SOURCE = 0x20000

_M32 = np.uint64(0xFFFFFFFF)
_PM0 = np.uint64(0xD2511F53)
_PM1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_S32 = np.uint64(32)
_S21 = np.uint64(21)
_S11 = np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0


def philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox4x32 with 10 rounds; all arguments and results are uint64 holding 32-bit words."""
    for _ in range(10):
        p0 = _PM0 * c0
        p1 = _PM1 * c2
        hi0 = p0 >> _S32
        lo0 = p0 & _M32
        hi1 = p1 >> _S32
        lo1 = p1 & _M32
        c0, c1, c2, c3 = (hi1 ^ c1 ^ k0) & _M32, lo1, (hi0 ^ c3 ^ k1) & _M32, lo0
        k0 = (k0 + _W0) & _M32
        k1 = (k1 + _W1) & _M32
    return c0, c1, c2, c3


def uniform_open0(seed, stream, ident, k):
    """A float64 in (0, 1], the k-th draw of stream (seed, stream, ident)."""
    s = np.uint64(seed)
    c0, c1, c2, c3 = philox4x32(np.uint64(k) & _M32, (np.uint64(k) >> _S32) & _M32,
                                np.uint64(ident) & _M32, np.uint64(stream) & _M32,
                                s & _M32, (s >> _S32) & _M32)
    bits = ((c0 << _S21) ^ (c1 >> _S11)) & np.uint64(0x1FFFFFFFFFFFFF)
    return 1.0 - float(bits) * _TWO_M53


def exp_interval(seed, stream, ident, k, rate_per_ms):
    """An exponential inter-event interval (ms) with the given rate (1/ms)."""
    return -np.log(uniform_open0(seed, stream, ident, k)) / rate_per_ms


_FUNCTIONS = ("philox4x32", "uniform_open0", "exp_interval")
CPU = compile_functions(globals(), _FUNCTIONS, "cpu")
