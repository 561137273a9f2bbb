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


def build(scenario, graph=None, part=None):
    """Build the Network of a validated scenario (refusing networks that would not fit in
    memory); ``part=(r, R)``: rank r's part of it on R MPI ranks."""
    from .network.build import build_network
    return build_network(scenario, graph=graph, part=part)


def default_output_path(scenario) -> Path:
    if scenario.output.get("path"):
        p = Path(scenario.output["path"])
        return p if p.is_absolute() else Path(scenario.base_dir) / p
    stem = Path(scenario.path).stem if scenario.path else "eventsim"
    return Path.cwd() / f"{stem}.h5"


def run_scenario(scenario, output=None, *, network=None, progress=False, stop_flag=None, threads=None,
                 force=False, checkpoint_every=None, from_checkpoint=None):
    """Run a validated scenario and write its output file. Returns a summary dict.

    The output must not exist (``force=True`` replaces it; the scenario file itself is
    never replaced), and no other run may be writing it: InputError otherwise, before
    anything is built or written.

    ``threads``: CPU threads of the cpu backend (default 1; the CLI passes every core);
    the output does not depend on it.

    ``checkpoint_every``: ms of simulated time between checkpoints written to
    ``OUT.h5.ckpt`` (default: the scenario's ``[output] checkpoint_every``; None: none),
    from which :func:`resume` continues a killed or stopped run exactly.

    ``from_checkpoint``: start from the state saved in this checkpoint file (of the same
    network) instead of from t = 0: a new experiment from a saved state, with this
    scenario's duration (later than the checkpoint), recording and seed (another seed
    redraws every Poisson stream after the checkpoint). The output holds spikes from the
    checkpoint's time on (root attribute ``t_start``); see docs/checkpoints.md.

    ``stop_flag``: a callable returning True when the run should stop early
    (SIGTERM/SIGINT); the file is then left as ``OUT.h5.partial`` with complete = False
    (and, with checkpoints, a checkpoint at the time it stopped).
    """
    from .engine.comm import world
    from .output.paths import OutputClaim
    t_start = time.perf_counter()
    comm = world()
    every = _checkpoint_interval(scenario, checkpoint_every)
    _check_runnable(scenario, every, comm, from_checkpoint=from_checkpoint)
    out = Path(output) if output is not None else default_output_path(scenario)
    branch = None
    if from_checkpoint is not None:
        branch = _branch_checkpoint(scenario, from_checkpoint, out)
    rec = scenario.record or {}
    if network is None and (rec.get("state") or rec.get("weights_interval") or rec.get("weight_events")):
        # refuse a recording that cannot fit (memory, disk) before anything is built
        from .network.build import check_fits
        from .network.memory import check_disk
        est = check_fits(scenario)
        check_disk(est, out.parent if out.parent.exists() else Path.cwd())
    inputs = ([scenario.path] if scenario.path else []) + ([branch.path] if branch is not None else [])
    # the output file is rank 0's: it claims it, and every rank learns whether it could
    claim = refusal = None
    if comm.rank == 0:
        try:
            claim = OutputClaim(out, force=force, inputs=inputs, checkpoint=every is not None)
        except InputError as exc:
            refusal = exc
    refusal = comm.broadcast(refusal)
    if refusal is not None:
        if claim is not None:
            claim.release()
        raise refusal
    try:
        return _run_claimed(scenario, out, claim, network, progress, stop_flag, threads, t_start, every,
                            branch=branch)
    finally:
        if claim is not None:
            claim.release()


def _branch_checkpoint(scenario, path, out):
    """The Checkpoint to start a new run from, checked against the scenario."""
    from .output.checkpoint import Checkpoint, CheckpointError
    from .output.paths import checkpoint_path, same_file
    ck = Checkpoint(path)
    if scenario.trials is not None:
        raise CheckpointError("--from-checkpoint: trial runs start from their own checkpoints only "
                              "(eventsim resume)")
    if scenario.duration <= ck.t:
        raise CheckpointError(f"--from-checkpoint: the checkpoint is at t = {ck.t:g} ms; the duration "
                              f"({scenario.duration:g} ms) must be later")
    if same_file(checkpoint_path(out), path):
        raise CheckpointError(f"--from-checkpoint: this run's own checkpoint would replace {path}; "
                              f"choose another output file")
    if ck.backend != scenario.simulation["backend"]:
        raise CheckpointError(f"--from-checkpoint: {path} was saved on the {ck.backend} backend")
    return ck


def resume(path, *, progress=False, stop_flag=None, threads=None):
    """Continue a killed or stopped run from its last checkpoint: ``path`` is its
    ``OUT.h5.partial`` (or ``OUT.h5`` or ``OUT.h5.ckpt``). The scenario, seed and every
    override come from the checkpoint; the finished file equals the one an uninterrupted
    run writes, byte for byte in every dataset, for any thread count. Returns the
    summary of :func:`run_scenario`."""
    from .output.checkpoint import Checkpoint, CheckpointError
    from .output.paths import OutputClaim, checkpoint_path
    t_start = time.perf_counter()
    out = _output_of(Path(path))
    ckpt = checkpoint_path(out)
    partial = out.with_name(out.name + ".partial")
    if not partial.exists() and not out.exists():
        raise CheckpointError(f"resume: {partial} is missing: nothing to resume")
    if not ckpt.exists():
        raise CheckpointError(f"resume: {ckpt} is missing: only runs with checkpoints "
                              f"(--checkpoint-every MS) can be resumed")
    ck = Checkpoint(ckpt)
    if ck.meta.get("complete"):
        raise CheckpointError(f"resume: the run of {ckpt} is complete ({out}); start new runs from it "
                              f"with eventsim run SCENARIO --from-checkpoint {ckpt}")
    scenario = scenario_from_meta(ck.meta["scenario"])
    every = ck.meta.get("checkpoint_every")
    from .engine.comm import world
    _check_runnable(scenario, every, world())
    claim = OutputClaim(out, resume=True)
    try:
        return _run_claimed(scenario, out, claim, None, progress, stop_flag, threads, t_start, every,
                            restore=ck)
    finally:
        claim.release()


def _output_of(path):
    for suffix in (".partial", ".ckpt"):
        if path.name.endswith(suffix):
            return path.with_name(path.name[:-len(suffix)])
    return path


def scenario_from_meta(meta):
    """The Scenario a checkpoint was saved from (its text, overrides and folder)."""
    from .scenario.load import load_scenario, parse_text
    text = meta["text"]
    scenario = load_scenario(parse_text(text), overrides=meta.get("overrides") or None,
                             base_dir=meta["base_dir"])
    scenario.text = text
    scenario.path = Path(meta["path"]) if meta.get("path") else None
    return scenario


def _checkpoint_interval(scenario, checkpoint_every):
    from .errors import check_time
    every = checkpoint_every if checkpoint_every is not None else (scenario.output or {}).get("checkpoint_every")
    if every is None:
        return None
    every = check_time(every, "checkpoint_every")
    if every <= 0:
        raise InputError(f"checkpoint_every: must be > 0 ms, got {every!r}")
    return every


def _check_runnable(scenario, every, comm=None, from_checkpoint=None):
    """Everything that can be refused, before building and before any file exists."""
    from .engine.backends import require_backend
    from .errors import BackendUnavailableError
    if comm is not None and comm.size > 1:
        rec = scenario.record or {}
        refused = [what for what, used in (
            ("checkpoints (checkpoint_every)", every is not None),
            ("--from-checkpoint", from_checkpoint is not None),
            ("trials", scenario.trials is not None),
            (f"the {scenario.simulation['backend']} backend", scenario.simulation["backend"] != "cpu"))
            if used]
        if refused:
            raise BackendUnavailableError(f"mpi: {', '.join(refused)}: not yet on several ranks ({comm.size} "
                                          f"ranks); run in one process (threads: --threads N)")
    if every is not None and scenario.simulation["backend"] != "cpu":
        raise InputError(f"checkpoint_every: checkpoints are saved on the cpu backend only (this scenario "
                         f"uses {scenario.simulation['backend']!r}); use --backend cpu")
    require_backend(scenario.simulation["backend"])


def _run_claimed(scenario, out, claim, network, progress, stop_flag, threads, t_start, every, restore=None,
                 branch=None):
    import dataclasses
    from .output.paths import checkpoint_path
    from .output.sonata import SonataWriter
    # a run started from a checkpoint (or resumed from one of its own) keeps the seed that
    # built its network and drew its streams up to its start; scenario.seed draws after it
    started = branch.meta if branch is not None else (restore.meta.get("branch") if restore is not None else None)
    from_t = branch.t if branch is not None else (started["t"] if started else None)
    seed = scenario.seed if started is None else (branch.seed if branch is not None else started["seed"])
    from .engine.comm import world
    from .engine.compiling import watch_compiles
    # kernels compiled while the network is built and the engine set up (a cold cache) are
    # announced as the run's are, and counted in compile_s rather than in build_s
    announce = _Announcement() if progress and world().rank == 0 else None
    with watch_compiles(announce and announce.started, announce and announce.ended) as setup:
        if network is None:
            comm = world()   # on several ranks, each builds only the synapses onto its own neurons
            network = build(scenario if seed == scenario.seed else
                            dataclasses.replace(scenario, simulation=dict(scenario.simulation, seed=seed)),
                            part=(comm.rank, comm.size) if comm.size > 1 else None)
        net = network
        t_built = time.perf_counter()
        build_compile_s = setup.seconds
        sim = Simulation(net, backend=scenario.simulation["backend"], seed=seed,
                         threads=threads if scenario.simulation["backend"] == "cpu" else None)
    if announce is not None:
        announce.close()
    options = dict(scenario_text=scenario.text, scenario_dir=scenario.base_dir, seed=seed,
                   backend=scenario.simulation["backend"], duration=scenario.duration,
                   record_spikes=scenario.record.get("spikes", "all"), claim=claim)
    if branch is not None:
        sim.restore(branch, branch=True)     # checks network, seed and backend
        branch.drop_state()
        if scenario.seed != branch.seed:
            sim.engine.reseed_streams(scenario.seed)
        options.update(t_start=branch.t, source=str(branch.path),
                       seed_after_start=scenario.seed if scenario.seed != branch.seed else None)
    if sim.comm.rank > 0:
        from .output.recorder import RankSink
        writer = RankSink()           # every rank sees every spike; rank 0 writes them
    elif restore is None:
        writer = SonataWriter(out, net, **options)
    else:
        restore.check_network(net, seed, scenario.simulation["backend"])   # before the file is cut
        writer = SonataWriter.reopen(out, net, n_written=restore.meta["output"]["n_written"], t=restore.t,
                                     **options)
    sim.sink = writer
    rec = scenario.record
    if rec.get("state"):
        from .output.report import record_scenario_state
        probes = rec["state"] if from_t is None else [   # a branch's probes start at its beginning
            dict(pr, start=max(float(pr.get("start", 0.0) or 0.0), from_t)) for pr in rec["state"]]
        record_scenario_state(sim, writer, probes,
                              frames=None if restore is None else restore.meta["output"]["report"])
    if rec.get("weight_events"):
        sim.record_weight_events(rec["weight_events"])
    ckpt = checkpoint_path(out)

    def meta(complete=False):
        return dict(scenario=dict(text=scenario.text, overrides=scenario.overrides,
                                  base_dir=str(Path(scenario.base_dir).resolve()),     # resume from anywhere
                                  path=str(Path(scenario.path).resolve()) if scenario.path else None),
                    branch=started if branch is None else dict(source=str(branch.path), t=branch.t,
                                                               seed=branch.seed, seed_after=scenario.seed),
                    output=dict(name=out.name, n_written=writer.n_written, t_committed=writer.t_committed,
                                report={pop: sm.sink.n_written for pop, sm in sim.samplers.items()}),
                    checkpoint_every=every, complete=complete)
    runner = None
    if scenario.trials is not None:   # trial-based learning (eventsim/trials, docs/trials.md)
        from .trials import TrialRunner   # before a restore: the rules keep the built weights
        runner = TrialRunner(sim, scenario.trials, scenario.plasticity, scenario.seed)
    if every is not None:
        sim.checkpoint_path, sim.checkpoint_meta = ckpt, meta
        if runner is None:          # a trial run checkpoints between presentations instead
            sim.checkpoint_every = every
    trial_resume = None
    if restore is not None:
        sim.restore(restore)
        if runner is not None:
            trial_resume = (restore.meta["trials"], restore.extra)
        restore.drop_state()
    bar = (_ProgressBar(scenario.duration, sim.t, announced=announce is not None and announce.done)
           if progress and sim.comm.rank == 0 else None)
    if stop_flag is not None:
        sim.should_stop = stop_flag
    w_samples = {}
    extras_trials = []
    history = None
    try:
        if runner is not None:
            from .trials import write_learning
            history = runner.run(bar, checkpoint=None if every is None else _trial_checkpoints(sim, every),
                                 resume=trial_resume)
            extras_trials = [write_learning(history, runner)] if history is not None else []
        elif rec.get("weights_interval"):
            from .output.weights import run_sampling_weights
            w_samples = run_sampling_weights(sim, scenario.duration, rec.get("weights", []),
                                             rec["weights_interval"], progress=bar)
        else:
            sim.run(scenario.duration, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    complete = sim.t >= scenario.duration and (runner is None or history is not None)
    if every is not None and runner is None:
        # the state where it ended: continue a stopped run, branch from a finished one
        # (a trial run keeps its last checkpoint between presentations instead)
        sim.save_checkpoint(ckpt, meta=meta(complete=complete))
    counters = sim.counters()
    if complete:
        from .output.weights import weight_writers
        weights = [w for w in scenario.record.get("weights", [])]
        # (on ranks every rank hands its synapses' weights to rank 0)
        tables = {name: sim.projection_weights(name) for name in weights}
        writer.finish(counters, weights, extras=weight_writers(sim, w_samples, rec.get("weight_events", [])) + extras_trials,
                      weight_tables=tables)
    summary = summarize(net, sim, counters, out if complete else writer.partial, complete,
                        build_s=t_built - t_start - build_compile_s, wall_s=time.perf_counter() - t_start,
                        setup_compile_s=setup.seconds)
    summary["checkpoint"] = str(ckpt) if every is not None else None
    return summary


ANNOUNCEMENT = ("eventsim: compiling numba kernels (first run only: they are cached on disk "
                "afterwards; shown apart from simulation in the summary)")


class _Announcement:
    """Before the progress bar exists (building, engine set-up): a compilation still
    running after a second is announced on stderr, once (``done``)."""

    def __init__(self):
        self.done = False
        self._timer = None

    def _say(self):
        import sys
        if not self.done:
            print(ANNOUNCEMENT, file=sys.stderr, flush=True)
            self.done = True

    def started(self):
        import threading
        self._timer = threading.Timer(1.0, self._say)
        self._timer.daemon = True
        self._timer.start()

    def ended(self, seconds):
        if self._timer is not None:
            self._timer.cancel()

    def close(self):
        self.ended(0.0)


class _ProgressBar:
    """The run's tqdm bar (stderr), told when numba compiles: compilation is announced on
    a line of its own (unless ``announced`` already), named in the bar, and left out of
    its rate and time estimate."""

    def __init__(self, total, initial, announced=False):
        import sys
        from tqdm import tqdm
        self.bar = tqdm(total=total, initial=initial, unit="ms", delay=1.0, desc="simulating",
                        mininterval=0.2 if sys.stderr.isatty() else 5.0,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} ms "
                                   "[{elapsed}<{remaining}]")
        self._announced = announced
        self._t0 = None
        self._timer = None

    def update(self, ms):
        self.bar.update(ms)

    def _announce(self):
        # only for compilations that take a while: every process compiles a few small
        # helpers (numba's typed lists) in well under a second
        if not self._announced:
            import sys
            self.bar.write(ANNOUNCEMENT, file=sys.stderr)
            self._announced = True
        self.bar.set_description_str("compiling kernels")

    def compiling(self, started):
        import threading
        if started:
            self._t0 = time.perf_counter()
            self._timer = threading.Timer(1.0, self._announce)
            self._timer.daemon = True
            self._timer.start()
        elif self._t0 is not None:
            self._timer.cancel()
            self.bar.start_t += time.perf_counter() - self._t0   # the estimate counts simulation only
            self._t0 = None
            self.bar.set_description_str("simulating", refresh=False)

    def close(self):
        if self._timer is not None:
            self._timer.cancel()
        self.bar.close()


def _trial_checkpoints(sim, every):
    """The trial loop's checkpoint callable: between presentations, once simulated time
    has passed the next multiple of ``every`` (or at the next presentation, if the output
    file could not be written just then)."""
    import numpy as np
    last = [np.floor(sim.t / every)]

    def checkpoint(state, arrays):
        k = np.floor(sim.t / every)
        if k > last[0] and sim._checkpoint_now(meta=dict(trials=state), weights=True, arrays=arrays):
            last[0] = k
    return checkpoint


def summarize(net, sim, counters, path, complete, build_s, wall_s, setup_compile_s=0.0):
    """The run's summary dict (what ``eventsim run`` prints, and ``--json``): ``compile_s``
    is numba's compiling during ``sim.run`` plus ``setup_compile_s`` (while the network was
    built and the engine set up), ``simulate_s`` and events/s count simulation only."""
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
                build_s=build_s, compile_s=sim.compile_s + setup_compile_s, simulate_s=sim.wall_s, wall_s=wall_s,
                threads=getattr(sim.engine, "threads", 1), ranks=sim.comm.size,
                events_per_s=syn / sim.wall_s if sim.wall_s > 0 else 0.0,
                neurons=net.n_neurons, synapses=net.total_synapses)
