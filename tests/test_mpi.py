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

pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="mpiexec not installed (pip install eventsim[mpi])")


def _scenario(tmp_path):
    path = tmp_path / "mixed_mpi.toml"
    path.write_text(textwrap.dedent(SCENARIO))
    return path


def _run(tmp_path, scenario, ranks, threads):
    out = tmp_path / f"out_{ranks}x{threads}.npz"
    cmd = [sys.executable, str(WORKER), str(scenario), str(out), str(threads)]
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


@pytest.mark.parametrize("ranks,threads", [(2, 1), (3, 1), (4, 1), (2, 2)])
def test_ranks_give_the_same_bytes_as_one_process(tmp_path, one_process, ranks, threads):
    path, ref = one_process
    got = _run(tmp_path, path, ranks, threads)
    assert int(got["ranks"]) == ranks and int(got["threads"]) == threads
    keys = sorted(k for k in ref if k not in ("ranks", "threads"))
    assert keys == sorted(k for k in got if k not in ("ranks", "threads"))
    for k in keys:
        assert ref[k].dtype == got[k].dtype and ref[k].tobytes() == got[k].tobytes(), k
    # the network did something in every part: the comparison is not of empty arrays
    for pop in ("exc", "adapt", "drive", "cue"):
        assert ref[f"spikes/{pop}/t"].size > 0, pop
    assert int(ref["counters/noise/events"]) > 0 and ref["counters/exc/neuron_updates"].sum() > 0


def test_stdp_and_probes_are_refused_under_ranks(tmp_path):
    """What does not run on several ranks yet says so, on every rank, before running."""
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
        sc = eventsim.load(sys.argv[1])
        sim = eventsim.Simulation(eventsim.build_network(sc), seed=1)
        try:
            sim.record_state("exc", ["v"])
        except BackendUnavailableError as e:
            print("refused:", e)
    """))
    r = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script), str(_scenario(tmp_path))],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert sum("STDP does not run on several ranks" in x for x in lines) == 2, r.stdout
    assert sum("state probes do not run on several ranks" in x for x in lines) == 2, r.stdout


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
