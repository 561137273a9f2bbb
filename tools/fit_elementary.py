"""The coefficients of eventsim/engine/elementary.py's polynomials, fitted again.

    python tools/fit_elementary.py

Needs mpmath (not a dependency of eventsim). For each polynomial q it prints the fit's
error on its interval (60 digits), the error of q with its coefficients rounded to
float64, and the coefficients, lowest degree first, as elementary.py writes them:

- ``exp_poly``: e^x = 1 + x + x^2 q(x) on [-2^-3, 0], q of degree 6;
- ``expm1_poly``: e^x - 1 = x + x^2/2 + x^3 q(x) on [-1, 0], q of degree 11.

Each q is mpmath's ``chebyfit`` of the exact quotient: interpolation at Chebyshev nodes,
near-minimax (its error spreads evenly over the interval, where Taylor's is all at the
far end), so that a lower degree reaches the same error. tests/test_elementary.py checks
the functions against 60-digit references, whatever their coefficients.
"""
import sys

try:
    import mpmath as mp
except ImportError:
    sys.exit("tools/fit_elementary.py needs mpmath (pip install mpmath): not one of eventsim's dependencies")

mp.mp.dps = 60


def exp_q(x):
    """(e^x - 1 - x) / x^2 (its series near 0, where the quotient cancels)."""
    x = mp.mpf(x)
    if abs(x) < mp.mpf("1e-20"):
        return mp.mpf(1) / 2 + x / 6
    return (mp.exp(x) - 1 - x) / x ** 2


def expm1_q(x):
    """(e^x - 1 - x - x^2/2) / x^3 (its series near 0)."""
    x = mp.mpf(x)
    if abs(x) < mp.mpf("1e-20"):
        return mp.mpf(1) / 6 + x / 24
    return (mp.expm1(x) - x - x * x / 2) / x ** 3


FITS = (("exp_poly", exp_q, mp.mpf(-1) / 8, 6), ("expm1_poly", expm1_q, mp.mpf(-1), 11))


def fit(f, a, degree):
    """(coefficients as float64, lowest first; the fit's error; the error with those)."""
    poly, err = mp.chebyfit(f, [a, 0], degree + 1, error=True)
    coef = [float(c) for c in poly[::-1]]
    worst = max(abs(sum(mp.mpf(c) * x ** k for k, c in enumerate(coef)) - f(x))
                for x in (a * mp.mpf(i) / 4000 for i in range(4001)))
    return coef, err, worst


def main():
    for name, f, a, degree in FITS:
        coef, err, worst = fit(f, a, degree)
        print(f"{name}: q of degree {degree} on [{mp.nstr(a, 4)}, 0]: fit error {mp.nstr(err, 3)}, "
              f"with float64 coefficients {mp.nstr(worst, 3)}")
        print("   ", ", ".join(repr(c) for c in coef))


if __name__ == "__main__":
    main()
