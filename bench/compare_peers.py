"""eventsim against NEST and Brian2 on the same machine, one run after another: Brunel (2000)
model A, the CUBA benchmark and the Potjans-Diesmann microcircuit, ratios peer / eventsim.

    python bench/compare_peers.py [--models brunel,cuba,microcircuit] [--threads 1,2]
        [--duration MS] [--repeat K] [--out FILE.jsonl] [--eventsim-python PY]
        [--nest-python PY] [--brian2-python PY] [--simulators eventsim,nest,brian2] [--cold]
        [--pd14 CHECKOUT] [--scale S]

Each simulator runs as a subprocess of its own interpreter, never imported here, so NEST
and Brian2 stay out of eventsim's dependencies; each lives in its own virtual environment:

    python -m venv /tmp/nestvenv && /tmp/nestvenv/bin/pip install nest-simulator numpy
    python -m venv /tmp/brianvenv && /tmp/brianvenv/bin/pip install brian2 "numpy<2.4"

(Brian2's cpp_standalone device needs g++.) --nest-python and --brian2-python default to
those two paths; a peer whose interpreter is missing is skipped with a one-line message.
eventsim runs with --eventsim-python (default: this interpreter).

The scripts, each printing one JSON line:

| model | eventsim | NEST 3.10 | Brian2 2.9 (cpp_standalone) |
|---|---|---|---|
| brunel (scenarios/brunel2000_ai.toml) | bench/brunel.py | tools/nest/brunel_bench.py (iaf_psc_delta) | tools/brian2/brunel_bench.py |
| cuba (scenarios/brette2007_cuba.toml) | bench/brunel.py --scenario scenarios/brette2007_cuba.toml | tools/nest/cuba_bench.py (iaf_psc_exp) | tools/brian2/cuba_bench.py |
| microcircuit (scenarios/potjans2014_microcircuit.toml) | bench/microcircuit.py | tools/nest/microcircuit_bench.py (the reference PyNEST implementation) | none (skipped) |

All get --duration MS (default 1000) and --threads N. The microcircuit runs at --scale S
(default 0.25: neurons and in-degrees) for a transient of 100 ms and then --duration MS
(its scripts' --t-sim); NEST's script needs a checkout of INM-6/microcircuit-PD14-model
(--pd14, default /tmp/pd14: `git clone https://github.com/INM-6/microcircuit-PD14-model
/tmp/pd14`; NEST is skipped for it without one). Its loop is the transient and the
measured time together on both sides (loop_s of either script). For every model and thread count the
simulators take turns (eventsim, NEST, Brian2, then again, --repeat K times), so that drifts
in the machine's speed hit all of them alike. Before its first timed run of a model and
thread count, eventsim runs once for WARM_UP_MS, untimed, so that numba's on-disk cache
holds every kernel that run needs (as for anyone who has run a network of that kind once
before: the cache is kept between processes); --cold leaves that out, and then the
first run's process time includes the compilation (bench/brunel.py reports it as
compile_s, about 30 s for Brunel).

What is compared:
- loop: the simulation loop alone. eventsim: loop_s (Simulation.run without numba's
  compilation, output writing included); NEST: simulate_s (nest.Simulate; for the
  microcircuit loop_s, both nest.Simulate calls: transient and measured time); Brian2:
  simulate_s (the standalone binary's run loop as the binary times it,
  device._last_run_time; code generation and compilation are compile_s, apart).
- process: wall time of the whole subprocess, measured here around it: interpreter start,
  imports, construction, compilation (numba's when its cache is cold: only with --cold;
  Brian2's g++ always: its build folder is new every run), simulation, output.
- events/s: recurrent synaptic events (spikes x out-degree, Poisson input excluded) per
  second of loop.
- ratios peer / eventsim of the medians, for loop and process: above 1, eventsim is faster.

Every run is a JSON line on stdout (and in --out FILE.jsonl, appended): the script's own
line plus model, tool, run, process_s and loop_s. The table follows at the end. The defaults
(1 s of each model, threads 1 and 2) take about 3 minutes per --repeat on a 2-core machine
(2026-12-06, Brunel on one thread: eventsim about 13 s of process, NEST about 28 s, Brian2
about 25 s with its compilation; CUBA 2-10 s each), plus eventsim's warm-ups (with a cold
cache about 30 s each); run it with the machine otherwise idle.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TOOLS = ("eventsim", "nest", "brian2")
DEFAULT_PYTHON = {"nest": "/tmp/nestvenv/bin/python", "brian2": "/tmp/brianvenv/bin/python"}
DEFAULT_PD14 = "/tmp/pd14"
# the microcircuit's transient (ms) before the measured --duration, on both sides
MICROCIRCUIT_TRANSIENT = 100.0
SCRIPTS = {
    "brunel": {"eventsim": ["bench/brunel.py"],
               "nest": ["tools/nest/brunel_bench.py"],
               "brian2": ["tools/brian2/brunel_bench.py"]},
    "cuba": {"eventsim": ["bench/brunel.py", "--scenario", "scenarios/brette2007_cuba.toml"],
             "nest": ["tools/nest/cuba_bench.py"],
             "brian2": ["tools/brian2/cuba_bench.py"]},
    "microcircuit": {"eventsim": ["bench/microcircuit.py"],
                     "nest": ["tools/nest/microcircuit_bench.py"]},
}
# a peer's loop field where it is not simulate_s
PEER_LOOP_FIELD = {"microcircuit": "loop_s"}


def command(python, model, tool, duration, threads, pd14=DEFAULT_PD14, scale=0.25):
    """The argument list that runs ``tool`` on ``model``."""
    cmd = [python, *SCRIPTS[model][tool]]
    if model == "microcircuit":
        if tool == "nest":
            cmd += ["--pd14", str(pd14)]
        cmd += ["--scale", repr(float(scale)), "--transient", repr(MICROCIRCUIT_TRANSIENT),
                "--t-sim", repr(float(duration))]
    else:
        cmd += ["--duration", repr(float(duration))]
    return cmd + ["--threads", str(threads)]


def parse_result(stdout):
    """The last line of a script's stdout that is a JSON object, or None."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                return obj
    return None


def loop_time(tool, res, model=None):
    """The simulation loop's seconds: eventsim's loop_s, the peers' simulate_s (or the
    model's PEER_LOOP_FIELD)."""
    if tool == "eventsim":
        return float(res["loop_s"])
    return float(res[PEER_LOOP_FIELD.get(model, "simulate_s")])


def record(model, tool, run, process_s, res):
    """The script's line with model, tool, run, process_s and loop_s set here (a script's own
    "model" field, as NEST's microcircuit script has, is kept as script_model)."""
    rec = dict(model=model, tool=tool, run=run, process_s=round(process_s, 3))
    rec.update(res)
    if "model" in res:
        rec["script_model"] = res["model"]
    rec["model"] = model
    rec["loop_s"] = loop_time(tool, res, model)
    return rec


# eventsim's warm-up run (ms of simulated time): fills numba's cache, untimed
WARM_UP_MS = 10.0


def run_one(python, model, tool, duration, threads, options=None):
    cmd = command(python, model, tool, duration, threads, **(options or {}))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    res = parse_result(proc.stdout) if proc.returncode == 0 else None
    if res is None:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        print(f"compare_peers: {tool} {model} --threads {threads} failed (exit {proc.returncode}):\n{tail}",
              file=sys.stderr)
    return wall, res


def _median(xs):
    return statistics.median(xs) if xs else None


def summarise(records):
    """Rows of the table: one per (model, threads, tool) with runs, medians (min, max) of loop
    and process seconds, events/s, rates and compile time, and the ratios peer / eventsim of
    the medians (None for eventsim itself or when eventsim has no run)."""
    groups = {}
    for r in records:
        groups.setdefault((r["model"], int(r["threads"]), r["tool"]), []).append(r)
    rows = []
    for (model, threads, tool) in sorted(groups, key=lambda k: (k[0], k[1], TOOLS.index(k[2]))):
        rs = groups[(model, threads, tool)]
        loops = [float(r["loop_s"]) for r in rs]
        procs = [float(r["process_s"]) for r in rs]
        evs = [r["recurrent_synaptic_events"] / r["loop_s"] for r in rs
               if r["loop_s"] > 0 and "recurrent_synaptic_events" in r]
        # (rates by exc / inh where the script gives them: the microcircuit's are per layer)
        rates = [r["rate_hz"] for r in rs if isinstance(r.get("rate_hz"), dict) and "exc" in r["rate_hz"]]
        rows.append(dict(
            model=model, threads=threads, tool=tool, simulator=rs[0].get("simulator", tool), runs=len(rs),
            loop_s=_median(loops), loop_range=(min(loops), max(loops)),
            process_s=_median(procs), process_range=(min(procs), max(procs)),
            events_per_s=_median(evs),
            compile_s=_median([float(r["compile_s"]) for r in rs if "compile_s" in r]),
            rate_exc=_median([float(x["exc"]) for x in rates]),
            rate_inh=_median([float(x["inh"]) for x in rates]),
            loop_ratio=None, process_ratio=None))
    base = {(r["model"], r["threads"]): r for r in rows if r["tool"] == "eventsim"}
    for r in rows:
        b = base.get((r["model"], r["threads"]))
        if r["tool"] != "eventsim" and b is not None:
            r["loop_ratio"] = r["loop_s"] / b["loop_s"] if b["loop_s"] else None
            r["process_ratio"] = r["process_s"] / b["process_s"] if b["process_s"] else None
    return rows


def _secs(med, rng, runs):
    s = f"{med:.3g}" if med < 10 else f"{med:.1f}"
    return s if runs == 1 else f"{s} ({rng[0]:.3g}-{rng[1]:.3g})"


def format_table(rows):
    head = ("| model | threads | simulator | runs | loop s | process s | compile s | recurrent events/s "
            "| rate exc / inh Hz | loop peer/eventsim | process peer/eventsim |")
    lines = [head, "|" + "---|" * 11]
    blank_or = lambda x, f: "" if x is None else format(x, f)
    for r in rows:
        rate = "" if r["rate_exc"] is None else f"{r['rate_exc']:.2f} / {r['rate_inh']:.2f}"
        lines.append(
            f"| {r['model']} | {r['threads']} | {r['simulator']} | {r['runs']} "
            f"| {_secs(r['loop_s'], r['loop_range'], r['runs'])} "
            f"| {_secs(r['process_s'], r['process_range'], r['runs'])} "
            f"| {blank_or(r['compile_s'], '.3g')} | {blank_or(r['events_per_s'], '.3g')} | {rate} "
            f"| {blank_or(r['loop_ratio'], '.2f')} | {blank_or(r['process_ratio'], '.2f')} |")
    return "\n".join(lines)


def _python_for(tool, args):
    if tool == "eventsim":
        return args.eventsim_python
    given = getattr(args, f"{tool}_python")
    return given if given is not None else DEFAULT_PYTHON[tool]


def _runs(model, tool, args):
    """Whether ``tool`` runs ``model`` (a one-line message where it does not)."""
    if tool not in SCRIPTS[model]:
        print(f"compare_peers: {tool} skipped for {model}: no script", file=sys.stderr)
        return False
    if model == "microcircuit" and tool == "nest" and not os.path.isdir(args.pd14):
        print(f"compare_peers: nest skipped for {model}: no microcircuit-PD14-model checkout at {args.pd14} (--pd14)",
              file=sys.stderr)
        return False
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="brunel,cuba", help="comma-separated: brunel, cuba, microcircuit")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--duration", type=float, default=1000.0, help="ms of simulated time (default 1000)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each simulator, alternated (default 1)")
    ap.add_argument("--simulators", default="eventsim,nest,brian2", help="comma-separated subset")
    ap.add_argument("--eventsim-python", default=sys.executable)
    ap.add_argument("--nest-python", default=None, help=f"default {DEFAULT_PYTHON['nest']}")
    ap.add_argument("--brian2-python", default=None, help=f"default {DEFAULT_PYTHON['brian2']}")
    ap.add_argument("--out", default=None, help="append every run's JSON line to this file")
    ap.add_argument("--cold", action="store_true",
                    help=f"no untimed eventsim run of {WARM_UP_MS:g} ms first (numba's cache as it is)")
    ap.add_argument("--pd14", default=DEFAULT_PD14,
                    help=f"a checkout of microcircuit-PD14-model for NEST's microcircuit (default {DEFAULT_PD14})")
    ap.add_argument("--scale", type=float, default=0.25, help="the microcircuit's scale (default 0.25)")
    args = ap.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in SCRIPTS:
            ap.error(f"unknown model {m!r} ({', '.join(SCRIPTS)})")
    threads = [int(t) for t in args.threads.split(",") if t.strip()]
    tools = []
    for tool in (t.strip() for t in args.simulators.split(",") if t.strip()):
        if tool not in TOOLS:
            ap.error(f"unknown simulator {tool!r} (eventsim, nest, brian2)")
        py = _python_for(tool, args)
        if not (os.path.isfile(py) and os.access(py, os.X_OK)):
            print(f"compare_peers: {tool} skipped: no interpreter at {py} (--{tool}-python)", file=sys.stderr)
            continue
        tools.append((tool, py))
    if not tools:
        return 1
    options = dict(pd14=args.pd14, scale=args.scale)
    out = open(args.out, "a") if args.out else None
    records = []
    try:
        for model in models:
            model_tools = [(tool, py) for tool, py in tools if _runs(model, tool, args)]
            for n in threads:
                for tool, py in model_tools:
                    if tool == "eventsim" and not args.cold:
                        print(f"compare_peers: {model} eventsim --threads {n} warm-up ({WARM_UP_MS:g} ms, "
                              f"untimed: numba's cache) ...", file=sys.stderr, flush=True)
                        run_one(py, model, tool, WARM_UP_MS, n, options)
                for run in range(1, args.repeat + 1):
                    for tool, py in model_tools:
                        print(f"compare_peers: {model} {tool} --threads {n} run {run}/{args.repeat} ...",
                              file=sys.stderr, flush=True)
                        wall, res = run_one(py, model, tool, args.duration, n, options)
                        if res is None:
                            continue
                        rec = record(model, tool, run, wall, res)
                        records.append(rec)
                        line = json.dumps(rec)
                        print(line, flush=True)
                        if out:
                            out.write(line + "\n")
                            out.flush()
    finally:
        if out:
            out.close()
    if records:
        print()
        print(f"{args.duration:g} ms simulated; medians over runs (min-max); ratios above 1: eventsim faster")
        print(format_table(summarise(records)))
    return 0 if records else 1


if __name__ == "__main__":
    sys.exit(main())
