"""e^x and e^x - 1 for the event loop, written once as plain Python for every target.

The neuron kernels evaluate one decay factor e^{-dt/tau} per input, with dt the time
since the neuron's previous input. In a busy network dt/tau is small (Brunel: about
7e-4; the microcircuit's membrane 0.014 on average, its synapses 0.27, with a tail to a
few times that), and there a polynomial is as accurate as the C library and needs no
call: a call makes every value live across it go through the stack (with LIF's delta
kernel this took Brunel's loop 12 % down: docs/benchmarks.md). Outside the
polynomials' ranges both fall back to ``math``'s.

The ranges are wide enough that almost every input of the microcircuit falls inside
(e^{-dt/tau_m} for dt up to 1.25 ms; e^{-(1/tau_s - 1/tau_m) dt} - 1, 1.9 per ms there,
for dt up to 0.53 ms, and with one doubling step up to 1.05 ms), and each polynomial is
evaluated directly, with no range reduction: its latency lies on the chain from an input to the neuron's next threshold
test, and a reduction step (a table index, the reduced argument, the table factor)
lengthened that chain so much that a table-driven form gained nothing over the library's
call (docs/benchmarks.md, sessions 15 and 20).

Accuracy (tests/test_elementary.py, against 60-digit decimal references): ``exp_neg``
within 0.6 ulp on [-2^-3, 0] (0.51 on [-2^-6, 0]); ``expm1_neg`` within 0.65 ulp on
[-2^-2, 0], 1.2 ulp on [-1, 0] and 1.6 ulp on [-2, -1); glibc's ``exp`` and ``expm1``
reach 0.50 and 0.75 ulp on the same points. The truncation errors are below 2^-58
relative: each polynomial's q is a near-minimax fit (tools/fit_elementary.py), of degree
6 for e^x and 11 for e^x - 1, where Taylor's needed 8 and 15 (session 27: six terms
fewer per input, without a branch; the microcircuit's loop 4 % faster with its full
in-degrees and 9 % with scaled ones, docs/benchmarks.md; spike times of a network move
in their last bits, 1e-12 ms after 300 ms of CUBA). Both are plain arithmetic, so that the cuda target
computes what the CPU computes (no library of its own in between), and numba's CUDA
simulator runs this source as it is.

A kernel binds them by importing them into its globals and naming them in its
FUNCTIONS (and INLINE) in the order of this module's FUNCTIONS (callees first), and
lists this module in its SOURCE_MODULES (the compiled loop's cache entries are named
after the hash of these sources).
"""
import math


def exp_poly(x):
    """``exp_neg``'s polynomial: e^x for -2^-3 <= x <= 0, 1 + x + x^2 q(x) with q of
    degree 6, in Estrin's scheme: its latency (it lies between an input's arrival and the
    neuron's next threshold test) is half of Horner's. q is a near-minimax fit of
    (e^x - 1 - x)/x^2 on [-2^-3, 0] (Chebyshev interpolation at 60 digits:
    tools/fit_elementary.py), within 1.7e-16 of it there: the truncation error is below
    2^-58 relative, where Taylor's q needed degree 8 for it."""
    x2 = x * x
    x4 = x2 * x2
    q = (((0.49999999999999983 + x * 0.16666666666654625) + x2 * (0.041666666651245174 + x * 0.0083333325921337))
         + x4 * ((0.0013888719081693336 + x * 0.00019821262679681735) + x2 * 2.3627378260456814e-05))
    return 1.0 + (x + x2 * q)


def exp_neg(x):
    """e^x, for x <= 0 mostly small: ``exp_poly`` on [-2^-3, 0], math.exp elsewhere (and
    for nan)."""
    if -0.125 <= x <= 0.0:
        return exp_poly(x)
    return math.exp(x)


def exp_neg_ahead(x):
    """``exp_neg(x)`` where it is ``exp_poly(x)``, nan elsewhere: no branch and no call,
    so that a loop of it over many x vectorises (the neuron loop computes a neuron's
    decay factors of a window ahead this way); the caller takes ``exp_neg`` where it
    finds nan."""
    y = exp_poly(x)
    return y if (-0.125 <= x) & (x <= 0.0) else math.nan


def expm1_poly(x):
    """e^x - 1 for -1 <= x <= 0: x + (x^2/2 + x^3 q(x)), q of degree 11, a near-minimax fit
    of (e^x - 1 - x - x^2/2)/x^3 on [-1, 0] (as ``exp_poly``'s), within 1.1e-17
    of it there (the rounding of its first coefficient, 1/6, is most of that): the
    truncation error is below 2^-62 relative to e^x - 1, where Taylor's q needed degree 15
    for 2^-56. In Estrin's scheme as ``exp_poly``. x^2/2 stands apart, the largest term
    after x, rounded once: with all of x^2 (1/2 + x q) in one term the error reached
    1.75 ulp on [-1, -1/2], 1.2 this way."""
    x2 = x * x
    x4 = x2 * x2
    x8 = x4 * x4
    q = (((0.16666666666666666 + x * 0.04166666666666665) + x2 * (0.00833333333333247 + x * 0.001388888888872712))
         + x4 * ((0.00019841269825620665 + x * 2.480158640720805e-05)
                 + x2 * (2.7557286761537225e-06 + x * 2.755654152433202e-07))
         + x8 * ((2.5039626817896517e-08 + x * 2.0743464091464554e-09)
                 + x2 * (1.514301957269351e-10 + x * 7.722609696190044e-12)))
    return x + (0.5 * x2 + (x2 * x) * q)


def expm1_neg(x):
    """e^x - 1, for x <= 0 mostly small: ``expm1_poly`` on [-1, 0]; on [-2, -1) from m =
    ``expm1_poly(x/2)`` as m (2 + m) (no cancellation: m < 0 < 2 + m); math.expm1
    elsewhere (and for nan)."""
    if -1.0 <= x <= 0.0:
        return expm1_poly(x)
    if -2.0 <= x < -1.0:
        m = expm1_poly(0.5 * x)
        return m * (2.0 + m)
    return math.expm1(x)


FUNCTIONS = ("exp_poly", "exp_neg", "exp_neg_ahead", "expm1_poly", "expm1_neg")
