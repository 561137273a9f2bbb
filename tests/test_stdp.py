"""STDP: against NEST's stdp_synapse references and a slow event-by-event reference."""
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import REFERENCE_DIR
from eventsim.engine.simulation import Simulation
from eventsim.network.core import Projection
from netutil import lif_pop, network, spike_source
from reference import stdp_eager
from stdp_util import replay

PAIR = json.loads(Path(REFERENCE_DIR, "stdp_pair.json").read_text())


def _params(sp, tau_minus):
    return {"tau_plus": sp["tau_plus"], "tau_minus": tau_minus, "lambda": sp["lambda"], "alpha": sp["alpha"],
            "mu_plus": sp["mu_plus"], "mu_minus": sp["mu_minus"], "w_max": sp["Wmax"]}


def _rel_close(got, ref, rel=1e-12):
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape
    err = np.abs(got - ref)
    assert np.all(err <= rel * np.abs(ref) + 1e-300), (np.max(err), got[err > rel * np.abs(ref)][:5])


@pytest.mark.parametrize("case", sorted(PAIR["outputs"]))
def test_weight_at_each_pre_spike_matches_nest(case):
    out = PAIR["outputs"][case]
    sp = out["synapse_params"]
    inp = PAIR["inputs"]
    sim = replay(inp["pre_parrot_spike_times_ms"], inp["post_parrot_spike_times_ms"], "stdp",
                 _params(sp, out["post_neuron_tau_minus_ms"]), sp["initial_weight"], delay=sp["delay"])
    t, src, tgt, w = sim.weight_events("plastic")
    ref = out["weight_after_each_pre_spike"]
    np.testing.assert_allclose(t, ref["times_ms"], rtol=0, atol=1e-9)
    _rel_close(w, ref["weights"])
    # the lower bound is seen in transmitted weights (the upper one only between updates)
    if out["bound_hits_in_python_reference"]["depression_clipped_at_0"]:
        assert np.any(w == 0.0)


@pytest.mark.parametrize("mu", [1.0, 0.4])
@pytest.mark.parametrize("delay", [1.0, 2.5])
def test_multiplicative_matches_slow_reference(mu, delay):
    rng = np.random.default_rng(7)
    pre = np.sort(rng.choice(np.arange(20, 3000) * 0.1, 60, replace=False))
    post = np.sort(rng.choice(np.arange(20, 3000) * 0.1, 60, replace=False))
    # exact coincidences at the synapse: post seen at the instant of a pre spike
    post[:5] = pre[10:15] - delay
    post = np.unique(post)
    assert np.any(np.isin(post + delay, pre))
    p = {"tau_plus": 16.8, "tau_minus": 33.7, "lambda": 0.05, "alpha": 1.2, "mu_plus": mu, "mu_minus": mu,
         "w_max": 20.0}
    t_end = 320.0
    sim = replay(pre, post, "stdp", p, 10.0, delay=delay, t_stop=t_end)
    _, _, _, w = sim.weight_events("plastic")
    ref_pre, ref_final = stdp_eager(list(pre), list(post + delay), p["tau_plus"], p["tau_minus"], p["lambda"],
                                    p["alpha"], mu, mu, p["w_max"], 10.0, t_end)
    _rel_close(w, ref_pre, 1e-12)
    # final weights include the potentiation by post spikes after the last pre spike
    assert np.any(post + delay > pre[-1])
    _rel_close(sim.weights("plastic"), [ref_final], 1e-12)
    assert sim.weights("plastic")[0] != w[-1]


def _plastic_net(n_in=30, rate_seed=3, rule="stdp", **params):
    """n_in Poisson-like spike sources onto one integrating LIF neuron through plastic synapses
    with heterogeneous delays; the post spikes come from the dynamics."""
    rng = np.random.default_rng(rate_seed)
    trains = [np.sort(rng.uniform(0, 400, rng.integers(5, 25))) for _ in range(n_in)]
    src = spike_source("in", trains, 0)
    post = lif_pop("post", 1, n_in, synapse="delta", v_th=-55.0, t_ref=2.0)
    delays = 1.0 + rng.integers(0, 4, n_in) * 0.5
    edges = [(k, n_in, 4.0, float(delays[k]), 0) for k in range(n_in)]
    net = network([src, post], edges, projections=[Projection("p", 0, "in", "post", plasticity="s",
                                                               n_synapses=n_in)])
    net.plasticity = {"s": dict({"tau_plus": 20.0, "tau_minus": 20.0, "lambda": 0.02, "alpha": 1.05,
                                 "mu_plus": 0.0, "mu_minus": 0.0, "w_max": 8.0}, **params, rule=rule)}
    return net, trains, delays


def test_many_synapses_with_real_post_spikes_match_reference():
    """30 synapses, post spikes from the dynamics; history compaction and growth exercised."""
    net, trains, delays = _plastic_net()
    sim = Simulation(net, seed=1)
    sim.record_weight_events(["p"])
    sim.run(450.0)
    post = sim.spikes("post")[0]
    assert post.size > 20   # enough post spikes to pair with
    t, src, _, w = sim.weight_events("p")
    p = net.plasticity["s"]
    finals = sim.weights("p")
    for k in range(len(trains)):
        ref_pre, ref_final = stdp_eager(list(trains[k]), list(post + delays[k]), p["tau_plus"], p["tau_minus"],
                                        p["lambda"], p["alpha"], 0.0, 0.0, p["w_max"], 4.0, 450.0)
        _rel_close(w[src == k], ref_pre, 1e-11)
        _rel_close([finals[k]], [ref_final], 1e-11)
    # one update per (pre spike, synapse) plus one per (post spike seen, synapse) after a pre spike
    n_fac = 0
    for k in range(len(trains)):
        seen = post + delays[k]
        n_fac += int(np.sum((seen <= trains[k][-1])))
    expected = sum(len(tr) for tr in trains) + n_fac
    assert sim.counters()["projections"]["p"]["plasticity_updates"] == expected


def test_split_runs_give_identical_weights_and_spikes():
    net, _, _ = _plastic_net(rate_seed=5)
    a = Simulation(net, seed=1)
    a.run(400.0)
    net2, _, _ = _plastic_net(rate_seed=5)
    b = Simulation(net2, seed=1)
    for t in (13.7, 100.0, 100.05, 251.3, 400.0):
        b.run(t)
    assert np.array_equal(a.spikes("post")[0], b.spikes("post")[0])
    assert np.array_equal(a.weights(), b.weights())


def test_different_post_taus_onto_one_population_are_refused():
    from eventsim.errors import InputError
    src = spike_source("in", [[1.0], [2.0]], 0)
    post = lif_pop("post", 1, 2)
    projs = [Projection("a", 0, "in", "post", plasticity="x", n_synapses=1),
             Projection("b", 1, "in", "post", plasticity="y", n_synapses=1)]
    net = network([src, post], [(0, 2, 1.0, 1.0, 0), (1, 2, 1.0, 1.0, 1)], projections=projs)
    net.plasticity = {"x": {"rule": "stdp", "tau_minus": 20.0}, "y": {"rule": "stdp", "tau_minus": 30.0}}
    with pytest.raises(InputError, match="tau_minus"):
        Simulation(net, seed=1)


VARIANTS = json.loads(Path(__file__).parent.joinpath("data", "nest", "stdp_variants.json").read_text())
RULE_OF = {"stdp_synapse": "stdp", "stdp_nn_symm_synapse": "stdp_nn_symm",
           "stdp_nn_pre_centered_synapse": "stdp_nn_pre_centered", "stdp_nn_restr_synapse": "stdp_nn_restr",
           "stdp_triplet_synapse": "stdp_triplet"}
NEST_KEY = {"Wmax": "w_max", "Aplus": "a_plus", "Aminus": "a_minus", "Aplus_triplet": "a_plus_triplet",
            "Aminus_triplet": "a_minus_triplet"}


@pytest.mark.parametrize("case", sorted(VARIANTS["cases"]))
def test_variants_match_nest(case):
    """Every variant (nearest-neighbour, triplet, multiplicative), delays 1.0 and 2.5 ms,
    scripted trains with exact coincidences: weights equal NEST's to 1e-12 (relative)."""
    c = VARIANTS["cases"][case]
    params = {NEST_KEY.get(k, k): v for k, v in c["synapse_params"].items() if k != "delay"}
    params["tau_minus"] = c["tau_minus_ms"]
    if c["nest_model"] == "stdp_triplet_synapse":
        params["tau_minus_triplet"] = c["tau_minus_triplet_ms"]
    sim = replay(c["pre_parrot_spike_times_ms"], c["post_parrot_spike_times_ms"], RULE_OF[c["nest_model"]],
                 params, c["initial_weight"], delay=c["delay_ms"])
    t, _, _, w = sim.weight_events("plastic")
    ref = c["weight_after_each_pre_spike"]
    np.testing.assert_allclose(t, ref["times_ms"], rtol=0, atol=1e-9)
    _rel_close(w, ref["weights"])
