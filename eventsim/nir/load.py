"""Reading a NIR graph (a file or a ``nir.NIRGraph``) and flattening nested graphs.

Every problem is an InputError naming the file and the node (``model.nir: node
'fc1' (Affine): missing parameter 'bias'``): the ``nir`` package's own readers
assert without saying where, so each node is checked before it is built.
Nested graphs are inlined: node ``inner`` of subgraph ``sub`` becomes ``sub.inner``,
and the subgraph's own Input and Output nodes become pass-throughs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError

# Parameters a node must carry (the others have defaults in NIR: v_reset = 0, w_in = 1,
# Flatten's dims, a convolution's input_shape, which eventsim infers from the graph).
REQUIRED = {
    "Input": ("shape",), "Output": ("shape",), "NIRGraph": ("nodes", "edges"),
    "Affine": ("weight", "bias"), "Linear": ("weight",), "Scale": ("scale",),
    "Conv1d": ("weight", "stride", "padding", "dilation", "groups", "bias"),
    "Conv2d": ("weight", "stride", "padding", "dilation", "groups", "bias"),
    "SumPool2d": ("kernel_size", "stride", "padding"), "AvgPool2d": ("kernel_size", "stride", "padding"),
    "Flatten": (), "Delay": ("delay",), "Threshold": ("threshold",),
    "LIF": ("tau", "r", "v_leak", "v_threshold"), "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold"),
    "IF": ("r", "v_threshold"), "LI": ("tau", "r", "v_leak"), "I": ("r",),
    "CubaLI": ("tau_syn", "tau_mem", "r", "v_leak"),
}
# What the attribute of a built node is called when the file's key differs.
_ATTRIBUTE = {("Input", "shape"): "input_type", ("Output", "shape"): "output_type"}


@dataclass
class FlatGraph:
    """A NIR graph with nested graphs inlined: node name -> node, edges (source, target),
    the names of nested Input/Output nodes (pass-throughs), and the label for messages."""
    nodes: dict
    edges: list
    passthrough: set = field(default_factory=set)
    label: str = "nir"
    graph: object = None     # the nir.NIRGraph as read (export writes its structure back)


def node_type(node) -> str:
    return type(node).__name__


def describe(name, node_or_type) -> str:
    kind = node_or_type if isinstance(node_or_type, str) else node_type(node_or_type)
    return f"node {name!r} ({kind})"


def load(source, label=None) -> FlatGraph:
    """A FlatGraph from a ``.nir`` path or a ``nir.NIRGraph``; InputError on anything that
    is not a readable NIR graph of known node types."""
    nir = require_nir(label)
    if isinstance(source, nir.NIRGraph):
        label = label or "nir graph"
        _check_object(source, label, "")
        graph = source
    elif isinstance(source, (str, Path)):
        path = Path(source)
        label = label or path.name
        graph = read_file(path, label)
    else:
        raise InputError(f"{label or 'nir'}: expected a .nir file path or a nir.NIRGraph, "
                         f"got a {type(source).__name__}")
    flat = FlatGraph(nodes={}, edges=[], label=label, graph=graph)
    _inline(graph, "", flat)
    return flat


def require_nir(label=None):
    """The ``nir`` package, imported only when a NIR graph is used."""
    try:
        import nir
    except ImportError:
        raise InputError(f"{label or 'nir'}: reading and writing NIR graphs needs the nir package: "
                         f"pip install 'eventsim[nir]'") from None
    return nir


def read_file(path: Path, label: str):
    """The NIRGraph stored in ``path`` (HDF5, as ``nir.write`` writes it)."""
    import h5py
    from nir.serialization import hdf2dict
    if not path.exists():
        raise InputError(f"{label}: file not found: {path}")
    if not path.is_file():
        raise InputError(f"{label}: {path} is a folder, not a NIR file")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise InputError(f"{label}: {path} is not a NIR file (not HDF5)") from None
    with f:
        if not isinstance(f.get("node"), h5py.Group):
            raise InputError(f"{label}: {path} is not a NIR file (no /node group)")
        try:
            data = hdf2dict(f["node"])
        except Exception as exc:   # h5py type errors: a damaged file
            raise InputError(f"{label}: {path}: cannot read the graph ({exc})") from None
    if _text(data.get("type")) != "NIRGraph":
        raise InputError(f"{label}: {path} is not a NIR graph (its root node is "
                         f"{_text(data.get('type'))!r}, expected 'NIRGraph')")
    return _graph_from_dict(data, label, "")


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf8", "replace")
    if isinstance(value, np.ndarray) and value.shape == () and isinstance(value.item(), bytes):
        return value.item().decode("utf8", "replace")
    return value


def _check_keys(label, name, kind, present):
    if kind not in REQUIRED:
        known = ", ".join(sorted(REQUIRED))
        raise InputError(f"{label}: node {name!r}: unknown node type {kind!r} (NIR node types: {known})")
    missing = [k for k in REQUIRED[kind] if k not in present]
    if missing:
        raise InputError(f"{label}: {describe(name, kind)}: missing parameter"
                         f"{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}")


def _graph_from_dict(data, label, prefix):
    import nir
    if not isinstance(data.get("nodes"), dict):
        raise InputError(f"{label}: graph {prefix.rstrip('.') or '(top level)'!r}: missing its nodes")
    nodes = {}
    for name, nd in data["nodes"].items():
        full = prefix + str(name)
        if not isinstance(nd, dict) or "type" not in nd:
            raise InputError(f"{label}: node {full!r}: not a NIR node (no type)")
        kind = _text(nd["type"])
        _check_keys(label, full, kind, nd)
        if kind == "NIRGraph":
            nodes[name] = _graph_from_dict(nd, label, full + ".")
            continue
        try:
            nodes[name] = nir.dict2NIRNode({k: _text(v) if k == "type" else v for k, v in nd.items()})
        except Exception as exc:   # the nir package asserts shapes and types without naming the node
            why = str(exc) or type(exc).__name__
            raise InputError(f"{label}: {describe(full, kind)}: invalid parameters ({why})") from None
    edges = _edges(data.get("edges"), label, prefix, nodes)
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=data.get("metadata") or {}, type_check=False)


def _edges(raw, label, prefix, nodes):
    from nir.ir.utils import ensure_str
    where = f"graph {prefix.rstrip('.')!r}" if prefix else "the graph"
    if raw is None:
        raise InputError(f"{label}: {where}: missing its edges")
    arr = np.asarray(raw, dtype=object)
    if arr.size == 0:
        return []
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InputError(f"{label}: {where}: edges must be (source, target) pairs, got shape {arr.shape}")
    edges = []
    for a, b in arr:
        try:
            a, b = ensure_str(a), ensure_str(b)
        except TypeError:
            raise InputError(f"{label}: {where}: an edge names something that is not a node: {(a, b)!r}") from None
        edges.append((a, b))
    return edges


def _check_object(graph, label, prefix):
    """The checks of a file's nodes, for a graph built in Python."""
    import nir
    for name, node in graph.nodes.items():
        full = prefix + str(name)
        kind = node_type(node)
        if not isinstance(node, nir.NIRNode):
            raise InputError(f"{label}: node {full!r}: not a NIR node (a {kind})")
        present = {k for k in REQUIRED.get(kind, ()) if getattr(node, _ATTRIBUTE.get((kind, k), k), None) is not None}
        _check_keys(label, full, kind, present)
        if isinstance(node, nir.NIRGraph):
            _check_object(node, label, full + ".")


def _inline(graph, prefix, flat: FlatGraph):
    """Add ``graph``'s nodes and edges to ``flat`` with names prefixed; a nested graph is
    entered through its single Input node and left through its single Output node."""
    import nir
    ports = {}
    for name, node in graph.nodes.items():
        full = prefix + str(name)
        if isinstance(node, nir.NIRGraph):
            ports[name] = _inline(node, full + ".", flat)
        else:
            flat.nodes[full] = node
            if prefix and isinstance(node, (nir.Input, nir.Output)):
                flat.passthrough.add(full)
    where = f"graph {prefix.rstrip('.')!r}" if prefix else "the graph"
    for a, b in graph.edges:
        for end in (a, b):
            if end not in graph.nodes:
                raise InputError(f"{flat.label}: {where}: edge ({a!r}, {b!r}) names {end!r}, "
                                 f"which is not one of its nodes")
        src = ports[a][1] if a in ports else prefix + a
        tgt = ports[b][0] if b in ports else prefix + b
        flat.edges.append((src, tgt))
    inputs = [prefix + n for n, x in graph.nodes.items() if isinstance(x, nir.Input)]
    outputs = [prefix + n for n, x in graph.nodes.items() if isinstance(x, nir.Output)]
    if prefix and (len(inputs) != 1 or len(outputs) != 1):
        raise InputError(f"{flat.label}: graph {prefix.rstrip('.')!r}: a nested graph needs exactly one "
                         f"Input and one Output node, has {len(inputs)} and {len(outputs)}")
    return (inputs[0], outputs[0]) if prefix else None
