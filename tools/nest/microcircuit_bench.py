"""NEST's figure for the microcircuit comparison: the reference PyNEST implementation of
Potjans & Diesmann (2014) (`microcircuit-PD14-model`, INM-6), at a given scale, timed as
bench/microcircuit.py times eventsim, printed as one JSON line.

Neither NEST nor the model is a dependency of eventsim: run it in NEST's venv with a
checkout of the model's repository:

    python -m venv /tmp/nestvenv && /tmp/nestvenv/bin/pip install nest-simulator numpy matplotlib
    git clone https://github.com/INM-6/microcircuit-PD14-model /tmp/pd14
    /tmp/nestvenv/bin/python tools/nest/microcircuit_bench.py --pd14 /tmp/pd14 \\
        [--scale 0.25] [--threads N] [--transient 100] [--t-sim 1000]

The model runs with its own defaults (iaf_psc_exp on a 0.1 ms grid, the DC compensation
of a reduced in-degree, rng_seed 55) except: the background is Poisson input
(bg_input_type "poisson", as scenarios/potjans2014_microcircuit.toml; the model's current
default is a DC input), N_scaling = K_scaling = --scale (bench/microcircuit.py scales
neurons and in-degrees alike by default),
t_presim = --transient, t_sim = --t-sim, local_num_threads = --threads, and spikes
recorded to ASCII files in a temporary directory (the model's default recording).

Figures: build_s (create + connect), presim_s and simulate_s (nest.Simulate of the
transient and of t_sim), loop_s (both: the whole simulated time, as bench/microcircuit.py's
loop_s), loop_realtime_factor (loop_s per simulated second), realtime_factor_t_sim
(simulate_s per second of t_sim), spikes and the mean rate over all neurons, peak RSS.
"""
import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pd14", required=True, help="a checkout of microcircuit-PD14-model")
    ap.add_argument("--scale", type=float, default=0.25)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--transient", type=float, default=100.0, help="ms (the model's t_presim)")
    ap.add_argument("--t-sim", type=float, default=1000.0, help="ms")
    args = ap.parse_args()
    src = Path(args.pd14) / "PyNEST" / "src"
    if not (src / "microcircuit" / "network.py").is_file():
        sys.exit(f"--pd14: {args.pd14} holds no PyNEST/src/microcircuit/network.py")
    sys.path.insert(0, str(src))
    t0 = time.perf_counter()
    import nest
    from microcircuit import network
    from microcircuit.network_params import default_net_dict as net_dict
    from microcircuit.sim_params import default_sim_dict as sim_dict
    from microcircuit.stimulus_params import default_stim_dict as stim_dict
    t_import = time.perf_counter() - t0

    out = tempfile.mkdtemp(prefix="pd14-")
    net_dict = dict(net_dict, N_scaling=args.scale, K_scaling=args.scale, bg_input_type="poisson")
    sim_dict = dict(sim_dict, t_presim=args.transient, t_sim=args.t_sim, local_num_threads=args.threads,
                    data_path=out + "/", print_time=False, store_metadata=False)
    t0 = time.perf_counter()
    net = network.Network(sim_dict, net_dict, stim_dict)
    net.create()
    net.connect()
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.simulate(args.transient)
    presim_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.simulate(args.t_sim)
    simulate_s = time.perf_counter() - t0
    n = sum(len(p) for p in net.pops)
    spikes = int(sum(r.n_events for r in net.spike_recorders))
    loop_s = presim_s + simulate_s
    duration = args.transient + args.t_sim
    print(json.dumps({
        "benchmark": "potjans2014_microcircuit", "simulator": f"nest {nest.__version__}",
        "model": "microcircuit-PD14-model (PyNEST)", "scale": args.scale, "threads": args.threads,
        "neurons": n, "duration_ms": duration, "transient_ms": args.transient,
        "import_s": round(t_import, 3), "build_s": round(build_s, 3), "presim_s": round(presim_s, 3),
        "simulate_s": round(simulate_s, 3), "loop_s": round(loop_s, 3),
        "loop_realtime_factor": round(loop_s / (duration / 1000.0), 3),
        "realtime_factor_t_sim": round(simulate_s / (args.t_sim / 1000.0), 3),
        "spikes": spikes, "rate_hz": round(spikes / n / (duration / 1000.0), 3),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }), flush=True)


if __name__ == "__main__":
    main()
