"""The machine's own 1 -> 2 thread speed-up, as a ceiling for bench/speedup.py's.

    python bench/host_scaling.py [--repeat K] [--seconds S]

Two chunks of a compute-only numba loop (an exp and a log per step, nothing read from
memory, one fork-join per run) on one thread and then on two, alternated --repeat times
(default 10), each run about --seconds of one thread's work (default 0.3). Every run is
a JSON line (threads, run, s); at the end one line with the median speed-up and its
range. On a machine whose two cores run at full speed side by side this is 2.0: what it
falls short of 2 is the host's (shared or throttled virtual cores), and no program's
two-thread speed-up on the same machine at the same time can exceed it.
"""
import argparse
import json
import math
import statistics
import time

import numba
import numpy as np
from numba import njit, prange


@njit(cache=True)
def _work(n, x):
    s = 0.0
    for _ in range(n):
        x = x * 1.0000001 + 1e-9
        s += math.exp(-x * 1e-3) + math.log(x + 1.0)
    return s


@njit(parallel=True, cache=True)
def _two_chunks(n):
    out = np.zeros(2)
    for p in prange(2):
        out[p] = _work(n, 1.0 + p)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10, help="runs of each thread count, alternated (default 10)")
    ap.add_argument("--seconds", type=float, default=0.3, help="one thread's time per run (default 0.3)")
    args = ap.parse_args()
    if numba.config.NUMBA_NUM_THREADS < 2:
        raise SystemExit("host_scaling: numba has one thread here (NUMBA_NUM_THREADS); nothing to compare")
    numba.set_num_threads(1)
    _two_chunks(1000)   # compile (or load) first
    t0 = time.perf_counter()
    _two_chunks(1_000_000)
    n = max(1000, int(1_000_000 * args.seconds / (time.perf_counter() - t0)))
    ratios = []
    for run in range(args.repeat):
        times = {}
        for threads in (1, 2):
            numba.set_num_threads(threads)
            t0 = time.perf_counter()
            _two_chunks(n)
            times[threads] = time.perf_counter() - t0
            print(json.dumps({"threads": threads, "run": run, "s": round(times[threads], 4)}), flush=True)
        ratios.append(times[1] / times[2])
    print(json.dumps({"summary": True, "runs": args.repeat, "median_speedup": round(statistics.median(ratios), 3),
                      "min_speedup": round(min(ratios), 3), "max_speedup": round(max(ratios), 3)}))


if __name__ == "__main__":
    main()
