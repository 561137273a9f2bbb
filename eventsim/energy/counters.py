"""Read the event counters that a run writes under ``/counters`` of its output file.

Layout (version 1), all counts uint64::

    /counters                                    attrs t_stop (ms), version
    /counters/populations/<pop>/spike_count       (size,) spikes per neuron
    /counters/populations/<pop>/neuron_updates    (size,) state updates performed per neuron
    /counters/populations/<pop>                   attrs model, size
    /counters/projections/<proj>/synaptic_events  scalar: (spike, synapse) pairs delivered by t_stop
    /counters/projections/<proj>/plasticity_updates scalar
    /counters/projections/<proj>                  attrs source, target, n_synapses
    /counters/stimuli/<name>/events               scalar: stimulus input events delivered
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eventsim.errors import InputError, NotASpikeFileError


class CountersMissingError(NotASpikeFileError):
    """An output file without the /counters group (not written by eventsim, or an older run)."""


@dataclass
class PopulationCounts:
    name: str
    model: str
    size: int
    spike_count: np.ndarray       # uint64 (size,)
    neuron_updates: np.ndarray    # uint64 (size,)
    is_source: bool = False       # a spike source: emits spikes, has no state to update


@dataclass
class ProjectionCounts:
    name: str
    source: str
    target: str
    n_synapses: int
    synaptic_events: int
    plasticity_updates: int = 0


@dataclass
class Counters:
    t_stop: float                         # ms of simulated time counted
    populations: list                     # PopulationCounts, in file order
    projections: list                     # ProjectionCounts
    stimuli: dict = field(default_factory=dict)   # name -> input events delivered
    scenario: str = ""                    # scenario text (root attribute), if any
    scenario_dir: str = ""
    seed: int | None = None
    duration: float | None = None
    path: str = ""

    def population(self, name):
        for p in self.populations:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def n_neurons(self) -> int:
        return int(sum(p.size for p in self.populations))

    @property
    def spikes(self) -> int:
        return int(sum(int(p.spike_count.sum()) for p in self.populations))

    @property
    def synaptic_events(self) -> int:
        return int(sum(p.synaptic_events for p in self.projections))

    @property
    def stimulus_events(self) -> int:
        return int(sum(self.stimuli.values()))

    @property
    def plasticity_updates(self) -> int:
        return int(sum(p.plasticity_updates for p in self.projections))

    @property
    def neuron_updates(self) -> int:
        return int(sum(int(p.neuron_updates.sum()) for p in self.populations if not p.is_source))

    @property
    def n_synapses(self) -> int:
        return int(sum(p.n_synapses for p in self.projections))


def is_source_model(model: str) -> bool:
    """True for spike-source models (no state to update), from the model catalogue."""
    try:
        from eventsim.models import neuron_model
        return bool(neuron_model(model).is_source)
    except KeyError:
        return model.endswith("_source")


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def read_counters(path) -> Counters:
    """The counters of an eventsim output file; InputError subclasses for files that lack them."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise NotASpikeFileError(f"{path}: not an HDF5 file") from None
    with f:
        if "counters" not in f:
            raise CountersMissingError(f"{path}: no /counters group (not an eventsim output file, "
                                       f"or written by a run that did not count events)")
        g = f["counters"]
        problems = []
        t_stop = g.attrs.get("t_stop", f.attrs.get("duration"))
        if t_stop is None:
            problems.append(f"{path}: /counters.attrs.t_stop: missing")
        pops, projs, stims = [], [], {}
        for name, pg in g.get("populations", {}).items():
            key = f"{path}: /counters/populations/{name}"
            try:
                sc = np.asarray(pg["spike_count"][()], dtype=np.uint64)
                nu = np.asarray(pg["neuron_updates"][()], dtype=np.uint64) if "neuron_updates" in pg \
                    else np.zeros_like(sc)
            except KeyError as exc:
                problems.append(f"{key}: missing dataset ({exc})")
                continue
            model = _text(pg.attrs.get("model", ""))
            size = int(pg.attrs.get("size", sc.shape[0]))
            if sc.shape != (size,) or nu.shape != (size,):
                problems.append(f"{key}: spike_count/neuron_updates must have shape ({size},)")
                continue
            pops.append(PopulationCounts(name, model, size, sc, nu, is_source_model(model)))
        for name, jg in g.get("projections", {}).items():
            key = f"{path}: /counters/projections/{name}"
            if "synaptic_events" not in jg:
                problems.append(f"{key}/synaptic_events: missing")
                continue
            projs.append(ProjectionCounts(
                name, _text(jg.attrs.get("source", "")), _text(jg.attrs.get("target", "")),
                int(jg.attrs.get("n_synapses", 0)), int(jg["synaptic_events"][()]),
                int(jg["plasticity_updates"][()]) if "plasticity_updates" in jg else 0))
        for name, sg in g.get("stimuli", {}).items():
            stims[name] = int(sg["events"][()]) if "events" in sg else 0
        if problems:
            raise NotASpikeFileError(problems)
        a = f.attrs
        seed = a.get("seed")
        return Counters(
            t_stop=float(t_stop), populations=pops, projections=projs, stimuli=stims,
            scenario=_text(a.get("scenario", "")), scenario_dir=_text(a.get("scenario_dir", "")),
            seed=None if seed is None else int(seed),
            duration=None if a.get("duration") is None else float(a.get("duration")),
            path=str(path))
