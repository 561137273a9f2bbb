"""Reading and validating scenario files (TOML or JSON)."""
from .model import Scenario  # noqa: F401

try:  # the loader is filled in by eventsim.scenario.load
    from .load import load_scenario  # noqa: F401
except ImportError:  # pragma: no cover - during development only
    pass
