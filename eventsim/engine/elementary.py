"""e^x and e^x - 1 for the event loop, written once as plain Python for every target.

The neuron kernels evaluate one decay factor e^{-dt/tau} per input, with dt the time
since the neuron's previous input. In a busy network dt/tau is small (Brunel: about
7e-4; the microcircuit's membrane 7e-3, its synapses 0.13), and there a short
polynomial is as accurate as the C library and needs no call: a call makes every
value live across it go through the stack (with LIF's delta kernel this took Brunel's
loop 12 % down: docs/benchmarks.md). Outside the polynomials' ranges both fall back to
``math``'s.

Accuracy (tests/test_elementary.py, against 60-digit decimal references): ``exp_neg``
within 0.51 ulp on [-2^-6, 0], ``expm1_neg`` within 0.71 ulp on [-2^-2, 0] (the test
allows 0.51 and 0.73); glibc's ``exp`` and ``expm1`` reach 0.50 and 0.61 ulp on the
same points. The truncation errors (the first
term left out, relative) are below 2^-62, far below rounding. Both are plain
arithmetic, so that the cuda target computes what the CPU computes (no library of its
own in between), and numba's CUDA simulator runs this source as it is.

A kernel binds them by importing them into its globals and naming them in its
FUNCTIONS (and INLINE; ``exp_poly`` before the functions that call it), and lists this
module in its SOURCE_MODULES (the compiled loop's cache entries are named after the
hash of these sources).
"""
import math


def exp_poly(x):
    """``exp_neg``'s polynomial: e^x for -2^-6 <= x <= 0, 1 + x + x^2 q(x) with q of
    degree 7 (truncation x^8/8! < 2^-62 relative), in Estrin's scheme: its latency (it
    lies between an input's arrival and the neuron's next threshold test) is half of
    Horner's."""
    x2 = x * x
    q = (1.0 / 2.0 + x * (1.0 / 6.0)) + x2 * ((1.0 / 24.0 + x * (1.0 / 120.0))
                                           + x2 * (1.0 / 720.0 + x * (1.0 / 5040.0)))
    return 1.0 + (x + x2 * q)


def exp_neg(x):
    """e^x, for x <= 0 mostly small: ``exp_poly`` on [-2^-6, 0], math.exp elsewhere (and
    for nan)."""
    if -0.015625 <= x <= 0.0:
        return exp_poly(x)
    return math.exp(x)


def exp_neg_ahead(x):
    """``exp_neg(x)`` where it is ``exp_poly(x)``, nan elsewhere: no branch and no call,
    so that a loop of it over many x vectorises (the neuron loop computes a neuron's
    decay factors of a window ahead this way); the caller takes ``exp_neg`` where it
    finds nan."""
    y = exp_poly(x)
    return y if (-0.015625 <= x) & (x <= 0.0) else math.nan


def expm1_neg(x):
    """e^x - 1, for x <= 0 mostly small: x + x^2 q(x), q of degree 11, on [-2^-2, 0]
    (truncation x^13/14! < 2^-62 relative to x; the x^2 q term, at most x/8, carries
    its rounding into the last place only), math.expm1 elsewhere. Estrin's scheme, as
    ``exp_neg``."""
    if -0.25 <= x <= 0.0:
        x2 = x * x
        x4 = x2 * x2
        q = (((1.0 / 2.0 + x * (1.0 / 6.0)) + x2 * (1.0 / 24.0 + x * (1.0 / 120.0)))
             + x4 * ((1.0 / 720.0 + x * (1.0 / 5040.0)) + x2 * (1.0 / 40320.0 + x * (1.0 / 362880.0)))
             + (x4 * x4) * ((1.0 / 3628800.0 + x * (1.0 / 39916800.0))
                            + x2 * (1.0 / 479001600.0 + x * (1.0 / 6227020800.0))))
        return x + x2 * q
    return math.expm1(x)


FUNCTIONS = ("exp_poly", "exp_neg", "exp_neg_ahead", "expm1_neg")
