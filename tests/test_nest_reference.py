"""The engine against NEST 3.10's precise-timing results in ../shared/reference (see its README)."""
import json
import math
import os

import numpy as np
import pytest

from conftest import REFERENCE_DIR
from eventsim.engine.simulation import Simulation
from netutil import driven_neuron, lif_pop, network, spike_source

TOL = 1e-9


def load(name):
    path = os.path.join(REFERENCE_DIR, name)
    if not os.path.exists(path):
        pytest.fail(f"reference file missing: {path}")
    with open(path) as f:
        return json.load(f)


def nest_params(p):
    return dict(c_m=p["C_m"], tau_m=p["tau_m"], v_rest=p["E_L"], v_reset=p["V_reset"], v_th=p["V_th"],
                t_ref=p["t_ref"], i_e=p["I_e"])


def test_delays_chain():
    ref = load("delays_chain.json")
    p = nest_params(ref["model"]["neuron_params"])
    names = ref["model"]["neurons"]
    src = spike_source("gen", [ref["inputs"]["spike_generator_times_ms"]], 0)
    chain = lif_pop("chain", len(names), 1, v0=ref["model"]["neuron_params"]["V_m"], **p)
    gid = {"spike_generator": 0, **{n: 1 + k for k, n in enumerate(names)}}
    edges = [(gid[c["from"]], gid[c["to"]], c["weight_mV"], c["delay_ms"], 0)
             for c in ref["model"]["connections"]]
    sim = Simulation(network([src, chain], edges))
    sim.run(ref["simulation"]["t_sim_ms"])
    t, i = sim.spikes("chain")
    for k, n in enumerate(names):
        expected = ref["outputs"]["spike_times_ms"][n]
        got = t[i == k]
        assert got.size == len(expected)
        assert np.max(np.abs(got - expected)) < TOL


def test_lif_delta_single_matches_iaf_psc_delta_ps():
    ref = load("lif_delta_single.json")
    p = nest_params(ref["model"]["neuron_params"])
    d = ref["model"]["synapse_params"]["delay_ms"]
    w = ref["model"]["synapse_params"]["weight"]
    gen = ref["inputs"]["spike_generator_times_ms"]
    # one source neuron per generator spike keeps each emission time exact
    src = spike_source("gen", [[t] for t in gen], 0)
    nrn = lif_pop("n", 1, len(gen), v0=ref["model"]["neuron_params"]["V_m"], **p)
    edges = [(k, len(gen), w, d, 0) for k in range(len(gen))]
    sim = Simulation(network([src, nrn], edges))
    sim.run(ref["simulation"]["t_sim_ms"])
    got, _ = sim.spikes("n")
    expected = np.array(ref["cross_checks"]["iaf_psc_delta_ps_same_input_spike_times_ms"])
    expected = expected[expected <= ref["simulation"]["t_sim_ms"]]
    assert got.size == expected.size
    assert np.max(np.abs(got - expected)) < TOL


@pytest.mark.parametrize("case", ["t_ref_2ms", "t_ref_5ms"])
def test_lif_refractory_constant_current(case):
    ref = load("lif_refractory.json")
    out = ref["outputs"][case]
    p = nest_params(out["iaf_psc_delta_ps"]["neuron_params"])
    sim = Simulation(network([lif_pop("n", 1, 0, v0=p["v_rest"], **p)]))
    sim.run(ref["simulation"]["t_sim_ms"])
    got, _ = sim.spikes("n")
    for key in ("iaf_psc_delta_ps", "analytic"):
        expected = np.array(out[key]["spike_times_ms"] if key != "analytic" else out[key]["exact_spike_times_ms"])
        expected = expected[expected <= ref["simulation"]["t_sim_ms"]]
        assert got.size == expected.size, key
        assert np.max(np.abs(got - expected)) < TOL, key
    # and the closed form: interval t_ref + tau_m ln(R I / (R I - (v_th - v_reset)))
    RI = p["i_e"] * p["tau_m"] / p["c_m"]
    T = p["tau_m"] * math.log(RI / (RI - (p["v_th"] - p["v_reset"])))
    assert np.allclose(np.diff(got), T + p["t_ref"], atol=1e-9)
