"""Networks from graphs (networkx DiGraph and GraphML) against the same network as pairs."""
import networkx as nx
import numpy as np
import pytest
from eventsim.models import neuron_model

from eventsim.errors import InputError
from eventsim.network.build import build_network
from eventsim.network.graph import network_from_graph
from eventsim.scenario.model import Scenario

SIZES = {"exc": 8, "inh": 3}
WEIGHT = {("exc", "exc"): 0.25, ("exc", "inh"): 0.5, ("inh", "exc"): -1.0, ("inh", "inh"): -0.75}
DELAY = {("exc", "exc"): 1.5, ("exc", "inh"): 0.7, ("inh", "exc"): 2.0, ("inh", "inh"): 1.0}


def lif(name, size):
    params = {k: p.default for k, p in neuron_model("lif").params.items()}
    return dict(name=name, size=size, model="lif", params=params, init={"v": None})


def scenario(projections=(), graph=None, plasticity=None):
    return Scenario(simulation=dict(duration=10.0, seed=3, backend="cpu"),
                    populations=[lif(n, s) for n, s in SIZES.items()], projections=list(projections),
                    plasticity=plasticity or {}, network={"graph": graph})


def node_ids():
    """Graph node ids per population: not contiguous, not in insertion order, and with
    10 > 9 > 2 so that a string sort would differ from the numeric one."""
    return {"exc": [100, 2, 9, 10, 55, 3, 70, 8], "inh": [1000, 40, 41]}


def random_graph(seed=0):
    rng = np.random.default_rng(seed)
    g = nx.DiGraph()
    ids = node_ids()
    for pop, nodes in ids.items():
        for node in rng.permutation(nodes):
            g.add_node(int(node), population=pop)
    edges = []
    for sp, tp in WEIGHT:
        for u in ids[sp]:
            for v in ids[tp]:
                if rng.random() < 0.4:
                    edges.append((u, v, dict(weight=WEIGHT[sp, tp], delay=DELAY[sp, tp])))
    for k in rng.permutation(len(edges)):
        g.add_edge(edges[k][0], edges[k][1], **edges[k][2])
    return g


def as_pairs(g):
    """The graph written as pairs projections, mapping node ids to local ids independently."""
    ids = node_ids()
    local = {node: (pop, i) for pop, nodes in ids.items() for i, node in enumerate(sorted(nodes))}
    projections = []
    for sp, tp in WEIGHT:
        pairs = [[local[u][1], local[v][1]] for u, v in g.edges
                 if local[u][0] == sp and local[v][0] == tp]
        if pairs:
            projections.append(dict(name=f"{sp}_to_{tp}", source=sp, target=tp, rule="pairs", pairs=pairs,
                                    weight=WEIGHT[sp, tp], delay=DELAY[sp, tp], allow_autapses=False,
                                    allow_multapses=True, plasticity=None))
    return projections


def assert_same_tables(a, b):
    assert [p.name for p in a.projections] == [p.name for p in b.projections]
    for k in ("indptr", "target", "weight", "proj"):
        x, y = getattr(a, k), getattr(b, k)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), k
    assert a.delays().tobytes() == b.delays().tobytes()


@pytest.mark.parametrize("seed", [0, 1])
def test_graphml_equals_pairs(tmp_path, seed):
    g = random_graph(seed)
    g.add_edge(9, 9, weight=0.25, delay=1.5)  # an autapse in the graph is kept, as in pairs
    path = tmp_path / "net.graphml"
    nx.write_graphml(g, path)
    from_file = build_network(scenario(graph=path))
    from_api = network_from_graph(scenario(), g)
    from_pairs = build_network(scenario(as_pairs(g)))
    assert from_file.n_synapses == g.number_of_edges()
    assert_same_tables(from_file, from_pairs)
    assert_same_tables(from_api, from_pairs)


def test_node_ids_map_in_numeric_order(tmp_path):
    g = nx.DiGraph()
    for node in (10, 2, 9, 100, 55, 3, 70, 8):
        g.add_node(node, population="exc")
    for node in (41, 1000, 40):
        g.add_node(node, population="inh")
    g.add_edge(10, 1000, weight=1.0, delay=1.0)   # exc local 4 (2,3,8,9,10,...) -> inh local 2
    g.add_edge(2, 40, weight=2.0, delay=1.0)      # exc 0 -> inh 0
    path = tmp_path / "g.graphml"
    nx.write_graphml(g, path)                     # ids become strings "10", "2", ...
    net = build_network(scenario(graph=path))
    s, t, w, _ = net.synapse_table("exc_to_inh")
    assert sorted(zip(s.tolist(), t.tolist(), w.tolist())) == [(0, 0, 2.0), (4, 2, 1.0)]


def test_name_clash_and_plasticity():
    g = random_graph(0)
    for u, v in g.edges:
        if g.nodes[u]["population"] == "exc" and g.nodes[v]["population"] == "exc":
            g.edges[u, v]["plasticity"] = "stdp"
    taken = dict(name="exc_to_exc", source="exc", target="exc", rule="one_to_one", weight=1.0, delay=1.0,
                 allow_autapses=True, allow_multapses=True, plasticity=None)
    net = network_from_graph(scenario([taken], plasticity={"stdp": {"rule": "stdp"}}), g)
    names = [p.name for p in net.projections]
    assert names[0] == "exc_to_exc" and "exc_to_exc_graph" in names
    assert net.projection("exc_to_exc_graph").plasticity == "stdp"
    assert net.projection("inh_to_exc").plasticity is None


def graph_error(g, tmp_path=None):
    with pytest.raises(InputError) as e:
        network_from_graph(scenario(), g)
    return "\n".join(e.value.problems)


def test_bad_graph_content_is_named():
    g = random_graph(0)
    u, v = next(iter(g.edges))
    del g.edges[u, v]["weight"]
    assert f"edge ({u!r}, {v!r}): missing attribute 'weight'" in graph_error(g)

    g = random_graph(0)
    u, v = next(iter(g.edges))
    g.edges[u, v]["delay"] = 0.0
    assert f"edge ({u!r}, {v!r}): delay must be > 0 ms" in graph_error(g)

    g = random_graph(0)
    g.nodes[40]["population"] = "thalamus"
    msg = graph_error(g)
    assert "node 40: population 'thalamus' is not defined" in msg

    g = random_graph(0)
    g.add_node(5000, population="inh")
    assert "population 'inh' has 4 nodes in the graph, but size 3" in graph_error(g)

    g = random_graph(0)
    g.add_node(6000)
    assert "node 6000: missing attribute 'population'" in graph_error(g)

    g = random_graph(0)
    u, v = next(iter(g.edges))
    g.edges[u, v]["plasticity"] = "nope"
    assert "plasticity 'nope' is not a key of [plasticity]" in graph_error(g)


def test_bad_graph_file(tmp_path):
    with pytest.raises(InputError, match="network.graph: file not found"):
        build_network(scenario(graph=tmp_path / "missing.graphml"))
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><not closed")
    with pytest.raises(InputError, match="not a readable GraphML file"):
        build_network(scenario(graph=bad))


def test_graphml_errors_name_the_file(tmp_path):
    g = random_graph(0)
    u, v = next(iter(g.edges))
    del g.edges[u, v]["delay"]
    path = tmp_path / "net.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(InputError) as e:
        build_network(scenario(graph=path))
    assert e.value.problems == [f"network.graph (net.graphml): edge ('{u}', '{v}'): missing attribute 'delay' (ms)"]


def test_networks_without_graphs_do_not_import_networkx():
    """networkx (12 MB, 75 ms per process: every MPI rank pays it) is imported only for
    networks from graphs."""
    import subprocess
    import sys
    code = ("import sys, eventsim\n"
            "net = eventsim.build_network(eventsim.load('scenarios/quickstart.toml', duration=10))\n"
            "eventsim.Simulation(net, seed=1).run(5.0)\n"
            "print('networkx' in sys.modules)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                       cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "False"
