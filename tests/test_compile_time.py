"""Compilation is shown and counted apart from simulation (issue 21): a run's
``compile_s`` holds the time numba spent compiling during ``run()``, ``wall_s`` the rest,
and the summary's events/s count simulation only. A fresh numba function, compiled when
first called inside the run, stands in for a kernel compiled on a cold cache."""
from __future__ import annotations

import time
from pathlib import Path

from numba import njit

import eventsim
from eventsim.api import summarize
from eventsim.engine.compiling import watch_compiles

SMALL = Path(__file__).parent / "data" / "scenarios" / "small.toml"


def test_compile_time_is_apart_from_simulation():
    sc = eventsim.load(str(SMALL), duration=20.0)
    # the engine's own kernels, compiled (or loaded) in this process by a first run
    eventsim.Simulation(eventsim.build_network(sc), seed=sc.seed).run(20.0)
    net = eventsim.build_network(sc)
    sim = eventsim.Simulation(net, seed=sc.seed)

    @njit
    def fresh(x):                          # never cached: numba compiles it on first call
        return 2 * x + 1

    step = sim.engine.step_windows
    called = []

    def stepping(t_until, stop_every=()):
        if not called:
            called.append(fresh(3))
        return step(t_until, stop_every)
    sim.engine.step_windows = stepping

    class Bar:
        told = []

        def update(self, ms):
            pass

        def compiling(self, started):
            self.told.append(started)

    t0 = time.perf_counter()
    sim.run(20.0, progress=Bar())
    total = time.perf_counter() - t0
    assert called == [7]
    assert Bar.told == [True, False], "the bar is told when compilation starts and ends"
    assert sim.compile_s > 0.0
    assert 0.0 < sim.wall_s and sim.wall_s + sim.compile_s <= total
    s = summarize(net, sim, sim.counters(), "x.h5", True, build_s=0.0, wall_s=total)
    assert s["compile_s"] == sim.compile_s and s["simulate_s"] == sim.wall_s
    assert s["synaptic_events"] > 0
    assert s["events_per_s"] == s["synaptic_events"] / sim.wall_s      # simulation only


def test_no_compilation_no_compile_time():
    """A second identical run in the same process compiles nothing: compile_s stays 0."""
    sc = eventsim.load(str(SMALL), duration=10.0)
    first = eventsim.Simulation(eventsim.build_network(sc), seed=sc.seed)
    first.run(10.0)
    second = eventsim.Simulation(eventsim.build_network(sc), seed=sc.seed)
    second.run(10.0)
    assert second.compile_s == 0.0 and second.wall_s > 0.0


def test_a_long_compilation_is_announced_on_stderr(capsys):
    """The bar announces a compilation still running after a second, on stderr (stdout
    carries the summary or the one JSON object)."""
    from eventsim.api import _ProgressBar
    bar = _ProgressBar(100.0, 0.0)
    start = bar.bar.start_t
    bar.compiling(True)
    bar._timer.join()              # the announcement's timer has fired: "still compiling"
    bar.compiling(False)
    assert bar.bar.start_t > start, "the estimate leaves the compilation out"
    bar.compiling(True)            # a second compilation is not announced again
    bar.compiling(False)
    bar.close()
    captured = capsys.readouterr()
    assert captured.err.count("eventsim: compiling numba kernels") == 1
    assert "compiling" not in captured.out


def test_compiling_while_the_engine_is_set_up_counts_as_compile_time(tmp_path, monkeypatch, capsys):
    """Kernels compiled while the network is built and the engine set up (5.5 of the quick
    start's 31 s on a cold cache) are announced and reported in compile_s, not in build_s
    or simulate_s. A fresh numba function, compiled in the engine's constructor, stands in."""
    import eventsim.api as api
    sc = eventsim.load(str(SMALL), duration=10.0)
    api.run_scenario(sc, tmp_path / "warm.h5", threads=1)      # the engine's own kernels loaded

    @njit
    def fresh(x):                          # never cached: numba compiles it on first call
        return 3 * x

    class SlowToSetUp(api.Simulation):
        def __init__(self, *args, **kwargs):
            assert fresh(2) == 6
            super().__init__(*args, **kwargs)

    t0 = time.perf_counter()
    with watch_compiles() as w:
        monkeypatch.setattr(api, "Simulation", SlowToSetUp)
        summary = api.run_scenario(sc, tmp_path / "cold.h5", threads=1, progress=True)
        fresh_compile = w.seconds
    total = time.perf_counter() - t0
    assert fresh_compile > 0.0
    assert summary["compile_s"] >= fresh_compile * 0.99       # the constructor's compilation counted
    assert summary["build_s"] + summary["compile_s"] + summary["simulate_s"] <= total
    assert summary["events_per_s"] == summary["synaptic_events"] / summary["simulate_s"]
