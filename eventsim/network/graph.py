"""Networks from graphs: a networkx DiGraph (or MultiDiGraph) or a GraphML file.

Node attribute ``population`` names a scenario population; within a population,
nodes map to local ids 0..size-1 in sorted order of their ids (numerically when
every id is an integer or an integer string, so that a graph and its GraphML
copy, whose ids are strings, agree; else as strings). Edge attributes
``weight``, ``delay`` (ms, > 0) and optional ``plasticity`` (a key of the
scenario's [plasticity]). The edges of each population pair become one
``pairs`` projection named "<source>_to_<target>" ("_graph" appended when a
scenario projection has that name), with its pairs in (source, target) order,
so a graph and the same synapses written as ``pairs`` projections give the same
synapse table.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError

MAX_PROBLEMS = 20


def read_graph(path) -> "networkx.DiGraph":   # (networkx is imported only when a graph is used)
    """A GraphML file as a networkx graph; InputError naming the file if it cannot be read."""
    import networkx as nx
    path = Path(path)
    try:
        graph = nx.read_graphml(path)
        graph.graph["eventsim_file"] = path.name  # named in later error messages
        return graph
    except FileNotFoundError:
        raise InputError(f"network.graph: file not found: {path}") from None
    except Exception as exc:  # ElementTree, networkx and type errors: all mean a bad file
        raise InputError(f"network.graph: {path}: not a readable GraphML file ({exc})") from None


def _node_order(node):
    """Sort key: integers (and integer strings) numerically, before other ids as strings."""
    if isinstance(node, (int, np.integer)) and not isinstance(node, bool):
        return (0, int(node), "")
    text = str(node)
    try:
        return (0, int(text), text)
    except ValueError:
        return (1, 0, text)


def _number(value):
    if isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x


class _Problems(list):
    def add(self, msg):
        self.append(msg)
        if len(self) >= MAX_PROBLEMS:
            self.raise_now(more=True)

    def raise_now(self, more=False):
        if self:
            raise InputError(list(self) + (["... (further problems not listed)"] if more else []))


def node_ids(scenario, graph, label="network.graph"):
    """node -> (population name, local id); checks populations and sizes."""
    pops = {p["name"]: p for p in scenario.populations}
    problems = _Problems()
    members = {}
    for node, data in graph.nodes(data=True):
        pop = data.get("population")
        if pop is None:
            problems.add(f"{label}: node {node!r}: missing attribute 'population'")
        elif pop not in pops:
            problems.add(f"{label}: node {node!r}: population {pop!r} is not defined in the scenario")
        else:
            members.setdefault(pop, []).append(node)
    for pop, nodes in members.items():
        if len(nodes) != int(pops[pop]["size"]):
            problems.add(f"{label}: population {pop!r} has {len(nodes)} nodes in the graph, "
                         f"but size {pops[pop]['size']} in the scenario")
    problems.raise_now()
    ids = {}
    for pop, nodes in members.items():
        for local, node in enumerate(sorted(nodes, key=_node_order)):
            ids[node] = (pop, local)
    return ids


def graph_projections(scenario, graph, taken=()):
    """Projection specs ("pairs" rule, per-edge weights and delays) for the edges of
    ``graph`` (a networkx graph or a GraphML path), one per population pair, ordered
    by (source, target) population in scenario order."""
    import networkx as nx
    if not isinstance(graph, nx.Graph):
        graph = read_graph(graph)
    name = graph.graph.get("eventsim_file")
    label = f"network.graph ({name})" if name else "network.graph"
    if not graph.is_directed():
        raise InputError(f"{label}: the graph must be directed (a DiGraph)")
    ids = node_ids(scenario, graph, label)
    problems = _Problems()
    groups = {}
    for u, v, data in graph.edges(data=True):
        edge = f"{label}: edge ({u!r}, {v!r})"
        if u not in ids or v not in ids:
            continue  # node problems were reported already
        w, d = _number(data.get("weight")), _number(data.get("delay"))
        if "weight" not in data:
            problems.add(f"{edge}: missing attribute 'weight'")
        elif w is None or not np.isfinite(w):
            problems.add(f"{edge}: weight must be a finite number, got {data['weight']!r}")
        if "delay" not in data:
            problems.add(f"{edge}: missing attribute 'delay' (ms)")
        elif d is None or not (d > 0 and np.isfinite(d)):
            problems.add(f"{edge}: delay must be > 0 ms, got {data['delay']!r}")
        plasticity = data.get("plasticity") or None
        if plasticity is not None and plasticity not in scenario.plasticity:
            problems.add(f"{edge}: plasticity {plasticity!r} is not a key of [plasticity]")
        (sp, si), (tp, ti) = ids[u], ids[v]
        g = groups.setdefault((sp, tp), dict(src=[], tgt=[], w=[], d=[], plasticity=plasticity, edge=edge))
        if plasticity != g["plasticity"]:
            problems.add(f"{edge}: plasticity {plasticity!r} differs from {g['plasticity']!r} of "
                         f"{g['edge'].split(': ', 1)[1]}; edges from {sp!r} to {tp!r} must share one")
        g["src"].append(si)
        g["tgt"].append(ti)
        g["w"].append(w)
        g["d"].append(d)
    problems.raise_now()
    order = {p["name"]: i for i, p in enumerate(scenario.populations)}
    taken = set(taken)
    specs = []
    for (sp, tp) in sorted(groups, key=lambda k: (order[k[0]], order[k[1]])):
        g = groups[(sp, tp)]
        name = f"{sp}_to_{tp}"
        if name in taken:
            name += "_graph"
        base, k = name, 2
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        taken.add(name)
        specs.append(dict(name=name, source=sp, target=tp, rule="pairs",
                          pairs=np.column_stack([np.asarray(g["src"], dtype=np.int64),
                                                 np.asarray(g["tgt"], dtype=np.int64)]),
                          weight=np.asarray(g["w"], dtype=np.float64),
                          delay=np.asarray(g["d"], dtype=np.float64),
                          allow_autapses=True, allow_multapses=True,
                          plasticity=g["plasticity"], key=f"network.graph.{name}"))
    return specs


def network_from_graph(scenario, graph):
    """The network of ``scenario`` with the synapses of ``graph`` (a networkx DiGraph or a
    GraphML path) added as projections; same as ``build_network(scenario, graph=graph)``."""
    from .build import build_network
    return build_network(scenario, graph=graph)
