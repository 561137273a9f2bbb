"""An eventsim network as a NIR graph (the inverse of the import).

Neuron parameters always come from the eventsim populations (neurons.to_node). A
network imported from a NIR graph is written back with that graph's structure
(nested graphs, convolutions, pooling, Delay nodes) when the network still is that
graph: every projection's synapses equal the composition of its linear nodes (with
the weights' units taken from the written neurons) and every bias current matches;
otherwise, and for networks written as scenarios, each projection becomes a Linear
(Affine where a population has a constant current) node, with a Delay node when its
delay exceeds the connection delay. What NIR cannot express is refused, naming it:
refractoriness, alif, alpha synapses, plasticity, per-synapse delays that differ.
"""
from __future__ import annotations

import copy

import numpy as np

from ..errors import InputError
from .compose import Composed
from .neurons import Units, to_node

RTOL = 1e-12   # weights recovered from eventsim units agree with NIR's to float64 rounding


def export(net, units: Units, origin: Composed | None = None, label="nir-export"):
    """(nir.NIRGraph, notes): the graph of ``net``; ``notes`` say what was left out."""
    import nir
    pops = [p for p in net.populations if not p.hidden]
    nodes, scales = {}, {}
    for pop in pops:
        w_in = origin.neurons[pop.name].w_in if origin is not None and pop.name in origin.neurons else None
        nodes[pop.name], scales[pop.name] = to_node(pop, units, label, w_in=w_in)
    bias, notes = _biases(net, pops, label)
    projections = [pr for pr in net.projections if not net.population(pr.source).hidden]
    if origin is not None and _is_origin(net, projections, scales, bias, origin):
        return _rewrite(origin, nodes), notes
    if origin is not None:
        notes.append("the network differs from the NIR graph it was read from: each projection is written "
                     "as a Linear node")
    edges, linear = [], {}
    incoming = {}
    for pr in projections:
        if pr.plasticity:
            raise InputError(f"{label}: projection {pr.name!r} is plastic ({pr.plasticity}); NIR has no "
                             f"plasticity")
        src, tgt, w, d = net.synapse_table(pr.name)
        if scales[pr.target] is None:
            raise InputError(f"{label}: projection {pr.name!r} targets a source population")
        if d.size and not np.all(d == d[0]):
            raise InputError(f"{label}: projection {pr.name!r}: its synapses have different delays "
                             f"({d.min():g} .. {d.max():g} ms); NIR delays one signal, not each synapse")
        extra = (float(d[0]) if d.size else units.delay) - units.delay
        if extra < -1e-12 * units.delay:
            raise InputError(f"{label}: projection {pr.name!r}: delay {d[0]:g} ms is shorter than the "
                             f"connection delay ({units.delay:g} ms, nir_delay)")
        n_s, n_t = net.population(pr.source).size, net.population(pr.target).size
        weight = np.zeros((n_t, n_s))
        np.add.at(weight, (tgt.astype(np.int64), src.astype(np.int64)), w)
        weight /= scales[pr.target][:, None]
        linear[pr.name] = weight
        incoming.setdefault(pr.target, []).append(pr.name)
        path = [pr.source, pr.name]
        if extra > 1e-12 * units.delay:
            nodes[f"{pr.name}.delay"] = nir.Delay(delay=np.full(n_t, extra / units.time_unit))
            path.append(f"{pr.name}.delay")
        edges += list(zip(path, path[1:] + [pr.target]))
    for name, weight in linear.items():
        nodes[name] = nir.Linear(weight=weight)
    for target, b in bias.items():
        if target not in incoming:
            raise InputError(f"{label}: population {target!r} has a constant current but no incoming projection "
                             f"to carry it as an Affine bias")
        if type(nodes[target]).__name__ in ("CubaLIF", "CubaLI"):
            raise InputError(f"{label}: population {target!r}: a constant current into an exp-synapse neuron "
                             f"has no NIR form (a CubaLIF's bias passes through its synaptic current)")
        first = incoming[target][0]
        nodes[first] = nir.Affine(weight=linear[first], bias=b)
    sinks = [p.name for p in pops if scales[p.name] is not None
             and not any(pr.source == p.name for pr in projections)]
    for p in sinks:
        out = "output" if len(sinks) == 1 else f"output_{p}"
        nodes[out] = nir.Output(output_type={"output": np.array([net.population(p).size])})
        edges.append((p, out))
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False), notes


def _biases(net, pops, label):
    """Population -> constant current (pA per neuron, NIR's bias) from i_e and from
    current stimuli that switch on once at t = 0; other stimuli are left out (noted)."""
    names = {p.name for p in pops}
    bias, notes = {}, []
    for p in pops:
        if "i_e" in p.params:
            b = np.asarray(p.params["i_e"], dtype=np.float64).copy()
            if b.any():
                bias[p.name] = b
    for st in net.stimuli:
        if st.target not in names:
            continue
        if st.kind == "current" and st.times.size == 1 and st.times[0] == 0.0:
            pop = net.population(st.target)
            b = bias.setdefault(st.target, np.zeros(pop.size))
            b[st.ids - pop.offset] += st.amplitudes[0]
        else:
            notes.append(f"stimulus {st.name!r} ({st.kind}) is an input, not part of the network: left out")
    for p in net.populations:
        if p.hidden:
            notes.append(f"stimulus {p.name.split(':', 1)[-1]!r} (spike_times) is an input, not part of the "
                         f"network: left out")
    return {k: v for k, v in bias.items() if v.any()}, notes


def _is_origin(net, projections, scales, bias, origin: Composed):
    """True when ``net`` simulates exactly the NIR graph it was read from."""
    want = {f"{s.source}_to_{s.target}": s for s in origin.synapses}
    if {p.name for p in net.populations if not p.hidden} != set(origin.neurons):
        return False
    if {pr.name for pr in projections} != set(want):
        return False
    for name, neuron in origin.neurons.items():
        if neuron.input_scale is not None and not np.allclose(scales[name], neuron.input_scale, rtol=RTOL, atol=0):
            return False
    if set(bias) != set(origin.bias) or any(not np.allclose(bias[k], origin.bias[k], rtol=RTOL, atol=0) for k in bias):
        return False
    for pr in projections:
        s = want[pr.name]
        src, tgt, w, d = net.synapse_table(pr.name)
        got = np.lexsort((w, d, tgt.astype(np.int64), src.astype(np.int64)))
        ref = np.lexsort((s.weight, s.delay, s.pairs[:, 1], s.pairs[:, 0]))
        if src.size != s.pairs.shape[0] or not (
                np.array_equal(src.astype(np.int64)[got], s.pairs[ref, 0])
                and np.array_equal(tgt.astype(np.int64)[got], s.pairs[ref, 1])
                and np.array_equal(d[got], s.delay[ref])
                and np.allclose(w[got], s.weight[ref], rtol=RTOL, atol=0)):
            return False
    return True


def _rewrite(origin: Composed, nodes):
    """The original (nested) graph with every neuron node replaced by the written one."""
    import nir

    def walk(graph, prefix):
        new = {}
        for name, node in graph.nodes.items():
            full = prefix + str(name)
            if isinstance(node, nir.NIRGraph):
                new[name] = walk(node, full + ".")
            elif full in nodes and not isinstance(node, nir.Input):
                new[name] = _shaped_like(nodes[full], node)
            else:
                new[name] = copy.deepcopy(node)
        return nir.NIRGraph(nodes=new, edges=list(graph.edges), metadata=dict(graph.metadata or {}),
                            type_check=False)
    return walk(origin.flat.graph, "")


def _shaped_like(new, old):
    """``new`` with each parameter array in the shape of ``old``'s (a layer of shape
    (C, H, W) keeps it; eventsim's populations are flat)."""
    import dataclasses
    changes = {}
    for f in dataclasses.fields(new):
        if not f.init or f.name == "metadata":
            continue
        a, b = getattr(new, f.name), getattr(old, f.name, None)
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.size == b.size:
            changes[f.name] = a.reshape(b.shape)
    return dataclasses.replace(new, **changes) if changes else new
