"""The README says what is true: its two commands are the ones CI runs, its scenario
example is valid, and its benchmark table is what tools/readme_table.py makes of the
stored benchmark lines. (Its quick-start figures: tests/test_quickstart.py.)"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()

INSTALL_AND_RUN = "pip install -e . && eventsim run scenarios/quickstart.toml -o quickstart.h5"
INSTALL_AND_TEST = "pip install -e '.[test]' && python -m pytest -q tests"


def code_lines(text):
    """Lines of the README's indented code blocks, stripped."""
    return [line.strip() for line in text.splitlines() if line.startswith("    ")]


def test_the_two_commands():
    lines = code_lines(README)
    assert INSTALL_AND_RUN in lines
    assert INSTALL_AND_TEST in lines
    ci = (ROOT / ".ci" / "run").read_text()     # CI runs the README's test command
    assert "python -m pip install -e '.[test]'" in ci and "python -m pytest -q tests" in ci
    assert (ROOT / "scenarios" / "quickstart.toml").is_file()


def test_scenario_example_is_valid():
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    from eventsim.scenario import load_scenario
    blocks = re.findall(r"```toml\n(.*?)```", README, re.S)
    assert len(blocks) == 1
    sc = load_scenario(tomllib.loads(blocks[0]), base_dir=ROOT)
    assert [p["name"] for p in sc.populations] == ["inh"]
    assert sc.analysis["t_start"] == 200.0 and sc.record["state"]


def test_benchmark_table_is_the_scripts_output():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import readme_table
    finally:
        sys.path.pop(0)
    table = readme_table.table(readme_table.read_lines([ROOT / "bench" / "results" / "current.jsonl"]))
    assert table in README, "README's table is stale: python tools/readme_table.py bench/results/current.jsonl"
    assert "python tools/readme_table.py bench/results/current.jsonl" in README


def test_readme_table_groups_and_takes_medians(tmp_path):
    """Rows by scenario, simulator and threads; medians of repeats with their range; loop_s
    (compilation left out) preferred to simulate_s; events/s of the median loop."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import readme_table
    finally:
        sys.path.pop(0)
    base = dict(benchmark="brunel2000_ai", neurons=12500, synapses=15625000, duration_ms=1000.0,
                build_s=1.0, spikes=100, recurrent_synaptic_events=6_000_000)
    rows = [dict(base, threads=1, simulate_s=99.0, loop_s=30.0), dict(base, threads=1, simulate_s=99.0, loop_s=20.0),
            dict(base, threads=1, simulate_s=99.0, loop_s=40.0), dict(base, threads=2, simulate_s=12.0),
            dict(base, threads=1, simulate_s=25.0, simulator="nest 3.10.0"),
            dict(base, benchmark="quickstart", duration_ms=500.0, threads=1, simulate_s=0.5, build_s=0.25)]
    lines = readme_table.table(rows).splitlines()
    assert len(lines) == 2 + 4
    assert lines[2].startswith("| quickstart | eventsim | 12,500 |")
    assert "| 500 ms | 1 | 0.25 s | 0.50 s | 1 | 1.2e+07 | 100 |" in lines[2]
    assert "| brunel2000_ai | eventsim | 12,500 | 15,625,000 | 1000 ms | 1 | 1.00 s | 30.0 s (20-40) | 30 | 2e+05 | 100 |" == lines[3]
    assert "| 1000 ms | 2 | 1.00 s | 12.0 s | 12 | 5e+05 |" in lines[4]
    assert lines[5].startswith("| brunel2000_ai | nest |") and "| 25.0 s | 25 |" in lines[5]
