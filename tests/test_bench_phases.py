"""bench/phases.py: the step timings of a short run add up, one entry per window."""
import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_phases_of_a_short_run():
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "phases.py"), "--scenario",
                          str(ROOT / "scenarios" / "quickstart.toml"), "--warmup", "20", "--duration", "10",
                          "--set", "simulation.seed=3"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    d = json.loads(out.stdout.strip().splitlines()[-1])
    steps = ("gather", "advance", "exchange", "consume", "deliver", "record_post")
    assert all(d[f"{s}_s"] >= 0.0 for s in steps)
    assert d["advance_s"] > 0.0
    # the steps and the rest make up the timed run
    assert math.isclose(sum(d[f"{s}_s"] for s in steps) + d["other_s"], d["total_s"], abs_tol=2e-3)
    # quick start delays are all 1.5 ms: windows of 1.5 ms, those that end after 20 ms up to 30 ms
    assert d["windows"] == math.ceil(30.0 / 1.5) - math.floor(20.0 / 1.5)
    assert d["overrides"] == {"simulation.seed": 3}
