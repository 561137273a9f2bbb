"""Regression test: numba caches of a source tree are dropped when any of its sources
changes (a kernel calling another module's model function kept stale code otherwise)."""
from eventsim import _jitcache


def test_changed_sources_drop_the_numba_caches(tmp_path):
    src = tmp_path / "pkg"
    (src / "__pycache__").mkdir(parents=True)
    (src / "mod.py").write_text("x = 1\n")
    kernels = tmp_path / "cache" / "kernels"
    kernels.mkdir(parents=True)
    nbi = src / "__pycache__" / "mod.f-1.py311.nbi"

    def make_caches():
        nbi.write_text("cache")

    make_caches()
    _jitcache.ensure_fresh([src], kernels)      # first check: no record yet, caches dropped
    assert not nbi.exists()
    make_caches()
    _jitcache.ensure_fresh([src], kernels)      # sources unchanged: caches kept
    assert nbi.exists()
    (src / "mod.py").write_text("x = 2\n")      # a source edited
    _jitcache.ensure_fresh([src], kernels)
    assert not nbi.exists()
