"""The emotion rule's update on hand-built cases (equations: models/plasticity/emotion.py)."""
import math

import numpy as np
import pytest

import eventsim
from eventsim.trials.emotion import EmotionProjection, emotion_value, spike_csr


def _net(weights, rule_overrides=None):
    params = {"rule": "emotion", "sensitivity": 0.5, "reward": 0.5, "punishment": 0.25}
    params.update(rule_overrides or {})
    sc = eventsim.load({
        "simulation": {"duration": 1.0},
        "population": [{"name": "a", "size": 2, "model": "spike_source", "params": {"times": [[], []]}},
                       {"name": "b", "size": 2, "model": "lif"}],
        "projection": [{"source": "a", "target": "b", "rule": "pairs", "pairs": [[0, 0], [0, 1], [1, 0], [1, 1]],
                        "weight": -1.0, "delay": 1.0, "plasticity": "emo"}],
        "plasticity": {"emo": params},
        "trials": {"input": "a", "output": "b", "patterns": [[1, 0], [0, 1]], "tags": [0, 1]}})
    net = eventsim.build_network(sc)
    proj = EmotionProjection(net, "a_to_b", sc.plasticity["emo"])
    net.weight[proj.sel] = weights
    return net, proj


def test_negative_weights_are_allowed_on_emotion_projections():
    net, proj = _net([-1.0, -1.0, -1.0, -1.0])
    assert np.all(proj.weights == -1.0)


def test_binary_update_on_a_2x2_case():
    net, proj = _net([1.0, 2.0, 3.0, 4.0])
    fired = np.zeros(net.n_neurons, dtype=bool)
    fired[[0, 2]] = True          # pre 0 and post 0 fired
    elig = proj.eligibility(fired, None, 0.0)
    # order: (src, tgt) sorted as stored; only synapse pre0 -> post0 has both active
    src, tgt = proj.src, proj.tgt - 2
    expect = ((src == 0) & (tgt == 0)).astype(float)
    assert np.array_equal(elig, expect)
    e = emotion_value("binary", 0, 0, np.array([3.0, 1.0]), 0.5, 0.25)
    assert e == 0.5
    w0 = proj.weights.copy()
    proj.update(e, elig)
    assert np.allclose(proj.weights - w0, 0.5 * 0.5 * expect)
    proj.update(emotion_value("binary", 1, 0, np.array([1.0, 3.0]), 0.5, 0.25), elig)
    assert np.allclose(proj.weights - w0, (0.25 - 0.125) * expect)


def test_margin_emotion():
    assert emotion_value("margin", 0, 0, np.array([3.0, 1.0]), 0.5, 0.25) == pytest.approx(0.5 * (1 - 0.5))
    assert emotion_value("margin", 1, 0, np.array([1.0, 3.0]), 0.5, 0.25) == -0.25


def test_trace_eligibility_against_the_formula():
    net, proj = _net([0.0] * 4, {"eligibility": "trace", "tau_pre": 5.0, "tau_e": 20.0})
    times = np.array([1.0, 3.0, 4.5, 9.0])     # pre 0 at 1, 3; post 0 (gid 2) at 4.5; post 1 (gid 3) at 9
    gids = np.array([0, 0, 2, 3])
    ptr_t = spike_csr(net.n_neurons, times, gids)
    T = 20.0
    elig = proj.eligibility(None, ptr_t, T)

    def expect(pre_times, post_times, d=1.0):
        return sum(sum(math.exp(-(t - s - d) / 5.0) for s in pre_times if s + d <= t) * math.exp(-(T - t) / 20.0)
                   for t in post_times)
    pre = {0: [1.0, 3.0], 1: []}
    post = {0: [4.5], 1: [9.0]}
    for s, (i, j) in enumerate(zip(proj.src, proj.tgt - 2)):
        assert elig[s] == pytest.approx(expect(pre[i], post[j]), rel=1e-12)


def test_bounds_zero_mean_and_homeostasis():
    net, proj = _net([1.0, 2.0, 3.0, 4.0], {"w_max": 1.5, "w_min": -10.0, "normalise": "zero_mean",
                                            "homeostasis": 0.1})
    fired = np.zeros(net.n_neurons, dtype=bool)
    fired[[0, 2]] = True
    proj.update(1.0, np.ones(4), fired=fired)   # zero_mean: dw = 0.5 - 0.5 = 0 for every synapse
    w = proj.weights
    # homeostasis: pre 0 active, post 1 silent -> +0.1 on 0->1; then clip at 1.5
    expect = np.minimum(np.array([1.0, 2.0, 3.0, 4.0]) + 0.1 * ((proj.src == 0) & (proj.tgt == 3)), 1.5)
    assert np.allclose(w, expect)


def test_tanh_emotion_is_graded_by_the_count_margin():
    # e = amplitude * tanh((n_tag - n_best_other) / margin_scale); a tie or silence gives 0
    assert emotion_value("tanh", 0, 0, np.array([5.0, 1.0]), 0.5, 0.25, 2.0) == pytest.approx(0.5 * math.tanh(2.0))
    assert emotion_value("tanh", 1, 0, np.array([1.0, 4.0]), 0.5, 0.25, 2.0) == pytest.approx(-0.25 * math.tanh(1.5))
    assert emotion_value("tanh", -1, 0, np.array([3.0, 3.0]), 0.5, 0.25, 2.0) == 0.0
    assert emotion_value("tanh", -1, 1, np.array([0.0, 0.0]), 0.5, 0.25, 2.0) == 0.0


def test_count_eligibility_is_the_product_of_layer_normalised_counts():
    net, proj = _net([0.0] * 4, {"eligibility": "count"})
    counts = np.array([4.0, 2.0, 0.0, 6.0])     # pre a0, a1; post b0 silent, b1 fired 6
    elig = proj.eligibility(counts > 0, None, 20.0, counts)
    v = {0: 1.0, 1: 0.5, 2: 0.0, 3: 1.0}        # counts / the layer's largest count
    for s, (i, j) in enumerate(zip(proj.src, proj.tgt)):
        assert elig[s] == pytest.approx(v[i] * v[j])


def test_perturbation_decays_over_epochs():
    from eventsim.trials import TrialRunner
    sc = eventsim.load({
        "simulation": {"duration": 1.0, "seed": 3},
        "population": [{"name": "a", "size": 100, "model": "spike_source", "params": {"times": [[]] * 100}},
                       {"name": "b", "size": 2, "model": "lif"}],
        "projection": [{"source": "a", "target": "b", "rule": "all_to_all", "weight": 1.0, "delay": 1.0,
                        "plasticity": "emo"}],
        "plasticity": {"emo": {"rule": "emotion", "perturbation": 1.0, "perturbation_decay": 0.5,
                               "w_min": -1e6, "w_max": 1e6}},
        "trials": {"input": "a", "output": "b", "patterns": [[0.0] * 100] * 40, "tags": [0] * 40, "n_classes": 2}})
    runner = TrialRunner(eventsim.Simulation(eventsim.build_network(sc), seed=3), sc.trials, sc.plasticity, 3)
    rule = runner.rules[0]
    steps = []
    for epoch in (1, 3):                          # input silent: only the perturbation moves w
        w0 = rule.weights.copy()
        runner.train_epoch(epoch)
        steps.append(np.std(rule.weights - w0) / math.sqrt(40))   # 40 N(0, s^2) steps per weight
    assert steps[0] == pytest.approx(1.0, rel=0.15)
    assert steps[1] == pytest.approx(0.25, rel=0.15)


def test_pattern_baseline_is_a_running_mean_of_e_per_pattern():
    # ebar_k starts at the first e of pattern k (A = 0), then ebar <- ebar + rate (e - ebar)
    net, proj = _net([0.0] * 4, {"baseline": "pattern", "baseline_rate": 0.5})
    assert proj.advantage(0.4, pattern=0) == 0.0
    assert proj.advantage(0.3, pattern=1) == 0.0                   # its own mean
    assert proj.advantage(-0.2, pattern=0) == pytest.approx(-0.2 - 0.4)
    assert proj.advantage(0.1, pattern=0) == pytest.approx(0.1 - (0.4 + 0.5 * (-0.2 - 0.4)))
    net, proj = _net([0.0] * 4, {"baseline": "global", "baseline_rate": 0.5})
    proj.advantage(0.4, pattern=0)
    assert proj.advantage(0.3, pattern=1) == pytest.approx(0.3 - 0.4)   # one mean for all patterns


def test_centred_learn_is_reinforce_with_baselines():
    # dw_ij = S (e - ebar_k) v_i (n_j - nbar_jk): hand computation over two presentations
    net, proj = _net([0.0] * 4, {"eligibility": "centred", "baseline": "pattern", "baseline_rate": 0.25,
                                 "sensitivity": 2.0, "w_min": -10.0, "w_max": 10.0})
    first = np.array([2.0, 4.0, 1.0, 3.0])           # pre a0, a1; post b0, b1 (spike counts)
    dw = proj.learn(0.5, 0, first > 0, None, 20.0, first)
    assert np.allclose(dw, 0.0)                      # first sight: e = ebar, n = nbar
    second = np.array([4.0, 2.0, 3.0, 2.0])
    dw = proj.learn(-0.3, 0, second > 0, None, 20.0, second)
    a = -0.3 - 0.5
    v = {0: 1.0, 1: 0.5}                              # pre counts / the largest pre count
    dev = {2: 3.0 - 1.0, 3: 2.0 - 3.0}                # post counts minus their first value
    for s, (i, j) in enumerate(zip(proj.src, proj.tgt)):
        assert dw[s] == pytest.approx(2.0 * a * v[i] * dev[j])
    assert np.allclose(proj.weights, dw)              # applied to the weights (no clipping here)
    # the post mean moved by rate * deviation: a third identical presentation sees 3/4 of it
    dw3 = proj.learn(-0.3, 0, second > 0, None, 20.0, second)
    a3 = -0.3 - (0.5 + 0.25 * a)
    for s, (i, j) in enumerate(zip(proj.src, proj.tgt)):
        assert dw3[s] == pytest.approx(2.0 * a3 * v[i] * 0.75 * dev[j])
