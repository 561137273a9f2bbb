"""Exact checkpoint and resume (issue 16; docs/checkpoints.md).

The criterion: a run killed with SIGKILL at a random moment and resumed from its last
checkpoint writes a final file whose every dataset equals, byte for byte, the one an
uninterrupted run writes; also when the resumed run uses another thread count.
``tests/data/scenarios/resume.toml`` holds every kind of state in one small network:
lif with exponential and delta synapses, alif, poisson_source and spike_source
populations, Poisson and current stimuli, drawn delays, STDP with weight samples and
weight events, a state probe.

Kills are placed by counting windows (tests/paused_run.py), never by a clock.
"""
from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import eventsim
from eventsim.cli import main as cli
from procutil import HANG_GUARD_S, PAUSED_RUN, Child, paused_cli, signal_main_thread

SCENARIO = Path(__file__).parent / "data" / "scenarios" / "resume.toml"
EVERY = 20.0          # ms between checkpoints
N_KILLS = 10
N_WINDOWS = 300       # resume.toml: 300 ms, every delay >= 1.0 ms and one of exactly 1.0 ms


def _value(v):
    a = np.asarray(v)
    return (str(a.dtype), a.tolist()) if a.dtype == object else (str(a.dtype), a.tobytes())


def contents(path):
    """{dataset path: (dtype, shape, bytes)} and {object path: attributes} of a file."""
    data, attrs = {}, {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            attrs[name] = {k: _value(v) for k, v in obj.attrs.items()}
            if isinstance(obj, h5py.Dataset):
                data[name] = (str(obj.dtype), obj.shape, obj[()].tobytes())
        attrs["/"] = {k: _value(v) for k, v in f.attrs.items()}
        f.visititems(visit)
    return data, attrs


def assert_same_file(got, ref):
    gd, ga = contents(got)
    rd, ra = contents(ref)
    assert sorted(gd) == sorted(rd), set(gd) ^ set(rd)
    differ = [name for name in rd if gd[name] != rd[name]]
    assert not differ, f"{got}: datasets differ from the uninterrupted run: {differ}"
    assert ga == ra, f"{got}: attributes differ"


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "eventsim.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=HANG_GUARD_S, cwd=cwd)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run, with checkpoints (and one without: checkpoints change nothing)."""
    d = tmp_path_factory.mktemp("reference")
    proc = run_cli("run", SCENARIO, "-o", d / "ref.h5", "--quiet", "--threads", "1",
                   "--checkpoint-every", EVERY)
    assert proc.returncode == 0, proc.stderr
    plain = run_cli("run", SCENARIO, "-o", d / "plain.h5", "--quiet", "--threads", "1")
    assert plain.returncode == 0, plain.stderr
    return d / "ref.h5", d / "plain.h5"


def test_checkpoints_do_not_change_the_run(reference):
    ref, plain = reference
    assert_same_file(ref, plain)
    with h5py.File(ref, "r") as f:     # the scenario is busy enough to test anything
        counts = {name: g["timestamps"].shape[0] for name, g in f["spikes"].items()}
        assert min(counts.values()) >= 9 and counts["exc"] > 500, counts
        w = f["weights/noise_exc/samples/weight"][:]
        assert w.shape[0] == 13 and (w[-1] != w[0]).mean() > 0.5       # STDP moved the weights
        assert f["weight_events/noise_exc/weight"].shape[0] > 1000
        assert f["report/adapt/data"].shape == (600, 6)
    assert Path(str(ref) + ".ckpt").exists(), "the final state is kept for new runs"


@pytest.fixture(scope="module")
def killed_runs(reference, tmp_path_factory):
    """Ten runs SIGKILLed at seeded random windows (after the first checkpoint)."""
    d = tmp_path_factory.mktemp("killed")
    windows = sorted(random.Random(16).sample(range(21, N_WINDOWS - 10), N_KILLS))
    plan = [dict(name=f"kill{k}", kill_after_window=w) for k, w in enumerate(windows)]
    proc = subprocess.run([sys.executable, str(PAUSED_RUN), "--plan", json.dumps(plan),
                           "--checkpoint-every", str(EVERY), str(SCENARIO), str(d)],
                          capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert proc.returncode == 0, proc.stderr
    outcomes = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(o["killed"] for o in outcomes), outcomes
    return d, windows


RESUME_ALL = r'''
import json, sys
from eventsim import api
for path, threads in json.loads(sys.argv[1]):
    s = api.resume(path, threads=threads)
    assert s["complete"], s
print("ok")
'''


def test_sigkill_then_resume_equals_the_uninterrupted_run(reference, killed_runs):
    ref, _ = reference
    d, windows = killed_runs
    ckpt_times = []
    for k, w in enumerate(windows):
        partial = d / f"kill{k}.h5.partial"
        assert partial.exists() and not (d / f"kill{k}.h5").exists()
        with h5py.File(d / f"kill{k}.h5.ckpt", "r") as f:
            t = float(f.attrs["t"])
        # the last checkpoint before the killed window: at the end of the first window
        # passing a multiple of EVERY (windows end at whole ms here)
        assert t == np.floor((w - 1) / EVERY) * EVERY, (t, w)
        ckpt_times.append(t)
    assert len(set(ckpt_times)) > 3
    # half of them on two threads: the output does not depend on the thread count
    jobs = [(str(d / f"kill{k}.h5.partial"), 1 + k % 2) for k in range(N_KILLS)]
    proc = subprocess.run([sys.executable, "-c", RESUME_ALL, json.dumps(jobs)], capture_output=True,
                          text=True, timeout=HANG_GUARD_S)
    assert proc.returncode == 0, proc.stderr
    for k in range(N_KILLS):
        assert not (d / f"kill{k}.h5.partial").exists()
        assert_same_file(d / f"kill{k}.h5", ref)


def test_a_stopped_cli_run_resumes_from_where_it_stopped(reference, tmp_path):
    """SIGTERM saves a checkpoint at the window where the main thread takes it: nothing
    is recomputed (the signal goes to the main thread: procutil.signal_main_thread)."""
    ref, _ = reference
    out = tmp_path / "stopped.h5"
    child = Child(paused_cli(SCENARIO, out, "--stop-after-window", "137",
                             args=["--checkpoint-every", str(EVERY)]), tmp_path, "stopped")
    try:
        assert child.wait() == ("stopped", signal.SIGSTOP), child.stderr
        signal_main_thread(child.pid, signal.SIGTERM)
        child.proc.send_signal(signal.SIGCONT)
        assert child.wait() == ("exited", 1), child.stderr
    finally:
        child.kill()
    assert "eventsim resume" in child.stderr
    with h5py.File(tmp_path / "stopped.h5.ckpt", "r") as f:
        assert float(f.attrs["t"]) == 137.0
    proc = run_cli("resume", tmp_path / "stopped.h5.partial", "--quiet", "--threads", "2")
    assert proc.returncode == 0, proc.stderr
    assert_same_file(out, ref)
    again = run_cli("resume", tmp_path / "stopped.h5.partial")
    assert again.returncode == 2 and "complete" in again.stderr and "Traceback" not in again.stderr


def test_the_api_continues_from_a_checkpoint(tmp_path):
    """save_checkpoint / restore in the Python API: the spikes after the checkpoint are
    those of a run that never stopped."""
    sc = eventsim.load(str(SCENARIO), duration=80.0)
    whole = eventsim.Simulation(eventsim.build_network(sc), seed=sc.seed)
    whole.run(80.0)
    first = eventsim.Simulation(eventsim.build_network(sc), seed=sc.seed)
    first.run(33.3)                        # mid-window: arrivals after it stay queued
    first.save_checkpoint(tmp_path / "c.ckpt", meta={"note": "mine"})
    second = eventsim.Simulation(eventsim.build_network(sc), seed=sc.seed)
    ck = second.restore(tmp_path / "c.ckpt")
    assert ck.meta == {"note": "mine"} and second.t == 33.3
    second.run(80.0)
    for pop in ("exc", "fast", "adapt", "noise", "pattern"):
        t_all, i_all = whole.spikes(pop)
        t0, i0 = first.spikes(pop)
        t1, i1 = second.spikes(pop)
        assert np.array_equal(np.concatenate([t0, t1]), t_all) and np.array_equal(np.concatenate([i0, i1]), i_all)
    assert np.array_equal(second.weights(), whole.weights())
    c1, c2 = second.counters(), whole.counters()
    for name in c2["populations"]:
        assert np.array_equal(c1["populations"][name]["neuron_updates"], c2["populations"][name]["neuron_updates"])
    with pytest.raises(eventsim.errors.InputError, match="restore into a new Simulation"):
        second.restore(tmp_path / "c.ckpt")


# ---------------------------------------------------------------- refusals
def test_checkpoints_that_do_not_fit_are_refused(reference, tmp_path, capsys):
    ref, _ = reference
    ckpt = Path(str(ref) + ".ckpt")
    # a finished run cannot be resumed
    partial = tmp_path / "done.h5.partial"
    shutil.copy(ref, partial)
    shutil.copy(ckpt, tmp_path / "done.h5.ckpt")
    assert cli(["resume", str(partial)]) == 2
    assert "is complete" in capsys.readouterr().err
    # nothing to resume from
    lone = tmp_path / "lone.h5.partial"
    shutil.copy(ref, lone)
    assert cli(["resume", str(lone)]) == 2
    assert "lone.h5.ckpt is missing" in capsys.readouterr().err
    # not a checkpoint, or another version
    (tmp_path / "junk.h5.ckpt").write_bytes(b"not hdf5")
    shutil.copy(ref, tmp_path / "junk.h5.partial")
    assert cli(["resume", str(tmp_path / "junk.h5.partial")]) == 2
    assert "not an HDF5 checkpoint file" in capsys.readouterr().err
    shutil.copy(ckpt, tmp_path / "old.h5.ckpt")
    shutil.copy(ref, tmp_path / "old.h5.partial")
    with h5py.File(tmp_path / "old.h5.ckpt", "r+") as f:
        f.attrs["version"] = 1   # (Poisson arrivals drawn by -log(u): not this version's trains)
    assert cli(["resume", str(tmp_path / "old.h5.ckpt")]) == 2
    assert "format version 1; this eventsim reads version 2" in capsys.readouterr().err


def test_a_checkpoint_of_another_network_is_refused(tmp_path):
    first = eventsim.load(str(SCENARIO), duration=10.0)
    sim = eventsim.Simulation(eventsim.build_network(first), seed=first.seed)
    sim.run(10.0)
    sim.save_checkpoint(tmp_path / "c.ckpt")
    other = eventsim.load(str(SCENARIO), duration=10.0, seed=6)     # other connections and weights
    with pytest.raises(eventsim.errors.InputError) as exc:
        eventsim.Simulation(eventsim.build_network(other), seed=6).restore(tmp_path / "c.ckpt")
    text = str(exc.value)
    assert "another network" in text and "saved with seed 5, not 6" in text


def test_checkpoints_on_cuda_are_a_documented_refusal():
    from eventsim.api import _check_runnable
    sc = eventsim.load(str(Path(__file__).parent / "data" / "scenarios" / "long.toml"))
    sc.simulation["backend"] = "cuda"
    with pytest.raises(eventsim.errors.InputError, match="checkpoints are saved on the cpu backend only"):
        _check_runnable(sc, 10.0)


TRIAL_KILLS = 10


def test_a_killed_trial_run_resumes_exactly(tmp_path):
    """Trial runs checkpoint between presentations (the loop's position, learning curves
    so far, the rule's baselines and the emotion-changed weights); killed at random
    windows, resumed, they write the uninterrupted run's file (the loop's wall time aside)."""
    text = (Path(__file__).parent.parent / "scenarios" / "emotion_parity_5_2.toml").read_text()
    text = text.replace("epochs = 50", "epochs = 3")
    # running baselines of emotion and post activity: rule state a checkpoint must carry
    text = text.replace('eligibility = "count"', 'eligibility = "count"\nbaseline = "pattern"')
    assert "epochs = 3" in text and 'baseline = "pattern"' in text
    scenario = tmp_path / "parity.toml"
    scenario.write_text(text)
    ref = tmp_path / "ref.h5"
    proc = run_cli("run", scenario, "-o", ref, "--quiet", "--threads", "1", "--checkpoint-every", "100")
    assert proc.returncode == 0, proc.stderr
    # (1 + 2 x 3 epochs) x 5 patterns x 20 ms = 700 ms in windows of 0.1 ms (the delay)
    windows = sorted(random.Random(3).sample(range(1100, 6800), TRIAL_KILLS))
    plan = [dict(name=f"trial{k}", kill_after_window=w) for k, w in enumerate(windows)]
    proc = subprocess.run([sys.executable, str(PAUSED_RUN), "--plan", json.dumps(plan),
                           "--checkpoint-every", "100", str(scenario), str(tmp_path)],
                          capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert proc.returncode == 0, proc.stderr
    assert all(o["killed"] for o in json.loads(proc.stdout.strip().splitlines()[-1]))
    jobs = [(str(tmp_path / f"trial{k}.h5.partial"), 1) for k in range(TRIAL_KILLS)]
    proc = subprocess.run([sys.executable, "-c", RESUME_ALL, json.dumps(jobs)], capture_output=True,
                          text=True, timeout=HANG_GUARD_S)
    assert proc.returncode == 0, proc.stderr
    rd, ra = contents(ref)
    for k in range(TRIAL_KILLS):
        gd, ga = contents(tmp_path / f"trial{k}.h5")
        assert gd == rd, [n for n in rd if gd.get(n) != rd[n]]
        for obj in (ga, ra):
            obj["learning"].pop("wall_s", None)
        assert ga == ra
    with h5py.File(ref, "r") as f:     # it learned something, so the weights moved
        assert f["learning/mean_abs_dw"][:].max() > 0


# ---------------------------------------------------------------- new runs from a checkpoint
@pytest.fixture(scope="module")
def longer(tmp_path_factory):
    """resume.toml run uninterrupted to 400 ms: what a run from the 300 ms checkpoint
    must reproduce after 300 ms."""
    d = tmp_path_factory.mktemp("longer")
    proc = run_cli("run", SCENARIO, "-o", d / "400.h5", "--quiet", "--threads", "1", "--duration", "400")
    assert proc.returncode == 0, proc.stderr
    return d / "400.h5"


def _after(f, name, t0):
    g = f["spikes"][name]
    t, i = g["timestamps"][:], g["node_ids"][:]
    return t[t >= t0], i[t >= t0]


def test_a_run_from_a_checkpoint_continues_the_saved_run(reference, longer, tmp_path):
    """Same seed, a longer duration: the new file's spikes, probe frames, weight samples,
    weight events and counters are those of one run to 400 ms, from 300 ms on."""
    ref, _ = reference
    out = tmp_path / "branch.h5"
    proc = run_cli("run", SCENARIO, "-o", out, "--quiet", "--threads", "2", "--duration", "400",
                   "--from-checkpoint", str(ref) + ".ckpt")
    assert proc.returncode == 0, proc.stderr
    with h5py.File(out, "r") as b, h5py.File(longer, "r") as whole:
        assert float(b.attrs["t_start"]) == 300.0 and b.attrs["checkpoint"] == str(ref) + ".ckpt"
        for name in whole["spikes"]:
            t, i = b["spikes"][name]["timestamps"][:], b["spikes"][name]["node_ids"][:]
            wt, wi = _after(whole, name, 300.0)
            assert np.array_equal(t, wt) and np.array_equal(i, wi), name
        frames = b["report/adapt/data"][:]
        assert frames.shape == (200, 6)                          # 300, 300.5, ..., 399.5 ms
        assert np.array_equal(frames, whole["report/adapt/data"][600:])
        times = b["weights/noise_exc/samples/time"][:]
        assert np.array_equal(times, np.arange(300.0, 401.0, 25.0))
        assert np.array_equal(b["weights/noise_exc/samples/weight"][:], whole["weights/noise_exc/samples/weight"][12:])
        ev_t = whole["weight_events/noise_exc/timestamps"][:]
        assert np.array_equal(b["weight_events/noise_exc/weight"][:], whole["weight_events/noise_exc/weight"][ev_t >= 300.0])
        for name in whole["counters/populations"]:     # counted from t = 0 of the saved run
            assert np.array_equal(b[f"counters/populations/{name}/spike_count"][:],
                                  whole[f"counters/populations/{name}/spike_count"][:])
    assert cli(["analyze", str(out), "--json"]) == 0


def test_a_run_from_a_checkpoint_with_another_seed(reference, tmp_path):
    """--seed redraws every Poisson stream after the checkpoint: other spikes, the same
    ones for the same seed, a stimulus rate as asked."""
    ref, _ = reference
    runs = []
    for k, seed in enumerate((99, 99, 5)):
        out = tmp_path / f"s{k}.h5"
        proc = run_cli("run", SCENARIO, "-o", out, "--quiet", "--duration", "500", "--seed", seed,
                       "--from-checkpoint", str(ref) + ".ckpt")
        assert proc.returncode == 0, proc.stderr
        runs.append(out)
    assert_same_file(runs[0], runs[1])
    with h5py.File(runs[0], "r") as a, h5py.File(runs[2], "r") as b:
        assert int(a.attrs["seed_after_start"]) == 99 and "seed_after_start" not in b.attrs
        assert not np.array_equal(a["spikes/noise/timestamps"][:], b["spikes/noise/timestamps"][:])
        n_noise = a["spikes/noise/timestamps"].shape[0]      # 50 sources x 20 Hz x 0.2 s = 200
        assert 140 < n_noise < 260, n_noise
        assert a["spikes/exc/timestamps"][:].min() >= 300.0
    # such a run, stopped and resumed, keeps both seeds straight
    out = tmp_path / "stopped.h5"
    child = Child(paused_cli(SCENARIO, out, "--stop-after-window", "61",
                             args=["--duration", "500", "--seed", "99", "--from-checkpoint", str(ref) + ".ckpt",
                                   "--checkpoint-every", "50", "--threads", "2"]), tmp_path, "stopped")
    try:
        assert child.wait() == ("stopped", signal.SIGSTOP), child.stderr
        child.proc.send_signal(signal.SIGTERM)
        child.proc.send_signal(signal.SIGCONT)
        assert child.wait() == ("exited", 1), child.stderr
    finally:
        child.kill()
    proc = run_cli("resume", tmp_path / "stopped.h5.partial", "--quiet")
    assert proc.returncode == 0, proc.stderr
    data, _ = contents(out)
    ref_data, _ = contents(runs[0])
    assert data == ref_data


def test_runs_from_checkpoints_refuse_what_does_not_fit(reference, tmp_path, capsys):
    ref, _ = reference
    ckpt = str(ref) + ".ckpt"
    assert cli(["run", str(SCENARIO), "-o", str(tmp_path / "a.h5"), "--duration", "300",
                "--from-checkpoint", ckpt]) == 2
    assert "the duration (300 ms) must be later" in capsys.readouterr().err
    other = tmp_path / "other.toml"
    other.write_text(SCENARIO.read_text().replace("indegree = 20", "indegree = 19"))
    assert cli(["run", str(other), "-o", str(tmp_path / "b.h5"), "--duration", "400",
                "--from-checkpoint", ckpt]) == 2
    assert "was saved from another network" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.toml"]


@pytest.mark.parametrize("cut", [11.11, 21.7, 33.3, 57.9])
def test_a_run_cut_anywhere_gives_the_same_bytes(cut):
    """Regression: run(cut) then run(80) mid-window used to move spike times by up to
    7e-12 ms (at 21.7 and 57.9 ms here): a crossing's bracket depended on where the
    search stopped (the next input, the window's end, the cut), and a crossing check
    moved the neuron's state to its own time. Now the search uses the same aligned
    intervals whatever its end, and checks do not move the state: the same bytes."""
    sc = eventsim.load(str(SCENARIO), duration=80.0)
    whole = eventsim.Simulation(eventsim.build_network(sc), seed=sc.seed)
    whole.run(80.0)
    split = eventsim.Simulation(eventsim.build_network(sc), seed=sc.seed)
    split.run(cut)
    split.run(80.0)
    for pop in ("exc", "fast", "adapt", "noise", "pattern"):
        t_all, i_all = whole.spikes(pop)
        t_split, i_split = split.spikes(pop)
        assert np.array_equal(t_split, t_all) and np.array_equal(i_split, i_all), pop
