"""The cuda backend: its tests under numba's CUDA simulator (in their own process, since
NUMBA_ENABLE_CUDASIM is read at import), and the clear refusal without a GPU."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_cuda_backend_under_the_simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/cuda_sim"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "skipped" not in proc.stdout.splitlines()[-1]


def _has_gpu():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    proc = subprocess.run([sys.executable, "-c", "from numba import cuda; print(cuda.is_available())"],
                          env=env, capture_output=True, text=True, check=False)
    return proc.stdout.strip() == "True"


def test_cuda_without_a_gpu_fails_at_start_with_exit_2(tmp_path):
    if _has_gpu():
        pytest.skip("this machine has a GPU")
    scen = tmp_path / "s.toml"
    scen.write_text('[simulation]\nduration = 10.0\n\n[[population]]\nname = "a"\nsize = 2\nmodel = "lif"\n')
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    out = tmp_path / "o.h5"
    proc = subprocess.run([sys.executable, "-m", "eventsim.cli", "run", str(scen), "-o", str(out),
                           "--backend", "cuda", "--quiet"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 2
    assert "cuda" in proc.stderr and "no CUDA GPU" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists() and not out.with_name("o.h5.partial").exists()
