"""Which rank owns which neuron, when a network is spread over MPI ranks.

Neurons come in blocks of ``block_size(population size)`` ids aligned to population
boundaries (the cpu engine advances a block at a time). With R ranks of S shards each,
shard g of the R*S owns the g-th of R*S equal runs of every population's blocks
(eventsim.engine.cpu), so rank r owns the r-th of R equal runs: the same neurons for any
S. The network builder
keeps only the synapses onto a rank's neurons (``build_network(..., part=(r, R))``):
the synapse table, the largest part of a network's memory, is divided among the ranks.
"""
from __future__ import annotations

import numpy as np

# neurons per block: a block's sorted events are advanced while still in cache (Brunel,
# windows of 1.5 ms: 512 neurons x ~70 events x 20 bytes, 0.7 MB). Blocks of 512 in populations
# of at least LARGE_POPULATION neurons (a quarter fewer per-block calls and, with spike
# segments, rows read per spike: Brunel 7 % faster than with 128 throughout), of 256 in
# those of at least MEDIUM_POPULATION (CUBA's excitatory 3200, the microcircuit's large
# layers at scale 0.25: 3-5 % faster), of BLOCK_SMALL in smaller ones, which are still
# spread over several threads and ranks
BLOCK = 512
BLOCK_MEDIUM = 256
BLOCK_SMALL = 128
LARGE_POPULATION = 16 * BLOCK
MEDIUM_POPULATION = 8 * BLOCK_MEDIUM


def block_size(size):
    """Neurons per block in a population of ``size`` neurons (at most BLOCK)."""
    if size >= LARGE_POPULATION:
        return BLOCK
    return BLOCK_MEDIUM if size >= MEDIUM_POPULATION else BLOCK_SMALL


def block_starts(populations, n_neurons):
    """First id of every block (blocks of at most block_size(pop.size) neurons, aligned
    to populations), then n_neurons."""
    starts = []
    for pop in populations:
        starts.extend(range(pop.offset, pop.offset + pop.size, block_size(pop.size)))
    return np.array(starts + [n_neurons], dtype=np.int64)


def runs(kb0, kb1, n_runs):
    """Boundaries (n_runs + 1,) of n_runs equal runs of blocks kb0 .. kb1-1."""
    return (kb0 + (np.arange(n_runs + 1) * (kb1 - kb0)) // n_runs).astype(np.int64)


def owner_rank(populations, n_neurons, n_ranks):
    """int32 (n_neurons,): the rank that owns each neuron. Neurons that receive nothing
    (spike and Poisson sources) are rank 0's."""
    starts = block_starts(populations, n_neurons)
    owner = np.zeros(n_neurons, dtype=np.int32)
    for pop in populations:
        if pop.model in ("spike_source", "poisson_source"):
            continue
        kb0 = int(np.searchsorted(starts, pop.offset))
        kb1 = int(np.searchsorted(starts, pop.offset + pop.size))
        bounds = runs(kb0, kb1, n_ranks)
        for r in range(n_ranks):
            owner[starts[bounds[r]]:starts[bounds[r + 1]]] = r
    return owner


def owned_counts(size, n_ranks):
    """int64 (n_ranks,): how many neurons of an integrating population of ``size`` each
    rank owns (its blocks split in n_ranks equal runs, as ``owner_rank``)."""
    bs = block_size(size)
    nb = -(-int(size) // bs)
    bounds = runs(0, nb, n_ranks)
    ends = np.minimum(bounds * bs, size)
    return np.diff(ends).astype(np.int64)
