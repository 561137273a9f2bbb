"""Checkpoint files: the whole state of a simulation at one instant, to continue from.

A checkpoint (``OUT.h5.ckpt`` next to a run's output; format in docs/checkpoints.md)
is an HDF5 file holding everything a later window depends on: neuron states, the queue
of spikes in flight (in queue order, which fixes how equal-time inputs are summed),
crossing checks, stimulus and Poisson stream positions, STDP traces and post histories,
plastic weights, counters, state-probe positions, weight samples taken so far and,
for a run writing a file, how far that file was written. What can be rebuilt from the
scenario and the seed (the synapse table, parameters) is not stored: a fingerprint of
the network's structure is, and a checkpoint is refused on a network that differs.

It is written to ``PATH.tmp``, flushed to disk and renamed over ``PATH``, so a kill at
any moment leaves the previous checkpoint or the new one, never a mixture.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import h5py
import numpy as np

from eventsim.errors import InputError

FORMAT = "eventsim-checkpoint"
# 2: Poisson intervals from the ziggurat (engine/rng.py): a version-1 checkpoint holds
# arrivals drawn by -log(u), and resuming it here would not continue its run's trains
VERSION = 2


class CheckpointError(InputError):
    """A checkpoint that cannot be used here (missing, not a checkpoint, another version,
    another network, seed or backend)."""


def structure_fingerprint(net) -> str:
    """Hash of what a checkpoint does not store but depends on: populations, the synapse
    table's structure and delays (not the weights, which plasticity changes)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps([(p.name, p.model, p.size, p.offset) for p in net.populations]).encode())
    h.update(json.dumps([(pr.name, pr.source, pr.target, pr.index) for pr in net.projections]).encode())
    for a in (net.indptr, net.target, net.proj, net.delays() if net.delay_table is None else net.delay_index):
        h.update(np.ascontiguousarray(a).view(np.uint8))
    if net.delay_table is not None:
        h.update(np.ascontiguousarray(net.delay_table).view(np.uint8))
    return h.hexdigest()


def weights_fingerprint(weights) -> str:
    return hashlib.blake2b(np.ascontiguousarray(weights).view(np.uint8), digest_size=16).hexdigest()


def _write_group(g, d):
    for name, value in d.items():
        g.create_dataset(name, data=np.asarray(value))


def _read_group(g):
    return {name: (ds[()] if ds.shape == () else ds[:]) for name, ds in g.items()}


def write(path, *, t, backend, seed, structure, engine, stdp, samplers, weights, weights_hash,
          weight_samples, meta, extra=None):
    """Write a checkpoint atomically (``path.tmp``, fsync, rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w", locking=False) as f:
        f.attrs["format"] = FORMAT
        f.attrs["version"] = VERSION
        import eventsim
        f.attrs["eventsim_version"] = eventsim.__version__
        f.attrs["t"] = float(t)
        f.attrs["backend"] = backend
        f.attrs["seed"] = np.int64(seed)
        f.attrs["structure"] = structure
        f.attrs["weights_hash"] = weights_hash
        f.attrs["meta"] = json.dumps(meta, default=_json_default)
        _write_group(f.create_group("engine"), engine)
        _write_group(f.create_group("stdp"), stdp)
        sg = f.create_group("samplers")
        for pop, d in samplers.items():
            _write_group(sg.create_group(pop), d)
        if weights is not None:
            f.create_dataset("weights", data=weights)
        _write_group(f.create_group("extra"), extra or {})
        wg = f.create_group("weight_samples")
        for name, (times, rows) in weight_samples.items():
            g = wg.create_group(name)
            g.create_dataset("time", data=np.asarray(times, dtype=np.float64))
            g.create_dataset("weight", data=np.asarray(rows, dtype=np.float64).reshape(len(times), -1))
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class Checkpoint:
    """A checkpoint read back: attributes, ``meta`` (dict) and the state groups."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            f = h5py.File(self.path, "r", locking=False)
        except FileNotFoundError:
            raise CheckpointError(f"checkpoint: {self.path}: no such file") from None
        except OSError as exc:
            raise CheckpointError(f"checkpoint: {self.path}: not an HDF5 checkpoint file ({exc})") from None
        with f:
            if f.attrs.get("format") != FORMAT:
                raise CheckpointError(f"checkpoint: {self.path} is not an eventsim checkpoint")
            version = int(f.attrs.get("version", -1))
            if version != VERSION:
                raise CheckpointError(f"checkpoint: {self.path} has format version {version}; this "
                                      f"eventsim reads version {VERSION}")
            self.t = float(f.attrs["t"])
            self.backend = str(f.attrs["backend"])
            self.seed = int(f.attrs["seed"])
            self.structure = str(f.attrs["structure"])
            self.weights_hash = str(f.attrs["weights_hash"])
            self.meta = json.loads(f.attrs["meta"])
            self.engine = _read_group(f["engine"])
            self.stdp = _read_group(f["stdp"])
            self.samplers = {pop: _read_group(g) for pop, g in f["samplers"].items()}
            self.weights = f["weights"][:] if "weights" in f else None
            self.weight_samples = {name: (g["time"][:], g["weight"][:]) for name, g in f["weight_samples"].items()}
            self.extra = _read_group(f["extra"])

    def drop_state(self):
        """Forget the state arrays once restored (attributes and ``meta`` stay)."""
        self.engine = self.stdp = self.samplers = self.weights = self.extra = None
        self.weight_samples = {}

    def check_network(self, net, seed, backend):
        """CheckpointError unless the checkpoint belongs to this network, seed and backend
        (checked once per network: the fingerprint of a large one takes seconds)."""
        if getattr(self, "_checked", None) == (id(net), seed, backend):
            return
        problems = []
        if structure_fingerprint(net) != self.structure:
            problems.append(f"checkpoint: {self.path} was saved from another network (populations, "
                            f"synapses or delays differ from this scenario's)")
        if self.weights is None and weights_fingerprint(net.weight) != self.weights_hash:
            problems.append(f"checkpoint: {self.path}: the network's weights differ from those it was "
                            f"saved with")
        if self.weights is not None and self.weights.shape != net.weight.shape:
            problems.append(f"checkpoint: {self.path}: {self.weights.size} weights, the network has "
                            f"{net.weight.size}")
        if seed != self.seed:
            problems.append(f"checkpoint: {self.path} was saved with seed {self.seed}, not {seed}")
        if backend != self.backend:
            problems.append(f"checkpoint: {self.path} was saved on the {self.backend} backend, not {backend}")
        if problems:
            raise CheckpointError(problems)
        self._checked = (id(net), seed, backend)


def _json_default(x):
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, Path):
        return str(x)
    raise TypeError(type(x).__name__)
