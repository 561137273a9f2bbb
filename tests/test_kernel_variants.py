"""Delta-synapse LIF populations run the LIF kernel compiled with DELTA_ONLY
(models/neurons/_lif_delta_kernel.py): the same source with the synaptic currents the
constant 0, so that the event loop carries v alone; exp-synapse ones the kernel compiled
with EXP_ONLY (_lif_exp_kernel.py: no alpha variables). Their arithmetic is the general
kernel's: the spikes and the final state must be the same to the bit, in a network that
mixes delta, exp and alpha populations (three kernels in one engine), Poisson drive, a
current step and a run cut mid-way."""
import copy

import numpy as np

import eventsim
from eventsim.models import neuron_model
from eventsim.models.base import NeuronModel

# drawn delays (the partition path; tests/test_segments.py's network has one delay, for the
# fan-out by block) and a drive strong enough that delta inputs arrive during refractoriness:
# a variant that mishandled them would show here
NET = {
    "simulation": {"duration": 60.0, "seed": 5},
    "population": [
        {"name": "exc", "size": 200, "model": "lif",
         "params": {"tau_m": 20.0, "v_rest": 0.0, "v_th": 15.0, "v_reset": 0.0, "t_ref": 2.0, "i_e": 100.0}},
        {"name": "inh", "size": 80, "model": "lif",
         "params": {"tau_m": 10.0, "v_rest": 0.0, "v_th": 15.0, "v_reset": 0.0, "t_ref": 1.0, "synapse": "exp",
                    "tau_syn_ex": 2.0, "tau_syn_in": 3.0}},
        {"name": "alpha", "size": 40, "model": "lif",
         "params": {"tau_m": 10.0, "v_rest": 0.0, "v_th": 15.0, "v_reset": 0.0, "t_ref": 1.0,
                    "synapse": "alpha", "tau_syn_ex": 1.0, "tau_syn_in": 2.0}}],
    "stimulus": [
        {"name": "drive", "kind": "poisson", "rate": 9000.0, "target": "exc", "weight": 0.2, "delay": 1.0},
        {"name": "drive_inh", "kind": "poisson", "rate": 9000.0, "target": "inh", "weight": 30.0, "delay": 1.0},
        {"name": "drive_alpha", "kind": "poisson", "rate": 9000.0, "target": "alpha", "weight": 20.0,
         "delay": 1.0},
        {"name": "step", "kind": "current", "times": [10.0, 30.0], "amplitudes": [60.0, 0.0], "target": "exc"}],
    "projection": [
        {"source": s, "target": t, "rule": "fixed_indegree", "indegree": k, "weight": w, "delay": {"uniform": [0.5, 2.0]}}
        for s, t, k, w in (("exc", "exc", 30, 0.4), ("exc", "inh", 30, 20.0), ("inh", "exc", 15, -1.5),
                           ("inh", "inh", 10, -40.0), ("exc", "alpha", 30, 10.0), ("inh", "alpha", 10, -20.0))],
}


def _run():
    sc = eventsim.load_scenario(copy.deepcopy(NET))
    net = eventsim.build_network(sc)
    sim = eventsim.Simulation(net, seed=sc.seed, threads=1)
    sim.run(23.7)
    sim.run(sc.duration)
    kernels = [g.kernel_module.__name__.rsplit(".", 1)[-1] for g in sim.engine.groups]
    spikes = {p.name: sim.spikes(p.name) for p in net.populations}
    states = [g.state.copy() for g in sim.engine.groups]
    return kernels, spikes, states


def test_delta_populations_run_the_delta_kernel():
    assert neuron_model("lif").kernel_for({"synapse": "delta"}).endswith("_lif_delta_kernel")
    assert neuron_model("lif").kernel_for({}).endswith("_lif_delta_kernel")   # (delta: the default)
    assert neuron_model("lif").kernel_for({"synapse": "exp"}).endswith("._lif_exp_kernel")
    assert neuron_model("lif").kernel_for({"synapse": "alpha"}).endswith("._lif_kernel")
    assert neuron_model("alif").kernel_for({"synapse": "delta"}) == neuron_model("alif").kernel_module


def test_the_variants_give_the_general_kernels_spikes_to_the_bit(monkeypatch):
    kernels, spikes, states = _run()
    assert kernels == ["_lif_delta_kernel", "_lif_exp_kernel", "_lif_kernel"]
    with monkeypatch.context() as m:
        m.setattr(NeuronModel, "kernel_for", lambda self, options: self.kernel_module)
        kernels0, spikes0, states0 = _run()
    assert kernels0 == ["_lif_kernel", "_lif_kernel", "_lif_kernel"]
    assert spikes["exc"][0].size > 100 and spikes["inh"][0].size > 20 and spikes["alpha"][0].size > 20
    for name in spikes:
        t, i = spikes[name]
        t0, i0 = spikes0[name]
        assert np.array_equal(t, t0) and np.array_equal(i, i0), name
    for s, s0 in zip(states, states0):
        assert np.array_equal(s, s0)
