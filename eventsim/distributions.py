"""Values that are either a number or a distribution drawn per element.

A scenario value ``{normal = [mean, std], min = 0.1}`` becomes
``Dist("normal", (mean, std), min=0.1)``. Draws outside ``[min, max]`` are redrawn
from the same keyed stream, so the result depends only on the seed and the key.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("uniform", "normal", "lognormal")


@dataclass(frozen=True)
class Dist:
    kind: str                 # "uniform" | "normal" | "lognormal"
    args: tuple               # (low, high) | (mean, std) | (mu, sigma)
    min: float | None = None  # inclusive bounds; values outside are redrawn
    max: float | None = None

    def support(self):
        """(lowest, highest) value a draw can take, bounds included."""
        if self.kind == "uniform":
            lo, hi = self.args
        elif self.kind == "normal":
            lo, hi = (-np.inf, np.inf) if self.args[1] > 0 else (self.args[0], self.args[0])
        else:  # lognormal
            lo, hi = (0.0, np.inf) if self.args[1] > 0 else (np.exp(self.args[0]),) * 2
        if self.min is not None:
            lo = max(lo, self.min)
        if self.max is not None:
            hi = min(hi, self.max)
        return lo, hi

    def can_reach_nonpositive(self):
        """True if a draw can be <= 0 (lognormal draws never are)."""
        if self.kind == "lognormal":
            return False
        return self.support()[0] <= 0

    def to_scenario(self):
        d = {self.kind: list(self.args)}
        if self.min is not None:
            d["min"] = self.min
        if self.max is not None:
            d["max"] = self.max
        return d

    def _raw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        a, b = self.args
        if self.kind == "uniform":
            return rng.uniform(a, b, n)
        if self.kind == "normal":
            return rng.normal(a, b, n)
        return rng.lognormal(a, b, n)

    def draw(self, rng: np.random.Generator, n: int, max_rounds: int = 1000) -> np.ndarray:
        """n float64 values; out-of-bounds values are redrawn (in index order) from ``rng``."""
        out = self._raw(rng, n)
        for _ in range(max_rounds):
            bad = np.zeros(n, dtype=bool)
            if self.min is not None:
                bad |= out < self.min
            if self.max is not None:
                bad |= out > self.max
            k = int(bad.sum())
            if k == 0:
                return out
            out[bad] = self._raw(rng, k)
        raise ValueError(f"{self.to_scenario()}: could not draw values inside [min, max] "
                         f"after {max_rounds} rounds; the bounds exclude almost all of the distribution")


def draw_values(value, rng: np.random.Generator, n: int) -> np.ndarray:
    """A number repeated n times, or n draws of a Dist."""
    if isinstance(value, Dist):
        return value.draw(rng, n)
    return np.full(n, float(value))
