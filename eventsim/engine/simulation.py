"""The public Simulation object: a network, a backend, a seed; run(until) continues exactly."""
from __future__ import annotations

import time

import numpy as np

from .backends import make_engine
from .compiling import watch_compiles
from eventsim.output.recorder import SpikeRecorder


class Simulation:
    """Simulate a :class:`~eventsim.network.core.Network` exactly.

    Parameters
    ----------
    network : Network
        What is simulated (from :func:`eventsim.build_network`).
    backend : str
        Where it runs: a name from the backend registry ("cpu"; "cuda").
    seed : int
        Seed of the Poisson streams (the network's own draws used its seed).
    sink : object, optional
        Receives spikes: ``append(t, gid)`` per window, ``commit(t)`` at checkpoints.
        Default: an in-memory :class:`SpikeRecorder` (``sim.spikes(pop)``).
    threads : int, optional
        CPU threads of the cpu backend (default 1; ``eventsim run`` uses every core).
        The output does not depend on it. With more than one, numba's OpenMP pool
        starts and the process must not fork afterwards (use multiprocessing's "spawn").
    commit_s : float
        Wall-clock seconds between commits of the sink (the output file's ``t_committed``
        advances at each), when ``commit_every`` is not given.
    commit_every : float, optional
        Commit instead whenever simulated time passes a multiple of this many ms (at the
        end of the window that passes it): commits then fall at the same simulated times
        on any machine, which the crash-safety tests rely on.
    comm : optional
        The ranks this simulation runs on (eventsim.engine.comm). Default: this
        process's, i.e. MPI_COMM_WORLD when started by ``mpiexec -n R`` (R > 1), else
        one process. Every rank sees every spike (``sim.spikes``); counters are summed
        over the ranks. The output does not depend on the number of ranks.
    """

    def __init__(self, network, *, backend="cpu", seed=None, sink=None, commit_s=1.0,
                 commit_every=None, threads=None, comm=None):
        from eventsim.errors import ArgumentError, check_positive_int
        self.network = network
        self.backend = backend
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ArgumentError(f"seed: must be a whole number, got {seed!r}")
        self.seed = int(network.seed if seed is None else seed)
        if threads is not None:
            threads = check_positive_int(threads, "threads")
        from .comm import world
        self.comm = world() if comm is None else comm
        options = {} if threads is None else {"threads": threads}
        if self.comm.size > 1:
            options["comm"] = self.comm
        self.engine = make_engine(backend, network, self.seed, **options)
        self.sink = sink if sink is not None else SpikeRecorder(network)
        if not (isinstance(commit_s, (int, float)) and commit_s > 0):
            raise ArgumentError(f"commit_s: must be > 0 s, got {commit_s!r}")
        if commit_every is not None and not (isinstance(commit_every, (int, float))
                                             and np.isfinite(commit_every) and commit_every > 0):
            raise ArgumentError(f"commit_every: must be a finite number > 0 ms, got {commit_every!r}")
        self.commit_s = float(commit_s)
        self.commit_every = None if commit_every is None else float(commit_every)
        self.wall_s = 0.0                  # simulating, compilation excluded
        self.compile_s = 0.0               # numba compiling kernels during run() (first runs)
        self.should_stop = lambda: False   # e.g. set by the CLI's signal handler
        # called with t after every commit of the sink (to watch a run, or to pause it at
        # a known point in tests: tests/paused_run.py)
        self.after_commit = None
        # checkpoints during run(): every checkpoint_every ms of simulated time into
        # checkpoint_path, with checkpoint_meta() (a dict) stored beside the state
        self.checkpoint_every = None
        self.checkpoint_path = None
        self.checkpoint_meta = dict
        self.weight_samples = {}           # projection -> ([times], [weights]) (output.weights)
        self._structure = None             # the network's structure fingerprint, once computed
        self.samplers = {}                 # population -> eventsim.output.report.StateSampler

    @property
    def t(self) -> float:
        """Simulated time reached (ms)."""
        return self.engine.t

    def run(self, until, progress=None):
        """Simulate up to time ``until`` (ms); call again with a later time to continue.

        ``progress``: an object with ``update(ms)`` (e.g. a tqdm bar), or None; if it
        also has ``compiling(started)`` it is told when numba starts (True) and ends
        (False) compiling kernels. Returns the number of spikes emitted in this call.

        Time spent compiling (first runs) goes to ``compile_s``, the rest to ``wall_s``.
        """
        from eventsim.errors import check_time
        until = check_time(until, "until", at_least=self.engine.t)
        tell = getattr(progress, "compiling", None)
        started = (lambda: tell(True)) if tell else None
        ended = (lambda seconds: tell(False)) if tell else None
        with watch_compiles(started, ended) as w:
            t_wall = time.perf_counter()
            n = self._run(until, progress)
            elapsed = time.perf_counter() - t_wall
        self.compile_s += w.seconds
        self.wall_s += elapsed - w.seconds
        return n

    def _run(self, until, progress):
        eng = self.engine
        # (crossing checks are scheduled whatever this run's end: a neuron without input,
        # driven by its own current, must be looked at again when the run is continued;
        # regression: run(10); run(100) lost every spike of such a neuron after 10 ms)
        n = 0
        last_commit = time.perf_counter()
        every = self.commit_every
        last_k = np.floor(eng.t / every) if every is not None else 0.0
        ck_every = self.checkpoint_every if self.checkpoint_path is not None else None
        last_ck = np.floor(eng.t / ck_every) if ck_every is not None else 0.0
        # on several ranks every rank must stop, and commit (state probes gather their
        # samples then), after the same windows: what one rank asks goes to every rank
        # with the window's spikes (engine.flags_agreed)
        from .comm import COMMIT, STOP
        ranks = self.comm.size > 1

        def wants_commit():
            # this process's reasons: the wall-clock interval (without commit_every), or a
            # full state probe, whatever the interval (the memory estimate counts on it)
            return (every is None and time.perf_counter() - last_commit >= self.commit_s) or bool(
                self.samplers and self._probes_full())
        eng.flags_agreed = 0
        while eng.t < until and not (eng.flags_agreed & STOP if ranks else self.should_stop()):
            t_before = eng.t
            if ranks:
                eng.flags_asked = (STOP if self.should_stop() else 0) | (COMMIT if wants_commit() else 0)
            stops = [(e, last) for e, last in ((every, last_k), (ck_every, last_ck)) if e is not None]
            st, si = eng.step_windows(until, stops)
            n += st.size
            self.sink.append(st, si)
            if progress is not None:
                progress.update(eng.t - t_before)
            due = False
            if every is not None:
                k = np.floor(eng.t / every)
                due, last_k = k > last_k, max(k, last_k)
            # on ranks, any rank's wish (sent before the window) is every rank's
            if due or (bool(eng.flags_agreed & COMMIT) if ranks else wants_commit()):
                self._commit(eng.t)
                last_commit = time.perf_counter()
            if ck_every is not None and np.floor(eng.t / ck_every) > last_ck:
                if self._checkpoint_now():
                    last_ck = np.floor(eng.t / ck_every)
        self._commit(eng.t)
        return n

    def spikes(self, population):
        """(times ms, population-local ids) of the recorded spikes of ``population``.
        UnknownNameError (a KeyError) for a population that does not exist or is not
        recorded."""
        pops = [p.name for p in self.network.populations if not p.hidden]
        if population not in pops:
            from eventsim.errors import unknown_name
            raise unknown_name("population", population, pops)
        return self.sink.spikes(population)

    def _checkpoint_now(self, meta=None, **options):
        """Commit, then save a checkpoint at the current time into checkpoint_path, with
        checkpoint_meta() updated by ``meta`` (``options``: those of save_checkpoint);
        False (try again later) if the sink could not commit just now."""
        t = self.engine.t
        self._commit(t)
        committed = getattr(self.sink, "t_committed", None)   # None: a sink without a file
        if committed is not None and committed != t:
            return False
        self.save_checkpoint(self.checkpoint_path, meta=dict(self.checkpoint_meta(), **(meta or {})), **options)
        return True

    # ---- checkpoints (eventsim/output/checkpoint.py, docs/checkpoints.md) ----
    def save_checkpoint(self, path, *, meta=None, weights=None, arrays=None):
        """Save the whole state at the current time into ``path`` (atomically), so that
        :meth:`restore` on a new Simulation of the same network and seed continues
        exactly as this one would. ``weights``: store every synapse's weight (default:
        when some synapse is plastic); otherwise a fingerprint of them is stored and must
        match at restore. ``meta``: a JSON-able dict stored beside the state; ``arrays``:
        named numpy arrays stored beside it (``Checkpoint.extra``). Spikes and samples are
        not stored: they belong to the sink (commit before saving)."""
        from eventsim.errors import BackendUnavailableError
        from eventsim.output import checkpoint as C
        eng = self.engine
        self._refuse_ranks("checkpoints")
        if not hasattr(eng, "get_state"):
            raise BackendUnavailableError(f"checkpoints: the {self.backend} backend cannot save checkpoints "
                                          f"yet; use --backend cpu")
        stdp = getattr(eng, "stdp", None)
        if weights is None:
            weights = stdp is not None and stdp.active
        if self._structure is None:
            self._structure = C.structure_fingerprint(self.network)
        samplers = {pop: dict(rec_next=sm.rec_next, row0=np.int64(sm.row0), node_ids=sm.node_ids,
                              interval=sm.interval, start=sm.start,
                              variables=np.array(sm.variables, dtype="S"))
                    for pop, sm in self.samplers.items()}
        C.write(path, t=eng.t, backend=self.backend, seed=self.seed, structure=self._structure,
                engine=eng.get_state(), stdp=stdp.get_state() if stdp is not None else {},
                samplers=samplers, weights=self.network.weight if weights else None,
                weights_hash="" if weights else C.weights_fingerprint(self.network.weight),
                weight_samples=self.weight_samples, meta=meta or {}, extra=arrays or {})

    def restore(self, checkpoint, *, branch=False):
        """Continue from a checkpoint (a path or an ``eventsim.output.checkpoint.Checkpoint``):
        this Simulation must be new (nothing run yet), of the same network, seed and
        backend, with the same state probes attached. Returns the Checkpoint (its
        ``meta`` holds what the saver stored).

        ``branch``: start a new experiment from the saved state instead of continuing the
        saved run: its probes, weight samples and weight log are not carried over (attach
        new probes after restoring; they may start no earlier than the checkpoint)."""
        from eventsim.output import checkpoint as C
        self._refuse_ranks("checkpoints")
        ck = checkpoint if isinstance(checkpoint, C.Checkpoint) else C.Checkpoint(checkpoint)
        if self.engine.t != 0.0:
            raise C.CheckpointError(f"checkpoint: restore into a new Simulation (this one is at "
                                    f"t = {self.engine.t} ms)")
        ck.check_network(self.network, self.seed, self.backend)
        if branch:
            if self.samplers:
                raise C.CheckpointError("checkpoint: attach the probes of a branch after restoring")
            self._restore_state(ck)
            stdp = getattr(self.engine, "stdp", None)
            if stdp is not None and stdp.active:
                stdp.n_log = 0
            self.weight_samples = {}
            return ck
        if set(ck.samplers) != set(self.samplers):
            raise C.CheckpointError(f"checkpoint: {ck.path} has state probes on "
                                    f"{sorted(ck.samplers) or 'no population'}, this simulation on "
                                    f"{sorted(self.samplers) or 'no population'}")
        for pop, d in ck.samplers.items():
            sm = self.samplers[pop]
            same = (np.array_equal(d["node_ids"], sm.node_ids) and float(d["interval"]) == sm.interval
                    and float(d["start"]) == sm.start
                    and [v.decode() for v in d["variables"]] == list(sm.variables))
            if not same:
                raise C.CheckpointError(f"checkpoint: the state probe of {pop!r} differs from the one "
                                        f"{ck.path} was saved with (ids, variables, interval or start)")
        self._restore_state(ck)
        for pop, d in ck.samplers.items():
            sm = self.samplers[pop]
            sm.rec_next[:] = d["rec_next"]
            sm.row0 = int(d["row0"])
        self.weight_samples = {name: (list(times), list(rows)) for name, (times, rows) in ck.weight_samples.items()}
        return ck

    def _restore_state(self, ck):
        eng = self.engine
        eng.set_state(ck.engine)
        stdp = getattr(eng, "stdp", None)
        if stdp is not None:
            stdp.set_state(ck.stdp)
        if ck.weights is not None:
            self.network.weight[:] = ck.weights

    def _probes_full(self):
        """A state probe holds more frames than the memory estimate allows for
        (eventsim.network.memory._recording_bytes): commit now."""
        from eventsim.output.report import PROBE_BUFFER_VALUES
        return any(s.held_values() > PROBE_BUFFER_VALUES for s in self.samplers.values())

    def _refuse_ranks(self, what):
        """BackendUnavailableError for a feature that does not run on several ranks yet."""
        if self.comm.size > 1:
            from eventsim.errors import BackendUnavailableError
            raise BackendUnavailableError(f"mpi: {what} do not run on several ranks yet ({self.comm.size} "
                                          "ranks); run in one process (threads: --threads N)")

    def _commit(self, t):
        for sampler in self.samplers.values():   # state frames first: t_committed covers them
            sampler.collect()
        self.sink.commit(t)
        if self.after_commit is not None:
            self.after_commit(t)

    # ---- state probes (eventsim.output.report) ----
    def record_state(self, population, variables=("v",), ids="all", interval=0.1, *, start=None,
                     stop=None, sink=None, path="record_state"):
        """Sample ``variables`` of neurons ``ids`` ("all" or population-local ids) of
        ``population`` at start + k interval (ms; start defaults to now), before ``stop``
        (default: no end), exactly from the event-driven state, without changing the
        simulation. A sample at an input instant includes those inputs (right-continuous
        state). Variables per model: ``eventsim.output.report.recordable_variables``.
        InputError for bad settings (messages start with ``path``)."""
        from eventsim.output.report import StateSampler
        self.samplers[population] = StateSampler(self.engine, population, variables, ids, interval,
                                                 start=start, stop=stop, sink=sink, path=path)

    def state_samples(self, population):
        """The samples of ``population`` so far (before the current time): a StateSamples
        (times, node_ids, values {variable: array (n_times, n_ids)}, units)."""
        return self.samplers[population].samples()

    # ---- plastic weights ----
    def weights(self, projection=None):
        """Weights now (a new float64 array): of every synapse in storage order, or of one
        projection (by name, in the order of ``network.synapse_table(name)``). For STDP
        synapses this includes the potentiation by post spikes seen since their last pre
        spike (the engine applies it lazily at the next pre spike, as NEST does).

        On ranks (a network built in parts), ``projection`` must be given and every rank
        must call: rank 0 gets the whole projection's weights in the order of the whole
        table, the others None (see :meth:`projection_weights`)."""
        if self.network.part is not None:
            if projection is None:
                from eventsim.errors import BackendUnavailableError
                raise BackendUnavailableError("mpi: weights of a network built in parts are gathered per "
                                              "projection: Simulation.weights(projection)")
            got = self.projection_weights(projection)
            return None if got is None else got[2]
        return self._local_weights(projection)

    def projection_weights(self, projection):
        """(source ids, target ids (population-local, uint64), weights now) of one
        projection, in the order of ``network.synapse_table``. On ranks every rank must
        call; rank 0 gets the ranks' synapses put back in the whole table's order (by
        source, then construction order), the others None."""
        net = self.network
        pr = net.projection(projection)
        w = self._local_weights(projection)
        src, tgt, _w, _d = net.synapse_table(projection)
        if net.part is None:
            return src, tgt, w
        order = (net.part_order or {}).get(pr.index)
        if order is None:
            from eventsim.errors import BackendUnavailableError
            raise BackendUnavailableError(f"mpi: the weights of projection {projection!r} were not kept in "
                                          "order when the network was built (only plastic projections and "
                                          "those named in [record] weights / weight_events are)")
        parts = self.comm.gather((src, tgt, order, w))
        if parts is None:
            return None
        src, tgt, order, w = (np.concatenate([p[k] for p in parts]) for k in range(4))
        o = np.lexsort((order, src))
        return src[o], tgt[o], w[o]

    def _local_weights(self, projection):
        eng = self.engine
        stdp = getattr(eng, "stdp", None)
        w = stdp.weights(eng, eng.t) if stdp is not None and stdp.active else self.network.weight.copy()
        if projection is None:
            return w
        return w[self.network.proj == self.network.projection(projection).index]

    def record_weight_events(self, projections):
        """Log every spike transmitted by these plastic projections with the weight it
        carried (NEST's weight_recorder); read with :meth:`weight_events`."""
        stdp = self.engine.stdp
        for name in projections:
            stdp.log_proj[self.network.projection(name).index] = True

    def weight_events(self, projection):
        """(times ms, source ids, target ids (population-local), weights) of the logged
        transmissions of one projection, in the order they happened. On ranks every rank
        must call; rank 0 gets every rank's, the others None."""
        stdp = self.engine.stdp
        net = self.network
        pr = net.projection(projection)
        if not stdp.active:
            return np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        t, syn, w = stdp.weight_log()
        sel = net.proj[syn] == pr.index
        t, syn, w = t[sel], syn[sel], w[sel]
        src = np.searchsorted(net.indptr, syn, side="right") - 1
        tgt = net.target[syn].astype(np.int64) - net.population(pr.target).offset
        if net.part is not None:
            # every rank logged its own synapses: rank 0 puts them in the one-process
            # order (the spikes' order, time then population rank, then each spike's
            # synapses in construction order)
            key = net.part_order[pr.index][np.searchsorted(np.flatnonzero(net.proj == pr.index), syn)]
            parts = self.comm.gather((t, src, tgt, key, w))
            if parts is None:
                return None
            t, src, tgt, key, w = (np.concatenate([p[k] for p in parts]) for k in range(5))
            o = np.lexsort((key, self.engine.rank[src], t))
            t, src, tgt, w = t[o], src[o], tgt[o], w[o]
        return t, src - net.population(pr.source).offset, tgt, w

    def _updates_per_projection(self):
        """Plastic weight updates per projection (summed over the ranks' parts)."""
        stdp = getattr(self.engine, "stdp", None)
        n = np.zeros(max(len(self.network.projections), 1), dtype=np.int64)
        if stdp is not None and stdp.active:
            n = stdp.n_updates.astype(np.int64)
        return self.comm.sum(n) if self.network.part is not None else n

    # ---- between runs (trials: present, read out, adjust, reset, present again) ----
    def set_spike_times(self, population, times):
        """Give the ``spike_source`` population new spike trains: ``times`` is one
        sequence of times (ms, sorted, not before the current time) per neuron. They
        replace the trains' remaining spikes."""
        pop = self.network.population(population)
        if pop.model != "spike_source":
            raise ValueError(f"population {population!r} is a {pop.model}, not a spike_source")
        if len(times) != pop.size:
            raise ValueError(f"population {population!r} has {pop.size} neurons, got {len(times)} trains")
        arrs = [np.asarray(t, dtype=np.float64) for t in times]
        for j, a in enumerate(arrs):
            if a.size and (a[0] < self.t or np.any(np.diff(a) < 0)):
                raise ValueError(f"population {population!r}, neuron {j}: times must be sorted "
                                 f"and not before the current time {self.t} ms")
        self.engine.set_spike_times(pop.offset, arrs)

    def reset_state(self):
        """Put every integrating neuron back in its initial state (``init``) at the
        current time and drop the arrivals still in flight (they are not counted as
        synaptic events). Weights, plasticity state and input streams are kept."""
        for sampler in self.samplers.values():   # samples before now come from the old state
            sampler.collect()
        self.engine.reset_state()

    # ---- counters (exact event counts, see README "Event counters") ----
    def counters(self):
        eng = self.engine
        net = self.network
        delivered = eng.emitted_synaptic_events() - eng.pending_synaptic_events()
        delivered -= getattr(eng, "discarded", 0)
        pops = {}
        updates = eng.neuron_updates()
        for p in net.populations:
            sl = slice(p.offset, p.offset + p.size)
            pops[p.name] = dict(spike_count=eng.spike_count[sl].astype(np.uint64),
                                neuron_updates=updates[sl].astype(np.uint64),
                                model=p.model, size=p.size, hidden=p.hidden)
        plastic = self._updates_per_projection()
        projs = {pr.name: dict(synaptic_events=np.uint64(delivered[pr.index]),
                               plasticity_updates=np.uint64(plastic[pr.index]),
                               source=pr.source, target=pr.target, n_synapses=pr.n_synapses)
                 for pr in net.projections}
        stims = {s.name: dict(events=np.uint64(eng.stim_events[j]))
                 for j, s in enumerate(eng.poisson_stimuli)}
        return dict(t_stop=eng.t, populations=pops, projections=projs, stimuli=stims)
