"""``load_scenario``: read a TOML/JSON scenario (or take a dict), apply overrides, validate.

Every problem is reported at once in one :class:`~eventsim.errors.ScenarioError`
whose ``problems`` are one-line messages starting with a key path
(``projection[2].delay: must be > 0 ms, got 0``) or the file name.
"""
from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

from ..distributions import Dist
from ..errors import ScenarioError
from .model import Scenario
from .validate import validate

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

_OVERRIDE_PART = re.compile(r"^([^.\[\]]+)((?:\[\d+\])*)$")


def load_scenario(source, *, overrides=None, base_dir=None) -> Scenario:
    """The validated, normalised :class:`Scenario`.

    source: a path (str or Path) to a ``.json`` file (JSON) or any other file (TOML),
        or a dict with the parsed structure.
    overrides: {"simulation.seed": 3, "simulation.duration": 100.0, ...}; dotted key paths
        (``population[0].size`` works too) set before validation; a value of None is skipped.
    base_dir: folder that relative paths in the scenario are resolved against; default the
        scenario file's folder, or the current folder for a dict.
    Raises ScenarioError listing every problem.
    """
    raw, text, path = read_source(source)
    if base_dir is None:
        base_dir = path.parent if path is not None else Path.cwd()
    if overrides:
        raw = apply_overrides(raw, overrides)
    fields = validate(raw, Path(base_dir),
                      duration_override=(overrides or {}).get("simulation.duration") is not None)
    return Scenario(**fields, text=text, path=path, base_dir=Path(base_dir),
                    overrides={k: v for k, v in (overrides or {}).items() if v is not None})


def parse_text(text: str) -> dict:
    """The structure of a scenario's text as stored in output files and checkpoints
    (TOML, or JSON for scenarios given as dicts)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return json.loads(text)


def read_source(source):
    """(raw structure, text, resolved path or None) from a file path or a dict."""
    if isinstance(source, dict):
        return copy.deepcopy(source), json.dumps(source, indent=2, default=_json_default), None
    if not isinstance(source, (str, os.PathLike)):
        raise ScenarioError([f"scenario: expected a file path or a dict, got a {type(source).__name__}"])
    path = Path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError([f"{path}: no such scenario file"]) from None
    except IsADirectoryError:
        raise ScenarioError([f"{path}: is a folder, not a scenario file"]) from None
    except OSError as e:
        raise ScenarioError([f"{path}: cannot read: {e.strerror or e}"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ScenarioError([f"{path}: not UTF-8 text (byte {e.start})"]) from None
    raw = _parse_json(path, text) if path.suffix.lower() == ".json" else _parse_toml(path, text)
    return raw, text, path.resolve()


def _json_default(obj):
    """JSON for what a Python caller may put in a scenario dict (Dist, numpy scalars, paths)."""
    if isinstance(obj, Dist):
        return obj.to_scenario()
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)


def _parse_toml(path, text):
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:   # the message ends "(at line L, column C)"
        raise ScenarioError([f"{path}: invalid TOML: {e}"]) from None


def _parse_json(path, text):
    duplicates = []

    def no_duplicates(pairs):
        seen = {}
        for k, v in pairs:
            if k in seen:
                duplicates.append(k)
            seen[k] = v
        return seen

    try:
        raw = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as e:
        raise ScenarioError([f"{path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}"]) from None
    except RecursionError:
        raise ScenarioError([f"{path}: invalid JSON: nested too deeply"]) from None
    problems = [f"{path}: duplicate key {k!r} in a JSON object" for k in duplicates]
    if not isinstance(raw, dict):
        problems.append(f"{path}: must be a JSON object (a table of sections), got a {type(raw).__name__}")
    if problems:
        raise ScenarioError(problems)
    return raw


def apply_overrides(raw, overrides):
    """A copy of ``raw`` with each dotted key path set (containers created where missing)."""
    raw = copy.deepcopy(raw) if isinstance(raw, dict) else {}
    problems = []
    for key, value in overrides.items():
        if value is None:
            continue
        steps = _override_steps(key)
        if steps is None:
            problems.append(f"override {key!r}: not a key path like 'simulation.seed'")
        elif not _set(raw, steps, value):
            problems.append(f"override {key!r}: no such element in the scenario")
    if problems:
        raise ScenarioError(problems)
    return raw


def _set(node, steps, value):
    """Set node[steps...] = value, creating missing tables; False if the path cannot exist."""
    for step, nxt in zip(steps, steps[1:]):
        if isinstance(node, dict) and isinstance(step, str):
            if step not in node:
                node[step] = [] if isinstance(nxt, int) else {}
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return False
    last = steps[-1]
    if isinstance(node, dict) and isinstance(last, str):
        node[last] = value
        return True
    if isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
        return True
    return False


def _override_steps(key):
    if not isinstance(key, str) or not key:
        return None
    steps = []
    for part in key.split("."):
        m = _OVERRIDE_PART.match(part)
        if not m:
            return None
        steps.append(m.group(1))
        steps += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    return steps
