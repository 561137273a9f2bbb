"""The multi-threaded CPU path: the same output for any thread count (the contract's
"Reproducibility"), down to the bytes of the spike datasets, and clear errors for bad
thread counts. Runs with two threads happen in their own processes (see ``_run``)."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest


ROOT = Path(__file__).resolve().parents[1]
MICROCIRCUIT = ROOT / "scenarios" / "potjans2014_microcircuit.toml"

# several blocks per population (blocks hold 128 neurons), so that both threads work
MIXED = """
[simulation]
duration = 60.0
seed = 7

[[population]]
name = "exc"
size = 400
model = "lif"
[population.params]
tau_m = 10.0
c_m = 250.0
v_th = -55.0
v_rest = -70.0
v_reset = -70.0
t_ref = 2.0
synapse = "exp"
tau_syn_ex = 2.0
tau_syn_in = 5.0
[population.init]
v = {uniform = [-70.0, -56.0]}

[[population]]
name = "adapt"
size = 300
model = "alif"
[population.params]
tau_m = 20.0
v_th = 15.0
v_reset = 0.0
v_rest = 0.0
t_ref = 1.0
tau_a = 100.0
delta_th = 2.0
synapse = "delta"

[[population]]
name = "drive"
size = 50
model = "poisson_source"
[population.params]
rate = 40.0

[[projection]]
source = "drive"
target = "adapt"
rule = "fixed_indegree"
indegree = 20
weight = 1.5
delay = {uniform = [0.5, 3.0], min = 0.5}

[[projection]]
source = "exc"
target = "adapt"
rule = "fixed_indegree"
indegree = 30
weight = 0.4
delay = {normal = [1.5, 0.5], min = 0.2}

[[projection]]
source = "adapt"
target = "exc"
rule = "fixed_indegree"
indegree = 30
weight = -20.0
delay = 0.7

[[stimulus]]
name = "noise"
kind = "poisson"
rate = 9000.0
target = "exc"
weight = 30.0
delay = 0.1

[[stimulus]]
name = "step"
kind = "current"
target = "exc"
times = [10.0, 30.0]
amplitudes = [150.0, 0.0]

[record]
spikes = "all"

[[record.state]]
population = "exc"
variables = ["v"]
ids = [0, 129, 399]
interval = 0.5
"""


def _run(tmp_path, scenario_path, threads, name, *extra):
    """``eventsim run`` in its own process: a second thread starts numba's OpenMP pool,
    after which this (pytest) process could no longer fork safely."""
    out = tmp_path / f"{name}_{threads}.h5"
    r = subprocess.run([sys.executable, "-m", "eventsim.cli", "run", str(scenario_path), "-o", str(out),
                        "--threads", str(threads), "--json", *extra], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["complete"] and summary["threads"] == threads
    return out


def _datasets(path):
    found = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                found[name] = obj[()]
        f.visititems(visit)
    return found


def _assert_same_output(a, b):
    da, db = _datasets(a), _datasets(b)
    spikes = [k for k in da if k.startswith("spikes/")]
    assert spikes and set(da) == set(db)
    for k in da:
        assert np.asarray(da[k]).tobytes() == np.asarray(db[k]).tobytes(), k


def test_mixed_network_same_bytes_for_one_and_two_threads(tmp_path):
    path = tmp_path / "mixed.toml"
    path.write_text(textwrap.dedent(MIXED))
    a = _run(tmp_path, path, 1, "mixed")
    b = _run(tmp_path, path, 2, "mixed")
    _assert_same_output(a, b)
    with h5py.File(a, "r") as f:   # the run is not trivial: every population spikes
        for pop in ("exc", "adapt", "drive"):
            assert f[f"spikes/{pop}/timestamps"].shape[0] > 20, pop


def test_scaled_microcircuit_same_bytes_for_one_and_two_threads(tmp_path):
    extra = ("--scale", "0.02", "--duration", "150")
    a = _run(tmp_path, MICROCIRCUIT, 1, "mc", *extra)
    b = _run(tmp_path, MICROCIRCUIT, 2, "mc", *extra)
    _assert_same_output(a, b)
    with h5py.File(a, "r") as f:
        n = sum(f[f"spikes/{p}/timestamps"].shape[0] for p in f["spikes"])
    assert n > 100


COUNTERS = """
import json, sys
import eventsim
sc = eventsim.load(sys.argv[1], scale=0.02, duration=20.0)
net = eventsim.build_network(sc)
out = []
for threads in (1, 2):
    sim = eventsim.Simulation(net, seed=3, threads=threads)
    sim.run(20.0)
    c = sim.counters()
    out.append([{k: [v["spike_count"].tolist(), v["neuron_updates"].tolist()] for k, v in c["populations"].items()},
                {k: int(v["synaptic_events"]) for k, v in c["projections"].items()},
                {k: int(v["events"]) for k, v in c["stimuli"].items()}, sim.engine.threads])
print(json.dumps(out))
"""


def test_counters_do_not_depend_on_threads():
    r = subprocess.run([sys.executable, "-c", COUNTERS, str(MICROCIRCUIT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    one, two = json.loads(r.stdout.strip().splitlines()[-1])
    assert one[3] == 1 and two[3] == 2
    assert one[:3] == two[:3]
    assert sum(one[2].values()) > 0   # the Poisson background was delivered


@pytest.mark.parametrize("bad", ["0", "-2", "two"])
def test_bad_thread_count_is_refused(tmp_path, bad):
    r = subprocess.run([sys.executable, "-m", "eventsim.cli", "run", str(ROOT / "scenarios" / "quickstart.toml"),
                        "-o", str(tmp_path / "q.h5"), "--threads", bad], capture_output=True, text=True)
    assert r.returncode == 2
    assert "--threads" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "q.h5").exists()
