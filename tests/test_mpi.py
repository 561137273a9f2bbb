"""MPI ranks (eventsim.engine.comm): rank r owns shards r*S .. r*S+S-1; each window the
ranks exchange their spikes and each delivers to its own neurons. Spikes and counters
must not depend on the number of ranks or threads, down to the bytes. The ranks run
under the mpiexec that comes with the MPICH wheel (``pip install eventsim[mpi]``), with
more ranks than cores where needed."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from test_threads import MIXED

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "tests" / "mpi_worker.py"
MPIEXEC = shutil.which("mpiexec")
ENV4 = dict(os.environ, NUMBA_NUM_THREADS="4")

# the threads tests' mixed network (lif with exp synapses, a Poisson stimulus and
# current steps; alif; a poisson_source; drawn delays) without its state probe, with a
# spike_source driving the lif population
SCENARIO = MIXED[:MIXED.index("[[record.state]]")].replace("[[stimulus]]", """[[population]]
name = "cue"
size = 3
model = "spike_source"
[population.params]
times = [[5.0, 12.5, 40.0], [7.25], [20.0, 20.0001, 33.3]]

[[projection]]
source = "cue"
target = "exc"
rule = "fixed_indegree"
indegree = 2
weight = 300.0
delay = {uniform = [0.3, 1.2], min = 0.3}

[[stimulus]]""", 1)

# with STDP on the projection exc -> adapt (drawn weights and delays)
OLD_EXC_ADAPT = """source = "exc"
target = "adapt"
rule = "fixed_indegree"
indegree = 30
weight = 0.4
"""
assert OLD_EXC_ADAPT in SCENARIO
# (fixed_outdegree: a source's synapses, in construction order, go to neurons of every
# rank in turn, so putting the ranks' weights back in order is tested)
SCENARIO_STDP = SCENARIO.replace(OLD_EXC_ADAPT, """name = "exc_adapt"
source = "exc"
target = "adapt"
rule = "fixed_outdegree"
outdegree = 22
weight = {uniform = [0.0, 0.8]}
plasticity = "stdp"
""").replace("[record]", """[plasticity.stdp]
rule = "stdp"
tau_plus = 20.0
tau_minus = 20.0
lambda = 0.05
alpha = 1.05
mu_plus = 0.0
mu_minus = 0.0
w_max = 0.8

[record]""")

pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="mpiexec not installed (pip install eventsim[mpi])")


def _scenario(tmp_path):
    path = tmp_path / "mixed_mpi.toml"
    path.write_text(textwrap.dedent(SCENARIO))
    return path


def _run(tmp_path, scenario, ranks, threads, *extra):
    out = tmp_path / f"out_{ranks}x{threads}.npz"
    cmd = [sys.executable, str(WORKER), str(scenario), str(out), str(threads), *extra]
    if ranks > 1:
        cmd = [MPIEXEC, "-n", str(ranks)] + cmd
    # a timeout, not a guess of speed: a hung exchange must fail the test, never hang CI
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV4, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    with np.load(out) as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mpi")
    path = _scenario(tmp)
    return path, _run(tmp, path, 1, 1)


META = ("ranks", "threads", "synapses_here")


@pytest.mark.parametrize("ranks,threads,layout", [(2, 1, "part"), (3, 1, "part"), (4, 1, "part"), (2, 2, "part"),
                                                  (2, 1, "replicated")])
def test_ranks_give_the_same_bytes_as_one_process(tmp_path, one_process, ranks, threads, layout):
    """Each rank with the synapses onto its own neurons (or, "replicated", all of them)."""
    path, ref = one_process
    got = _run(tmp_path, path, ranks, threads, layout)
    assert int(got["ranks"]) == ranks and int(got["threads"]) == threads
    if layout == "part":    # rank 0's share of the table: about 1/ranks of it
        assert int(got["synapses_here"]) < int(ref["synapses"]) * 0.75 / (ranks / 2)
    else:
        assert int(got["synapses_here"]) == int(ref["synapses"])
    keys = sorted(k for k in ref if k not in META)
    assert keys == sorted(k for k in got if k not in META)
    for k in keys:
        assert ref[k].dtype == got[k].dtype and ref[k].tobytes() == got[k].tobytes(), k
    # the network did something in every part: the comparison is not of empty arrays
    for pop in ("exc", "adapt", "drive", "cue"):
        assert ref[f"spikes/{pop}/t"].size > 0, pop
    assert ref["state/exc/v"].shape == (240, 4) and ref["state/adapt/a"].shape == (57, 300)
    assert np.all(ref["state/exc/v"] != 0.0) and np.any(ref["state/adapt/a"] != 0.0)
    assert int(ref["counters/noise/events"]) > 0 and ref["counters/exc/neuron_updates"].sum() > 0


def test_stdp_on_a_whole_network_is_refused_under_ranks(tmp_path):
    """STDP on ranks needs each rank's part of the network (its fan-out writes every
    synapse of its table): a whole network is refused on every rank, before running."""
    script = tmp_path / "refuse.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        import eventsim
        from eventsim.errors import BackendUnavailableError
        sc = eventsim.load({str(ROOT / 'scenarios' / 'song2000_stdp.toml')!r})
        net = eventsim.build_network(sc)
        try:
            eventsim.Simulation(net, seed=1)
        except BackendUnavailableError as e:
            print("refused:", e)
    """))
    r = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script), str(_scenario(tmp_path))],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert sum("STDP on 2 ranks needs each rank's part" in x for x in lines) == 2, r.stdout


def test_plain_run_does_not_import_mpi4py():
    r = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import sys, eventsim
        from eventsim.engine.comm import world
        assert world().size == 1
        print("mpi4py" in sys.modules)
    """)], capture_output=True, text=True, timeout=600,
        env={k: v for k, v in os.environ.items() if k not in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE")})
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "False"


def _cli(*args, ranks=2):
    return subprocess.run([MPIEXEC, "-n", str(ranks), sys.executable, "-m", "eventsim.cli", *args],
                          capture_output=True, text=True, timeout=600)


def test_bad_input_under_mpiexec_one_message_exit_2(tmp_path):
    """A bad scenario (every rank finds it) and an existing output (rank 0 finds it, and
    tells the others): exit 2, one message, nothing written, no hang (timeout)."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[simulation]\nduration = -5\n")
    r = _cli("run", str(bad), "-o", str(tmp_path / "x.h5"), ranks=3)
    assert r.returncode == 2, r.stderr[-2000:]
    errors = [x for x in r.stderr.splitlines() if x.startswith("error:")]
    # one report (rank 0's), each problem once: not one per rank
    assert sum("duration" in x for x in errors) == 1 and len(errors) == len(set(errors)), r.stderr
    assert not list(tmp_path.glob("x.h5*"))
    good = _scenario(tmp_path)
    taken = tmp_path / "taken.h5"
    taken.write_bytes(b"keep me")
    r = _cli("run", str(good), "-o", str(taken))
    assert r.returncode == 2, r.stderr[-2000:]
    errors = [x for x in r.stderr.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and "exists" in errors[0], r.stderr
    assert taken.read_bytes() == b"keep me"


def test_rank_killed_mid_run_leaves_committed_spikes(tmp_path):
    """Rank 1 dies (SIGKILL) right after its 4th commit (40 ms of simulated time): mpiexec
    takes the run down (no hang: timeout), and rank 0's OUT.h5.partial holds exactly the
    one-process run's spikes up to its t_committed."""
    from test_crash_safety import SCENARIO as LONG, _check_partial, _read_spikes
    ref = tmp_path / "ref.h5"
    r = subprocess.run([sys.executable, "-m", "eventsim.cli", "run", str(LONG), "-o", str(ref), "--quiet",
                        "--threads", "1"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    out = tmp_path / "out.h5"
    r = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(ROOT / "tests" / "mpi_kill.py"), "10", "1", "4",
                        "--", "run", str(LONG), "-o", str(out), "--quiet", "--threads", "1"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode != 0
    t_c = _check_partial(out.with_name("out.h5.partial"), _read_spikes(ref))
    assert t_c >= 30.0    # rank 0 committed before rank 1 died (they go window by window together)


def test_parts_of_the_network_cover_it_once(tmp_path):
    """build_network(part=(r, R)): rank r's table holds exactly the synapses of the whole
    table onto rank r's neurons (eventsim.network.partition), in the same order per
    source, with the same weights and delays; together the parts hold every synapse
    once. The whole network's delay range is known to every part."""
    import eventsim
    from eventsim.network.partition import owner_rank
    sc = eventsim.load(str(_scenario(tmp_path)))
    full = eventsim.build_network(sc)
    src = full.sources()
    for R in (2, 3, 4):
        owner = owner_rank(full.populations, full.n_neurons, R)
        assert set(np.unique(owner[full.target])) == set(range(R))   # every rank receives something
        total = 0
        for r in range(R):
            part = eventsim.build_network(sc, part=(r, R))
            sel = owner[full.target] == r
            assert np.array_equal(part.sources(), src[sel])
            assert np.array_equal(part.target, full.target[sel])
            assert np.array_equal(part.weight, full.weight[sel])
            assert np.array_equal(part.delays(), full.delays()[sel])
            assert np.array_equal(part.proj, full.proj[sel])
            assert (part.min_delay(), part.max_delay()) == (full.min_delay(), full.max_delay())
            assert part.total_synapses == full.n_synapses
            total += part.n_synapses
        assert total == full.n_synapses


def test_parts_drawn_twice_for_large_networks_are_the_same(tmp_path, monkeypatch):
    """A network too large to hold its projections while assembling draws each one twice
    (memory estimate: regenerate); a rank's part is then cut at each draw: the same part."""
    import eventsim
    import eventsim.network.build as B
    sc = eventsim.load(str(_scenario(tmp_path)))
    held = [eventsim.build_network(sc, part=(r, 2)) for r in range(2)]
    estimate = B.estimate_memory
    monkeypatch.setattr(B, "estimate_memory", lambda *a, **k: dict(estimate(*a, **k), regenerate=True))
    for r in range(2):
        redrawn = B.build_network(sc, part=(r, 2), check_memory=False)
        for k in ("indptr", "target", "weight", "proj"):
            assert np.array_equal(getattr(redrawn, k), getattr(held[r], k)), k
        assert np.array_equal(redrawn.delays(), held[r].delays())
        assert redrawn.delay_range == held[r].delay_range
    # the construction-order keys of a plastic projection, too
    stdp = tmp_path / "stdp.toml"
    stdp.write_text(textwrap.dedent(SCENARIO_STDP))
    sc = eventsim.load(str(stdp))
    redrawn = B.build_network(sc, part=(1, 2), check_memory=False)
    monkeypatch.setattr(B, "estimate_memory", estimate)
    held = B.build_network(sc, part=(1, 2), check_memory=False)
    assert list(redrawn.part_order) == list(held.part_order) == [sc_index(sc, "exc_adapt")]
    for k in held.part_order:
        assert np.array_equal(redrawn.part_order[k], held.part_order[k])
        assert held.part_order[k].size == int((held.proj == k).sum()) > 0


def sc_index(scenario, name):
    return [p.get("name") for p in scenario.projections].index(name)


def test_validate_estimates_each_ranks_part(tmp_path):
    """`eventsim validate --ranks R`: each rank's synapses as its built part has them
    (fixed in-degrees: exact), its table about 1/R of the whole; --ranks 0 is exit 2."""
    import json

    import eventsim
    path = _scenario(tmp_path)
    sc = eventsim.load(str(path))
    for R in (2, 3):
        r = subprocess.run([sys.executable, "-m", "eventsim.cli", "validate", str(path), "--ranks", str(R), "--json"],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        est = json.loads(r.stdout)
        assert len(est["per_rank"]) == R
        for rank, d in enumerate(est["per_rank"]):
            assert d["synapses"] == eventsim.build_network(sc, part=(rank, R)).n_synapses
            assert d["synapse_bytes"] < est["synapse_bytes"] * 1.5 / R
            assert d["peak_bytes"] < est["peak_bytes"]
    r = subprocess.run([sys.executable, "-m", "eventsim.cli", "validate", str(path), "--ranks", "0"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "ranks" in r.stderr and "Traceback" not in r.stderr


def test_command_line_with_state_probes_same_file_on_ranks(tmp_path):
    """`mpiexec -n R eventsim run` with a state probe whose neurons lie on every rank:
    every dataset of the file (spikes, report, counters) as one process writes it."""
    from test_threads import _assert_same_output, _datasets
    path = tmp_path / "probed.toml"
    path.write_text(textwrap.dedent(SCENARIO + MIXED[MIXED.index("[[record.state]]"):]))
    one = tmp_path / "one.h5"
    r = subprocess.run([sys.executable, "-m", "eventsim.cli", "run", str(path), "-o", str(one), "--quiet",
                        "--threads", "1"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert any("report" in k for k in _datasets(one)), sorted(_datasets(one))
    for ranks in (2, 3):
        out = tmp_path / f"ranks{ranks}.h5"
        r = _cli("run", str(path), "-o", str(out), "--quiet", "--threads", "1", ranks=ranks)
        assert r.returncode == 0, r.stderr[-2000:]
        _assert_same_output(one, out)


@pytest.mark.parametrize("ranks,threads", [(2, 1), (3, 1), (4, 1), (2, 2)])
def test_stdp_on_ranks_same_bytes(tmp_path, ranks, threads):
    """A plastic synapse lives with its target: on ranks, each rank's STDP fan-out
    updates the synapses onto its own neurons. Spikes, counters (plastic updates
    included) and state samples as in one process."""
    path = tmp_path / "stdp.toml"
    path.write_text(textwrap.dedent(SCENARIO_STDP))
    ref = _run(tmp_path, path, 1, 1)
    got = _run(tmp_path, path, ranks, threads)
    keys = sorted(k for k in ref if k not in META)
    assert keys == sorted(k for k in got if k not in META)
    for k in keys:
        assert ref[k].tobytes() == got[k].tobytes(), k
    assert int(ref["counters/exc_adapt/plasticity_updates"]) > 1000


def test_command_line_stdp_weights_same_file_on_ranks(tmp_path):
    """STDP with the final weights, weight samples and weight events recorded: rank 0
    gathers every rank's synapses of the projection back into the whole table's order,
    and their logged transmissions into the order they happened; the file (spikes,
    counters, weights, samples, events) as one process writes it, on 2 and 3 ranks."""
    from test_threads import _assert_same_output, _datasets
    path = tmp_path / "stdp_weights.toml"
    path.write_text(textwrap.dedent(SCENARIO_STDP).replace('[record]\nspikes = "all"',
                    '[record]\nspikes = "all"\nweights = ["exc_adapt"]\nweights_interval = 20.0\n'
                    'weight_events = ["exc_adapt"]'))
    one = tmp_path / "one.h5"
    r = subprocess.run([sys.executable, "-m", "eventsim.cli", "run", str(path), "-o", str(one), "--quiet",
                        "--threads", "1"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    names = sorted(_datasets(one))
    assert any(k.startswith("weights/exc_adapt/samples") for k in names) and "weights/exc_adapt/weight" in names, names
    assert "weight_events/exc_adapt/weight" in names, names
    for ranks in (2, 3):
        out = tmp_path / f"ranks{ranks}.h5"
        r = _cli("run", str(path), "-o", str(out), "--quiet", "--threads", "1", ranks=ranks)
        assert r.returncode == 0, r.stderr[-2000:]
        _assert_same_output(one, out)
