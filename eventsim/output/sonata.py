"""Streamed, crash-safe SONATA spike output.

The run claims ``OUT.h5`` (an exclusive lock, eventsim/output/paths.py: a second run to
the same path is refused, never mixed in), then writes ``OUT.h5.partial``; spikes are
buffered in memory between commits and appended at each commit in one short
open-append-close burst (so between commits the file on disk is closed and consistent),
after which
the root attribute ``t_committed`` says up to which time every spike is in the
file. ``finish`` writes weights and counters, sets ``complete = True`` and only
then renames the file to ``OUT.h5``. An interrupted run leaves ``OUT.h5.partial``
with ``complete = False`` and every spike up to ``t_committed``.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

import h5py
import numpy as np

import eventsim
from eventsim.output.recorder import SpikeRecorder
from eventsim.output.paths import OutputClaim

SONATA_MAGIC = np.uint32(0x0A7A)
SONATA_VERSION = np.array([0, 1], dtype=np.uint32)
SORTING_ENUM = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="i1")


def _open(path, mode):
    """Open without HDF5's file locking: a user watching OUT.h5.partial with h5py or
    `eventsim analyze` holds a read lock, which must not stop the run. The writer keeps
    the file closed between checkpoints, so a reader sees a consistent file then."""
    return h5py.File(path, mode, locking=False)


class SonataWriter:
    """Spike sink for :class:`eventsim.Simulation` writing the contract's layout.

    ``claim``: an :class:`~eventsim.output.paths.OutputClaim` for ``path`` taken by the
    caller (before building the network); without one the writer takes its own, refusing
    an existing file unless ``force``. The claim is released by :meth:`finish` and
    :meth:`close`."""

    def __init__(self, path, network, *, scenario_text="", scenario_dir="", seed=0, backend="cpu",
                 duration=0.0, record_spikes="all", claim=None, force=False, t_start=None, source=None,
                 seed_after_start=None):
        self._attach(path, network, claim if claim is not None else OutputClaim(Path(path), force=force),
                     record_spikes)
        self.n_written = {p.name: 0 for p in self.pops}
        self.t_committed = 0.0
        try:
            self._create(scenario_text, scenario_dir, seed, backend, duration)
            if t_start is not None:   # a run started from a checkpoint (docs/checkpoints.md)
                with _open(self.partial, "r+") as f:
                    f.attrs["t_start"] = float(t_start)
                    f.attrs["t_committed"] = float(t_start)
                    f.attrs["checkpoint"] = str(source)
                    if seed_after_start is not None:
                        f.attrs["seed_after_start"] = np.int64(seed_after_start)
        except OSError as exc:
            self.claim.release()
            from eventsim.errors import InputError
            raise InputError(f"output: cannot create {self.partial} ({exc})") from None
        self._inode = os.stat(self.partial).st_ino

    @classmethod
    def reopen(cls, path, network, *, n_written, t, claim, record_spikes="all", **_ignored):
        """Continue writing the ``OUT.h5.partial`` of an interrupted run from a checkpoint
        at time ``t``: spikes beyond the checkpoint's ``n_written`` (per population) are
        cut off, and ``t_committed`` goes back to ``t``."""
        self = cls.__new__(cls)
        self._attach(path, network, claim, record_spikes)
        from eventsim.output.checkpoint import CheckpointError
        if set(n_written) != {p.name for p in self.pops}:
            raise CheckpointError(f"resume: the checkpoint records populations {sorted(n_written)}, "
                                  f"the scenario {sorted(p.name for p in self.pops)}")
        try:
            with _open(self.partial, "r+") as f:
                if bool(f.attrs.get("complete", False)):
                    raise CheckpointError(f"resume: {self.partial} claims to be complete")
                for p in self.pops:
                    g = f["spikes"][p.name]
                    n = int(n_written[p.name])
                    if g["timestamps"].shape[0] < n or g["node_ids"].shape[0] < n:
                        raise CheckpointError(f"resume: {self.partial} holds fewer spikes of {p.name!r} "
                                              f"than its checkpoint says were written ({n})")
                    for name in ("timestamps", "node_ids"):
                        g[name].resize((n,))
                f.attrs["t_committed"] = float(t)
                f.flush()
        except OSError as exc:
            raise CheckpointError(f"resume: cannot open {self.partial} ({exc})") from None
        self.n_written = {p.name: int(n_written[p.name]) for p in self.pops}
        self.t_committed = float(t)
        self._inode = os.stat(self.partial).st_ino
        return self

    def _attach(self, path, network, claim, record_spikes):
        """What a new and a reopened writer share: the output, its claim, the recorded
        populations and the spike buffer between commits."""
        self.path = Path(path)
        self.claim = claim
        self.partial = claim.partial
        self.network = network
        self.pops = [p for p in network.populations if not p.hidden and
                     (record_spikes == "all" or p.name in record_spikes)]
        self._buffer = SpikeRecorder(network, [p.name for p in self.pops])

    def _create(self, scenario_text, scenario_dir, seed, backend, duration):
        with _open(self.partial, "w") as f:
            f.attrs["magic"] = SONATA_MAGIC
            f.attrs["version"] = SONATA_VERSION
            f.attrs["eventsim_version"] = eventsim.__version__
            f.attrs["scenario"] = scenario_text
            f.attrs["scenario_dir"] = str(scenario_dir)
            f.attrs["seed"] = np.int64(seed)
            f.attrs["backend"] = backend
            f.attrs["duration"] = float(duration)
            f.attrs["t_committed"] = 0.0
            f.attrs["complete"] = False
            sp = f.create_group("spikes")
            for p in self.pops:
                g = sp.create_group(p.name)
                g.attrs.create("sorting", 2, dtype=SORTING_ENUM)
                g.attrs["n_nodes"] = np.uint64(p.size)
                ts = g.create_dataset("timestamps", shape=(0,), maxshape=(None,), dtype="f8",
                                      chunks=(1 << 16,))
                ts.attrs["units"] = "ms"
                g.create_dataset("node_ids", shape=(0,), maxshape=(None,), dtype="u8", chunks=(1 << 16,))

    def _check_owned(self):
        """The partial file is still the one this run created (nothing replaced it)."""
        try:
            ok = os.stat(self.partial).st_ino == self._inode
        except FileNotFoundError:
            ok = False
        if not ok:
            raise RuntimeError(f"{self.partial} was removed or replaced by someone else during "
                               f"the run; this run's output is lost")

    # ---- sink interface ----
    def append(self, t, gid):
        self._buffer.append(t, gid)

    def commit(self, t_committed):
        """Append buffered spikes and advance t_committed (one short burst, file closed after).

        If the file cannot be opened just now, the spikes stay buffered for the next
        checkpoint (t_committed is not advanced)."""
        self._check_owned()
        try:
            f = _open(self.partial, "r+")
        except OSError:
            return
        with f:
            for p in self.pops:
                t, i = self._buffer.take(p.name)
                if t.size == 0:
                    continue
                i = i.astype(np.uint64)
                g = f["spikes"][p.name]
                n0 = self.n_written[p.name]
                for name, data in (("timestamps", t), ("node_ids", i)):
                    ds = g[name]
                    ds.resize((n0 + data.size,))
                    ds[n0:] = data
                self.n_written[p.name] = n0 + t.size
            f.flush()
            f.attrs["t_committed"] = float(t_committed)
        self.t_committed = float(t_committed)

    def spikes(self, population):
        with _open(self.partial if self.partial.exists() else self.path, "r") as f:
            g = f["spikes"][population]
            return g["timestamps"][:], g["node_ids"][:].astype(np.int64)

    # ---- end of run ----
    def finish(self, counters=None, weights=(), extras=(), weight_tables=None):
        """Write weights and counters, mark complete, rename OUT.h5.partial -> OUT.h5.

        ``extras``: callables ``f(h5file)`` that write further groups (e.g. /learning)
        into the file before it is marked complete.
        ``weights``: projections whose synapses are written; ``weight_tables``
        ({projection: (source ids, target ids, weights)}, ``Simulation.projection_weights``:
        the weights now, plastic ones included, gathered from the ranks) gives them,
        default the network's own table.

        If the rename fails, the partial file is marked incomplete again before the
        error propagates: no file claims completeness without being the final output.
        Without ``force``, an ``OUT.h5`` that appeared during the run is not replaced
        (the run stays in ``OUT.h5.partial``, complete = false, and the error says so)."""
        self._check_owned()
        with _open(self.partial, "r+") as f:
            if weights:
                wg = f.require_group("weights")
                for name in weights:
                    if weight_tables is not None:
                        src, tgt, w = weight_tables[name]
                    else:
                        src, tgt, w, _ = self.network.synapse_table(name)
                    g = wg.create_group(name)
                    g.create_dataset("source_ids", data=src.astype(np.uint64))
                    g.create_dataset("target_ids", data=tgt.astype(np.uint64))
                    g.create_dataset("weight", data=w.astype(np.float64))
            if counters is not None:
                write_counters(f, counters)
            for write in extras:
                write(f)
            f.flush()
            f.attrs["complete"] = True
        try:
            self._rename()
        except OSError:
            with _open(self.partial, "r+") as f:
                f.attrs["complete"] = False
            raise
        finally:
            self.claim.release()

    def _rename(self):
        if self.claim.force:
            os.replace(self.partial, self.path)
            return
        try:     # no-clobber: a hard link fails if OUT.h5 exists
            os.link(self.partial, self.path)
        except FileExistsError:
            raise FileExistsError(errno.EEXIST, f"{self.path} appeared during the run and is not "
                                  f"replaced (no --force); the run is in {self.partial}") from None
        except OSError:           # a file system without hard links
            if self.path.exists():
                raise FileExistsError(errno.EEXIST, f"{self.path} appeared during the run") from None
            os.replace(self.partial, self.path)
            return
        os.unlink(self.partial)

    def close(self):
        """Give up the claim on the output (the partial file, if any, stays)."""
        self.claim.release()

def write_counters(f, counters):
    """The /counters group (layout documented in the README, "Event counters")."""
    c = f.require_group("counters")
    c.attrs["t_stop"] = float(counters["t_stop"])
    c.attrs["version"] = 1
    pg = c.require_group("populations")
    for name, d in counters["populations"].items():
        g = pg.require_group(name)
        g.attrs["model"] = d["model"]
        g.attrs["size"] = int(d["size"])
        g.attrs["hidden"] = bool(d.get("hidden", False))
        g.create_dataset("spike_count", data=np.asarray(d["spike_count"], dtype=np.uint64))
        g.create_dataset("neuron_updates", data=np.asarray(d["neuron_updates"], dtype=np.uint64))
    jg = c.require_group("projections")
    for name, d in counters["projections"].items():
        g = jg.require_group(name)
        g.attrs["source"] = d["source"]
        g.attrs["target"] = d["target"]
        g.attrs["n_synapses"] = int(d["n_synapses"])
        g.create_dataset("synaptic_events", data=np.uint64(d["synaptic_events"]))
        g.create_dataset("plasticity_updates", data=np.uint64(d["plasticity_updates"]))
    sg = c.require_group("stimuli")
    for name, d in counters["stimuli"].items():
        g = sg.require_group(name)
        g.create_dataset("events", data=np.uint64(d["events"]))
