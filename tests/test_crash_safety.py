"""Crash safety of the streamed output file (contract, "Output file").

A run that is killed or stopped never leaves a file claiming ``complete = true``, and
every spike up to the root attribute ``t_committed`` is in ``OUT.h5.partial``. We check
this against a clean reference run of the same scenario: after a kill, the partial
file's spikes with t <= t_committed must equal the reference's spikes with
t <= t_committed, exactly (ids and float64 times).

Kills: SIGKILL at ten seeded random moments after the first checkpoint, SIGKILL at
the worst moments inside a checkpoint (between the data writes and the t_committed
update), SIGKILL, SIGTERM and SIGINT of the real command line, and a reader holding the
partial file open across a checkpoint (the run must go on).

Start-up (imports, network build, loading numba's compile cache) costs seconds per
process, so the ten random kills share one harness process that loads everything once
and forks a child per kill; each child is a separate process running
``api.run_scenario`` exactly as the CLI does, with a 0.2 s checkpoint interval instead
of 1 s so that short runs have many checkpoints.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

SCENARIO = Path(__file__).parent / "data" / "scenarios" / "long.toml"
CHECKPOINT_S = 0.2      # harness children; the CLI itself uses 1 s
N_RANDOM_KILLS = 10

# The harness: argv = scenario, output folder, plan (JSON list), checkpoint interval (s).
# Plan entries: {"name", "frac"} -> SIGKILL frac x T s after t_committed first exceeds 0,
#               where T is how long an unkilled child runs from that moment to its end
#               (measured first, by the harness: the kills scale with the engine's speed);
#               {"name", "fault", "commit"} -> the child SIGKILLs itself at `fault` inside
#               its `commit`-th checkpoint. Prints one JSON list of outcomes.
HARNESS = r'''
import json, os, signal, sys, time
import h5py
from eventsim import api
from eventsim.engine.simulation import Simulation
from eventsim.output.sonata import SonataWriter

scenario_path, out_dir, plan, checkpoint_s = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4])
scenario = api.load(scenario_path)
backend = scenario.simulation["backend"]
# Load the compiled kernels once, on a network of its own, before forking.
Simulation(api.build(scenario), backend=backend, seed=scenario.seed).run(1.0)
net = api.build(scenario)          # never simulated here: each child gets a fresh copy
Simulation.__init__.__kwdefaults__["checkpoint_s"] = checkpoint_s


def install_fault(fault, at_commit):
    state = {"commit": 0}
    commit = SonataWriter.commit

    def counting_commit(self, t):
        state["commit"] += 1
        return commit(self, t)
    SonataWriter.commit = counting_commit

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def armed():
        return state["commit"] == at_commit

    if fault == "before_t_committed":      # spikes written and flushed, attribute not yet
        setitem = h5py.AttributeManager.__setitem__
        def hooked(self, name, value):
            if name == "t_committed" and armed():
                die()
            return setitem(self, name, value)
        h5py.AttributeManager.__setitem__ = hooked
    elif fault == "after_resize":          # timestamps grown, new values not yet written
        resize = h5py.Dataset.resize
        def hooked(self, size, axis=None):
            resize(self, size, axis)
            if armed() and self.name.endswith("timestamps"):
                die()
        h5py.Dataset.resize = hooked
    elif fault == "between_datasets":      # timestamps written, node_ids not yet
        setitem = h5py.Dataset.__setitem__
        def hooked(self, key, value):
            setitem(self, key, value)
            if armed() and self.name.endswith("timestamps"):
                die()
        h5py.Dataset.__setitem__ = hooked


def t_committed(partial):
    try:  # locking=False: never block the writer; a torn read just means "try again"
        with h5py.File(partial, "r", locking=False) as f:
            return float(f.attrs["t_committed"])
    except Exception:
        return 0.0


def wait_first_checkpoint(out, pid):
    deadline = time.monotonic() + 60.0
    while t_committed(out + ".partial") <= 0.0 and time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return False
        time.sleep(0.01)
    return True


outcomes = []
run_after_checkpoint = None
for item in plan:
    out = os.path.join(out_dir, item["name"] + ".h5")
    if "frac" in item and run_after_checkpoint is None:
        timing_out = os.path.join(out_dir, "timing.h5")
        pid = os.fork()
        if pid == 0:
            api.run_scenario(scenario, timing_out, network=net)
            os._exit(0)
        wait_first_checkpoint(timing_out, pid)
        t_a = time.monotonic()
        os.waitpid(pid, 0)
        run_after_checkpoint = time.monotonic() - t_a
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            if "fault" in item:
                install_fault(item["fault"], item["commit"])
            api.run_scenario(scenario, out, network=net)
        except BaseException:
            code = 3
        os._exit(code)
    if "frac" in item:
        wait_first_checkpoint(out, pid)
        time.sleep(item["frac"] * run_after_checkpoint)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    outcomes.append(dict(name=item["name"], killed=os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL,
                         exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None))
print(json.dumps(outcomes))
'''


def _cli(*args):
    return [sys.executable, "-m", "eventsim.cli", "run", str(SCENARIO), *args]


def _read_spikes(path):
    with h5py.File(path, "r") as f:
        return {name: (g["timestamps"][:], g["node_ids"][:]) for name, g in f["spikes"].items()}


def _t_committed_nonblocking(partial):
    """t_committed of a file being written, or 0.0 (locking=False so the writer is never blocked)."""
    try:
        with h5py.File(partial, "r", locking=False) as f:
            return float(f.attrs["t_committed"])
    except Exception:   # not created yet, or caught mid-write: try again later
        return 0.0


def _wait_first_checkpoint(proc, partial, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _t_committed_nonblocking(partial) > 0.0:
            return
        assert proc.poll() is None, f"run ended (rc {proc.returncode}) before its first checkpoint"
        time.sleep(0.01)
    pytest.fail("no checkpoint within 60 s")


def _check_partial(partial, reference):
    """The contract for an interrupted run; returns t_committed."""
    assert partial.exists(), f"{partial} missing"
    assert not partial.with_name(partial.name[: -len(".partial")]).exists(), "interrupted run left OUT.h5"
    with h5py.File(partial, "r") as f:       # must open without error
        assert not bool(f.attrs["complete"])
        t_c = float(f.attrs["t_committed"])
        assert 0.0 < t_c <= float(f.attrs["duration"])
        assert set(f["spikes"]) == set(reference)
        for name, (ref_t, ref_i) in reference.items():
            g = f["spikes"][name]
            t, i = g["timestamps"][:], g["node_ids"][:]
            # timestamps are sorted, so the committed part is a prefix; node_ids must cover it
            n = int(np.searchsorted(t, t_c, side="right"))
            m = int(np.searchsorted(ref_t, t_c, side="right"))
            assert i.size >= n, f"{name}: {n} timestamps <= t_committed but only {i.size} node_ids"
            assert n == m, f"{name}: {n} spikes with t <= t_committed = {t_c}, reference has {m}"
            assert np.array_equal(t[:n], ref_t[:m]), f"{name}: spike times differ up to t_committed"
            assert np.array_equal(i[:n], ref_i[:m]), f"{name}: node ids differ up to t_committed"
    return t_c


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A clean run through the real CLI: its spikes and its simulation wall time."""
    out = tmp_path_factory.mktemp("reference") / "ref.h5"
    # one thread, as the harness's children (api.run_scenario's default): its time sets the kill delays
    proc = subprocess.run(_cli("-o", str(out), "--json", "--threads", "1"), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    spikes = _read_spikes(out)
    assert sum(t.size for t, _ in spikes.values()) > 1000   # a busy run: kills land among spikes
    return spikes, summary["simulate_s"]


FAULTS = ["before_t_committed", "after_resize", "between_datasets"]


@pytest.fixture(scope="module")
def harness_kills(reference, tmp_path_factory):
    """One harness process: ten kills at seeded random moments after the first checkpoint,
    then one child per fault that kills itself inside its third checkpoint."""
    out_dir = tmp_path_factory.mktemp("kills")
    rng = random.Random(20240611)
    # kill in [first checkpoint, end): keep the last one well inside the run
    plan = [dict(name=f"kill{k}", frac=rng.uniform(0.0, 0.8)) for k in range(N_RANDOM_KILLS)]
    plan += [dict(name=fault, fault=fault, commit=3) for fault in FAULTS]
    proc = subprocess.run([sys.executable, "-c", HARNESS, str(SCENARIO), str(out_dir), json.dumps(plan),
                           str(CHECKPOINT_S)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    outcomes = json.loads(proc.stdout.strip().splitlines()[-1])
    return out_dir, {o["name"]: o for o in outcomes}


def test_sigkill_at_random_moments_leaves_committed_spikes(reference, harness_kills):
    ref_spikes, _ = reference
    out_dir, outcomes = harness_kills
    killed = [f"kill{k}" for k in range(N_RANDOM_KILLS) if outcomes[f"kill{k}"]["killed"]]
    assert len(killed) >= N_RANDOM_KILLS - 2, f"most kills must land mid-run: {outcomes}"
    t_cs = [_check_partial(out_dir / f"{name}.h5.partial", ref_spikes) for name in killed]
    assert len(set(t_cs)) > 1, "kills at different moments should leave different t_committed"


@pytest.mark.parametrize("fault", FAULTS)
def test_sigkill_inside_a_checkpoint_leaves_committed_spikes(reference, harness_kills, fault):
    """The worst moments: killed while a checkpoint is being written."""
    ref_spikes, _ = reference
    out_dir, outcomes = harness_kills
    assert outcomes[fault]["killed"], f"the fault was never reached: {outcomes[fault]}"
    _check_partial(out_dir / f"{fault}.h5.partial", ref_spikes)


def test_sigkill_of_the_cli_leaves_committed_spikes(reference, tmp_path):
    ref_spikes, simulate_s = reference
    out = tmp_path / "cli.h5"
    proc = subprocess.Popen(_cli("-o", str(out), "--quiet"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_first_checkpoint(proc, tmp_path / "cli.h5.partial")
        time.sleep(random.Random(7).uniform(0.0, max(0.6 * simulate_s - 1.0, 0.1)))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL, "the run ended before the kill; lengthen long.toml"
    _check_partial(tmp_path / "cli.h5.partial", ref_spikes)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_cli_cleanly(reference, tmp_path, sig):
    ref_spikes, _ = reference
    out = tmp_path / "term.h5"
    proc = subprocess.Popen(_cli("-o", str(out), "--quiet"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        _wait_first_checkpoint(proc, tmp_path / "term.h5.partial")
        t_sent = time.monotonic()
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=30)
        stop_s = time.monotonic() - t_sent
    finally:
        proc.kill()
    assert proc.returncode == 1, stderr
    assert stop_s < 5.0, f"took {stop_s:.1f} s to stop"
    assert "Traceback" not in stderr
    t_c = _check_partial(tmp_path / "term.h5.partial", ref_spikes)
    with h5py.File(tmp_path / "term.h5.partial", "r") as f:
        assert t_c < float(f.attrs["duration"]), "stopped early, so t_committed < duration"


def test_reader_holding_the_partial_file_does_not_break_the_run(reference, tmp_path):
    """Watching a run (h5py, h5ls, eventsim analyze) opens OUT.h5.partial read-only with
    HDF5's default file locking; a checkpoint that falls while it is open must not kill
    the run, and the spikes must still be those of the clean run."""
    ref_spikes, _ = reference
    out = tmp_path / "watched.h5"
    partial = tmp_path / "watched.h5.partial"
    proc = subprocess.Popen(_cli("-o", str(out), "--quiet"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        _wait_first_checkpoint(proc, partial)
        with h5py.File(partial, "r") as f:    # default locking, held across the next checkpoint
            seen = float(f.attrs["t_committed"])
            time.sleep(1.5)
        # the next checkpoint must still happen; then stop the run to save time
        deadline = time.monotonic() + 30.0
        while proc.poll() is None and _t_committed_nonblocking(partial) <= seen \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert "Traceback" not in stderr, stderr[-2000:]
    assert proc.returncode in (0, 1), stderr
    final = out if proc.returncode == 0 else partial
    with h5py.File(final, "r") as f:
        assert float(f.attrs["t_committed"]) > seen, "no checkpoint after the reader let go"
    if proc.returncode == 0:
        got = _read_spikes(out)
        for name, (ref_t, ref_i) in ref_spikes.items():
            assert np.array_equal(got[name][0], ref_t) and np.array_equal(got[name][1], ref_i)
    else:
        _check_partial(partial, ref_spikes)
