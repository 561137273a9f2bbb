"""The lif neuron with alpha synapses against NEST 3.10's iaf_psc_alpha_ps (data/nest/iaf_psc_alpha_ps.json).

The file is made by tools/nest/make_alpha_ps.py: off-grid precise input spikes with per-spike
weights (pA), tau_syn_ex != tau_syn_in, constant I_e and t_ref > 0; output spike times exact.
"""
import json
import os

import numpy as np
import pytest

from eventsim.engine.simulation import Simulation
from netutil import lif_pop, network, spike_source

TOL = 1e-9  # ms
DATA = os.path.join(os.path.dirname(__file__), "data", "nest", "iaf_psc_alpha_ps.json")

with open(DATA) as f:
    REF = json.load(f)


@pytest.mark.parametrize("case", sorted(REF["cases"]))
def test_alpha_spike_times_match_iaf_psc_alpha_ps(case):
    c = REF["cases"][case]
    p = dict(c["eventsim_lif"])
    v0 = p.pop("v")
    p.pop("synapse")
    times = c["input"]["emission_times_ms"]
    weights = c["input"]["weights_pA"]
    delay = c["input"]["delay_ms"]
    # one source neuron per input spike: simultaneous spikes with different weights stay separate
    src = spike_source("gen", [[t] for t in times], 0)
    nrn = lif_pop("n", 1, len(times), synapse="alpha", v0=v0, **p)
    edges = [(k, len(times), w, delay, 0) for k, w in enumerate(weights)]
    sim = Simulation(network([src, nrn], edges))
    sim.run(REF["simulation"]["t_sim_ms"])
    got, _ = sim.spikes("n")
    expected = np.array(c["spike_times_ms"])
    assert 10 <= expected.size <= 40
    assert got.size == expected.size, (got, expected)
    assert np.max(np.abs(got - expected)) < TOL
