"""Shared part of tools/brian2/*_bench.py: Brian2's cpp_standalone device in a temporary
build folder, and the timings the benchmarks report.

Timings (seconds):
- compile_s: code generation and compilation (``device.build(compile=True, run=False)``);
  the build folder is new for every run, so this is a full compilation each time.
- binary_s: the standalone binary's whole run (``device.run``): connectivity generation,
  initialisation, the run loop, writing the results.
- simulate_s: the run loop alone, as the binary measures it itself
  (``device._last_run_time``, the figure Brian2 writes to results/last_run_info.txt).
- peak_rss_bytes: the binary's peak RSS (wait4 on the binary, started through this file as
  the device's run command), or the Python process's if that is larger.

Run this file as ``python standalone.py RUSAGE_FILE BINARY ARGS...`` and it runs the binary
and writes its peak RSS in bytes to RUSAGE_FILE: the benchmarks set it as
``prefs.devices.cpp_standalone.run_cmd_unix``.
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from peer_bench import options, timed_import  # noqa: E402


def start(description, prefix):
    """A benchmark's start: its options (--duration ms, --threads), brian2 imported (timed),
    the standalone device set up, a 0.1 ms clock and seed 1. Returns (args, import_s,
    build_dir, rss_file)."""
    args = options(description)
    b2, import_s = timed_import("brian2")
    build_dir, rss_file = setup(args.threads, prefix)
    b2.defaultclock.dt = 0.1 * b2.ms
    b2.seed(1)
    return args, import_s, build_dir, rss_file


def report(benchmark, args, import_s, build_s, timings, count, out_degree, NE, NI, **extra):
    """Print the benchmark's JSON line (the keys of tools/nest/*_bench.py) from the spike
    count and out-degree per neuron (excitatory first: NE, then NI)."""
    import brian2 as b2
    count = np.asarray(count, dtype=np.int64)
    sec = args.duration / 1000.0
    n_exc, n_inh = int(count[:NE].sum()), int(count[NE:].sum())
    recurrent = int((count * out_degree).sum())
    t = timings
    print(json.dumps(dict(
        benchmark=benchmark, simulator="brian2 " + b2.__version__, threads=args.threads,
        duration_ms=args.duration, import_s=round(import_s, 3), build_s=round(build_s, 3),
        compile_s=round(t["compile_s"], 3), binary_s=round(t["binary_s"], 3),
        simulate_s=round(t["simulate_s"], 3), spikes=n_exc + n_inh,
        rate_hz=dict(exc=round(n_exc / NE / sec, 3), inh=round(n_inh / NI / sec, 3)),
        recurrent_synaptic_events=recurrent, events_per_s=round(recurrent / max(t["simulate_s"], 1e-9)),
        peak_rss_bytes=t["peak_rss_bytes"], **extra)))


def setup(threads, prefix):
    """cpp_standalone in a new temporary folder (never inside the repository); threads 1
    generates serial code (``openmp_threads = 0``: no OpenMP), N > 1 OpenMP with N threads."""
    import brian2 as b2
    b2.prefs.logging.file_log = False
    b2.prefs.logging.console_log_level = "WARNING"
    build_dir = tempfile.mkdtemp(prefix=prefix)
    b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = threads if threads > 1 else 0
    rss_file = os.path.join(build_dir, "binary_rss.txt")
    b2.prefs.devices.cpp_standalone.run_cmd_unix = [sys.executable, os.path.abspath(__file__),
                                                    rss_file, "./main"]
    return build_dir, rss_file


def build_and_run(build_dir, rss_file):
    """Compile, then run the binary; returns dict(compile_s, binary_s, simulate_s, peak_rss_bytes)."""
    from brian2 import device
    t0 = time.perf_counter()
    device.build(directory=build_dir, compile=True, run=False, with_output=False)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    device.run(directory=build_dir, with_output=False)
    binary_s = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:
        with open(rss_file) as f:
            peak = max(peak, int(f.read()))
    except (OSError, ValueError):
        pass
    return dict(compile_s=compile_s, binary_s=binary_s, simulate_s=float(device._last_run_time),
                peak_rss_bytes=peak)


def cleanup(build_dir):
    shutil.rmtree(build_dir, ignore_errors=True)


def _exec_and_measure(argv):
    rss_file, cmd = argv[0], argv[1:]
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(rss_file, "w") as f:
        f.write(str(usage.ru_maxrss * 1024))
    return proc.returncode


if __name__ == "__main__":
    sys.exit(_exec_and_measure(sys.argv[1:]))
