"""Brunel (2000) benchmark: build and simulate scenarios/brunel2000_ai.toml, print one JSON line.

    python bench/brunel.py [--duration MS] [--scenario PATH] [--keep OUT.h5] [--threads N] [--ranks R]

--ranks R (R > 1) starts itself again under the MPICH wheel's mpiexec with R ranks (each
with --threads threads): rank 0 writes the file and prints the JSON line, with peak RSS
per rank (peak_rss_bytes: the largest; peak_rss_bytes_per_rank: each).

Figures: neurons, synapses, build_s, simulate_s (the window loop, output writing
included), spikes, recurrent synaptic events (delivered spikes x synapses, Poisson
stimulus events excluded), events per second of the loop, peak RSS, bytes per
synapse (RSS growth during the build divided by synapses), rates, and whether
numba's on-disk cache was cold or warm for the engine kernels.
"""
import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "brunel2000_ai.toml"))
    ap.add_argument("--duration", type=float, default=None, help="ms (default: the scenario's)")
    ap.add_argument("--keep", default=None, help="keep the output file here")
    ap.add_argument("--ranks", type=int, default=1, help="MPI ranks (default 1: one process)")
    args = ap.parse_args()
    from eventsim.engine.comm import on_ranks
    on_ranks(args.ranks)

    t0 = time.perf_counter()
    import numpy as np

    import eventsim
    from eventsim.output.sonata import SonataWriter
    t_import = time.perf_counter() - t0

    from eventsim.output.recorder import RankSink
    from eventsim.engine.comm import world
    comm = world()
    scenario = eventsim.load(args.scenario, duration=args.duration)
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    # on several ranks, each builds the synapses onto its own neurons only
    net = eventsim.build_network(scenario, part=(comm.rank, comm.size) if comm.size > 1 else None)
    build_s = time.perf_counter() - t0
    rss1 = rss_bytes()

    out = (Path(args.keep) if args.keep else Path(tempfile.mkdtemp()) / "brunel.h5") if comm.rank == 0 else None
    writer = SonataWriter(out, net, scenario_text=scenario.text, seed=scenario.seed,
                          duration=scenario.duration, force=True) if comm.rank == 0 else RankSink()
    sim = eventsim.Simulation(net, backend="cpu", seed=scenario.seed, sink=writer, threads=args.threads,
                              comm=comm)
    t0 = time.perf_counter()
    sim.run(scenario.duration)
    simulate_s = time.perf_counter() - t0
    counters = sim.counters()
    writer.finish(counters)
    recurrent = int(sum(int(p["synaptic_events"]) for p in counters["projections"].values()))
    stim = int(sum(int(s["events"]) for s in counters["stimuli"].values()))
    spikes = {k: int(np.sum(v["spike_count"])) for k, v in counters["populations"].items()}
    sec = scenario.duration / 1000.0
    sizes = {p.name: p.size for p in net.populations}
    warm = sim.compile_s < 1.0   # numba compiling during the run: a cold cache
    peaks = comm.gather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)   # every rank's
    if comm.rank > 0:
        return 0
    res = dict(
        benchmark=Path(args.scenario).stem, neurons=net.n_neurons, synapses=net.total_synapses,
        duration_ms=scenario.duration, threads=sim.engine.threads, ranks=comm.size,
        import_s=round(t_import, 3), build_s=round(build_s, 3), simulate_s=round(simulate_s, 3),
        spikes=sum(spikes.values()),
        rate_hz={k: round(v / sizes[k] / sec, 3) for k, v in spikes.items()},
        recurrent_synaptic_events=recurrent, stimulus_events=stim,
        events_per_s=round(recurrent / simulate_s), all_events_per_s=round((recurrent + stim) / simulate_s),
        peak_rss_bytes=max(peaks), peak_rss_bytes_per_rank=peaks,
        bytes_per_synapse=round((rss1 - rss0) / max(net.n_synapses, 1), 2),
        layout_bytes_per_synapse=round(net.synapse_bytes() / max(net.n_synapses, 1), 2),
        numba_cache="warm" if warm else "cold",
        compile_s=round(sim.compile_s, 3), loop_s=round(sim.wall_s, 3),
        realtime_factor=round(simulate_s / sec, 3),
    )
    print(json.dumps(res))
    if not args.keep:
        out.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
