"""Trial loop pieces: encodings against their definitions, decodings, validation, the loop."""
import numpy as np
import pytest

import eventsim
from eventsim.errors import ScenarioError
from eventsim.trials import TrialRunner, decode_first, decode_population, decode_rate
from eventsim.trials.encoding import delta_encode, latency_encode, rate_encode


def test_latency_encoding_is_time_to_first_spike():
    trains = latency_encode([1.0, 0.25, 0.0, 2.0], latency_max=8.0, threshold=0.0)
    assert [list(t) for t in trains] == [[0.0], [6.0], [], [0.0]]   # (1 - x) * 8, x clipped to [0, 1]


def test_delta_encoding_on_off():
    sig = [[0.0, 0.6, 0.7, 1.3, 0.2]]
    trains = delta_encode(sig, dt=2.0, threshold=0.5, off=True)
    # ON when s - ref >= 0.5 (ref: level at the last spike): at samples 1 (0.6) and 3 (1.3, ref 0.6)
    assert list(trains[0]) == [2.0, 6.0]
    assert list(trains[1]) == [8.0]            # OFF: 1.3 -> 0.2
    assert len(delta_encode(sig, 2.0, 0.5, off=False)) == 1


def test_rate_encoding_mean_rate():
    rng = np.random.default_rng(3)
    counts = [sum(t.size for t in rate_encode([1.0, 0.5, 0.0], 100.0, 200.0, rng)[:1]) for _ in range(2000)]
    assert abs(np.mean(counts) - 20.0) < 0.5      # 200 Hz over 100 ms
    trains = rate_encode([0.5, 0.0], 100.0, 200.0, rng)
    assert trains[1].size == 0 and np.all((trains[0] >= 0) & (trains[0] < 100.0))


def test_decodings():
    assert decode_rate([1.0, 2.0, 3.0], [1, 1, 0], 2)[0] == 1
    assert decode_rate([1.0, 2.0], [1, 0], 2)[0] == -1           # tie: no answer
    assert decode_rate([], [], 2)[0] == -1
    assert decode_first([5.0, 2.0, 7.0], [0, 1, 1], 2)[0] == 1
    assert decode_population([1.0] * 3, [0, 1, 3], 4, 2)[0] == 0  # groups {0,1}, {2,3}


def _scenario(seed=0, **trials):
    t = {"input": "x", "output": "y", "patterns": [[1, 0], [0, 1]], "tags": [0, 1], "epochs": 2,
         "window": 10.0, "encoding": "latency", "latency_max": 2.0}
    t.update(trials)
    return eventsim.load({
        "simulation": {"duration": 1.0, "seed": seed},
        "population": [{"name": "x", "size": 2, "model": "spike_source", "params": {"times": [[], []]}},
                       {"name": "y", "size": 2, "model": "lif",
                        "params": {"v_rest": 0.0, "v_reset": 0.0, "v_th": 10.0}}],
        "projection": [{"source": "x", "target": "y", "rule": "all_to_all", "weight": {"uniform": [5, 15]},
                        "delay": 1.0, "plasticity": "emo"}],
        "plasticity": {"emo": {"rule": "emotion", "perturbation": 0.3}},
        "trials": t})


def test_validation_reports_key_paths():
    with pytest.raises(ScenarioError) as e:
        _scenario(tags=[0], latency_max=20.0)
    assert any(m.startswith("trials.tags") for m in e.value.problems)
    with pytest.raises(ScenarioError) as e:
        _scenario(input="y")
    assert any(m.startswith("trials.input") for m in e.value.problems)


def test_duration_is_the_loop_time():
    sc = _scenario()
    assert sc.duration == (1 + 2 * 2) * 2 * 10.0


def test_frozen_evaluation_and_determinism():
    runs = []
    for _ in range(2):
        sc = _scenario(seed=4)
        net = eventsim.build_network(sc)
        sim = eventsim.Simulation(net, seed=4)
        r = TrialRunner(sim, sc.trials, sc.plasticity, 4)
        h = r.run()
        w = net.weight.copy()
        acc, labels = r.evaluate(99)
        assert np.array_equal(net.weight, w)                       # evaluation changes no weight
        assert acc == np.mean(labels == np.array([0, 1]))          # recount of the accuracy
        assert sim.t == pytest.approx(sc.duration + 2 * 10.0)       # one window per presentation
        runs.append((h.accuracy, w))
    assert runs[0][0] == runs[1][0] and np.array_equal(runs[0][1], runs[1][1])


def test_cli_writes_learning(tmp_path):
    import h5py
    path = tmp_path / "s.json"
    import json
    sc = _scenario()
    raw = json.loads(sc.text)
    path.write_text(json.dumps(raw))
    out = tmp_path / "o.h5"
    from eventsim.cli import main
    assert main(["run", str(path), "-o", str(out), "--quiet"]) == 0
    with h5py.File(out) as f:
        assert f["learning/accuracy"].shape == (2,)
        assert f["learning/mean_abs_dw"].shape == (2,)
        assert f.attrs["complete"]


def test_parity_5_2_learns_to_100_percent():
    # the notebook's 5-2 experiment with the shipped parameters: a few epochs suffice
    from pathlib import Path
    from eventsim.trials import TrialRunner
    path = Path(__file__).resolve().parents[1] / "scenarios" / "emotion_parity_5_2.toml"
    sc = eventsim.load_scenario(path, overrides={"simulation.seed": 2, "trials.epochs": 5})
    runner = TrialRunner(eventsim.Simulation(eventsim.build_network(sc), seed=2), sc.trials, sc.plasticity, 2)
    h = runner.run()
    assert list(h.predictions) == [1, 0, 1, 0, 1]      # digits 1..5: odd = 1, even = 0


def test_complement_encoding_and_input_size():
    from eventsim.trials.encoding import complement
    assert list(complement([1.0, 0.0, 0.25])) == [1.0, 0.0, 0.25, 0.0, 1.0, 0.75]
    # 2 channels, ON and OFF, plus the bias: the input population needs 5 neurons
    with pytest.raises(ScenarioError) as e:
        _scenario(complement=True, bias=True)
    assert any(m.startswith("trials.input") and "need 5 " in m for m in e.value.problems)
    with pytest.raises(ScenarioError) as e:
        _scenario(complement=True, encoding="delta")
    assert any(m.startswith("trials.complement") for m in e.value.problems)


def test_exploration_fires_in_training_only():
    # each exploration neuron: Poisson at a rate drawn in [0, 1000] Hz per presentation;
    # over a 10 ms window the count has mean 5 and variance 5 + 10^2/12 (a Poisson mixture)
    sc = eventsim.load({
        "simulation": {"duration": 1.0, "seed": 1},
        "population": [{"name": "x", "size": 1, "model": "spike_source", "params": {"times": [[]]}},
                       {"name": "n", "size": 200, "model": "spike_source", "params": {"times": [[]] * 200}},
                       {"name": "y", "size": 2, "model": "lif"}],
        "projection": [{"source": "x", "target": "y", "rule": "all_to_all", "weight": 1.0, "delay": 1.0,
                        "plasticity": "emo"}],
        "plasticity": {"emo": {"rule": "emotion"}},
        "trials": {"input": "x", "output": "y", "patterns": [[1.0]], "tags": [0], "n_classes": 2,
                   "window": 10.0, "exploration": "n", "exploration_rate": 1000.0}})
    sim = eventsim.Simulation(eventsim.build_network(sc), seed=1)
    runner = TrialRunner(sim, sc.trials, sc.plasticity, 1)

    def count():
        return int(sim.counters()["populations"]["n"]["spike_count"].sum())
    runner.present(0, np.random.default_rng(1), True, None, np.random.default_rng(2))
    trained = count()
    sd = np.sqrt(200 * (5 + 100 / 12))
    assert abs(trained - 1000) < 4 * sd
    runner.evaluate(1)
    assert count() == trained                     # no exploration spikes in an evaluation


def test_tags_reshuffled_per_epoch_control(monkeypatch):
    """shuffle_tags_per_epoch: in each epoch the rule is told a permutation of the tags,
    drawn anew per epoch; the frozen evaluation scores against the given tags."""
    from eventsim.trials import loop
    pats = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]
    tags = [0, 1, 1, 0]
    told = []

    def spy(kind, label, tag, *a):
        told.append(tag)
        return 0.0
    monkeypatch.setattr(loop, "emotion_value", spy)
    d = {"simulation": {"duration": 1.0, "seed": 3},
         "population": [{"name": "x", "size": 2, "model": "spike_source", "params": {"times": [[], []]}},
                        {"name": "y", "size": 2, "model": "lif"}],
         "projection": [{"source": "x", "target": "y", "rule": "all_to_all", "weight": 1.0, "delay": 1.0,
                         "plasticity": "emo"}],
         "plasticity": {"emo": {"rule": "emotion"}},
         "trials": {"input": "x", "output": "y", "patterns": pats, "tags": tags, "n_classes": 2,
                    "window": 5.0, "epochs": 6, "shuffle": False, "shuffle_tags_per_epoch": True}}
    sc = eventsim.load(d)
    runner = TrialRunner(eventsim.Simulation(eventsim.build_network(sc), seed=3), sc.trials, sc.plasticity, 3)
    h = runner.run()
    assert len(told) == 6 * 4
    epochs = [told[4 * k:4 * k + 4] for k in range(6)]
    assert all(sorted(e) == sorted(tags) for e in epochs)          # each epoch: a permutation
    assert len({tuple(e) for e in epochs}) > 1                     # drawn anew per epoch
    assert list(runner.tags) == tags                               # evaluation against the given tags
    assert h.accuracy[-1] == np.mean(np.asarray(h.predictions) == np.asarray(tags))
    d["trials"]["shuffle_tags"] = True
    with pytest.raises(ScenarioError) as e:
        eventsim.load(d)
    assert any(m.startswith("trials.shuffle_tags_per_epoch") for m in e.value.problems)
