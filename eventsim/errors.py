"""Errors that the command line turns into exit code 2 (bad input) with a clear message."""


class InputError(Exception):
    """Invalid user input: a scenario, an argument or a file.

    ``problems`` is a list of one-line messages, each starting with the key path
    or file it is about (``projection[2].delay: must be > 0 ms, got 0``).
    The command line prints one line per problem and exits with code 2.
    """

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class ScenarioError(InputError):
    """A scenario file (or dict) that does not satisfy the contract."""


class NotASpikeFileError(InputError):
    """A file given to ``analyze``/``energy`` that is not a spike file."""


class CapacityError(InputError):
    """A network or run that would not fit in this machine's (or device's) memory."""


class BackendUnavailableError(InputError):
    """A backend that cannot run here (for example ``cuda`` without a GPU)."""


class ArgumentError(InputError, ValueError):
    """A bad argument of the Python API or the command line (the message names it:
    ``threads: must be a whole number >= 1, got 0``). Also a ValueError."""


class UnknownNameError(InputError, KeyError):
    """A population, projection or other name that does not exist (the message names
    what was asked and what exists). Also a KeyError."""

    def __str__(self):           # KeyError would print the message's repr
        return "\n".join(self.problems)


def check_positive_int(value, name, *, from_text=False):
    """``value`` as an int >= 1, or ArgumentError naming ``name``: one check for the API
    and the command line (same message; ``from_text``: the command line's string)."""
    import numbers
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if from_text and isinstance(value, str):
        try:
            value, ok = int(value.strip()), True
        except ValueError:
            ok = False
    if not ok or value < 1:
        raise ArgumentError(f"{name}: must be a whole number >= 1, got {value!r}")
    return int(value)


def check_time(value, name, *, at_least=None):
    """``value`` as a finite float (ms) >= ``at_least``, or ArgumentError naming ``name``."""
    import math
    import numbers
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ArgumentError(f"{name}: must be a finite number of ms, got {value!r}")
    if at_least is not None and value < at_least:
        raise ArgumentError(f"{name}: must be >= {at_least:g} ms (the current time), got {value!r}")
    return float(value)


def unknown_name(kind, name, known):
    """UnknownNameError for ``name`` among ``known`` (with a "did you mean")."""
    import difflib
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return UnknownNameError(f"{kind}: no {kind} named {name!r} (known: {', '.join(map(str, known))}){hint}")
