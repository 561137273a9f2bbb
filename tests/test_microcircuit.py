"""The Potjans & Diesmann (2014) microcircuit scenario and [network] scaling: synapse counts
from connection probabilities, scaled sizes and in-degrees, the compensating DC, and the
validation messages of the scaling keys."""
from __future__ import annotations

import copy
import math
import tomllib
from decimal import Decimal, getcontext
from pathlib import Path

import numpy as np
import pytest

from eventsim.distributions import Dist
from eventsim.errors import ScenarioError
from eventsim.network.build import build_network
from eventsim.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "potjans2014_microcircuit.toml"

# The published model (Potjans & Diesmann 2014, Table 5; NEST's reference implementation),
# typed in here independently of the scenario file.
POPS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
SIZES = [20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948]
CONN = [[0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],      # rows: targets
        [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],      # columns: sources
        [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
        [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
        [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
        [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
        [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
        [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443]]
K_EXT = [1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100]
FULL_RATES = [0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829]
TAU_SYN = 0.5


def psc_of_psp(psp, c_m=250.0, tau_m=10.0, tau_s=TAU_SYN):
    """pA of an exponential current whose PSP peaks at ``psp`` mV (peak of the analytic PSP)."""
    t_peak = math.log(tau_m / tau_s) * tau_m * tau_s / (tau_m - tau_s)
    peak_per_pa = tau_m * tau_s / (c_m * (tau_m - tau_s)) * (math.exp(-t_peak / tau_m)
                                                              - math.exp(-t_peak / tau_s))
    return psp / peak_per_pa


def n_full(p, n_pre, n_post):
    """ln(1 - p) / ln(1 - 1/(n_pre n_post)) in 50-digit decimal arithmetic."""
    getcontext().prec = 50
    pairs = Decimal(n_pre) * Decimal(n_post)
    return float((1 - Decimal(str(p))).ln() / (1 - 1 / pairs).ln())


def load(**network):
    return load_scenario(SCENARIO, overrides={f"network.{k}": v for k, v in network.items()})


@pytest.fixture(scope="module")
def raw():
    return tomllib.loads(SCENARIO.read_text())


def test_scenario_has_the_published_parameters(raw):
    s = load_scenario(SCENARIO)
    assert [p["name"] for p in s.populations] == POPS
    assert [p["size"] for p in s.populations] == SIZES
    w = psc_of_psp(0.15)
    assert w == pytest.approx(87.81, abs=0.005)
    for q in s.projections:
        t, j = POPS.index(q["target"]), POPS.index(q["source"])
        assert q["p"] == CONN[t][j]
        mean = w * (2.0 if (t, j) == (0, 2) else 1.0) * (1 if j % 2 == 0 else -4)
        assert q["weight"].args == pytest.approx((mean, abs(mean) * 0.1), rel=1e-5)
        assert (q["weight"].min, q["weight"].max) == ((0.0, None) if mean > 0 else (None, 0.0))
        d = 1.5 if j % 2 == 0 else 0.75
        assert q["delay"] == Dist("normal", (d, d / 2), min=0.1)
    assert len(s.projections) == sum(p > 0 for row in CONN for p in row)
    for st, k in zip(s.stimuli, K_EXT):
        assert st["rate"] == 8.0 * k and st["weight"] == pytest.approx(w, rel=1e-5)


def test_full_scale_counts_follow_the_formula():
    s = load_scenario(SCENARIO)
    for q in s.projections:
        t, j = POPS.index(q["target"]), POPS.index(q["source"])
        assert q["n"] == round(n_full(CONN[t][j], SIZES[j], SIZES[t]))
    total = sum(q["n"] for q in s.projections)
    assert 2.9e8 < total < 3.0e8   # "about 0.3 billion synapses" (Potjans & Diesmann 2014)


def test_tiny_scale_builds_the_formula_counts_and_indegrees():
    scale = 0.01
    s = load(scale=scale)
    sizes = [round(n * scale) for n in SIZES]
    assert [p["size"] for p in s.populations] == sizes
    net = build_network(s)
    built = {pr.name: pr.n_synapses for pr in net.projections}
    for q in s.projections:
        t, j = POPS.index(q["target"]), POPS.index(q["source"])
        expected = round(n_full(CONN[t][j], SIZES[j], SIZES[t]) * scale * scale)
        assert built[q["name"]] == expected
    # in-degrees shrink with the in-degree scale (0.01), not with the sizes:
    # mean in-degree L23E <- L23E ~ 0.01 x full
    k_full = n_full(CONN[0][0], SIZES[0], SIZES[0]) / SIZES[0]
    assert built["L23E_to_L23E"] / sizes[0] == pytest.approx(k_full * scale, rel=0.01)
    for st, k in zip(s.stimuli, K_EXT):
        assert st["indegree"] == round(k * scale) and st["rate"] == 8.0 * round(k * scale)


def test_indegree_scale_apart_from_scale():
    s = load(scale=0.01, indegree_scale=0.5)
    assert s.populations[0]["size"] == round(SIZES[0] * 0.01)
    q = s.projections[0]
    assert q["n"] == round(n_full(CONN[0][0], SIZES[0], SIZES[0]) * 0.01 * 0.5)
    assert s.stimuli[0]["indegree"] == 800
    assert q["weight"].args[0] == pytest.approx(psc_of_psp(0.15) / math.sqrt(0.5), rel=1e-5)


def test_compensating_dc_matches_the_reference_formula():
    k = 0.1
    s = load(scale=k)
    w = psc_of_psp(0.15)
    for t, pop in enumerate(s.populations):
        rec = 0.0
        for j in range(8):
            psc = w * (2.0 if (t, j) == (0, 2) else 1.0) * (1 if j % 2 == 0 else -4)
            indegree = n_full(CONN[t][j], SIZES[j], SIZES[t]) / SIZES[t] if CONN[t][j] else 0.0
            rec += psc * indegree * FULL_RATES[j]
        ext = w * K_EXT[t] * 8.0
        dc = 0.001 * TAU_SYN * (1 - math.sqrt(k)) * (rec + ext)
        assert pop["params"]["i_e"] == pytest.approx(dc, rel=2e-5), pop["name"]
    assert s.projections[0]["weight"].args[0] == pytest.approx(w / math.sqrt(k), rel=1e-5)
    # without in-degree scaling there is nothing to compensate
    s = load(scale=0.1, indegree_scale=1.0)
    assert all(p["params"]["i_e"] == 0.0 for p in s.populations)


def _small(**network):
    """Two populations with every scalable input kind (delta synapses, c_m = 200 pF)."""
    return {
        "simulation": {"duration": 10.0},
        "network": network,
        "population": [
            {"name": "a", "size": 100, "model": "lif",
             "params": {"synapse": "delta", "c_m": 200.0, "i_e": 5.0}},
            {"name": "src", "size": 50, "model": "poisson_source", "params": {"rate": 4.0}},
        ],
        "stimulus": [{"kind": "poisson", "target": "a", "rate": 2.0, "indegree": 40,
                      "weight": 0.2, "delay": 1.0}],
        "projection": [
            {"source": "a", "target": "a", "rule": "fixed_indegree", "indegree": 20,
             "weight": {"uniform": [0.1, 0.3]}, "delay": 1.0},
            {"source": "src", "target": "a", "rule": "fixed_probability", "p": 0.2,
             "weight": -0.5, "delay": 1.0},
            {"source": "a", "target": "a", "rule": "fixed_outdegree", "outdegree": 10,
             "weight": 0.1, "delay": 1.0},
        ],
    }


def test_generic_scaling_of_every_rule_and_delta_compensation():
    s = load_scenario(_small(scale=0.5, indegree_scale=0.25, compensate=True, mean_rates={"a": 3.0}))
    assert [p["size"] for p in s.populations] == [50, 25]
    ind, prob, out = s.projections
    assert ind["indegree"] == 5 and out["outdegree"] == round(10 * 0.25)
    assert prob["p"] == pytest.approx(0.2 * 0.25 / 0.5)
    assert s.stimuli[0]["indegree"] == 10 and s.stimuli[0]["rate"] == 20.0
    assert ind["weight"] == Dist("uniform", (0.2, 0.6))          # / sqrt(0.25)
    assert prob["weight"] == -1.0 and s.stimuli[0]["weight"] == pytest.approx(0.4)
    # delta synapses: a weight of w mV carries w c_m pA ms of charge
    mean_pa = 200.0 * 1e-3 * (20 * 0.2 * 3.0 + 50 * 0.2 * -0.5 * 4.0 + 10 * 0.1 * 3.0 + 40 * 0.2 * 2.0)
    assert s.populations[0]["params"]["i_e"] == pytest.approx(5.0 + 0.5 * mean_pa)


def test_unscaled_scenarios_keep_their_values():
    s = load_scenario(_small())
    assert s.scaling == {"scale": 1.0, "indegree_scale": 1.0, "compensate": False, "mean_rates": {}}
    assert [p["size"] for p in s.populations] == [100, 50]
    assert s.projections[0]["indegree"] == 20 and s.projections[1]["p"] == 0.2
    assert s.stimuli[0]["rate"] == 80.0 and s.stimuli[0]["weight"] == 0.2
    assert s.network == {"graph": None}


def _problems(raw):
    with pytest.raises(ScenarioError) as e:
        load_scenario(raw)
    return e.value.problems


def test_fixed_total_number_takes_n_or_p():
    raw = _small()
    q = raw["projection"][0]
    del q["indegree"]
    q.update(rule="fixed_total_number", n=10, p=0.1)
    assert any(m.startswith("projection[0]: rule 'fixed_total_number' takes exactly one of n, p, got both")
               for m in _problems(raw))
    del q["n"], q["p"]
    assert any(m.startswith("projection[0]: rule 'fixed_total_number' takes exactly one of n, p, got neither")
               for m in _problems(raw))
    q["p"] = 1.0
    assert any(m.startswith("projection[0].p: must be < 1") for m in _problems(raw))
    q.update(p=0.1, allow_multapses=False)
    assert any(m.startswith("projection[0].allow_multapses: must be true with p") for m in _problems(raw))


@pytest.mark.parametrize("network, edit, expected", [
    ({"scale": 0.0}, None, "network.scale: must be > 0"),
    ({"scale": 0.001}, None, "population[1].size: 50 x scale 0.001 rounds to 0 neurons"),
    ({"compensate": True, "indegree_scale": 0.5}, None,
     "network.mean_rates: no rate for population 'a' (the source of projection[0])"),
    ({"mean_rates": {"b": 1.0}}, None, "network.mean_rates.b: unknown population 'b'"),
    ({"mean_rates": {"a": "fast"}}, None, "network.mean_rates.a: must be a rate >= 0 Hz"),
    ({"mean_rates": [1.0]}, None, "network.mean_rates: must be a table"),
    ({"scale": 0.5, "indegree_scale": 4.0}, None, "projection[1].p: p x indegree_scale / scale = 1.6 > 1"),
    ({"scale": 0.5}, lambda r: r["stimulus"][0].update(ids=[0, 1]), "stimulus[0].ids: explicit neuron ids"),
    ({"scale": 0.5}, lambda r: r["projection"].append(
        {"source": "a", "target": "a", "rule": "pairs", "pairs": [[0, 1]], "weight": 0.1, "delay": 1.0}),
     "projection[3].rule: explicit pairs name neurons and cannot be scaled"),
    ({"scale": 0.5}, lambda r: r["population"].append(
        {"name": "sp", "size": 1, "model": "spike_source", "params": {"times": [[1.0]]}}),
     "population[2]: a spike_source population"),
    ({"compensate": True, "indegree_scale": 0.5, "mean_rates": {"a": 1.0}},
     lambda r: r["population"][0]["params"].update(i_e={"normal": [0.0, 1.0]}),
     "population[0].params.i_e: must be a number with compensate"),
])
def test_scaling_problems_name_their_key_path(network, edit, expected):
    raw = _small(**network)
    if edit:
        edit(raw)
    problems = _problems(copy.deepcopy(raw))
    assert any(m.startswith(expected) for m in problems), problems


def test_small_microcircuit_runs():
    from eventsim.engine.simulation import Simulation
    s = load_scenario(SCENARIO, overrides={"network.scale": 0.01, "simulation.duration": 100.0,
                                           "analysis.t_start": 0.0})
    net = build_network(s)
    sim = Simulation(net, seed=s.seed)
    sim.run(100.0)
    counts = sim.counters()["populations"]
    spikes = sum(int(np.sum(counts[p]["spike_count"])) for p in POPS)
    assert spikes > 0     # driven by the background: the network is not silent
    assert net.n_neurons == sum(round(n * 0.01) for n in SIZES)


def test_cli_scale_option(tmp_path):
    """`eventsim validate --scale S` scales the shipped microcircuit (sizes rounded per
    population, as [network] scale); a bad scale is one line naming the key, exit 2."""
    import json
    import subprocess
    import sys
    from pathlib import Path
    path = Path(__file__).parent.parent / "scenarios" / "potjans2014_microcircuit.toml"
    r = subprocess.run([sys.executable, "-m", "eventsim.cli", "validate", str(path), "--scale", "0.01", "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    full = [20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948]
    assert json.loads(r.stdout)["neurons"] == sum(round(n * 0.01) for n in full)
    r = subprocess.run([sys.executable, "-m", "eventsim.cli", "validate", str(path), "--scale", "-1"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "network.scale" in r.stderr and "Traceback" not in r.stderr
