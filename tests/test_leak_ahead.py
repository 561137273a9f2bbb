"""The delta kernel's decay factors computed ahead (models/neurons/_lif_delta_kernel.py,
LEAK_AHEAD; eventsim.engine.neuron_loop.leak_ahead): where a neuron has many events in a
window, the loop computes e^{-dt/tau_m} of every interval between them in one vectorised
pass and takes each input's factor from there (neuron_loop.quiet_run); and its inputs
during refractoriness skipped (REFRACTORY_INERT, neuron_loop.skip_refractory). The spikes,
the final state and the updates counted must be the general LIF kernel's (which computes
each factor at its input and takes every input through its general path) to the bit, with factors
outside the polynomial's range (intervals longer than tau_m / 64: the loop leaves those
inputs to its general path), inputs at equal times, inputs during refractoriness, a current
step and a run cut mid-way; on one and on two threads."""
import copy

import numpy as np
import pytest

import eventsim
from eventsim.engine import neuron_loop
from eventsim.models.base import NeuronModel

# tau_m 2 ms: the polynomial covers intervals up to 0.03125 ms, and the drive's mean
# interval is 0.025 ms, so that about a quarter of the factors fall outside it; windows
# of 2 ms (the minimum delay) hold about 80 events per neuron, far above LEAK_AHEAD_MIN;
# a fixed delay from a source with two synapses onto one target (multapses of a fixed
# in-degree) gives inputs at equal times
NET = {
    "simulation": {"duration": 40.0, "seed": 11},
    "population": [
        {"name": "exc", "size": 120, "model": "lif",
         "params": {"tau_m": 2.0, "v_rest": 0.0, "v_th": 15.0, "v_reset": 5.0, "t_ref": 1.5, "i_e": 50.0}},
        {"name": "inh", "size": 30, "model": "lif",
         "params": {"tau_m": 5.0, "v_rest": -1.0, "v_th": 12.0, "v_reset": 0.0, "t_ref": 0.5}},
        # potentials relative to rest, no constant current: v_inf = +0.0, the leak without
        # its addition of v_inf (relative_leak, evolve_relative)
        {"name": "rel", "size": 60, "model": "lif",
         "params": {"tau_m": 2.0, "v_rest": 0.0, "v_th": 10.0, "v_reset": 0.0, "t_ref": 1.0, "i_e": 0.0}},
        # no Poisson drive, above threshold by i_e alone: a crossing check every window,
        # often its first event (a valid check: the state not moved to its time)
        {"name": "pace", "size": 40, "model": "lif",
         "params": {"tau_m": 2.0, "v_rest": 0.0, "v_th": 15.0, "v_reset": 0.0, "t_ref": 1.0, "i_e": 8000.0}}],
    "stimulus": [
        {"name": "drive", "kind": "poisson", "rate": 40000.0, "target": "exc", "weight": 0.35, "delay": 2.0},
        {"name": "drive_inh", "kind": "poisson", "rate": 20000.0, "target": "inh", "weight": 0.4, "delay": 2.0},
        {"name": "drive_rel", "kind": "poisson", "rate": 30000.0, "target": "rel", "weight": 0.3, "delay": 2.0},
        {"name": "step", "kind": "current", "times": [7.0, 21.0], "amplitudes": [300.0, 0.0], "target": "exc"}],
    "projection": [
        {"source": s, "target": t, "rule": "fixed_indegree", "indegree": k, "weight": w, "delay": 2.0}
        for s, t, k, w in (("exc", "exc", 60, 0.3), ("exc", "inh", 40, 0.4), ("inh", "exc", 25, -1.0),
                           ("inh", "inh", 10, -0.5), ("exc", "pace", 200, 0.1), ("inh", "pace", 20, -0.3),
                           ("exc", "rel", 40, 0.2), ("inh", "rel", 20, -0.6))],
}


def _run(threads):
    sc = eventsim.load_scenario(copy.deepcopy(NET))
    net = eventsim.build_network(sc)
    sim = eventsim.Simulation(net, seed=sc.seed, threads=threads)
    sim.run(13.3)
    sim.run(sc.duration)
    kernels = [g.kernel_module.__name__.rsplit(".", 1)[-1] for g in sim.engine.groups]
    spikes = {p.name: sim.spikes(p.name) for p in net.populations}
    states = [g.state.copy() for g in sim.engine.groups]
    states.append(sim.engine.updates.copy())   # (the updates counted: the energy counters' input)
    return kernels, spikes, states, net


def test_the_delta_kernel_computes_its_factors_ahead():
    from eventsim.engine import cpu_kernels
    assert neuron_loop.compile_loop("eventsim.models.neurons._lif_delta_kernel", "cpu", cpu_kernels).model.leak
    from eventsim.models.neurons import _lif_delta_kernel, _lif_exp_kernel, _lif_kernel
    assert _lif_delta_kernel.LEAK_AHEAD and not _lif_kernel.LEAK_AHEAD and not _lif_exp_kernel.LEAK_AHEAD


def test_the_network_has_what_the_factors_ahead_must_get_right():
    """The conditions the comparison below needs, checked on the network itself."""
    _k, spikes, _s, net = _run(1)
    src = net.sources()
    key = src.astype(np.int64) * net.n_neurons + net.target
    assert np.unique(key).size < key.size   # multapses: inputs at equal times
    n_exc = spikes["exc"][0].size
    assert n_exc / 120 / 40.0 > 0.05   # exc neurons fire (so refractoriness and resets happen)
    # mean events per exc neuron and 2 ms window: Poisson 80 plus recurrent ones
    assert 40000.0 / 1000.0 * 2.0 >= 8 * neuron_loop.LEAK_AHEAD_MIN


@pytest.mark.parametrize("threads", [1, 2])
def test_factors_ahead_give_the_general_kernels_spikes_to_the_bit(monkeypatch, threads):
    kernels, spikes, states, _ = _run(threads)
    assert kernels == ["_lif_delta_kernel"] * 4
    with monkeypatch.context() as m:
        m.setattr(NeuronModel, "kernel_for", lambda self, options: self.kernel_module)
        kernels0, spikes0, states0, _ = _run(threads)
    assert kernels0 == ["_lif_kernel"] * 4
    assert spikes["exc"][0].size > 200 and spikes["inh"][0].size > 20 and spikes["pace"][0].size > 200
    assert spikes["rel"][0].size > 100
    for name in spikes:
        t, i = spikes[name]
        t0, i0 = spikes0[name]
        assert np.array_equal(t, t0) and np.array_equal(i, i0), name
    for s, s0 in zip(states[:-1], states0[:-1]):
        assert np.array_equal(s["v"], s0["v"])
    assert np.array_equal(states[-1], states0[-1])


def _kernel_functions():
    from eventsim.models.neurons import _lif_delta_kernel as K
    p = np.zeros(1, dtype=K.PARAM_DTYPE)
    return K.CPU, p


def test_relative_leak_where_v_inf_is_plus_zero_only():
    """The loop leaves v_inf's addition out only where v_inf = v_inf0 + i_ext R is +0.0
    (with -0.0, x + v_inf is not x ea for x = +0.0; a nonzero v_inf is no shortcut)."""
    C, p = _kernel_functions()
    for v_inf0, i_ext, R, want in ((0.0, 0.0, 0.08, True), (-0.0, 0.0, 0.08, True), (-0.0, -0.0, 0.08, False),
                                   (0.0, 10.0, 0.08, False), (-65.0, 0.0, 0.08, False), (0.0, -0.0, 0.08, True)):
        p[0]["v_inf0"], p[0]["R"] = v_inf0, R
        assert bool(C.relative_leak(p[0], i_ext)) == want, (v_inf0, i_ext)


def test_relative_leak_differs_only_at_minus_zero_then_a_minus_zero_weight():
    """evolve_relative (v ea) then the input's weight against evolve_leaked (0 + (v - 0) ea)
    then the weight, bit for bit, over signed zeros, denormals, infinities, nan and
    ordinary values: they differ exactly where v ea is -0.0 and the weight is -0.0, the
    one input the loop leaves to evolve_leaked."""
    C, p = _kernel_functions()
    p[0]["v_inf0"], p[0]["R"], p[0]["a"] = 0.0, 0.08, 0.05
    tiny = 5e-324
    vs = [0.0, -0.0, tiny, -tiny, -1e-310, 1e-300, -3.7, 12.5, np.inf, -np.inf, np.nan]
    eas = [1.0, 0.9999993, 0.99, 0.984496437005408]
    ws = [0.0, -0.0, 0.1, -0.5, tiny, -tiny]
    differ = []
    for v in vs:
        for ea in eas:
            for w in ws:
                s = (v, 0.0, 0.0, 0.0, 0.0)
                a = C.receive(C.evolve_relative(s, p[0], ea), p[0], w, False)[0]
                b = C.receive(C.evolve_leaked(s, p[0], 0.01, 0.0, ea), p[0], w, False)[0]
                same = np.float64(a).view(np.int64) == np.float64(b).view(np.int64) or (np.isnan(a) and np.isnan(b))
                if not same:
                    differ.append((v, ea, w))
                m = v * ea
                minus_zero = m == 0.0 and np.signbit(m) and w == 0.0 and np.signbit(w)
                assert same != minus_zero, (v, ea, w, a, b)
    assert differ   # (the exception is real: the loop's test for w = -0.0 is needed)
