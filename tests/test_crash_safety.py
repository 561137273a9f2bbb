"""Crash safety of the streamed output file (contract, "Output file").

A run that is killed or stopped never leaves a file claiming ``complete = true``, and
every spike up to the root attribute ``t_committed`` is in ``OUT.h5.partial``. We check
this against a clean reference run of the same scenario: after a kill, the partial
file's spikes with t <= t_committed must equal the reference's spikes with
t <= t_committed, exactly (ids and float64 times).

Kills: SIGKILL at ten seeded random windows, SIGKILL at the worst moments inside a
commit (between the data writes and the t_committed update), SIGKILL, SIGTERM and
SIGINT of the real command line, and a reader holding the partial file open across a
commit (the run must go on).

Nothing here depends on the machine's speed (a faster machine broke the earlier,
clock-timed version): the runs commit at fixed simulated times (every COMMIT_EVERY ms),
and every kill or pause is placed by counting windows or commits
(``tests/paused_run.py``): a process is paused with SIGSTOP at a known point, and the
test acts on it there. Start-up (imports, network build, loading numba's compile cache)
costs seconds per process, so the ten random kills and the faults share one process
that loads everything once and forks a child per kill.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from procutil import HANG_GUARD_S, PAUSED_RUN, Child, paused_cli, signal_main_thread

HERE = Path(__file__).parent
SCENARIO = HERE / "data" / "scenarios" / "long.toml"
COMMIT_EVERY = 10.0     # ms of simulated time
N_RANDOM_KILLS = 10


def _paused_cli(*points, out):
    return paused_cli(SCENARIO, out, *points, commit_every=COMMIT_EVERY)


def _cli(*args):
    return [sys.executable, "-m", "eventsim.cli", "run", str(SCENARIO), *args]


def _read_spikes(path):
    with h5py.File(path, "r") as f:
        return {name: (g["timestamps"][:], g["node_ids"][:]) for name, g in f["spikes"].items()}


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


def _t_committed(path):
    with h5py.File(path, "r") as f:
        return float(f.attrs["t_committed"])


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A clean run through the real CLI (wall-clock commits, as users run it): its spikes,
    and its number of windows (from the duration and the window length W = min delay)."""
    out = tmp_path_factory.mktemp("reference") / "ref.h5"
    proc = subprocess.run(_cli("-o", str(out), "--json", "--threads", "1"), capture_output=True, text=True,
                          timeout=HANG_GUARD_S)
    assert proc.returncode == 0, proc.stderr
    spikes = _read_spikes(out)
    assert sum(t.size for t, _ in spikes.values()) > 1000   # a busy run: kills land among spikes
    with h5py.File(out, "r") as f:
        duration = float(f.attrs["duration"])
    n_windows = int(np.ceil(duration / 1.5))                # long.toml: every delay is 1.5 ms
    return spikes, n_windows


FAULTS = ["before_t_committed", "after_resize", "between_datasets"]


@pytest.fixture(scope="module")
def harness_kills(reference, tmp_path_factory):
    """One process: ten SIGKILLs at seeded random windows, then one child per fault that
    kills itself inside its third commit."""
    _, n_windows = reference
    out_dir = tmp_path_factory.mktemp("kills")
    rng = random.Random(20240611)
    # after the first commit (window 7 ends at 10.5 ms), well before the end
    windows = sorted(rng.sample(range(8, int(0.8 * n_windows)), N_RANDOM_KILLS))
    plan = [dict(name=f"kill{k}", kill_after_window=w) for k, w in enumerate(windows)]
    plan += [dict(name=fault, fault=fault, commit=3) for fault in FAULTS]
    proc = subprocess.run([sys.executable, str(PAUSED_RUN), "--plan", json.dumps(plan),
                           "--commit-every", str(COMMIT_EVERY), str(SCENARIO), str(out_dir)],
                          capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert proc.returncode == 0, proc.stderr
    outcomes = json.loads(proc.stdout.strip().splitlines()[-1])
    return out_dir, {o["name"]: o for o in outcomes}, windows


def test_sigkill_at_random_moments_leaves_committed_spikes(reference, harness_kills):
    ref_spikes, _ = reference
    out_dir, outcomes, windows = harness_kills
    for k, w in enumerate(windows):
        assert outcomes[f"kill{k}"]["killed"], f"kill{k} (after window {w}) did not die: {outcomes}"
    t_cs = [_check_partial(out_dir / f"kill{k}.h5.partial", ref_spikes) for k in range(N_RANDOM_KILLS)]
    # window w is killed after its spikes are buffered, before its commit check: each kill
    # leaves exactly the commits of windows 1..w-1 (the window ending at 1.5 j commits
    # when it passes a multiple of COMMIT_EVERY)
    for t_c, w in zip(t_cs, windows):
        assert np.floor(t_c / COMMIT_EVERY) == np.floor((w - 1) * 1.5 / COMMIT_EVERY), (t_c, w)
    assert len(set(t_cs)) > 1, "kills at different moments should leave different t_committed"


@pytest.mark.parametrize("fault", FAULTS)
def test_sigkill_inside_a_commit_leaves_committed_spikes(reference, harness_kills, fault):
    """The worst moments: killed while a commit is being written."""
    ref_spikes, _ = reference
    out_dir, outcomes, _ = harness_kills
    assert outcomes[fault]["killed"], f"the fault was never reached: {outcomes[fault]}"
    t_c = _check_partial(out_dir / f"{fault}.h5.partial", ref_spikes)
    assert t_c < 3 * COMMIT_EVERY, "the third commit must not have advanced t_committed"


def test_sigkill_of_the_cli_leaves_committed_spikes(reference, tmp_path):
    """SIGKILL from outside, with spikes buffered since the last commit."""
    ref_spikes, n_windows = reference
    window = random.Random(7).randrange(8, int(0.8 * n_windows))
    out = tmp_path / "cli.h5"
    child = Child(_paused_cli("--stop-after-window", str(window), out=out), tmp_path, "cli")
    try:
        assert child.wait() == ("stopped", signal.SIGSTOP), child.stderr
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait() == ("signaled", signal.SIGKILL)
    finally:
        child.kill()
    (_, _, t_paused), = child.points()
    t_c = _check_partial(tmp_path / "cli.h5.partial", ref_spikes)
    assert t_c < t_paused, "spikes after the last commit are lost, not claimed"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_cli_cleanly(reference, tmp_path, sig):
    """SIGTERM/SIGINT stop the run at the window where the main thread takes them:
    everything simulated up to there is committed, and nothing after it is simulated.
    The signal goes to the main thread (procutil.signal_main_thread): sent to the process,
    the kernel may hand it to another thread (OpenBLAS, OpenMP), and the main thread may
    finish one more window before it sees the flag."""
    ref_spikes, n_windows = reference
    out = tmp_path / "term.h5"
    child = Child(_paused_cli("--stop-after-window", "40", out=out), tmp_path, "term")
    try:
        assert child.wait() == ("stopped", signal.SIGSTOP), child.stderr
        signal_main_thread(child.pid, sig)
        os.kill(child.pid, signal.SIGCONT)
        state = child.wait()
    finally:
        child.kill()
    stderr = child.stderr
    assert state == ("exited", 1), stderr
    assert "Traceback" not in stderr
    assert "run stopped by signal" in stderr
    (_, _, t_paused), = child.points()
    t_c = _check_partial(tmp_path / "term.h5.partial", ref_spikes)
    assert t_c == t_paused, "stopped at the window where the signal came, everything before it committed"
    with h5py.File(tmp_path / "term.h5.partial", "r") as f:
        assert t_c < float(f.attrs["duration"])


def test_reader_holding_the_partial_file_does_not_break_the_run(reference, tmp_path):
    """Watching a run (h5py, h5ls, eventsim analyze) opens OUT.h5.partial read-only with
    HDF5's default file locking; a commit that falls while it is open must not stop the
    run, and the spikes must still be those of the clean run."""
    ref_spikes, _ = reference
    out = tmp_path / "watched.h5"
    partial = tmp_path / "watched.h5.partial"
    child = Child(_paused_cli("--stop-at-commit", "2", "--stop-at-commit", "4", out=out), tmp_path, "watched")
    try:
        assert child.wait() == ("stopped", signal.SIGSTOP), child.stderr
        with h5py.File(partial, "r") as f:    # default locking, held across the next two commits
            seen = float(f.attrs["t_committed"])
            os.kill(child.pid, signal.SIGCONT)
            assert child.wait() == ("stopped", signal.SIGSTOP), child.stderr
        assert _t_committed(partial) > seen, "no commit while the reader held the file"
        os.kill(child.pid, signal.SIGCONT)     # let it finish
        state = child.wait()
    finally:
        child.kill()
    assert state == ("exited", 0), child.stderr
    assert "Traceback" not in child.stderr
    assert [p[:2] for p in child.points()] == [("commit", 2), ("commit", 4)]
    got = _read_spikes(out)
    for name, (ref_t, ref_i) in ref_spikes.items():
        assert np.array_equal(got[name][0], ref_t) and np.array_equal(got[name][1], ref_i)


def test_commits_at_fixed_simulated_times():
    """Simulation(commit_every=MS) commits at the end of each window that passes a
    multiple of MS, and once at the end of run: the points the tests above rely on."""
    from eventsim import api
    from eventsim.engine.simulation import Simulation
    from eventsim.output.recorder import SpikeRecorder
    scenario = api.load(str(SCENARIO), duration=40.0)

    class Sink(SpikeRecorder):
        commits = []

        def commit(self, t):
            self.commits.append(t)
    net = api.build(scenario)
    sim = Simulation(net, seed=scenario.seed, commit_every=COMMIT_EVERY, sink=Sink(net))
    seen = []
    sim.after_commit = seen.append
    sim.run(40.0)
    # W = 1.5 ms: windows end at 1.5 k (the last one cut at 40 ms); commits at the first
    # end >= 10, 20, 30, 40 ms, then the final commit of run()
    assert Sink.commits == [10.5, 21.0, 30.0, 40.0, 40.0]
    assert seen == Sink.commits
    with pytest.raises(ValueError, match="commit_every"):
        Simulation(net, seed=1, commit_every=0.0)
