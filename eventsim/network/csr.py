"""Assembling projections' synapses into the CSR-by-source table of :class:`Network`.

The layout equals that of :func:`eventsim.network.core.csr_from_edges` (synapses
grouped by source, then projection index, then construction order; delays as a
uint16 index into the sorted table of distinct delays when there are at most
65,535 of them) but is produced by a counting sort in one pass over the edges,
without the O(n log n) lexsort and without materialising concatenated edge lists:
peak memory is the final table plus whatever the projections still hold.
"""
from __future__ import annotations

import numba
import numpy as np

MAX_DELAY_TABLE = 65535


@numba.njit(cache=True)
def _count(counts, n, src, src_first, src_repeat):
    if src.shape[0] > 0:
        for i in range(n):
            counts[src[i]] += 1
    else:
        for i in range(n):
            counts[src_first + i // src_repeat] += 1


@numba.njit(cache=True)
def _scatter_targets(cursor, n, src, src_first, src_repeat, tgt, tgt_first, tgt_repeat, out):
    """Place the target of edge i of one projection at cursor[source]++ (a stable counting sort)."""
    explicit_src = src.shape[0] > 0
    explicit_tgt = tgt.shape[0] > 0
    for i in range(n):
        s = src[i] if explicit_src else src_first + i // src_repeat
        pos = cursor[s]
        cursor[s] = pos + 1
        out[pos] = tgt[i] if explicit_tgt else tgt_first + i // tgt_repeat


@numba.njit(cache=True)
def _scatter_values(cursor, n, src, src_first, src_repeat, values, table, out):
    """As _scatter_targets for per-synapse values; with a non-empty ``table`` a value is
    stored as its index in the table (which holds every value exactly)."""
    explicit_src = src.shape[0] > 0
    use_table = table.shape[0] > 0
    for i in range(n):
        s = src[i] if explicit_src else src_first + i // src_repeat
        pos = cursor[s]
        cursor[s] = pos + 1
        if use_table:
            out[pos] = np.searchsorted(table, values[i])
        else:
            out[pos] = values[i]


@numba.njit(cache=True)
def _fill_segments(start, stop, value, out):
    """out[start[s]:stop[s]] = value[0] for every source s (a projection's constant)."""
    v = value[0]
    for s in range(start.shape[0]):
        for pos in range(start[s], stop[s]):
            out[pos] = v


class _DistinctDelays:
    """The sorted distinct delays seen so far, or None once there are more than
    MAX_DELAY_TABLE (then delays are stored as values and the set is not kept)."""

    def __init__(self):
        self.values = np.zeros(0, dtype=np.float64)

    def add(self, d):
        if self.values is None or not d.shape[0]:
            return
        self.values = np.union1d(self.values, np.unique(d))
        if self.values.shape[0] > MAX_DELAY_TABLE:
            self.values = None


def _drawn(part):
    """(index, Edges, weights, delays) of a part, drawing it if it is (index, make)."""
    if len(part) == 2:
        index, make = part
        return (index, *make())
    return part


def assemble(n_neurons, parts):
    """CSR arrays (the keyword arguments of :class:`Network`) from ``parts``, a list of
    (projection index, Edges, weight array, delay array) in projection-index order, or
    of (projection index, make) where make() draws the last three (again: the
    counting pass and the placing pass each draw a projection and drop it).

    Entries of ``parts`` are set to None once placed, so that their memory can be
    released while the table fills."""
    counts = np.zeros(n_neurons, dtype=np.int64)
    distinct = _DistinctDelays()
    n_drawn = []
    for part in parts:
        _, e, _, d = _drawn(part)
        n_drawn.append(e.n)
        if e.n:
            _count(counts, e.n, e.src, e.src_first, e.src_repeat)
            distinct.add(d)
        del e, d
    indptr = np.zeros(n_neurons + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    del counts
    n_syn = int(indptr[-1])
    use_table = distinct.values is not None
    table = distinct.values if use_table else np.zeros(0, dtype=np.float64)
    target = np.empty(n_syn, dtype=np.int32)
    weight = np.empty(n_syn, dtype=np.float64)
    proj = np.empty(n_syn, dtype=np.uint16)
    delays = np.empty(n_syn, dtype=np.uint16 if use_table else np.float64)
    lookup = table if use_table else np.zeros(0, dtype=np.float64)
    cursor = indptr[:-1].copy()
    for k in range(len(parts)):
        index, e, w, d = _drawn(parts[k])
        parts[k] = None
        if e.n != n_drawn[k]:
            raise RuntimeError(f"projection {index}: drawn twice with different sizes")
        if not e.n:
            continue
        # One pass per output array: each pass keeps one write front per source in
        # cache (several arrays at once overflow it and run ~5x slower); constants are
        # written afterwards over each source's contiguous segment of this projection.
        start = cursor.copy()
        _scatter_targets(cursor, e.n, e.src, e.src_first, e.src_repeat, e.tgt, e.tgt_first,
                         e.tgt_repeat, target)
        _fill_segments(start, cursor, np.array([index], dtype=np.uint16), proj)
        for values, out, tab in ((w, weight, np.zeros(0)), (d, delays, lookup)):
            if values.shape[0] == e.n and e.n > 1:
                _scatter_values(start.copy(), e.n, e.src, e.src_first, e.src_repeat, values, tab, out)
            else:
                const = np.searchsorted(tab, values[:1]) if tab.shape[0] else values[:1]
                _fill_segments(start, cursor, const.astype(out.dtype), out)
        del e, w, d, values
    if use_table:
        return dict(indptr=indptr, target=target, weight=weight, proj=proj,
                    delay_index=delays, delay_table=table, delay_values=None)
    return dict(indptr=indptr, target=target, weight=weight, proj=proj,
                delay_index=None, delay_table=None, delay_values=delays)
