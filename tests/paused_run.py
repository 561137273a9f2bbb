"""Run ``eventsim`` with deterministic pause, kill and fault points (tests/test_crash_safety.py).

Nothing here depends on how fast the machine is: the output file is committed at fixed
simulated times (``Simulation(commit_every=MS)``), and every pause, self-kill or fault
is placed by counting windows or commits, never by a clock. A test then acts on a
process that is known to stand at a known point.

    python tests/paused_run.py [OPTIONS] -- ARGS...     run ``eventsim ARGS...`` (the real CLI)
    python tests/paused_run.py --plan JSON SCENARIO DIR [--commit-every MS] [--checkpoint-every MS]
        load everything once, then fork one child per plan entry, each running
        ``api.run_scenario(SCENARIO, DIR/<name>.h5)`` with that entry's points; prints one
        JSON list of outcomes. Entries: {"name", "kill_after_window": N} or
        {"name", "fault": F, "commit": K}.

OPTIONS (CLI mode; each may be repeated):
    --commit-every MS          commit every MS of simulated time
    --stop-at-commit K         SIGSTOP this process right after its K-th commit
    --stop-after-window N      SIGSTOP this process after its N-th window
    --report FILE              before each stop, append "commit|window K t" to FILE
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys

import h5py

from eventsim.engine.cpu import CpuEngine
from eventsim.engine.simulation import Simulation
from eventsim.output.sonata import SonataWriter

FAULTS = ("before_t_committed", "after_resize", "between_datasets")


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def install(*, commit_every=None, stop_at_commit=(), stop_after_window=(), kill_after_window=None,
            fault=None, fault_commit=None, report=None):
    """Patch Simulation and SonataWriter in this process (before the run starts)."""
    state = {"commit": 0, "window": 0, "sim": None}
    # pauses and kills are placed by window: every window on the cpu engine's per-window
    # path, one output append each (a plain run takes them in batches, which end at the
    # same commit times: the commits, what these tests check, are the same)
    CpuEngine.compiled_loop = False

    def note(kind, k, t):
        if report:
            with open(report, "a") as f:
                f.write(f"{kind} {k} {t!r}\n")

    if commit_every is not None:
        Simulation.__init__.__kwdefaults__["commit_every"] = float(commit_every)
    init = Simulation.__init__

    def patched_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        state["sim"] = self

        def after_commit(t):
            state["commit"] += 1
            if state["commit"] in stop_at_commit:
                note("commit", state["commit"], t)
                os.kill(os.getpid(), signal.SIGSTOP)
        self.after_commit = after_commit
    Simulation.__init__ = patched_init

    append = SonataWriter.append

    def patched_append(self, t, gid):
        append(self, t, gid)
        state["window"] += 1
        w = state["window"]
        if kill_after_window is not None and w == kill_after_window:
            _die()
        if w in stop_after_window:
            note("window", w, state["sim"].t)
            os.kill(os.getpid(), signal.SIGSTOP)
    SonataWriter.append = patched_append

    if fault is None:
        return

    commit = SonataWriter.commit
    commits = {"n": 0}

    def counting_commit(self, t):
        commits["n"] += 1
        return commit(self, t)
    SonataWriter.commit = counting_commit

    def armed():
        return commits["n"] == fault_commit

    if fault == "before_t_committed":      # spikes written and flushed, attribute not yet
        setitem = h5py.AttributeManager.__setitem__

        def hooked(self, name, value):
            if name == "t_committed" and armed():
                _die()
            return setitem(self, name, value)
        h5py.AttributeManager.__setitem__ = hooked
    elif fault == "after_resize":          # timestamps grown, new values not yet written
        resize = h5py.Dataset.resize

        def hooked(self, size, axis=None):
            resize(self, size, axis)
            if armed() and self.name.endswith("timestamps"):
                _die()
        h5py.Dataset.resize = hooked
    elif fault == "between_datasets":      # timestamps written, node_ids not yet
        setitem = h5py.Dataset.__setitem__

        def hooked(self, key, value):
            setitem(self, key, value)
            if armed() and self.name.endswith("timestamps"):
                _die()
        h5py.Dataset.__setitem__ = hooked
    else:
        raise ValueError(f"unknown fault {fault!r}")


def _plan(args):
    from eventsim import api
    plan = json.loads(args.plan)
    scenario_path, out_dir = args.rest
    scenario = api.load(scenario_path)
    # Load the compiled kernels once, on a network of its own, before forking.
    Simulation(api.build(scenario), backend=scenario.simulation["backend"], seed=scenario.seed).run(1.0)
    net = api.build(scenario)          # never simulated here: each child gets a fresh copy
    outcomes = []
    for item in plan:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                install(commit_every=args.commit_every, kill_after_window=item.get("kill_after_window"),
                        fault=item.get("fault"), fault_commit=item.get("commit"))
                api.run_scenario(scenario, os.path.join(out_dir, item["name"] + ".h5"), network=net,
                                 checkpoint_every=args.checkpoint_every)
            except BaseException:
                code = 3
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        outcomes.append(dict(name=item["name"],
                             killed=os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL,
                             exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None))
    print(json.dumps(outcomes))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--commit-every", type=float)
    p.add_argument("--stop-at-commit", type=int, action="append", default=[])
    p.add_argument("--stop-after-window", type=int, action="append", default=[])
    p.add_argument("--report")
    p.add_argument("--plan")
    p.add_argument("--checkpoint-every", type=float, help="plan mode: checkpoints every MS")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    if args.rest[:1] == ["--"]:
        args.rest = args.rest[1:]
    if args.plan is not None:
        return _plan(args)
    install(commit_every=args.commit_every, stop_at_commit=set(args.stop_at_commit),
            stop_after_window=set(args.stop_after_window), report=args.report)
    from eventsim.cli import main as cli_main
    return cli_main(args.rest)


if __name__ == "__main__":
    sys.exit(main())
