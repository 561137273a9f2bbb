"""Keep numba's on-disk cache consistent with the sources.

numba checks a cached function against its own source file only: a kernel that calls
a model function from another module keeps its stale compiled code after that module
is edited. eventsim therefore hashes all of its Python sources (eventsim/ and models/)
at import and, when the hash differs from the one recorded for this source tree,
deletes the tree's numba cache files and the generated kernels before anything is
compiled. Installed packages never change, so this costs one hash (a few ms).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def _source_roots():
    pkg = Path(__file__).resolve().parent
    roots = [pkg]
    models = pkg.parent / "models"
    if (models / "__init__.py").is_file():
        roots.append(models)
    else:
        try:
            import eventsim.models as m
            roots.append(Path(m.__file__).resolve().parent)
        except ImportError:
            pass
    return roots


def source_hash(roots) -> str:
    h = hashlib.sha1()
    for root in roots:
        for p in sorted(root.rglob("*.py")):
            if "__pycache__" in p.parts:
                continue
            h.update(str(p.relative_to(root.parent)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def ensure_fresh(roots=None, kernels=None):
    """Delete stale numba caches of this source tree (see the module docstring).

    ``roots`` (source folders) and ``kernels`` (the generated-kernel folder) default to
    eventsim's own; tests pass temporary ones."""
    try:
        if roots is None:
            roots = _source_roots()
        if kernels is None:
            from .engine.codegen import cache_dir
            kernels = cache_dir()
        tag = hashlib.sha1(str(roots[0]).encode()).hexdigest()[:12]
        stamp = kernels.parent / f"source-hash-{tag}"
        current = source_hash(roots)
        if stamp.is_file() and stamp.read_text() == current:
            return
        for root in roots:
            for pattern in ("*.nbi", "*.nbc"):
                for f in root.rglob(pattern):
                    f.unlink(missing_ok=True)
        for f in kernels.glob("update_*"):
            if f.is_file():
                f.unlink(missing_ok=True)
        for f in kernels.glob("__pycache__/*.nb[ic]"):
            f.unlink(missing_ok=True)
        tmp = stamp.with_suffix(f".{os.getpid()}")
        tmp.write_text(current)
        os.replace(tmp, stamp)
    except OSError:
        pass  # a read-only install or cache folder: nothing to refresh
