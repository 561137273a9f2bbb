"""The built network: neurons in populations, synapses in a CSR table by source.

Global neuron ids: populations are laid out one after another in scenario order
(``Population.offset`` is the first global id). Synapses are grouped by source
neuron (``indptr[src]:indptr[src+1]``), and within a source by projection index,
then in construction order. Per synapse: target (int32, global id), weight
(float64), projection index (uint16) and the delay, either as a uint16 index
into ``delay_table`` (when a network has at most 65,535 distinct delays) or as
float64 values (``delay_values``). That is 16 bytes per synapse in the first
case, 22 in the second, plus 8 bytes per neuron for ``indptr``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Population:
    name: str
    model: str                 # a catalogue name: "lif", "poisson_source", ...
    size: int
    offset: int                # first global id
    params: dict               # numeric param name -> float64 array (size,)
    options: dict              # string options, e.g. {"synapse": "exp"}
    init: dict                 # state name -> float64 array (size,)
    spike_times: list | None = None   # spike_source only: one sorted float64 array per neuron
    hidden: bool = False       # internal (e.g. a spike_times stimulus); not written to /spikes

    @property
    def ids(self):
        return np.arange(self.offset, self.offset + self.size)


@dataclass
class Projection:
    name: str
    index: int                 # the value of ``Network.proj`` for its synapses
    source: str                # population names
    target: str
    plasticity: str | None = None      # a key of scenario [plasticity]
    n_synapses: int = 0


@dataclass
class Stimulus:
    """A stimulus the engine applies directly (poisson input, current steps).

    spike_times stimuli are built as a hidden spike_source population with a projection.
    """
    name: str
    kind: str                  # "poisson" | "current"
    target: str                # population name
    ids: np.ndarray            # global ids of the target neurons
    rate: float = 0.0          # Hz (poisson)
    weight: float = 0.0        # (poisson)
    delay: float = 0.0         # ms (poisson)
    times: np.ndarray | None = None       # ms (current)
    amplitudes: np.ndarray | None = None  # pA (current)


@dataclass
class Network:
    populations: list
    projections: list
    stimuli: list
    indptr: np.ndarray                 # int64 (n_neurons + 1,)
    target: np.ndarray                 # int32 (n_synapses,)
    weight: np.ndarray                 # float64 (n_synapses,)
    proj: np.ndarray                   # uint16 (n_synapses,)
    delay_index: np.ndarray | None = None   # uint16 (n_synapses,), or None
    delay_table: np.ndarray | None = None   # float64 (distinct delays,), sorted
    delay_values: np.ndarray | None = None  # float64 (n_synapses,), when no table
    seed: int = 0
    plastic_state: dict = field(default_factory=dict)  # projection name -> per-synapse arrays
    plasticity: dict = field(default_factory=dict)     # label -> {"rule": name, key: value, ...}
    # a rank's part of a network spread over MPI ranks (build_network(part=(r, R))): the
    # synapse table holds the synapses onto rank r's neurons only; delay_range is the
    # whole network's (smallest, largest) delay (the window length must agree)
    part: tuple | None = None
    delay_range: tuple | None = None
    # of a part: for plastic or recorded projections (by index), each synapse's place in
    # its projection's construction order, in table order (weights go back in order)
    part_order: dict | None = None
    # delay_bounds' result and the delay array it was computed from
    _delay_bounds: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def n_neurons(self) -> int:
        return int(self.indptr.shape[0] - 1)

    @property
    def n_synapses(self) -> int:
        return int(self.target.shape[0])

    def population(self, name) -> Population:
        for p in self.populations:
            if p.name == name:
                return p
        from eventsim.errors import unknown_name
        raise unknown_name("population", name, [p.name for p in self.populations])

    def projection(self, name) -> Projection:
        for p in self.projections:
            if p.name == name:
                return p
        from eventsim.errors import unknown_name
        raise unknown_name("projection", name, [p.name for p in self.projections])

    def delays(self) -> np.ndarray:
        """float64 delay of every synapse (a new array when delays are stored as a table)."""
        if self.delay_values is not None:
            return self.delay_values
        return self.delay_table[self.delay_index]

    @property
    def total_synapses(self) -> int:
        """Synapses of the whole network (on every rank, for a rank's part)."""
        return int(sum(p.n_synapses for p in self.projections))

    def delay_bounds(self) -> tuple:
        """(smallest, largest) delay of the synapses in this table (ms; of a rank's part,
        its own: ``delay_range`` is the whole network's), (inf, 0) without synapses.
        Computed once per delay array: a mark per table entry used, not a sort of
        the synapses (np.unique of Brunel's 15.6 M indices took 66 ms, twice at every
        start)."""
        delays = self.delay_index if self.delay_table is not None else self.delay_values
        if self._delay_bounds is not None and self._delay_bounds[0] is delays:
            return self._delay_bounds[1]
        if self.n_synapses == 0:
            bounds = (np.inf, 0.0)
        elif self.delay_table is not None:
            used = np.zeros(self.delay_table.size, dtype=bool)
            used[self.delay_index] = True
            table = self.delay_table[used]
            bounds = (float(table.min()), float(table.max()))
        else:
            bounds = (float(self.delay_values.min()), float(self.delay_values.max()))
        self._delay_bounds = (delays, bounds)
        return bounds

    def min_delay(self) -> float:
        if self.delay_range is not None:
            return self.delay_range[0]
        return self.delay_bounds()[0]

    def max_delay(self) -> float:
        if self.delay_range is not None:
            return self.delay_range[1]
        return self.delay_bounds()[1]

    def sources(self) -> np.ndarray:
        """Global source id of every synapse (int32, computed from indptr)."""
        return np.repeat(np.arange(self.n_neurons, dtype=np.int32), np.diff(self.indptr))

    def synapse_bytes(self) -> int:
        n = self.target.nbytes + self.weight.nbytes + self.proj.nbytes + self.indptr.nbytes
        for a in (self.delay_index, self.delay_table, self.delay_values):
            if a is not None:
                n += a.nbytes
        return n

    def synapse_table(self, projection=None):
        """(source_ids, target_ids, weight, delay), population-local ids, for one projection
        (by name) or, with None, global ids of every synapse. Sorted as stored."""
        src = self.sources()
        tgt, w, d = self.target, self.weight, self.delays()
        if projection is None:
            return src, tgt, w, d
        pr = self.projection(projection)
        sel = np.flatnonzero(self.proj == pr.index)
        so = self.population(pr.source).offset
        to = self.population(pr.target).offset
        return (src[sel] - so).astype(np.uint64), (tgt[sel] - to).astype(np.uint64), w[sel], d[sel]


def make_delay_storage(delays: np.ndarray, max_table: int = 65535):
    """(delay_index, delay_table, delay_values) for float64 delays: a table when few distinct."""
    table, inverse = np.unique(delays, return_inverse=True)
    if table.shape[0] <= max_table:
        return inverse.astype(np.uint16), table, None
    return None, None, np.ascontiguousarray(delays, dtype=np.float64)


def csr_from_edges(n_neurons, src, tgt, weight, delay, proj):
    """A Network's synapse arrays from unsorted edge lists.

    Sorted by (source, projection, original order): a stable counting sort, so
    the result depends only on the edge order given.
    """
    src = np.asarray(src, dtype=np.int64)
    order = np.lexsort((np.asarray(proj), src))  # stable: last key primary
    counts = np.bincount(src, minlength=n_neurons)
    indptr = np.zeros(n_neurons + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    d_index, d_table, d_values = make_delay_storage(np.asarray(delay, dtype=np.float64)[order])
    return dict(indptr=indptr,
                target=np.asarray(tgt, dtype=np.int32)[order],
                weight=np.asarray(weight, dtype=np.float64)[order],
                proj=np.asarray(proj, dtype=np.uint16)[order],
                delay_index=d_index, delay_table=d_table, delay_values=d_values)
