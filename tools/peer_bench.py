"""What the peers' benchmark scripts share (tools/nest/*_bench.py through tools/nest/kernel.py,
tools/brian2/*_bench.py through tools/brian2/standalone.py): the options that
bench/compare_peers.py passes to every one of them, and the simulator's import, timed.
Plain Python: it runs in each peer's own venv."""
import argparse
import importlib
import time


def options(description):
    """The parsed options --duration (ms, default 1000) and --threads (default 1)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--duration", type=float, default=1000.0, help="ms (default 1000)")
    ap.add_argument("--threads", type=int, default=1)
    return ap.parse_args()


def timed_import(name):
    """(the module ``name``, the seconds its import took)."""
    t0 = time.perf_counter()
    module = importlib.import_module(name)
    return module, time.perf_counter() - t0
