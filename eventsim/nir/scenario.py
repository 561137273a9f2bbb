"""A NIR graph as parts of a scenario: population tables, projections, bias stimuli.

``[network] nir = "model.nir"`` (with ``nir_time_unit``, ``nir_dt``, ``nir_delay``) adds
these to the scenario's own sections: the scenario keeps its simulation, stimuli,
recording, trials and energy settings. Population tables and stimuli go through the
scenario's validation like written ones; projections are explicit ``pairs`` with one
weight and delay per synapse, already checked here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compose import Composed, compose
from .load import load
from .neurons import Units


@dataclass
class NirParts:
    composed: Composed
    populations: list      # scenario population tables
    projections: list      # normalised projection dicts (rule "pairs", arrays)
    stimuli: list          # scenario stimulus tables (constant currents at t = 0: the biases)


def units_of(network: dict) -> Units:
    """The Units of a normalised [network] table (the defaults when it names no NIR graph)."""
    d = Units()
    return Units(time_unit=network.get("nir_time_unit", d.time_unit), dt=network.get("nir_dt", d.dt),
                 delay=network.get("nir_delay", d.delay))


def read(source, units: Units, label=None) -> NirParts:
    """The scenario parts of a NIR graph (``source``: a .nir path or a nir.NIRGraph)."""
    return parts(compose(load(source, label), units))


def parts(c: Composed) -> NirParts:
    tables = []
    stimuli = []
    for name in c.order:
        table = dict(c.neurons[name].table)
        table["params"] = dict(table["params"])
        b = c.bias.get(name)
        if b is not None:
            if np.all(b == b[0]):          # one value: the population's constant current
                table["params"]["i_e"] = float(b[0])
            else:                          # per neuron: a constant current from t = 0 per value
                stimuli += _bias_stimuli(name, b)
        tables.append(table)
    projections = [dict(name=f"{s.source}_to_{s.target}", source=s.source, target=s.target, rule="pairs",
                        pairs=s.pairs, weight=s.weight, delay=s.delay, allow_autapses=True,
                        allow_multapses=True, plasticity=None) for s in c.synapses]
    return NirParts(c, tables, projections, stimuli)


def _bias_stimuli(name, b):
    values, inverse = np.unique(b, return_inverse=True)
    out = []
    for k, v in enumerate(values):
        if v == 0.0:
            continue
        ids = np.flatnonzero(inverse == k)
        out.append(dict(name=f"{name}.bias_{k}", kind="current", target=name, ids=[int(i) for i in ids],
                        times=[0.0], amplitudes=[float(v)]))
    return out
