"""The README's benchmark table, from benchmark JSON lines.

    python tools/readme_table.py bench/results/current.jsonl [MORE.jsonl ...]

Reads the JSON lines printed by ``bench/brunel.py`` (any ``--scenario``) and by
``bench/compare_peers.py`` (which add ``tool`` or ``simulator``), and prints a markdown
table: one row per scenario, simulator and thread count, with the median over repeated
runs (and the range when there are several). Columns: neurons, synapses, simulated time,
threads, build, the simulation loop (eventsim's ``loop_s``: numba's compilation left out;
``simulate_s`` for the others), its real-time factor, recurrent synaptic events per
second of loop, spikes. The README says which command and file made its table, and
``tests/test_readme.py`` checks that the README holds exactly this script's output.
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ORDER = ("quickstart", "brette2007_cuba", "brunel2000_ai", "potjans2014_microcircuit")


def read_lines(paths):
    """Every JSON object of the files (blank lines and lines not starting with '{' skipped)."""
    rows = []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
    return rows


def _simulator(row):
    name = row.get("simulator") or row.get("tool") or "eventsim"
    return name.split()[0] if name.lower().startswith(("nest", "brian2")) else name


def _loop(row):
    return float(row["loop_s"] if row.get("loop_s") is not None else row["simulate_s"])


def _seconds(values):
    med = statistics.median(values)
    text = f"{med:.2f} s" if med < 10 else f"{med:.1f} s"
    if len(values) > 1 and max(values) > min(values):
        text += f" ({min(values):.3g}-{max(values):.3g})"
    return text


def _count(n):
    return f"{n:,.0f}"


def table(rows):
    """The markdown table (a string ending in a newline) of the benchmark rows."""
    groups = {}
    for row in rows:
        key = (row["benchmark"], _simulator(row), int(row.get("threads", 1)), float(row["duration_ms"]))
        groups.setdefault(key, []).append(row)

    def order(key):
        bench, sim, threads, duration = key
        rank = ORDER.index(bench) if bench in ORDER else len(ORDER)
        return (rank, bench, sim != "eventsim", sim, duration, threads)

    out = ["| scenario | simulator | neurons | synapses | simulated | threads | build | simulation loop "
           "| real-time factor | recurrent events/s | spikes |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(groups, key=order):
        bench, sim, threads, duration = key
        g = groups[key]
        loops = [_loop(r) for r in g]
        loop = statistics.median(loops)
        events = statistics.median(float(r["recurrent_synaptic_events"]) for r in g)
        first = g[0]
        out.append(
            f"| {bench} | {sim} | {_count(first['neurons']) if 'neurons' in first else '-'} "
            f"| {_count(first['synapses']) if 'synapses' in first else '-'} | {duration:g} ms | {threads} "
            f"| {_seconds([float(r['build_s']) for r in g])} | {_seconds(loops)} "
            f"| {loop / (duration / 1000.0):.3g} | {events / loop:.3g} "
            f"| {_count(statistics.median(int(r['spikes']) for r in g))} |")
    return "\n".join(out) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    sys.stdout.write(table(read_lines(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
