"""``eventsim warmup`` compiles, ahead of time, every kernel a run of a scenario needs
(issue 21): after it, in a fresh numba cache, a second warmup and the scenario's run compile
none of eventsim's kernels. The run is watched through numba's compile events; numba's own
typed-list helpers, compiled in every process whatever is cached, do not count."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# the perfect integrate-and-fire model compiles fastest; a recurrent network with a
# Poisson drive, weights drawn per synapse, and a state probe
SCENARIO = """\
[simulation]
duration = 300.0
seed = 3

[[population]]
name = "n"
size = 40
model = "if"

[[stimulus]]
kind = "poisson"
rate = 3000.0
target = "n"
weight = 0.5
delay = 1.0

[[projection]]
source = "n"
target = "n"
rule = "fixed_indegree"
indegree = 10
weight = {uniform = [-1.0, 0.0]}
delay = 1.5

[record]
state = [{population = "n", variables = ["v"], ids = [0, 1], interval = 5.0, start = 100.0}]
"""

# runs eventsim's command line and writes the eventsim kernels numba compiled to argv[1]
WATCHED = textwrap.dedent("""
    import json, sys
    import numba.core.event as ev
    compiled = []
    class Watch(ev.Listener):
        def on_start(self, event):
            f = getattr((event.data or {}).get("dispatcher"), "py_func", None)
            name = f"{getattr(f, '__module__', '')}.{getattr(f, '__qualname__', '?')}"
            if not name.startswith("numba."):
                compiled.append(name)
        def on_end(self, event):
            pass
    ev.register("numba:compile", Watch())
    from eventsim.cli import main
    rc = main(sys.argv[2:])
    open(sys.argv[1], "w").write(json.dumps(compiled))
    sys.exit(rc)
""")


def _fresh_caches(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"), EVENTSIM_CACHE_DIR=str(tmp_path / "kernel-cache"))
    env.pop("NUMBA_DISABLE_JIT", None)
    return env


def test_after_warmup_a_run_compiles_nothing(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text(SCENARIO)
    env = _fresh_caches(tmp_path)
    cmd = [sys.executable, "-m", "eventsim.cli", "warmup", str(scenario), "--threads", "1", "--json"]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert first.returncode == 0, first.stderr
    cold = json.loads(first.stdout)
    assert cold["kernels"] > 0 and cold["compile_s"] > 0.0, "a fresh cache: the warmup compiled"
    assert "compiling numba kernels (first run only" in first.stderr
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert second.returncode == 0, second.stderr
    warm = json.loads(second.stdout)
    assert warm["kernels"] == 0 and warm["compile_s"] == 0.0
    listed = tmp_path / "compiled.json"
    run = subprocess.run([sys.executable, "-c", WATCHED, str(listed), "run", str(scenario), "-o",
                          str(tmp_path / "s.h5"), "--threads", "1", "--json"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stderr
    assert json.loads(listed.read_text()) == [], "the run compiled kernels the warmup left out"
    summary = json.loads(run.stdout)
    assert summary["complete"] and summary["spikes"] > 0
    assert summary["compile_s"] < 1.0            # numba's typed-list helpers only


def test_warmup_needs_scenarios(capsys):
    from eventsim.cli import main
    assert main(["warmup"]) == 2
    assert "give one or more scenario files, or --all" in capsys.readouterr().err


def test_warmup_of_a_missing_or_bad_scenario(tmp_path, capsys):
    from eventsim.cli import main
    assert main(["warmup", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml: no such scenario file" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text(SCENARIO.replace("size = 40", "size = -4"))
    assert main(["warmup", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "population[0].size" in err and "Traceback" not in err


def test_catalogue_covers_every_model_and_rule():
    """--all: every neuron model (alone and beside sources) with every synapse type, every
    plasticity rule, and each of its scenarios valid."""
    from eventsim import models
    from eventsim.models.plasticity import plasticity_rules
    from eventsim.scenario import load_scenario
    from eventsim.warmup import catalogue_scenarios
    cat = catalogue_scenarios()
    used_models, used_rules, alone = set(), set(), set()
    for name, raw in cat.items():
        sc = load_scenario(raw)
        pops = {p["name"]: p for p in sc.populations}
        for p in sc.populations:
            used_models.add((p["model"], p["params"].get("synapse")))
        if len({p["model"] for p in sc.populations}) == 1:
            alone.add(sc.populations[0]["model"])
        used_rules |= {v["rule"] for v in sc.plasticity.values()}
        assert pops
    for name, model in models.neuron_models().items():
        syn = model.params.get("synapse")
        for kind in (syn.choices if syn is not None and syn.choices else (None,)):
            if not model.is_source:
                assert (name, kind) in used_models
                assert name in alone
    assert used_rules == set(plasticity_rules())
