"""Blocks of neurons (eventsim.network.partition): 512 in populations of at least
LARGE_POPULATION neurons, 256 from MEDIUM_POPULATION, 128 in smaller ones; the ranks'
shares follow them, and the spikes do not depend on them."""
import copy
import types

import numpy as np
from test_segments import UNIFORM

import eventsim
from eventsim.network import partition


def _pops(*sizes):
    out, off = [], 0
    for j, n in enumerate(sizes):
        out.append(types.SimpleNamespace(name=f"p{j}", offset=off, size=n, model="lif"))
        off += n
    return out, off


def test_block_size_by_population_size():
    assert (partition.LARGE_POPULATION, partition.MEDIUM_POPULATION) == (8192, 2048)
    assert partition.block_size(8191) == 256
    assert partition.block_size(8192) == 512
    assert partition.block_size(2047) == 128
    assert partition.block_size(2048) == 256
    assert partition.block_size(1) == 128
    pops, n = _pops(10000, 2500, 700)
    starts = partition.block_starts(pops, n)
    assert np.array_equal(starts[:20], np.arange(0, 10000, 512))
    assert np.array_equal(starts[20:30], 10000 + 256 * np.arange(10))   # (the last: 196 neurons)
    assert np.array_equal(starts[30:], [12500, 12628, 12756, 12884, 13012, 13140, 13200])


def test_owned_counts_are_the_owners_shares():
    """owned_counts (memory estimates) counts what owner_rank (the builder, the engine)
    gives each rank, for large and small populations."""
    for sizes in ((10000,), (9000, 300), (8192, 8191, 5), (3000, 2047, 2048)):
        pops, n = _pops(*sizes)
        for R in (1, 2, 3, 7):
            owner = partition.owner_rank(pops, n, R)
            for p in pops:
                got = np.bincount(owner[p.offset:p.offset + p.size], minlength=R)
                assert np.array_equal(got, partition.owned_counts(p.size, R)), (sizes, R, p.name)


def _scenario():
    """tests/test_segments.py's network of one delay (delta and exp synapses, Poisson
    drive, a current step), its first population grown past LARGE_POPULATION."""
    sc = copy.deepcopy(UNIFORM)
    sc["simulation"]["duration"] = 30.0
    sc["population"][0]["size"] = 8300
    return sc


def _spikes(threads):
    sc = eventsim.load(_scenario())
    net = eventsim.build_network(sc)
    sim = eventsim.Simulation(net, seed=sc.seed, threads=threads)
    sim.run(sc.duration)
    return {p.name: sim.spikes(p.name) for p in net.populations}


def test_spikes_do_not_depend_on_the_block_size(monkeypatch):
    """A population of 8300 neurons (blocks of 512) and one of 140 (128), on 1 and 2
    threads, against every block of 128 neurons: the same spikes to the bit."""
    ref = _spikes(1)
    assert ref["exc"][0].size > 100 and ref["inh"][0].size > 10
    for threads in (2,):
        got = _spikes(threads)
        for k in ref:
            assert np.array_equal(ref[k][0], got[k][0]) and np.array_equal(ref[k][1], got[k][1])
    monkeypatch.setattr(partition, "LARGE_POPULATION", 10 ** 9)
    monkeypatch.setattr(partition, "MEDIUM_POPULATION", 10 ** 9)
    assert partition.block_size(8300) == 128
    got = _spikes(1)
    for k in ref:
        assert np.array_equal(ref[k][0], got[k][0]) and np.array_equal(ref[k][1], got[k][1])
