"""Neuron models of the catalogue: alif and alpha synapses against the slow reference and
closed forms, a model registered from outside the catalogue, the generated model page."""
import math
from pathlib import Path

import numpy as np
import pytest
import reference
from netutil import GRAZING_TOL, REFERENCE_TOL, SPIKE_TOL, network, spike_source, spike_tol
from scipy.integrate import quad
from scipy.optimize import brentq, minimize_scalar

from eventsim import models
from eventsim.engine.simulation import Simulation
from eventsim.network.core import Population

TOL = SPIKE_TOL
REPO = Path(__file__).resolve().parents[1]
IF_KERNEL = REPO / "models" / "neurons" / "_if_kernel.py"


def neuron_pop(model, name, offset, synapse="delta", v0=None, a0=None, **params):
    """One neuron of a catalogue model, every numeric parameter at its default unless given."""
    m = models.neuron_model(model)
    p = {k: m.params[k].default for k in m.numeric_params}
    p.update(reference.LIF_DEFAULTS)
    p.update(params)
    init = {"v": np.array([p["v_rest"] if v0 is None else v0])}
    if "a" in m.init:
        init["a"] = np.array([0.0 if a0 is None else a0])
    return Population(name, model, 1, offset, {k: np.array([float(v)]) for k, v in p.items()},
                      {"synapse": synapse}, init)


def run_model(model, arrivals, t_stop, synapse="delta", delay=1.0, current_steps=(), v0=None,
              a0=None, **params):
    """Engine and reference spike times of one neuron given inputs (arrival time, weight)."""
    from eventsim.network.core import Stimulus
    src = spike_source("src", [[t - delay] for t, _ in arrivals], 0)
    n_src = len(arrivals)
    nrn = neuron_pop(model, "n", n_src, synapse=synapse, v0=v0, a0=a0, **params)
    edges = [(k, n_src, w, delay, 0) for k, (_, w) in enumerate(arrivals)]
    stims = []
    if current_steps:
        ts, amps = zip(*current_steps)
        stims.append(Stimulus("step", "current", "n", np.array([n_src]), times=np.array(ts, float),
                              amplitudes=np.array(amps, float)))
    sim = Simulation(network([src, nrn], edges, stimuli=stims))
    sim.run(t_stop)
    got, _ = sim.spikes("n")
    ref_kw = dict(params)
    if model == "alif":
        ref_kw["a0"] = 0.0 if a0 is None else a0
        for k in ("tau_a", "delta_th"):    # the engine's population took the catalogue defaults
            ref_kw.setdefault(k, models.neuron_model("alif").params[k].default)
    ref = reference.simulate(t_stop, arrivals, synapse=synapse, current_steps=current_steps, v0=v0,
                             model=model, **ref_kw)
    return got, ref


def assert_same_spikes(got, ref):
    assert got.size == ref.size, f"{got.size} spikes vs reference {ref.size}: {got[:10]} / {ref[:10]}"
    if got.size:
        err = np.abs(got - ref)
        assert np.all(err <= REFERENCE_TOL), (err.max(), ref[np.argmax(err)])


def random_inputs(rng, synapse, n=100, t_max=150.0):
    t = np.sort(rng.uniform(0.0, t_max, n))
    if synapse == "delta":
        return list(zip(t.round(1) + 1.0, rng.normal(2.0, 3.0, n)))   # rounded: simultaneous arrivals
    scale = 700.0 if synapse == "exp" else 250.0
    return list(zip(t + 1.0, rng.normal(scale, scale, n)))


# ---- the reference's alpha solution against direct numerical integration ----

def test_reference_alpha_response_matches_quadrature():
    # v(s) for I(t) = w (t/ts) e^{1 - t/ts}: v_rest + (1/c) int_0^s e^{-(s-u)/tm} I(u) du
    for tm, ts in ((10.0, 2.0), (5.0, 5.0), (3.0, 8.0)):
        n = reference.RefALIF(synapse="alpha", tau_m=tm, tau_syn_ex=ts, c_m=250.0)
        n.receive_all(0.0, [300.0])
        for s in (0.3, ts, 7.0, 25.0):
            want = quad(lambda u: math.exp(-(s - u) / tm) * 300.0 * u / ts * math.exp(1 - u / ts),  # noqa: B023 (called at once)
                        0.0, s, epsabs=1e-13, epsrel=1e-13)[0] / 250.0 + n.p["v_rest"]
            assert abs(n.v_at(s) - want) < 1e-11


# ---- alif and alpha synapses against the reference ----

@pytest.mark.parametrize("synapse,tau_a,seed", [
    ("delta", 3.0, 1), ("delta", 60.0, 2), ("exp", 3.0, 3), ("exp", 60.0, 4),
    ("alpha", 3.0, 5), ("alpha", 60.0, 6)])
def test_alif_random_inputs(synapse, tau_a, seed):
    # tau_a = 3 ms < tau_m = 10 ms: the threshold falls faster than v relaxes, the hard case
    rng = np.random.default_rng(seed)
    arrivals = random_inputs(rng, synapse)
    got, ref = run_model("alif", arrivals, 170.0, synapse=synapse, tau_m=10.0, tau_a=tau_a,
                         delta_th=rng.uniform(1.0, 6.0), i_e=rng.uniform(100.0, 400.0),
                         tau_syn_ex=rng.uniform(0.5, 5.0), tau_syn_in=rng.uniform(0.5, 8.0))
    assert ref.size > 5
    assert_same_spikes(got, ref)


def test_alif_stepped_current():
    rng = np.random.default_rng(9)
    arrivals = random_inputs(rng, "exp", n=80)
    steps = [(50.0, 500.0), (120.5, 0.0), (200.25, 800.0), (260.0, -100.0)]
    got, ref = run_model("alif", arrivals, 320.0, synapse="exp", current_steps=steps, tau_a=4.0,
                         delta_th=3.0)
    assert ref.size > 5
    assert_same_spikes(got, ref)


@pytest.mark.parametrize("seed,tau_syn", [(11, None), (12, 10.0)])
def test_lif_alpha_random_inputs(seed, tau_syn):
    # tau_syn = tau_m: the limit form of the alpha solution
    rng = np.random.default_rng(seed)
    arrivals = random_inputs(rng, "alpha")
    ex = tau_syn or rng.uniform(0.5, 5.0)
    inh = tau_syn or rng.uniform(0.5, 15.0)
    got, ref = run_model("lif", arrivals, 170.0, synapse="alpha", tau_m=10.0,
                         i_e=rng.uniform(0.0, 300.0), tau_syn_ex=ex, tau_syn_in=inh)
    assert ref.size > 5
    assert_same_spikes(got, ref)


@pytest.mark.parametrize("model,synapse", [("lif", "exp"), ("lif", "alpha"), ("alif", "alpha")])
def test_long_silence_with_tau_syn_above_tau_m(model, synapse):
    # after 10 s without input, (tau_m^-1 - tau_syn^-1) t > 709: the closed forms must not
    # overflow into nan (they did for exp synapses with e^{-a t} phi((b - a) t) = 0 * inf)
    arrivals = [(2.0, 100.0), (10002.0, 5000.0), (10003.0, 5000.0)]
    got, ref = run_model(model, arrivals, 10010.0, synapse=synapse, tau_m=5.0, tau_syn_ex=10.0)
    assert ref.size >= 2
    assert_same_spikes(got, ref)


def test_alpha_psp_peak_threshold():
    # one alpha input; v(t) by quadrature of the current w (t/ts) e^{1 - t/ts}: with v_th 1e-6 mV
    # below the PSP peak the neuron spikes at the crossing before the peak, 1e-8 mV above it not
    tm, ts, c, w = 10.0, 2.0, 250.0, 800.0
    v = lambda s: quad(lambda u: math.exp(-(s - u) / tm) * w * u / ts * math.exp(1 - u / ts),
                       0.0, s, epsabs=1e-13, epsrel=1e-13, limit=200)[0] / c
    res = minimize_scalar(lambda s: -v(s), bounds=(0.1, 30.0), method="bounded",
                          options={"xatol": 1e-10})
    peak = -res.fun
    for eps, spikes in ((1e-6, 1), (-1e-8, 0)):
        got, _ = run_model("lif", [(2.0, w)], 40.0, synapse="alpha", tau_m=tm, tau_syn_ex=ts, c_m=c,
                           v_rest=0.0, v_reset=0.0, v_th=peak - eps)
        assert got.size == spikes
        if spikes:
            t_cross = brentq(lambda s: v(s) - (peak - eps), 0.0, res.x, xtol=1e-13)  # noqa: B023 (called at once)
            assert abs(got[0] - (2.0 + t_cross)) < 1e-8


# ---- a first crossing that only grazes the moving threshold ----

def test_alif_grazing_crossing_is_caught():
    # v rises with one exp input while the threshold v_th + a0 e^{-t/tau_a} (tau_a < tau_m) falls;
    # v_th is set so that v - threshold peaks 2e-5 mV above 0 (for about 0.03 ms)
    tm, ts, ta, c, w, a0, t_in = 10.0, 0.5, 2.0, 250.0, 2000.0, 4.0, 1.0
    P = lambda s: 0.0 if s <= 0 else (math.exp(-s / tm) - math.exp(-s / ts)) / (1 / ts - 1 / tm)
    g = lambda t: w / c * P(t - t_in) - a0 * math.exp(-t / ta)
    res = minimize_scalar(lambda t: -g(t), bounds=(t_in, t_in + 5.0), method="bounded",
                          options={"xatol": 1e-12})
    for eps, expect_graze in ((2e-5, True), (-2e-5, False)):
        v_th = -res.fun - eps
        if expect_graze:
            t_up = brentq(lambda t: g(t) - v_th, t_in, res.x, xtol=1e-14)  # noqa: B023 (called at once)
            t_down = brentq(lambda t: g(t) - v_th, res.x, res.x + 2.0, xtol=1e-14)  # noqa: B023 (called at once)
            assert 0.0 < t_down - t_up < 0.05
        got, ref = run_model("alif", [(t_in, w)], 30.0, synapse="exp", tau_m=tm, tau_syn_ex=ts,
                             tau_a=ta, delta_th=2.0, c_m=c, v_rest=0.0, v_reset=0.0, v_th=v_th,
                             v0=0.0, a0=a0)
        if expect_graze:
            assert got.size >= 1 and abs(got[0] - t_up) < GRAZING_TOL
        else:
            assert got.size == 0 or got[0] > res.x + 0.1
        assert_same_spikes(got, ref)


# ---- spike-frequency adaptation under constant current ----

def test_alif_isis_lengthen_to_the_closed_form_steady_state():
    # steady state: a just before a spike is a_s = D q/(1 - q), q = e^{-T/tau_a}, and
    # v_inf + (v_reset - v_inf) e^{-(T - t_ref)/tau_m} = v_th + a_s gives the steady ISI T
    p = {"tau_m": 10.0, "c_m": 250.0, "v_rest": -70.0, "v_reset": -70.0, "v_th": -55.0, "t_ref": 2.0,
         "i_e": 500.0, "tau_a": 50.0, "delta_th": 2.0}
    v_inf = p["v_rest"] + p["i_e"] * p["tau_m"] / p["c_m"]

    def f(T):
        q = math.exp(-T / p["tau_a"])
        return (v_inf + (p["v_reset"] - v_inf) * math.exp(-(T - p["t_ref"]) / p["tau_m"])
                - p["v_th"] - p["delta_th"] * q / (1.0 - q))
    T_ss = brentq(f, p["t_ref"] + 1e-9, 1e4, xtol=1e-14)
    got, ref = run_model("alif", [], 1500.0, **p)
    first = p["tau_m"] * math.log((p["v_rest"] - v_inf) / (p["v_th"] - v_inf))
    assert abs(got[0] - first) < TOL
    isi = np.diff(got)
    assert isi.size > 30
    assert np.all(np.diff(isi) > -spike_tol(got[-1]))  # never shorter (up to the rounding of times)
    far = isi < T_ss - 1e-8
    assert far.sum() > 5 and np.all(np.diff(isi[far]) > 0.0)   # strictly lengthening until settled
    assert np.all(isi < T_ss + spike_tol(got[-1]))
    assert isi[-1] - isi[0] > 5.0                      # real adaptation, not rounding
    assert abs(isi[-1] - T_ss) < 1e-6
    assert_same_spikes(got, ref)


# ---- a model from outside the catalogue ----

def test_model_registered_outside_the_catalogue_runs(tmp_path, monkeypatch):
    # a kernel module outside eventsim: a copy of the shipped perfect integrator's
    # (models/neurons/_if_kernel.py) under another name; under i_e from v = v_reset it spikes
    # every (v_th - v_reset) c_m / i_e + t_ref ms; a 5 mV input at 10 ms advances the next spike
    (tmp_path / "toy_model_kernel.py").write_text(IF_KERNEL.read_text())
    monkeypatch.syspath_prepend(str(tmp_path))
    toy = models.NeuronModel(
        name="toy_pif", doc="perfect integrate-and-fire (test only)", equations="dv/dt = I/c_m",
        source="test", init={"v": models.Param(0.0, "mV", "initial v")},
        params={k: models.Param(d, u, k) for k, d, u in (
            ("c_m", 250.0, "pF"), ("v_reset", 0.0, "mV"), ("v_th", 15.0, "mV"), ("t_ref", 1.0, "ms"),
            ("i_e", 500.0, "pA"))},
        state=("v",), kernel_module="toy_model_kernel")
    models.register_neuron_model(toy)
    try:
        assert models.neuron_model("toy_pif") is toy
        src = spike_source("src", [[9.0]], 0)
        nrn = Population("n", "toy_pif", 1, 1, {k: np.array([p.default]) for k, p in toy.params.items()},
                         {}, {"v": np.array([0.0])})
        sim = Simulation(network([src, nrn], [(0, 1, 5.0, 1.0, 0)]))
        sim.run(40.0)
        got, _ = sim.spikes("n")
    finally:
        models._NEURON_MODELS.pop("toy_pif", None)
    period = 15.0 * 250.0 / 500.0                      # 7.5 ms to climb from 0 to 15 mV
    # spikes at 7.5, then refractory to 8.5; at 10 v = 1.5*2 + 5 = 8; 7 mV more takes 3.5 ms
    want = [7.5, 13.5]
    t = 13.5
    while t + 1.0 + period < 40.0:
        t += 1.0 + period
        want.append(t)
    assert np.allclose(got, want, atol=1e-12, rtol=0)


# ---- the generated model page ----

def test_models_page_is_generated_from_the_catalogue():
    from eventsim.models_doc import models_markdown
    page = (REPO / "docs" / "models.md").read_text()
    assert page == models_markdown(), "docs/models.md is stale: python -m eventsim.models_doc > docs/models.md"
    for name, m in models.neuron_models().items():
        assert f"`{name}`" in page
        for k in m.params:
            assert f"`{k}`" in page


# ---- through the scenario reader and builder ----

def test_alif_scenario_adapts_and_bad_params_are_reported():
    import eventsim
    from eventsim.errors import InputError

    def scenario(**params):
        return {"simulation": {"duration": 400.0, "seed": 1},
                "population": [{"name": "n", "size": 2, "model": "alif",
                                "params": dict({"i_e": 500.0, "tau_a": 100.0, "delta_th": 3.0,
                                                "synapse": "alpha"}, **params),
                                "init": {"a": 1.0}}]}
    sc = eventsim.load_scenario(scenario())
    sim = eventsim.Simulation(eventsim.build_network(sc), seed=1)
    sim.run(sc.duration)
    t, i = sim.spikes("n")
    isi = np.diff(t[i == 0])
    assert isi.size > 5 and isi[-1] > isi[0] + 5.0       # adaptation lengthens the ISIs
    ref = reference.simulate(400.0, (), model="alif", i_e=500.0, tau_a=100.0, delta_th=3.0, a0=1.0)
    assert_same_spikes(t[i == 0], ref)
    with pytest.raises(InputError) as err:
        eventsim.load_scenario(scenario(tau_a=0.0, delta_th=-1.0))
    text = "\n".join(err.value.problems)
    assert "population[0].params.tau_a" in text and "population[0].params.delta_th" in text


def test_alif_adaptation_scenario_shows_adaptation():
    # scenarios/alif_adaptation.toml: during the current step the alif rate falls from its onset
    # value, the lif rate (same membrane, no adaptation) does not
    import eventsim
    sc = eventsim.load(str(REPO / "scenarios" / "alif_adaptation.toml"))
    sim = eventsim.Simulation(eventsim.build_network(sc), seed=sc.seed)
    sim.run(sc.duration)

    def rate(pop, t0, t1):
        t, _ = sim.spikes(pop)
        return np.sum((t >= t0) & (t < t1)) / 100 / ((t1 - t0) / 1000.0)
    early = {p: rate(p, 100.0, 200.0) for p in ("alif", "lif")}
    late = {p: rate(p, 500.0, 700.0) for p in ("alif", "lif")}
    assert early["alif"] > 20.0
    assert late["alif"] < 0.75 * early["alif"]
    assert abs(late["lif"] - early["lif"]) < 0.1 * early["lif"]


# ---- the bound that drives the crossing search ----

def test_alif_gap_bound_is_an_upper_bound_on_every_interval():
    # random states (alpha and exp currents of both signs, adaptation, tau_a below and above
    # tau_m, tau_syn = tau_m included): the bound on [t0, t1] is >= gap at 400 points of it
    from eventsim.models.neurons import _alif_kernel as K
    rng = np.random.default_rng(21)
    for synapse in ("exp", "alpha"):
        for trial in range(40):
            tm = rng.uniform(2.0, 20.0)
            ts_ex = tm if trial % 5 == 0 else rng.uniform(0.2, 30.0)
            pop = neuron_pop("alif", "n", 0, synapse=synapse, tau_m=tm, tau_syn_ex=ts_ex,
                             tau_syn_in=rng.uniform(0.2, 30.0), tau_a=rng.uniform(0.5, 100.0),
                             i_e=rng.uniform(-100.0, 500.0))
            p = K.pack_params(pop)[0]
            s = (rng.uniform(-80.0, -50.0), rng.uniform(0, 2000.0), -rng.uniform(0, 2000.0),
                 rng.uniform(0, 2000.0) * (synapse == "alpha"), -rng.uniform(0, 2000.0) * (synapse == "alpha"),
                 rng.uniform(0.0, 20.0))
            t0 = rng.choice([0.0, rng.uniform(0.0, 20.0)])
            t1 = t0 + rng.uniform(1e-3, 30.0)
            ts = np.linspace(t0, t1, 400)
            g = max(K.CPU.gap(s, p, 0.0, t) for t in ts)
            assert K.CPU.gap_bound(s, p, 0.0, t0, t1) >= g - 1e-9 * (1 + abs(g))
            assert K.CPU.gap_bound(s, p, 0.0, t0, math.inf) >= g - 1e-9 * (1 + abs(g))


def test_lif_gap_bound_with_one_synaptic_kernel():
    # tau_syn_ex = tau_syn_in: the exact bound takes I_ex + I_in as one term. It stays an
    # upper bound (random states, currents of both signs and either sum, the membrane's
    # tau equal to the synapses' included), and where the two currents cancel it is the
    # leak's alone: with the terms bounded apart, the excitatory one (its peak) stood
    # above the threshold
    from eventsim.models.neurons import _lif_kernel as K
    rng = np.random.default_rng(22)
    for trial in range(60):
        tm = rng.uniform(2.0, 20.0)
        ts = tm if trial % 6 == 0 else rng.uniform(0.2, 30.0)
        pop = neuron_pop("lif", "n", 0, synapse="exp", tau_m=tm, tau_syn_ex=ts, tau_syn_in=ts,
                         i_e=rng.uniform(-100.0, 500.0))
        p = K.pack_params(pop)[0]
        s = (rng.uniform(-80.0, -50.0), rng.uniform(0, 3000.0), -rng.uniform(0, 3000.0), 0.0, 0.0)
        t0 = rng.choice([0.0, rng.uniform(0.0, 20.0)])
        t1 = t0 + rng.uniform(1e-3, 30.0)
        g = max(K.CPU.gap(s, p, 0.0, t) for t in np.linspace(t0, t1, 400))
        assert K.CPU.gap_bound(s, p, 0.0, t0, t1) >= g - 1e-9 * (1 + abs(g))
        assert K.CPU.gap_bound(s, p, 0.0, t0, math.inf) >= g - 1e-9 * (1 + abs(g))
    pop = neuron_pop("lif", "n", 0, synapse="exp", tau_m=10.0, tau_syn_ex=0.5, tau_syn_in=0.5,
                     v_rest=-65.0, v_th=-50.0, i_e=0.0)
    p = K.pack_params(pop)[0]
    s = (-51.0, 5000.0, -5000.0, 0.0, 0.0)   # (alone, 5000 pA would lift v by about 9 mV)
    g = max(K.CPU.gap(s, p, 0.0, t) for t in np.linspace(0.1, 2.0, 400))
    assert -1.2 < g < -1.1
    assert K.CPU.gap_bound(s, p, 0.0, 0.1, 2.0) < 0.0
    assert K.CPU.gap_bound((-51.0, 5000.0, 0.0, 0.0, 0.0), p, 0.0, 0.1, 2.0) > 0.0


@pytest.mark.parametrize("tm,ts", [(10.0, 2.0), (5.0, 5.0), (3.0, 20.0)])
def test_alpha_q_peak_is_the_maximum(tm, ts):
    from eventsim.models.neurons import _lif_kernel as K
    a, b = 1.0 / tm, 1.0 / ts
    Q = lambda t: quad(lambda u: math.exp(-a * (t - u)) * u * math.exp(-b * u), 0.0, t,
                       epsabs=1e-14, epsrel=1e-13)[0]
    res = minimize_scalar(lambda t: -Q(t), bounds=(0.0, 10 * (tm + ts)), method="bounded",
                          options={"xatol": 1e-9})
    assert abs(K.CPU.q_peak(a, b) - res.x) < 1e-4       # the maximum is flat: its place is coarse
    assert abs(K.CPU.apsp(a, b, K.CPU.q_peak(a, b)) + res.fun) < 1e-12 * abs(res.fun)
