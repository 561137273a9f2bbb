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
