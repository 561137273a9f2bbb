"""The fan-out by block (kernels.fanout_segments): where every synapse has one delay, the
fan-out files a bucket's arrivals grouped by block and the blocks read them there, with
no partition pass. It must give exactly what the fan-out into plain records, the
partition and the per-block sort give: the same events per neuron in the same order."""
import copy

import numba
import numpy as np
import pytest

import eventsim
from eventsim.engine import kernels as K
from eventsim.engine.cpu import CpuEngine


def _net(seed, n_src=40, n_tgt=300, p=0.2):
    """A random CSR table, rows sorted by target, with repeated targets (multapses)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_src):
        t = np.sort(rng.choice(n_tgt, size=rng.binomial(n_tgt, p), replace=True))
        rows.append(t)
    indptr = np.concatenate([[0], np.cumsum([r.size for r in rows])]).astype(np.int64)
    target = np.concatenate(rows).astype(np.int32)
    weight = rng.normal(0.0, 1.0, target.size)
    return indptr, target, weight


def _fan_out_all(fans, maxseg, room, indptr, target, weight, W, B, D, blk_start):
    """The fans through fanout_shard (plain records, counted per bucket and block in
    q["cnt"]) and fanout_segments (spike segments with room for `room` spikes per
    bucket, written out as records without)."""
    n_blk = blk_start.size - 1
    blk_of = np.repeat(np.arange(n_blk, dtype=np.int32), np.diff(blk_start))
    blk_syn = np.zeros((indptr.size - 1, n_blk + 1), dtype=np.int32)
    assert K.block_synapses(indptr, target, blk_start, blk_syn)
    cap = 100000
    plain = np.zeros((B, cap), dtype=K.ARRIVAL_DTYPE)
    plain_n = np.zeros(B, dtype=np.int64)
    q = {"bucket": np.zeros((B, cap), dtype=K.ARRIVAL_DTYPE), "n": np.zeros(B, dtype=np.int64),
         "raw_n": np.zeros(B, dtype=np.int64), "n_seg": np.zeros(B, dtype=np.int64),
         "seg_a": np.zeros((B, maxseg, n_blk), dtype=np.int64), "seg_b": np.zeros((B, maxseg, n_blk), dtype=np.int64),
         "lz_t": np.zeros((B, room)), "lz_src": np.zeros((B, room), dtype=np.int64),
         "lz_n": np.zeros(B, dtype=np.int64), "lz_a": np.full((B, maxseg), -1, dtype=np.int64),
         "lz_b": np.zeros((B, maxseg), dtype=np.int64), "blk_syn": blk_syn,
         "cnt": np.zeros((B, n_blk + 1), dtype=np.int64)}
    run_ptr = np.arange(indptr.size, dtype=np.int64)
    d_index, d_table = np.zeros(target.size, np.uint16), np.array([D])
    my_kb = np.arange(n_blk, dtype=np.int64)
    # a plain record restored into bucket 2 first (a checkpoint's queue): before any segment
    for bk, bn in ((plain, plain_n), (q["bucket"], q["n"])):
        bk[2, 0] = (2.3, 0.7, 5, 0)
        bn[2] = 1
    q["raw_n"][2] = 1
    for st, si in fans:
        si = si.astype(np.int64)
        K.fanout_shard(st, si, st.size, run_ptr, indptr[:-1], indptr[1:], target, weight, d_index, d_table,
                       np.zeros(0), True, W, B, plain, plain_n, blk_of, q["cnt"])
        K.fanout_segments(st, si, st.size, D, W, B, blk_syn, my_kb, n_blk, target, weight, q["bucket"], q["n"],
                          q["raw_n"], q["n_seg"], q["seg_a"], q["seg_b"], q["lz_t"], q["lz_src"], q["lz_n"],
                          q["lz_a"], q["lz_b"])
    return plain, plain_n, q


@pytest.mark.parametrize("maxseg", [4, 1])
@pytest.mark.parametrize("room", [1000, 10, 0])
def test_segments_give_the_partition_and_sort_of_plain_records(maxseg, room):
    """Three fan-outs (the third into a bucket that holds plain records and a segment;
    with maxseg 1 it overflows and everything becomes plain), then each block's events
    from sort_block with the segments equal its events over the partition of the plain
    bucket: with spike segments (room for 1000 spikes per bucket), some written as
    records (room for 10: the second fan-out's do not fit), all written (no room)."""
    indptr, target, weight = _net(1)
    n_tgt = 300
    W, B, D = 0.5, 3, 0.5
    blk_start = np.array([0, 128, 200, 256, n_tgt], dtype=np.int64)
    n_blk = blk_start.size - 1
    blk_of = np.repeat(np.arange(n_blk, dtype=np.int32), np.diff(blk_start))
    blk_shard = np.zeros(n_blk, dtype=np.int32)
    rng = np.random.default_rng(2)
    # spikes of windows 3 and 4 (arrivals in windows 4 and 5: buckets 1 and 2; three at
    # one time: ties, summed in spike order), then 4 again with one spike exactly on a
    # window boundary
    fans = [(np.sort(rng.uniform(1.5, 2.0, 12)), rng.integers(0, 40, 12)),
            (np.sort(np.concatenate([rng.uniform(2.0, 2.5, 6), [2.2, 2.2, 2.2]])), rng.integers(0, 40, 9)),
            (np.concatenate([[2.0], np.sort(rng.uniform(2.0, 2.5, 5))]), rng.integers(0, 40, 6))]
    # a row whose weights differ: read per synapse, the others' once per row
    weight[indptr[7]:indptr[8]] = np.arange(indptr[8] - indptr[7]) * 0.25
    for src in range(40):
        if src != 7:
            weight[indptr[src]:indptr[src + 1]] = 0.1 * src - 1.0
    plain, plain_n, q = _fan_out_all(fans, maxseg, room, indptr, target, weight, W, B, D, blk_start)
    row_w = np.zeros(indptr.size - 1)
    K.row_weights(indptr, weight, row_w)
    assert np.isnan(row_w[7]) and row_w[3] == 0.1 * 3 - 1.0
    seg, n_seg, seg_a, seg_b, raw_n = q["bucket"], q["n_seg"], q["seg_a"], q["seg_b"], q["raw_n"]
    lz_a = q["lz_a"]
    assert np.array_equal(plain_n, q["n"])
    assert n_seg[2] >= 1 and n_seg.max() <= maxseg
    lazy = [(b, g) for b in range(B) for g in range(n_seg[b]) if lz_a[b, g] >= 0]
    written = [(b, g) for b in range(B) for g in range(n_seg[b]) if lz_a[b, g] < 0]
    if maxseg == 1:
        assert raw_n[2] > 1    # the bucket overflowed: its segments became plain records
    if room == 1000:
        assert lazy and not written
    elif room == 10 and maxseg == 4:
        assert lazy and written
    elif room == 0:
        assert written and not lazy
    cap = seg.shape[1]
    empty = np.zeros(0)
    # the fan-out's counts per block: those of its records (bucket 2 holds the restored
    # record too, which no fan-out counted)
    cnt = q["cnt"]
    for b in range(B):
        want = np.bincount(blk_of[plain[b, :plain_n[b]]["tgt"]], minlength=n_blk)
        assert np.array_equal(cnt[b, 1:] + (np.arange(n_blk) == blk_of[5]) * (b == 2), want), b
        assert cnt[b, 0] == 0
    for b in range(B):
        t1 = (np.argmax(np.arange(100) % B == b) + 100) * W   # (checks and current steps: none)
        outs = []
        # the plain bucket partitioned with the fan-out's counts (bucket 2: they do not add
        # up to its records, and the partition counts them itself), counting (no counts),
        # and the bucket with segments (its plain records counted)
        no_counts = np.zeros(n_blk + 1, np.int64)
        for bk, nb, cnt_row in ((plain, plain_n[b], cnt[b].copy()), (plain, plain_n[b], no_counts.copy()),
                                (seg, raw_n[b], no_counts.copy())):
            part = np.zeros(cap, dtype=K.PART_DTYPE)
            blk_ptr = np.zeros(n_blk + 1, dtype=np.int64)
            K.partition_shard(0, t1, bk[b], nb, empty, np.zeros(0, np.int64), np.zeros(0, np.int64), 0,
                              np.zeros(n_tgt, np.int64), empty, np.zeros(0, np.int64), empty, 0, 0, blk_of,
                              blk_shard, n_blk, blk_ptr, part, cnt_row)
            assert not cnt_row.any()   # (zeroed for the bucket's next window)
            outs.append((part, blk_ptr))
        assert np.array_equal(outs[0][1], outs[1][1]) and np.array_equal(outs[0][0], outs[1][0]), b
        outs = outs[1:]
        for kb in range(n_blk):
            j0, nj = blk_start[kb], blk_start[kb + 1] - blk_start[kb]
            got = []
            for use_seg, (part, blk_ptr) in zip((False, True), outs):
                ev_ptr, fill = np.zeros(nj + 1, np.int64), np.zeros(nj, np.int64)
                ev_t, ev_w, ev_k = np.zeros(cap), np.zeros(cap), np.zeros(cap, np.int32)
                segs = (seg[b], n_seg[b] if use_seg else 0, seg_a[b], seg_b[b], q["lz_t"][b], q["lz_src"][b],
                        lz_a[b], q["lz_b"][b], q["blk_syn"], target, weight, row_w)
                K.sort_block(part, blk_ptr[kb], blk_ptr[kb + 1], kb, j0, nj, segs, NO_POISSON, ev_ptr, fill, ev_t,
                             ev_w, ev_k)
                n = ev_ptr[nj]
                got.append((ev_ptr.copy(), ev_t[:n].copy(), ev_w[:n].copy(), ev_k[:n].copy()))
            assert got[0][0][-1] > 0 or b == 0
            for x, y in zip(*got):
                assert np.array_equal(x, y), (b, kb)


def test_sort_block_files_plain_records_in_time_order():
    """Without segments, sort_block's events of each neuron come out stable-sorted by time, ties
    (many here: twelve distinct times) in the order of the partition's records, checks
    and current steps among the arrivals; the order of numpy's stable lexsort of (neuron,
    time)."""
    rng = np.random.default_rng(7)
    nj, j0, n = 50, 100, 600
    part = np.zeros(n, dtype=K.PART_DTYPE)
    part["tgt"] = j0 + rng.integers(0, nj, n)
    part["t"] = rng.choice(np.linspace(1.0, 1.5, 12), n)
    part["w"] = np.arange(n)   # (each record told apart by its weight)
    part["kind"] = np.select([np.arange(n) < 450, np.arange(n) < 530], [K.KIND_SYN, K.KIND_CHECK], K.KIND_CURRENT)
    a, b = 30, n - 20   # (the block's records: part[a:b])
    sel = part[a:b]
    B, maxseg, n_blk = 3, 4, 2
    bucket = np.zeros((B, 8), dtype=K.ARRIVAL_DTYPE)
    segs = (bucket[0], 0, np.zeros((maxseg, n_blk), np.int64), np.zeros((maxseg, n_blk), np.int64), np.zeros(4),
            np.zeros(4, np.int64), np.full(maxseg, -1, np.int64), np.zeros(maxseg, np.int64),
            np.zeros((2, n_blk + 1), np.int32), np.zeros(1, np.int32), np.zeros(1), np.zeros(2))
    ev_ptr, fill = np.zeros(nj + 1, np.int64), np.zeros(nj, np.int64)
    ev_t, ev_w, ev_k = np.zeros(2 * n), np.zeros(2 * n), np.zeros(2 * n, np.int32)
    K.sort_block(part, a, b, 0, j0, nj, segs, NO_POISSON, ev_ptr, fill, ev_t, ev_w, ev_k)
    order = np.lexsort((sel["t"], sel["tgt"]))
    want_ptr = np.concatenate([[0], np.cumsum(np.bincount(sel["tgt"] - j0, minlength=nj))])
    assert np.array_equal(ev_ptr, want_ptr) and np.array_equal(fill, want_ptr[1:])
    m = b - a
    assert np.array_equal(ev_w[:m], sel["w"][order])
    assert np.array_equal(ev_t[:m], sel["t"][order]) and np.array_equal(ev_k[:m], sel["kind"][order])


def test_spike_segments_written_out_are_the_records_of_the_eager_fan_out():
    """write_spike_segments leaves in a bucket exactly the records the fan-out that
    writes every segment (no room for spikes) leaves there."""
    indptr, target, weight = _net(3)
    W, B, D = 0.5, 3, 0.5
    blk_start = np.array([0, 100, 128, 256, 300], dtype=np.int64)
    rng = np.random.default_rng(4)
    fans = [(np.sort(rng.uniform(1.5, 2.0, 15)), rng.integers(0, 40, 15)),
            (np.sort(rng.uniform(2.0, 2.5, 11)), rng.integers(0, 40, 11))]
    _p, _pn, lazy = _fan_out_all(fans, 4, 1000, indptr, target, weight, W, B, D, blk_start)
    _p, _pn, eager = _fan_out_all(fans, 4, 0, indptr, target, weight, W, B, D, blk_start)
    assert (lazy["lz_a"] >= 0).sum() == 2 and (eager["lz_a"] >= 0).sum() == 0
    n_blk = blk_start.size - 1
    for b in range(B):
        n = lazy["n"][b]
        assert n == eager["n"][b]
        if lazy["n_seg"][b]:
            assert not np.array_equal(lazy["bucket"][b, 1:n], eager["bucket"][b, 1:n])   # (not written yet)
        K.write_spike_segments(lazy["blk_syn"], np.arange(n_blk, dtype=np.int64), n_blk, target, weight,
                               lazy["bucket"][b], lazy["n_seg"][b], lazy["seg_a"][b], lazy["lz_t"][b],
                               lazy["lz_src"][b], lazy["lz_a"][b], lazy["lz_b"][b])
        assert np.array_equal(lazy["bucket"][b, :n], eager["bucket"][b, :n])
    assert (lazy["lz_a"] >= 0).sum() == 0


# two populations (delta and exp synapses), Poisson drive, a current step, every
# projection with the delay 0.7 ms
# sort_block's Poisson streams: none
NO_POISSON = (np.inf, np.zeros(1 << 16, np.int64), np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.uint64),
              np.zeros(0), np.zeros(0), np.zeros(0, np.int64))

UNIFORM = {
    "simulation": {"duration": 60.0, "seed": 3},
    "population": [
        {"name": "exc", "size": 300, "model": "lif",
         "params": {"tau_m": 20.0, "v_rest": 0.0, "v_th": 15.0, "v_reset": 0.0, "t_ref": 2.0, "synapse": "delta"}},
        {"name": "inh", "size": 140, "model": "lif",
         "params": {"tau_m": 10.0, "v_rest": 0.0, "v_th": 15.0, "v_reset": 0.0, "t_ref": 1.0, "synapse": "exp",
                    "tau_syn_ex": 2.0, "tau_syn_in": 2.0}}],
    "stimulus": [
        {"name": "drive", "kind": "poisson", "rate": 9000.0, "target": "exc", "weight": 0.2, "delay": 1.0},
        {"name": "drive_inh", "kind": "poisson", "rate": 9000.0, "target": "inh", "weight": 30.0, "delay": 1.0},
        {"name": "step", "kind": "current", "times": [10.0, 30.0], "amplitudes": [60.0, 0.0], "target": "inh"}],
    "projection": [
        {"source": s, "target": t, "rule": "fixed_indegree", "indegree": k, "weight": w, "delay": 0.7}
        for s, t, k, w in (("exc", "exc", 40, 0.3), ("exc", "inh", 40, 20.0), ("inh", "exc", 20, -1.0))],
}


def _spikes(sim, net):
    return {p.name: sim.spikes(p.name) for p in net.populations}


def _run(monkeypatch, threads=1, cuts=(), segments=True):
    """The network on ``threads`` shards (two run one after the other, as the serial twins:
    two shards on any machine, and no thread pool in the test process)."""
    sc = eventsim.load_scenario(copy.deepcopy(UNIFORM))
    net = eventsim.build_network(sc)
    with monkeypatch.context() as m:
        if not segments:
            m.setattr(CpuEngine, "SEGMENT_TABLE_BYTES", 0)
        m.setattr(numba.config, "NUMBA_NUM_THREADS", max(threads, numba.config.NUMBA_NUM_THREADS))
        m.setattr(CpuEngine, "_parallel", lambda self, parallel, serial: serial)
        sim = eventsim.Simulation(net, seed=sc.seed, threads=threads)
        assert sim.engine.S == threads and (sim.engine._seg[1].size > 0) == segments
        for t in (*cuts, sc.duration):
            sim.run(t)
    return sim, net


def test_a_network_of_one_delay_runs_the_same_with_and_without_segments(monkeypatch):
    """Spikes, state and counters equal to the bit: segments on one and two threads, run
    in pieces (windows cut short keep their arrivals as plain records), and the plain
    queue of the fan-out into records."""
    ref, net = _run(monkeypatch, segments=False)
    want = _spikes(ref, net)
    assert sum(t.size for t, _ in want.values()) > 500
    for threads, cuts in ((1, ()), (2, ()), (1, (7.33, 13.1, 13.15, 41.0))):
        sim, net = _run(monkeypatch, threads, cuts)
        got = _spikes(sim, net)
        for name in want:
            assert np.array_equal(got[name][0], want[name][0]) and np.array_equal(got[name][1], want[name][1]), \
                (threads, cuts, name)
        assert np.array_equal(sim.engine.t_state, ref.engine.t_state)
        for g, h in zip(sim.engine.groups, ref.engine.groups):
            assert g.state.tobytes() == h.state.tobytes()
        c1, c2 = sim.counters(), ref.counters()
        for name in c2["populations"]:
            assert np.array_equal(c1["populations"][name]["neuron_updates"], c2["populations"][name]["neuron_updates"])


def test_a_checkpoint_of_a_segmented_queue_restores_to_the_same_run(tmp_path):
    """A checkpoint mid-window (its queue: every bucket's records by target) restored into
    a new Simulation, whose buckets then hold plain records, to which the next fan-outs
    add segments (their order checked in the kernel test above): the spikes of a run
    that never stopped."""
    sc = eventsim.load_scenario(copy.deepcopy(UNIFORM))
    whole = eventsim.Simulation(eventsim.build_network(sc), seed=sc.seed)
    whole.run(sc.duration)
    first = eventsim.Simulation(eventsim.build_network(sc), seed=sc.seed)
    first.run(21.05)
    first.save_checkpoint(tmp_path / "c.ckpt")
    second = eventsim.Simulation(eventsim.build_network(sc), seed=sc.seed)
    second.restore(tmp_path / "c.ckpt")
    assert second.engine.raw_n.max() > 0 and second.engine.n_seg.max() == 0
    second.run(sc.duration)
    for name in ("exc", "inh"):
        t_all, i_all = whole.spikes(name)
        t0, i0 = first.spikes(name)
        t1, i1 = second.spikes(name)
        assert np.array_equal(np.concatenate([t0, t1]), t_all) and np.array_equal(np.concatenate([i0, i1]), i_all)
