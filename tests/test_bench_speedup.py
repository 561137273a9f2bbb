"""bench/speedup.py: one build, thread counts alternated, the same spikes in every run."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_speedup_of_a_short_run():
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "speedup.py"), "--scenario",
                          str(ROOT / "scenarios" / "quickstart.toml"), "--warmup", "10", "--duration", "30",
                          "--threads", "1,2", "--repeat", "2"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [json.loads(x) for x in out.stdout.strip().splitlines()]
    runs, summary = lines[:-1], lines[-1]
    assert [(r["run"], r["threads"]) for r in runs] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert len({r["spikes"] for r in runs}) == 1 and runs[0]["spikes"] > 100
    assert all(r["loop_s"] > 0 for r in runs)
    # medians of two runs (their mean) and the speed-up, recomputed from the runs' lines
    med = {n: sum(r["loop_s"] for r in runs if r["threads"] == n) / 2 for n in (1, 2)}
    for n in (1, 2):
        assert abs(summary["median_loop_s"][str(n)] - med[n]) <= 2e-4   # (JSON lines round to 0.1 ms)
    # (the lines' loop_s round to 0.1 ms, the speed-up to 1e-3)
    want = med[1] / med[2]
    tol = 1e-3 + want * 2e-4 * (1 / med[1] + 1 / med[2])
    assert abs(summary["speedup"]["2"] - want) <= tol, (summary, med)
    assert summary["speedup"]["1"] == 1.0


def test_host_scaling_prints_runs_and_their_speed_up():
    """bench/host_scaling.py: the machine's own 1 -> 2 thread ceiling; its summary is the
    median of the printed runs' ratios (two numba threads on any machine)."""
    import os
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "host_scaling.py"), "--repeat", "3",
                          "--seconds", "0.02"], capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [json.loads(x) for x in out.stdout.strip().splitlines()]
    runs, summary = lines[:-1], lines[-1]
    assert [(r["run"], r["threads"]) for r in runs] == [(k, n) for k in range(3) for n in (1, 2)]
    ratios = sorted(runs[2 * k]["s"] / runs[2 * k + 1]["s"] for k in range(3))
    # (the lines' times round to 0.1 ms)
    tol = 1e-3 + ratios[1] * 2e-4 * max(1 / r["s"] for r in runs)
    assert abs(summary["median_speedup"] - ratios[1]) <= tol, (summary, ratios)
    assert summary["min_speedup"] <= summary["median_speedup"] <= summary["max_speedup"]
