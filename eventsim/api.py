"""The Python API that the command line itself uses."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .engine.simulation import Simulation
from .errors import InputError


def load(source, **overrides):
    """Load and validate a scenario (path, TOML/JSON file, or dict). Overrides: seed,
    duration, backend ([simulation]) and scale ([network] scale)."""
    from .scenario import load_scenario
    ov = {(f"network.{k}" if k == "scale" else f"simulation.{k}"): v
          for k, v in overrides.items() if v is not None}
    return load_scenario(source, overrides=ov or None)


def build(scenario, graph=None):
    """Build the Network of a validated scenario (refusing networks that would not fit in memory)."""
    from .network.build import build_network
    return build_network(scenario, graph=graph)


def default_output_path(scenario) -> Path:
    if scenario.output.get("path"):
        p = Path(scenario.output["path"])
        return p if p.is_absolute() else Path(scenario.base_dir) / p
    stem = Path(scenario.path).stem if scenario.path else "eventsim"
    return Path.cwd() / f"{stem}.h5"


def run_scenario(scenario, output=None, *, network=None, progress=False, stop_flag=None, threads=None,
                 force=False):
    """Run a validated scenario and write its output file. Returns a summary dict.

    The output must not exist (``force=True`` replaces it; the scenario file itself is
    never replaced), and no other run may be writing it: InputError otherwise, before
    anything is built or written.

    ``threads``: CPU threads of the cpu backend (default 1; the CLI passes every core);
    the output does not depend on it.

    ``stop_flag``: a callable returning True when the run should stop early
    (SIGTERM/SIGINT); the file is then left as ``OUT.h5.partial`` with complete = False.
    """
    from .engine.backends import require_backend
    from .output.paths import OutputClaim
    t_start = time.perf_counter()
    # everything that can be refused is checked before building and before any file exists
    require_backend(scenario.simulation["backend"])
    if scenario.record.get("state") and scenario.simulation["backend"] != "cpu":
        raise InputError(f"record.state: state recording runs on the cpu backend only "
                         f"(this scenario uses {scenario.simulation['backend']!r}); use --backend cpu")
    out = Path(output) if output is not None else default_output_path(scenario)
    claim = OutputClaim(out, force=force, inputs=[scenario.path] if scenario.path else [])
    try:
        return _run_claimed(scenario, out, claim, network, progress, stop_flag, threads, t_start)
    finally:
        claim.release()


def _run_claimed(scenario, out, claim, network, progress, stop_flag, threads, t_start):
    net = network if network is not None else build(scenario)
    t_built = time.perf_counter()
    sim = Simulation(net, backend=scenario.simulation["backend"], seed=scenario.seed,
                     threads=threads if scenario.simulation["backend"] == "cpu" else None)
    from .output.sonata import SonataWriter
    writer = SonataWriter(out, net, scenario_text=scenario.text, scenario_dir=scenario.base_dir,
                          seed=scenario.seed, backend=scenario.simulation["backend"],
                          duration=scenario.duration, record_spikes=scenario.record.get("spikes", "all"),
                          claim=claim)
    sim.sink = writer
    if scenario.record.get("state"):
        from .output.report import record_scenario_state
        record_scenario_state(sim, writer, scenario.record["state"])
    bar = None
    if progress:
        from tqdm import tqdm
        import sys
        bar = tqdm(total=scenario.duration, unit="ms", delay=1.0, desc="simulating",
                   mininterval=0.2 if sys.stderr.isatty() else 5.0,
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} ms "
                              "[{elapsed}<{remaining}]")
    if stop_flag is not None:
        sim.should_stop = stop_flag
    rec = scenario.record
    if rec.get("weight_events"):
        sim.record_weight_events(rec["weight_events"])
    w_samples = {}
    extras_trials = []
    try:
        if scenario.trials is not None:   # trial-based learning (eventsim/trials, docs/trials.md)
            from .trials import run_trials, write_learning
            history, runner = run_trials(sim, scenario, progress=bar)
            extras_trials = [write_learning(history, runner)]
        elif rec.get("weights_interval"):
            from .output.weights import run_sampling_weights
            w_samples = run_sampling_weights(sim, scenario.duration, rec.get("weights", []),
                                             rec["weights_interval"], progress=bar)
        else:
            sim.run(scenario.duration, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    complete = sim.t >= scenario.duration
    counters = sim.counters()
    if complete:
        from .output.weights import weight_writers
        weights = [w for w in scenario.record.get("weights", [])]
        writer.finish(counters, weights, extras=weight_writers(sim, w_samples, rec.get("weight_events", [])) + extras_trials,
                      weight_values=sim.weights() if weights else None)
    return summarize(net, sim, counters, out if complete else writer.partial, complete,
                     build_s=t_built - t_start, wall_s=time.perf_counter() - t_start)


def summarize(net, sim, counters, path, complete, build_s, wall_s):
    pops = {}
    for p in net.populations:
        if p.hidden:
            continue
        c = counters["populations"][p.name]
        n = int(np.sum(c["spike_count"]))
        pops[p.name] = dict(spikes=n, rate_hz=n / p.size / (sim.t / 1000.0) if sim.t > 0 else 0.0)
    syn = int(sum(int(d["synaptic_events"]) for d in counters["projections"].values()))
    return dict(path=str(path), complete=complete, t=sim.t, populations=pops,
                spikes=sum(d["spikes"] for d in pops.values()), synaptic_events=syn,
                build_s=build_s, simulate_s=sim.wall_s, wall_s=wall_s,
                threads=getattr(sim.engine, "threads", 1),
                events_per_s=syn / sim.wall_s if sim.wall_s > 0 else 0.0,
                neurons=net.n_neurons, synapses=net.n_synapses)
