"""Place neurons on a chip's cores and chips, and count where their spikes are routed.

Everything here works on plain arrays: a CSR synapse table by source
(``indptr``, ``target``, global neuron ids), per-neuron spike counts, and a
neuron -> core assignment. Chips hold consecutive cores: chip = core // cores_per_chip.

Packing is greedy in a given neuron order: a neuron joins the current core if
the core stays within every limit (neurons, synapses in, distinct presynaptic
neurons in), else it opens the next core. Two orders are offered:

* ``contiguous``: neurons in id order, a new core at every population start
  (what sPyNNaker and the Loihi/TrueNorth compilers do by default);
* ``partition``: neurons grouped by Louvain communities of the traffic graph
  (edge weight = spikes of the source + 1), or, for large graphs, by a reverse
  Cuthill-McKee ordering, so that neurons that talk to each other share cores.

:func:`map_network` runs both and keeps the one that routes fewer spike
messages off their source core.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

LOUVAIN_MAX_SYNAPSES = 20_000       # networkx Louvain: a few s at 50k random synapses; above: reverse Cuthill-McKee
PARTITION_MAX_SYNAPSES = 10_000_000  # above: contiguous packing only (building the graph costs minutes)


@dataclass
class Mapping:
    core_of: np.ndarray        # int64 (n_neurons,) core of each neuron
    n_cores: int
    n_chips: int
    cores_per_chip: int
    method: str                # "contiguous" | "partition (louvain)" | "partition (rcm)" | "neurons only"
    violations: int = 0        # neurons that alone exceed a core's fan-in limit (placed alone)

    @property
    def chip_of(self):
        return self.core_of // self.cores_per_chip


@numba.njit(cache=True)
def _pack(order, break_before, in_indptr, in_source, max_neurons, max_synapses, max_axons):
    """Greedy packing in ``order``; limits < 0 mean none. Returns (core_of, violations)."""
    n = order.shape[0]
    core_of = np.full(in_indptr.shape[0] - 1, -1, np.int64)
    mark = np.full(in_indptr.shape[0] - 1, -1, np.int64)    # core that already receives from this source
    stamp = np.full(in_indptr.shape[0] - 1, -1, np.int64)   # dedupe one neuron's own sources
    core = -1
    n_in, syn_in, ax_in = 0, 0, 0
    violations = 0
    for k in range(n):
        i = order[k]
        a, b = in_indptr[i], in_indptr[i + 1]
        deg = b - a
        new_axons = 0
        if core >= 0 and not break_before[k]:
            for s in range(a, b):
                src = in_source[s]
                if mark[src] != core and stamp[src] != i:
                    stamp[src] = i
                    new_axons += 1
        fits = (core >= 0 and not break_before[k] and n_in < max_neurons
                and (max_synapses < 0 or syn_in + deg <= max_synapses)
                and (max_axons < 0 or ax_in + new_axons <= max_axons))
        if not fits:
            core += 1
            n_in, syn_in, ax_in = 0, 0, 0
            new_axons = 0
            for s in range(a, b):
                src = in_source[s]
                if stamp[src] != i + n + 1:     # a fresh stamp: count distinct sources for a new core
                    stamp[src] = i + n + 1
                    new_axons += 1
            if (max_synapses >= 0 and deg > max_synapses) or (max_axons >= 0 and new_axons > max_axons):
                violations += 1
        for s in range(a, b):
            mark[in_source[s]] = core
        core_of[i] = core
        n_in += 1
        syn_in += deg
        ax_in += new_axons
    return core_of, violations


@numba.njit(cache=True)
def _incoming(indptr, target, n_neurons):
    in_indptr = np.zeros(n_neurons + 1, np.int64)
    for s in range(target.shape[0]):
        in_indptr[target[s] + 1] += 1
    for i in range(n_neurons):
        in_indptr[i + 1] += in_indptr[i]
    fill = in_indptr[:-1].copy()
    in_source = np.empty(target.shape[0], np.int64)
    for j in range(n_neurons):
        for s in range(indptr[j], indptr[j + 1]):
            t = target[s]
            in_source[fill[t]] = j
            fill[t] += 1
    return in_indptr, in_source


def incoming(n_neurons, indptr, target):
    """CSC view of a CSR table: (in_indptr, in_source) with sources grouped by target (a counting sort)."""
    return _incoming(np.asarray(indptr, dtype=np.int64), np.asarray(target), int(n_neurons))


def pack(order, limits, n_neurons, indptr=None, target=None, break_before=None, incoming_arrays=None):
    """core_of (int64) and the number of fan-in violations for neurons packed in ``order``.

    ``limits``: a profile's limits dict (neurons_per_core, synapses_per_core, axons_per_core).
    Without ``indptr``/``target`` only the neuron limit applies.
    """
    order = np.asarray(order, dtype=np.int64)
    if break_before is None:
        break_before = np.zeros(order.shape[0], dtype=np.bool_)
    if incoming_arrays is not None:
        in_indptr, in_source = incoming_arrays
    elif indptr is None:
        in_indptr, in_source = np.zeros(n_neurons + 1, np.int64), np.zeros(0, np.int64)
    else:
        in_indptr, in_source = incoming(n_neurons, indptr, target)
    return _pack(order, np.asarray(break_before, dtype=np.bool_), in_indptr, in_source,
                 int(limits.get("neurons_per_core", 1 << 62)),
                 int(limits.get("synapses_per_core", -1)), int(limits.get("axons_per_core", -1)))


def contiguous_order(n_neurons, population_offsets=()):
    """(order, break_before): id order, a new core at each population's first neuron."""
    order = np.arange(n_neurons, dtype=np.int64)
    brk = np.zeros(n_neurons, dtype=np.bool_)
    offs = [o for o in population_offsets if 0 <= o < n_neurons]
    brk[np.asarray(offs, dtype=np.int64)] = True
    return order, brk


def partition_order(n_neurons, indptr, target, spike_count=None, seed=0):
    """(order, method): neurons grouped so that connected, active neurons are adjacent."""
    import scipy.sparse as sp
    indptr = np.asarray(indptr, dtype=np.int64)
    target = np.asarray(target, dtype=np.int64)
    src = np.repeat(np.arange(n_neurons, dtype=np.int64), np.diff(indptr))
    sc = np.zeros(n_neurons) if spike_count is None else np.asarray(spike_count, dtype=np.float64)
    w = sc[src] + 1.0                 # expected messages on this edge, +1 keeps silent structure
    a = sp.coo_matrix((w, (src, target)), shape=(n_neurons, n_neurons)).tocsr()
    a = (a + a.T).tocsr()
    a.setdiag(0)
    a.eliminate_zeros()
    if target.shape[0] <= LOUVAIN_MAX_SYNAPSES:
        import networkx as nx
        g = nx.from_scipy_sparse_array(a)
        g.add_nodes_from(range(n_neurons))
        comms = nx.community.louvain_communities(g, weight="weight", seed=seed)
        comms = sorted((sorted(c) for c in comms), key=lambda c: c[0])
        order = np.fromiter((i for c in comms for i in c), dtype=np.int64, count=n_neurons)
        return order, "partition (louvain)"
    from scipy.sparse.csgraph import reverse_cuthill_mckee
    return np.asarray(reverse_cuthill_mckee(a, symmetric_mode=True), dtype=np.int64), "partition (rcm)"


@numba.njit(cache=True)
def _route(indptr, target, core_of, cores_per_chip, mesh_width):
    """Per source neuron: messages within own core, to other cores (same chip), to other chips,
    and east/west and north/south mesh hops, one message per distinct target core."""
    n = indptr.shape[0] - 1
    n_cores = 0
    for i in range(n):
        if core_of[i] + 1 > n_cores:
            n_cores = core_of[i] + 1
    seen = np.full(n_cores, -1, np.int64)
    within = np.zeros(n, np.int64)
    to_core = np.zeros(n, np.int64)
    to_chip = np.zeros(n, np.int64)
    hop_ew = np.zeros(n, np.int64)
    hop_ns = np.zeros(n, np.int64)
    for j in range(n):
        cj = core_of[j]
        chip_j = cj // cores_per_chip
        lj = cj % cores_per_chip
        xj = chip_j * mesh_width + lj % mesh_width
        yj = lj // mesh_width
        for s in range(indptr[j], indptr[j + 1]):
            c = core_of[target[s]]
            if seen[c] == j:
                continue
            seen[c] = j
            if c == cj:
                within[j] += 1
                continue
            chip = c // cores_per_chip
            if chip == chip_j:
                to_core[j] += 1
            else:
                to_chip[j] += 1
            lc = c % cores_per_chip
            hop_ew[j] += abs(chip * mesh_width + lc % mesh_width - xj)
            hop_ns[j] += abs(lc // mesh_width - yj)
    return within, to_core, to_chip, hop_ew, hop_ns


def route_counts(spike_count, indptr, target, core_of, cores_per_chip, mesh_width=None):
    """Routed spike messages under a mapping (see docs/energy.md for the definitions).

    A spike of neuron j becomes one message to every distinct core holding at least one of
    j's targets. Returns counts summed over neurons, each message weighted by j's spikes:
    spike_within_core, spike_to_core, spike_to_chip, spike_outgoing, spike_routed, hop_ew, hop_ns.
    """
    core_of = np.asarray(core_of, dtype=np.int64)
    if mesh_width is None:
        mesh_width = max(1, math.ceil(math.sqrt(cores_per_chip)))
    parts = _route(np.asarray(indptr, dtype=np.int64), np.asarray(target, dtype=np.int64),
                   core_of, int(cores_per_chip), int(mesh_width))
    sc = np.asarray(spike_count, dtype=np.int64)
    within, to_core, to_chip, ew, ns = (int(np.dot(sc, p)) for p in parts)
    return {"spike_within_core": within, "spike_to_core": to_core, "spike_to_chip": to_chip,
            "spike_outgoing": to_core + to_chip, "spike_routed": within + to_core + to_chip,
            "hop_ew": ew, "hop_ns": ns}


def core_load(core_of, indptr=None, target=None):
    """Per core: (neurons, synapses in, distinct presynaptic neurons in), for checks and reports."""
    core_of = np.asarray(core_of, dtype=np.int64)
    n_cores = int(core_of.max()) + 1 if core_of.size else 0
    neurons = np.bincount(core_of, minlength=n_cores)
    if indptr is None:
        return neurons, np.zeros(n_cores, np.int64), np.zeros(n_cores, np.int64)
    indptr = np.asarray(indptr, dtype=np.int64)
    src = np.repeat(np.arange(core_of.shape[0]), np.diff(indptr))
    tcore = core_of[np.asarray(target, dtype=np.int64)]
    synapses = np.bincount(tcore, minlength=n_cores)
    pairs = np.unique(tcore * core_of.shape[0] + src) if src.size else np.zeros(0, np.int64)
    axons = np.bincount(pairs // core_of.shape[0], minlength=n_cores)
    return neurons, synapses, axons


def map_network(limits, n_neurons, indptr=None, target=None, spike_count=None,
                population_offsets=(0,), method="auto", seed=0, cache=None):
    """Map neurons onto cores and chips under a profile's ``limits``.

    method: "contiguous", "partition", or "auto" (both; keep the one that sends fewer
    spike messages off their source core; contiguous only above PARTITION_MAX_SYNAPSES).
    Without connectivity only the neuron limit applies and the method is "neurons only".
    cache: a dict reused across calls on the same network (incoming table, partition order),
    which do not depend on the limits.
    """
    cache = {} if cache is None else cache
    cpc = int(limits.get("cores_per_chip", 1 << 40))
    order, brk = contiguous_order(n_neurons, population_offsets)
    if indptr is None:
        core_of, viol = pack(order, limits, n_neurons, break_before=brk)
        return _finish(core_of, cpc, "neurons only", viol)
    if "incoming" not in cache:
        cache["incoming"] = incoming(n_neurons, indptr, target)
    core_of, viol = pack(order, limits, n_neurons, break_before=brk, incoming_arrays=cache["incoming"])
    best = _finish(core_of, cpc, "contiguous", viol)
    if method == "contiguous" or n_neurons == 0 or (
            method == "auto" and np.shape(target)[0] > PARTITION_MAX_SYNAPSES):
        return best
    if "partition" not in cache:
        cache["partition"] = partition_order(n_neurons, indptr, target, spike_count, seed)
    porder, pname = cache["partition"]
    pcore, pviol = pack(porder, limits, n_neurons, incoming_arrays=cache["incoming"])
    part = _finish(pcore, cpc, pname, pviol)
    if method == "partition":
        return part
    sc = np.ones(n_neurons) if spike_count is None else spike_count
    mw = limits.get("mesh_width")
    off = lambda m: route_counts(sc, indptr, target, m.core_of, cpc, mw)["spike_outgoing"]
    return part if off(part) < off(best) else best


def _finish(core_of, cpc, method, violations):
    n_cores = int(core_of.max()) + 1 if core_of.size else 0
    return Mapping(core_of=core_of, n_cores=n_cores, n_chips=-(-n_cores // cpc) if n_cores else 0,
                   cores_per_chip=cpc, method=method, violations=int(violations))
