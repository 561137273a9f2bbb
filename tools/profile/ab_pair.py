"""Two checkouts of eventsim timed side by side: at once, one on each core, so that both
see the same moment of a noisy machine.

On a shared host the same run takes 10-50 % longer from one minute to the next, so that
runs one after another (A, B, A, B, ...) tell a change of a few per cent only after
many rounds. Here each round runs A and B at the same time, each pinned to a core of
its own (swapped every round), each building the microcircuit, running a transient,
then waiting at a file barrier so that both time the same stretch of wall-clock time.
On this project's 2-core machine (2026-12-07) two runs of one checkout differed by
0.2-4 % in a round (scale 0.25, 200 ms), where runs one after another differed by up to
12 %. The two runs share the last-level cache and memory, and cores can differ: compare
the ratios of rounds, not single runs.

    git worktree add /tmp/base main~1
    python tools/profile/ab_pair.py --a /tmp/base --b . --rounds 6 --scale 0.25

Each checkout is imported from its own folders (``eventsim/`` and ``models/``, as the
package maps them), whatever eventsim is installed, and compiles into its own numba
cache: a first round compiles (run one small round first, ``--scale 0.03``, before
timing). Prints one line per round and the median ratio B / A of CPU seconds; with
``--out``, appends JSON lines (bench/ results' format: one object per round).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


class _CheckoutFinder:
    """Import ``eventsim`` from root/eventsim and ``eventsim.models`` from root/models (the
    package's layout in pyproject.toml), ahead of any installed or editable eventsim."""

    def __init__(self, root: Path):
        self.dirs = {"eventsim": root / "eventsim", "eventsim.models": root / "models"}

    def find_spec(self, fullname, path=None, target=None):
        d = self.dirs.get(fullname)
        if d is None:
            return None
        return importlib.util.spec_from_file_location(fullname, d / "__init__.py",
                                                      submodule_search_locations=[str(d)])


def child(args) -> None:
    """One run in one checkout: build, transient, barrier, the timed part; prints a JSON line."""
    root = Path(args.checkout).resolve()
    sys.meta_path.insert(0, _CheckoutFinder(root))
    import eventsim
    from eventsim.engine.simulation import Simulation
    from eventsim.network.build import build_network
    from eventsim.scenario import load_scenario
    assert Path(eventsim.__file__).resolve().parent == root / "eventsim", eventsim.__file__
    sc = load_scenario(root / "scenarios" / "potjans2014_microcircuit.toml", overrides={
        "simulation.duration": args.transient + args.t_sim, "network.scale": args.scale,
        "network.indegree_scale": args.indegree_scale})
    sim = Simulation(build_network(sc), backend="cpu", seed=sc.seed, threads=args.threads)
    sim.run(args.transient)
    barrier = Path(args.barrier)
    (barrier / args.tag).touch()
    while len(os.listdir(barrier)) < 2:
        time.sleep(0.005)
    t0, c0 = time.perf_counter(), time.process_time()
    sim.run(args.transient + args.t_sim)
    print(json.dumps({"tag": args.tag, "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", help="the checkout to compare against (a folder holding eventsim/ and models/)")
    ap.add_argument("--b", help="the checkout compared")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--scale", type=float, default=0.25, help="the microcircuit's network.scale")
    ap.add_argument("--indegree-scale", type=float, default=1.0, help="network.indegree_scale (1: full in-degrees)")
    ap.add_argument("--transient", type=float, default=100.0, help="ms run before timing")
    ap.add_argument("--t-sim", type=float, default=200.0, help="ms timed")
    ap.add_argument("--threads", type=int, default=1, help="threads per run (cores: pinned only with 1)")
    ap.add_argument("--out", help="append a JSON line per round here")
    ap.add_argument("--child", nargs=3, metavar=("CHECKOUT", "TAG", "BARRIER"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        args.checkout, args.tag, args.barrier = args.child
        child(args)
        return 0
    if not (args.a and args.b):
        ap.error("--a and --b are required")
    for d in (args.a, args.b):
        if not (Path(d) / "eventsim" / "__init__.py").is_file() or not (Path(d) / "models").is_dir():
            print(f"ab_pair: {d}: not a checkout of eventsim (no eventsim/__init__.py and models/)", file=sys.stderr)
            return 2
    cores = sorted(os.sched_getaffinity(0))
    pin = args.threads == 1 and len(cores) >= 2
    common = ["--scale", str(args.scale), "--indegree-scale", str(args.indegree_scale),
              "--transient", str(args.transient), "--t-sim", str(args.t_sim), "--threads", str(args.threads)]
    ratios = []
    for k in range(args.rounds):
        with tempfile.TemporaryDirectory() as barrier, tempfile.TemporaryDirectory() as logs:
            procs, core, files = {}, {}, {}
            for j, (tag, d) in enumerate((("A", args.a), ("B", args.b))):
                cmd = [sys.executable, __file__, *common, "--child", str(Path(d).resolve()), tag, barrier]
                core[tag] = cores[(j + k) % 2] if pin else None
                if pin:
                    cmd = ["taskset", "-c", str(core[tag]), *cmd]
                # (output to files, read once both are done: the two are waited on together)
                files[tag] = (open(Path(logs) / f"{tag}.out", "w+"), open(Path(logs) / f"{tag}.err", "w+"))
                procs[tag] = subprocess.Popen(cmd, stdout=files[tag][0], stderr=files[tag][1], text=True)
            # a run that fails before the barrier would leave the other waiting there for
            # ever: the first failure stops both
            failed = None
            while failed is None and any(p.poll() is None for p in procs.values()):
                failed = next((tag for tag, p in procs.items() if p.poll() not in (None, 0)), None)
                time.sleep(0.05)
            failed = failed or next((tag for tag, p in procs.items() if p.returncode != 0), None)
            res = {}
            for tag, (out, err) in files.items():
                out.seek(0)
                err.seek(0)
                res[tag] = (out.read(), err.read())
                out.close()
                err.close()
            if failed is not None:
                for p in procs.values():
                    if p.poll() is None:
                        p.kill()
                        p.wait()
                print(f"ab_pair: run {failed} of round {k + 1} failed:\n{res[failed][1][-2000:]}", file=sys.stderr)
                return 1
            res = {tag: json.loads(out.strip().splitlines()[-1]) for tag, (out, _err) in res.items()}
        ratio = res["B"]["cpu_s"] / res["A"]["cpu_s"]
        ratios.append(ratio)
        print(f"round {k + 1}: A {res['A']['cpu_s']:.3f} s (core {core['A']}), "
              f"B {res['B']['cpu_s']:.3f} s (core {core['B']}), B / A {ratio:.3f}", flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps({"bench": "ab_pair", "round": k + 1, "a": str(args.a), "b": str(args.b),
                                    "scale": args.scale, "indegree_scale": args.indegree_scale,
                                    "t_sim_ms": args.t_sim, "threads": args.threads,
                                    "a_cpu_s": res["A"]["cpu_s"], "b_cpu_s": res["B"]["cpu_s"],
                                    "a_wall_s": res["A"]["wall_s"], "b_wall_s": res["B"]["wall_s"],
                                    "ratio_b_over_a": ratio}) + "\n")
    print(f"median B / A {statistics.median(ratios):.3f} over {len(ratios)} rounds "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
