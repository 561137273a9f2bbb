"""State probes: per-neuron state sampled at a fixed interval, exactly, as a SONATA report.

What a sample is
----------------
A probe samples chosen variables of chosen neurons of one population at the times
t_k = start + k * interval (float64, k = 0, 1, ... while t_k < stop or the end of the
run). Each value is computed from the event-driven state itself: when the engine
commits a free evolution of a recorded neuron from t to t', the samples due in
[t, t') are evaluated from a copy of the state at t with the model's exact solution
(``evolve``, or ``evolve_refractory`` while clamped); neurons without events are
sampled the same way from their stored state when the probe collects (at each
checkpoint and at the end of each ``run``). Nothing is integrated by a second solver
and nothing the simulation uses is changed: spikes are byte-identical with and
without probes.

A sample at an instant where inputs arrive (or the neuron spikes) is taken *after*
all inputs of that instant are applied and after the spike's reset: the recorded
state is right-continuous. So v = v_reset at a spike time and throughout
[t_spike, t_spike + t_ref), and a delta input arriving exactly at t_k is included.

Variables per model come from its kernel module (``RECORDABLE``, ``RECORDABLE_UNITS``,
and ``recordable(s, p)``): lif and alif offer v, threshold (v_th; v_th + a for
alif), i_syn (i_ex + i_in), i_ex, i_in, di_ex, di_in (alpha synapses' inner variable),
and alif also a.

File layout (SONATA frame-oriented report; libsonata's ``ElementReportReader`` opens it)
--------------------------------------------------------------------------------------
    /report/<population>/data                 float32 (n_times, n_nodes * n_vars); attributes
                                              units (the variables' common unit, or "mixed"),
                                              variables, variable_units (one per variable)
    /report/<population>/mapping/node_ids     uint64 (n_nodes), population-local ids, ascending
    /report/<population>/mapping/index_pointers  uint64 (n_nodes + 1) = [0, n_vars, 2 n_vars, ...]
    /report/<population>/mapping/element_ids  uint32 (n_nodes * n_vars): the variable index
                                              (0 .. n_vars - 1) of each column
    /report/<population>/mapping/time         float64 [start, stop, interval], units "ms";
                                              stop = start + n_times * interval (frames in [start, stop))

Column c of a frame is node c // n_vars, variable c % n_vars. SONATA (and libsonata)
require float32 data; the Python API (``Simulation.state_samples``) gives the float64
values. Frames are appended at each checkpoint (one open-append-close burst, like the
spikes), so an interrupted run keeps every frame up to its last checkpoint; in memory a
probe holds only the frames since the last checkpoint.
"""
from __future__ import annotations

import importlib
import math
from collections import namedtuple

import numpy as np

from eventsim.errors import InputError

StateSamples = namedtuple("StateSamples", "times node_ids values units")
StateSamples.__doc__ = ("Samples of one population: times (n_times,) ms, node_ids (n,) "
                        "population-local, values {variable: float64 array (n_times, n)}, "
                        "units {variable: unit}.")


def recordable_variables(model_name):
    """{variable: unit} that a probe can sample for a neuron model (empty for sources)."""
    from eventsim.models import neuron_model
    model = neuron_model(model_name)
    if model.is_source or not model.kernel_module:
        return {}
    km = importlib.import_module(model.kernel_module)
    names = tuple(getattr(km, "RECORDABLE", km.STATE_DTYPE.names))
    units = tuple(getattr(km, "RECORDABLE_UNITS", ("",) * len(names)))
    return dict(zip(names, units))


#: a probe holding more values than this (float64) in memory gets them committed to the
#: output file at the end of the window (Simulation.run), whatever the commit interval
PROBE_BUFFER_VALUES = 1 << 22


def samples_before(t, start, interval):
    """How many sample times start + k interval (k >= 0) lie before t (exactly, in float64)."""
    if not t > start:
        return 0
    if math.isinf(t):
        return np.iinfo(np.int64).max // 2
    k = max(int(math.ceil((t - start) / interval)), 0)
    while k > 0 and start + (k - 1) * interval >= t:
        k -= 1
    while start + k * interval < t:
        k += 1
    return k


def check_probe(path, model_name, size, variables, ids, interval, start=0.0, stop=None):
    """One-line problems (each starting with ``path``) of a probe's settings."""
    problems = []
    known = recordable_variables(model_name)
    if not known:
        return [f"{path}.population: a {model_name} population has no state to record"]
    if isinstance(variables, str) or not isinstance(variables, (list, tuple)) or not variables:
        problems.append(f"{path}.variables: must be a non-empty list of names, got {variables!r}")
    else:
        for j, v in enumerate(variables):
            if v not in known:
                problems.append(f"{path}.variables[{j}]: {v!r} is not recordable for model "
                                f"{model_name!r} (it has: {', '.join(known)})")
        if len(set(map(str, variables))) < len(variables):
            problems.append(f"{path}.variables: repeated names in {list(variables)}")
    if isinstance(ids, str):
        if ids != "all":
            problems.append(f"{path}.ids: must be \"all\" or a list of neuron ids, got {ids!r}")
    elif not isinstance(ids, (list, tuple, np.ndarray)) or len(ids) == 0:
        problems.append(f"{path}.ids: must be \"all\" or a non-empty list of neuron ids, got {ids!r}")
    else:
        for j, i in enumerate(ids):
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
                problems.append(f"{path}.ids[{j}]: must be an integer, got {i!r}")
            elif not 0 <= i < size:
                problems.append(f"{path}.ids[{j}]: {i} is out of range for a population of {size} "
                                f"neurons (0 .. {size - 1})")
        if len(set(int(i) for i in ids if isinstance(i, (int, np.integer)))) < len(ids):
            problems.append(f"{path}.ids: repeated ids")
    for key, val, lo in (("interval", interval, None), ("start", start, 0.0), ("stop", stop, None)):
        if val is None and key != "interval":
            continue
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
            problems.append(f"{path}.{key}: must be a finite number of ms, got {val!r}")
        elif key == "interval" and not val > 0:
            problems.append(f"{path}.interval: must be > 0 ms, got {val!r}")
        elif lo is not None and val < lo:
            problems.append(f"{path}.{key}: must be >= {lo:g} ms, got {val!r}")
    if (isinstance(start, (int, float)) and isinstance(stop, (int, float))
            and not isinstance(stop, bool) and stop <= start):
        problems.append(f"{path}.stop: must be > start = {start:g} ms, got {stop!r}")
    return problems


class MemorySink:
    """Keeps a probe's frames in memory (the Python API's default)."""

    def __init__(self):
        self._frames = []

    def append(self, frames):
        self._frames.append(frames)

    def commit(self):
        pass

    def frames(self, n_cols):
        return np.concatenate(self._frames) if self._frames else np.zeros((0, n_cols))


class ReportFile:
    """Streams a probe's frames into ``/report/<population>`` of an HDF5 file (the run's
    ``OUT.h5.partial``), appending at each commit in one open-append-close burst."""

    def __init__(self, path, population, frames=None):
        """``frames``: the report exists (a resumed run): keep its first ``frames`` frames."""
        self.path = path
        self.population = population
        self._pending = []
        self.n_written = 0
        self._layout = None
        self._resume = frames

    def create(self, node_ids, variables, units, start, interval):
        from .sonata import _open
        self._layout = (start, interval)
        if self._resume is not None:
            with _open(self.path, "r+") as f:
                g = f["report"][self.population]
                g["data"].resize((self._resume, g["data"].shape[1]))
                g["mapping"]["time"][1] = start + self._resume * interval
            self.n_written = self._resume
            return
        n_cols = len(node_ids) * len(variables)
        with _open(self.path, "r+") as f:
            g = f.require_group("report").create_group(self.population)
            d = g.create_dataset("data", shape=(0, n_cols), maxshape=(None, n_cols), dtype="f4",
                                 chunks=(max(1, min(4096, (1 << 18) // max(n_cols, 1))), n_cols))
            common = set(units)
            d.attrs["units"] = units[0] if len(common) == 1 else "mixed"
            d.attrs["variables"] = list(variables)
            d.attrs["variable_units"] = list(units)
            m = g.create_group("mapping")
            nv = len(variables)
            m.create_dataset("node_ids", data=np.asarray(node_ids, dtype=np.uint64))
            m.create_dataset("index_pointers", data=np.arange(len(node_ids) + 1, dtype=np.uint64) * nv)
            m.create_dataset("element_ids", data=np.tile(np.arange(nv, dtype=np.uint32), len(node_ids)))
            t = m.create_dataset("time", data=np.array([start, start, interval], dtype=np.float64))
            t.attrs["units"] = "ms"

    def append(self, frames):
        self._pending.append(frames)

    def commit(self):
        """Append the pending frames; if the file cannot be opened just now, keep them."""
        from .sonata import _open
        if not self._pending:
            return
        try:
            f = _open(self.path, "r+")
        except OSError:
            return
        with f:
            frames = np.concatenate(self._pending)
            g = f["report"][self.population]
            d = g["data"]
            n0 = self.n_written
            d.resize((n0 + frames.shape[0], d.shape[1]))
            d[n0:] = frames.astype(np.float32)
            self.n_written = n0 + frames.shape[0]
            start, interval = self._layout
            g["mapping"]["time"][1] = start + self.n_written * interval
            f.flush()
        self._pending.clear()

    def frames(self, n_cols):
        from .sonata import _open
        path = self.path if self.path.exists() else self.path.with_name(self.path.name[:-len(".partial")])
        with _open(path, "r") as f:
            return f["report"][self.population]["data"][:].astype(np.float64)


class StateSampler:
    """One population's state probe (see the module docstring).

    The per-neuron loop writes the samples of neurons with events into a frame buffer
    (``window``); ``collect`` adds those of neurons without events up to the engine's
    time, hands the complete frames to the sink and starts a new buffer. The engine is
    reached through its probe interface: ``probe_groups()`` (its populations of
    integrating neurons: ``pop``, ``n``, ``i0``, ``sampler``) and ``sample_idle(sampler,
    k_lim)`` (the samples of neurons without events, into ``data``); an engine that keeps
    state elsewhere (cuda) mirrors rec_next and data there between collects.
    """

    def __init__(self, engine, population, variables=("v",), ids="all", interval=0.1, start=None,
                 stop=None, sink=None, path="record_state"):
        groups = [g for g in engine.probe_groups() if g.pop.name == population]
        names = [p.name for p in engine.net.populations]
        if not groups:
            if population in names:
                model = engine.net.population(population).model
                raise InputError(f"{path}.population: a {model} population has no state to record")
            raise InputError(f"{path}.population: unknown population {population!r} "
                             f"(known: {', '.join(names)})")
        g = groups[0]
        start = float(engine.t) if start is None else start
        variables = list(variables)
        problems = check_probe(path, g.pop.model, g.n, variables, ids, interval, start, stop)
        if not problems and start < engine.t:
            problems.append(f"{path}.start: must not be before the current time {engine.t:g} ms, "
                            f"got {start:g}")
        if problems:
            raise InputError(problems)
        if g.sampler is not None:
            raise InputError(f"{path}.population: {population!r} already has a state probe")
        known = recordable_variables(g.pop.model)
        self.engine = engine
        self.group = g
        self.population = population
        self.variables = variables
        self.units = {v: known[v] for v in variables}
        self.node_ids = np.arange(g.n) if isinstance(ids, str) else np.sort(np.asarray(ids, dtype=np.int64))
        self.start = float(start)
        self.interval = float(interval)
        self.k_stop = samples_before(math.inf if stop is None else float(stop), self.start, self.interval)
        self.rec_col = np.full(g.n, -1, dtype=np.int64)
        self.rec_col[self.node_ids] = np.arange(self.node_ids.size)
        self.rec_next = np.zeros(g.n, dtype=np.int64)
        order = list(known)
        self.rec_var = np.array([order.index(v) for v in variables], dtype=np.int64)
        self.n_cols = self.node_ids.size * len(variables)
        self.data = np.zeros((16, self.n_cols))
        self.row0 = 0
        self.sink = sink if sink is not None else MemorySink()
        if isinstance(self.sink, ReportFile):
            self.sink.create(self.node_ids, variables, [self.units[v] for v in variables], self.start,
                             self.interval)
        g.sampler = self

    def _k_lim(self, t):
        return min(samples_before(t, self.start, self.interval), self.k_stop)

    def _rows(self, k_lim):
        need = k_lim - self.row0
        if need > self.data.shape[0]:
            data = np.zeros((max(need, 2 * self.data.shape[0]), self.n_cols))
            data[:self.data.shape[0]] = self.data
            self.data = data

    def window(self, t1):
        """The update kernel's sampling arguments for a window ending at t1."""
        k_lim = self._k_lim(t1)
        self._rows(k_lim)
        return (self.rec_col, self.rec_next, self.rec_var, self.data, self.start, self.interval,
                k_lim, self.row0)

    def held_values(self):
        """Values of frames before the engine's time not yet handed to the sink."""
        return (self._k_lim(self.engine.t) - self.row0) * self.n_cols

    def collect(self):
        """Complete every frame before the engine's time and hand them to the sink."""
        eng = self.engine
        k_lim = self._k_lim(eng.t)
        self._rows(k_lim)
        eng.sample_idle(self, k_lim)
        n = k_lim - self.row0
        if n > 0:
            # (on several ranks, each has its own neurons' columns: rank 0's sink gets them all)
            frames = eng.gather_samples(self, self.data[:n].copy())
            if frames is not None:
                self.sink.append(frames)
            self.row0 = k_lim
        self.sink.commit()

    def samples(self):
        """The collected frames as :class:`StateSamples` (float64 in memory; the file's float32)."""
        frames = self.sink.frames(self.n_cols)
        n = frames.shape[0]
        nv = len(self.variables)
        times = self.start + np.arange(n) * self.interval
        values = {v: frames[:, j::nv].copy() for j, v in enumerate(self.variables)}
        return StateSamples(times, self.node_ids.copy(), values, dict(self.units))


def record_scenario_state(sim, writer, probes, frames=None):
    """Attach the scenario's ``[[record.state]]`` probes to a simulation, streaming into the
    writer's output file. ``frames`` ({population: n}): continue the reports of an
    interrupted run from a checkpoint, keeping their first n frames."""
    for j, pr in enumerate(probes):
        # (on several ranks, rank 0 writes every rank's samples; the others keep none)
        sink = None
        if sim.comm.rank == 0:
            sink = ReportFile(writer.partial, pr["population"],
                              frames=None if frames is None else int(frames[pr["population"]]))
        sim.record_state(pr["population"], pr["variables"], pr["ids"], pr["interval"],
                         start=pr.get("start", 0.0), stop=pr.get("stop"),
                         sink=sink, path=f"record.state[{j}]")


def read_report(path, population):
    """(times ms, node_ids, {variable: float array (n_times, n_nodes)}, {variable: unit}) of
    ``/report/<population>`` in an output file (h5py; no libsonata needed)."""
    import h5py
    with h5py.File(path, "r", locking=False) as f:
        g = f["report"][population]
        d = g["data"]
        data = d[:]
        m = g["mapping"]
        start, _stop, dt = (float(x) for x in m["time"][:])
        ptr = m["index_pointers"][:].astype(np.int64)
        elem = m["element_ids"][:].astype(np.int64)
        names = [str(v) for v in d.attrs.get("variables", [])]
        units = [str(u) for u in d.attrs.get("variable_units", [])]
        nv = int(ptr[1] - ptr[0]) if ptr.size > 1 else 1
        if not names:
            names = [f"element_{j}" for j in range(nv)]
            units = [str(d.attrs.get("units", ""))] * nv
        values = {}
        for j, name in enumerate(names):
            cols = ptr[:-1] + np.flatnonzero(elem[ptr[0]:ptr[1]] == j)[0] if ptr.size > 1 else np.zeros(0, int)
            values[name] = data[:, cols]
        times = start + np.arange(data.shape[0]) * dt
        return times, m["node_ids"][:].astype(np.int64), values, dict(zip(names, units))
