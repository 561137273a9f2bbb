"""The quick start is what the README says it is: a balanced network in the asynchronous
irregular state once its start-up is left out ([analysis] t_start), with the README's
figures. The statistics are computed here with numpy from the spike file, independently of
eventsim.analysis (definitions as docs/analysis.md: window ends included, CV over neurons
with >= 3 spikes, population standard deviations, Golomb's chi on 1 ms bins)."""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "scenarios" / "quickstart.toml"


def population_stats(t, ids, n, t0, t1):
    keep = (t >= t0) & (t <= t1)
    t, ids = t[keep], ids[keep]
    counts = np.bincount(ids, minlength=n).astype(float)
    order = np.lexsort((t, ids))
    t, ids = t[order], ids[order]
    bounds = np.searchsorted(ids, np.arange(n + 1))
    cvs = []
    for i in range(n):
        ti = t[bounds[i]:bounds[i + 1]]
        if ti.size >= 3:
            isi = np.diff(ti)
            cvs.append(isi.std() / isi.mean())
    n_bins = int(np.ceil(t1 - t0))
    b = np.minimum(np.floor(t - t0).astype(int), n_bins - 1)
    cells = np.zeros((n, n_bins))
    np.add.at(cells, (ids, b), 1.0)
    chi = np.sqrt(cells.mean(axis=0).var() / cells.var(axis=1).mean())
    return {"n_spikes": int(counts.sum()), "rate_hz": counts.mean() / ((t1 - t0) / 1000.0),
            "cv_isi": float(np.mean(cvs)), "fano": counts.var() / counts.mean(), "chi": float(chi)}


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    from eventsim.cli import main
    out = tmp_path_factory.mktemp("quickstart") / "quickstart.h5"
    assert main(["run", str(QUICKSTART), "-o", str(out), "--threads", "1", "--quiet"]) == 0
    spikes = {}
    with h5py.File(out, "r") as f:
        for pop in ("exc", "inh"):
            spikes[pop] = (f[f"spikes/{pop}/timestamps"][()], f[f"spikes/{pop}/node_ids"][()].astype(np.int64),
                           int(f[f"spikes/{pop}"].attrs["n_nodes"]))
    return out, spikes


def test_quickstart_is_asynchronous_irregular_after_its_start(quickstart):
    _, spikes = quickstart
    for pop, (t, ids, n) in spikes.items():
        s = population_stats(t, ids, n, 100.0, 500.0)
        assert 20.0 < s["rate_hz"] < 50.0, (pop, s)       # moderate rates
        assert 0.75 < s["cv_isi"] < 1.0, (pop, s)         # irregular: CV of ISI near 1
        assert 0.7 < s["fano"] < 1.2, (pop, s)            # spike counts about Poisson
        assert s["chi"] < 0.2, (pop, s)                   # asynchronous


def test_analyze_leaves_out_the_start_and_agrees(quickstart, capsys):
    """eventsim analyze of the quick start's file starts at its [analysis] t_start = 100 ms,
    and its figures are the ones computed here."""
    from eventsim.cli import main
    out, spikes = quickstart
    capsys.readouterr()
    assert main(["analyze", str(out), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["window_ms"] == [100.0, 500.0] and obj["t_start_source"] == "analysis.t_start"
    for pop, (t, ids, n) in spikes.items():
        mine = population_stats(t, ids, n, 100.0, 500.0)
        theirs = obj["populations"][pop]
        assert theirs["n_spikes"] == mine["n_spikes"]
        for k in ("rate_hz", "cv_isi", "fano", "chi"):
            assert theirs[k] == pytest.approx(mine[k], rel=1e-9), (pop, k)


def test_readme_shows_what_a_user_gets(quickstart):
    """The README's quick-start figures (the run's spike counts, and analyze's table over
    [100, 500] ms) are this run's, to the digits printed."""
    import re
    _, spikes = quickstart
    readme = (ROOT / "README.md").read_text()
    for pop, (t, ids, n) in spikes.items():
        m = re.search(rf"^\s+{pop}\s+(\d+) spikes\s+([\d.]+) Hz$", readme, re.M)
        assert m, f"README: no summary line for {pop}"
        assert int(m.group(1)) == t.size
        assert m.group(2) == f"{t.size / n / 0.5:.2f}"
    block = readme[readme.index("quickstart.h5: window [100, 500] ms"):]
    offsets = {"exc": 0, "inh": spikes["exc"][2]}
    rows = {pop: population_stats(t, ids, n, 100.0, 500.0) for pop, (t, ids, n) in spikes.items()}
    rows["(network)"] = population_stats(
        np.concatenate([spikes[p][0] for p in offsets]), np.concatenate([spikes[p][1] + offsets[p] for p in offsets]),
        sum(spikes[p][2] for p in offsets), 100.0, 500.0)
    for name, s in rows.items():
        m = re.search(rf"^\s+{re.escape(name)}\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s",
                      block, re.M)
        assert m, f"README: no analyze row for {name}"
        assert int(m.group(2)) == s["n_spikes"]
        assert m.group(3) == f"{s['rate_hz']:.3f}" and m.group(4) == f"{s['cv_isi']:.3f}"
        assert m.group(5) == f"{s['fano']:.3f}" and m.group(6) == f"{s['chi']:.3f}"
