"""The event loop's e^x and e^x - 1 (eventsim.engine.elementary) against 60-digit references.

The references come from ``decimal`` (correctly rounded at 60 digits), not from the
functions under test; the bounds are the ones the module's docstring states (what glibc's
``exp``/``expm1`` reach on the same points is printed for comparison).
"""
import math
from decimal import Decimal, getcontext

import numpy as np
import pytest
from numba import njit

from eventsim.engine import elementary
from eventsim.engine.dual import compile_functions

getcontext().prec = 60

# compiled as a kernel binds them (exp_poly first: the others call it)
_C = compile_functions(vars(elementary), elementary.FUNCTIONS, "cpu")
exp_neg = _C.exp_neg
exp_neg_ahead = _C.exp_neg_ahead
expm1_neg = _C.expm1_neg


def _expm1(d):
    """e^d - 1 by its series in 60-digit decimals (no cancellation, tiny d included)."""
    term, total, k = d, d, 1
    while abs(term) > abs(total) * Decimal(10) ** -70:
        k += 1
        term = term * d / k
        total += term
    return total


def _ulps(y, exact):
    """|y - exact| in units of the last place of the double nearest exact."""
    if exact == 0:
        return 0.0 if y == 0.0 else math.inf
    return float(abs(Decimal(y) - exact) / Decimal(float(np.spacing(abs(float(exact))))))


def _points(cut, n, low=0.0):
    """n random points in [-cut, -low], and where low = 0 tiny ones and zeros too."""
    rng = np.random.default_rng(20261206)
    pts = -(low + rng.random(n) * (cut - low))
    ends = [-cut, -cut * (1 - 2.0 ** -52)]
    if low > 0.0:
        return np.concatenate([pts, ends, [-low]])
    tiny = -cut * 2.0 ** -rng.integers(1, 60, 300).astype(float)
    return np.concatenate([pts, tiny, ends, [-2.0 ** -1074, -0.0, 0.0]])


@pytest.mark.parametrize("fn,ref,lib,cut,low,bound", [
    (exp_neg, lambda d: d.exp(), math.exp, 2.0 ** -6, 0.0, 0.51),
    (exp_neg, lambda d: d.exp(), math.exp, 2.0 ** -3, 0.0, 0.6),
    (expm1_neg, _expm1, math.expm1, 2.0 ** -2, 0.0, 0.65),
    (expm1_neg, _expm1, math.expm1, 1.0, 0.5, 1.2),
    (expm1_neg, _expm1, math.expm1, 2.0, 1.0, 1.6),
])
def test_polynomial_range_within_stated_ulps(fn, ref, lib, cut, low, bound):
    """Points in [-cut, -low] (and tiny ones, and the ends)."""
    worst = worst_lib = 0.0
    for x in _points(cut, 6000, low):
        exact = ref(Decimal(float(x)))
        worst = max(worst, _ulps(fn(float(x)), exact))
        worst_lib = max(worst_lib, _ulps(lib(float(x)), exact))
    print(f"max error {worst:.3f} ulp (the C library: {worst_lib:.3f})")
    assert worst <= bound


def test_outside_the_range_math_itself():
    for x in (-0.125 * (1 + 2.0 ** -52), -0.2, -1.0, -30.0, -745.0, -800.0, 1e-3, 2.0, -math.inf):
        assert exp_neg(x) == math.exp(x)
    for x in (-2.0 * (1 + 2.0 ** -52), -2.5, -5.0, -40.0, 1e-3, -math.inf):
        assert expm1_neg(x) == math.expm1(x)
    assert math.isnan(exp_neg(math.nan)) and math.isnan(expm1_neg(math.nan))
    assert exp_neg(0.0) == 1.0 and expm1_neg(0.0) == 0.0


def test_python_source_computes_what_the_compiled_one_computes():
    """The CUDA simulator (and any target) runs this source: the same operations, the
    same bits as numba's CPU compilation."""
    for x in _points(2.0, 1000):
        x = float(x)
        assert elementary.exp_neg(x) == exp_neg(x)
        assert elementary.expm1_neg(x) == expm1_neg(x)


def test_exp_neg_ahead_is_exp_neg_in_range_nan_outside():
    """The factors computed ahead (neuron_loop.leak_ahead) are exp_neg's to the bit where its
    polynomial applies, and nan (the loop then leaves the input to its general path) where
    exp_neg would call math.exp."""
    for x in _points(2.0 ** -3, 2000):
        x = float(x)
        assert exp_neg_ahead(x) == exp_neg(x)
        assert elementary.exp_neg_ahead(x) == exp_neg(x)
    for x in (-0.125 * (1 + 2.0 ** -52), -0.2, -1.0, 1e-300, 2.0, -math.inf, math.inf, math.nan):
        assert math.isnan(exp_neg_ahead(x)), x
        assert math.isnan(elementary.exp_neg_ahead(x)), x


def test_exp_neg_ahead_vectorised_loop_matches_scalar():
    """A loop of it over an array (what the compiler vectorises) gives the scalar results."""
    ahead = exp_neg_ahead

    @njit
    def fill(x, out):
        for k in range(x.shape[0]):
            out[k] = ahead(x[k])

    x = np.concatenate([-np.random.default_rng(3).random(997) * 0.16, [-0.125, 0.0, -0.0, 1e-3]])
    out = np.empty_like(x)
    fill(x, out)
    for k in range(x.size):
        want = exp_neg(float(x[k])) if -0.125 <= x[k] <= 0.0 else math.nan
        assert out[k] == want or (math.isnan(out[k]) and math.isnan(want))
