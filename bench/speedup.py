"""Thread speed-up on one network, built once: runs of each thread count alternated.

    python bench/speedup.py [--scenario PATH] [--set KEY=VALUE ...] [--warmup MS]
                            [--duration MS] [--threads 1,2] [--repeat K]

Builds the scenario once (default scenarios/potjans2014_microcircuit.toml; --set overrides
keys, e.g. network.scale=1.0), then, --repeat times (default 3), for each thread count in
turn: a new Simulation of that network (its own engine and queue, the network's arrays
shared), --warmup ms not timed (default 20: numba's compilation from the disk cache falls
there; the first run of a thread count may still compile), then --duration ms timed
(default 300). Every run is a JSON line (threads, run, loop_s: Simulation.wall_s of the
timed part, compilation left out; realtime_factor; spikes of the timed part, the same for
every thread count, checked); at the end one line with the median loop_s per thread count
and the speed-up of each against the first count.

Why: a build of the full-scale microcircuit takes two minutes and 8 GB, and two-thread
runs vary with the host (±10 % here) more than one-thread runs; alternating several pairs
on one build gives the speed-up as a median in a few minutes, not a pair of processes.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from phases import overrides  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "potjans2014_microcircuit.toml"))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="scenario override")
    ap.add_argument("--warmup", type=float, default=20.0, help="ms run first, not timed (default 20)")
    ap.add_argument("--duration", type=float, default=300.0, help="ms timed (default 300)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each thread count, alternated (default 3)")
    args = ap.parse_args()
    from eventsim.engine.simulation import Simulation
    from eventsim.network.build import build_network
    from eventsim.scenario import load_scenario

    over = overrides(ap, args.set)
    counts = [int(t) for t in args.threads.split(",") if t.strip()]
    end = args.warmup + args.duration
    scenario = load_scenario(args.scenario, overrides={"simulation.duration": end, **over})
    t0 = time.perf_counter()
    net = build_network(scenario)
    build_s = time.perf_counter() - t0
    loops = {n: [] for n in counts}
    spikes = {}
    for run in range(1, args.repeat + 1):
        for n in counts:
            sim = Simulation(net, backend="cpu", seed=scenario.seed, threads=n)
            sim.run(args.warmup)
            before = sim.wall_s
            n_spk = sim.run(end)
            loop_s = sim.wall_s - before
            loops[n].append(loop_s)
            spikes.setdefault(n_spk, []).append(n)
            print(json.dumps({"scenario": Path(args.scenario).stem, "overrides": over, "threads": n, "run": run,
                              "build_s": round(build_s, 3), "warmup_ms": args.warmup,
                              "duration_ms": args.duration, "loop_s": round(loop_s, 4),
                              "realtime_factor": round(loop_s / (args.duration / 1000.0), 3),
                              "spikes": n_spk}), flush=True)
            del sim
    if len(spikes) != 1:
        print(f"speedup: the runs gave different spike counts ({spikes}); a network with plasticity "
              "changes its weights as it runs: time it one process per run (bench/brunel.py)", file=sys.stderr)
        return 1
    med = {n: statistics.median(v) for n, v in loops.items()}
    print(json.dumps({"summary": True, "threads": counts, "runs": args.repeat,
                      "median_loop_s": {str(n): round(m, 4) for n, m in med.items()},
                      "speedup": {str(n): round(med[counts[0]] / m, 3) for n, m in med.items()}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
