"""Scenario reading and validation: valid scenarios normalise, broken ones report every problem by key path."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from eventsim.distributions import Dist
from eventsim.errors import InputError, ScenarioError
from eventsim.scenario import Scenario, load_scenario

REPO = Path(__file__).resolve().parents[1]
BROKEN = Path(__file__).parent / "data" / "broken"

# The contract's example shape (graph left out: it needs a file).
VALID_TOML = """\
[simulation]
duration = 1000.0
seed = 42
backend = "cpu"

[[population]]
name = "exc"
size = 800
model = "lif"
[population.params]
tau_m = 20.0
v_rest = 0.0
v_reset = 10.0
v_th = 20.0
synapse = "exp"
[population.init]
v = {uniform = [0.0, 20.0]}

[[population]]
name = "inputs"
size = 100
model = "poisson_source"
[population.params]
rate = {normal = [10.0, 2.0], min = 0.0}

[[population]]
name = "pattern"
size = 2
model = "spike_source"
[population.params]
times = [[10.0, 5.0], [7.5]]

[[stimulus]]
name = "drive"
kind = "poisson"
rate = 20.0
target = "exc"
ids = [0, 1, 2]
weight = 0.1
delay = 1.5

[[stimulus]]
name = "probe"
kind = "spike_times"
times = [12.5, 10.0]
target = "exc"
weight = 3.0
delay = 1.0

[[stimulus]]
name = "step"
kind = "current"
times = [100.0, 300.0]
amplitudes = [200.0, 0.0]
target = "exc"

[[projection]]
name = "ee"
source = "exc"
target = "exc"
rule = "fixed_indegree"
indegree = 80
weight = {uniform = [0.0, 0.4]}
delay = {normal = [1.5, 0.5], min = 0.1}
allow_autapses = false
allow_multapses = true
plasticity = "stdp_ee"

[[projection]]
source = "inputs"
target = "exc"
rule = "fixed_probability"
p = 0.1
weight = 0.5
delay = 1

[[projection]]
source = "pattern"
target = "exc"
rule = "pairs"
pairs = [[0, 5], [1, 6]]
weight = -1.0
delay = 2.0

[plasticity.stdp_ee]
rule = "stdp"
tau_plus = 16.8

[record]
spikes = ["exc", "pattern"]
weights = ["ee", "inputs_to_exc"]

[output]
path = "run.h5"

[energy]
hardware = ["loihi", "truenorth", "spinnaker", "spinnaker2", "cmos45"]
"""


def valid():
    return tomllib.loads(VALID_TOML)


def problems_of(source, **kw):
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, **kw)
    probs = info.value.problems
    assert probs and all(isinstance(m, str) and m and "\n" not in m for m in probs)
    return probs


def at(probs, path):
    """The messages about exactly this key path."""
    return [m for m in probs if m.split(": ", 1)[0] == path]


# ---------------------------------------------------------------- valid scenarios
def test_contract_example_loads_with_defaults_filled(tmp_path):
    f = tmp_path / "ex.toml"
    f.write_text(VALID_TOML)
    s = load_scenario(f)
    assert isinstance(s, Scenario)
    assert s.simulation == {"duration": 1000.0, "seed": 42, "backend": "cpu"}
    exc = s.population("exc")
    # given values kept, missing ones are NEST iaf_psc_delta's defaults
    assert exc["params"]["tau_m"] == 20.0 and exc["params"]["synapse"] == "exp"
    assert exc["params"]["c_m"] == 250.0 and exc["params"]["t_ref"] == 2.0
    assert exc["params"]["i_e"] == 0.0 and exc["params"]["tau_syn_ex"] == 2.0
    assert exc["init"]["v"] == Dist("uniform", (0.0, 20.0))
    assert s.population("inputs")["params"]["rate"] == Dist("normal", (10.0, 2.0), min=0.0)
    assert s.population("pattern")["params"]["times"] == [[5.0, 10.0], [7.5]]   # sorted
    # projections: names defaulted, defaults filled, int delay -> float
    names = [q["name"] for q in s.projections]
    assert names == ["ee", "inputs_to_exc", "pattern_to_exc"]
    q = s.projections[1]
    assert q["allow_autapses"] is False and q["allow_multapses"] is True and q["plasticity"] is None
    assert q["delay"] == 1.0 and isinstance(q["delay"], float) and q["p"] == 0.1
    assert s.projections[2]["pairs"] == [[0, 5], [1, 6]]
    assert s.projections[0]["delay"] == Dist("normal", (1.5, 0.5), min=0.1)
    # NEST stdp_synapse defaults, tau_plus as given
    assert s.plasticity["stdp_ee"] == {"rule": "stdp", "tau_plus": 16.8, "tau_minus": 20.0, "lambda": 0.01,
                                       "alpha": 1.0, "mu_plus": 0.0, "mu_minus": 0.0, "w_max": 100.0}
    assert [x["name"] for x in s.stimuli] == ["drive", "probe", "step"]
    assert s.stimuli[1]["times"] == [10.0, 12.5] and s.stimuli[2]["ids"] is None
    assert s.record == {"spikes": ["exc", "pattern"], "weights": ["ee", "inputs_to_exc"], "state": [],
                        "weights_interval": None, "weight_events": []}
    assert s.output["path"] == str(tmp_path.resolve() / "run.h5")
    assert s.energy["hardware"] == ["loihi", "truenorth", "spinnaker", "spinnaker2", "cmos45"]
    assert s.network == {"graph": None}
    assert s.text == VALID_TOML and s.path == f.resolve() and s.base_dir == f.resolve().parent


def test_minimal_scenario_defaults():
    s = load_scenario({"simulation": {"duration": 10},
                       "population": [{"name": "a", "size": 3, "model": "lif"}]})
    assert s.simulation == {"duration": 10.0, "seed": 0, "backend": "cpu"}
    p = s.populations[0]
    assert p["params"]["tau_m"] == 10.0 and p["params"]["v_th"] == -55.0 and p["params"]["synapse"] == "delta"
    assert p["init"] == {"v": None}
    assert s.stimuli == [] and s.projections == [] and s.plasticity == {}
    assert s.record == {"spikes": "all", "weights": [], "state": [], "weights_interval": None,
                        "weight_events": []} and s.output == {"path": None, "checkpoint_every": None}
    assert s.energy == {"hardware": []} and s.network == {"graph": None}
    assert json.loads(s.text)["simulation"] == {"duration": 10} and s.path is None
    assert s.base_dir == Path.cwd()


def test_dict_text_reloads_to_the_same_scenario():
    raw = valid()
    raw["projection"][1]["weight"] = Dist("lognormal", (0.0, 0.5), max=3.0)
    a = load_scenario(raw)
    b = load_scenario(json.loads(a.text))
    assert b.projections[1]["weight"] == Dist("lognormal", (0.0, 0.5), max=3.0)
    assert (a.populations, a.projections, a.stimuli) == (b.populations, b.projections, b.stimuli)


def test_toml_and_json_give_the_same_scenario(tmp_path):
    t = tmp_path / "s.toml"
    t.write_text(VALID_TOML)
    j = tmp_path / "s.json"
    j.write_text(json.dumps(tomllib.loads(VALID_TOML), indent=1))
    a, b = load_scenario(t), load_scenario(j)
    for field in ("simulation", "populations", "stimuli", "projections", "plasticity", "network",
                  "record", "output", "energy", "base_dir"):
        assert getattr(a, field) == getattr(b, field), field
    assert b.text == j.read_text()


def test_repeated_default_projection_names_are_numbered():
    raw = valid()
    extra = {"source": "exc", "target": "exc", "rule": "all_to_all", "weight": 0.1, "delay": 1.0}
    raw["projection"] = [dict(extra), dict(extra), dict(extra, name="own"), dict(extra)]
    raw["record"]["weights"] = ["exc_to_exc_3"]
    s = load_scenario(raw)
    assert [q["name"] for q in s.projections] == ["exc_to_exc", "exc_to_exc_2", "own", "exc_to_exc_3"]


def test_overrides_apply_before_validation():
    s = load_scenario(valid(), overrides={"simulation.seed": 3, "simulation.duration": 100.0,
                                          "simulation.backend": "cuda", "population[0].size": 90})
    assert s.simulation == {"duration": 100.0, "seed": 3, "backend": "cuda"}
    assert s.populations[0]["size"] == 90
    probs = problems_of(valid(), overrides={"simulation.seed": -1, "simulation.duration": 0})
    assert at(probs, "simulation.seed") and at(probs, "simulation.duration")
    assert problems_of(valid(), overrides={"population[9].size": 1})[0].startswith("override")


def test_paths_resolve_against_the_scenario_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "net.graphml").write_text("<graphml/>")
    (tmp_path / "sub" / "mychip.toml").write_text("name = 'mychip'\n")
    raw = valid()
    raw["network"] = {"graph": "net.graphml"}
    raw["energy"] = {"hardware": ["loihi", "mychip.toml"]}
    f = tmp_path / "sub" / "s.json"
    f.write_text(json.dumps(raw))
    s = load_scenario(f)
    assert s.network["graph"] == (tmp_path / "sub" / "net.graphml").resolve()
    assert s.energy["hardware"] == ["loihi", str((tmp_path / "sub" / "mychip.toml").resolve())]


def test_record_weights_may_name_graph_projections(tmp_path):
    (tmp_path / "g.graphml").write_text("<graphml/>")
    raw = valid()
    raw["network"] = {"graph": "g.graphml"}
    raw["record"]["weights"] = ["ee", "exc_to_exc_graph", "inputs_to_exc_2"]
    s = load_scenario(raw, base_dir=tmp_path)
    assert s.record["weights"] == ["ee", "exc_to_exc_graph", "inputs_to_exc_2"]
    raw["record"]["weights"] = ["exc_to_nowhere"]
    assert at(problems_of(raw, base_dir=tmp_path), "record.weights[0]")


def test_dist_objects_and_numpy_scalars_are_accepted():
    import numpy as np
    raw = valid()
    raw["projection"][1]["weight"] = Dist("uniform", (0.1, 0.2))
    raw["population"][0]["size"] = np.int64(50)
    s = load_scenario(raw)
    assert s.projections[1]["weight"] == Dist("uniform", (0.1, 0.2))
    assert s.populations[0]["size"] == 50 and type(s.populations[0]["size"]) is int


def test_scenario_error_is_an_input_error():
    assert issubclass(ScenarioError, InputError)


# ---------------------------------------------------------------- broken scenarios
def _set(raw, path, value):
    node = raw
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def _del(raw, path):
    node = raw
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]


# (id, mutation, key path that must be reported, words the message must contain)
CASES = [
    ("string_for_number", lambda r: _set(r, ["simulation", "duration"], "1000"),
     "simulation.duration", "must be a number"),
    ("bool_for_int", lambda r: _set(r, ["population", 0, "size"], True),
     "population[0].size", "must be an integer"),
    ("float_for_int", lambda r: _set(r, ["population", 0, "size"], 800.0),
     "population[0].size", "must be an integer, got 800.0"),
    ("list_for_number", lambda r: _set(r, ["stimulus", 0, "rate"], [20.0]),
     "stimulus[0].rate", "must be a number"),
    ("typo_key", lambda r: _set(r, ["projection", 0, "wieght"], 1.0),
     "projection[0].wieght", "did you mean 'weight'"),
    ("typo_section", lambda r: r.__setitem__("populations", []),
     "populations", "did you mean 'population'"),
    ("param_at_population_level", lambda r: _set(r, ["population", 0, "tau_m"], 5.0),
     "population[0].tau_m", "put it under params"),
    ("zero_delay", lambda r: _set(r, ["projection", 2, "delay"], 0),
     "projection[2].delay", "must be > 0 ms, got 0"),
    ("negative_delay", lambda r: _set(r, ["stimulus", 0, "delay"], -1.5),
     "stimulus[0].delay", "must be > 0 ms, got -1.5"),
    ("delay_dist_no_min", lambda r: _set(r, ["projection", 0, "delay"], {"normal": [1.5, 0.5]}),
     "projection[0].delay", "needs min > 0"),
    ("delay_uniform_from_zero", lambda r: _set(r, ["projection", 1, "delay"], {"uniform": [0.0, 2.0]}),
     "projection[1].delay", "needs min > 0"),
    ("unknown_population", lambda r: _set(r, ["projection", 1, "target"], "exx"),
     "projection[1].target", "did you mean 'exc'"),
    ("negative_size", lambda r: _set(r, ["population", 1, "size"], -5),
     "population[1].size", "must be > 0"),
    ("ids_out_of_range", lambda r: _set(r, ["stimulus", 0, "ids"], [0, 1, 800]),
     "stimulus[0].ids[2]", "out of range"),
    ("negative_plastic_weight", lambda r: _set(r, ["projection", 0, "weight"], -0.1),
     "projection[0].weight", "must be >= 0 for a plastic projection"),
    ("plastic_weight_dist_below_zero", lambda r: _set(r, ["projection", 0, "weight"], {"normal": [1.0, 0.5]}),
     "projection[0].weight", "must be >= 0 for a plastic projection"),
    ("plastic_weight_above_w_max", lambda r: _set(r, ["projection", 0, "weight"], 150.0),
     "projection[0].weight", "w_max"),
    ("dist_one_number", lambda r: _set(r, ["population", 0, "init", "v"], {"uniform": [1.0]}),
     "population[0].init.v.uniform", "list of 2 finite numbers"),
    ("dist_low_above_high", lambda r: _set(r, ["population", 0, "init", "v"], {"uniform": [2.0, 1.0]}),
     "population[0].init.v.uniform", "low < high"),
    ("dist_two_kinds", lambda r: _set(r, ["projection", 1, "weight"], {"normal": [0, 1], "uniform": [0, 1]}),
     "projection[1].weight", "exactly one of"),
    ("dist_unknown_key", lambda r: _set(r, ["projection", 1, "weight"], {"normal": [0, 1], "mn": 0}),
     "projection[1].weight.mn", "did you mean 'min'"),
    ("dist_negative_std", lambda r: _set(r, ["projection", 1, "weight"], {"normal": [0, -1]}),
     "projection[1].weight.normal", "std must be >= 0"),
    ("dist_min_above_max", lambda r: _set(r, ["projection", 1, "weight"], {"normal": [0, 1], "min": 2, "max": 1}),
     "projection[1].weight", "min <= max"),
    ("dist_bounds_exclude_mass", lambda r: _set(r, ["projection", 1, "weight"], {"normal": [0, 1], "min": 10}),
     "projection[1].weight", "keep only"),
    ("param_dist_reaches_zero", lambda r: _set(r, ["population", 0, "params", "tau_m"], {"normal": [20, 5]}),
     "population[0].params.tau_m", "needs min > 0"),
    ("unknown_model_param", lambda r: _set(r, ["population", 0, "params", "tau_mm"], 20.0),
     "population[0].params.tau_mm", "did you mean 'tau_m'"),
    ("bad_option", lambda r: _set(r, ["population", 0, "params", "synapse"], "expo"),
     "population[0].params.synapse", "did you mean 'exp'"),
    ("unknown_model", lambda r: _set(r, ["population", 0, "model"], "liff"),
     "population[0].model", "did you mean 'lif'"),
    ("v_reset_above_threshold", lambda r: _set(r, ["population", 0, "params", "v_reset"], 25.0),
     "population[0].params.v_reset", "must be < v_th"),
    ("negative_rate", lambda r: _set(r, ["population", 1, "params", "rate"], -1.0),
     "population[1].params.rate", "must be >= 0 Hz"),
    ("spike_source_wrong_count", lambda r: _set(r, ["population", 2, "params", "times"], [[1.0]]),
     "population[2].params.times", "2 lists, got 1"),
    ("spike_source_negative_time", lambda r: _set(r, ["population", 2, "params", "times"], [[1.0], [-2.0]]),
     "population[2].params.times[1][0]", "must be >= 0 ms"),
    ("spike_source_flat_list", lambda r: _set(r, ["population", 2, "params", "times"], [1.0, 2.0]),
     "population[2].params.times", "one per neuron"),
    ("spike_source_missing_times", lambda r: _del(r, ["population", 2, "params", "times"]),
     "population[2].params.times", "required"),
    ("duplicate_population", lambda r: _set(r, ["population", 1, "name"], "exc"),
     "population[1].name", "duplicate population name 'exc'"),
    ("duplicate_projection", lambda r: _set(r, ["projection", 2, "name"], "ee"),
     "projection[2].name", "duplicate projection name 'ee'"),
    ("duplicate_stimulus", lambda r: _set(r, ["stimulus", 1, "name"], "drive"),
     "stimulus[1].name", "duplicate stimulus name 'drive'"),
    ("stimulus_into_source", lambda r: _set(r, ["stimulus", 0, "target"], "inputs"),
     "stimulus[0].target", "sources receive no input"),
    ("projection_into_source", lambda r: _set(r, ["projection", 1, "target"], "pattern"),
     "projection[1].target", "sources receive no input"),
    ("unknown_plasticity", lambda r: _set(r, ["projection", 0, "plasticity"], "stdp_e"),
     "projection[0].plasticity", "did you mean 'stdp_ee'"),
    ("stdp_negative_tau", lambda r: _set(r, ["plasticity", "stdp_ee", "tau_minus"], -20.0),
     "plasticity.stdp_ee.tau_minus", "must be > 0 ms"),
    ("stdp_unknown_key", lambda r: _set(r, ["plasticity", "stdp_ee", "lamda"], 0.1),
     "plasticity.stdp_ee.lamda", "did you mean 'lambda'"),
    ("unknown_plasticity_rule", lambda r: _set(r, ["plasticity", "stdp_ee", "rule"], "stpd"),
     "plasticity.stdp_ee.rule", "did you mean 'stdp'"),
    ("indegree_without_multapses", lambda r: r["projection"][0].update(indegree=800, allow_multapses=False),
     "projection[0].indegree", "must be <= 799"),
    ("negative_indegree", lambda r: _set(r, ["projection", 0, "indegree"], -1),
     "projection[0].indegree", "must be >= 0"),
    ("probability_above_one", lambda r: r["projection"][1].update(p=1.5),
     "projection[1].p", "must be in [0, 1]"),
    ("key_of_another_rule", lambda r: _set(r, ["projection", 0, "p"], 0.1),
     "projection[0].p", "not used by rule 'fixed_indegree'"),
    ("rule_param_missing", lambda r: _del(r, ["projection", 0, "indegree"]),
     "projection[0].indegree", "required"),
    ("pairs_out_of_range", lambda r: _set(r, ["projection", 2, "pairs"], [[0, 1], [2, 1]]),
     "projection[2].pairs[1]", "source id 2 out of range"),
    ("pairs_not_pairs", lambda r: _set(r, ["projection", 2, "pairs"], [[0, 1, 2]]),
     "projection[2].pairs[0]", "must be a pair"),
    ("one_to_one_sizes", lambda r: _set(r, ["projection", 1, "rule"], "one_to_one") or _del(r, ["projection", 1, "p"]),
     "projection[1].rule", "equal size"),
    ("current_lengths", lambda r: _set(r, ["stimulus", 2, "amplitudes"], [1.0]),
     "stimulus[2].amplitudes", "one amplitude per time"),
    ("current_times_decreasing", lambda r: _set(r, ["stimulus", 2, "times"], [300.0, 100.0]),
     "stimulus[2].times", "non-decreasing"),
    ("stimulus_key_of_other_kind", lambda r: _set(r, ["stimulus", 2, "weight"], 1.0),
     "stimulus[2].weight", "not used by kind 'current'"),
    ("unknown_stimulus_kind", lambda r: _set(r, ["stimulus", 0, "kind"], "poison"),
     "stimulus[0].kind", "did you mean 'poisson'"),
    ("missing_duration", lambda r: _del(r, ["simulation", "duration"]),
     "simulation.duration", "required"),
    ("negative_seed", lambda r: _set(r, ["simulation", "seed"], -3),
     "simulation.seed", "must be >= 0"),
    ("bad_backend", lambda r: _set(r, ["simulation", "backend"], "gpu"),
     "simulation.backend", "one of 'cpu', 'cuda'"),
    ("population_as_table", lambda r: r.__setitem__("population", r["population"][0]),
     "population", "array of tables"),
    ("record_unknown_projection", lambda r: _set(r, ["record", "weights"], ["e"]),
     "record.weights[0]", "unknown projection 'e'"),
    ("record_unknown_population", lambda r: _set(r, ["record", "spikes"], ["exc", "inh"]),
     "record.spikes[1]", "unknown population 'inh'"),
    ("record_spikes_word", lambda r: _set(r, ["record", "spikes"], "al"),
     "record.spikes", '"all" or a list'),
    ("unknown_hardware", lambda r: _set(r, ["energy", "hardware"], ["lohi"]),
     "energy.hardware[0]", "did you mean 'loihi'"),
    ("missing_hardware_profile", lambda r: _set(r, ["energy", "hardware"], ["no_such_chip.toml"]),
     "energy.hardware[0]", "profile file not found"),
    ("missing_graph_file", lambda r: r.__setitem__("network", {"graph": "no_such_net.graphml"}),
     "network.graph", "file not found"),
    ("bad_name", lambda r: _set(r, ["population", 0, "name"], "a/b"),
     "population[0].name", "without '/'"),
    ("null_value", lambda r: _set(r, ["projection", 1, "weight"], None),
     "projection[1].weight", "got null"),
]


@pytest.mark.parametrize("mutate, path, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_scenario_names_the_key_path(mutate, path, words):
    raw = valid()
    mutate(raw)
    probs = problems_of(raw)
    msgs = at(probs, path)
    assert msgs, f"no message for {path}: {probs}"
    assert any(words in m for m in msgs), msgs


def test_every_broken_case_breaks_a_valid_scenario():
    assert isinstance(load_scenario(valid()), Scenario)
    assert len(CASES) >= 15


def test_many_errors_are_reported_in_one_pass():
    raw = valid()
    raw["simulation"]["duration"] = -1.0
    raw["population"][0]["params"]["tau_mm"] = 3.0
    raw["population"][1]["size"] = 0
    raw["stimulus"][0]["delay"] = 0
    raw["projection"][0]["wieght"] = 1.0
    raw["projection"][1]["source"] = "input"
    raw["projection"][2]["delay"] = {"uniform": [0, 1]}
    raw["energy"]["hardware"] = ["truenorht"]
    probs = problems_of(raw)
    expected = ["simulation.duration", "population[0].params.tau_mm", "population[1].size", "stimulus[0].delay",
                "projection[0].wieght", "projection[1].source", "projection[2].delay", "energy.hardware[0]"]
    for path in expected:
        assert at(probs, path), (path, probs)
    assert len(probs) == len(expected), probs


def test_malformed_toml_names_file_and_line(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[simulation]\nduration = 100.0\nseed = = 3\n")
    (msg,) = problems_of(f)
    assert msg.startswith(str(f)) and "line 3" in msg


def test_malformed_json_names_file_line_and_column(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text('{"simulation": {"duration": 100.0,}\n}')
    (msg,) = problems_of(f)
    assert msg.startswith(str(f)) and "line 1, column 35" in msg   # the "}" after the trailing comma


def test_json_duplicate_keys_are_errors(tmp_path):
    f = tmp_path / "dup.json"
    f.write_text('{"simulation": {"duration": 1.0, "duration": 2.0}}')
    assert any("duplicate key 'duration'" in m for m in problems_of(f))


def test_missing_file_is_one_message(tmp_path):
    (msg,) = problems_of(tmp_path / "nope.toml")
    assert msg.startswith(str(tmp_path / "nope.toml")) and "no such" in msg


BROKEN_FILES = {   # file in tests/data/broken -> the start of a message it must give ({file}: its path)
    "malformed.toml": "{file}: invalid TOML",
    "malformed.json": "{file}: invalid JSON at line 4",
    "missing_graph.toml": "network.graph: file not found",
    "zero_delay.toml": "projection[0].delay: must be > 0 ms, got 0",
    "delay_dist_no_min.json": "projection[0].delay: must be > 0 ms: a distribution needs min > 0",
    "typos.toml": "population[0].params.tau_mm: unknown key for model 'lif' (did you mean 'tau_m'?)",
}


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
def test_broken_files_in_data_folder(name):
    f = BROKEN / name
    expected = BROKEN_FILES[name].format(file=f)
    probs = problems_of(f)
    assert any(m.startswith(expected) for m in probs), (expected, probs)


def test_cli_exit_code_2_for_broken_scenarios(tmp_path):
    raw = valid()
    raw["projection"][2]["delay"] = 0
    raw["population"][0]["params"]["tau_mm"] = 1.0
    f = tmp_path / "broken.json"
    f.write_text(json.dumps(raw))
    for target in (f, BROKEN / "malformed.toml"):
        proc = subprocess.run([sys.executable, "-m", "eventsim.cli", "validate", str(target)],
                              capture_output=True, text=True, cwd=tmp_path, timeout=120,
                              env=dict(os.environ, PYTHONPATH=str(REPO)))
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        if target == f:
            assert len(lines) == 2, lines
            assert any("projection[2].delay: must be > 0 ms, got 0" in ln for ln in lines)
            assert any("population[0].params.tau_mm" in ln for ln in lines)
        else:
            assert len(lines) == 1 and "malformed.toml" in lines[0] and "line" in lines[0]


def test_reference_page_matches_the_schema():
    from eventsim.scenario.reference import scenario_format_markdown
    page = (REPO / "docs" / "scenario-format.md").read_text()
    assert page == scenario_format_markdown(), \
        "docs/scenario-format.md is stale: python -m eventsim.scenario.reference > docs/scenario-format.md"


def test_reference_page_example_is_valid():
    from eventsim.scenario.reference import EXAMPLE
    s = load_scenario(tomllib.loads(EXAMPLE))
    assert [q["name"] for q in s.projections] == ["ee", "inputs_to_exc"]
    assert s.stimuli[1]["name"] == "current_to_exc"


def test_input_is_not_mutated():
    raw = valid()
    before = copy.deepcopy(raw)
    load_scenario(raw, overrides={"simulation.seed": 9})
    assert raw == before
