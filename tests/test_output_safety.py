"""Output files nothing can corrupt, and bad paths refused cleanly (issue 16).

One regression test per defect found by trying eventsim as a new user would: two runs
writing one output, an output written over the scenario or over the file being
analysed, PNGs nobody asked for, path errors with tracebacks, a memory estimate blind
to state probes, a foreign file's absurd n_nodes, a kernel cache that would run code
planted by someone else, and a Python API that accepted what the CLI refuses.

The command line is called in-process (``eventsim.cli.main``) where no process boundary
matters: an exception escaping ``main`` (a traceback for the user) fails the test.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
from pathlib import Path

import h5py
import numpy as np
import pytest

import eventsim
from eventsim.cli import main as cli
from eventsim.errors import ArgumentError, UnknownNameError
from procutil import Child, paused_cli

SMALL = Path(__file__).parent / "data" / "scenarios" / "small.toml"


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def spikes_of(path):
    with h5py.File(path, "r") as f:
        return {name: (g["timestamps"][:], g["node_ids"][:]) for name, g in f["spikes"].items()}


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """small.toml run once, alone: the reference for every file below."""
    out = tmp_path_factory.mktemp("clean") / "clean.h5"
    assert cli(["run", str(SMALL), "-o", str(out), "--quiet", "--threads", "1"]) == 0
    return out


# ---------------------------------------------------------------- two runs, one output
def test_a_second_run_to_the_same_output_is_refused(clean_run, tmp_path, capsys):
    """Defect: the first run exited 0 with a file claiming complete = true and seed = 2
    but holding the first run's counters and a mixture of both runs' spikes."""
    out = tmp_path / "out.h5"
    first = Child(paused_cli(SMALL, out, "--stop-after-window", "20"), tmp_path, "first")
    try:
        assert first.wait() == ("stopped", signal.SIGSTOP), first.stderr
        partial_before = digest(tmp_path / "out.h5.partial")
        for extra in ([], ["--force"]):
            code = cli(["run", str(SMALL), "-o", str(out), "--quiet", "--seed", "2", *extra])
            err = capsys.readouterr().err
            assert code == 2, err
            assert f"another eventsim run (pid {first.pid}) is writing {out}" in err
        assert digest(tmp_path / "out.h5.partial") == partial_before, "the refused run touched the file"
        os.kill(first.pid, signal.SIGCONT)
        assert first.wait() == ("exited", 0), first.stderr
    finally:
        first.kill()
    with h5py.File(out, "r") as f:
        assert bool(f.attrs["complete"]) and int(f.attrs["seed"]) == 7
    got, ref = spikes_of(out), spikes_of(clean_run)
    for name in ref:
        assert np.array_equal(got[name][0], ref[name][0]) and np.array_equal(got[name][1], ref[name][1])
    assert not (tmp_path / "out.h5.lock").exists() and not (tmp_path / "out.h5.partial").exists()


def test_an_existing_output_is_replaced_only_with_force(clean_run, tmp_path, capsys):
    out = tmp_path / "out.h5"
    shutil.copy(clean_run, out)
    before = digest(out)
    assert cli(["run", str(SMALL), "-o", str(out), "--quiet", "--seed", "3"]) == 2
    assert f"output: {out} exists; pass --force to overwrite it" in capsys.readouterr().err
    assert digest(out) == before and not (tmp_path / "out.h5.partial").exists()
    assert cli(["run", str(SMALL), "-o", str(out), "--quiet", "--seed", "3", "--force"]) == 0
    with h5py.File(out, "r") as f:
        assert int(f.attrs["seed"]) == 3 and bool(f.attrs["complete"])


def test_a_partial_file_left_by_a_killed_run_is_replaced_only_with_force(tmp_path, capsys):
    out = tmp_path / "out.h5"
    partial = tmp_path / "out.h5.partial"
    partial.write_bytes(b"spikes of an interrupted run")
    (tmp_path / "out.h5.lock").write_text("999999")      # its stale lock: the kernel dropped the lock
    assert cli(["run", str(SMALL), "-o", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{partial} exists (left by an interrupted run); pass --force to replace it" in err
    assert partial.read_bytes() == b"spikes of an interrupted run" and not out.exists()
    assert cli(["run", str(SMALL), "-o", str(out), "--quiet", "--force"]) == 0
    assert out.exists() and not partial.exists()


def test_the_output_never_replaces_the_scenario(tmp_path, capsys):
    case = tmp_path / "case.toml"
    shutil.copy(SMALL, case)
    before = digest(case)
    for extra in ([], ["--force"]):
        assert cli(["run", str(case), "-o", str(case), "--quiet", *extra]) == 2
        assert f"output: {case} is an input of this command" in capsys.readouterr().err
    assert digest(case) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.toml"]


def test_an_unwritable_output_is_a_clean_error(tmp_path, capsys):
    """Defect: -o /proc/out.h5 gave a traceback."""
    assert cli(["run", str(SMALL), "-o", "/proc/eventsim-out.h5", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: output: ") and "/proc/eventsim-out.h5" in err


# ---------------------------------------------------------------- analyze and energy
def test_analyze_never_overwrites_its_input(clean_run, tmp_path, capsys):
    """Defect: `eventsim analyze raster.png --plots .` drew raster.png over its input."""
    src = tmp_path / "raster.png"
    shutil.copy(clean_run, src)
    before = digest(src)
    for extra in ([], ["--force"]):
        assert cli(["analyze", str(src), "--plots", str(tmp_path), *extra]) == 2
        captured = capsys.readouterr()
        assert f"--plots: {src} is the file being analysed" in captured.err
        assert captured.out == ""
    assert digest(src) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raster.png"], "no plot may be drawn"


def test_analyze_replaces_plots_only_with_force(clean_run, tmp_path, capsys):
    plots = tmp_path / "plots"
    assert cli(["analyze", str(clean_run), "--plots", str(plots)]) == 0
    first = capsys.readouterr().out
    assert "rate Hz" in first and "raster.png" in first
    drawn = sorted(p.name for p in plots.iterdir())
    assert drawn == ["activity.png", "isi_rates.png", "raster.png", "weights.png"]   # small.toml records weights
    stamps = {p: p.stat().st_mtime_ns for p in plots.iterdir()}
    assert cli(["analyze", str(clean_run), "--plots", str(plots)]) == 2
    assert "pass --force to overwrite" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in plots.iterdir()} == stamps
    assert cli(["analyze", str(clean_run), "--plots", str(plots), "--force"]) == 0


def test_analyze_plots_into_an_unwritable_place_is_a_clean_error(clean_run, tmp_path, capsys):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    for where in ("/proc/eventsim-plots", str(not_a_folder), str(not_a_folder / "sub")):
        assert cli(["analyze", str(clean_run), "--plots", where]) == 2
        assert capsys.readouterr().err.startswith("error: --plots: ")


def test_energy_writes_nothing_unless_asked(clean_run, tmp_path, capsys, monkeypatch):
    """Defect: in a read-only folder `eventsim energy f.h5` printed nothing and exited 1
    with a traceback, failing on a PNG nobody asked for."""
    f = tmp_path / "f.h5"
    shutil.copy(clean_run, f)
    monkeypatch.chdir(tmp_path)
    assert cli(["energy", "f.h5", "--hardware", "loihi"]) == 0
    assert "loihi" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.h5"]


def test_energy_plot_paths(clean_run, tmp_path, capsys):
    """Defects: `--plot nodir/x.png` and `--plot f.h5` gave tracebacks (the latter after
    drawing over its own input)."""
    f = tmp_path / "f.h5"
    shutil.copy(clean_run, f)
    before = digest(f)
    for extra in ([], ["--force"]):
        assert cli(["energy", str(f), "--hardware", "loihi", "--plot", str(f), *extra]) == 2
        assert f"--plot: {f} is an input of this command" in capsys.readouterr().err
    assert digest(f) == before
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    assert cli(["energy", str(f), "--hardware", "loihi", "--plot", str(a_file / "x.png")]) == 2
    assert capsys.readouterr().err.startswith("error: --plot: ")
    assert cli(["energy", str(f), "--hardware", "loihi", "--plot", "/proc/eventsim.png"]) == 2
    capsys.readouterr()
    png = tmp_path / "new" / "energy.png"           # a folder that does not exist yet: created
    assert cli(["energy", str(f), "--hardware", "loihi", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "loihi" in out and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli(["energy", str(f), "--hardware", "loihi", "--plot", str(png)]) == 2
    assert "pass --force to overwrite it" in capsys.readouterr().err


def test_analyze_refuses_an_absurd_population_size(tmp_path, capsys):
    """Defect: a foreign spike file with n_nodes = 1e15 made analyze allocate 7 PiB."""
    f = tmp_path / "foreign.h5"
    with h5py.File(f, "w") as h:
        g = h.create_group("spikes/pop")
        g.attrs["n_nodes"] = 1e15
        g.create_dataset("timestamps", data=np.array([1.0, 2.0]))
        g.create_dataset("node_ids", data=np.array([0, 1], dtype=np.uint64))
    assert cli(["analyze", str(f)]) == 2
    err = capsys.readouterr().err
    assert "1,000,000,000,000,000 neurons" in err and "n_nodes" in err


# ---------------------------------------------------------------- the memory estimate
PROBE = """
[simulation]
duration = 100.0
seed = 1
[[population]]
name = "exc"
size = 50
model = "lif"
[[record.state]]
population = "exc"
variables = ["v", "i_syn"]
interval = {interval}
"""


def test_the_memory_estimate_covers_state_probes(tmp_path, capsys):
    """Defect: `[[record.state]] interval = 1e-9` validated ("peak 0.0 MiB"), then the
    run died with a traceback (149 GiB) and left a .partial."""
    s = tmp_path / "probe.toml"
    s.write_text(PROBE.format(interval="1e-9"))
    assert cli(["validate", str(s)]) == 2
    assert "record.state[0]: would hold about" in capsys.readouterr().err
    out = tmp_path / "probe.h5"
    assert cli(["run", str(s), "-o", str(out), "--quiet"]) == 2
    assert "record.state[0]: would hold about" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["probe.toml"]
    # a feasible probe: 1000 frames (0, 0.1, ..., 99.9 ms) of 50 neurons x 2 variables,
    # all held (no projection, so no window bounds them), float64, doubled while the
    # buffer grows; float32 in the file
    est = eventsim.api.load({"simulation": {"duration": 100.0, "seed": 1},
                             "population": [{"name": "exc", "size": 50, "model": "lif"}],
                             "record": {"state": [{"population": "exc", "variables": ["v", "i_syn"],
                                                   "interval": 0.1}]}})
    from eventsim.network.memory import estimate_memory
    e = estimate_memory(est)
    assert e["record_items"]["record.state[0]"] == [2 * 8 * 1000 * 100, 4 * 1000 * 100]
    assert e["total_bytes"] >= e["record_bytes"] == 2 * 8 * 1000 * 100


def test_a_long_probe_is_committed_before_its_buffer_outgrows_the_estimate(monkeypatch):
    """The estimate counts PROBE_BUFFER_VALUES values held; the run commits then."""
    from eventsim.output import report
    monkeypatch.setattr(report, "PROBE_BUFFER_VALUES", 1000)
    sc = eventsim.load(str(SMALL), duration=40.0)
    sim = eventsim.Simulation(eventsim.build_network(sc), seed=sc.seed)
    sim.record_state("exc", ["v"], [0, 1, 2, 3], 0.01)          # 4 values per 0.01 ms
    held = []
    sim.after_commit = lambda t: held.append(t)
    sim.run(40.0)
    # 1000 values = 2.5 ms of frames: a commit at the end of each window passing it
    assert len(held) >= 40.0 / 2.5 * 0.9, held
    assert sim.state_samples("exc").values["v"].shape == (4000, 4)


# ---------------------------------------------------------------- the kernel cache
def test_the_kernel_cache_must_be_private(tmp_path, monkeypatch):
    """Defect: the cache fell back to a shared temporary folder (whoever writes the
    source-hash stamp there decides which compiled code is deleted)."""
    from eventsim import _jitcache
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("EVENTSIM_CACHE_DIR", str(shared))
    with pytest.raises(RuntimeError, match="writable by others"):
        _jitcache.cache_dir()
    if os.getuid() == 0:           # root can hand a folder to another user
        other = tmp_path / "other"
        other.mkdir(mode=0o700)
        os.chown(other, 65534, 65534)
        monkeypatch.setenv("EVENTSIM_CACHE_DIR", str(other))
        with pytest.raises(RuntimeError, match="belongs to another user"):
            _jitcache.cache_dir()
    # no usable home: a per-user folder in the temp folder, created private
    monkeypatch.delenv("EVENTSIM_CACHE_DIR")
    home_file = tmp_path / "home-is-a-file"
    home_file.write_text("")
    monkeypatch.setenv("HOME", str(home_file))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(_jitcache.tempfile, "tempdir", None)
    got = _jitcache.cache_dir()
    assert got == tmp_path / "tmp" / f"eventsim-cache-{os.getuid()}" / "kernels"
    assert stat.S_IMODE(got.parent.stat().st_mode) == 0o700
    # planted by someone else before us: refused, not used
    planted = tmp_path / "tmp" / f"eventsim-cache-{os.getuid()}"
    shutil.rmtree(planted)
    planted.mkdir(mode=0o777)
    planted.chmod(0o777)
    with pytest.raises(RuntimeError, match="no private cache folder"):
        _jitcache.cache_dir()


def test_a_models_loop_is_compiled_without_writing_source_files(tmp_path, monkeypatch):
    """Defect: a generated kernel file in the cache folder was imported and run (anyone
    who could write there could plant code). The loop is now compiled from
    eventsim.engine.neuron_loop itself: no source file is written anywhere."""
    from eventsim.engine import cpu_kernels
    cache = tmp_path / "cache"
    monkeypatch.setenv("EVENTSIM_CACHE_DIR", str(cache))
    monkeypatch.delitem(cpu_kernels._compiled, "eventsim.models.neurons._if_kernel", raising=False)
    from eventsim.engine import neuron_loop
    monkeypatch.setattr(neuron_loop, "_compiled", {})
    k = cpu_kernels.compiled("eventsim.models.neurons._if_kernel")
    assert callable(k.update_blocks) and callable(k.advance)
    assert not [p for p in cache.rglob("*.py")], "a source file was written into the cache"


def test_a_changed_model_gets_a_new_cache_entry(tmp_path, monkeypatch):
    """numba checks a cached function against its own file only: the loop compiled for a
    model must be cached under a name that changes with the model's source."""
    import importlib
    import sys
    from eventsim.engine import cpu_kernels, neuron_loop
    src = (Path(__file__).resolve().parents[1] / "models" / "neurons" / "_if_kernel.py").read_text()
    monkeypatch.syspath_prepend(str(tmp_path))
    tags = []
    for edit in ("", "\n# an edit\n"):
        (tmp_path / "toy_copy_kernel.py").write_text(src + edit)
        sys.modules.pop("toy_copy_kernel", None)
        importlib.invalidate_caches()
        tags.append(neuron_loop.source_tag(neuron_loop, importlib.import_module("toy_copy_kernel"), cpu_kernels))
    sys.modules.pop("toy_copy_kernel", None)
    assert tags[0] != tags[1]


# ---------------------------------------------------------------- the Python API
@pytest.fixture(scope="module")
def small_net():
    sc = eventsim.load(str(SMALL), duration=10.0)
    return eventsim.build_network(sc)


@pytest.mark.parametrize("threads", [0, -1, 2.5, True, "2"])
def test_the_api_validates_threads_as_the_cli_does(small_net, threads, capsys):
    """Defect: threads=0 and threads=2.5 were accepted silently."""
    if threads == "2":             # a string of digits is what the CLI gets: accepted there
        with pytest.raises(ArgumentError):
            eventsim.Simulation(small_net, threads=threads)
        return
    with pytest.raises(ValueError) as exc:
        eventsim.Simulation(small_net, threads=threads)
    assert isinstance(exc.value, ArgumentError)
    assert str(exc.value) == f"threads: must be a whole number >= 1, got {threads!r}"
    if isinstance(threads, int) and not isinstance(threads, bool):
        with pytest.raises(SystemExit):
            cli(["run", str(SMALL), "--threads", str(threads)])
        assert f"argument --threads: must be a whole number >= 1, got {threads!r}" in capsys.readouterr().err


@pytest.mark.parametrize("until", [float("nan"), float("inf"), "5", None])
def test_run_until_must_be_a_finite_time(small_net, until):
    """Defect: run(until=nan) was accepted."""
    sim = eventsim.Simulation(small_net)
    with pytest.raises(ValueError, match=r"^until: must be a finite number of ms, got"):
        sim.run(until)
    assert sim.t == 0.0
    sim.run(5.0)
    with pytest.raises(ArgumentError, match=r"until: must be >= 5 ms \(the current time\), got 1.0"):
        sim.run(1.0)


def test_unknown_names_are_key_errors_that_say_what_exists(small_net):
    """Defect: sim.spikes("nope") raised a bare KeyError('nope')."""
    sim = eventsim.Simulation(small_net)
    with pytest.raises(KeyError) as exc:
        sim.spikes("exx")
    assert isinstance(exc.value, UnknownNameError)
    assert str(exc.value) == "population: no population named 'exx' (known: exc, pattern); did you mean 'exc'?"
    with pytest.raises(UnknownNameError, match="projection: no projection named 'nope'"):
        sim.weights("nope")


def test_a_checkpoint_of_an_earlier_run_is_never_left_beside_a_new_one(clean_run, tmp_path, capsys):
    """A stale OUT.h5.ckpt next to a new OUT.h5 would be taken for its checkpoint."""
    out = tmp_path / "out.h5"
    ckpt = tmp_path / "out.h5.ckpt"
    ckpt.write_bytes(b"state of an earlier run")
    assert cli(["run", str(SMALL), "-o", str(out), "--quiet"]) == 2
    assert f"{ckpt} exists (the checkpoint of an earlier run); pass --force" in capsys.readouterr().err
    assert ckpt.read_bytes() == b"state of an earlier run" and not out.exists()
    assert cli(["run", str(SMALL), "-o", str(out), "--quiet", "--force"]) == 0
    assert out.exists() and not ckpt.exists()


def test_version_and_a_warning_for_more_threads_than_cores(capsys):
    with pytest.raises(SystemExit) as exc:
        cli(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"eventsim {eventsim.__version__}"
    import numba
    many = numba.config.NUMBA_NUM_THREADS + 5
    assert cli(["run", str(SMALL), "--threads", str(many), "--duration", "5", "-o", "/proc/x.h5"]) == 2
    err = capsys.readouterr().err
    assert f"warning: --threads {many} is more than the {numba.config.NUMBA_NUM_THREADS} cores" in err


def test_validate_says_its_figures_are_estimates(tmp_path, capsys):
    """Defect: `validate` said "synapses: 2200" for a network that builds 2209."""
    s = tmp_path / "p.toml"
    s.write_text(SMALL.read_text().replace('rule = "fixed_indegree"\nindegree = 20',
                                           'rule = "fixed_probability"\np = 0.1'))
    assert 'rule = "fixed_probability"' in s.read_text()
    assert cli(["validate", str(s)]) == 0
    out = capsys.readouterr().out
    import re
    assert "estimates" in out and re.search(r"synapses \(expected; fixed_probability draws vary\): \d+", out), out


def test_warnings_are_one_clean_line(clean_run, tmp_path):
    """Defect: warnings were printed with Python source lines."""
    import subprocess
    import sys
    partial = tmp_path / "cut.h5"
    shutil.copy(clean_run, partial)
    with h5py.File(partial, "r+") as f:
        f.attrs["complete"] = False
        f.attrs["t_committed"] = 100.0
    proc = subprocess.run([sys.executable, "-m", "eventsim.cli", "analyze", str(partial)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines and all(ln.startswith("eventsim: warning: ") for ln in lines), proc.stderr
    assert "the run did not complete" in lines[0]
