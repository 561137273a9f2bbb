"""Connection rules: which (source, target) pairs a projection connects, in construction order.

Each rule works on blocks of targets (of sources for ``fixed_outdegree``, of pairs
for ``pairs``) of :data:`~eventsim.network.rng.BLOCK` elements; block b of
projection p draws from ``stream(seed, "conn", p, b)`` only, so blocks could be
built in any order or in parallel with the same result. Per synapse values
(weights, delays) are drawn per block too (:func:`synapse_values`).

Construction order, which fixes the order of a source's synapses in the CSR
table: target-major (target ascending, then the drawn order of its sources) for
the rules blocked by target; source-major for ``fixed_outdegree``; sorted by
(source, target) for ``fixed_probability``-like enumerations and ``pairs``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..distributions import Dist
from ..errors import InputError
from .rng import blocks, stream

EMPTY = np.zeros(0, dtype=np.int32)


@dataclass
class Edges:
    """The synapses of one projection in construction order (global ids, int32).

    A side given as an empty array is implicit: ``src[i] = src_first + i // src_repeat``
    (and likewise for targets), which saves 4 bytes per synapse while building
    rules such as fixed_indegree whose targets come in runs of equal length.
    ``block_starts`` are the synapse offsets at which the rule's blocks begin
    (length n_blocks + 1); per-synapse draws use the same blocks.
    """
    n: int
    src: np.ndarray
    tgt: np.ndarray
    block_starts: np.ndarray
    src_first: int = 0
    src_repeat: int = 1
    tgt_first: int = 0
    tgt_repeat: int = 1
    # per block, the synapses of the blocks a rank did not draw (Rule.want; None: all
    # drawn); the drawn blocks' synapses keep their construction order among themselves
    skipped: np.ndarray | None = None

    def total(self) -> int:
        """Synapses of the whole projection, drawn or not."""
        return self.n + (int(self.skipped.sum()) if self.skipped is not None else 0)

    def construction_index(self, pos):
        """Positions of drawn synapses -> their places in the whole projection's
        construction order (the skipped blocks' synapses counted in)."""
        if self.skipped is None:
            return pos
        before = np.concatenate([[0], np.cumsum(self.skipped)[:-1]])
        block = np.searchsorted(self.block_starts, pos, side="right") - 1
        return pos + before[block]

    def sources(self) -> np.ndarray:
        if self.src.shape[0] or self.n == 0:
            return self.src
        return (self.src_first + np.arange(self.n, dtype=np.int64) // self.src_repeat).astype(np.int32)

    def targets(self) -> np.ndarray:
        if self.tgt.shape[0] or self.n == 0:
            return self.tgt
        return (self.tgt_first + np.arange(self.n, dtype=np.int64) // self.tgt_repeat).astype(np.int32)


@numba.njit(cache=True)
def _sample_distinct(u, n, out, mark, row0):
    """Floyd's algorithm, one row per target: u[r] (k uniforms in [0, 1)) -> k distinct
    ints in range(n) written to out[r]. ``mark`` (int64, len n) remembers the row
    that last chose each value, so it never needs clearing; rows are numbered from row0."""
    rows, k = u.shape
    for r in range(rows):
        stamp = row0 + r
        for jj in range(k):
            j = n - k + jj
            x = int(u[r, jj] * (j + 1))
            if x > j:  # guard against rounding up at u close to 1
                x = j
            if mark[x] == stamp:
                x = j
            mark[x] = stamp
            out[r, jj] = x


@numba.njit(cache=True)
def _floyd(u, n):
    """Floyd's algorithm: len(u) distinct ints in range(n) from uniforms u in [0, 1)."""
    k = u.shape[0]
    taken = np.zeros(n, dtype=np.bool_)
    out = np.empty(k, dtype=np.int64)
    for jj in range(k):
        j = n - k + jj
        x = int(u[jj] * (j + 1))
        if x > j:
            x = j
        if taken[x]:
            x = j
        taken[x] = True
        out[jj] = x
    return out


# Above this many candidate pairs in a block, a uniform draw without replacement uses
# numpy's set-based sampler instead of Floyd's algorithm with a flag per candidate.
FLOYD_MAX = 1 << 26


def _draw_sources(rng, n_choices, rows, k, multapses, mark, row0):
    """(rows, k) int32 draws from range(n_choices), distinct within a row unless multapses."""
    if multapses:
        return rng.integers(0, n_choices, size=(rows, k), dtype=np.int32)
    u = rng.random((rows, k))
    out = np.empty((rows, k), dtype=np.int32)
    _sample_distinct(u, n_choices, out, mark, row0)
    return out


def _bernoulli_positions(rng, p, m):
    """Sorted positions in range(m) each chosen independently with probability p
    (geometric skipping: cost proportional to the number chosen)."""
    if p <= 0.0 or m == 0:
        return np.zeros(0, dtype=np.int64)
    if p >= 1.0:
        return np.arange(m, dtype=np.int64)
    parts, last = [], -1
    expected = p * m
    while True:
        chunk = int(expected + 5.0 * np.sqrt(expected) + 16)
        pos = np.cumsum(rng.geometric(p, chunk)) + last
        if pos[-1] >= m:
            parts.append(pos[pos < m])
            break
        parts.append(pos)
        last = int(pos[-1])
        expected = p * (m - last)
    return np.concatenate(parts)


def _skip_self(s, t_local):
    """Sources drawn from range(n - 1) -> range(n) without the target's own index."""
    s += (s >= t_local).astype(s.dtype)
    return s


class Rule:
    """What one projection needs to enumerate its synapses."""

    def __init__(self, spec, key, n_source, n_target, source_offset, target_offset, seed, index):
        self.spec, self.key = spec, key
        self.ns, self.nt = n_source, n_target
        self.so, self.to = source_offset, target_offset
        self.seed, self.index = seed, index
        self.same = spec["source"] == spec["target"]
        self.no_self = self.same and not spec.get("allow_autapses", False)
        self.multapses = spec.get("allow_multapses", True)

        self.want = None   # bool per block of targets: draw it (None: every block)

    def rng(self, block):
        return stream(self.seed, "conn", self.index, block)

    def wants(self, block):
        return self.want is None or bool(self.want[block])


# rules whose blocks of targets can be left undrawn by a rank that does not own them:
# their synapse count per block is known without drawing (fixed_probability's is not,
# and a rank must know the whole projection's count and, for drawn values, check them)
SKIPPABLE = ("all_to_all", "fixed_indegree", "fixed_total_number")


def _explicit_targets(r, rows, k):
    """Global target ids of drawn rows (target-local ids), k synapses each, in order."""
    return (np.repeat(np.asarray(rows, dtype=np.int64), k) + r.to).astype(np.int32)


def _all_to_all(r: Rule) -> Edges:
    k = r.ns - 1 if r.no_self else r.ns
    k = max(k, 0)
    spans = list(blocks(r.nt))
    drawn = [(b, a, e) for b, a, e in spans if r.wants(b)]
    n = sum(e - a for _, a, e in drawn) * k
    src = np.empty(n, dtype=np.int32)
    starts, skipped, pos = [0], np.zeros(len(spans), dtype=np.int64), 0
    for b, a, e in spans:
        if not r.wants(b):
            skipped[b] = (e - a) * k
            starts.append(pos)
            continue
        s = np.broadcast_to(np.arange(k, dtype=np.int32), (e - a, k)).copy()
        if r.no_self:
            _skip_self(s, np.arange(a, e, dtype=np.int32)[:, None])
        src[pos:pos + (e - a) * k] = (s + r.so).ravel()
        pos += (e - a) * k
        starts.append(pos)
    if len(drawn) < len(spans):
        tgt = _explicit_targets(r, np.concatenate([np.arange(a, e) for _, a, e in drawn] or [EMPTY]), k)
        return Edges(n, src, tgt, np.array(starts, dtype=np.int64), skipped=skipped)
    return Edges(n, src, EMPTY, np.array(starts, dtype=np.int64),
                 tgt_first=r.to, tgt_repeat=max(k, 1))


def _one_to_one(r: Rule) -> Edges:
    if r.ns != r.nt:
        raise InputError(f"{r.key}.rule: one_to_one needs equal sizes, source has {r.ns} "
                         f"neurons and target {r.nt}")
    if r.no_self:  # every pair would be an autapse
        return Edges(0, EMPTY, EMPTY, np.zeros(1, dtype=np.int64))
    starts = np.array([a for _, a, _ in blocks(r.nt)] + [r.nt], dtype=np.int64)
    return Edges(r.nt, np.arange(r.so, r.so + r.ns, dtype=np.int32), EMPTY, starts,
                 tgt_first=r.to, tgt_repeat=1)


def _fixed_degree(r: Rule, k: int, name: str, by_source: bool) -> Edges:
    """fixed_indegree (k sources per target) or, by_source, fixed_outdegree (k targets per source)."""
    n_rows, n_pool = (r.ns, r.nt) if by_source else (r.nt, r.ns)
    choices = n_pool - 1 if r.no_self else n_pool
    if k < 0:
        raise InputError(f"{r.key}.{name}: must be >= 0, got {k}")
    if k > 0 and choices <= 0:
        raise InputError(f"{r.key}.{name}: {k} requested but the population offers no allowed partner")
    if not r.multapses and k > choices:
        raise InputError(f"{r.key}.{name}: {k} distinct partners requested without multapses, "
                         f"but only {choices} are available")
    spans = list(blocks(n_rows))
    # (blocks of sources for fixed_outdegree are all drawn: their targets are anywhere)
    draw = [by_source or r.wants(b) for b, _, _ in spans]
    n = sum(e - a for (_, a, e), d in zip(spans, draw) if d) * k
    other = np.empty(n, dtype=np.int32)
    mark = None if r.multapses else np.full(max(choices, 1), -1, dtype=np.int64)
    starts, skipped, pos = [0], np.zeros(len(spans), dtype=np.int64), 0
    other_offset = r.to if by_source else r.so
    for (b, a, e), d in zip(spans, draw):
        if not d:
            skipped[b] = (e - a) * k
            starts.append(pos)
            continue
        s = _draw_sources(r.rng(b), choices, e - a, k, r.multapses, mark, a)
        if r.no_self:
            _skip_self(s, np.arange(a, e, dtype=np.int32)[:, None])
        s += other_offset
        other[pos:pos + (e - a) * k] = s.ravel()
        pos += (e - a) * k
        starts.append(pos)
    starts = np.array(starts, dtype=np.int64)
    if by_source:
        return Edges(n, EMPTY, other, starts, src_first=r.so, src_repeat=max(k, 1))
    if not all(draw):
        rows = np.concatenate([np.arange(a, e) for (_, a, e), d in zip(spans, draw) if d] or [EMPTY])
        return Edges(n, other, _explicit_targets(r, rows, k), starts, skipped=skipped)
    return Edges(n, other, EMPTY, starts, tgt_first=r.to, tgt_repeat=max(k, 1))


def _pairs_from_linear(r: Rule, lin, a):
    """Linear indices t * choices + s within a target block starting at a -> global (src, tgt)."""
    choices = r.ns - 1 if r.no_self else r.ns
    t = (lin // choices).astype(np.int32) + a
    s = (lin % choices).astype(np.int32)
    if r.no_self:
        _skip_self(s, t)
    return s + r.so, t + r.to


def _collect(r: Rule, parts):
    src = np.concatenate([p[0] for p in parts]) if parts else EMPTY
    tgt = np.concatenate([p[1] for p in parts]) if parts else EMPTY
    starts = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([p[0].shape[0] for p in parts], out=starts[1:])
    return Edges(int(src.shape[0]), src.astype(np.int32), tgt.astype(np.int32), starts)


def _fixed_probability(r: Rule) -> Edges:
    p = float(r.spec["p"])
    if not 0.0 <= p <= 1.0:
        raise InputError(f"{r.key}.p: must be in [0, 1], got {p}")
    choices = r.ns - 1 if r.no_self else r.ns
    parts = []
    for b, a, e in blocks(r.nt):
        lin = _bernoulli_positions(r.rng(b), p, (e - a) * max(choices, 0))
        parts.append(_pairs_from_linear(r, lin, a))
    return _collect(r, parts)


def _fixed_total_number(r: Rule) -> Edges:
    n = int(r.spec["n"])
    choices = max(r.ns - 1 if r.no_self else r.ns, 0)
    spans = list(blocks(r.nt))
    capacity = np.array([(e - a) * choices for _, a, e in spans], dtype=np.int64)
    total = int(capacity.sum())
    if n < 0:
        raise InputError(f"{r.key}.n: must be >= 0, got {n}")
    if n > 0 and total == 0:
        raise InputError(f"{r.key}.n: {n} synapses requested but there is no allowed pair")
    if not r.multapses and n > total:
        raise InputError(f"{r.key}.n: {n} distinct pairs requested without multapses, "
                         f"but only {total} exist")
    if n == 0:
        return Edges(0, EMPTY, EMPTY, np.zeros(len(spans) + 1, dtype=np.int64))
    # How many synapses fall in each target block: the marginal of drawing n pairs
    # uniformly with replacement (multinomial) or without (multivariate hypergeometric).
    split = stream(r.seed, "split", r.index)
    if r.multapses:
        counts = split.multinomial(n, capacity / total)
    else:
        counts = split.multivariate_hypergeometric(capacity, n)
    parts = []
    skipped = np.zeros(len(spans), dtype=np.int64)
    for (b, a, e), m, cap in zip(spans, counts, capacity):
        if not r.wants(b):
            skipped[b] = m
            parts.append((EMPTY, EMPTY))
            continue
        rng = r.rng(b)
        if r.multapses:
            lin = rng.integers(0, cap, size=int(m), dtype=np.int64)
        else:
            lin = (_floyd(rng.random(int(m)), int(cap)) if cap <= FLOYD_MAX else
                   rng.choice(int(cap), size=int(m), replace=False, shuffle=False))
        parts.append(_pairs_from_linear(r, np.sort(lin), a))
    edges = _collect(r, parts)
    if r.want is not None:
        edges.skipped = skipped
    return edges


def sorted_pairs(pairs, key, n_source, n_target):
    """(src, tgt, order) local ids of an explicit pair list, checked and stably sorted by
    (source, target); ``order`` maps sorted positions to the given positions."""
    arr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2) if len(pairs) else np.zeros((0, 2), np.int64)
    problems = []
    for col, n, side in ((0, n_source, "source"), (1, n_target, "target")):
        bad = np.flatnonzero((arr[:, col] < 0) | (arr[:, col] >= n))
        for i in bad[:5]:
            problems.append(f"{key}.pairs[{i}]: {side} id {arr[i, col]} is outside 0..{n - 1}")
        if bad.shape[0] > 5:
            problems.append(f"{key}.pairs: {bad.shape[0] - 5} more {side} ids out of range")
    if problems:
        raise InputError(problems)
    order = np.lexsort((arr[:, 1], arr[:, 0]))  # stable: duplicates keep their order
    return arr[order, 0], arr[order, 1], order


def _pairs(r: Rule) -> Edges:
    src, tgt, r.order = sorted_pairs(r.spec["pairs"], r.key, r.ns, r.nt)
    n = src.shape[0]
    starts = np.array([a for _, a, _ in blocks(n)] + [n], dtype=np.int64)
    return Edges(n, (src + r.so).astype(np.int32), (tgt + r.to).astype(np.int32), starts)


RULES = ("all_to_all", "one_to_one", "fixed_probability", "fixed_indegree",
         "fixed_outdegree", "fixed_total_number", "pairs")


def connect(rule: Rule) -> Edges:
    """The synapses of one projection (see the module docstring for the order)."""
    name = rule.spec["rule"]
    if name == "all_to_all":
        return _all_to_all(rule)
    if name == "one_to_one":
        return _one_to_one(rule)
    if name == "fixed_probability":
        return _fixed_probability(rule)
    if name == "fixed_indegree":
        return _fixed_degree(rule, int(rule.spec["indegree"]), "indegree", by_source=False)
    if name == "fixed_outdegree":
        return _fixed_degree(rule, int(rule.spec["outdegree"]), "outdegree", by_source=True)
    if name == "fixed_total_number":
        return _fixed_total_number(rule)
    if name == "pairs":
        return _pairs(rule)
    raise InputError(f"{rule.key}.rule: unknown rule {name!r}; expected one of {', '.join(RULES)}")


def synapse_values(value, seed, domain, index, block_starts, key):
    """float64 per-synapse values of a projection: shape (1,) for a number (stored once),
    (n,) for a Dist (block b drawn from stream(seed, domain, index, b)) or an array
    (explicit values, already in construction order)."""
    n = int(block_starts[-1])
    if isinstance(value, Dist):
        out = np.empty(n, dtype=np.float64)
        for b in range(block_starts.shape[0] - 1):
            a, e = int(block_starts[b]), int(block_starts[b + 1])
            if e > a:
                try:
                    out[a:e] = value.draw(stream(seed, domain, index, b), e - a)
                except ValueError as exc:
                    raise InputError(f"{key}: {exc}") from None
        return out
    if isinstance(value, np.ndarray):
        if value.shape[0] != n:
            raise ValueError(f"{key}: {value.shape[0]} values for {n} synapses")
        return np.ascontiguousarray(value, dtype=np.float64)
    return np.array([float(value)], dtype=np.float64)
