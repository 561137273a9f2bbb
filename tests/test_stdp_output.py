"""Plastic weights in the output file: final weights, samples at an interval, weight events."""
import subprocess
import sys

import h5py
import numpy as np
import pytest

from eventsim.api import load, run_scenario
from eventsim.errors import ScenarioError

SCENARIO = """
[simulation]
duration = {duration}
seed = 3

[[population]]
name = "inp"
size = 40
model = "poisson_source"
params = {{rate = 30.0}}

[[population]]
name = "out"
size = 2
model = "lif"
params = {{tau_m = 10.0, v_th = -60.0, synapse = "exp", tau_syn_ex = 2.0}}

[[projection]]
name = "ff"
source = "inp"
target = "out"
rule = "all_to_all"
weight = {{uniform = [100.0, 300.0]}}
delay = {{uniform = [1.0, 3.0]}}
plasticity = "s"

[plasticity.s]
rule = "stdp"
lambda = 0.05
w_max = 400.0

[record]
weights = ["ff"]
weights_interval = 50.0
weight_events = ["ff"]
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("stdp_out")
    (d / "s.toml").write_text(SCENARIO.format(duration=300.0))
    out = d / "s.h5"
    summary = run_scenario(load(str(d / "s.toml")), out)
    return out, summary


def test_samples_events_and_final_weights_agree(run):
    out, _ = run
    with h5py.File(out, "r") as f:
        g = f["weights/ff"]
        final = g["weight"][:]
        times = g["samples/time"][:]
        samples = g["samples/weight"][:]
        ev = f["weight_events/ff"]
        et, es, eg, ew = (ev[k][:] for k in ("timestamps", "source_ids", "target_ids", "weight"))
        src, tgt = g["source_ids"][:], g["target_ids"][:]
        n_in = f["spikes/inp/timestamps"].shape[0]
    np.testing.assert_array_equal(times, np.arange(7) * 50.0)
    assert samples.shape == (7, 80)
    np.testing.assert_array_equal(samples[-1], final)      # the last sample is at the end
    assert np.all((final >= 0) & (final <= 400.0))
    assert not np.allclose(samples[0], final)             # the weights learned
    # one event per (input spike, synapse), except arrivals of spikes too late to matter: every
    # emitted spike is logged at emission
    assert et.size == 2 * n_in
    assert np.all(np.diff(et) >= 0)
    # between a synapse's last transmission and the end only potentiation can happen
    for k in range(80):
        sel = (es == src[k]) & (eg == tgt[k])
        if sel.any():
            assert final[k] >= ew[sel][-1] - 1e-12


def test_initial_sample_is_the_built_weights(run, tmp_path):
    out, _ = run
    from eventsim.api import build
    p = tmp_path / "s.toml"
    p.write_text(SCENARIO.format(duration=300.0))
    net = build(load(str(p)))
    _, _, w, _ = net.synapse_table("ff")
    with h5py.File(out, "r") as f:
        np.testing.assert_array_equal(f["weights/ff/samples/weight"][0], w)


def test_weight_events_of_a_static_projection_is_refused(tmp_path):
    text = SCENARIO.format(duration=10.0).replace('plasticity = "s"\n', "")
    p = tmp_path / "s.toml"
    p.write_text(text)
    with pytest.raises(ScenarioError, match=r"record.weight_events\[0\].*not plastic"):
        load(str(p))


def test_cli_reports_bad_interval_with_exit_2(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(SCENARIO.format(duration=10.0).replace("weights_interval = 50.0", "weights_interval = -1.0"))
    r = subprocess.run([sys.executable, "-m", "eventsim.cli", "run", str(p), "-o", str(tmp_path / "x.h5")],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "record.weights_interval" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.h5").exists()
