"""NIR graphs in and out of eventsim (eventsim/nir, docs/nir.md).

Expected values come from closed forms of the NIR equations, from scipy's direct
2-D correlation, from numpy sums, or from the NIR graph itself; never from eventsim.
Units as docs/nir.md: NIR time in seconds (time_unit = 1000 ms), dt = 1e-4.
"""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

nir = pytest.importorskip("nir")

import eventsim  # noqa: E402
from eventsim.cli import main  # noqa: E402
from eventsim.nir import from_nir, to_nir  # noqa: E402

U, DT, DELAY = 1000.0, 1e-4, 0.01       # ms per NIR second, the training step (s), ms per connection
NEVER = float(np.finfo(np.float64).max)


def lif(n, tau=2e-3, r=5.0, v_leak=0.0, v_th=1.0, v_reset=0.0):
    """A LIF layer of n neurons (n: a size or a shape such as (C, H, W))."""
    return nir.LIF(tau=np.full(n, tau), r=np.full(n, r), v_leak=np.full(n, v_leak),
                   v_threshold=np.full(n, v_th), v_reset=np.full(n, v_reset))


def graph(nodes, edges):
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def chain(n_in, *nodes):
    """Input -> nodes ... -> Output, named a0, a1, ...; the last node's size ends it."""
    names = [f"a{i}" for i in range(len(nodes))]
    last = nodes[-1]
    n_out = int(np.asarray(getattr(last, "tau", getattr(last, "tau_mem", getattr(last, "r", None)))).size)
    all_nodes = {"input": nir.Input(input_type=np.array(np.atleast_1d(n_in))), **dict(zip(names, nodes)),
                 "output": nir.Output(output_type=np.array([n_out]))}
    seq = ["input"] + names + ["output"]
    return graph(all_nodes, list(zip(seq, seq[1:])))


def run(net, until, inputs=None):
    sim = eventsim.Simulation(net)
    if inputs is not None:
        sim.set_spike_times("input", inputs)
    sim.run(until)
    return sim


# ---------------------------------------------------------------- single neurons, closed forms
def test_lif_under_constant_bias_fires_at_the_closed_form_times():
    """tau dv/dt = (v_leak - v) + r b from v_leak: the first spike at -tau ln(1 - (v_th - v_leak)/(r b)),
    then every tau ln((v_inf - v_reset)/(v_inf - v_th)); two neurons with different biases (the
    per-neuron current stimuli) and a third with none."""
    tau, r, v_leak, v_th, v_reset = 2e-3, 5.0, -0.2, 1.0, 0.1
    b = np.array([0.3, 0.45, 0.0])
    g = chain(2, nir.Affine(weight=np.zeros((3, 2)), bias=b), lif(3, tau, r, v_leak, v_th, v_reset))
    sim = run(from_nir(g), 20.0)
    t, i = sim.spikes("a1")
    assert not np.any(i == 2)
    for k in (0, 1):
        v_inf = v_leak + r * b[k]
        first = -tau * np.log(1 - (v_th - v_leak) / (v_inf - v_leak)) * U
        period = tau * np.log((v_inf - v_reset) / (v_inf - v_th)) * U
        want = first + period * np.arange(np.sum(i == k))
        assert np.sum(i == k) >= 3
        np.testing.assert_allclose(t[i == k], want, rtol=0, atol=1e-9)


def test_lif_spike_input_moves_v_by_r_w_dt_over_tau():
    """Two input spikes 1 ms apart through weights w1, w2: v = s w1 e^{-1 ms/tau} + s w2 with
    s = r dt / tau. A w2 just above the threshold's value fires at the second arrival, just below
    does not."""
    tau, r = 2e-3, 5.0
    s = r * DT / tau
    w1 = 2.0
    w2_edge = (1.0 - s * w1 * np.exp(-1e-3 / tau)) / s
    for w2, fires in ((w2_edge * (1 + 1e-9), True), (w2_edge * (1 - 1e-9), False)):
        g = chain(2, nir.Linear(weight=np.array([[w1, w2]])), lif(1, tau, r))
        sim = run(from_nir(g), 10.0, [np.array([1.0]), np.array([2.0])])
        t, _ = sim.spikes("a1")
        if fires:
            np.testing.assert_allclose(t, [2.0 + DELAY], rtol=0, atol=1e-12)
        else:
            assert t.size == 0


def test_cubalif_under_one_spike_crosses_at_the_closed_form_time():
    """tau_syn dI/dt = -I + w_in S, tau_mem dv/dt = -v + r I: one spike of weight W at t0 gives
    I0 = w_in W dt / tau_syn and v(t) = (r I0 / tau_mem) (e^{-t/tau_syn} - e^{-t/tau_mem}) /
    (1/tau_mem - 1/tau_syn); the first crossing of v_th, solved by brentq, against eventsim's spike."""
    from scipy.optimize import brentq
    tau_syn, tau_mem, r, w_in, w, v_th = 1e-3, 4e-3, 3.0, 2.5, 10.0, 1.0
    node = nir.CubaLIF(tau_syn=np.full(1, tau_syn), tau_mem=np.full(1, tau_mem), r=np.full(1, r),
                       v_leak=np.zeros(1), v_threshold=np.full(1, v_th), v_reset=np.zeros(1), w_in=np.full(1, w_in))
    g = chain(1, nir.Linear(weight=np.array([[w]])), node)
    t0 = 1.0
    sim = run(from_nir(g), 20.0, [np.array([t0])])
    t, _ = sim.spikes("a1")
    i0 = w_in * w * DT / tau_syn

    def v(x):
        return r * i0 / tau_mem * (np.exp(-x / tau_syn) - np.exp(-x / tau_mem)) / (1 / tau_mem - 1 / tau_syn)
    peak = np.log(tau_mem / tau_syn) / (1 / tau_syn - 1 / tau_mem)
    assert v(peak) > v_th
    cross = brentq(lambda x: v(x) - v_th, 0.0, peak, xtol=1e-16, rtol=4 * np.finfo(float).eps)
    np.testing.assert_allclose(t[:1], [t0 + DELAY + cross * U], rtol=0, atol=1e-9)


def test_if_integrates_without_leak():
    """dv/dt = r b: spikes every v_th / (r b) (NIR time units) from v = 0."""
    r, b, v_th = 4.0, 50.0, 1.0
    node = nir.IF(r=np.full(1, r), v_threshold=np.full(1, v_th), v_reset=np.zeros(1))
    sim = run(from_nir(chain(1, nir.Affine(weight=np.zeros((1, 1)), bias=np.array([b])), node)), 20.0)
    t, _ = sim.spikes("a1")
    period = v_th / (r * b) * U
    np.testing.assert_allclose(t, period * np.arange(1, t.size + 1), rtol=0, atol=1e-9)
    assert t.size == int(20.0 // period)


# ---------------------------------------------------------------- convolution and pooling
def dense_of(net, projection, scale):
    src, tgt, w, _ = net.synapse_table(projection)
    n_s = net.population(net.projection(projection).source).size
    n_t = net.population(net.projection(projection).target).size
    m = np.zeros((n_t, n_s))
    np.add.at(m, (tgt.astype(int), src.astype(int)), w)
    return m / scale


def conv2d_reference(x, k, stride, pad, dilation, groups):
    """Direct correlation, channel by channel (scipy.signal.correlate2d), PyTorch's conventions."""
    from scipy.signal import correlate2d
    c_out, c_in_g, kh, kw = k.shape
    out = []
    for co in range(c_out):
        g = co // (c_out // groups)
        acc = 0.0
        for cl in range(c_in_g):
            xp = np.pad(x[g * c_in_g + cl], ((pad[0], pad[0]), (pad[1], pad[1])))
            kd = np.zeros(((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1))
            kd[::dilation[0], ::dilation[1]] = k[co, cl]
            acc = acc + correlate2d(xp, kd, mode="valid")[::stride[0], ::stride[1]]
        out.append(acc)
    return np.array(out)


@pytest.mark.parametrize("stride,pad,dilation,groups", [((2, 1), (1, 2), (1, 2), 2), ((1, 1), (0, 0), (1, 1), 1),
                                                         ((3, 2), (2, 1), (2, 1), 4)])
def test_conv2d_connectivity_is_the_direct_convolution(stride, pad, dilation, groups):
    rng = np.random.default_rng(3)
    c_in, h, w, c_out = 4, 9, 8, 8
    k = rng.normal(size=(c_out, c_in // groups, 3, 2))
    x = rng.normal(size=(c_in, h, w))
    y = conv2d_reference(x, k, stride, pad, dilation, groups)
    conv = nir.Conv2d(input_shape=(h, w), weight=k, stride=stride, padding=pad, dilation=dilation, groups=groups,
                      bias=np.zeros(c_out))
    g = graph({"input": nir.Input(input_type=np.array([c_in, h, w])), "conv": conv, "lif": lif(y.size),
               "output": nir.Output(output_type=np.array([y.size]))},
              [("input", "conv"), ("conv", "lif"), ("lif", "output")])
    net = from_nir(g)
    m = dense_of(net, "input_to_lif", 5.0 * DT / 2e-3)
    np.testing.assert_allclose(m @ x.ravel(), y.ravel(), rtol=0, atol=1e-12)
    assert net.projection("input_to_lif").n_synapses == np.count_nonzero(m)   # zeros make no synapse


def test_conv2d_same_padding_and_conv1d():
    from scipy.signal import correlate
    rng = np.random.default_rng(4)
    k = rng.normal(size=(2, 3, 4, 3))
    x = rng.normal(size=(3, 6, 5))
    y = conv2d_reference(np.pad(x, ((0, 0), (1, 2), (1, 1)))[:, :, :], k, (1, 1), (0, 0), (1, 1), 1)
    conv = nir.Conv2d(input_shape=(6, 5), weight=k, stride=1, padding="same", dilation=1, groups=1, bias=np.zeros(2))
    net = from_nir(chain([3, 6, 5], conv, lif(y.size)))
    np.testing.assert_allclose(dense_of(net, "input_to_a1", 5.0 * DT / 2e-3) @ x.ravel(), y.ravel(), atol=1e-12)
    k1 = rng.normal(size=(2, 3, 3))
    x1 = rng.normal(size=(3, 10))
    y1 = np.array([sum(correlate(np.pad(x1[c], 1), k1[o, c], mode="valid")[::2] for c in range(3)) for o in range(2)])
    conv1 = nir.Conv1d(input_shape=10, weight=k1, stride=2, padding=1, dilation=1, groups=1, bias=np.zeros(2))
    net1 = from_nir(chain([3, 10], conv1, lif(y1.size)))
    np.testing.assert_allclose(dense_of(net1, "input_to_a1", 5.0 * DT / 2e-3) @ x1.ravel(), y1.ravel(), atol=1e-12)


@pytest.mark.parametrize("kind", ["SumPool2d", "AvgPool2d"])
def test_pooling_sums_or_averages_each_window(kind):
    x = np.random.default_rng(5).normal(size=(2, 6, 4))
    want = x.reshape(2, 3, 2, 2, 2).sum(axis=(2, 4)) / (4.0 if kind == "AvgPool2d" else 1.0)
    pool = getattr(nir, kind)(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))
    net = from_nir(chain([2, 6, 4], pool, lif(want.size)))
    np.testing.assert_allclose(dense_of(net, "input_to_a1", 5.0 * DT / 2e-3) @ x.ravel(), want.ravel(), atol=1e-12)


def test_delay_nodes_add_to_the_connection_delay():
    d = np.array([0.0, 2e-3, 2e-3])          # s, per element of the signal after the Linear
    g = chain(1, nir.Linear(weight=np.full((3, 1), 1.0)), nir.Delay(delay=d), lif(3))
    net = from_nir(g)
    src, tgt, w, delay = net.synapse_table("input_to_a2")
    np.testing.assert_allclose(delay[np.argsort(tgt)], DELAY + d * U, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- round trips
def assert_same_graph(a, b, where="graph"):
    assert set(a.nodes) == set(b.nodes), where
    assert sorted(map(tuple, a.edges)) == sorted(map(tuple, b.edges)), where
    for name, x in a.nodes.items():
        y = b.nodes[name]
        assert type(x) is type(y), f"{where}.{name}"
        if isinstance(x, nir.NIRGraph):
            assert_same_graph(x, y, f"{where}.{name}")
            continue
        for f in dataclasses.fields(x):
            if f.name in ("input_type", "output_type", "metadata"):
                continue
            u, v = getattr(x, f.name), getattr(y, f.name)
            if isinstance(u, np.ndarray) or isinstance(v, np.ndarray):
                u, v = np.asarray(u), np.asarray(v)
                assert u.shape == v.shape, f"{where}.{name}.{f.name}"
                if u.dtype.kind in "fiu":
                    np.testing.assert_allclose(v, u, rtol=1e-12, atol=0, err_msg=f"{where}.{name}.{f.name}")
                else:
                    assert np.array_equal(u, v), f"{where}.{name}.{f.name}"
            else:
                assert u == v or np.allclose(u, v, rtol=1e-12, atol=0), f"{where}.{name}.{f.name}"
    if isinstance(a, nir.NIRGraph):
        for name in a.nodes:
            if isinstance(a.nodes[name], nir.Input):
                np.testing.assert_array_equal(a.nodes[name].input_type["input"], b.nodes[name].input_type["input"])


def cuba(n, w_in=None, spiking=True):
    w_in = np.linspace(0.5, 2.0, n) if w_in is None else w_in
    common = dict(tau_syn=np.full(n, 1e-3), tau_mem=np.full(n, 4e-3), r=np.full(n, 3.0), v_leak=np.full(n, -0.1),
                  w_in=w_in)
    if spiking:
        return nir.CubaLIF(v_threshold=np.full(n, 1.0), v_reset=np.full(n, -0.05), **common)
    return nir.CubaLI(**common)


def _round_trip_graphs():
    rng = np.random.default_rng(7)
    conv = nir.Conv2d(input_shape=(5, 5), weight=rng.normal(size=(4, 1, 3, 3)), stride=2, padding=1, dilation=1,
                      groups=2, bias=np.full(4, 0.05))
    sub = graph({"input": nir.Input(input_type=np.array([3])), "w": nir.Linear(weight=rng.normal(size=(3, 3))),
                 "lif": lif(3), "output": nir.Output(output_type=np.array([3]))},
                [("input", "lif"), ("lif", "w"), ("w", "lif"), ("lif", "output")])
    return {
        "affine_lif": chain(4, nir.Affine(weight=rng.normal(size=(3, 4)), bias=rng.normal(size=3) * 0.1), lif(3)),
        "linear_cubalif": chain(4, nir.Linear(weight=rng.normal(size=(3, 4))), cuba(3)),
        "scale_if": chain(3, nir.Scale(scale=np.array([0.5, -1.0, 2.0])),
                          nir.IF(r=np.full(3, 4.0), v_threshold=np.full(3, 1.0), v_reset=np.full(3, 0.2))),
        "conv1d": chain([2, 8], nir.Conv1d(input_shape=8, weight=rng.normal(size=(3, 2, 3)), stride=1, padding=1,
                                           dilation=1, groups=1, bias=np.zeros(3)), lif(24)),
        "conv2d_flatten_pool": chain([2, 5, 5], conv, lif((4, 3, 3), v_th=0.8),
                                     nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([1, 1]),
                                                   padding=np.array([0, 0])),
                                     nir.Flatten(input_type={"input": np.array([4, 2, 2])}, start_dim=0, end_dim=-1),
                                     nir.Linear(weight=rng.normal(size=(5, 16))), lif(5)),
        "avgpool": chain([1, 4, 4], nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                                                  padding=np.array([0, 0])), lif(4)),
        "delay": chain(2, nir.Linear(weight=rng.normal(size=(2, 2))), nir.Delay(delay=np.array([1e-3, 3e-3])), lif(2)),
        "li_cubali_i": graph({"input": nir.Input(input_type=np.array([2])),
                              "fc": nir.Linear(weight=rng.normal(size=(2, 2))),
                              "li": nir.LI(tau=np.full(2, 3e-3), r=np.full(2, 2.0), v_leak=np.zeros(2)),
                              "fc2": nir.Linear(weight=rng.normal(size=(2, 2))), "cli": cuba(2, spiking=False),
                              "fc3": nir.Linear(weight=rng.normal(size=(1, 2))), "i": nir.I(r=np.full(1, 2.0)),
                              "output": nir.Output(output_type=np.array([2]))},
                             [("input", "fc"), ("fc", "li"), ("li", "output"), ("input", "fc2"), ("fc2", "cli"),
                              ("input", "fc3"), ("fc3", "i")]),
        "nested_recurrent": graph({"input": nir.Input(input_type=np.array([2])),
                                   "fc": nir.Affine(weight=rng.normal(size=(3, 2)), bias=np.zeros(3)),
                                   "rec": sub, "output": nir.Output(output_type=np.array([3]))},
                                  [("input", "fc"), ("fc", "rec"), ("rec", "output")]),
    }


@pytest.mark.parametrize("name", list(_round_trip_graphs()))
def test_round_trip_nir_eventsim_nir(name, tmp_path):
    """NIR -> eventsim (a file, a scenario naming it, the built network) -> NIR: the same nodes,
    parameters, weights and edges (to float64 rounding), for every supported node type."""
    g = _round_trip_graphs()[name]
    nir.write(tmp_path / "m.nir", g)
    original = nir.read(tmp_path / "m.nir", type_check=False)
    net = from_nir(tmp_path / "m.nir")
    back, notes = to_nir(net)
    assert notes == []
    assert_same_graph(original, back)
    # the scenario route: [network] nir = "m.nir", exported by the command line
    assert main(["nir-import", str(tmp_path / "m.nir"), "-o", str(tmp_path / "s.toml")]) == 0
    assert main(["nir-export", str(tmp_path / "s.toml"), "-o", str(tmp_path / "back.nir")]) == 0
    assert_same_graph(original, nir.read(tmp_path / "back.nir", type_check=False))


def test_round_trip_eventsim_nir_eventsim(tmp_path):
    """A scenario written by hand -> NIR -> eventsim: the same populations and synapses."""
    scenario = tmp_path / "net.toml"
    scenario.write_text("""
[simulation]
duration = 10.0
[[population]]
name = "in"
size = 3
model = "spike_source"
params = {times = [[1.0], [2.0], []]}
[[population]]
name = "hid"
size = 4
model = "lif"
params = {tau_m = 10.0, c_m = 200.0, v_rest = -65.0, v_reset = -70.0, v_th = -50.0, t_ref = 0.0, i_e = 30.0}
[[population]]
name = "out"
size = 2
model = "lif"
params = {tau_m = 5.0, c_m = 100.0, v_rest = 0.0, v_reset = 0.0, v_th = 10.0, t_ref = 0.0, synapse = "exp", tau_syn_ex = 2.0, tau_syn_in = 2.0}
[[projection]]
source = "in"
target = "hid"
rule = "all_to_all"
weight = {uniform = [-1.0, 5.0]}
delay = 0.01
[[projection]]
source = "hid"
target = "out"
rule = "fixed_indegree"
indegree = 3
weight = 40.0
delay = 1.51
""")
    assert main(["nir-export", str(scenario), "-o", str(tmp_path / "net.nir")]) == 0
    built = eventsim.build_network(eventsim.load(scenario))
    back = from_nir(tmp_path / "net.nir")
    for pop in ("hid", "out"):
        a, b = built.population(pop), back.population(pop)
        assert a.model == b.model and a.options == b.options
        for k in ("tau_m", "c_m", "v_rest", "v_reset", "v_th", "t_ref", "i_e"):
            np.testing.assert_allclose(b.params[k], a.params[k], rtol=1e-12)
    for pr, back_pr in (("in_to_hid", "in_to_hid"), ("hid_to_out", "hid_to_out")):
        s0, t0, w0, d0 = built.synapse_table(pr)
        s1, t1, w1, d1 = back.synapse_table(back_pr)
        m0, m1 = np.zeros((4, 4)), np.zeros((4, 4))
        np.add.at(m0, (t0.astype(int), s0.astype(int)), w0)      # multapses sum: one NIR weight
        np.add.at(m1, (t1.astype(int), s1.astype(int)), w1)
        np.testing.assert_allclose(m1, m0, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.unique(d1), np.unique(d0), rtol=1e-12)


# ---------------------------------------------------------------- what is refused
def _bad(tmp_path, name):
    rng = np.random.default_rng(0)
    g = chain(4, nir.Affine(weight=rng.normal(size=(3, 4)), bias=np.zeros(3)), lif(3))
    path = tmp_path / f"{name}.nir"
    if name == "unknown_node":
        nir.write(path, g)
        with h5py.File(path, "r+") as f:
            del f["node/nodes/a0/type"]
            f["node/nodes/a0/type"] = b"Spiky"
    elif name == "missing_parameter":
        nir.write(path, g)
        with h5py.File(path, "r+") as f:
            del f["node/nodes/a0/bias"]
    elif name == "wrong_shape":
        nir.write(path, chain(4, nir.Affine(weight=rng.normal(size=(3, 5)), bias=np.zeros(3)), lif(3)))
    elif name == "not_nir_text":
        path.write_text("this is not a NIR file\n")
    elif name == "not_nir_hdf5":
        with h5py.File(path, "w") as f:
            f["spikes"] = np.arange(3)
    elif name == "threshold":
        nir.write(path, chain(3, nir.Threshold(threshold=np.ones(3))))
    elif name == "heterogeneous_tau":
        node = lif(3)
        node.tau = np.array([1e-3, 2e-3, 1e-3])
        nir.write(path, chain(4, nir.Linear(weight=np.ones((3, 4))), node))
    elif name == "cubalif_bias":
        nir.write(path, chain(4, nir.Affine(weight=np.ones((3, 4)), bias=np.full(3, 0.2)), cuba(3)))
    elif name == "reset_above_threshold":
        nir.write(path, chain(4, nir.Linear(weight=np.ones((3, 4))), lif(3, v_reset=2.0)))
    elif name == "graded_output":
        nir.write(path, chain(4, nir.Linear(weight=np.ones((3, 4)))))
    return path


BAD = {"unknown_node": ("'a0'", "Spiky"), "missing_parameter": ("'a0'", "bias"), "wrong_shape": ("'a0'", "4"),
       "not_nir_text": ("not a NIR file",), "not_nir_hdf5": ("not a NIR file",), "threshold": ("'a0'", "Threshold"),
       "heterogeneous_tau": ("'a1'", "tau"), "cubalif_bias": ("'a1'", "bias"),
       "reset_above_threshold": ("'a1'", "v_reset"), "graded_output": ("'output'", "'a0'")}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_nir_files_exit_2_naming_the_node(name, tmp_path, capsys):
    path = _bad(tmp_path, name)
    assert main(["nir-import", str(path), "-o", str(tmp_path / "s.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    for part in BAD[name]:
        assert part in err, err
    assert not (tmp_path / "s.toml").exists()


def test_bad_nir_file_in_a_scenario_is_a_scenario_error(tmp_path, capsys):
    path = _bad(tmp_path, "missing_parameter")
    sc = tmp_path / "s.toml"
    sc.write_text(f'[simulation]\nduration = 5.0\n[network]\nnir = "{path.name}"\n')
    assert main(["run", str(sc), "-o", str(tmp_path / "o.h5")]) == 2
    err = capsys.readouterr().err
    assert "network.nir: missing_parameter.nir: node 'a0' (Affine): missing parameter 'bias'" in err
    assert not (tmp_path / "o.h5").exists()


def test_command_line_bad_file_has_no_traceback(tmp_path):
    path = _bad(tmp_path, "unknown_node")
    res = subprocess.run([sys.executable, "-m", "eventsim.cli", "nir-import", str(path)], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 2 and "Traceback" not in res.stderr and "'a0'" in res.stderr


@pytest.mark.parametrize("params,words", [("t_ref = 2.0", "t_ref"), ("synapse = \"alpha\"", "alpha")])
def test_export_refuses_what_nir_cannot_express(params, words, tmp_path, capsys):
    sc = tmp_path / "s.toml"
    sc.write_text(f"""[simulation]
duration = 5.0
[[population]]
name = "a"
size = 2
model = "lif"
params = {{t_ref = 0.0, {params}}}
""".replace("t_ref = 0.0, t_ref = 2.0", "t_ref = 2.0"))
    assert main(["nir-export", str(sc), "-o", str(tmp_path / "m.nir")]) == 2
    err = capsys.readouterr().err
    assert "population 'a'" in err and words in err
    assert not (tmp_path / "m.nir").exists()


def test_export_refuses_alif_and_per_synapse_delays(tmp_path, capsys):
    sc = tmp_path / "s.toml"
    base = """[simulation]
duration = 5.0
[[population]]
name = "src"
size = 3
model = "spike_source"
params = {times = [[], [], []]}
[[population]]
name = "a"
size = 2
model = "%s"
params = {t_ref = 0.0}
[[projection]]
source = "src"
target = "a"
rule = "all_to_all"
weight = 1.0
delay = %s
"""
    sc.write_text(base % ("alif", "1.0"))
    assert main(["nir-export", str(sc), "-o", str(tmp_path / "m.nir")]) == 2
    assert "population 'a'" in capsys.readouterr().err
    sc.write_text(base % ("lif", "{uniform = [0.5, 1.5]}"))
    assert main(["nir-export", str(sc), "-o", str(tmp_path / "m.nir")]) == 2
    assert "projection 'src_to_a'" in capsys.readouterr().err
    assert not (tmp_path / "m.nir").exists()


def test_outputs_are_not_overwritten_unasked(tmp_path, capsys):
    path = tmp_path / "m.nir"
    nir.write(path, chain(2, nir.Linear(weight=np.ones((1, 2))), lif(1)))
    out = tmp_path / "s.toml"
    out.write_text("keep")
    assert main(["nir-import", str(path), "-o", str(out)]) == 2
    assert out.read_text() == "keep" and "--force" in capsys.readouterr().err
    assert main(["nir-import", str(path), "-o", str(out), "--force"]) == 0
    before = path.read_bytes()
    assert main(["nir-export", str(out), "-o", str(path), "--force"]) == 2       # the NIR file is an input
    assert path.read_bytes() == before


# ---------------------------------------------------------------- scenarios and inference
def test_inference_run_scores_a_nir_network(tmp_path):
    """[network] nir with [trials] epochs = 0: each sample presented once, decoded, scored.
    Output neuron k copies input k with weight 2 (one input spike fires it), so the latency
    code's earliest channel wins and every sample is answered right."""
    path = tmp_path / "m.nir"
    w = np.eye(3) * 2.0 * 2e-3 / (5.0 * DT)        # weight whose jump r w dt / tau is 2 (threshold 1)
    nir.write(path, chain(3, nir.Linear(weight=w), lif(3)))
    (tmp_path / "test.csv").write_text("0.9,0.1,0.2,0\n0.1,0.8,0.3,1\n0.2,0.1,0.7,2\n0.95,0.2,0.1,0\n")
    sc = tmp_path / "s.toml"
    sc.write_text("""[simulation]
duration = 1.0
[network]
nir = "m.nir"
[trials]
input = "input"
output = "a1"
dataset = "test.csv"
epochs = 0
encoding = "latency"
latency_max = 5.0
window = 8.0
decoding = "first"
""")
    assert main(["run", str(sc), "-o", str(tmp_path / "o.h5"), "--quiet"]) == 0
    with h5py.File(tmp_path / "o.h5", "r") as f:
        assert f["learning"].attrs["initial_accuracy"] == 1.0
        np.testing.assert_array_equal(f["learning/predictions"][()], [0, 1, 2, 0])
        assert f.attrs["duration"] == 4 * 8.0


def test_energy_per_inference(tmp_path, capsys):
    """eventsim energy of an inference run: the means per presentation. Every sample makes
    3 input spikes, each through one synapse: 3 synaptic events per inference; the dense
    count is the 3 x 3 matrix at every 1 ms step of the 8 ms window."""
    test_inference_run_scores_a_nir_network(tmp_path)
    capsys.readouterr()
    assert main(["energy", str(tmp_path / "o.h5"), "--json", "--hardware", "loihi,cmos45"]) == 0
    import json
    r = json.loads(capsys.readouterr().out)
    pp = r["per_presentation"]
    assert pp["presentations"] == 4 and pp["window_ms"] == 8.0
    assert pp["synaptic_events"] == 3.0 and pp["effective_acs"] == 3.0
    assert pp["dense_ops"] == 9 * 8
    for hw in ("loihi", "cmos45"):
        assert pp["hardware"][hw]["total_j"] * 4 == pytest.approx(r["hardware"][hw]["total_j"], rel=1e-12)
    assert main(["energy", str(tmp_path / "o.h5"), "--hardware", "cmos45"]) == 0
    assert "per presentation (4 presentations of 8 ms" in capsys.readouterr().out


def test_plain_import_does_not_load_nir():
    code = "import sys, eventsim; eventsim.load; print('nir' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.stdout.strip() == "False", res.stderr


def test_nir_keys_need_a_nir_graph(tmp_path, capsys):
    sc = tmp_path / "s.toml"
    sc.write_text('[simulation]\nduration = 5.0\n[[population]]\nname = "a"\nsize = 1\nmodel = "lif"\n'
                  '[network]\nnir_dt = 0.001\n')
    assert main(["validate", str(sc)]) == 2
    assert "network.nir_dt: used only with network.nir" in capsys.readouterr().err
