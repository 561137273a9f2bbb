"""State probes (eventsim/output/report.py): samples equal the analytic solution, recording
changes nothing, the file is a SONATA report that libsonata reads, bad settings are reported."""
import math

import numpy as np
import pytest
import reference
from netutil import driven_neuron, lif_pop, network
from test_models import neuron_pop

import eventsim
from eventsim.engine.simulation import Simulation
from eventsim.errors import InputError
from eventsim.network.core import Projection, Stimulus

V_TOL = 1e-9   # mV
T_TOL = 1e-9   # ms (spike times)


def at_spike_times(cls, crossings, **kw):
    """The reference neuron made to spike between inputs exactly at ``crossings`` (the engine's
    spike times, checked against the reference's own search to 1e-9 ms first): v is then the
    closed-form solution between those instants, so the comparison of samples is not blurred
    by the 1e-9 ms spike-time tolerance (v moves by up to ~2 mV/ms after a reset)."""
    class Forced(cls):
        def _first_crossing(self, H, n_grid=0):
            for ts in crossings:
                if 0.0 < ts - self.t <= H:
                    return ts - self.t
            return None
    return Forced(**kw)


def reference_samples(ref, arrivals, sample_times, current_steps=()):
    """The slow reference neuron's (v, i_ex + i_in, a) at each sample time, inputs at a sample's
    instant applied first (the documented convention: samples are right-continuous)."""
    by_t = {}
    for t, w in arrivals:
        by_t.setdefault(float(t), []).append(float(w))
    cur = {float(t): float(a) for t, a in current_steps}
    events = sorted(set(by_t) | set(cur))
    out = []
    j = 0
    for ts in sample_times:
        while j < len(events) and events[j] <= ts:
            ref.advance(events[j])
            ref.receive_all(events[j], by_t.get(events[j], []), cur.get(events[j]))
            j += 1
        ref.advance(ts)
        out.append((ref.v, ref.i_ex + ref.i_in, getattr(ref, "a", 0.0)))
    return np.array(out)


def run_probe(net, t_stop, variables, interval, pop="n", split=None, **kw):
    sim = Simulation(net)
    sim.record_state(pop, variables, "all", interval, **kw)
    for t in (split or []) + [t_stop]:
        sim.run(t)
    return sim, sim.state_samples(pop)


# ---- samples against the analytic membrane solution ----

def test_lif_delta_samples_are_analytic_with_refractoriness():
    # constant drive towards v_inf = -70 + 500*10/250 = -50 mV (above v_th = -55: regular firing),
    # delta inputs, some exactly at sample times (0.25 ms grid), one into the refractory period
    params = dict(i_e=500.0, t_ref=2.0)
    arrivals = [(3.0, 4.0), (5.25, 2.0), (7.1, -3.0), (12.5, 8.0), (12.75, 2.0), (21.3, 1.5)]
    net = driven_neuron(arrivals, synapse="delta", **params)
    sim, s = run_probe(net, 60.0, ["v", "threshold", "i_syn"], 0.25)
    got, _ = sim.spikes("n")
    ref_spikes = reference.simulate(60.0, arrivals, synapse="delta", **params)
    assert got.size >= 3 and got.size == ref_spikes.size
    assert np.max(np.abs(got - ref_spikes)) < T_TOL
    assert s.times.size == 240 and s.times[1] == 0.25
    crossings = [t for t in got if t not in {a for a, _ in arrivals}]
    ref = reference_samples(at_spike_times(reference.RefLIF, crossings, synapse="delta", **params),
                            arrivals, s.times)
    v = s.values["v"][:, 0]
    assert np.max(np.abs(v - ref[:, 0])) < V_TOL
    # v = v_reset during [t_spike, t_spike + t_ref), exactly
    for ts in got:
        inside = (s.times >= ts) & (s.times < ts + 2.0)
        assert inside.any() and np.all(v[inside] == -70.0)
    # an input exactly at a sample time is in that sample: 5.25 is free of refractoriness
    k = int(np.flatnonzero(s.times == 5.25)[0])
    assert v[k] - v[k - 1] > 2.0
    assert np.all(s.values["threshold"] == -55.0) and np.all(s.values["i_syn"] == 0.0)


@pytest.mark.parametrize("tau_syn", [2.0, 10.0])   # 10.0 = tau_m: the limit form of the solution
def test_lif_exp_samples_are_analytic(tau_syn):
    rng = np.random.default_rng(5)
    t = np.sort(rng.uniform(1.0, 60.0, 40))
    arrivals = list(zip(t, rng.normal(700.0, 900.0, t.size)))
    params = dict(i_e=150.0, tau_syn_ex=tau_syn, tau_syn_in=tau_syn)
    steps = [(20.0, 100.0), (45.0, 0.0)]
    net = driven_neuron(arrivals, synapse="exp", current_steps=steps, **params)
    sim, s = run_probe(net, 80.0, ["v", "i_syn", "i_ex", "i_in"], 0.1, split=[33.3])
    got, _ = sim.spikes("n")
    ref_spikes = reference.simulate(80.0, arrivals, synapse="exp", current_steps=steps, **params)
    assert got.size >= 2 and got.size == ref_spikes.size
    assert np.max(np.abs(got - ref_spikes)) < T_TOL
    crossings = [t for t in got if t not in {a for a, _ in arrivals}]
    ref = reference_samples(at_spike_times(reference.RefLIF, crossings, synapse="exp", **params),
                            arrivals, s.times, steps)
    assert np.max(np.abs(s.values["v"][:, 0] - ref[:, 0])) < V_TOL
    assert np.max(np.abs(s.values["i_syn"][:, 0] - ref[:, 1])) < 1e-9 * 1000.0   # pA, relative 1e-12
    np.testing.assert_array_equal(s.values["i_syn"], s.values["i_ex"] + s.values["i_in"])
    for ts in got:   # clamped while refractory, currents still decay
        inside = (s.times >= ts) & (s.times < ts + 2.0)
        assert np.all(s.values["v"][inside, 0] == -70.0)


def test_alif_threshold_is_v_th_plus_decaying_adaptation():
    # alpha synapses and a current step; threshold = v_th + sum_j delta_th e^{-(t - t_j)/tau_a}
    rng = np.random.default_rng(11)
    t = np.sort(rng.uniform(1.0, 120.0, 150))
    arrivals = list(zip(t, rng.normal(300.0, 250.0, t.size)))
    params = dict(tau_a=30.0, delta_th=3.0, i_e=100.0, tau_syn_ex=1.0, tau_syn_in=1.0)
    from netutil import spike_source
    src = spike_source("src", [[a - 1.0] for a, _ in arrivals], 0)
    nrn = neuron_pop("alif", "n", len(arrivals), synapse="alpha", **params)
    net = network([src, nrn], [(k, len(arrivals), w, 1.0, 0) for k, (_, w) in enumerate(arrivals)])
    sim, s = run_probe(net, 150.0, ["v", "threshold", "a"], 0.2)
    got, _ = sim.spikes("n")
    ref_spikes = reference.simulate(150.0, arrivals, synapse="alpha", model="alif", a0=0.0, **params)
    assert got.size >= 4 and got.size == ref_spikes.size
    assert np.max(np.abs(got - ref_spikes)) < T_TOL
    dt = s.times[:, None] - got[None, :]
    a = np.where(dt >= 0.0, 3.0 * np.exp(-np.maximum(dt, 0.0) / 30.0), 0.0).sum(axis=1)
    assert np.max(np.abs(s.values["threshold"][:, 0] - (-55.0 + a))) < V_TOL
    assert np.max(np.abs(s.values["a"][:, 0] - a)) < V_TOL
    crossings = [t for t in got if t not in {a for a, _ in arrivals}]
    ref = reference_samples(at_spike_times(reference.RefALIF, crossings, synapse="alpha", a0=0.0,
                                           **params), arrivals, s.times)
    assert np.max(np.abs(s.values["v"][:, 0] - ref[:, 0])) < V_TOL


# ---- recording changes nothing ----

def recurrent_net(seed=3, n=120):
    rng = np.random.default_rng(seed)
    pop = lif_pop("n", n, 0, synapse="exp", tau_syn_ex=0.5, tau_syn_in=2.0, v0=-60.0)
    k = 12
    src = rng.integers(0, n, n * k)
    tgt = np.repeat(np.arange(n), k)
    w = np.where(rng.random(n * k) < 0.8, 300.0, -900.0)
    d = rng.uniform(0.5, 2.5, n * k).round(1)
    edges = list(zip(src, tgt, w, d, np.zeros(n * k, dtype=int)))
    stim = Stimulus("drive", "poisson", "n", np.arange(n), rate=8000.0, weight=120.0, delay=1.0)
    return network([pop], edges, projections=[Projection("p", 0, "n", "n", n_synapses=len(edges))],
                   stimuli=[stim], seed=seed)


def test_recording_leaves_spikes_byte_identical():
    plain = Simulation(recurrent_net())
    plain.run(150.0)
    t0, i0 = plain.spikes("n")
    assert t0.size > 300
    rec = Simulation(recurrent_net())
    rec.record_state("n", ["v", "i_syn", "threshold"], "all", 0.0625)
    for t in (37.3, 100.0, 150.0):
        rec.run(t)
    t1, i1 = rec.spikes("n")
    assert t1.tobytes() == t0.tobytes() and i1.tobytes() == i0.tobytes()
    s = rec.state_samples("n")
    assert s.values["v"].shape == (2400, 120) and np.all(np.isfinite(s.values["v"]))
    assert np.all(s.values["v"] < -55.0 + 1e-9)   # never above threshold, even between events
    # a probe on some neurons only gives the same values for them (interval and start exact
    # in binary, so that both probes have the very same sample times)
    part = Simulation(recurrent_net())
    part.record_state("n", ["v"], [7, 3, 99], 0.0625, start=10.0, stop=120.0)
    for t in (37.3, 100.0, 150.0):   # the same run(until) cuts: they decide where states are committed
        part.run(t)
    p = part.state_samples("n")
    assert list(p.node_ids) == [3, 7, 99] and p.times[0] == 10.0 and p.times.size == 1760
    np.testing.assert_array_equal(p.times, s.times[160:1920])
    np.testing.assert_array_equal(p.values["v"], s.values["v"][160:1920][:, [3, 7, 99]])


# ---- the output file ----

SCENARIO = {
    "simulation": {"duration": 60.0, "seed": 4},
    "population": [{"name": "exc", "size": 30, "model": "alif",
                    "params": {"synapse": "exp", "tau_a": 50.0, "delta_th": 2.0},
                    "init": {"v": {"uniform": [-70.0, -56.0]}}}],
    "stimulus": [{"name": "bg", "kind": "poisson", "rate": 3000.0, "target": "exc", "weight": 150.0,
                  "delay": 1.0}],
    "projection": [{"source": "exc", "target": "exc", "rule": "fixed_indegree", "indegree": 5,
                    "weight": 50.0, "delay": 1.5}],
    "record": {"state": [{"population": "exc", "variables": ["v", "threshold", "i_syn"],
                          "ids": [4, 0, 17], "interval": 0.5}]},
}


def test_report_file_is_read_by_libsonata(tmp_path):
    libsonata = pytest.importorskip("libsonata")
    sc = eventsim.load(SCENARIO)
    out = tmp_path / "run.h5"
    eventsim.run_scenario(sc, out)
    sim = eventsim.Simulation(eventsim.build_network(sc), seed=sc.seed)
    sim.record_state("exc", ["v", "threshold", "i_syn"], [0, 4, 17], 0.5)
    sim.run(60.0)
    api = sim.state_samples("exc")
    pop = libsonata.ElementReportReader(str(out))["exc"]
    assert tuple(pop.times) == (0.0, 60.0, 0.5) and pop.time_units == "ms"
    assert sorted(pop.get_node_ids()) == [0, 4, 17]
    frame = pop.get()
    data = np.asarray(frame.data)
    assert data.shape == (120, 9) and np.allclose(frame.times, np.arange(120) * 0.5)
    ids = np.asarray(frame.ids)
    for node in (0, 4, 17):
        col = list(api.node_ids).index(node)
        for j, var in enumerate(("v", "threshold", "i_syn")):
            c = np.flatnonzero((ids[:, 0] == node) & (ids[:, 1] == j))
            assert c.size == 1
            np.testing.assert_array_equal(data[:, c[0]], api.values[var][:, col].astype(np.float32))
    one = pop.get(node_ids=[4], tstart=10.0, tstop=12.0)
    assert np.allclose(one.times, [10.0, 10.5, 11.0, 11.5, 12.0])
    import h5py
    with h5py.File(out, "r") as f:
        d = f["report/exc/data"]
        assert d.dtype == np.float32 and d.attrs["units"] == "mixed"
        assert list(d.attrs["variable_units"]) == ["mV", "mV", "pA"]
        assert list(f["report/exc/mapping/index_pointers"][:]) == [0, 3, 6, 9]
        assert bool(f.attrs["complete"])


def test_bad_probe_settings_name_the_key():
    bad = dict(SCENARIO, record={"state": [
        {"population": "exc", "variables": ["v", "theta"], "ids": [0, 30], "interval": 0.0},
        {"population": "nope", "interval": 1.0}]})
    with pytest.raises(eventsim.errors.ScenarioError) as err:
        eventsim.load(bad)
    text = "\n".join(err.value.problems)
    assert "record.state[0].variables[1]: 'theta' is not recordable" in text
    assert "record.state[0].ids[1]: 30 is out of range" in text
    assert "record.state[0].interval: must be > 0" in text
    assert "record.state[1].population: unknown population 'nope'" in text
    sim = Simulation(recurrent_net())
    with pytest.raises(InputError) as err:
        sim.record_state("n", ["a"], "all", -1.0)
    assert any(m.startswith("record_state.variables[0]:") for m in err.value.problems)
    assert any(m.startswith("record_state.interval:") for m in err.value.problems)
