"""STDP on the cuda backend under numba's CUDA simulator: the cpu backend's spikes,
weights, weight log and update counters, and NEST's weights.

Run by tests/test_cuda_sim.py in a process with NUMBA_ENABLE_CUDASIM=1. The cuda runs
use random block sizes and shuffled buckets (results must not depend on thread, block
or insertion order). Equal: spike ids; times within 1e-9 ms; weights within 1e-12
(relative). The scripted networks also check the weights of one synapse against
NEST 3.x (tests/data/nest/stdp_variants.json), so that both backends cannot be wrong
together.
"""
import json
from pathlib import Path

import numpy as np
import pytest
from netutil import lif_pop, network, spike_source

import eventsim
from eventsim.engine.cuda import CudaEngine
from eventsim.network.core import Projection

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

VARIANTS = json.loads((Path(__file__).parents[1] / "data" / "nest" / "stdp_variants.json").read_text())["cases"]
NEST_KEY = {"Wmax": "w_max", "Aplus": "a_plus", "Aminus": "a_minus", "Aplus_triplet": "a_plus_triplet",
            "Aminus_triplet": "a_minus_triplet"}
# one NEST case per rule, all with delay 2.5 ms (the window length: the smallest delay)
CASES = {"stdp": "stdp_mu04_d2p5", "stdp_nn_symm": "nn_symm_d2p5", "stdp_nn_pre_centered": "nn_pre_centered_d2p5",
         "stdp_nn_restr": "nn_restr_d2p5", "stdp_triplet": "triplet_bounds_d2p5"}
LIF = dict(tau_m=20.0, c_m=250.0, v_rest=0.0, v_reset=10.0, v_th=20.0, t_ref=2.0)
BLOCKS = [1, 3, 5, 8, 13, 32]


def _rel_close(got, ref, rel=1e-12, what=""):
    got, ref = np.asarray(got, dtype=float), np.asarray(ref, dtype=float)
    assert got.shape == ref.shape, what
    err = np.abs(got - ref)
    assert np.all(err <= rel * np.abs(ref) + 1e-300), (what, float(np.max(err)))


def _cuda_sim(net, seed, rng):
    bs = int(rng.choice(BLOCKS))
    sim = eventsim.Simulation(net, backend="cuda", seed=seed)
    sim.engine = CudaEngine(net, seed, block_size=bs, shuffle_seed=int(rng.integers(1 << 30)))
    return sim


def _assert_same(ref, sim, pops, plastic):
    """Spikes, final weights, weight logs and counters of two finished simulations."""
    for name in pops:
        (t0, i0), (t1, i1) = ref.spikes(name), sim.spikes(name)
        assert np.array_equal(i1, i0), f"{name}: spike ids differ"
        assert np.all(np.abs(t1 - t0) <= 1e-9), f"{name}: spike times differ"
    _rel_close(sim.weights(), ref.weights(), what="final weights")
    for name in plastic:
        a, b = ref.weight_events(name), sim.weight_events(name)
        assert np.all(np.abs(b[0] - a[0]) <= 1e-9) and np.array_equal(b[1], a[1]) and np.array_equal(b[2], a[2])
        _rel_close(b[3], a[3], what=f"{name}: logged weights")
    assert sim.counters()["projections"] == ref.counters()["projections"]


# ---- scripted pre and post trains ----

def _scripted(rule):
    """Pre neuron 0 replays the NEST case's pre train (delay 2.5 ms); neurons 1 and 2
    spike at post spikes seen through their delays (4.0, 6.3 ms: longer than the 2.5 ms
    window, and than two), at post spikes themselves, twice within one window, and with
    neuron 0. The post neuron fires exactly at the case's post train (a huge input from
    a drive neuron); its several post spikes between pre spikes are in the case."""
    c = VARIANTS[CASES[rule]]
    params = {NEST_KEY.get(k, k): v for k, v in c["synapse_params"].items() if k != "delay"}
    params["tau_minus"] = c["tau_minus_ms"]
    if rule == "stdp_triplet":
        params["tau_minus_triplet"] = c["tau_minus_triplet_ms"]
    d = c["delay_ms"]
    post = np.asarray(c["post_parrot_spike_times_ms"])
    assert np.array_equal(post - d + d, post)   # the drive lands exactly
    pre0 = c["pre_parrot_spike_times_ms"]
    pre1 = sorted({*(post[[2, 7, 8, 30, 33]] + 4.0), *post[[4, 12]], post[20] + 4.0 + 0.7, pre0[6]})
    pre2 = sorted({*(post[[3, 31, 34, 36]] + 6.3), post[10], post[10] + 0.4, 600.0})
    pres = spike_source("pre", [pre0, pre1, pre2], 0)
    drive = spike_source("drive", [post - d], 3)
    nrn = lif_pop("post", 1, 4, synapse="delta", v_rest=0.0, v_reset=0.0, v_th=1e9, t_ref=0.0)
    w0 = c["initial_weight"]
    edges = [(0, 4, w0, d, 0), (1, 4, w0, 4.0, 0), (2, 4, w0, 6.3, 0), (3, 4, 1e12, d, 1)]
    projs = [Projection("plastic", 0, "pre", "post", plasticity="syn", n_synapses=3),
             Projection("drive", 1, "drive", "post", n_synapses=1)]
    net = network([pres, drive, nrn], edges, projections=projs)
    net.plasticity = {"syn": dict(params, rule=rule)}
    end = max(pre0[-1], post[-1]) + 10.0
    return net, c, post, end


@pytest.mark.parametrize("rule", sorted(CASES))
def test_scripted_trains_match_cpu_and_nest(rule):
    rng = np.random.default_rng(sorted(CASES).index(rule))
    pieces = None
    sims = []
    for backend in ("cpu", "cuda"):
        net, case, post, end = _scripted(rule)   # a new network: the cpu engine updates its weights
        sim = (eventsim.Simulation(net, backend="cpu", seed=1) if backend == "cpu" else _cuda_sim(net, 1, rng))
        sim.record_weight_events(["plastic"])
        pieces = pieces or [250.3, 600.05, end]   # runs cut short inside windows
        for t in pieces:
            sim.run(t)
        sims.append(sim)
    ref, sim = sims
    np.testing.assert_array_equal(sim.spikes("post")[0], post)
    _assert_same(ref, sim, ["pre", "drive", "post"], ["plastic"])
    # NEST: the weight after each pre spike of neuron 0
    t, src, _, w = sim.weight_events("plastic")
    want = case["weight_after_each_pre_spike"]
    np.testing.assert_allclose(t[src == 0], want["times_ms"], rtol=0, atol=1e-9)
    _rel_close(w[src == 0], want["weights"], what="NEST weights")
    # the scripted coincidences did reach the synapses, and every synapse changed
    assert np.sum(src == 1) >= 8 and np.sum(src == 2) >= 6
    assert np.all(sim.weights("plastic") != case["initial_weight"])


# ---- recurrent plastic network with Poisson drive ----

@pytest.mark.parametrize("rule", sorted(CASES))
def test_recurrent_plastic_network_with_poisson_drive(rule):
    """Poisson sources and a recurrent LIF population, both plastic (the post spikes
    come from the dynamics and depend on the changing weights), a Poisson stimulus,
    heterogeneous delays (1 to 3 ms: most longer than the 1 ms window)."""
    spec = {"a_plus": 0.5, "a_minus": 0.6} if rule == "stdp_triplet" else {"lambda": 0.1, "alpha": 1.1}
    sc = dict(simulation=dict(duration=30.0, seed=11),
              population=[dict(name="inp", size=4, model="poisson_source", params=dict(rate=400.0)),
                          dict(name="exc", size=6, model="lif", params=dict(LIF, i_e=150.0),
                               init={"v": {"uniform": [0.0, 19.0]}})],
              projection=[dict(source="inp", target="exc", rule="all_to_all", weight=9.0,
                               delay={"uniform": [1.0, 3.0]}, plasticity="p"),
                          dict(source="exc", target="exc", rule="fixed_indegree", indegree=2, weight=4.0,
                               delay={"uniform": [1.0, 3.0]}, plasticity="p")],
              stimulus=[dict(name="drive", kind="poisson", target="exc", rate=2000.0, weight=1.5, delay=1.0)],
              plasticity={"p": dict(spec, rule=rule, w_max=30.0)})
    s = eventsim.load(sc)
    rng = np.random.default_rng(100 + sorted(CASES).index(rule))
    sims = []
    for backend in ("cpu", "cuda"):
        net = eventsim.build_network(s)
        sim = (eventsim.Simulation(net, backend="cpu", seed=s.seed) if backend == "cpu"
               else _cuda_sim(net, s.seed, rng))
        sim.record_weight_events(["inp_to_exc", "exc_to_exc"])
        sim.run(s.duration)
        sims.append(sim)
    ref, sim = sims
    _assert_same(ref, sim, ["inp", "exc"], ["inp_to_exc", "exc_to_exc"])
    assert ref.spikes("exc")[0].size >= 15 and ref.spikes("inp")[0].size >= 20
    w0 = eventsim.build_network(s).weight
    assert np.sum(sim.weights() != w0) >= 10   # the weights did change
