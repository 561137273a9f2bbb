"""Checks of single scenario values, each reporting into a :class:`Problems` list.

Every checker takes the key path, the raw value and what the schema expects,
records a one-line message when the value is wrong and returns the normalised
value (float, int, str, :class:`~eventsim.distributions.Dist`, list) or
``INVALID``. Checkers never raise on odd input, so one pass collects every problem.
"""
from __future__ import annotations

import difflib
import json
import math
import numbers
import re

from ..distributions import Dist
from .schema import CHECKS, DIST_BOUNDS, DIST_KINDS, DIST_MIN_MASS, REQUIRED, TYPES, Key


class _Invalid:
    def __repr__(self):
        return "INVALID"

    def __bool__(self):
        return False


INVALID = _Invalid()   # a value that failed its check (already reported)


class Problems:
    """One-line messages, each starting with its key path."""

    def __init__(self):
        self.messages = []

    def add(self, path, message):
        line = f"{path}: {message}" if path else message
        self.messages.append(line.replace("\r", "\\r").replace("\n", "\\n"))   # one line, always

    def unknown(self, path, key, known, where=""):
        """Report an unknown key, with a did-you-mean hint from ``known``; ``where`` qualifies it
        (`` for model 'lif'``)."""
        known = [str(k) for k in known]
        hint = [k for k in known if k.lower() == str(key).lower()] \
            or difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        if hint:
            msg = f"(did you mean {hint[0]!r}?)"
        elif known:
            msg = "(known: " + ", ".join(known) + ")"
        else:
            msg = "(nothing may be given here)"
        self.add(path, f"unknown key{where} {msg}")

    def __bool__(self):
        return bool(self.messages)


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_+-]+$")


def join(path, key):
    """``population[0]`` + ``params`` -> ``population[0].params``; odd keys are quoted:
    ``simulation["a b"]``."""
    key = str(key)
    if not _PLAIN_KEY.match(key):
        return f"{path}[{json.dumps(key)}]" if path else json.dumps(key)
    return f"{path}.{key}" if path else key


def describe(value, limit=50):
    """The value as a message shows it: ``0``, ``string '100'``, ``a list [1, 2]``, ``true``."""
    if value is None:
        return "null"
    if value is INVALID:
        return "an invalid value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Dist):
        text = f"a distribution {value.to_scenario()}"
    elif isinstance(value, str):
        text = f"string {value!r}"
    elif isinstance(value, dict):
        text = "a table {" + ", ".join(map(str, value)) + "}"
    elif isinstance(value, (list, tuple)):
        text = f"a list {list(value)!r}"
    elif is_number(value):
        text = repr(value.item() if hasattr(value, "item") else value)
    else:
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_number(value):
    """int or float (numpy scalars too), not bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)   # numpy bools are not Real


def is_int(value):
    return is_number(value) and isinstance(value, numbers.Integral)


def _unit(unit):
    return f" {unit}" if unit else ""


def _paren(unit):
    return f" ({unit})" if unit else ""


def violates(value, check, unit=""):
    """A short reason if the number ``value`` breaks ``check``, else None."""
    ok = {"any": True, ">0": value > 0, ">=0": value >= 0, "[0,1]": 0 <= value <= 1}[check]
    return None if ok else f"must be {CHECKS[check]}{_unit(unit)}"


def check_number(p, path, value, unit="", check="any"):
    if not is_number(value):
        p.add(path, f"must be a number{_paren(unit)}, got {describe(value)}")
        return INVALID
    if not math.isfinite(value):
        p.add(path, f"must be a finite number, got {describe(value)}")
        return INVALID
    reason = violates(value, check, unit)
    if reason:
        p.add(path, f"{reason}, got {describe(value)}")
        return INVALID
    return float(value)


def check_int(p, path, value, unit="", check="any"):
    if is_number(value) and not is_int(value):
        p.add(path, f"must be an integer, got {describe(value)}")
        return INVALID
    if not is_int(value):
        p.add(path, f"must be an integer, got {describe(value)}")
        return INVALID
    reason = violates(value, check, unit)
    if reason:
        p.add(path, f"{reason}, got {describe(value)}")
        return INVALID
    return int(value)


def check_bool(p, path, value):
    if not isinstance(value, bool):
        p.add(path, f"must be true or false, got {describe(value)}")
        return INVALID
    return value


def check_string(p, path, value, choices=()):
    if not isinstance(value, str):
        expected = "one of " + ", ".join(map(repr, choices)) if choices else "a string"
        p.add(path, f"must be {expected}, got {describe(value)}")
        return INVALID
    if choices and value not in choices:
        hint = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
        p.add(path, "must be one of " + ", ".join(map(repr, choices)) + f", got {value!r}"
              + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        return INVALID
    return value


def check_name(p, path, value):
    """A non-empty name usable as an HDF5 group name."""
    if not isinstance(value, str):
        p.add(path, f"must be a string, got {describe(value)}")
        return INVALID
    if not value.strip() or value in (".", "..") or "/" in value or value != value.strip() \
            or any(ord(c) < 32 for c in value):
        p.add(path, f"must be a non-empty name without '/', control characters or surrounding "
                    f"spaces, got {value!r}")
        return INVALID
    return value


def _check_list(p, path, value, what, check_item):
    """A list whose items all pass check_item(p, item_path, item); INVALID at the first bad
    item (one message per list is enough)."""
    if not isinstance(value, (list, tuple)):
        p.add(path, f"must be a list of {what}, got {describe(value)}")
        return INVALID
    out = []
    for i, v in enumerate(value):
        x = check_item(p, f"{path}[{i}]", v)
        if x is INVALID:
            return INVALID
        out.append(x)
    return out


def check_numbers(p, path, value, unit="", check="any"):
    """A list of finite numbers, each satisfying ``check``; INVALID if any is wrong."""
    return _check_list(p, path, value, f"numbers{_paren(unit)}",
                       lambda p_, ip, v: check_number(p_, ip, v, unit, check))


def check_ints(p, path, value, check="any"):
    return _check_list(p, path, value, "integers", lambda p_, ip, v: check_int(p_, ip, v, check=check))


def check_names(p, path, value):
    return _check_list(p, path, value, "names", check_name)


def check_pairs(p, path, value):
    """A list of [source id, target id] pairs of non-negative ints (ranges checked by the caller)."""
    if not isinstance(value, (list, tuple)):
        p.add(path, f"must be a list of [source id, target id] pairs, got {describe(value)}")
        return INVALID
    out = []
    for i, pair in enumerate(value):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(is_int(v) for v in pair)):
            p.add(f"{path}[{i}]", f"must be a pair [source id, target id] of integers, got {describe(pair)}")
            return INVALID
        if pair[0] < 0 or pair[1] < 0:
            p.add(f"{path}[{i}]", f"ids must be >= 0, got {describe(pair)}")
            return INVALID
        out.append((int(pair[0]), int(pair[1])))
    return out


# ---------------------------------------------------------------- distributions
def _phi(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def kept_mass(d: Dist):
    """Fraction of the unbounded distribution's draws that fall inside [min, max]."""
    lo = -math.inf if d.min is None else d.min
    hi = math.inf if d.max is None else d.max
    a, b = d.args
    if d.kind == "uniform":
        return max(0.0, min(hi, b) - max(lo, a)) / (b - a)
    if d.kind == "lognormal":   # a normal in log space
        lo = math.log(lo) if lo > 0 else -math.inf
        hi = math.log(hi) if hi > 0 else None
        if hi is None:
            return 0.0
    if b == 0:
        return 1.0 if lo <= a <= hi else 0.0
    return _phi((hi - a) / b) - _phi((lo - a) / b)


def check_dist(p, path, value):
    """``{uniform = [low, high]}`` etc. (or a Dist) -> Dist, or INVALID."""
    if isinstance(value, Dist):
        value = value.to_scenario()
    if not isinstance(value, dict):
        p.add(path, f"must be a distribution table, got {describe(value)}")
        return INVALID
    ok = True
    for k in value:
        if k not in DIST_KINDS and k not in DIST_BOUNDS:
            p.unknown(join(path, k), k, list(DIST_KINDS) + list(DIST_BOUNDS))
            ok = False
    kinds = [k for k in DIST_KINDS if k in value]
    if len(kinds) != 1:
        p.add(path, "a distribution needs exactly one of uniform, normal, lognormal, got "
                    + (", ".join(kinds) if kinds else "none"))
        return INVALID
    kind = kinds[0]
    names = DIST_KINDS[kind]
    args = value[kind]
    if not (isinstance(args, (list, tuple)) and len(args) == 2 and all(is_number(a) for a in args)
            and all(math.isfinite(a) for a in args)):
        p.add(join(path, kind), f"must be a list of 2 finite numbers [{', '.join(names)}], "
                                f"got {describe(args)}")
        return INVALID
    a, b = float(args[0]), float(args[1])
    if kind == "uniform" and not a < b:
        p.add(join(path, kind), f"needs low < high, got {describe(list(args))}")
        ok = False
    elif kind == "uniform" and not math.isfinite(b - a):
        p.add(join(path, kind), f"high - low must be a finite number, got {describe(list(args))}")
        ok = False
    if kind != "uniform" and b < 0:
        p.add(join(path, kind), f"{names[1]} must be >= 0, got {describe(args[1])}")
        ok = False
    bounds = {}
    for k in DIST_BOUNDS:
        if k in value:
            bounds[k] = check_number(p, join(path, k), value[k])
            ok = ok and bounds[k] is not INVALID
    if not ok:
        return INVALID
    if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
        p.add(path, f"needs min <= max, got min = {bounds['min']:g}, max = {bounds['max']:g}")
        return INVALID
    d = Dist(kind, (a, b), bounds.get("min"), bounds.get("max"))
    mass = kept_mass(d)
    if mass < DIST_MIN_MASS:
        p.add(path, f"min/max keep only {mass:.2g} of the draws (values outside are redrawn; "
                    f"at least {DIST_MIN_MASS:g} needed)")
        return INVALID
    return d


def check_value(p, path, value, unit="", check="any", what=""):
    """A number or a distribution, each satisfying ``check`` (for a distribution: its support)."""
    if isinstance(value, (dict, Dist)):
        d = check_dist(p, path, value)
        if d is INVALID:
            return INVALID
        lo, hi = d.support()
        if check == ">0" and d.can_reach_nonpositive():
            p.add(path, f"must be > 0{_unit(unit)}: a {what + ' ' if what else ''}distribution needs "
                        f"min > 0 (this one reaches {lo:g})")
            return INVALID
        if check in (">=0", "[0,1]") and lo < 0:
            p.add(path, f"must be {CHECKS[check]}{_unit(unit)}: this distribution reaches {lo:g} "
                        f"(set min >= 0)")
            return INVALID
        if check == "[0,1]" and hi > 1:
            p.add(path, f"must be in [0, 1]: this distribution reaches {hi:g} (set max <= 1)")
            return INVALID
        return d
    if not is_number(value):
        p.add(path, f"must be a number or a distribution{_paren(unit)}, "
                    f"got {describe(value)}")
        return INVALID
    return check_number(p, path, value, unit, check)


def check_key(p, path, value, key: Key, what=""):
    """Check ``value`` against a schema Key of a plain type (everything but table/hardware/spikes)."""
    t = key.type
    if t == "number":
        return check_number(p, path, value, key.unit, key.check)
    if t == "integer":
        return check_int(p, path, value, key.unit, key.check)
    if t == "string":
        return check_string(p, path, value, key.choices)
    if t == "bool":
        return check_bool(p, path, value)
    if t == "name":
        return check_name(p, path, value)
    if t == "value":
        return check_value(p, path, value, key.unit, key.check, what)
    if t == "numbers":
        return check_numbers(p, path, value, key.unit, key.check)
    if t == "integers":
        return check_ints(p, path, value, key.check)
    if t == "names":
        return check_names(p, path, value)
    if t == "pairs":
        return check_pairs(p, path, value)
    if t == "path":
        if not isinstance(value, str) or not value.strip():
            p.add(path, f"must be a path (a non-empty string), got {describe(value)}")
            return INVALID
        return value
    return value   # table, spikes, hardware: checked by their section


def check_table(p, path, raw, keys, known=None, hint=None):
    """Check a table against ``keys`` (name -> Key); unknown keys (not in ``known``, default
    ``keys``) are reported with a did-you-mean hint, or ``hint(key)`` when that gives one.

    Returns {name: normalised value | default | INVALID} for every name in ``keys``,
    or None if ``raw`` is not a table.
    """
    if not isinstance(raw, dict):
        p.add(path, f"must be a table, got {describe(raw)}")
        return None
    known = keys if known is None else known
    for k in raw:
        if k not in known:
            extra = hint(k) if hint else None
            if extra:
                p.add(join(path, k), f"unknown key{extra}")
            else:
                p.unknown(join(path, k), k, known)
    out = {}
    for name, key in keys.items():
        if name in raw:
            out[name] = check_key(p, join(path, name), raw[name], key)
        elif key.default is REQUIRED:
            p.add(join(path, name), f"required ({describe_key(key)}), missing")
            out[name] = INVALID
        else:
            out[name] = _copy(key.default)
    return out


def describe_key(key: Key):
    """``number, ms, > 0`` for messages about a missing key."""
    parts = [TYPES[key.type]]
    if key.unit:
        parts.append(key.unit)
    if key.check != "any":
        parts.append(CHECKS[key.check])
    if key.choices:
        parts = ["one of " + ", ".join(map(repr, key.choices))]
    return ", ".join(parts)


def _copy(v):
    return list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v
