"""NIR neuron nodes <-> eventsim populations, with the units NIR leaves implicit.

Units. NIR's equations carry no units; eventsim's are ms, mV, pA, pF. A NIR graph is
read with two numbers (docs/nir.md):

- ``time_unit``: ms per NIR time unit (default 1000: tau in seconds, as snnTorch,
  Norse, Rockpool and Sinabs write it);
- ``dt``: the step the graph was trained with, in NIR time units (default 1e-4,
  snnTorch's exporter's fixed step). A spike is a unit pulse held for one step, a
  Dirac of area ``dt``: this is what a discrete-time framework's v[t+1] = beta v[t] +
  W x[t] integrates, so a spike through weight W moves v by r W dt / tau.

v (mV) and the constant input I (pA) are NIR's v and I; then r is in mV/pA (GOhm) and

    LIF(tau, r, v_leak, v_threshold, v_reset)  ->  lif, synapse "delta":
        tau_m = tau time_unit, c_m = tau_m / r, v_rest = v_leak, v_th = v_threshold,
        v_reset = v_reset, t_ref = 0; a spike through W: v += r W dt / tau (mV)
    CubaLIF(tau_syn, tau_mem, r, v_leak, v_threshold, v_reset, w_in)  ->  lif, synapse "exp":
        as LIF with tau_mem, tau_syn_ex = tau_syn_in = tau_syn time_unit;
        a spike through W: I += w_in W dt / tau_syn (pA)
    IF(r, v_threshold, v_reset)  ->  if: c_m = time_unit / r; v += r W dt
    LI, CubaLI, I  ->  as LIF, CubaLIF, IF with v_th = the largest float64 (never reached:
        they integrate and never spike)

A constant input b (an Affine or convolution bias) reaches v as r b, i.e. a current
i_e = b pA, since tau_m / c_m = r. Initial state: v = v_leak (IF, I: v = 0), I = 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .load import describe

NEVER = float(np.finfo(np.float64).max)   # a threshold v cannot reach: the node never spikes
SPIKING = ("LIF", "CubaLIF", "IF")
INTEGRATING = ("LI", "CubaLI", "I")       # graded output: only as an end of the graph
NEURON_TYPES = SPIKING + INTEGRATING


@dataclass(frozen=True)
class Units:
    """How NIR's numbers are read: ms per NIR time unit, the training step (NIR time
    units), and the delay (ms) that stands in for NIR's instantaneous connections."""
    time_unit: float = 1000.0
    dt: float = 1e-4
    delay: float = 0.01


@dataclass
class Neuron:
    """A neuron node as an eventsim population table, with what its inputs need:
    ``input_scale`` (per neuron) turns a NIR weight into an eventsim weight (mV for
    delta synapses, pA for exp), ``bias_ok`` whether a constant input can be a current."""
    table: dict
    input_scale: np.ndarray
    bias_ok: bool
    w_in: np.ndarray | None = None     # CubaLIF/CubaLI: kept to write the node back


def _one(label, name, node, attr):
    """The single value of parameter ``attr`` of a node (all neurons equal), or InputError."""
    a = np.asarray(getattr(node, attr), dtype=np.float64)
    if a.size == 0:
        raise InputError(f"{label}: {describe(name, node)}: parameter {attr!r} is empty")
    if not np.isfinite(a).all():
        raise InputError(f"{label}: {describe(name, node)}: parameter {attr!r} must be finite")
    v = float(a.flat[0])
    if not (a == v).all():
        raise InputError(f"{label}: {describe(name, node)}: parameter {attr!r} differs between its neurons "
                         f"({a.min():g} .. {a.max():g}); eventsim populations share one value per parameter")
    return v


def _positive(label, name, node, attr):
    v = _one(label, name, node, attr)
    if not v > 0:
        raise InputError(f"{label}: {describe(name, node)}: {attr} must be > 0, got {v:g}")
    return v


def size_of(node) -> int:
    """Number of neurons of a neuron node: the size of its parameter arrays."""
    first = {"LIF": "tau", "LI": "tau", "CubaLIF": "tau_mem", "CubaLI": "tau_mem", "IF": "r", "I": "r"}
    return int(np.asarray(getattr(node, first[type(node).__name__])).size)


def to_population(name, node, units: Units, label) -> Neuron:
    """The eventsim population (scenario table) of a NIR neuron node."""
    kind = type(node).__name__
    n = size_of(node)
    if kind in ("IF", "I"):
        r = _positive(label, name, node, "r")
        v_th = _one(label, name, node, "v_threshold") if kind == "IF" else NEVER
        v_reset = _one(label, name, node, "v_reset") if kind == "IF" else 0.0
        _order(label, name, node, v_reset, v_th)
        params = dict(c_m=units.time_unit / r, v_reset=v_reset, v_th=v_th, t_ref=0.0, i_e=0.0)
        table = dict(name=name, size=n, model="if", params=params, init={"v": 0.0})
        return Neuron(table, np.full(n, r * units.dt), True)
    cuba = kind in ("CubaLIF", "CubaLI")
    tau = _positive(label, name, node, "tau_mem" if cuba else "tau")
    r = _positive(label, name, node, "r")
    v_leak = _one(label, name, node, "v_leak")
    spiking = kind in SPIKING
    v_th = _one(label, name, node, "v_threshold") if spiking else NEVER
    v_reset = _one(label, name, node, "v_reset") if spiking else v_leak
    _order(label, name, node, v_reset, v_th)
    tau_m = tau * units.time_unit
    params = dict(tau_m=tau_m, c_m=tau_m / r, v_rest=v_leak, v_reset=v_reset, v_th=v_th, t_ref=0.0, i_e=0.0)
    if not cuba:
        params["synapse"] = "delta"
        return Neuron(dict(name=name, size=n, model="lif", params=params),
                      np.full(n, r * units.dt / tau), True)
    tau_syn = _positive(label, name, node, "tau_syn")
    w_in = np.broadcast_to(np.asarray(node.w_in, dtype=np.float64), (n,)).astype(np.float64)
    if not np.isfinite(w_in).all():
        raise InputError(f"{label}: {describe(name, node)}: parameter 'w_in' must be finite")
    params.update(synapse="exp", tau_syn_ex=tau_syn * units.time_unit, tau_syn_in=tau_syn * units.time_unit)
    # a bias would enter through the synaptic current, which starts at 0 and rises with
    # tau_syn; a constant current i_e would skip that rise, so it is refused (bias_ok False)
    return Neuron(dict(name=name, size=n, model="lif", params=params), w_in * units.dt / tau_syn, False, w_in)


def _order(label, name, node, v_reset, v_th):
    if not v_reset < v_th:
        raise InputError(f"{label}: {describe(name, node)}: v_reset ({v_reset:g}) must be below "
                         f"v_threshold ({v_th:g}), or the neuron fires forever after a reset")


# ---------------------------------------------------------------- eventsim -> NIR
def _value(pop, key, label):
    a = np.asarray(pop.params[key], dtype=np.float64)
    v = float(a[0]) if a.size else 0.0
    if a.size and not (a == v).all():
        raise InputError(f"{label}: population {pop.name!r}: {key} differs between its neurons "
                         f"({a.min():g} .. {a.max():g}); a NIR node has one value per parameter here")
    return v


def _init_rest(pop, key, rest, label):
    v0 = np.asarray(pop.init.get("v", rest), dtype=np.float64)
    if v0.size and not np.all(v0 == rest):
        raise InputError(f"{label}: population {pop.name!r}: initial v must be {key} ({rest:g} mV), as NIR "
                         f"nodes start at rest")


def to_node(pop, units: Units, label, w_in=None):
    """(NIR node, input_scale per neuron) of an eventsim population; the inverse of
    :func:`to_population`. Refuses what NIR cannot express, naming the population."""
    import nir
    n = pop.size

    def full(x):
        return np.full(n, x, dtype=np.float64)
    if pop.model in ("spike_source", "poisson_source"):
        return nir.Input(input_type={"input": np.array([n])}), None
    if pop.model not in ("lif", "if"):
        raise InputError(f"{label}: population {pop.name!r}: model {pop.model!r} has no NIR node "
                         f"(NIR: LIF, CubaLIF, IF, LI, CubaLI, I; eventsim lif and if map to them)")
    t_ref = _value(pop, "t_ref", label)
    if t_ref != 0.0:
        raise InputError(f"{label}: population {pop.name!r}: t_ref = {t_ref:g} ms; NIR neurons have no "
                         f"refractory period")
    v_th, v_reset = _value(pop, "v_th", label), _value(pop, "v_reset", label)
    spiking = v_th != NEVER
    if pop.model == "if":
        r = units.time_unit / _value(pop, "c_m", label)
        _init_rest(pop, "0", 0.0, label)
        node = (nir.IF(r=full(r), v_threshold=full(v_th), v_reset=full(v_reset)) if spiking
                else nir.I(r=full(r)))
        return node, full(r * units.dt)
    tau_m, c_m, v_rest = (_value(pop, k, label) for k in ("tau_m", "c_m", "v_rest"))
    _init_rest(pop, "v_rest", v_rest, label)
    tau, r = tau_m / units.time_unit, tau_m / c_m
    synapse = pop.options.get("synapse", "delta")
    if synapse == "delta":
        node = (nir.LIF(tau=full(tau), r=full(r), v_leak=full(v_rest), v_threshold=full(v_th),
                        v_reset=full(v_reset)) if spiking else nir.LI(tau=full(tau), r=full(r), v_leak=full(v_rest)))
        return node, full(r * units.dt / tau)
    if synapse != "exp":
        raise InputError(f"{label}: population {pop.name!r}: synapse {synapse!r} has no NIR node "
                         f"(delta: LIF, exp: CubaLIF)")
    ex, inh = _value(pop, "tau_syn_ex", label), _value(pop, "tau_syn_in", label)
    if ex != inh:
        raise InputError(f"{label}: population {pop.name!r}: tau_syn_ex ({ex:g} ms) != tau_syn_in ({inh:g} ms); "
                         f"a NIR CubaLIF has one synaptic time constant")
    tau_syn = ex / units.time_unit
    w = full(1.0) if w_in is None else np.asarray(w_in, dtype=np.float64)
    common = dict(tau_syn=full(tau_syn), tau_mem=full(tau), r=full(r), v_leak=full(v_rest), w_in=w)
    node = (nir.CubaLIF(v_threshold=full(v_th), v_reset=full(v_reset), **common) if spiking
            else nir.CubaLI(**common))
    return node, w * units.dt / tau_syn
