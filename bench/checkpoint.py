"""Checkpoint size and time: run a scenario to T, save a checkpoint, restore it into a new
Simulation, run both on for a while and check they emit the same spikes. One JSON line.

    python bench/checkpoint.py [--scenario scenarios/brunel2000_ai.toml] [--scale S]
                               [--t MS] [--after MS] [--threads N]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scenario", default=str(ROOT / "scenarios" / "brunel2000_ai.toml"))
    p.add_argument("--scale", type=float)
    p.add_argument("--t", type=float, default=100.0, help="checkpoint time (ms)")
    p.add_argument("--after", type=float, default=10.0, help="ms run on by both to compare")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--dir", default=None, help="where the checkpoint goes (default: a temp folder)")
    args = p.parse_args()

    import eventsim
    sc = eventsim.load(args.scenario, scale=args.scale, duration=args.t + args.after)
    t0 = time.perf_counter()
    net = eventsim.build_network(sc)
    build_s = time.perf_counter() - t0
    sim = eventsim.Simulation(net, seed=sc.seed, threads=args.threads)
    t0 = time.perf_counter()
    sim.run(args.t)
    run_s = time.perf_counter() - t0
    path = Path(args.dir or tempfile.mkdtemp()) / "bench.ckpt"
    t0 = time.perf_counter()
    sim.save_checkpoint(path)
    save_s = time.perf_counter() - t0
    size = os.path.getsize(path)
    queued = int(sim.engine.b_count.sum())
    # a second save: the structure fingerprint is computed once per Simulation
    t0 = time.perf_counter()
    sim.save_checkpoint(path)
    save2_s = time.perf_counter() - t0
    sim.run(args.t + args.after)
    pops = [p.name for p in net.populations if not p.hidden]
    expected = {}
    for pop in pops:
        a_t, a_i = sim.spikes(pop)
        sel = a_t >= args.t
        expected[pop] = (a_t[sel], a_i[sel])
    del sim, net                              # one network in memory at a time (full microcircuit)
    gc.collect()
    t0 = time.perf_counter()
    net2 = eventsim.build_network(sc)
    rebuild_s = time.perf_counter() - t0
    other = eventsim.Simulation(net2, seed=sc.seed, threads=args.threads)
    t0 = time.perf_counter()
    other.restore(path)
    restore_s = time.perf_counter() - t0
    other.run(args.t + args.after)
    same = True
    for pop in pops:
        b_t, b_i = other.spikes(pop)
        same &= bool(np.array_equal(expected[pop][0], b_t) and np.array_equal(expected[pop][1], b_i))
    n_spikes_after = sum(other.spikes(p)[0].size for p in pops)
    print(json.dumps(dict(
        benchmark="checkpoint", scenario=Path(args.scenario).name, scale=args.scale,
        neurons=net2.n_neurons, synapses=net2.n_synapses, t_ms=args.t, threads=args.threads,
        build_s=round(build_s, 2), run_s=round(run_s, 2),
        save_s=round(save_s, 3), save_again_s=round(save2_s, 3), restore_s=round(restore_s, 3),
        rebuild_s=round(rebuild_s, 2), checkpoint_bytes=size,
        checkpoint_bytes_per_neuron=round(size / net2.n_neurons, 1),
        queued_arrivals=queued,
        after_ms=args.after, spikes_after=int(n_spikes_after), same_spikes_after=same,
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)))


if __name__ == "__main__":
    main()
