"""Potjans & Diesmann (2014) microcircuit benchmark: build and simulate
scenarios/potjans2014_microcircuit.toml at a given scale, print one JSON line.

    python bench/microcircuit.py [--scale 0.1] [--t-sim MS] [--transient MS] [--seed N]
                                 [--indegree-scale K] [--scenario PATH] [--threads N] [--ranks R]

--ranks R (R > 1) starts itself again under mpiexec with R ranks of --threads threads
each; every rank builds the synapses onto its own neurons; rank 0 prints the JSON line
(peak RSS: the largest rank's, and each rank's).

Figures: neurons, synapses, build_s, simulate_s (spikes kept in memory, no output
file), realtime_factor (simulate_s per simulated second), compile_s (numba compiling
during the run: kernels not yet in the disk cache, and typed lists of new element
types, compiled in every process), loop_s and loop_realtime_factor (simulate_s less
compile_s: the window loop alone), recurrent synaptic events
(delivered spikes x synapses) and stimulus (Poisson background) events, both per
second of simulate_s, peak RSS (getrusage), threads (--threads, default 1), and,
after the transient: population mean rates (Hz, over all neurons) and the mean CV of
the ISIs over neurons with >= 3 spikes (per population and over all of them).
"""
import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# NEST's rates at full scale (Hz), the targets of the full-scale check (docs/microcircuit.md)
NEST_RATES = {"L23E": 0.971, "L23I": 2.868, "L4E": 4.746, "L4I": 5.396,
              "L5E": 8.142, "L5I": 9.078, "L6E": 0.991, "L6I": 7.523}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "potjans2014_microcircuit.toml"))
    ap.add_argument("--scale", type=float, default=0.1, help="network.scale (neurons; default 0.1)")
    ap.add_argument("--indegree-scale", type=float, default=None, help="network.indegree_scale "
                    "(default: scale)")
    ap.add_argument("--t-sim", type=float, default=1000.0, help="ms measured after the transient")
    ap.add_argument("--transient", type=float, default=500.0, help="ms simulated first, not analysed")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--ranks", type=int, default=1, help="MPI ranks (default 1: one process)")
    args = ap.parse_args()
    from eventsim.engine.comm import on_ranks, world
    on_ranks(args.ranks)
    comm = world()

    t0 = time.perf_counter()
    import numba
    import numpy as np

    from eventsim.analysis.stats import cv_isi
    from eventsim.engine.simulation import Simulation
    from eventsim.network.build import build_network
    from eventsim.scenario import load_scenario
    t_import = time.perf_counter() - t0

    duration = args.transient + args.t_sim
    scenario = load_scenario(args.scenario, overrides={
        "network.scale": args.scale, "network.indegree_scale": args.indegree_scale,
        "simulation.duration": duration, "simulation.seed": args.seed})
    t0 = time.perf_counter()
    net = build_network(scenario, part=(comm.rank, comm.size) if comm.size > 1 else None)
    build_s = time.perf_counter() - t0

    sim = Simulation(net, backend="cpu", seed=scenario.seed, threads=args.threads, comm=comm)
    t0 = time.perf_counter()
    sim.run(duration)
    simulate_s = time.perf_counter() - t0
    counters = sim.counters()
    recurrent = int(sum(int(p["synaptic_events"]) for p in counters["projections"].values()))
    stim = int(sum(int(s["events"]) for s in counters["stimuli"].values()))

    rates, cvs, all_cv = {}, {}, []
    for p in net.populations:
        if p.hidden:
            continue
        t, i = sim.spikes(p.name)
        keep = t >= args.transient
        t, i = t[keep], i[keep]
        rates[p.name] = round(float(t.size / p.size / (args.t_sim / 1000.0)), 3)
        cv = cv_isi(t, i, p.size, min_spikes=3)
        cv = cv[np.isfinite(cv)]
        cvs[p.name] = round(float(cv.mean()), 3) if cv.size else None
        all_cv.append(cv)
    all_cv = np.concatenate(all_cv) if all_cv else np.zeros(0)
    sec = duration / 1000.0
    peaks = comm.gather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)   # every rank's
    if comm.rank > 0:
        return 0
    res = dict(
        benchmark="potjans2014_microcircuit", scale=args.scale,
        indegree_scale=scenario.scaling["indegree_scale"], seed=scenario.seed,
        neurons=net.n_neurons, synapses=net.total_synapses, duration_ms=duration,
        transient_ms=args.transient, threads=sim.engine.threads, ranks=comm.size, numba_threads=numba.get_num_threads(),
        import_s=round(t_import, 3), build_s=round(build_s, 3), simulate_s=round(simulate_s, 3),
        realtime_factor=round(simulate_s / sec, 3),
        compile_s=round(sim.compile_s, 3), loop_s=round(sim.wall_s, 3),
        loop_realtime_factor=round(sim.wall_s / sec, 3),
        recurrent_synaptic_events=recurrent, stimulus_events=stim,
        synaptic_events_per_s=round(recurrent / simulate_s),
        all_events_per_s=round((recurrent + stim) / simulate_s),
        peak_rss_bytes=max(peaks), peak_rss_bytes_per_rank=peaks,
        rate_hz=rates,
        rate_vs_nest=({k: round(rates[k] / v, 3) for k, v in NEST_RATES.items() if k in rates}),
        cv_isi=cvs, cv_isi_mean=round(float(all_cv.mean()), 3) if all_cv.size else None,
        cv_neurons=int(all_cv.size),
    )
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
