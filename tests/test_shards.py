"""Shards (threads) of the cpu backend: each owns a share of every population, its own
queue and checks; the output must not depend on how many there are, down to the bytes,
for every kind of network state, and a checkpoint must move between shard counts.
Runs with more than one thread happen in their own processes (numba's OpenMP pool
must not be started in the pytest process, which forks)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import eventsim
from test_threads import MIXED, _assert_same_output, _datasets

ROOT = Path(__file__).resolve().parents[1]
ENV4 = dict(os.environ, NUMBA_NUM_THREADS="4")   # four shards even on a two-core machine


def _run(tmp_path, scenario, threads, name, *extra):
    out = tmp_path / f"{name}_{threads}.h5"
    r = subprocess.run([sys.executable, "-m", "eventsim.cli", "run", str(scenario), "-o", str(out),
                        "--threads", str(threads), "--json", *extra], capture_output=True, text=True, env=ENV4)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads(r.stdout.strip().splitlines()[-1])["threads"] == threads
    return out


def test_shard_runs_match_a_slow_reference():
    """kernels.shard_runs: each (source, shard) gets exactly its synapses, in CSR order,
    also when rows are not sorted by target (then the runs are short)."""
    from eventsim.engine import kernels as K
    rng = np.random.default_rng(4)
    n, S = 40, 3
    deg = rng.integers(0, 12, n)
    indptr = np.concatenate([[0], np.cumsum(deg)]).astype(np.int64)
    target = rng.integers(0, n, indptr[-1]).astype(np.int32)
    shard_of = rng.integers(0, S, n).astype(np.int32)
    ptr = np.zeros((S, n + 1), dtype=np.int64)
    n_runs = K.shard_runs(indptr, target, shard_of, S, True, ptr, np.zeros(0, np.int64), np.zeros(0, np.int64))
    a, b = np.zeros(n_runs, np.int64), np.zeros(n_runs, np.int64)
    assert K.shard_runs(indptr, target, shard_of, S, False, ptr, a, b) == n_runs
    for s in range(S):
        for src in range(n):
            got = [syn for r in range(ptr[s, src], ptr[s, src + 1]) for syn in range(a[r], b[r])]
            want = [syn for syn in range(indptr[src], indptr[src + 1]) if shard_of[target[syn]] == s]
            assert got == want, (s, src)
    assert n_runs > S * (deg > 0).sum() // 2   # unsorted rows: many short runs, not one per row


@pytest.mark.parametrize("threads", [2, 3, 4])
def test_mixed_network_same_bytes_for_any_shard_count(tmp_path, threads):
    """lif (exp synapses, current steps, Poisson stimulus), alif, a poisson_source
    population, drawn delays, a state probe: every dataset equal to one thread's."""
    path = tmp_path / "mixed.toml"
    path.write_text(textwrap.dedent(MIXED))
    _assert_same_output(_run(tmp_path, path, 1, "mixed"), _run(tmp_path, path, threads, "mixed"))


def test_stdp_network_same_bytes_on_shards(tmp_path):
    """Plastic synapses live with their targets: the STDP fan-out fills every shard's
    queue; weights, weight samples and spikes as on one thread."""
    scenario = ROOT / "scenarios" / "song2000_stdp.toml"
    a = _run(tmp_path, scenario, 1, "stdp", "--duration", "400")
    b = _run(tmp_path, scenario, 3, "stdp", "--duration", "400")
    _assert_same_output(a, b)
    assert any(k.startswith("weights") or "weight" in k for k in _datasets(a)), sorted(_datasets(a))


MOVE = """
import sys
import numpy as np
import eventsim
sc = eventsim.load(sys.argv[1])
net = eventsim.build_network(sc)
t_save = float(sys.argv[5])
whole = eventsim.Simulation(net, seed=5, threads=1)
whole.run(t_save)   # (a run stopped mid-window continues exactly, but its crossing searches
whole.run(60.0)     #  end at the stop: the reference stops there too)
first = eventsim.Simulation(net, seed=5, threads=int(sys.argv[3]))
first.run(t_save)
first.save_checkpoint(sys.argv[2])
second = eventsim.Simulation(net, seed=5, threads=int(sys.argv[4]))
second.restore(sys.argv[2])
second.run(60.0)

def joined(p):   # the first run's spikes, then the continued run's
    return [np.concatenate([a, b]) for a, b in zip(first.spikes(p.name), second.spikes(p.name))]

bad = [p.name for p in net.populations
       if not all(np.array_equal(x, y) for x, y in zip(whole.spikes(p.name), joined(p)))]
print("SAME" if not bad else "DIFFERENT " + " ".join(bad), sum(whole.spikes(p.name)[0].size for p in net.populations))
"""


@pytest.mark.parametrize("saved,restored,t_save", [(3, 2, 27.3), (1, 4, 31.1), (4, 1, 20.0)])
def test_a_checkpoint_moves_between_shard_counts(tmp_path, saved, restored, t_save):
    """The checkpoint stores the queue by target neuron (in queue order per target) and
    the checks by neuron, so a run saved on one shard count continues on another; also
    when saved mid-window (arrivals after the stop kept in every shard's bucket)."""
    path = tmp_path / "mixed.toml"
    path.write_text(textwrap.dedent(MIXED).split("[[record.state]]")[0])
    r = subprocess.run([sys.executable, "-c", MOVE, str(path), str(tmp_path / "c.ckpt"), str(saved), str(restored), str(t_save)],
                       capture_output=True, text=True, env=ENV4)
    assert r.returncode == 0, r.stderr[-3000:]
    verdict, n = r.stdout.split()[0], int(r.stdout.split()[-1])
    assert verdict == "SAME", r.stdout
    assert n > 100


TWO_LIF = """
[simulation]
duration = 50.0
seed = 11

[[population]]
name = "exc"
size = 300
model = "lif"
[population.params]
tau_m = 10.0
v_th = -55.0
v_rest = -70.0
v_reset = -70.0
t_ref = 2.0
synapse = "exp"
[population.init]
v = {uniform = [-70.0, -56.0]}

[[population]]
name = "inh"
size = 200
model = "lif"
[population.params]
tau_m = 8.0
v_th = -52.0
v_rest = -70.0
v_reset = -65.0
t_ref = 1.0
synapse = "exp"

[[projection]]
source = "exc"
target = "inh"
rule = "fixed_indegree"
indegree = 40
weight = 150.0
delay = {uniform = [0.5, 2.0], min = 0.5}

[[projection]]
source = "inh"
target = "exc"
rule = "fixed_indegree"
indegree = 20
weight = -80.0
delay = 0.8

[[stimulus]]
name = "noise"
kind = "poisson"
rate = 6000.0
target = "exc"
weight = 40.0
delay = 0.1

[[stimulus]]
name = "noise_inh"
kind = "poisson"
rate = 5000.0
target = "inh"
weight = 40.0
delay = 0.1

[record]
spikes = "all"

[[record.state]]
population = "exc"
variables = ["v", "i_syn"]
ids = [0, 140, 299]
interval = 0.3

[[record.state]]
population = "inh"
variables = ["v"]
interval = 0.7
start = 5.0
"""


@pytest.mark.parametrize("threads", [2, 3])
def test_populations_of_one_model_in_one_launch_with_probes(tmp_path, threads):
    """Populations of one model and record layout are advanced by one launch of the
    shards (typed lists of their records and probes): with a probe on each, every
    dataset equals one thread's."""
    path = tmp_path / "two.toml"
    path.write_text(TWO_LIF)
    a, b = _run(tmp_path, path, 1, "two"), _run(tmp_path, path, threads, "two")
    _assert_same_output(a, b)
    d = _datasets(a)
    assert d["report/inh/data"].shape[1] == 200 and d["report/exc/data"].shape[1] == 6
    assert all(d[f"spikes/{p}/timestamps"].size > 50 for p in ("exc", "inh"))


def test_one_launch_is_taken_when_populations_share_a_model(tmp_path):
    from eventsim.engine.cpu import CpuEngine
    nets = []
    for name, text in (("two", TWO_LIF), ("mixed", textwrap.dedent(MIXED))):
        (tmp_path / f"{name}.toml").write_text(text)
        nets.append(eventsim.build_network(eventsim.load(str(tmp_path / f"{name}.toml"))))
    assert CpuEngine(nets[0], 1)._together
    assert not CpuEngine(nets[1], 1)._together    # lif and alif: one launch per population


def test_one_shared_parameter_record_gives_the_same_run(tmp_path, monkeypatch):
    """A population whose neurons share their parameters keeps one record (less memory
    to go through every window); the run must be the same bytes as with one record per
    neuron, and a population with drawn parameters keeps one per neuron."""
    from eventsim.engine import cpu
    (tmp_path / "two.toml").write_text(TWO_LIF.replace('tau_m = 8.0', 'tau_m = {uniform = [6.0, 10.0]}'))
    net = eventsim.build_network(eventsim.load(str(tmp_path / "two.toml")))
    runs = []
    for shared in (True, False):
        if not shared:
            monkeypatch.setattr(cpu, "population_params", lambda km, pop: km.pack_params(pop))
        sim = eventsim.Simulation(net, seed=3)
        sizes = [g.params.shape[0] for g in sim.engine.groups]
        sim.run(30.0)
        runs.append((sizes, [b"".join(a.tobytes() for a in sim.spikes(p)) for p in ("exc", "inh")],
                     sim.spikes("inh")[0].size))
    assert runs[0][0] == [1, 200] and runs[1][0] == [300, 200]   # exc shares; inh's tau_m is drawn
    assert runs[0][1] == runs[1][1] and runs[0][2] > 50


def test_the_queue_holds_the_last_windows_fan_out():
    """With one launch per window, a window's fan-out joins the next window's launch;
    whatever reads the queue in between (a checkpoint) must find every arrival already
    there. The queue after a run is compared with the arrivals computed here from the
    recorded spikes and the synapse table: every (spike, synapse) arriving at or after
    now, none before. (Regression: a checkpoint that missed the last window's arrivals.)"""
    from eventsim.scenario import load_scenario
    sc = load_scenario(ROOT / "scenarios" / "potjans2014_microcircuit.toml", overrides={
        "network.scale": 0.02, "simulation.duration": 40.0, "analysis.t_start": 0.0})
    net = eventsim.build_network(sc)
    sim = eventsim.Simulation(net, seed=sc.seed)
    assert sim.engine._together
    sim.run(20.0)
    W = sim.engine.W
    for _ in range(2000):   # on until a step (a run's end cuts windows) ends with spikes
        before = sim.engine.t
        if sim.run(before + W):
            break
    now = sim.engine.t
    t, src = [], []
    for p in net.populations:
        pt, pi = sim.spikes(p.name)
        t.append(pt)
        src.append(pi + p.offset)
    t, src = np.concatenate(t), np.concatenate(src)
    assert ((t >= before) & (t < now)).sum() > 0   # the last step spiked: its fan-out matters
    deg = np.diff(net.indptr)[src]
    syn = np.concatenate([np.arange(net.indptr[j], net.indptr[j + 1]) for j in src])
    delay = net.delay_table[net.delay_index[syn]] if net.delay_table is not None else net.delay_values[syn]
    arrival = np.repeat(t, deg) + delay
    keep = arrival >= now
    want = np.sort(np.rec.fromarrays([net.target[syn][keep].astype(np.int64), arrival[keep],
                                      net.weight[syn][keep]], names="tgt,t,w"))
    q = sim.engine.get_state()["queue"]
    got = np.sort(np.rec.fromarrays([q["tgt"].astype(np.int64), q["t"], q["w"]], names="tgt,t,w"))
    assert want.size > 50
    assert got.size == want.size
    assert np.array_equal(got, want)


def test_the_compiled_window_loop_gives_the_per_window_run():
    """A plain run takes its windows in batches, in compiled code (cpu_kernels.run_windows);
    it must give the per-window path's run to the bit: spikes, counters, the queue and
    checks after it, and commits at the same times. Tiny starting capacities make the
    compiled run grow the buckets, the partition and the scratch many times (within
    batches too), and the runs end mid-window."""
    from eventsim.engine import kernels as K
    from eventsim.scenario import load_scenario
    sc = load_scenario(ROOT / "scenarios" / "potjans2014_microcircuit.toml", overrides={
        "network.scale": 0.05, "simulation.duration": 60.0, "analysis.t_start": 0.0})
    net = eventsim.build_network(sc)
    runs = []
    for compiled in (True, False):
        sim = eventsim.Simulation(net, seed=sc.seed, commit_every=2.5)
        commits = []
        sim.after_commit = commits.append
        eng = sim.engine
        eng.compiled_loop = compiled
        assert eng._batches() is compiled
        if compiled:
            eng.buckets = None
            eng._alloc_buckets(1)
            eng.part2 = eng._per_shard(1, K.PART_DTYPE)
            eng._alloc_scratch(1)
        for until in (7.33, 30.0, 52.05):
            sim.run(until)
        state = eng.get_state()
        spikes = [b"".join(a.tobytes() for a in sim.spikes(p.name)) for p in net.populations]
        runs.append((spikes, eng.spike_count.copy(), eng.updates.copy(), state, commits, eng.cap))
    (s1, c1, u1, st1, k1, cap1), (s2, c2, u2, st2, k2, cap2) = runs
    assert s1 == s2 and sum(len(x) for x in s1) > 0
    assert np.array_equal(c1, c2) and c1.sum() > 100 and np.array_equal(u1, u2)
    assert st1.keys() == st2.keys()
    for key in st1:
        assert np.array_equal(np.asarray(st1[key]), np.asarray(st2[key])), key
    assert k1 == k2 and len(k1) >= 20
    assert cap1 >= 64   # grew from 1


def test_a_shard_that_is_done_takes_the_blocks_of_a_slower_one(monkeypatch):
    """Work stealing (cpu_kernels.shard_blocks), with two shards run one after the other
    (no thread pool in the test process). The per-window path runs every shard's
    partition first, then the shards' blocks, so that shard 0 finds every block of shard
    1 untaken and advances them all, emitting shard 1's spikes and filing the crossing
    checks of shard 1's neurons through kernels.merge_checks. The compiled window loop
    runs its launch's shards as they come (shard 0's partition and blocks, then shard
    1's): shard 0 must leave shard 1's blocks alone, since their events are not
    partitioned yet (taken, they would be advanced without them). Both must give the
    one-shard run to the bit: spikes, counters, the queue and the checks after it.
    Deterministic: which shard takes a block does not depend on timing here."""
    import numba

    from eventsim.engine import cpu
    from eventsim.engine import kernels as K
    from eventsim.scenario import load_scenario
    sc = load_scenario(ROOT / "scenarios" / "potjans2014_microcircuit.toml", overrides={
        "network.scale": 0.05, "simulation.duration": 60.0, "analysis.t_start": 0.0})
    net = eventsim.build_network(sc)

    def run(threads, compiled):
        sim = eventsim.Simulation(net, seed=sc.seed, threads=threads)
        sim.engine.compiled_loop = compiled
        assert sim.engine.S == threads and sim.engine._together
        sim.run(60.0)
        spikes = [b"".join(a.tobytes() for a in sim.spikes(p.name)) for p in net.populations]
        return spikes, sim.engine.spike_count.copy(), sim.engine.updates.copy(), sim.engine.get_state()

    want = run(1, True)
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)   # two shards on any machine

    def serial(self, parallel, serial):
        kern = self.groups[0].kernels
        if serial is not kern.gather_advance_serial:
            return serial

        def partitions_first(n_shards, part_args, block_args, seg):
            # gather_advance's launch with its shards one after the other, every partition
            # first: a shard takes only blocks of shards whose partition is done, so here
            # shard 0 takes all of shard 1's
            for s in range(n_shards):
                kern.shard_partition(s, *part_args, seg)
            for s in range(n_shards):
                kern.shard_blocks(s, *block_args, seg)
        return partitions_first
    monkeypatch.setattr(cpu.CpuEngine, "_parallel", serial)
    foreign, emitted = [], []
    merge = K.merge_checks

    def merge_and_count(f_t2, f_id2, f_ver2, n_f2, *rest):
        foreign.append(int(n_f2.sum()))   # checks shard 0 scheduled for shard 1's neurons
        return merge(f_t2, f_id2, f_ver2, n_f2, *rest)
    monkeypatch.setattr(K, "merge_checks", merge_and_count)
    exchange = cpu.CpuEngine.exchange

    def exchange_and_count(self, *args):
        emitted.append(self.n_spk2.copy())
        return exchange(self, *args)
    monkeypatch.setattr(cpu.CpuEngine, "exchange", exchange_and_count)
    for compiled in (True, False):
        got = run(2, compiled)
        assert got[0] == want[0] and sum(len(x) for x in want[0]) > 0
        assert np.array_equal(got[1], want[1]) and want[1].sum() > 100 and np.array_equal(got[2], want[2])
        assert got[3].keys() == want[3].keys()
        for key in want[3]:
            assert np.array_equal(np.asarray(got[3][key]), np.asarray(want[3][key])), key
    # the per-window path: shard 0 advanced shard 1's blocks (every spike is shard 0's)
    # and scheduled checks for its neurons
    emitted = np.array(emitted)
    assert emitted[:, 0].sum() > 100 and emitted[:, 1].sum() == 0
    assert sum(foreign) > 0


def test_the_fan_outs_counts_per_block_are_the_buckets():
    """The fan-out counts each bucket's records per block (kernels.fanout_shard), so that
    the partition need not read the bucket to count them; the partition takes those
    counts where they add up to the bucket's records. Checked here against the records
    themselves, counted per block: in every bucket the counts never exceed the records
    of a block (they count records present, no others), so where they add up they are
    the bucket's counts; after runs that end mid-window (a cut keeps records, uncounted),
    between them, after a reset of the state (the queue dropped) and after a restore
    (records that no fan-out counted, left to the partition's own count). The compiled
    window loop and the per-window path both."""
    from eventsim.scenario import load_scenario
    sc = load_scenario(ROOT / "scenarios" / "potjans2014_microcircuit.toml", overrides={
        "network.scale": 0.03, "simulation.duration": 60.0, "analysis.t_start": 0.0})
    net = eventsim.build_network(sc)

    def check(eng):
        """(buckets with records whose counts the partition takes, those it counts itself)"""
        taken = counted = 0
        for s in range(eng.S):
            for b in range(eng.B):
                recs = eng.buckets[s, b, :eng.b_count[s, b]]
                want = np.bincount(eng.blk_of[recs["tgt"]], minlength=eng.n_blk)
                got = eng.blk_cnt[s, b]
                assert got[0] == 0 and (got[1:] <= want).all(), (s, b)
                if got.sum() == recs.size:
                    assert np.array_equal(got[1:], want), (s, b)
                    taken += recs.size > 0
                else:
                    counted += 1
        return taken, counted

    for compiled in (True, False):
        sim = eventsim.Simulation(net, seed=sc.seed)
        eng = sim.engine
        eng.compiled_loop = compiled
        assert eng._seg[1].size == 0   # (many delays: no spike segments, the counts are used)
        taken = 0
        for until in (7.33, 18.0, 25.05):
            sim.run(until)
            taken += check(eng)[0]
        assert taken > 10   # counts that the partition takes, of buckets with records
        state = eng.get_state()
        eng.reset_state()
        assert not eng.blk_cnt.any() and not eng.b_count.any()
        sim.run(31.7)
        check(eng)
        eng.set_state(state)
        assert check(eng) == (0, int((eng.b_count > 0).sum())) and eng.b_count.sum() > 0
        for until in (40.0, 47.3):
            sim.run(until)
            check(eng)
        assert check(eng)[0] > 0
