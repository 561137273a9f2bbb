"""The public Simulation object: a network, a backend, a seed; run(until) continues exactly."""
from __future__ import annotations

import time

import numpy as np

from .backends import make_engine


class SpikeRecorder:
    """Keeps spikes in memory, per population (the default sink of the Python API, and
    the SONATA writer's buffer between checkpoints)."""

    def __init__(self, network, populations=None):
        self.pops = [p for p in network.populations
                     if not p.hidden and (populations is None or p.name in populations)]
        self.offsets = np.array([p.offset for p in network.populations] + [network.n_neurons])
        self.index_of = {p.name: j for j, p in enumerate(network.populations)}
        self._t = {p.name: [] for p in self.pops}
        self._i = {p.name: [] for p in self.pops}

    def append(self, t, gid):
        if t.size == 0:
            return
        pi = np.searchsorted(self.offsets, gid, side="right") - 1
        for p in self.pops:
            sel = pi == self.index_of[p.name]
            if sel.any():
                self._t[p.name].append(t[sel])
                self._i[p.name].append(gid[sel] - p.offset)

    def commit(self, t_committed):
        pass

    def spikes(self, population):
        """(times ms float64, population-local ids int64), sorted by time."""
        ts = self._t[population]
        if not ts:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        return np.concatenate(ts), np.concatenate(self._i[population])

    def take(self, population):
        """spikes(population), then forget them."""
        out = self.spikes(population)
        self._t[population].clear()
        self._i[population].clear()
        return out


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
    """

    def __init__(self, network, *, backend="cpu", seed=None, sink=None, commit_s=1.0,
                 commit_every=None, threads=None):
        self.network = network
        self.backend = backend
        self.seed = int(network.seed if seed is None else seed)
        options = {} if threads is None else {"threads": threads}
        self.engine = make_engine(backend, network, self.seed, **options)
        self.sink = sink if sink is not None else SpikeRecorder(network)
        if not commit_s > 0:
            raise ValueError(f"commit_s: must be > 0 s, got {commit_s!r}")
        if commit_every is not None and not (np.isfinite(commit_every) and commit_every > 0):
            raise ValueError(f"commit_every: must be a finite number > 0 ms, got {commit_every!r}")
        self.commit_s = float(commit_s)
        self.commit_every = None if commit_every is None else float(commit_every)
        self.wall_s = 0.0
        self.should_stop = lambda: False   # e.g. set by the CLI's signal handler
        # called with t after every commit of the sink (to watch a run, or to pause it at
        # a known point in tests: tests/paused_run.py)
        self.after_commit = None
        self.samplers = {}                 # population -> eventsim.output.report.StateSampler

    @property
    def t(self) -> float:
        """Simulated time reached (ms)."""
        return self.engine.t

    def run(self, until, progress=None):
        """Simulate up to time ``until`` (ms); call again with a later time to continue.

        ``progress``: an object with ``update(ms)`` (e.g. a tqdm bar), or None.
        Returns the number of spikes emitted in this call.
        """
        until = float(until)
        if until < self.engine.t:
            raise ValueError(f"until={until} ms is before the current time {self.engine.t} ms")
        eng = self.engine
        # eng.t_stop stays infinite: a crossing check beyond this run's end must still be
        # scheduled, or a neuron without input (driven by its own current) would never be
        # looked at again when the run is continued (regression: run(10); run(100) lost
        # every spike of a current-driven neuron after 10 ms)
        n = 0
        t_wall = time.perf_counter()
        last_commit = t_wall
        every = self.commit_every
        last_k = np.floor(eng.t / every) if every is not None else 0.0
        while eng.t < until and not self.should_stop():
            t_before = eng.t
            st, si = eng.step_window(until)
            n += st.size
            self.sink.append(st, si)
            if progress is not None:
                progress.update(eng.t - t_before)
            if every is not None:
                k = np.floor(eng.t / every)
                if k > last_k:
                    self._commit(eng.t)
                    last_k = k
            else:
                now = time.perf_counter()
                if now - last_commit >= self.commit_s:
                    self._commit(eng.t)
                    last_commit = now
        self._commit(eng.t)
        self.wall_s += time.perf_counter() - t_wall
        return n

    def spikes(self, population):
        return self.sink.spikes(population)

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
        spike (the engine applies it lazily at the next pre spike, as NEST does)."""
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
        transmissions of one projection, in the order they happened."""
        stdp = self.engine.stdp
        net = self.network
        pr = net.projection(projection)
        if not stdp.active:
            return np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        t, syn, w = stdp.weight_log()
        sel = net.proj[syn] == pr.index
        t, syn, w = t[sel], syn[sel], w[sel]
        src = np.searchsorted(net.indptr, syn, side="right") - 1 - net.population(pr.source).offset
        tgt = net.target[syn].astype(np.int64) - net.population(pr.target).offset
        return t, src, tgt, w

    def _plasticity_updates(self, index):
        stdp = getattr(self.engine, "stdp", None)
        return int(stdp.n_updates[index]) if stdp is not None and stdp.active else 0

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
        for p in net.populations:
            sl = slice(p.offset, p.offset + p.size)
            pops[p.name] = dict(spike_count=eng.spike_count[sl].astype(np.uint64),
                                neuron_updates=eng.updates[sl].astype(np.uint64),
                                model=p.model, size=p.size, hidden=p.hidden)
        projs = {pr.name: dict(synaptic_events=np.uint64(delivered[pr.index]),
                               plasticity_updates=np.uint64(self._plasticity_updates(pr.index)),
                               source=pr.source, target=pr.target, n_synapses=pr.n_synapses)
                 for pr in net.projections}
        stims = {s.name: dict(events=np.uint64(eng.stim_events[j]))
                 for j, s in enumerate(eng.poisson_stimuli)}
        return dict(t_stop=eng.t, populations=pops, projections=projs, stimuli=stims)
