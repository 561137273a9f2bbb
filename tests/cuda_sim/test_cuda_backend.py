"""The cuda backend under numba's CUDA simulator: the same spikes as the cpu backend.

Run by tests/test_cuda_sim.py in a process with NUMBA_ENABLE_CUDASIM=1. The simulator
runs every thread as a Python thread (about a millisecond each here), so the networks
are tiny and short. Each scenario runs on the cuda engine with random block sizes and
with each window's bucket shuffled before it is gathered: the kernels' results must
not depend on thread, block or insertion order. The reference is the cpu backend:
ids equal, times within 1e-9 ms, and the same event counters.
"""
import numpy as np
import pytest

import eventsim
from eventsim.engine.cuda import CudaEngine
from eventsim.errors import CapacityError

# the simulated RNG runs on numpy uint64 scalars, which warn when they wrap around (as intended)
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

LIF = dict(tau_m=20.0, c_m=250.0, v_rest=0.0, v_reset=10.0, v_th=20.0, t_ref=2.0)


def pop(name, size, model="lif", init=None, **params):
    p = dict(LIF, **params) if model in ("lif", "alif") else params
    d = dict(name=name, size=size, model=model, params=p)
    if init:
        d["init"] = init
    return d


def scenario(pops, projections=(), stimuli=(), duration=20.0, seed=5):
    return dict(simulation=dict(duration=duration, seed=seed), population=list(pops),
                projection=list(projections), stimulus=list(stimuli))


def spikes(sim, net):
    return {p.name: sim.spikes(p.name) for p in net.populations if not p.hidden}


def counts(sim):
    c = sim.counters()
    return (sorted((k, int(v["synaptic_events"])) for k, v in c["projections"].items()),
            sorted((k, int(v["events"])) for k, v in c["stimuli"].items()),
            sorted((k, v["neuron_updates"].tolist(), v["spike_count"].tolist())
                   for k, v in c["populations"].items()))


def run_both(sc, pieces=None, n_cuda=1, seed=0):
    """Run on cpu, then on cuda with random block sizes and shuffled buckets; assert
    the same spikes and counters; returns the cpu spikes."""
    s = eventsim.load(sc)
    net = eventsim.build_network(s)
    pieces = pieces or [s.duration]
    ref = eventsim.Simulation(net, backend="cpu", seed=s.seed)
    for t in pieces:
        ref.run(t)
    want = spikes(ref, net)
    rng = np.random.default_rng(seed)
    for _ in range(n_cuda):
        bs = int(rng.choice([1, 3, 5, 8, 13, 32]))
        sim = eventsim.Simulation(net, backend="cuda", seed=s.seed)
        sim.engine = CudaEngine(net, s.seed, block_size=bs, shuffle_seed=int(rng.integers(1 << 30)))
        for t in pieces:
            sim.run(t)
        got = spikes(sim, net)
        for name, (t, i) in want.items():
            tg, ig = got[name]
            assert np.array_equal(ig, i), f"{name}: spike ids differ (block size {bs})"
            assert np.all(np.abs(tg - t) <= 1e-9), f"{name}: spike times differ (block size {bs})"
        assert counts(sim) == counts(ref), f"counters differ (block size {bs})"
    return want, sim.engine


def n_spikes(sp):
    return sum(t.size for t, _ in sp.values())


def test_delta_lif_heterogeneous_delays_currents_and_spike_sources():
    """Delta synapses, delays drawn from [1, 3] ms, current steps (crossings between
    inputs), a spike_source pattern, and a run cut into pieces (windows cut short)."""
    sc = scenario(
        [pop("exc", 16, init={"v": {"uniform": [0.0, 19.5]}}), pop("inh", 4, init={"v": {"uniform": [10.0, 19.0]}}),
         pop("pattern", 3, model="spike_source", times=[[1.0, 4.0, 9.5], [2.5], [3.0, 3.0, 12.0]])],
        [dict(source="exc", target="exc", rule="fixed_indegree", indegree=4, weight=1.5,
              delay={"uniform": [1.0, 3.0]}),
         dict(source="exc", target="inh", rule="fixed_indegree", indegree=4, weight=3.0, delay=1.3),
         dict(source="inh", target="exc", rule="fixed_indegree", indegree=2, weight=-3.0, delay=1.1),
         dict(source="pattern", target="exc", rule="all_to_all", weight=4.0, delay=1.0)],
        [dict(name="step", kind="current", target="exc", times=[3.0, 11.0], amplitudes=[255.0, 200.0])],
        duration=16.0)
    sp = run_both(sc, pieces=[5.3, 9.05, 16.0], n_cuda=1, seed=1)[0]
    assert sp["exc"][0].size >= 10 and sp["inh"][0].size >= 1


def test_exp_synapses_with_poisson_source_population():
    sc = scenario(
        [pop("inp", 6, model="poisson_source", rate=300.0),
         pop("exc", 12, synapse="exp", tau_syn_ex=2.0, tau_syn_in=5.0, i_e=180.0,
             init={"v": {"uniform": [0.0, 15.0]}})],
        [dict(source="inp", target="exc", rule="fixed_indegree", indegree=3, weight=600.0, delay=1.0),
         dict(source="exc", target="exc", rule="fixed_indegree", indegree=3, weight=-300.0,
              delay={"uniform": [1.0, 2.5]})],
        duration=16.0)
    sp = run_both(sc, n_cuda=1, seed=2)[0]
    assert sp["inp"][0].size >= 10 and sp["exc"][0].size >= 5


def test_alif_with_poisson_stimulus():
    sc = scenario(
        [pop("a", 6, model="alif", tau_m=10.0, tau_a=30.0, delta_th=2.0, i_e=1000.0, v_reset=15.0,
             t_ref=1.0, init={"v": {"uniform": [10.0, 19.0]}})],
        [dict(source="a", target="a", rule="fixed_indegree", indegree=2, weight=-1.0, delay=1.2)],
        [dict(name="drive", kind="poisson", target="a", rate=800.0, weight=0.7, delay=1.0, ids=[0, 2, 4])],
        duration=12.0)
    sp = run_both(sc, n_cuda=1, seed=3)[0]
    assert sp["a"][0].size >= 10


def test_poisson_stimuli_merged_per_neuron():
    """Two poisson stimuli on overlapping neurons: the per-neuron merge of the streams."""
    sc = scenario(
        [pop("n", 8, t_ref=0.5, init={"v": {"uniform": [10.0, 19.0]}})],
        [dict(source="n", target="n", rule="fixed_indegree", indegree=2, weight=1.0, delay=1.5)],
        [dict(name="fast", kind="poisson", target="n", rate=3000.0, weight=0.4, delay=1.0),
         dict(name="slow", kind="poisson", target="n", rate=1000.0, weight=0.9, delay=1.7, ids=[1, 2, 3, 5])],
        duration=20.0)
    sp = run_both(sc, n_cuda=2, seed=4)[0]
    assert sp["n"][0].size >= 8


def test_no_refractory_period_retries_with_more_spike_slots():
    """t_ref = 0: no bound on spikes per window; the engine retries a window with more
    slots from its saved state when a neuron overflows its initial 4."""
    sc = scenario(
        [pop("n", 3, synapse="exp", t_ref=0.0, v_reset=19.9, i_e=400.0, init={"v": 19.0})],
        [dict(source="n", target="n", rule="all_to_all", weight=-20.0, delay=1.0)],
        duration=4.0)
    sp, eng = run_both(sc, n_cuda=1, seed=5)
    t, i = sp["n"]
    per_window = np.bincount(np.floor(t).astype(np.int64) * 3 + i)
    assert per_window.max() > 4 and eng.kslots > 4


def test_weights_changed_between_runs_reach_the_device():
    """Regression: the trial rules change network.weight between presentations and then
    reset the state; the cuda engine kept its first copy of the weights, so on cuda the
    rule's changes were never used. Weights set before reset_state must be the ones the
    next run transmits (as on the cpu, where the fan-out reads network.weight)."""
    sc = scenario([pop("s", 2, model="spike_source", times=[[1.0, 3.0, 5.0], [2.0, 4.0]]), pop("n", 2)],
                  [dict(source="s", target="n", rule="all_to_all", weight=3.0, delay=1.0)], duration=10.0)
    out = {}
    for backend in ("cpu", "cuda"):
        s = eventsim.load(sc)
        net = eventsim.build_network(s)
        sim = eventsim.Simulation(net, backend=backend, seed=s.seed)
        sim.run(10.0)
        first = sim.spikes("n")[0].size
        net.weight[:] = 12.0          # two 12 mV inputs reach v_th = 20: now the neurons fire
        sim.reset_state()
        sim.set_spike_times("s", [[11.0, 13.0, 15.0], [12.0, 14.0]])
        sim.run(20.0)
        out[backend] = (first, sim.spikes("n"))
    assert out["cpu"][0] == out["cuda"][0] == 0
    t_cpu, i_cpu = out["cpu"][1]
    t_gpu, i_gpu = out["cuda"][1]
    assert t_cpu.size > 0 and np.array_equal(i_cpu, i_gpu)
    assert np.allclose(t_cpu, t_gpu, atol=1e-9, rtol=0)


def test_network_that_does_not_fit_is_refused_before_the_run(monkeypatch):
    from numba import cuda

    class Ctx:
        def get_memory_info(self):
            return (1000, 2000)

    monkeypatch.setattr(cuda, "current_context", lambda: Ctx())
    net = eventsim.build_network(eventsim.load(scenario([pop("a", 50)])))
    with pytest.raises(CapacityError, match="GPU memory"):
        eventsim.Simulation(net, backend="cuda", seed=1)


@pytest.mark.parametrize("block_size", [1, 4, 32])
def test_gather_orders_each_neurons_events_by_time_then_queue_order(block_size):
    """Arrivals put into a bucket in random order, many at equal times: the gathered
    events of each neuron come out in (time, queue sequence) order, after which the
    neuron's due crossing check (t = 0 at the start) follows the arrivals of its instant."""
    n, nb = 5, 60
    net = eventsim.build_network(eventsim.load(scenario([pop("a", n)])))
    eng = CudaEngine(net, 1, block_size=block_size)
    rng = np.random.default_rng(block_size)
    t = rng.choice([0.0, 0.25, 0.5, 0.75], nb)
    tgt = rng.integers(0, n, nb).astype(np.int32)
    seq = rng.permutation(10 * nb)[:nb].astype(np.int64)
    w = np.arange(nb, dtype=np.float64)   # identifies each record
    bt, bw, btgt, bseq = eng.d_bucket
    for d, h in ((bt, t), (bw, w), (btgt, tgt), (bseq, seq)):
        d[0, :nb].copy_to_device(h)
    eng._gather(0, nb, 1.0)
    ptr = eng.d_ev_ptr.copy_to_host()
    ev_t, ev_w, ev_kind, _ = (a.copy_to_host() for a in eng.d_ev)
    for i in range(n):
        mine = np.flatnonzero(tgt == i)
        order = mine[np.lexsort((seq[mine], t[mine]))]
        # expected: arrivals at t = 0 in sequence order, the check (t = 0), the later arrivals
        at0 = order[t[order] == 0.0]
        later = order[t[order] > 0.0]
        want_w = np.concatenate([w[at0], [0.0], w[later]])
        want_kind = np.concatenate([np.zeros(at0.size), [2], np.zeros(later.size)])
        a, b = ptr[i], ptr[i + 1]
        assert b - a == mine.size + 1
        assert np.array_equal(ev_w[a:b], want_w) and np.array_equal(ev_kind[a:b], want_kind)
        assert np.all(np.diff(ev_t[a:b]) >= 0)


def test_state_recording_on_cuda_equals_the_cpus(tmp_path):
    """Regression: state sampling existed in the CPU's copy of the per-neuron loop only (a
    probe on cuda was refused). The loop is one source now: the samples of neurons with
    events (written by the loop) and without (the sample kernel), the frame buffer growing
    on the device between collects, equal the cpu's to 1e-12 mV; and the CLI writes them."""
    from eventsim import api
    sc = scenario([pop("a", 5, i_e=300.0, init={"v": {"uniform": [0.0, 19.0]}}), pop("quiet", 3)],
                  [dict(source="a", target="quiet", rule="all_to_all", weight=4.0, delay=1.0)],
                  [dict(name="drive", kind="poisson", target="a", rate=2000.0, weight=0.8, delay=0.5, ids=[1, 3])],
                  duration=12.0)
    net = eventsim.build_network(eventsim.load(sc))
    out = {}
    for backend in ("cpu", "cuda"):
        sim = eventsim.Simulation(net, backend=backend, seed=2)
        sim.record_state("a", ["v", "i_syn"], [0, 1, 4], 0.25, start=0.5)
        sim.record_state("quiet", ["v"], "all", 0.1, stop=9.0)
        sim.run(4.0)
        sim.run(12.0)
        out[backend] = (sim.state_samples("a"), sim.state_samples("quiet"), sim.spikes("a")[0].size)
    for j in range(2):
        a, b = out["cpu"][j], out["cuda"][j]
        assert np.array_equal(a.times, b.times) and a.times.size > 30
        for v in a.values:
            assert np.max(np.abs(a.values[v] - b.values[v])) < 1e-12, v
    assert out["cpu"][2] >= 3   # the recorded population spikes: resets are sampled too
    sc = eventsim.load(dict(sc, simulation=dict(duration=6.0, seed=5, backend="cuda"),
                            record={"state": [{"population": "a", "variables": ["v"], "interval": 1.0}]}))
    path = tmp_path / "o.h5"
    api.run_scenario(sc, path)
    from eventsim.output.report import read_report
    times, ids, values, units = read_report(path, "a")
    assert times.size == 6 and values["v"].shape == (6, 5) and units["v"] == "mV"


@pytest.mark.parametrize("block_size", [1, 4, 32])
def test_window_spikes_are_ordered_on_the_device(block_size):
    """order_spikes puts a window's spikes (as collected: neuron order, then sources) in
    the documented order, on the device: time, then population rank, then list
    position (a spike_source may list one time twice). Reference: numpy's lexsort."""
    from numba import cuda
    from eventsim.engine import cuda_kernels as CK
    rng = np.random.default_rng(block_size)
    n, n_neurons = 60, 25
    t = rng.choice([0.1, 0.15, 0.2, 0.35], n)          # many equal times
    ids = rng.integers(0, n_neurons, n)
    rank = rng.permutation(n_neurons)
    out_t, out_id = cuda.device_array(n), cuda.device_array(n, dtype=np.int64)
    grid = ((n + block_size - 1) // block_size, block_size)
    CK.order_spikes[grid](n, cuda.to_device(t), cuda.to_device(ids), cuda.to_device(rank), out_t, out_id)
    order = np.lexsort((np.arange(n), rank[ids], t))
    assert np.array_equal(out_t.copy_to_host(), t[order])
    assert np.array_equal(out_id.copy_to_host(), ids[order])
