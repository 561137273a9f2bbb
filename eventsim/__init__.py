"""eventsim: exact, event-driven simulation of spiking neural networks.

    import eventsim
    scenario = eventsim.load("scenarios/quickstart.toml")
    net = eventsim.build_network(scenario)
    sim = eventsim.Simulation(net, backend="cpu", seed=scenario.seed)
    sim.run(until=500.0)
    times, ids = sim.spikes("exc")
"""
__version__ = "0.1.0"


def _mount_models():
    """Make the top-level models/ folder importable as eventsim.models from a source tree.

    Installed (also editable) packages map it through pyproject's package-dir; a checkout
    imported directly (``python -m pytest`` from the repository root puts the source
    eventsim/ first on sys.path) needs this mapping to find the catalogue.
    """
    import importlib.util
    import os
    import sys
    if "eventsim.models" in sys.modules or importlib.util.find_spec("eventsim.models") is not None:
        return
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "models")
    if os.path.isfile(os.path.join(root, "__init__.py")):
        spec = importlib.util.spec_from_file_location(
            "eventsim.models", os.path.join(root, "__init__.py"), submodule_search_locations=[root])
        mod = importlib.util.module_from_spec(spec)
        sys.modules["eventsim.models"] = mod
        spec.loader.exec_module(mod)


_mount_models()

from ._jitcache import ensure_fresh as _ensure_fresh  # noqa: E402

_ensure_fresh()

from .api import load, run_scenario  # noqa: E402,F401
from .engine.simulation import Simulation  # noqa: E402,F401
from .network import build_network, network_from_graph  # noqa: E402,F401
from .scenario import load_scenario  # noqa: E402,F401


def from_nir(graph_or_path, **units):
    """A NIR graph (``.nir`` path or ``nir.NIRGraph``) as an eventsim Network
    (:func:`eventsim.nir.from_nir`; the nir package is imported only here)."""
    from .nir import from_nir as _from_nir
    return _from_nir(graph_or_path, **units)
