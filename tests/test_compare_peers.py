"""bench/compare_peers.py's bookkeeping on canned JSON lines (no simulator is run)."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("compare_peers", ROOT / "bench" / "compare_peers.py")
cp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cp)


def line(**kw):
    base = dict(benchmark="brunel2000_ai", threads=1, duration_ms=1000.0, spikes=10,
                rate_hz={"exc": 38.0, "inh": 37.0}, recurrent_synaptic_events=600)
    base.update(kw)
    return json.dumps(base)


def test_parse_result_takes_the_last_json_line_after_banners():
    out = "\n".join(["-- N E S T --", "{not json", line(simulate_s=1.0), "Type 'nest.help()'", ""])
    assert cp.parse_result(out)["simulate_s"] == 1.0
    assert cp.parse_result("no json here\n") is None


def test_loop_time_per_tool():
    assert cp.loop_time("eventsim", {"loop_s": 2.0, "simulate_s": 5.0}) == 2.0
    assert cp.loop_time("nest", {"simulate_s": 3.0}) == 3.0
    assert cp.loop_time("brian2", {"simulate_s": 1.5, "compile_s": 11.0}) == 1.5


def test_ratios_of_medians_peer_over_eventsim():
    runs = [("eventsim", 1, 10.0, dict(loop_s=2.0, simulate_s=2.5, compile_s=0.1)),
            ("eventsim", 2, 12.0, dict(loop_s=4.0, simulate_s=4.5, compile_s=0.1)),
            ("eventsim", 3, 11.0, dict(loop_s=3.0, simulate_s=3.5, compile_s=0.1)),
            ("nest", 1, 33.0, dict(simulate_s=6.0)),
            ("brian2", 1, 22.0, dict(simulate_s=1.5, compile_s=11.0))]
    recs = [cp.record("brunel", tool, run, wall, cp.parse_result(line(**res))) for tool, run, wall, res in runs]
    rows = {r["tool"]: r for r in cp.summarise(recs)}
    assert [r["tool"] for r in cp.summarise(recs)] == ["eventsim", "nest", "brian2"]
    ev = rows["eventsim"]
    assert ev["runs"] == 3 and ev["loop_s"] == 3.0 and ev["loop_range"] == (2.0, 4.0)
    assert ev["process_s"] == 11.0 and ev["loop_ratio"] is None
    assert ev["events_per_s"] == pytest.approx(200.0)       # median of 600 / (2, 4, 3)
    assert rows["nest"]["loop_ratio"] == pytest.approx(2.0)
    assert rows["nest"]["process_ratio"] == pytest.approx(3.0)
    assert rows["nest"]["compile_s"] is None
    assert rows["brian2"]["loop_ratio"] == pytest.approx(0.5)
    assert rows["brian2"]["process_ratio"] == pytest.approx(2.0)
    table = cp.format_table(cp.summarise(recs))
    assert "| brunel | 1 | brian2 | 1 | 1.5 | 22.0 | 11 |" in table
    assert table.count("\n") == 4


def test_groups_by_model_and_threads():
    recs = [cp.record("cuba", "eventsim", 1, 5.0, dict(json.loads(line(loop_s=1.0)), threads=2)),
            cp.record("cuba", "nest", 1, 4.0, dict(json.loads(line(simulate_s=0.5)), threads=2)),
            cp.record("cuba", "nest", 1, 4.0, dict(json.loads(line(simulate_s=0.7)), threads=1))]
    rows = cp.summarise(recs)
    by = {(r["threads"], r["tool"]): r for r in rows}
    assert by[(2, "nest")]["loop_ratio"] == pytest.approx(0.5)
    assert by[(1, "nest")]["loop_ratio"] is None          # no eventsim run with 1 thread


def test_missing_peer_is_skipped(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cp, "run_one", lambda *a: pytest.fail("nothing should run"))
    rc = cp.main(["--simulators", "nest", "--nest-python", str(tmp_path / "none" / "python")])
    assert rc == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nest skipped" in err


def test_eventsim_warms_numbas_cache_before_its_timed_runs(capsys, monkeypatch):
    """One untimed eventsim run per model and thread count before the timed ones (none
    with --cold); its figures are not recorded."""
    calls = []

    def fake(python, model, tool, duration, threads, options=None):
        calls.append((model, tool, duration, threads))
        return 1.0, {"loop_s": 2.0, "simulate_s": 2.0, "threads": threads, "duration_ms": duration,
                     "spikes": 10, "rate_hz": {"exc": 1.0, "inh": 1.0}, "recurrent_synaptic_events": 600}
    monkeypatch.setattr(cp, "run_one", fake)
    monkeypatch.setattr(cp, "_python_for", lambda tool, args: sys.executable)
    assert cp.main(["--simulators", "eventsim", "--models", "brunel", "--threads", "1,2", "--repeat", "2"]) == 0
    assert calls == [("brunel", "eventsim", cp.WARM_UP_MS, 1), ("brunel", "eventsim", 1000.0, 1),
                     ("brunel", "eventsim", 1000.0, 1), ("brunel", "eventsim", cp.WARM_UP_MS, 2),
                     ("brunel", "eventsim", 1000.0, 2), ("brunel", "eventsim", 1000.0, 2)]
    assert capsys.readouterr().out.count('"tool": "eventsim"') == 4
    calls.clear()
    assert cp.main(["--simulators", "eventsim", "--models", "cuba", "--threads", "1", "--cold"]) == 0
    assert calls == [("cuba", "eventsim", 1000.0, 1)]


def test_microcircuit_commands():
    """The microcircuit: both scripts at the same scale, transient and measured time
    (--t-sim), NEST's with the PD14 checkout."""
    ev = cp.command("py", "microcircuit", "eventsim", 1000.0, 2, pd14="/x/pd14", scale=0.25)
    assert ev == ["py", "bench/microcircuit.py", "--scale", "0.25", "--transient", "100.0", "--t-sim", "1000.0",
                  "--threads", "2"]
    ne = cp.command("py", "microcircuit", "nest", 1000.0, 1, pd14="/x/pd14", scale=0.1)
    assert ne == ["py", "tools/nest/microcircuit_bench.py", "--pd14", "/x/pd14", "--scale", "0.1", "--transient",
                  "100.0", "--t-sim", "1000.0", "--threads", "1"]
    assert cp.command("py", "cuba", "nest", 500.0, 1) == ["py", "tools/nest/cuba_bench.py", "--duration", "500.0",
                                                        "--threads", "1"]


def test_microcircuit_loops_compare_the_whole_simulated_time():
    """NEST's microcircuit loop is its loop_s (transient + measured time, as eventsim's
    loop_s), not simulate_s (the measured time only); rates per layer and a missing
    event count leave those columns empty."""
    nest = dict(simulator="nest 3.10.0", threads=2, loop_s=15.0, simulate_s=13.5, rate_hz=3.05, spikes=5,
                model="microcircuit-PD14-model (PyNEST)")   # (the script's own "model" field)
    ev = dict(threads=2, loop_s=6.0, rate_hz={"L23E": 0.6, "L4E": 4.4}, recurrent_synaptic_events=6.0e7)
    assert cp.loop_time("nest", nest, "microcircuit") == 15.0
    assert cp.loop_time("nest", nest) == 13.5
    recs = [cp.record("microcircuit", "eventsim", 1, 10.0, ev), cp.record("microcircuit", "nest", 1, 25.0, nest)]
    assert recs[1]["model"] == "microcircuit" and recs[1]["script_model"] == nest["model"]
    rows = {r["tool"]: r for r in cp.summarise(recs)}
    assert rows["nest"]["loop_ratio"] == pytest.approx(2.5)
    assert rows["nest"]["events_per_s"] is None and rows["nest"]["rate_exc"] is None
    assert rows["eventsim"]["events_per_s"] == pytest.approx(1.0e7)
    table = cp.format_table(cp.summarise(recs))
    assert "| microcircuit | 2 | nest 3.10.0 | 1 | 15.0 | 25.0 |  |  |  | 2.50 | 2.50 |" in table


def test_microcircuit_skips_brian2_and_nest_without_a_checkout(tmp_path, capsys, monkeypatch):
    calls = []

    def fake(python, model, tool, duration, threads, options=None):
        calls.append((tool, options))
        return 1.0, {"loop_s": 2.0, "simulate_s": 2.0, "threads": threads, "rate_hz": 1.0}
    monkeypatch.setattr(cp, "run_one", fake)
    monkeypatch.setattr(cp, "_python_for", lambda tool, args: sys.executable)
    rc = cp.main(["--models", "microcircuit", "--threads", "1", "--cold", "--pd14", str(tmp_path / "none")])
    assert rc == 0
    err = capsys.readouterr().err
    assert "brian2 skipped for microcircuit: no script" in err
    assert "nest skipped for microcircuit: no microcircuit-PD14-model checkout" in err
    assert [tool for tool, _ in calls] == ["eventsim"]
    calls.clear()
    rc = cp.main(["--models", "microcircuit", "--threads", "1", "--cold", "--pd14", str(tmp_path), "--scale", "0.1"])
    assert [tool for tool, _ in calls] == ["eventsim", "nest"]
    assert calls[1][1] == {"pd14": str(tmp_path), "scale": 0.1}
