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

Near 0, where almost every input falls, each has a shorter polynomial
(``exp_poly_short`` on [-2^-6, 0]: the microcircuit's membrane up to dt = 0.156 ms,
``expm1_poly_short`` on [-1/4, 0]: its synapses up to 0.13 ms), 14 terms fewer per input
than the polynomials of the whole range; a branch on the range that goes the same way at
almost every input chooses. The microcircuit's loop about 4 % faster (session 27,
docs/benchmarks.md). Each short polynomial is accurate to the same bounds as the long
one (its truncation is far below rounding), but rounds its own way: the two differ by
one ulp in about one point in 10^4. The four reference runs of docs/benchmarks.md gave
the same spikes to the bit after the change; another network may see a spike time move
by its last bit, within the contract's tolerances.

Accuracy (tests/test_elementary.py, against 60-digit decimal references): ``exp_neg``
within 0.6 ulp on [-2^-3, 0] (0.51 on [-2^-6, 0]); ``expm1_neg`` within 0.65 ulp on
[-2^-2, 0], 1.2 ulp on [-1, 0] and 1.6 ulp on [-2, -1); glibc's ``exp`` and ``expm1``
reach 0.50 and 0.75 ulp on the same points. The truncation errors (the first term left
out, relative) are below 2^-56. Both are plain arithmetic, so that the cuda target
computes what the CPU computes (no library of its own in between), and numba's CUDA
simulator runs this source as it is.

A kernel binds them by importing them into its globals and naming them in its
FUNCTIONS (and INLINE) in the order of this module's FUNCTIONS (callees first), and
lists this module in its SOURCE_MODULES (the compiled loop's cache entries are named
after the hash of these sources).
"""
import math


def exp_poly(x):
    """``exp_neg``'s polynomial away from 0: e^x for -2^-3 <= x <= 0, 1 + x + x^2 q(x) with q of
    degree 8 (truncation x^11/11! < 2^-58 relative), in Estrin's scheme: its latency (it
    lies between an input's arrival and the neuron's next threshold test) is half of
    Horner's."""
    x2 = x * x
    x4 = x2 * x2
    q = (((1.0 / 2.0 + x * (1.0 / 6.0)) + x2 * (1.0 / 24.0 + x * (1.0 / 120.0)))
         + x4 * ((1.0 / 720.0 + x * (1.0 / 5040.0)) + x2 * (1.0 / 40320.0 + x * (1.0 / 362880.0)))
         + (x4 * x4) * (1.0 / 3628800.0))
    return 1.0 + (x + x2 * q)


def exp_poly_short(x):
    """``exp_neg``'s polynomial near 0: e^x for -2^-6 <= x <= 0, 1 + x + x^2 q(x) with q of
    degree 5 (truncation x^8/8! < 2^-63 relative), in Estrin's scheme. Where ``exp_poly``
    applies too, the two differ in about one point in 10^4, by one ulp."""
    x2 = x * x
    q = ((1.0 / 2.0 + x * (1.0 / 6.0)) + x2 * (1.0 / 24.0 + x * (1.0 / 120.0))) + (x2 * x2) * (1.0 / 720.0 + x * (1.0 / 5040.0))
    return 1.0 + (x + x2 * q)


def exp_neg(x):
    """e^x, for x <= 0 mostly small: ``exp_poly_short`` on [-2^-6, 0], ``exp_poly`` on
    [-2^-3, -2^-6), math.exp elsewhere (and for nan)."""
    if -0.015625 <= x <= 0.0:
        return exp_poly_short(x)
    if -0.125 <= x <= 0.0:
        return exp_poly(x)
    return math.exp(x)


def exp_neg_ahead(x):
    """``exp_neg(x)`` where it is ``exp_poly_short(x)``, nan elsewhere: no branch and no
    call, so that a loop of it over many x vectorises (the neuron loop computes a neuron's
    decay factors of a window ahead this way); the caller takes ``exp_neg`` where it
    finds nan."""
    y = exp_poly_short(x)
    return y if (-0.015625 <= x) & (x <= 0.0) else math.nan


def expm1_poly(x):
    """e^x - 1 for -1 <= x <= 0: x + (x^2/2 + x^3 q(x)), q of degree 15 (truncation
    x^19/19! < 2^-56 relative to e^x - 1), in Estrin's scheme as ``exp_poly``. x^2/2
    stands apart, the largest term after x, rounded once: with all of x^2 (1/2 + x q)
    in one term the error reached 1.75 ulp on [-1, -1/2], 1.2 this way."""
    x2 = x * x
    x4 = x2 * x2
    x8 = x4 * x4
    q = ((((1.0 / 6.0 + x * (1.0 / 24.0)) + x2 * (1.0 / 120.0 + x * (1.0 / 720.0)))
          + x4 * ((1.0 / 5040.0 + x * (1.0 / 40320.0)) + x2 * (1.0 / 362880.0 + x * (1.0 / 3628800.0))))
         + x8 * (((1.0 / 39916800.0 + x * (1.0 / 479001600.0))
                  + x2 * (1.0 / 6227020800.0 + x * (1.0 / 87178291200.0)))
                 + x4 * ((1.0 / 1307674368000.0 + x * (1.0 / 20922789888000.0))
                         + x2 * (1.0 / 355687428096000.0 + x * (1.0 / 6402373705728000.0)))))
    return x + (0.5 * x2 + (x2 * x) * q)


def expm1_poly_short(x):
    """``expm1_neg``'s polynomial near 0: e^x - 1 for -1/4 <= x <= 0, ``expm1_poly``'s form
    with q of degree 10 (truncation x^14/14! < 2^-62 relative to e^x - 1). Where
    ``expm1_poly`` applies too, the two differ in about one point in 10^4, by one ulp."""
    x2 = x * x
    x4 = x2 * x2
    q = ((((1.0 / 6.0 + x * (1.0 / 24.0)) + x2 * (1.0 / 120.0 + x * (1.0 / 720.0)))
          + x4 * ((1.0 / 5040.0 + x * (1.0 / 40320.0)) + x2 * (1.0 / 362880.0 + x * (1.0 / 3628800.0))))
         + (x4 * x4) * ((1.0 / 39916800.0 + x * (1.0 / 479001600.0)) + x2 * (1.0 / 6227020800.0)))
    return x + (0.5 * x2 + (x2 * x) * q)


def expm1_neg(x):
    """e^x - 1, for x <= 0 mostly small: ``expm1_poly_short`` on [-1/4, 0], ``expm1_poly`` on
    [-1, -1/4); on [-2, -1) from m =
    ``expm1_poly(x/2)`` as m (2 + m) (no cancellation: m < 0 < 2 + m); math.expm1
    elsewhere (and for nan)."""
    if -0.25 <= x <= 0.0:
        return expm1_poly_short(x)
    if -1.0 <= x <= 0.0:
        return expm1_poly(x)
    if -2.0 <= x < -1.0:
        m = expm1_poly(0.5 * x)
        return m * (2.0 + m)
    return math.expm1(x)


# (callees first)
FUNCTIONS = ("exp_poly", "exp_poly_short", "exp_neg", "exp_neg_ahead", "expm1_poly", "expm1_poly_short", "expm1_neg")
