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

    def fake(python, model, tool, duration, threads):
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
