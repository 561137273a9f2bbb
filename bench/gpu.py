"""GPU benchmark: Brunel (2000) at several sizes on the cuda backend, one JSON line per size.

    python bench/gpu.py [--scales 1,2,4,8] [--duration MS] [--scenario PATH] [--cpu]

Sizes scale scenarios/brunel2000_ai.toml's neuron numbers (``[network] scale``) with the
in-degrees kept (``indegree_scale = 1``), so every size has the same rates and the
work per neuron is constant: scale 1 is 12,500 neurons and 13.1 M synapses. Figures as
bench/brunel.py (neurons, synapses, build_s, simulate_s, spikes, rates, recurrent and
stimulus events, events_per_s, peak RSS) plus realtime_factor (simulate_s per simulated
second) and the device. Spikes are kept in memory (no output file). The kernels are
compiled once on a small network first (compile_s): that is not in simulate_s. A size
whose network does not fit in the GPU's memory prints {"scale": s, "skipped": reason}.
``--cpu``: also run each size on the cpu backend and report its events_per_s, the
speed-up, and the agreement (spike counts, and the time of the first differing spike).

The microcircuit: ``--scenario scenarios/potjans2014_microcircuit.toml --scales 1``
(full scale; its in-degrees are kept too, so scale < 1 is a smaller network with
full-scale input per neuron).

Without a usable GPU it exits with status 2 and the backend's message.
"""
import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(scenario, net, backend):
    import numpy as np

    import eventsim
    sim = eventsim.Simulation(net, backend=backend, seed=scenario.seed)
    t0 = time.perf_counter()
    sim.run(scenario.duration)
    simulate_s = time.perf_counter() - t0
    c = sim.counters()
    recurrent = int(sum(int(p["synaptic_events"]) for p in c["projections"].values()))
    stim = int(sum(int(s["events"]) for s in c["stimuli"].values()))
    spikes = {p.name: sim.spikes(p.name) for p in net.populations if not p.hidden}
    n_spk = int(sum(t.size for t, _ in spikes.values()))
    sec = scenario.duration / 1000.0
    fig = dict(simulate_s=round(simulate_s, 3), realtime_factor=round(simulate_s / sec, 3), spikes=n_spk,
               rate_hz={k: round(t.size / net.population(k).size / sec, 3) for k, (t, _) in spikes.items()},
               recurrent_synaptic_events=recurrent, stimulus_events=stim,
               events_per_s=round(recurrent / simulate_s), all_events_per_s=round((recurrent + stim) / simulate_s))
    merged = (np.concatenate([t for t, _ in spikes.values()]),
              np.concatenate([i + net.population(k).offset for k, (_, i) in spikes.items()]))
    return fig, merged


def first_difference(a, b):
    """Time (ms) of the first spike where two sorted (t, gid) trains differ (ids equal,
    times within 1e-9 ms), or None when they agree."""
    import numpy as np
    n = min(a[0].size, b[0].size)
    bad = np.flatnonzero((a[1][:n] != b[1][:n]) | (np.abs(a[0][:n] - b[0][:n]) > 1e-9))
    if bad.size:
        return float(min(a[0][bad[0]], b[0][bad[0]]))
    if a[0].size != b[0].size:
        return float((a[0] if a[0].size > n else b[0])[n])
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "brunel2000_ai.toml"))
    ap.add_argument("--scales", default="1,2,4,8", help="comma-separated network.scale values")
    ap.add_argument("--duration", type=float, default=1000.0, help="ms")
    ap.add_argument("--cpu", action="store_true", help="also run the cpu backend (agreement, speed-up)")
    args = ap.parse_args()

    from eventsim.engine.backends import require_backend
    from eventsim.errors import InputError
    try:
        require_backend("cuda")
    except InputError as exc:
        for p in exc.problems:
            print(f"error: {p}", file=sys.stderr)
        return 2

    from numba import cuda

    import eventsim
    name = getattr(cuda.get_current_device(), "name", "numba CUDA simulator")
    device = name.decode() if isinstance(name, bytes) else str(name)

    # compile every kernel once on a small copy (numba compiles at the first launch)
    t0 = time.perf_counter()
    scales = [float(s) for s in args.scales.split(",")]
    small_sc = _load(args.scenario, min(0.02, min(scales)), min(20.0, args.duration))
    run(small_sc, eventsim.build_network(small_sc), "cuda")
    compile_s = time.perf_counter() - t0

    for scale in scales:
        sc = _load(args.scenario, scale, args.duration)
        t0 = time.perf_counter()
        net = eventsim.build_network(sc)
        build_s = time.perf_counter() - t0
        head = dict(benchmark=f"{Path(args.scenario).stem}_gpu", backend="cuda", device=device, scale=scale,
                    neurons=net.n_neurons, synapses=net.n_synapses, duration_ms=sc.duration,
                    build_s=round(build_s, 3), compile_s=round(compile_s, 3))
        try:
            fig, spikes = run(sc, net, "cuda")
        except InputError as exc:   # CapacityError: does not fit on this device
            print(json.dumps(dict(head, skipped="; ".join(exc.problems))), flush=True)
            continue
        res = dict(head, **fig)
        if args.cpu:
            cfig, cspikes = run(sc, net, "cpu")
            res.update(cpu_simulate_s=cfig["simulate_s"], cpu_events_per_s=cfig["events_per_s"],
                       speedup=round(cfig["simulate_s"] / fig["simulate_s"], 2), cpu_spikes=cfig["spikes"],
                       first_difference_ms=first_difference(cspikes, spikes))
        res["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps(res), flush=True)
        del net
    return 0


def _load(path, scale, duration):
    """The scenario at ``scale`` neurons with its in-degrees kept."""
    from eventsim.scenario import load_scenario
    return load_scenario(path, overrides={"network.scale": scale, "network.indegree_scale": 1.0,
                                          "simulation.duration": duration})


if __name__ == "__main__":
    sys.exit(main())
