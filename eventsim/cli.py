"""The eventsim command line: run, resume, validate, warmup, analyze, energy, nir-import, nir-export.

Exit codes: 0 success; 2 invalid input (one line per problem on stderr, naming the
key path or file; no traceback; no output file left behind); 1 any other failure
(including a run stopped by SIGTERM/SIGINT, which leaves OUT.h5.partial).
"""
from __future__ import annotations

import argparse
import json
import signal
import sys

from .errors import InputError


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: exit 2 with one clear line
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parser():
    p = _Parser(prog="eventsim", description="Exact event-driven spiking network simulator.")
    from . import __version__
    p.add_argument("--version", action="version", version=f"eventsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    r = sub.add_parser("run", help="run a scenario and write its output file")
    r.add_argument("scenario")
    r.add_argument("-o", "--output", help="output file (default: [output] path, else <stem>.h5)")
    r.add_argument("--backend", choices=["cpu", "cuda"])
    r.add_argument("--seed", type=int)
    r.add_argument("--duration", type=float, help="ms")
    r.add_argument("--scale", type=float, help="[network] scale: neuron numbers and in-degrees x SCALE")
    r.add_argument("--threads", type=_positive_int("threads"), metavar="N",
                   help="CPU threads of the cpu backend (default: every core; the output is the same)")
    r.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    r.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    r.add_argument("--force", action="store_true",
                   help="replace an existing output file (or one left by an interrupted run)")
    r.add_argument("--checkpoint-every", type=float, metavar="MS",
                   help="save the whole state to OUT.h5.ckpt every MS of simulated time, so that "
                        "the run can be resumed (eventsim resume OUT.h5.partial)")
    r.add_argument("--from-checkpoint", metavar="FILE",
                   help="start from the state saved in FILE (a checkpoint of the same network) "
                        "instead of t = 0: another duration, recording or --seed for later stimuli")
    c = sub.add_parser("resume", help="continue a killed or stopped run from its last checkpoint")
    c.add_argument("partial", help="the run's OUT.h5.partial (OUT.h5.ckpt must be beside it)")
    c.add_argument("--threads", type=_positive_int("threads"), metavar="N",
                   help="CPU threads (default: every core; the output is the same)")
    c.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    c.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    w = sub.add_parser("warmup", help="compile the kernels that runs of these scenarios need, once "
                                      "(numba caches them on disk): later runs start without compiling")
    w.add_argument("scenarios", nargs="*", metavar="SCENARIO")
    w.add_argument("--all", action="store_true",
                   help="also every neuron model, synapse type and plasticity rule of the catalogue")
    w.add_argument("--threads", type=_positive_int("threads"), metavar="N",
                   help="the thread count the runs will use (default: every core, as eventsim run)")
    w.add_argument("--json", action="store_true", help="print the result as one JSON object")
    v = sub.add_parser("validate", help="check a scenario and report what it would build")
    v.add_argument("scenario")
    v.add_argument("--scale", type=float, help="[network] scale: neuron numbers and in-degrees x SCALE")
    v.add_argument("--ranks", type=_positive_int("ranks"), metavar="R", default=1,
                   help="also estimate the memory of each of R MPI ranks (docs/mpi.md)")
    v.add_argument("--json", action="store_true")
    a = sub.add_parser("analyze", help="statistics and plots of a spike file")
    a.add_argument("file")
    a.add_argument("--plots", metavar="DIR")
    a.add_argument("--json", action="store_true")
    a.add_argument("--bin", type=float, metavar="MS")
    a.add_argument("--t-start", type=float, metavar="MS")
    a.add_argument("--t-stop", type=float, metavar="MS")
    a.add_argument("--force", action="store_true", help="replace existing plot files")
    e = sub.add_parser("energy", help="energy estimates for neuromorphic hardware")
    e.add_argument("file")
    e.add_argument("--hardware", metavar="NAME[,NAME...]")
    e.add_argument("--json", action="store_true")
    e.add_argument("--plot", metavar="PNG", help="also draw the comparison into this PNG file")
    e.add_argument("--force", action="store_true", help="replace an existing --plot file")
    ni = sub.add_parser("nir-import", help="read a NIR graph: write a scenario that runs it (docs/nir.md)")
    ni.add_argument("model", help="a .nir file")
    ni.add_argument("-o", "--output", metavar="SCENARIO.toml", help="write the scenario here (default: print it)")
    ni.add_argument("--time-unit", type=float, default=1000.0, metavar="MS",
                    help="ms per NIR time unit (default 1000: the graph's taus are in seconds)")
    ni.add_argument("--dt", type=float, default=1e-4, metavar="DT",
                    help="the step the graph was trained with, in its time unit (default 1e-4, snnTorch's)")
    ni.add_argument("--delay", type=float, default=0.01, metavar="MS",
                    help="delay of every connection, ms (NIR's are instantaneous; default 0.01)")
    ni.add_argument("--json", action="store_true", help="print what the graph became as one JSON object")
    ni.add_argument("--force", action="store_true", help="replace an existing scenario file")
    ne = sub.add_parser("nir-export", help="write a scenario's network as a NIR graph (docs/nir.md)")
    ne.add_argument("scenario")
    ne.add_argument("-o", "--output", metavar="MODEL.nir", help="default: the scenario's name with .nir")
    ne.add_argument("--force", action="store_true", help="replace an existing NIR file")
    return p


def _all_cores():
    import numba
    return numba.config.NUMBA_NUM_THREADS


def _default_threads():
    """Every core; under mpiexec, this machine's cores shared among its ranks."""
    from .engine.comm import ranks_on_this_node
    return max(1, _all_cores() // ranks_on_this_node())


def _rank0():
    """Messages and summaries come from rank 0 only under mpiexec (one, not one per rank)."""
    from .engine.comm import launched_rank
    return launched_rank() == 0


def _positive_int(name):
    """An argparse type: a whole number >= 1, for option ``--name``."""
    def parse(text):
        from .errors import check_positive_int
        try:
            return check_positive_int(text, name, from_text=True)
        except InputError as exc:   # argparse prefixes the option: "argument --threads: must be ..."
            raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[1]) from None
    return parse


def _cmd_run(args) -> int:
    from . import api
    scenario = api.load(args.scenario, seed=args.seed, duration=args.duration, backend=args.backend,
                        scale=args.scale)
    return _run_with_signals(args, lambda stop_flag, threads, progress: api.run_scenario(
        scenario, args.output, progress=progress, stop_flag=stop_flag, threads=threads, force=args.force,
        checkpoint_every=args.checkpoint_every, from_checkpoint=args.from_checkpoint))


def _cmd_resume(args) -> int:
    from . import api
    return _run_with_signals(args, lambda stop_flag, threads, progress: api.resume(
        args.partial, progress=progress, stop_flag=stop_flag, threads=threads))


def _run_with_signals(args, start) -> int:
    """Run ``start(stop_flag, threads, progress)`` with SIGTERM/SIGINT stopping it at the
    next window; print the summary; 1 if it was stopped."""
    stop = {"sig": None}
    if args.threads is not None and args.threads > _all_cores() and _rank0():
        print(f"eventsim: warning: --threads {args.threads} is more than the {_all_cores()} cores numba "
              f"can use here; running on {_all_cores()}", file=sys.stderr)

    def handler(signum, frame):
        stop["sig"] = signum

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        summary = start(lambda: stop["sig"] is not None,
                        args.threads if args.threads is not None else _default_threads(),
                        not args.quiet and not args.json)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if not _rank0():
        return 0 if summary["complete"] else 1
    if args.json:
        print(json.dumps(summary))
    elif not args.quiet:
        _print_summary(summary)
    if not summary["complete"]:
        print(f"eventsim: run stopped by signal {stop['sig']} at t = {summary['t']:.3f} ms; "
              f"spikes up to t_committed are in {summary['path']} (complete = false)", file=sys.stderr)
        if summary.get("checkpoint"):
            print(f"eventsim: its state is in {summary['checkpoint']}; continue it with: "
                  f"eventsim resume {summary['path']}", file=sys.stderr)
        return 1
    return 0


def _print_summary(s):
    print(f"wrote {s['path']}")
    print(f"simulated {s['t']:.1f} ms: {s['neurons']} neurons, {s['synapses']} synapses, "
          f"{s['spikes']} spikes")
    for name, d in s["populations"].items():
        print(f"  {name:<20s} {d['spikes']:>10d} spikes  {d['rate_hz']:8.2f} Hz")
    compile_s = s.get("compile_s", 0.0)
    compiled = (f"compile {compile_s:.2f} s (first run only: kernels are cached), " if compile_s >= 1.0
                else f"compile {compile_s:.2f} s, " if compile_s >= 0.01 else "")
    print(f"wall {s['wall_s']:.2f} s (build {s['build_s']:.2f} s, {compiled}simulate {s['simulate_s']:.2f} s, "
          + (f"{s['ranks']} ranks x " if s.get("ranks", 1) > 1 else "")
          + f"{s.get('threads', 1)} thread{'s' if s.get('threads', 1) > 1 else ''}); "
          f"{s['synaptic_events']} synaptic events, {s['events_per_s']:.3g} events/s")


def _cmd_validate(args) -> int:
    from . import api
    from .network.build import check_fits, estimate_memory
    scenario = api.load(args.scenario, scale=args.scale)
    est = estimate_memory(scenario, ranks=args.ranks)
    check_fits(scenario)
    if args.json:
        print(json.dumps(est, default=float))
        return 0
    print(f"{args.scenario}: valid (figures below are estimates, made without building)")
    drawn = any(pr["rule"] == "fixed_probability" for pr in scenario.projections)
    for k, v in est.items():
        if k == "synapses" and drawn:
            print(f"  synapses (expected; fixed_probability draws vary): {v}")
        elif k == "record_items":
            for key, (mem, disk) in v.items():
                print(f"    {key}: {mem / 2**20:,.1f} MiB in memory, {disk / 2**20:,.1f} MiB in the output file")
        elif k == "output_bytes":
            print(f"  output file (recording beyond spikes): {v / 2**20:,.1f} MiB")
        elif k == "per_rank":
            print(f"  on {len(v)} MPI ranks, each building the synapses onto its own neurons:")
            for r, d in enumerate(v):
                print(f"    rank {r}: {d['synapses']} synapses, peak memory {d['peak_bytes'] / 2**20:,.1f} MiB "
                      f"(synapse table {d['synapse_bytes'] / 2**20:,.1f}, queue {d['queue_bytes'] / 2**20:,.1f}, "
                      f"neurons {d['neuron_bytes'] / 2**20:,.1f})")
        elif k.endswith("_bytes"):
            print(f"  {k[:-6].replace('_', ' ')} memory: {v / 2**20:,.1f} MiB")
        else:
            print(f"  {k}: {v}")
    return 0


def _cmd_warmup(args) -> int:
    import time
    from .errors import ArgumentError
    from .warmup import WARM_MS, catalogue_scenarios, warm_scenario
    if not args.scenarios and not args.all:
        raise ArgumentError("warmup: give one or more scenario files, or --all")
    threads = args.threads if args.threads is not None else _default_threads()
    if threads > _all_cores():
        print(f"eventsim: warning: --threads {threads} is more than the {_all_cores()} cores numba "
              f"can use here; warming up for {_all_cores()}", file=sys.stderr)
        threads = _all_cores()
    t0 = time.perf_counter()
    jobs = [(str(path), path) for path in args.scenarios]
    if args.all:
        jobs += [(f"catalogue:{name}", raw) for name, raw in catalogue_scenarios().items()]
    results = []
    for label, source in jobs:
        print(f"eventsim warmup: {label}: compiling numba kernels (first run only; a short run of a small "
              f"copy, {WARM_MS:g} ms at most, {threads} thread{'s' if threads > 1 else ''}) ...",
              file=sys.stderr, flush=True)
        r = warm_scenario(source, threads=threads)
        r["scenario"] = label
        results.append(r)
        if not args.json:
            size = (f"{r['neurons']} neurons" if r["scale"] == 1.0 else
                    f"{r['neurons']} of its {r['neurons_full']} neurons")
            what = (f"compiled {r['kernels']} kernel{'s' if r['kernels'] != 1 else ''} in {r['compile_s']:.1f} s"
                    if r["kernels"] else "nothing to compile: already warm")
            print(f"{label}: ready in {r['seconds']:.1f} s ({what}; {size})", flush=True)
    total = time.perf_counter() - t0
    if args.json:
        print(json.dumps({"scenarios": results, "threads": threads, "seconds": total,
                          "compile_s": sum(r["compile_s"] for r in results),
                          "kernels": sum(r["kernels"] for r in results)}))
    else:
        print(f"warm: {len(results)} scenario{'s' if len(results) != 1 else ''} in {total:.1f} s; their runs on "
              f"{threads} thread{'s' if threads > 1 else ''} now load the compiled kernels from the cache")
    return 0


def _cmd_analyze(args) -> int:
    from .analysis.cli import run_analyze
    return run_analyze(args.file, plots_dir=args.plots, json_out=args.json, bin_ms=args.bin,
                       t_start=args.t_start, t_stop=args.t_stop, force=args.force)


def _cmd_energy(args) -> int:
    from .energy.cli import run_energy
    hw = args.hardware.split(",") if args.hardware else None
    return run_energy(args.file, hardware=hw, json_out=args.json, plot=args.plot or False,
                      force=args.force)


def _cmd_nir_import(args) -> int:
    from .nir.cli import run_import
    return run_import(args.model, args.output, time_unit=args.time_unit, dt=args.dt, delay=args.delay,
                      json_out=args.json, force=args.force)


def _cmd_nir_export(args) -> int:
    from .nir.cli import run_export
    return run_export(args.scenario, args.output, force=args.force)


def _one_line_warning(message, category, filename, lineno, line=None):
    """Warnings as one clean line (Python's default adds a source file and line)."""
    return f"eventsim: warning: {message}\n"


def main(argv=None) -> int:
    import warnings
    warnings.formatwarning = _one_line_warning
    args = _parser().parse_args(argv)
    try:
        return {"run": _cmd_run, "resume": _cmd_resume, "validate": _cmd_validate, "warmup": _cmd_warmup,
                "analyze": _cmd_analyze,
                "energy": _cmd_energy, "nir-import": _cmd_nir_import,
                "nir-export": _cmd_nir_export}[args.command](args)
    except InputError as exc:
        if _rank0():
            for line in exc.problems:
                print(f"error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if _rank0():
            print("eventsim: interrupted", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
