"""Spike-trace analysis: reader, statistics (against Elephant and hand values), CLI entry, plots, export."""
import json
import math
import warnings

import h5py
import numpy as np
import pytest

from eventsim.analysis import (IncompleteFileWarning, open_spikes, run_analyze, stats,
                               summarize, to_neo, to_nwb)
from eventsim.errors import InputError, NotASpikeFileError

SORTING = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="i1")


def write_sonata(path, pops, attrs=None, sorting="by_time", weights=None, learning=None):
    """A spike file written with plain h5py. pops: {name: (times, ids, n_nodes or None)}."""
    with h5py.File(path, "w") as f:
        f.attrs["magic"] = np.uint32(0x0A7A)
        f.attrs["version"] = np.array([0, 1], np.uint32)
        for k, v in (attrs or {}).items():
            f.attrs[k] = v
        for name, (t, ids, n_nodes) in pops.items():
            t, ids = np.asarray(t, float), np.asarray(ids, np.uint64)
            if sorting == "by_time":
                o = np.lexsort((ids, t))
            elif sorting == "by_id":
                o = np.lexsort((t, ids))
            else:
                o = np.arange(t.size)
            g = f.create_group(f"spikes/{name}")
            g.attrs.create("sorting", {"none": 0, "by_id": 1, "by_time": 2}[sorting], dtype=SORTING)
            if n_nodes is not None:
                g.attrs["n_nodes"] = np.uint64(n_nodes)
            g.create_dataset("timestamps", data=t[o]).attrs["units"] = "ms"
            g.create_dataset("node_ids", data=ids[o])
        for name, w in (weights or {}).items():
            g = f.create_group(f"weights/{name}")
            g["source_ids"] = np.arange(w.size, dtype=np.uint64)
            g["target_ids"] = np.zeros(w.size, np.uint64)
            g["weight"] = w
        for name, curves in (learning or {}).items():
            for k, v in curves.items():
                f[f"learning/{name}/{k}"] = np.asarray(v, float)
    return str(path)


def poisson(rng, n, rate_hz, t_stop, n_silent=0):
    k = rng.poisson(rate_hz * t_stop / 1000.0, n)
    k[:n_silent] = 0
    k[n_silent:n_silent + 3] = [0, 1, 2]  # neurons below the CV threshold
    ids = np.repeat(np.arange(n), k)
    return rng.uniform(0, t_stop, ids.size), ids


# Hand-computable trains: neuron 0 at 100..400 (ISIs 100,100,100: CV 0), neuron 1 at
# 100, 300, 400 (ISIs 200, 100: mean 150, std 50, CV 1/3), neuron 2 once at 500.
HAND_T = [100, 200, 300, 400, 100, 300, 400, 500]
HAND_ID = [0, 0, 0, 0, 1, 1, 1, 2]


def check_hand(pop, n):
    counts = np.array([4, 3, 1] + [0] * (n - 3), float)
    assert pop["n_neurons"] == n
    assert pop["n_spikes"] == 8
    assert pop["rate_hz"] == pytest.approx(8 / n, rel=1e-12)       # 1 s window
    assert pop["cv_isi"] == pytest.approx(1 / 6, rel=1e-12)        # mean(0, 1/3)
    assert pop["n_cv_neurons"] == 2
    assert pop["fano"] == pytest.approx(counts.var() / counts.mean(), rel=1e-12)


# ---------------------------------------------------------------- Elephant
def test_statistics_equal_elephant(tmp_path):
    import neo
    import quantities as pq
    from elephant.statistics import cv, fanofactor, isi, mean_firing_rate

    rng = np.random.default_rng(3)
    n, t0, t1 = 60, 100.0, 900.0
    t, ids = poisson(rng, n, 15.0, 1000.0, n_silent=2)
    path = write_sonata(tmp_path / "e.h5", {"exc": (t, ids, n)}, {"duration": 1000.0})
    sf = open_spikes(path, t_start=t0, t_stop=t1)
    res = summarize(sf).stats["populations"]["exc"]

    trains = [neo.SpikeTrain(np.sort(t[(ids == i) & (t >= t0) & (t <= t1)]) * pq.ms,
                             t_start=t0 * pq.ms, t_stop=t1 * pq.ms) for i in range(n)]
    el_rates = np.array([mean_firing_rate(st).rescale("Hz").magnitude for st in trains])
    el_cv = np.array([cv(isi(st.magnitude)) for st in trains if len(st) >= 3])
    el_fano = fanofactor(trains)

    wt, wid = sf.spikes("exc")
    np.testing.assert_allclose(stats.firing_rates(wt, wid, n, t0, t1), el_rates, rtol=0, atol=1e-9)
    cvs = stats.cv_isi(wt, wid, n)
    np.testing.assert_allclose(cvs[np.isfinite(cvs)], el_cv, rtol=0, atol=1e-9)
    assert stats.fano_factor(stats.spike_counts(wid, n)) == pytest.approx(el_fano, abs=1e-9)
    # the streaming file summary gives the same numbers
    assert res["rate_hz"] == pytest.approx(el_rates.mean(), abs=1e-9)
    assert res["cv_isi"] == pytest.approx(el_cv.mean(), abs=1e-9)
    assert res["n_cv_neurons"] == el_cv.size
    assert res["fano"] == pytest.approx(el_fano, abs=1e-9)


# ---------------------------------------------------------------- other writers
def test_plain_h5py_sonata_file_without_eventsim_attributes(tmp_path):
    path = write_sonata(tmp_path / "plain.h5", {"cells": (HAND_T, HAND_ID, None)}, sorting="by_id")
    res = summarize(open_spikes(path, t_stop=1000.0)).stats
    check_hand(res["populations"]["cells"], 3)
    assert res["populations"]["cells"]["n_neurons_source"] == "max_id"
    # with n_nodes, silent neurons count
    path = write_sonata(tmp_path / "nn.h5", {"cells": (HAND_T, HAND_ID, 5)}, {"duration": 1000.0})
    res = summarize(open_spikes(path)).stats
    check_hand(res["populations"]["cells"], 5)
    assert res["populations"]["cells"]["n_neurons_source"] == "n_nodes"
    assert res["window_ms"] == [0.0, 1000.0]


def test_legacy_layout(tmp_path):
    path = tmp_path / "legacy.h5"
    with h5py.File(path, "w") as f:
        f["spikes/gids"] = np.array(HAND_ID, np.uint32)
        f["spikes/timestamps"] = np.array(HAND_T, float) / 1000.0   # seconds, labelled
        f["spikes/timestamps"].attrs["units"] = "s"
    sf = open_spikes(path, t_stop=1000.0)
    assert list(sf.populations) == ["default"]
    check_hand(summarize(sf).stats["populations"]["default"], 3)
    # without t_stop the window ends at the last spike (500 ms)
    assert open_spikes(path).window == (0.0, 500.0)


# ---------------------------------------------------------------- refusals
def test_refuses_non_spike_files(tmp_path):
    h5 = tmp_path / "other.h5"
    with h5py.File(h5, "w") as f:
        f["data"] = np.arange(3)
    with pytest.raises(NotASpikeFileError, match=r"other\.h5.*'/spikes'"):
        open_spikes(h5)
    txt = tmp_path / "notes.txt"
    txt.write_text("not hdf5\n")
    with pytest.raises(NotASpikeFileError, match=r"notes\.txt: not an HDF5 file"):
        open_spikes(txt)
    half = tmp_path / "half.h5"
    with h5py.File(half, "w") as f:
        f["spikes/exc/timestamps"] = np.zeros(2)
    with pytest.raises(NotASpikeFileError, match="node_ids"):
        open_spikes(half)
    with pytest.raises(InputError, match="no such file"):
        open_spikes(tmp_path / "missing.h5")


def test_bad_windows_and_bins(tmp_path):
    path = write_sonata(tmp_path / "w.h5", {"p": (HAND_T, HAND_ID, 3)}, {"duration": 1000.0})
    with pytest.raises(InputError, match="--t-start/--t-stop"):
        open_spikes(path, t_start=600, t_stop=500)
    with pytest.raises(InputError, match="--t-stop.*beyond"):
        open_spikes(path, t_stop=2000)
    with pytest.raises(InputError, match="--t-start"):
        open_spikes(path, t_start=-1)
    with pytest.raises(InputError, match="--bin"):
        run_analyze(path, bin_ms=0)


def test_node_id_beyond_n_nodes_is_refused(tmp_path):
    path = write_sonata(tmp_path / "bad.h5", {"p": (HAND_T, HAND_ID, 2)}, {"duration": 1000.0})
    with pytest.raises(NotASpikeFileError, match="node id 2.*n_nodes = 2"):
        summarize(open_spikes(path))


def test_incomplete_file_read_up_to_t_committed(tmp_path):
    path = write_sonata(tmp_path / "inc.h5", {"p": (HAND_T, HAND_ID, 3)},
                        {"duration": 1000.0, "t_committed": 250.0, "complete": False})
    with pytest.warns(IncompleteFileWarning, match="t_committed = 250"):
        sf = open_spikes(path)
    assert sf.window == (0.0, 250.0) and not sf.complete
    res = summarize(sf).stats
    assert res["populations"]["p"]["n_spikes"] == 3          # 100, 200 (n0) and 100 (n1)
    assert res["populations"]["p"]["rate_hz"] == pytest.approx(3 / 3 / 0.25)
    assert res["complete"] is False and res["notes"]


# ---------------------------------------------------------------- streaming
@pytest.mark.parametrize("sorting", ["by_time", "by_id", "none"])
def test_chunked_equals_whole_and_array_functions(tmp_path, sorting):
    rng = np.random.default_rng(7)
    n, t1 = 40, 500.0
    t, ids = poisson(rng, n, 40.0, t1)
    t = np.round(t, 1)  # coincident spikes and spikes on bin edges
    if sorting == "none":
        o = rng.permutation(t.size)
        t, ids = t[o], ids[o]
    path = write_sonata(tmp_path / f"{sorting}.h5", {"a": (t, ids, n), "b": (t[::2], ids[::2], n)},
                        {"duration": t1}, sorting=sorting)
    whole = summarize(open_spikes(path), bin_ms=2.0)
    chunked = summarize(open_spikes(path, chunk_rows=7), bin_ms=2.0)
    for pop in ("a", "b"):
        w, c = whole.stats["populations"][pop], chunked.stats["populations"][pop]
        for key, v in w.items():
            if isinstance(v, str) or v is None:
                assert c[key] == v, key
            else:
                assert c[key] == pytest.approx(v, rel=1e-12, abs=1e-12, nan_ok=True), key
        np.testing.assert_array_equal(whole.accumulators[pop].active_per_bin,
                                      chunked.accumulators[pop].active_per_bin)
    assert chunked.stats["network"] == pytest.approx(whole.stats["network"], rel=1e-12, nan_ok=True)

    # independent array implementations (np.unique on (neuron, bin) cells) agree
    a = chunked.stats["populations"]["a"]
    edges, active = stats.population_activity(t, ids, 0.0, t1, 2.0)
    assert edges[-1] == t1 and edges.size == 251
    np.testing.assert_array_equal(chunked.accumulators["a"].active_per_bin, active)
    assert a["chi"] == pytest.approx(stats.synchrony_chi(t, ids, n, 0.0, t1, 2.0), rel=1e-10)
    assert a["fano_time"] == pytest.approx(
        stats.fano_factor_time(t, ids, n, 0.0, t1, 2.0)[0], rel=1e-10)


def test_population_activity_and_chi_by_hand():
    # neuron 0 fires twice in bin 0: it is one active neuron there
    t = np.array([0.1, 0.5, 0.7, 1.2, 3.9])
    ids = np.array([0, 0, 1, 1, 2])
    _, active = stats.population_activity(t, ids, 0.0, 4.0, 1.0)
    np.testing.assert_array_equal(active, [2, 1, 0, 1])
    # perfect synchrony: every neuron fires in the same bins -> chi = 1
    ts = np.repeat([0.5, 2.5, 7.5], 10)
    ns = np.tile(np.arange(10), 3)
    assert stats.synchrony_chi(ts, ns, 10, 0.0, 10.0, 1.0) == pytest.approx(1.0, rel=1e-12)
    # neurons taking turns, one per bin: the population activity is flat -> chi = 0
    ts = np.arange(10) + 0.5
    ns = np.arange(10)
    assert stats.synchrony_chi(ts, ns, 10, 0.0, 10.0, 1.0) == pytest.approx(0.0, abs=1e-12)
    # independent Poisson neurons: chi ~ 1/sqrt(N)
    rng = np.random.default_rng(5)
    ts, ns = poisson(rng, 400, 50.0, 2000.0)
    chi = stats.synchrony_chi(ts, ns, 400, 0.0, 2000.0, 5.0)
    assert chi == pytest.approx(1 / math.sqrt(400), rel=0.2)
    # power spectrum of a 50 Hz oscillation peaks at 50 Hz
    x = 100 + 10 * np.sin(2 * np.pi * 50.0 * np.arange(2000) / 1000.0)
    f, p = stats.power_spectrum(x, 1.0)
    assert stats.peak_frequency(f, p) == pytest.approx(50.0, abs=2.0)


# ---------------------------------------------------------------- CLI entry, plots
def test_run_analyze_json_is_one_object(tmp_path, capsys):
    path = write_sonata(tmp_path / "j.h5", {"p": (HAND_T, HAND_ID, 3), "silent": ([], [], 4)},
                        {"duration": 1000.0, "complete": True})
    assert run_analyze(path, json_out=True) == 0
    out = capsys.readouterr().out
    obj = json.loads(out)                         # exactly one JSON document, nothing else
    assert out.count("\n") == 1
    assert obj["window_ms"] == [0.0, 1000.0] and obj["complete"] is True
    check_hand(obj["populations"]["p"], 3)
    assert obj["populations"]["silent"]["cv_isi"] is None       # NaN -> null
    assert obj["populations"]["silent"]["n_spikes"] == 0
    assert obj["network"]["n_neurons"] == 7 and obj["network"]["n_spikes"] == 8
    assert obj["network"]["rate_hz"] == pytest.approx(8 / 7)
    # the table names every population
    assert run_analyze(path) == 0
    table = capsys.readouterr().out
    assert "p " in table and "silent" in table and "(network)" in table


def test_plots_written(tmp_path, capsys):
    rng = np.random.default_rng(1)
    t, ids = poisson(rng, 300, 20.0, 200.0)
    path = write_sonata(tmp_path / "p.h5", {"exc": (t, ids, 300)}, {"duration": 200.0},
                        weights={"ee": rng.normal(1, 0.2, 500)},
                        learning={"emotion": {"accuracy": [0.5, 0.7, 0.9], "mean_abs_dw": [3, 2, 1]}})
    out = tmp_path / "plots"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no matplotlib warnings either
        run_analyze(path, plots_dir=str(out))
    for name in ("raster.png", "activity.png", "isi_rates.png", "weights.png", "learning.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, name


# ---------------------------------------------------------------- export
def test_to_neo_and_nwb(tmp_path):
    path = write_sonata(tmp_path / "x.h5", {"p": (HAND_T, HAND_ID, 4)}, {"duration": 1000.0})
    trains = to_neo(path)["p"]
    assert len(trains) == 4
    np.testing.assert_allclose(trains[1].rescale("ms").magnitude, [100, 300, 400])
    assert float(trains[3].t_stop.rescale("ms")) == 1000.0 and len(trains[3]) == 0

    import pynwb
    out = to_nwb(path, tmp_path / "x.nwb")
    with pynwb.NWBHDF5IO(out, "r") as io:
        units = io.read().units
        assert len(units) == 4
        for i, expected in enumerate([[100, 200, 300, 400], [100, 300, 400], [500], []]):
            np.testing.assert_allclose(units["spike_times"][i], np.array(expected) / 1000.0)
            assert units["population"][i] == "p" and units["node_id"][i] == i


def test_time_sorted_window_found_by_bisection(tmp_path):
    rng = np.random.default_rng(11)
    t = rng.uniform(0, 1000.0, 20000)
    ids = rng.integers(0, 500, t.size)
    path = write_sonata(tmp_path / "big.h5", {"p": (t, ids, 500)}, {"duration": 1000.0})
    for chunk in (None, 333):
        sf = open_spikes(path, t_start=123.4, t_stop=456.7, chunk_rows=chunk)
        got = summarize(sf).stats["populations"]["p"]
        inside = (t >= 123.4) & (t <= 456.7)
        assert got["n_spikes"] == inside.sum()
        assert got["fano"] == pytest.approx(stats.fano_factor(np.bincount(ids[inside], minlength=500)))


# ---------------------------------------------------------------- [analysis] t_start
# Two neurons over [0, 100] ms; the scenario stored in the file skips the first 40 ms.
# Whole window (T = 0.1 s): neuron 0 at 10, 20, 50, 60, 70, 80 (ISIs 10, 30, 10, 10, 10:
# mean 14, std 8, CV 4/7), neuron 1 at 5, 45, 55, 95 (ISIs 40, 10, 40: mean 30, std
# sqrt(200), CV sqrt(2)/3); counts 6 and 4: rate 50 Hz, Fano 1/5.
# From 40 ms (T = 0.06 s): neuron 0 at 50, 60, 70, 80 (CV 0), neuron 1 at 45, 55, 95
# (ISIs 10, 40: mean 25, std 15, CV 0.6); counts 4 and 3: rate 7/2/0.06 Hz, Fano 1/14.
SKIP_T = [10, 20, 50, 60, 70, 80, 5, 45, 55, 95]
SKIP_ID = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
SCENARIO_TEXT = """[simulation]
duration = 100.0

[[population]]
name = "p"
size = 2
model = "lif"

[analysis]
t_start = {t_start}
"""


def skip_file(tmp_path, t_start="40.0", **attrs):
    return write_sonata(tmp_path / "skip.h5", {"p": (SKIP_T, SKIP_ID, 2)},
                        {"duration": 100.0, "complete": True,
                         "scenario": SCENARIO_TEXT.format(t_start=t_start), **attrs})


def test_scenario_t_start_skips_the_transient(tmp_path, capsys):
    path = skip_file(tmp_path)
    assert run_analyze(path, json_out=True) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["window_ms"] == [40.0, 100.0] and obj["t_start_source"] == "analysis.t_start"
    p = obj["populations"]["p"]
    assert p["n_spikes"] == 7
    assert p["rate_hz"] == pytest.approx(7 / 2 / 0.06, rel=1e-12)
    assert p["cv_isi"] == pytest.approx((0.0 + 0.6) / 2, rel=1e-12)
    assert p["fano"] == pytest.approx(1 / 14, rel=1e-12)
    assert any("analysis.t_start = 40 ms" in n for n in obj["notes"])
    # the table says so too
    assert run_analyze(path) == 0
    table = capsys.readouterr().out
    assert "window [40, 100] ms" in table and "note: window starts at analysis.t_start" in table


def test_t_start_option_overrides_the_scenario(tmp_path, capsys):
    path = skip_file(tmp_path)
    assert run_analyze(path, json_out=True, t_start=0.0) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["window_ms"] == [0.0, 100.0] and obj["t_start_source"] == "--t-start"
    p = obj["populations"]["p"]
    assert p["n_spikes"] == 10
    assert p["rate_hz"] == pytest.approx(50.0, rel=1e-12)
    assert p["cv_isi"] == pytest.approx((4 / 7 + math.sqrt(2) / 3) / 2, rel=1e-12)
    assert p["fano"] == pytest.approx(1 / 5, rel=1e-12)
    assert not any("analysis.t_start" in n for n in obj["notes"])


def test_file_without_analysis_section_starts_at_zero(tmp_path, capsys):
    path = write_sonata(tmp_path / "plain.h5", {"p": (SKIP_T, SKIP_ID, 2)},
                        {"duration": 100.0, "scenario": "[simulation]\nduration = 100.0\n"})
    assert run_analyze(path, json_out=True) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["window_ms"] == [0.0, 100.0] and obj["t_start_source"] == "recording"
    assert obj["populations"]["p"]["n_spikes"] == 10


@pytest.mark.parametrize("value, attrs, words", [
    ('"soon"', {}, "must be a number"),
    ("-5.0", {}, "must be >= 0"),
    ("150.0", {}, "not before the end of the recording (duration = 100 ms)"),
    ("40.0", {"complete": False, "t_committed": 30.0}, "t_committed (the run did not complete) = 30 ms"),
])
def test_bad_stored_t_start_is_refused(tmp_path, capsys, value, attrs, words):
    from eventsim.cli import main
    path = skip_file(tmp_path, value, **attrs)
    assert main(["analyze", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: analysis.t_start (scenario stored in {path}): ")
    assert words in err and "--t-start" in err and "Traceback" not in err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IncompleteFileWarning)
        assert main(["analyze", path, "--t-start", "0", "--json"]) == 0   # the option wins


def test_t_stop_before_the_stored_t_start_is_refused(tmp_path, capsys):
    from eventsim.cli import main
    assert main(["analyze", skip_file(tmp_path), "--t-stop", "30"]) == 2
    err = capsys.readouterr().err
    assert "--t-stop: 30 ms is not after analysis.t_start" in err


@pytest.mark.parametrize("value, words", [
    ("-1.0", "analysis.t_start: must be >= 0 ms, got -1"),
    ("250.0", "analysis.t_start: must be before the end of the run (simulation.duration = 200 ms), got 250 ms"),
    ('"transient"', "analysis.t_start: must be a number (ms), got"),
])
def test_bad_t_start_in_a_scenario_is_refused(tmp_path, capsys, value, words):
    from pathlib import Path

    from eventsim.cli import main
    small = (Path(__file__).parent / "data" / "scenarios" / "small.toml").read_text()
    scenario = tmp_path / "s.toml"
    scenario.write_text(small + f"\n[analysis]\nt_start = {value}\n")
    assert main(["validate", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert words in err, err
    assert main(["run", str(scenario), "-o", str(tmp_path / "s.h5")]) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "s.h5").exists()


def test_run_then_analyze_uses_the_scenario_t_start(tmp_path, capsys):
    """The scenario's [analysis] travels in the output file: analyze's window starts there."""
    from pathlib import Path

    from eventsim.cli import main
    small = (Path(__file__).parent / "data" / "scenarios" / "small.toml").read_text()
    scenario = tmp_path / "s.toml"
    scenario.write_text(small + "\n[analysis]\nt_start = 30.0\n")
    out = tmp_path / "s.h5"
    assert main(["run", str(scenario), "-o", str(out), "--duration", "60", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(out), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["window_ms"] == [30.0, 60.0]
    with h5py.File(out) as f:
        t = f["spikes/exc/timestamps"][()]
    assert obj["populations"]["exc"]["n_spikes"] == int(((t >= 30.0) & (t <= 60.0)).sum())
    assert obj["populations"]["exc"]["n_spikes"] < t.size      # the first 30 ms were left out


def test_a_shorter_run_than_t_start_warns_and_analyze_asks_for_t_start(tmp_path, capsys):
    """--duration below the scenario's t_start: the run goes ahead with a warning (the
    scenario itself is fine); analyze of its file then exits 2 until --t-start is given."""
    from pathlib import Path

    from eventsim.cli import main
    small = (Path(__file__).parent / "data" / "scenarios" / "small.toml").read_text()
    scenario = tmp_path / "s.toml"
    scenario.write_text(small + "\n[analysis]\nt_start = 30.0\n")
    out = tmp_path / "s.h5"
    with pytest.warns(UserWarning, match=r"analysis.t_start: 30 ms is not before the end of this run \(20 ms"):
        assert main(["run", str(scenario), "-o", str(out), "--duration", "20", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(out)]) == 2
    err = capsys.readouterr().err
    assert "analysis.t_start (scenario stored in" in err and "(duration = 20 ms); give --t-start" in err
    assert main(["analyze", str(out), "--t-start", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["window_ms"] == [0.0, 20.0]
