"""Hardware energy profiles: one TOML file per chip in this folder, loaded as data.

A profile prices *operations* (the keys of :data:`OPERATIONS`) in joules per
operation, each with a point ``value``, a ``low``/``high`` band and a
``source``; it adds a static power per chip and the chip's limits (neurons,
fan-in and cores). The format is described in ``docs/energy.md``. Users add a
chip by writing such a file and naming its path wherever a profile name is
accepted (``--hardware my_chip.toml``, ``[energy] hardware = ["my_chip.toml"]``).
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from eventsim.errors import InputError

HERE = Path(__file__).resolve().parent

# operation -> what one of it is (each is counted by eventsim.energy; see docs/energy.md)
OPERATIONS = {
    "synaptic_op": "one (spike, synapse) delivery of a projection, or one stimulus input event",
    "plasticity_update": "one weight update of a plastic synapse",
    "neuron_update": "one event-driven state update of a non-source neuron",
    "neuron_timestep": "one non-source neuron in one chip time step (clock-driven update)",
    "neuron_timestep_active": "a neuron time step in which the neuron was updated by an event",
    "neuron_timestep_inactive": "a neuron time step without an event update",
    "spike": "one spike emitted by any neuron",
    "spike_routed": "one spike message delivered to a core that holds at least one target",
    "spike_within_core": "a routed message to the source neuron's own core",
    "spike_to_core": "a routed message to another core of the same chip",
    "spike_to_chip": "a routed message to a core on another chip",
    "spike_outgoing": "a routed message that leaves its source core (to_core + to_chip)",
    "hop_ew": "one east/west mesh hop of a routed message",
    "hop_ns": "one north/south mesh hop of a routed message",
    "dense_mac": "one multiply-accumulate of the dense equivalent network",
    "dense_weight_read": "one 32-bit weight read of the dense equivalent network",
}

LIMIT_KEYS = ("neurons_per_core", "synapses_per_core", "axons_per_core", "cores_per_chip", "mesh_width")


class ProfileError(InputError):
    """A hardware profile that cannot be found or read."""


@dataclass(frozen=True)
class Figure:
    """An energy (J per operation) or a power (W) with its band and source."""
    value: float
    low: float
    high: float
    source: str = ""


@dataclass
class HardwareProfile:
    name: str
    title: str
    kind: str                         # "neuromorphic" | "dense"
    clock_driven: bool
    time_step_ms: float               # simulated time one chip step stands for
    step_wall_s: float                # wall-clock seconds one step takes on the chip
    limits: dict                      # LIMIT_KEYS -> int (absent: no limit)
    static: Figure                    # W per chip
    energy: dict                      # operation -> Figure (J per operation)
    source: str = ""
    path: str = ""
    notes: dict = field(default_factory=dict)


def profile_names() -> list:
    """Names of the built-in profiles (the .toml files in this folder), sorted."""
    return sorted(p.stem for p in HERE.glob("*.toml"))


def _is_path(spec: str) -> bool:
    return spec.endswith(".toml") or "/" in spec or "\\" in spec


def resolve(spec: str, base_dir=None, where: str = "--hardware") -> Path:
    """The file for a profile name or a path (relative paths against ``base_dir``, else the cwd)."""
    if _is_path(spec):
        p = Path(spec).expanduser()
        if not p.is_absolute() and base_dir is not None:
            p = Path(base_dir) / p
        if not p.is_file():
            raise ProfileError(f"{where}: hardware profile file {str(p)!r} not found")
        return p
    names = profile_names()
    if spec not in names:
        hint = difflib.get_close_matches(spec, names, n=1)
        raise ProfileError(f"{where}: unknown hardware profile {spec!r}"
                           + (f" (did you mean {hint[0]!r}?)" if hint else "")
                           + f"; known: {', '.join(names)}, or a path to a .toml profile file")
    return HERE / f"{spec}.toml"


def load_profile(spec: str, base_dir=None, where: str = "--hardware") -> HardwareProfile:
    """A profile by built-in name (``"loihi"``) or by path to a .toml file."""
    path = resolve(spec, base_dir, where)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"{path.name}: not a readable TOML file ({exc})") from None
    return parse_profile(data, path)


def _number(d, key, where, problems, default=None, positive=False, allow_zero=True):
    v = d.get(key, default)
    if v is None:
        problems.append(f"{where}.{key}: missing")
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        problems.append(f"{where}.{key}: must be a number, got {v!r}")
        return None
    if v < 0 or (positive and v == 0 and not allow_zero):
        problems.append(f"{where}.{key}: must be {'> 0' if not allow_zero else '>= 0'}, got {v!r}")
        return None
    return float(v)


def _figure(d, where, problems, value_key="value"):
    if not isinstance(d, dict):
        problems.append(f"{where}: must be a table with {value_key}, low, high, source")
        return None
    unknown = set(d) - {value_key, "low", "high", "source"}
    for k in sorted(unknown):
        problems.append(f"{where}.{k}: unknown key (expected {value_key}, low, high, source)")
    value = _number(d, value_key, where, problems)
    if value is None:
        return None
    low = _number(d, "low", where, problems, default=value)
    high = _number(d, "high", where, problems, default=value)
    if low is None or high is None:
        return None
    if not low <= value <= high:
        problems.append(f"{where}: need low <= value <= high, got {low!r}, {value!r}, {high!r}")
        return None
    return Figure(value, low, high, str(d.get("source", "")))


def parse_profile(data: dict, path=None) -> HardwareProfile:
    """A HardwareProfile from a parsed TOML table; every problem names the file and key."""
    fname = Path(path).name if path is not None else "<profile>"
    problems = []
    where = lambda key: f"{fname}: {key}"
    known = {"name", "title", "kind", "clock_driven", "source", "timing", "limits", "static", "energy", "notes"}
    for k in sorted(set(data) - known):
        hint = difflib.get_close_matches(k, sorted(known), n=1)
        problems.append(where(k) + ": unknown key" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    name = data.get("name", Path(path).stem if path is not None else "custom")
    kind = data.get("kind", "neuromorphic")
    if kind not in ("neuromorphic", "dense"):
        problems.append(where("kind") + f": must be 'neuromorphic' or 'dense', got {kind!r}")
    timing = data.get("timing", {})
    time_step = _number(timing, "time_step_ms", where("timing"), problems, default=1.0)
    step_wall = _number(timing, "step_wall_s", where("timing"), problems,
                        default=(time_step or 1.0) / 1000.0)
    if time_step == 0:
        problems.append(where("timing.time_step_ms") + ": must be > 0, got 0")
    limits = {}
    lim = data.get("limits", {})
    for k in sorted(set(lim) - set(LIMIT_KEYS) - {"source"}):
        hint = difflib.get_close_matches(k, LIMIT_KEYS, n=1)
        problems.append(where(f"limits.{k}") + ": unknown key" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    for k in LIMIT_KEYS:
        if k in lim:
            v = lim[k]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                problems.append(where(f"limits.{k}") + f": must be an integer >= 1, got {v!r}")
            else:
                limits[k] = int(v)
    if kind == "neuromorphic" and "neurons_per_core" not in limits:
        problems.append(where("limits.neurons_per_core") + ": missing (needed to map neurons onto cores)")
    static = _figure(data.get("static", {"power_w": 0.0}), where("static"), problems, "power_w")
    energy = {}
    etab = data.get("energy")
    if not isinstance(etab, dict) or not etab:
        problems.append(where("energy") + ": missing (at least one [energy.<operation>] table)")
        etab = {}
    for op, fig in etab.items():
        if op not in OPERATIONS:
            hint = difflib.get_close_matches(op, list(OPERATIONS), n=1)
            problems.append(where(f"energy.{op}") + ": unknown operation"
                            + (f" (did you mean {hint[0]!r}?)" if hint else ""))
            continue
        f = _figure(fig, where(f"energy.{op}"), problems)
        if f is not None:
            energy[op] = f
    if problems:
        raise ProfileError(problems)
    return HardwareProfile(
        name=str(name), title=str(data.get("title", name)), kind=kind,
        clock_driven=bool(data.get("clock_driven", True)),
        time_step_ms=time_step, step_wall_s=step_wall, limits=limits, static=static,
        energy=energy, source=str(data.get("source", "")), path=str(path or ""),
        notes=dict(data.get("notes", {})))
