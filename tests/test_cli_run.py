"""End to end: ``eventsim run`` / ``eventsim validate`` as a user calls them, and the
output file against the contract's SONATA layout (contract, "Command line" and
"Output file").

Every run is a real subprocess (``python -m eventsim.cli``); each costs a few seconds
of start-up, so the runs are module fixtures shared by the tests that read them.
Expected values come from the scenario itself (sizes, in-degrees, the spike_source's
listed times), from recounts over the file, or from libsonata, never from eventsim.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import eventsim

SMALL = Path(__file__).parent / "data" / "scenarios" / "small.toml"
SIZES = {"exc": 200, "pattern": 3}
INDEGREE_EE = 20
WEIGHT_EE = 20.0
DELAY_EE = 1.5
DURATION = 200.0
SEED = 7
# small.toml's spike_source, as (time, node id) sorted by time
PATTERN = [(5.0, 0), (7.5, 1), (10.0, 0), (20.0, 2), (50.0, 0), (120.0, 2)]


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "eventsim.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def spikes_of(path):
    with h5py.File(path, "r") as f:
        return {name: (g["timestamps"][:], g["node_ids"][:]) for name, g in f["spikes"].items()}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """small.toml -o out.h5 --quiet."""
    d = tmp_path_factory.mktemp("small")
    proc = run_cli("run", SMALL, "-o", d / "out.h5", "--quiet", cwd=d)
    return proc, d / "out.h5"


@pytest.fixture(scope="module")
def out_file(small_run):
    proc, out = small_run
    assert proc.returncode == 0, proc.stderr
    return out


# ---------------------------------------------------------------- the run itself

def test_run_succeeds_quietly_and_leaves_no_partial(small_run):
    proc, out = small_run
    assert proc.returncode == 0, proc.stderr
    assert out.exists()
    assert not out.with_name("out.h5.partial").exists()
    assert proc.stderr == "", "--quiet: nothing on stderr (no progress bar)"


def test_root_attributes(out_file):
    with h5py.File(out_file, "r") as f:
        a = f.attrs
        assert a["magic"] == 0x0A7A and a["magic"].dtype == np.uint32
        assert np.asarray(a["version"]).dtype == np.uint32
        assert list(a["version"]) == [0, 1]
        assert a["eventsim_version"] == eventsim.__version__
        assert a["scenario"] == SMALL.read_text()
        assert int(a["seed"]) == SEED
        assert a["backend"] == "cpu"
        assert float(a["duration"]) == DURATION
        assert float(a["t_committed"]) == DURATION
        assert bool(a["complete"]) is True
        assert "counters" in f and isinstance(f["counters"], h5py.Group)


def test_spike_groups_follow_sonata(out_file):
    with h5py.File(out_file, "r") as f:
        assert set(f["spikes"]) == set(SIZES)
        for name, size in SIZES.items():
            g = f["spikes"][name]
            enum = h5py.check_enum_dtype(g.attrs.get_id("sorting").dtype)
            assert enum == {"none": 0, "by_id": 1, "by_time": 2}
            assert g.attrs.get_id("sorting").dtype.itemsize == 1          # int8 base
            assert int(g.attrs["sorting"]) == 2                            # by_time
            assert int(g.attrs["n_nodes"]) == size
            ts, ids = g["timestamps"], g["node_ids"]
            assert ts.dtype == np.float64 and ts.attrs["units"] == "ms"
            assert ids.dtype == np.uint64
            t, i = ts[:], ids[:]
            assert t.size == i.size and t.size > 0
            assert np.all(i < size)
            assert np.all(np.diff(t) >= 0), "sorting = by_time"
            assert t[0] >= 0.0 and t[-1] <= DURATION


def test_spike_source_emits_exactly_its_listed_times(out_file):
    t, i = spikes_of(out_file)["pattern"]
    assert list(zip(t.tolist(), i.tolist())) == PATTERN


def test_recorded_weights(out_file):
    with h5py.File(out_file, "r") as f:
        assert set(f["weights"]) == {"ee"}
        g = f["weights"]["ee"]
        src, tgt, w = g["source_ids"][:], g["target_ids"][:], g["weight"][:]
    assert src.dtype == np.uint64 and tgt.dtype == np.uint64 and w.dtype == np.float64
    assert src.size == tgt.size == w.size == SIZES["exc"] * INDEGREE_EE
    assert np.all(src < SIZES["exc"]) and np.all(tgt < SIZES["exc"])
    assert np.all(np.bincount(tgt.astype(np.int64), minlength=SIZES["exc"]) == INDEGREE_EE)
    assert not np.any(src == tgt), "allow_autapses defaults to false"
    assert np.all(w == WEIGHT_EE)


def test_libsonata_reads_the_same_spikes(out_file):
    import libsonata
    reader = libsonata.SpikeReader(str(out_file))
    assert set(reader.get_population_names()) == set(SIZES)
    for name, (t, i) in spikes_of(out_file).items():
        pop = reader[name]
        assert str(pop.sorting).endswith("by_time")
        got = sorted((int(n), float(s)) for n, s in pop.get())
        assert got == sorted(zip(i.tolist(), t.tolist()))


# ---------------------------------------------------------------- reproducibility and overrides

def test_same_seed_gives_byte_identical_spikes(out_file, tmp_path):
    proc = run_cli("run", SMALL, "-o", tmp_path / "again.h5", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    first, second = spikes_of(out_file), spikes_of(tmp_path / "again.h5")
    assert set(first) == set(second)
    for name in first:
        for a, b in zip(first[name], second[name]):
            assert a.dtype == b.dtype
            assert np.array_equal(a, b)
            assert a.tobytes() == b.tobytes()


@pytest.fixture(scope="module")
def override_run(tmp_path_factory):
    """A copy of small.toml with [output] path, run from another folder with --seed/--duration."""
    root = tmp_path_factory.mktemp("override")
    (root / "scen").mkdir()
    (root / "work").mkdir()
    scenario = root / "scen" / "with_output.toml"
    scenario.write_text(SMALL.read_text() + '\n[output]\npath = "results/run.h5"\n')
    proc = run_cli("run", scenario, "--seed", 8, "--duration", 100, "--quiet", cwd=root / "work")
    return proc, root


def test_output_path_from_scenario_relative_to_its_file(override_run):
    proc, root = override_run
    assert proc.returncode == 0, proc.stderr
    assert (root / "scen" / "results" / "run.h5").exists()
    assert list((root / "work").iterdir()) == [], "nothing written in the current folder"


def test_seed_and_duration_override_the_scenario(override_run, out_file):
    proc, root = override_run
    assert proc.returncode == 0, proc.stderr
    out = root / "scen" / "results" / "run.h5"
    with h5py.File(out, "r") as f:
        assert int(f.attrs["seed"]) == 8
        assert float(f.attrs["duration"]) == 100.0
        assert float(f.attrs["t_committed"]) == 100.0
        assert bool(f.attrs["complete"])
    spikes = spikes_of(out)
    for t, _ in spikes.values():
        assert np.all(t <= 100.0)
    t, i = spikes["pattern"]
    assert list(zip(t.tolist(), i.tolist())) == [p for p in PATTERN if p[0] <= 100.0]
    # another seed: other Poisson trains and connectivity, so other spikes in [0, 100]
    t7, i7 = spikes_of(out_file)["exc"]
    keep = t7 <= 100.0
    t8, i8 = spikes["exc"]
    assert t8.size > 0
    assert not (np.array_equal(t7[keep], t8) and np.array_equal(i7[keep], i8))


def test_default_output_is_scenario_stem_in_cwd_and_json_summary(tmp_path):
    proc = run_cli("run", SMALL, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "small.h5"
    assert out.exists() and not (tmp_path / "small.h5.partial").exists()
    summary = json.loads(proc.stdout)        # one JSON object and nothing else
    assert isinstance(summary, dict)
    spikes = spikes_of(out)
    assert summary["spikes"] == sum(t.size for t, _ in spikes.values())
    for name, (t, _) in spikes.items():
        assert summary["populations"][name]["spikes"] == t.size
    # synaptic events recounted from the file: each exc spike reaches its ee out-degree
    # 1.5 ms later (if before the end), each pattern spike all 200 exc neurons (<= 2 ms later)
    with h5py.File(out, "r") as f:
        outdeg = np.bincount(f["weights/ee/source_ids"][:].astype(np.int64), minlength=SIZES["exc"])
    t, i = spikes["exc"]
    arrived = t + DELAY_EE <= DURATION
    expected = int(outdeg[i[arrived].astype(np.int64)].sum()) + len(PATTERN) * SIZES["exc"]
    assert summary["synaptic_events"] == expected


# ---------------------------------------------------------------- validate

def test_validate_reports_what_it_would_build(tmp_path):
    proc = run_cli("validate", SMALL, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    n_neurons = sum(SIZES.values())
    n_synapses = SIZES["exc"] * INDEGREE_EE + SIZES["pattern"] * SIZES["exc"]
    assert re.search(rf"neurons\D*{n_neurons}\b", proc.stdout), proc.stdout
    assert re.search(rf"synapses\D*{n_synapses}\b", proc.stdout), proc.stdout
    assert re.search(r"(memory|bytes)\D*\d", proc.stdout, re.IGNORECASE), proc.stdout
    assert list(tmp_path.iterdir()) == [], "validate writes nothing"


# ---------------------------------------------------------------- invalid input

def _broken(tmp_path, old, new):
    text = SMALL.read_text()
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1))
    return path


INVALID = {
    # name: (how to break small.toml, text the message must contain)
    "zero_delay": (("delay = 1.5", "delay = 0"), "projection[0].delay"),
    "unknown_key": (("seed = 7", "sed = 7"), "simulation.sed"),
    "malformed_toml": (('name = "exc"', 'name = "exc'), "broken.toml"),
    "missing_file": (None, "missing.toml"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_input_exits_2_without_output(tmp_path, case):
    change, must_name = INVALID[case]
    scenario = tmp_path / "missing.toml" if change is None else _broken(tmp_path, *change)
    out = tmp_path / "out" / "OUT.h5"
    proc = run_cli("run", scenario, "-o", out, "--quiet", cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines and any(must_name in ln for ln in lines), proc.stderr
    assert not out.exists() and not out.with_name("OUT.h5.partial").exists()


def test_cuda_backend_without_gpu_exits_2_without_output(tmp_path):
    # no GPU here, and no cuda backend in this version either: refused as invalid input
    out = tmp_path / "OUT.h5"
    proc = run_cli("run", SMALL, "--backend", "cuda", "-o", out, "--quiet", cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert re.search(r"cuda", proc.stderr, re.IGNORECASE) and "backend" in proc.stderr
    assert not out.exists()
    assert not (tmp_path / "OUT.h5.partial").exists(), "invalid input must leave no output file"


def test_output_path_that_is_a_directory_fails_cleanly(tmp_path):
    """-o naming an existing folder is an invalid argument: exit 2, no traceback, and in
    any case no file left behind that claims complete = true."""
    target = tmp_path / "results"
    target.mkdir()
    proc = run_cli("run", SMALL, "-o", target, "--quiet", cwd=tmp_path)
    claiming = []
    for path in tmp_path.rglob("*"):
        if path.is_file():
            with h5py.File(path, "r") as f:
                if bool(f.attrs.get("complete", False)):
                    claiming.append(path.name)
    assert claiming == [], f"a failed run left files claiming complete = true: {claiming}"
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert "Traceback" not in proc.stderr
    assert "results" in proc.stderr
