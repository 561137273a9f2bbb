"""Python entry points: ``from_nir`` (a NIR graph as an eventsim Network) and ``to_nir``."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .neurons import Units
from .scenario import NirParts, read, units_of


def from_nir(graph_or_path, *, time_unit=1000.0, dt=1e-4, delay=0.01, seed=0):
    """The eventsim Network of a NIR graph (a ``.nir`` path or a ``nir.NIRGraph``).

    ``time_unit``: ms per NIR time unit (1000: the graph's taus are in seconds);
    ``dt``: the step it was trained with, in its time unit (a spike is a unit pulse held
    for one step); ``delay``: ms taken by every connection (NIR's are instantaneous).
    Node names become population names; Input nodes are spike_source populations
    (``Simulation.set_spike_times``). The Network remembers the graph, so that
    :func:`to_nir` writes its structure back. InputError names the node it refuses.
    """
    from ..network.build import build_network
    units = Units(time_unit=float(time_unit), dt=float(dt), delay=float(delay))
    parts = read(graph_or_path, units)
    net = build_network(scenario_of(parts, seed))
    net.nir_origin = (parts.composed, units)
    return net


def scenario_of(parts: NirParts, seed=0, duration=1.0):
    """A validated Scenario holding only the NIR graph's network."""
    from ..scenario.model import Scenario
    from ..scenario.validate import validate
    raw = {"simulation": {"duration": float(duration), "seed": int(seed)}, "population": parts.populations}
    if parts.stimuli:
        raw["stimulus"] = parts.stimuli
    fields = validate(raw, Path.cwd())
    fields["projections"] += parts.projections
    return Scenario(**fields)


def to_nir(source, *, time_unit=None, dt=None, delay=None):
    """(nir.NIRGraph, notes) of an eventsim network: a Network (from :func:`from_nir` or
    built from a scenario), or a scenario (path, dict or Scenario). Units: the scenario's
    ``[network] nir_*`` keys, the Network's own when it came from :func:`from_nir`, else
    the arguments (defaults as :func:`from_nir`). ``notes`` say what was left out."""
    from ..network.core import Network
    from .export import export
    given = {k: float(v) for k, v in dict(time_unit=time_unit, dt=dt, delay=delay).items() if v is not None}
    origin = None
    if isinstance(source, Network):
        net = source
        origin, units = getattr(net, "nir_origin", (None, Units()))
    else:
        from ..api import load
        from ..network.build import build_network
        scenario = source if hasattr(source, "populations") else load(source)
        units = units_of(scenario.network)
        net = build_network(scenario)
        if scenario.network.get("nir") is not None:
            origin = read(scenario.network["nir"], units, label=Path(scenario.network["nir"]).name).composed
    if given:
        if origin is not None and any(getattr(units, k) != v for k, v in given.items()):
            raise InputError("nir-export: the units of a network read from a NIR graph are the ones it was "
                             "read with (nir_time_unit, nir_dt, nir_delay)")
        units = Units(**{**units.__dict__, **given})
    return export(net, units, origin)
