"""eventsim: exact, event-driven simulation of spiking neural networks.

    import eventsim
    scenario = eventsim.load("scenarios/quickstart.toml")
    net = eventsim.build_network(scenario)
    sim = eventsim.Simulation(net, backend="cpu", seed=scenario.seed)
    sim.run(until=500.0)
    times, ids = sim.spikes("exc")
"""
__version__ = "0.1.0"

from .api import load, run_scenario  # noqa: E402,F401
from .engine.simulation import Simulation  # noqa: E402,F401
from .network import build_network, network_from_graph  # noqa: E402,F401
from .scenario import load_scenario  # noqa: E402,F401
