"""Time ``eventsim analyze`` (statistics + plots) on a Brunel-sized spike file.

Writes a synthetic SONATA file shaped like the Brunel (2000) benchmark's
output: 10,000 excitatory + 2,500 inhibitory neurons, 1 s, independent
Poisson trains at ~37.6 Hz (~470,000 spikes), sorted by time; then runs
run_analyze(json_out=True, plots_dir=...) and prints one JSON object with the
timings.

    python bench/analyze_brunel_like.py [--rate HZ] [--keep DIR]
"""
import argparse
import contextlib
import io
import json
import os
import tempfile
import time

import h5py
import numpy as np

from eventsim.analysis import run_analyze

SONATA_SORTING = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="i1")


def write_poisson_file(path, sizes, rate_hz, duration_ms, seed=1):
    rng = np.random.default_rng(seed)
    n_total = 0
    with h5py.File(path, "w") as f:
        f.attrs["magic"] = np.uint32(0x0A7A)
        f.attrs["version"] = np.array([0, 1], np.uint32)
        f.attrs["duration"] = float(duration_ms)
        f.attrs["t_committed"] = float(duration_ms)
        f.attrs["complete"] = True
        for name, n in sizes.items():
            k = rng.poisson(rate_hz * duration_ms / 1000.0, n)
            ids = np.repeat(np.arange(n, dtype=np.uint64), k)
            t = rng.uniform(0.0, duration_ms, ids.size)
            order = np.argsort(t, kind="stable")
            g = f.create_group(f"spikes/{name}")
            g.attrs.create("sorting", 2, dtype=SONATA_SORTING)
            g.attrs["n_nodes"] = np.uint64(n)
            ds = g.create_dataset("timestamps", data=t[order])
            ds.attrs["units"] = "ms"
            g.create_dataset("node_ids", data=ids[order])
            n_total += ids.size
    return n_total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=37.6, help="Hz per neuron")
    ap.add_argument("--keep", help="directory to keep the file and plots in")
    args = ap.parse_args()
    tmp = args.keep or tempfile.mkdtemp(prefix="eventsim-bench-")
    os.makedirs(tmp, exist_ok=True)
    path = os.path.join(tmp, "brunel_like.h5")
    n_spikes = write_poisson_file(path, {"exc": 10000, "inh": 2500}, args.rate, 1000.0)

    timings = {}
    for label, plots in (("stats_only", None), ("stats_and_plots", os.path.join(tmp, "plots"))):
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()) as out:
            run_analyze(path, plots_dir=plots, json_out=True)
        timings[label + "_s"] = round(time.perf_counter() - t, 3)
        result = json.loads(out.getvalue())
    print(json.dumps({
        "benchmark": "analyze_brunel_like",
        "n_neurons": 12500, "duration_ms": 1000.0, "n_spikes": n_spikes,
        **timings,
        "network_rate_hz": result["network"]["rate_hz"],
        "network_cv_isi": result["network"]["cv_isi"],
        "plots": [os.path.basename(p) for p in result.get("plots", [])],
    }))


if __name__ == "__main__":
    main()
