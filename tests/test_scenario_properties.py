"""Property: whatever is done to a valid scenario, load_scenario returns a Scenario or raises
ScenarioError with one-line messages that start with a key path; never any other exception."""
from __future__ import annotations

import copy
import json
import math
import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventsim.errors import ScenarioError
from eventsim.scenario import Scenario, load_scenario
from eventsim.scenario.reference import EXAMPLE
from eventsim.scenario.schema import SECTIONS

SMALL = {
    "simulation": {"duration": 50.0, "seed": 1},
    "population": [
        {"name": "a", "size": 4, "model": "lif",
         "params": {"synapse": "exp", "tau_m": {"lognormal": [2.0, 0.1]}, "v_reset": -70.0},
         "init": {"v": -60.0}},
        {"name": "b", "size": 4, "model": "lif"},
        {"name": "src", "size": 2, "model": "spike_source", "params": {"times": [[1.0, 2.0], []]}},
    ],
    "stimulus": [
        {"kind": "spike_times", "target": "a", "times": [1.0], "weight": 1.0, "delay": 0.5, "ids": [0, 3]},
        {"kind": "current", "target": "b", "times": [0.0, 10.0], "amplitudes": [100.0, 0.0]},
    ],
    "projection": [
        {"source": "a", "target": "b", "rule": "one_to_one", "weight": 2.0, "delay": {"uniform": [0.5, 1.5]}},
        {"source": "b", "target": "a", "rule": "fixed_total_number", "n": 5, "weight": -1.0, "delay": 1.0,
         "allow_multapses": False},
        {"source": "src", "target": "a", "rule": "pairs", "pairs": [[0, 1], [1, 2]], "weight": 1.0,
         "delay": 1.0, "plasticity": "s"},
        {"source": "a", "target": "a", "rule": "fixed_outdegree", "outdegree": 3, "weight": 1.0,
         "delay": 2.0, "allow_autapses": True, "allow_multapses": False},
    ],
    "plasticity": {"s": {"rule": "stdp", "w_max": 10.0}},
    "record": {"spikes": ["a"], "weights": ["a_to_b", "s_to_a"]},
    "output": {"path": "x.h5"},
    "energy": {"hardware": "cmos45"},
}
# record.weights names a projection that only exists under its default name
SMALL["projection"][2]["name"] = "s_to_a"

BASES = [tomllib.loads(EXAMPLE), SMALL]

WEIRD = st.sampled_from([
    "abc", "", "all", "lif", "a", [], [1, "x"], [[]], [[0, 1]], True, False, -1, -1.5, 0, 0.0, 1e300,
    10 ** 30, math.nan, math.inf, {}, {"uniform": [1, 0]}, {"normal": [0, 1]}, {"lognormal": [0, 1], "min": 5},
    None, {"a": 1}, [-1, 5], "x/y", "stdp", "one_to_one", "\x00",
])
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 6, 10 ** 6) | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6)


def _locations(node, path=()):
    """Every (path) to a value inside the nested dict/list structure."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, v in items:
        yield path + (k,)
        yield from _locations(v, path + (k,))


def _parent(raw, path):
    node = raw
    for step in path[:-1]:
        node = node[step]
    return node


def _near_miss(key, choice):
    key = str(key)
    i = choice % (len(key) + 1)
    edits = [key[:i] + key[i + 1:], key[:i] + "x" + key[i:], key.upper(), key + "s",
             key[:i][:-1] + key[i:i + 1] + key[i - 1:i] + key[i + 1:] if i > 0 else "_" + key]
    return edits[choice % len(edits)] or "k"


@st.composite
def mutated(draw):
    raw = json.loads(json.dumps(draw(st.sampled_from(BASES))))   # a fresh deep copy
    for _ in range(draw(st.integers(1, 3))):
        locs = list(_locations(raw))
        if not locs:
            break
        path = draw(st.sampled_from(locs))
        parent, key = _parent(raw, path), path[-1]
        op = draw(st.sampled_from(["drop", "rename", "weird", "weird", "jsonish"]))
        if op == "drop":
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            parent[_near_miss(key, draw(st.integers(0, 50)))] = parent.pop(key)
        elif op == "jsonish":
            parent[key] = draw(JSONISH)
        else:
            parent[key] = copy.deepcopy(draw(WEIRD))   # shared samples must stay unmutated
    return raw


def _check(raw):
    try:
        result = load_scenario(raw)
    except ScenarioError as e:
        assert e.problems
        heads = set(map(str, raw)) | {json.dumps(str(k)) for k in raw} | set(SECTIONS) | {"scenario"}
        for m in e.problems:
            assert isinstance(m, str) and m and "\n" not in m, m
            path = m.split(": ", 1)[0]
            assert any(path == h or path.startswith((h + ".", h + "[")) for h in heads), m
        return None
    assert isinstance(result, Scenario)
    return result


def test_bases_are_valid():
    for raw in BASES:
        assert isinstance(_check(json.loads(json.dumps(raw))), Scenario)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_scenarios_never_crash(raw):
    _check(raw)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(list(SECTIONS) + ["extra"]), JSONISH, max_size=5))
def test_arbitrary_structures_never_crash(raw):
    _check(raw)
