"""Read SONATA spike reports (eventsim's, bmtk's, any h5py script's) in chunks.

Two layouts are understood:

* SONATA: ``/spikes/<population>/{timestamps, node_ids}`` with the group
  attributes ``sorting`` and (optionally) ``n_nodes``;
* legacy (older bmtk, hand-written files): ``/spikes/gids`` and
  ``/spikes/timestamps`` directly under ``/spikes``, read as one population
  named ``default``.

Nothing is read whole: spikes come out of :meth:`SpikeFile.iter_chunks` a few
million rows at a time, so files larger than memory can be analysed.
Times are ms throughout (a ``units = "s"`` attribute on ``timestamps`` is
honoured by converting to ms).
"""
from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field

import h5py
import numpy as np

from eventsim.errors import InputError, NotASpikeFileError

#: rows per chunk; tests shrink it to check that chunked == whole reading
DEFAULT_CHUNK_ROWS = 1 << 22

LEGACY_POPULATION = "default"

_SORTING_NAMES = {0: "none", 1: "by_id", 2: "by_time"}


class IncompleteFileWarning(UserWarning):
    """The file's ``complete`` flag is false: only spikes up to ``t_committed`` are used."""


@dataclass
class PopulationInfo:
    """Where one population's spikes live in the file and what is known about it."""

    name: str
    timestamps: str          # dataset path
    node_ids: str            # dataset path
    n_rows: int
    sorting: str             # "none" | "by_id" | "by_time"
    n_nodes: int | None      # from the n_nodes attribute, else None
    time_scale: float = 1.0  # multiply stored times by this to get ms


@dataclass
class SpikeFile:
    """An opened spike file: populations, observation window and chunked access.

    Attributes: ``path``; ``populations`` (name -> PopulationInfo);
    ``window`` (t_start, t_stop) in ms, both ends included (as Elephant's
    ``mean_firing_rate`` and neo's SpikeTrain); ``complete`` (the root flag,
    True when absent); ``t_committed`` and ``duration`` (ms or None);
    ``attrs`` (root attributes); ``notes`` (human-readable remarks, e.g. the
    incomplete-file warning); ``chunk_rows``.
    """

    path: str
    populations: dict
    window: tuple
    complete: bool
    t_committed: float | None
    duration: float | None
    attrs: dict
    notes: list = field(default_factory=list)
    chunk_rows: int = DEFAULT_CHUNK_ROWS

    # -- chunked access -------------------------------------------------
    def iter_chunks(self, population, chunk_rows=None):
        """Yield ``(timestamps_ms, node_ids)`` arrays of the population's spikes
        inside the window, in file order, at most ``chunk_rows`` rows at a time."""
        info = self.populations[population]
        step = int(chunk_rows or self.chunk_rows)
        t0, t1 = self.window
        with h5py.File(self.path, "r") as f:
            ts, ids = f[info.timestamps], f[info.node_ids]
            lo, hi = 0, info.n_rows
            if info.sorting == "by_time" and info.n_rows:
                # time-sorted: find the window's rows by bisection, not by scanning
                lo = _bisect(ts, t0 / info.time_scale, info.n_rows, left=True)
                hi = _bisect(ts, t1 / info.time_scale, info.n_rows, left=False)
            for start in range(lo, hi, step):
                stop = min(start + step, hi)
                t = np.asarray(ts[start:stop], dtype=np.float64)
                if info.time_scale != 1.0:
                    t = t * info.time_scale
                n = np.asarray(ids[start:stop])
                if n.size and n.min() < 0:
                    raise NotASpikeFileError(
                        f"{self.path}: {info.node_ids} holds negative node ids")
                n = n.astype(np.int64, copy=False)
                keep = (t >= t0) & (t <= t1)
                if not keep.all():
                    t, n = t[keep], n[keep]
                yield t, n

    def spikes(self, population):
        """All of the population's spikes in the window: ``(timestamps_ms, node_ids)``,
        sorted by time (then id). Loads them into memory; for notebooks."""
        parts = list(self.iter_chunks(population))
        if parts:
            t = np.concatenate([p[0] for p in parts])
            n = np.concatenate([p[1] for p in parts])
        else:
            t, n = np.empty(0), np.empty(0, dtype=np.int64)
        order = np.lexsort((n, t))
        return t[order], n[order]

    def spike_trains(self, population):
        """List of per-neuron spike-time arrays (ms), one per neuron 0..n_neurons-1."""
        t, n = self.spikes(population)
        size = self.n_neurons(population)
        order = np.argsort(n, kind="stable")
        bounds = np.searchsorted(n[order], np.arange(size + 1))
        ts = t[order]
        return [ts[bounds[i]:bounds[i + 1]] for i in range(size)]

    def n_neurons(self, population):
        """Population size: ``n_nodes`` if the file has it, else highest id seen + 1."""
        info = self.populations[population]
        if info.n_nodes is not None:
            return info.n_nodes
        if not hasattr(self, "_max_id_cache"):
            self._max_id_cache = {}
        if population not in self._max_id_cache:
            top = -1
            with h5py.File(self.path, "r") as f:
                ids = f[info.node_ids]
                for start in range(0, info.n_rows, self.chunk_rows):
                    chunk = ids[start:start + self.chunk_rows]
                    if chunk.size:
                        top = max(top, int(chunk.max()))
            self._max_id_cache[population] = top + 1
        return self._max_id_cache[population]

    def n_neurons_source(self, population):
        """``"n_nodes"`` when the size comes from the file's attribute, else ``"max_id"``."""
        return "n_nodes" if self.populations[population].n_nodes is not None else "max_id"

    # -- other groups eventsim writes --------------------------------------
    def weights(self):
        """Names of the projections under ``/weights`` (each has source_ids, target_ids, weight)."""
        with h5py.File(self.path, "r") as f:
            g = f.get("weights")
            if not isinstance(g, h5py.Group):
                return []
            return sorted(k for k, v in g.items()
                          if isinstance(v, h5py.Group) and "weight" in v)

    def learning(self):
        """Learning curves under ``/learning``: {"<name>/<curve>" or "<name>": 1-D array}."""
        curves = {}
        with h5py.File(self.path, "r") as f:
            g = f.get("learning")
            if not isinstance(g, h5py.Group):
                return curves

            def visit(name, obj):
                if (isinstance(obj, h5py.Dataset) and obj.ndim == 1
                        and np.issubdtype(obj.dtype, np.number)):
                    curves[name] = np.asarray(obj[()], dtype=np.float64)
            g.visititems(visit)
        return curves


def _bisect(ds, value, n, left):
    """First row whose time is >= value (left) or > value (right) in a sorted dataset.

    Bisection over blocks: a few reads of 4096 rows instead of one per probe."""
    lo, hi = 0, n
    block = 4096
    while hi - lo > block:
        mid = (lo + hi) // 2
        x = ds[mid]
        if (x < value) if left else (x <= value):
            lo = mid + 1
        else:
            hi = mid
    seg = np.asarray(ds[lo:hi])
    return lo + int(np.searchsorted(seg, value, side="left" if left else "right"))


def _attr(obj, name):
    """An attribute as a plain Python value (bytes decoded, 1-element arrays unwrapped)."""
    if name not in obj.attrs:
        return None
    v = obj.attrs[name]
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray) and v.size == 1:
        v = v.reshape(-1)[0]
    if isinstance(v, np.generic):
        v = v.item()
    return v


def _sorting(obj):
    """The ``sorting`` attribute as a name, whether stored as the SONATA enum,
    an integer or a string; "none" when absent or unknown."""
    v = _attr(obj, "sorting")
    if isinstance(v, str):
        return v if v in ("none", "by_id", "by_time") else "none"
    if isinstance(v, (int, np.integer)):
        return _SORTING_NAMES.get(int(v), "none")
    return "none"


def _time_scale(ds, where):
    units = _attr(ds, "units")
    if units is None or units in ("ms", "millisecond", "milliseconds"):
        return 1.0
    if units in ("s", "sec", "second", "seconds"):
        return 1000.0
    raise NotASpikeFileError(f"{where}: timestamps units {units!r} not understood (expected 'ms' or 's')")


def _population(path, name, group, ts_key, id_key):
    missing = [k for k in (ts_key, id_key) if not isinstance(group.get(k), h5py.Dataset)]
    if missing:
        raise NotASpikeFileError(
            f"{path}: {group.name} has no " + " or ".join(f"'{k}' dataset" for k in missing)
            + " (a SONATA spike report needs timestamps and node_ids)")
    ts, ids = group[ts_key], group[id_key]
    if ts.ndim != 1 or ids.ndim != 1 or ts.shape != ids.shape:
        raise NotASpikeFileError(
            f"{path}: {ts.name} and {ids.name} must be 1-D of equal length, "
            f"got shapes {ts.shape} and {ids.shape}")
    if not np.issubdtype(ts.dtype, np.number) or not np.issubdtype(ids.dtype, np.integer):
        raise NotASpikeFileError(
            f"{path}: {ts.name} must be numeric and {ids.name} integer, "
            f"got {ts.dtype} and {ids.dtype}")
    n_nodes = _attr(group, "n_nodes")
    if n_nodes is not None:
        try:
            n_nodes = int(n_nodes)
        except (TypeError, ValueError):
            raise NotASpikeFileError(f"{path}: {group.name} attribute n_nodes = {n_nodes!r} is not an integer")
        if n_nodes < 0:
            raise NotASpikeFileError(f"{path}: {group.name} attribute n_nodes = {n_nodes} is negative")
    return PopulationInfo(
        name=name, timestamps=ts.name, node_ids=ids.name, n_rows=int(ts.shape[0]),
        sorting=_sorting(group), n_nodes=n_nodes, time_scale=_time_scale(ts, f"{path}: {ts.name}"))


def _check_time(value, key):
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{key}: must be a number of ms, got {value!r}")
    if not math.isfinite(value):
        raise InputError(f"{key}: must be a finite number of ms, got {value}")
    return value


def open_spikes(path, t_start=None, t_stop=None, chunk_rows=None):
    """Open a SONATA spike file for analysis.

    path: an HDF5 file with a ``/spikes`` group (SONATA or legacy layout).
    t_start, t_stop: observation window in ms (both ends included). Defaults:
    0 and the root ``duration`` attribute, else ``t_committed``, else the last
    spike time. A file whose ``complete`` attribute is false is read only up
    to ``t_committed``, with an :class:`IncompleteFileWarning`.

    Raises InputError for a missing file or a bad window, NotASpikeFileError
    for a file that is not a spike report (the message says what is missing).
    """
    path = os.fspath(path)
    t_start = _check_time(t_start, "--t-start")
    t_stop = _check_time(t_stop, "--t-stop")
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file")
    if os.path.isdir(path):
        raise NotASpikeFileError(f"{path}: is a directory, not a spike file")
    if not h5py.is_hdf5(path):
        raise NotASpikeFileError(f"{path}: not an HDF5 file (a SONATA spike report is HDF5)")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise NotASpikeFileError(f"{path}: cannot be opened as HDF5 ({exc})")
    with f:
        spikes = f.get("spikes")
        if not isinstance(spikes, h5py.Group):
            raise NotASpikeFileError(
                f"{path}: no '/spikes' group (a SONATA spike report has /spikes/<population>/"
                "timestamps and node_ids)")
        pops = {}
        if "gids" in spikes or "timestamps" in spikes:
            pops[LEGACY_POPULATION] = _population(path, LEGACY_POPULATION, spikes, "timestamps", "gids")
        else:
            for name, g in spikes.items():
                if isinstance(g, h5py.Group):
                    pops[name] = _population(path, name, g, "timestamps", "node_ids")
        if not pops:
            raise NotASpikeFileError(
                f"{path}: '/spikes' holds no population (expected /spikes/<population>/timestamps "
                "and node_ids, or the legacy /spikes/gids and /spikes/timestamps)")
        attrs = {k: _attr(f, k) for k in f.attrs}

    complete = attrs.get("complete")
    complete = True if complete is None else bool(complete)
    t_committed = attrs.get("t_committed")
    t_committed = float(t_committed) if isinstance(t_committed, (int, float)) else None
    duration = attrs.get("duration")
    duration = float(duration) if isinstance(duration, (int, float)) else None

    sf = SpikeFile(path=path, populations=pops, window=(0.0, math.inf), complete=complete,
                   t_committed=t_committed, duration=duration, attrs=attrs,
                   chunk_rows=int(chunk_rows or DEFAULT_CHUNK_ROWS))

    # the end of what the file can speak for
    end, end_source = None, None
    if not complete:
        msg = f"{path}: the run did not complete (complete = false); "
        if t_committed is not None:
            msg += f"analysing spikes up to t_committed = {t_committed} ms only"
            end, end_source = t_committed, "t_committed"
        else:
            msg += "no t_committed attribute, analysing every spike in the file"
        sf.notes.append(msg)
        warnings.warn(msg, IncompleteFileWarning, stacklevel=2)
    if end is None and duration is not None:
        end, end_source = duration, "duration"
    if end is None and t_committed is not None:
        end, end_source = t_committed, "t_committed"

    # a run started from a checkpoint speaks for its spikes from its start on
    t_begin = attrs.get("t_start")
    t0 = (float(t_begin) if isinstance(t_begin, (int, float)) else 0.0) if t_start is None else t_start
    if t0 < 0:
        raise InputError(f"--t-start: must be >= 0 ms, got {t0}")
    if t_stop is None:
        t1 = end if end is not None else _last_spike_time(sf)
        if t1 is None:
            raise InputError(f"{path}: no duration, no t_committed and no spikes to end the "
                             "observation window; give --t-stop")
    else:
        t1 = t_stop
        if end is not None and t1 > end:
            if not complete:
                sf.notes.append(f"--t-stop {t1} ms lies beyond t_committed; using {end} ms")
                t1 = end
            else:
                raise InputError(f"--t-stop: {t1} ms lies beyond the recording "
                                 f"({end_source} = {end} ms)")
    if not t1 > t0:
        raise InputError(f"--t-start/--t-stop: the window [{t0}, {t1}] ms is empty "
                         "(t_stop must be greater than t_start)")
    sf.window = (float(t0), float(t1))
    return sf


def _last_spike_time(sf):
    """Latest spike time (ms) over all populations, or None with no spikes at all."""
    last = None
    with h5py.File(sf.path, "r") as f:
        for info in sf.populations.values():
            ts = f[info.timestamps]
            if info.n_rows == 0:
                continue
            if info.sorting == "by_time":
                m = float(ts[info.n_rows - 1])
            else:
                m = max(float(np.max(ts[s:s + sf.chunk_rows]))
                        for s in range(0, info.n_rows, sf.chunk_rows))
            m *= info.time_scale
            last = m if last is None else max(last, m)
    return last
