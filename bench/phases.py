"""Where a run's time goes, step by step of the window loop: one JSON line.

    python bench/phases.py [--scenario PATH] [--duration MS] [--warmup MS] [--threads N]
                           [--set KEY=VALUE ...]

Builds the scenario (default scenarios/brunel2000_ai.toml), runs --warmup ms first (default
20: numba's compilation, from the disk cache or not, falls there), then --duration ms (default
300) with each step of the cpu engine's window loop timed (eventsim.engine.window_loop:
gather, advance, exchange, consume, deliver, record_post; with populations of one model,
advance holds the gather's partition too, as the engine runs both in one launch). The
steps are timed on the engine's per-window path (``CpuEngine.compiled_loop = False``): a
plain run takes its windows in batches, in compiled code, with no Python in between, so
its loop is shorter than total_s by about other_s. --set overrides scenario keys (e.g.
network.scale=0.25).

Figures: total_s (the timed run), one <step>_s per step, other_s (total less the steps:
the loop's own Python, counters, output), windows, and per_window_us (total per window).
Run alternately with another version, on an otherwise idle machine, to compare two
versions of the engine: the machine's speed drifts between runs.
"""
import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("gather", "advance", "exchange", "consume", "deliver", "record_post")


def timed_steps(cls, acc):
    """Wrap the engine class's step methods so that each adds its wall time to acc."""
    for name in STEPS:
        f = getattr(cls, name)

        def g(self, *a, _f=f, _name=name, **k):
            t0 = time.perf_counter()
            try:
                return _f(self, *a, **k)
            finally:
                acc[_name] += time.perf_counter() - t0
        setattr(cls, name, g)


def value(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def overrides(ap, items):
    """The --set KEY=VALUE items as scenario overrides (values read as int, float or text);
    an item without '=' is the parser's error."""
    over = {}
    for item in items:
        key, sep, val = item.partition("=")
        if not sep:
            ap.error(f"--set {item!r}: expected KEY=VALUE")
        over[key] = value(val)
    return over


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "brunel2000_ai.toml"))
    ap.add_argument("--duration", type=float, default=300.0, help="ms timed (default 300)")
    ap.add_argument("--warmup", type=float, default=20.0, help="ms run first, not timed (default 20)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="scenario override")
    args = ap.parse_args()
    from eventsim.engine import cpu
    from eventsim.engine.simulation import Simulation
    from eventsim.network.build import build_network
    from eventsim.scenario import load_scenario

    over = overrides(ap, args.set)
    end = args.warmup + args.duration
    scenario = load_scenario(args.scenario, overrides={"simulation.duration": end, **over})
    net = build_network(scenario)
    acc = defaultdict(float)
    timed_steps(cpu.CpuEngine, acc)
    sim = Simulation(net, backend="cpu", seed=scenario.seed, threads=args.threads)
    # the steps are timed on the per-window path (CpuEngine.compiled_loop: the same
    # kernels, with Python between windows), so they add up to more than a run's loop
    sim.engine.compiled_loop = False
    sim.run(args.warmup)
    acc.clear()
    windows = [0]
    step = sim.engine.step_window

    def counted(*a, **k):
        windows[0] += 1
        return step(*a, **k)
    sim.engine.step_window = counted
    t0 = time.perf_counter()
    sim.run(end)
    total = time.perf_counter() - t0
    out = {"scenario": Path(args.scenario).stem, "overrides": over, "threads": args.threads,
           "warmup_ms": args.warmup, "duration_ms": args.duration, "total_s": round(total, 4)}
    out.update({f"{s}_s": round(acc[s], 4) for s in STEPS})
    out["other_s"] = round(total - sum(acc[s] for s in STEPS), 4)
    out["windows"] = windows[0]
    out["per_window_us"] = round(1e6 * total / max(windows[0], 1), 2)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
