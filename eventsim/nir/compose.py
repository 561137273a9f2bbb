"""A flattened NIR graph as eventsim populations, projections and bias currents.

Neuron nodes (and top-level Input nodes) become populations. Between two of them,
every path through linear nodes (Affine, Linear, Scale, Flatten, convolutions,
pooling, Delay, pass-throughs) is composed into one sparse matrix per total delay;
the sum over paths is the projection, one synapse per non-zero entry and delay,
weights in eventsim units (``Neuron.input_scale`` of the target). Every connection
also takes ``Units.delay`` ms: NIR's connections are instantaneous, eventsim's delays
are > 0. A bias is a constant signal: it is carried along the linear nodes after
it (delays do not change a constant) to the neurons, where it is a current.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..errors import InputError
from .linear import LINEAR_TYPES, Step, step
from .load import FlatGraph, describe, node_type
from .neurons import INTEGRATING, NEURON_TYPES, Neuron, Units, size_of, to_population

_NAME = re.compile(r"^[^/\x00-\x1f\x7f]+$")


@dataclass
class Synapses:
    """The synapses from population ``source`` to ``target`` (population-local ids), with
    the linear nodes they were composed from (``nodes``)."""
    source: str
    target: str
    pairs: np.ndarray      # (n, 2) int64
    weight: np.ndarray     # (n,) eventsim units (mV delta, pA exp)
    delay: np.ndarray      # (n,) ms
    nodes: list = field(default_factory=list)


@dataclass
class Composed:
    flat: FlatGraph
    units: Units
    neurons: dict          # population name -> Neuron (sources included, input_scale None)
    order: list            # population names in graph order
    synapses: list         # Synapses
    bias: dict             # population name -> (n,) constant input, pA (only where non-zero)
    inputs: list           # names of the source populations (top-level Input nodes)
    outputs: list          # names of the populations feeding top-level Output nodes


def compose(flat: FlatGraph, units: Units) -> Composed:
    label = flat.label
    kinds = {name: _kind(name, node, flat, label) for name, node in flat.nodes.items()}
    preds, succs = {n: [] for n in flat.nodes}, {n: [] for n in flat.nodes}
    for a, b in flat.edges:
        succs[a].append(b)
        preds[b].append(a)
    neurons, order, inputs = {}, [], []
    for name, node in flat.nodes.items():
        if kinds[name] in ("source", "neuron"):
            _check_name(name, node, label)
            if kinds[name] == "source":
                n = int(np.prod(_input_shape(name, node, label)))
                table = dict(name=name, size=n, model="spike_source", params={"times": [[] for _ in range(n)]})
                neurons[name] = Neuron(table, None, False)
                inputs.append(name)
            else:
                neurons[name] = to_population(name, node, units, label)
            order.append(name)
    shapes = _Shapes(flat, kinds, preds, neurons, label)
    outputs = []
    for name, kind in kinds.items():
        if kind == "output":
            for p in preds[name]:
                src = _through_passthrough(p, kinds, preds)
                if kinds[src] == "linear":
                    raise InputError(f"{label}: {describe(name, flat.nodes[name])} receives the graded output of "
                                     f"{describe(src, flat.nodes[src])}; eventsim's outputs are spikes or a "
                                     f"neuron's v: end the graph with a neuron node")
                if src not in outputs:
                    outputs.append(src)
        if kind == "neuron" and type(flat.nodes[name]).__name__ in INTEGRATING:
            for s in succs[name]:
                if kinds[_through_passthrough_fwd(s, kinds, succs)] != "output":
                    raise InputError(f"{label}: {describe(name, flat.nodes[name])} does not spike: its graded "
                                     f"output can only end the graph (an Output node), not feed {s!r}")
    for name, kind in kinds.items():   # every node's input size, checked once
        if kind in ("neuron", "linear", "output"):
            shapes.input(name)
    steps = {name: step(name, flat.nodes[name], shapes.input(name), label)
             for name, kind in kinds.items() if kind == "linear"}
    synapses = []
    for p in order:
        if kinds[p] == "neuron" and type(flat.nodes[p]).__name__ in INTEGRATING:
            continue
        synapses += _from_source(p, flat, kinds, preds, succs, steps, neurons, units, shapes)
    bias = _biases(flat, kinds, preds, succs, steps, neurons, shapes)
    return Composed(flat, units, neurons, order, synapses, bias, inputs, outputs)


def _kind(name, node, flat, label):
    import nir
    t = node_type(node)
    if name in flat.passthrough:
        return "pass"
    if isinstance(node, nir.Input):
        return "source"
    if isinstance(node, nir.Output):
        return "output"
    if t in NEURON_TYPES:
        return "neuron"
    if t in LINEAR_TYPES:
        return "linear"
    if t == "Threshold":
        raise InputError(f"{label}: {describe(name, node)}: a Heaviside of a graded signal without a reset "
                         f"has no event-driven form; eventsim's spiking nodes are LIF, CubaLIF and IF "
                         f"(threshold and reset included)")
    raise InputError(f"{label}: {describe(name, node)}: node type not supported by eventsim (supported: Input, "
                     f"Output, {', '.join(NEURON_TYPES)}, {', '.join(LINEAR_TYPES)}, nested graphs)")


def _check_name(name, node, label):
    if not _NAME.match(name) or name != name.strip():
        raise InputError(f"{label}: {describe(name, node)}: the name becomes a population name, which "
                         f"must be non-empty, without '/', control characters or surrounding spaces")


def _input_shape(name, node, label):
    shape = node.input_type.get("input") if isinstance(node.input_type, dict) else None
    if shape is None:
        raise InputError(f"{label}: {describe(name, node)}: missing its shape")
    return tuple(int(x) for x in np.asarray(shape).reshape(-1))


def _through_passthrough(name, kinds, preds):
    """The node whose signal reaches ``name`` through nested graphs' Input/Output nodes."""
    while kinds[name] == "pass" and len(preds[name]) == 1:
        name = preds[name][0]
    return name


def _through_passthrough_fwd(name, kinds, succs):
    while kinds[name] == "pass" and len(succs[name]) == 1:
        name = succs[name][0]
    return name


class _Shapes:
    """Output shapes of the nodes, computed from the sources on demand (linear nodes
    form no cycle: every cycle of a NIR graph must pass through a neuron)."""

    def __init__(self, flat, kinds, preds, neurons, label):
        self.flat, self.kinds, self.preds, self.neurons, self.label = flat, kinds, preds, neurons, label
        self.out, self.busy = {}, set()

    def output(self, name):
        if name in self.out:
            return self.out[name]
        kind, node = self.kinds[name], self.flat.nodes[name]
        if kind == "source":
            shape = _input_shape(name, node, self.label)
        elif kind == "neuron":
            shape = np.shape(getattr(node, "tau", getattr(node, "tau_mem", getattr(node, "r", None))))
            shape = tuple(shape) if len(shape) else (size_of(node),)
        else:
            if name in self.busy:
                raise InputError(f"{self.label}: {describe(name, node)} is on a cycle of linear nodes only; "
                                 f"a cycle must pass through a neuron")
            self.busy.add(name)
            shape = self.input(name)
            if kind == "linear":
                shape = step(name, node, shape, self.label).shape
            self.busy.discard(name)
        self.out[name] = tuple(int(x) for x in shape)
        return self.out[name]

    def input(self, name):
        node = self.flat.nodes[name]
        preds = self.preds[name]
        if not preds:
            raise InputError(f"{self.label}: {describe(name, node)} has no input edge")
        shapes = [self.output(p) for p in preds]
        sizes = {int(np.prod(s)) for s in shapes}
        if len(sizes) > 1:
            got = ", ".join(f"{p!r}: {s}" for p, s in zip(preds, shapes))
            raise InputError(f"{self.label}: {describe(name, node)}: its inputs differ in size ({got})")
        if self.kinds[name] == "neuron":
            n = self.neurons[name].table["size"]
            if sizes != {n}:
                raise InputError(f"{self.label}: {describe(name, node)} has {n} neurons, gets {sizes.pop()} inputs "
                                 f"from {preds[0]!r}")
        if self.kinds[name] == "output":
            want = _input_shape_output(node)
            if want is not None and sizes != {int(np.prod(want))}:
                raise InputError(f"{self.label}: {describe(name, node)} has shape {want}, gets "
                                 f"{sizes.pop()} values from {preds[0]!r}")
        return shapes[0]


def _input_shape_output(node):
    shape = node.output_type.get("output") if isinstance(node.output_type, dict) else None
    return None if shape is None else tuple(int(x) for x in np.asarray(shape).reshape(-1))


def _apply(st: Step, op: dict, time_unit):
    """Step ``st`` after the operator ``op`` (total delay ms -> matrix)."""
    out = {}
    for d, m in op.items():
        m = st.matrix @ m
        if st.delay is None:
            _add(out, d, m)
            continue
        for tau in np.unique(st.delay):
            keep = sp.diags((st.delay == tau).astype(np.float64), format="csr")
            _add(out, d + float(tau) * time_unit, keep @ m)
    return out


def _add(op, d, m):
    op[d] = op[d] + m if d in op else m


def _from_source(p, flat, kinds, preds, succs, steps, neurons, units, shapes):
    """The projections out of population ``p``: every neuron reached through linear nodes."""
    memo = {}
    n_p = neurons[p].table["size"]

    def out(u):
        if u == p:
            return {0.0: sp.identity(n_p, format="csr")}
        if kinds[u] in ("source", "neuron", "output"):
            return {}
        if u not in memo:
            total = {}
            for v in preds[u]:
                for d, m in out(v).items():
                    _add(total, d, m)
            memo[u] = _apply(steps[u], total, units.time_unit) if kinds[u] == "linear" else total
        return memo[u]

    result = []
    for q in _reached(p, kinds, succs):
        total = {}
        for v in preds[q]:
            for d, m in out(v).items():
                _add(total, d, m)
        syn = _synapses(p, q, total, neurons[q].input_scale, units)
        if syn is not None:
            syn.nodes = [u for u in memo if memo[u] and _leads_to(u, q, kinds, succs)]
            result.append(syn)
    return result


def _reached(p, kinds, succs):
    """Neurons reached from ``p`` through linear and pass-through nodes, in discovery order."""
    seen, found, stack = set(), [], list(reversed(succs[p]))
    while stack:
        u = stack.pop()
        if u in seen:
            continue
        seen.add(u)
        if kinds[u] == "neuron":
            found.append(u)
        elif kinds[u] in ("linear", "pass"):
            stack.extend(reversed(succs[u]))
    return found


def _leads_to(u, q, kinds, succs):
    seen, stack = set(), [u]
    while stack:
        v = stack.pop()
        for w in succs[v]:
            if w == q:
                return True
            if w not in seen and kinds[w] in ("linear", "pass"):
                seen.add(w)
                stack.append(w)
    return False


def _synapses(p, q, op, scale, units):
    pairs, weights, delays = [], [], []
    for d in sorted(op):
        m = sp.coo_matrix(op[d])
        keep = m.data != 0.0            # zeros (pruned or cancelled weights) make no synapse
        if not keep.any():
            continue
        tgt, src, w = m.row[keep], m.col[keep], m.data[keep]
        pairs.append(np.column_stack([src, tgt]).astype(np.int64))
        weights.append(w * scale[tgt])
        delays.append(np.full(tgt.size, units.delay + d))
    if not pairs:
        return None
    return Synapses(p, q, np.concatenate(pairs), np.concatenate(weights), np.concatenate(delays))


def _biases(flat, kinds, preds, succs, steps, neurons, shapes):
    """Population -> constant input (NIR units) from every bias, carried to the neurons."""
    label = flat.label
    total = {}
    for origin, st in steps.items():
        if st.bias is None:
            continue
        memo = {}

        def out(u):
            if u == origin:
                return st.bias
            if kinds[u] not in ("linear", "pass"):
                return None
            if u not in memo:
                parts = [x for x in (out(v) for v in preds[u]) if x is not None]
                x = np.sum(parts, axis=0) if parts else None
                memo[u] = steps[u].matrix @ x if x is not None and kinds[u] == "linear" else x
            return memo[u]

        for q in _reached(origin, kinds, succs):
            parts = [x for x in (out(v) for v in preds[q]) if x is not None]
            if not parts:
                continue
            b = np.sum(parts, axis=0)
            if not b.any():
                continue
            if not neurons[q].bias_ok:
                raise InputError(f"{label}: {describe(q, flat.nodes[q])}: the bias of {origin!r} would enter "
                                 f"through its synaptic current, which starts at 0; eventsim's constant "
                                 f"current would skip that rise (give {origin!r} a zero bias)")
            total[q] = total.get(q, 0.0) + b
    return {q: b for q, b in total.items() if np.any(b)}
