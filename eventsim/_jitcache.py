"""Keep numba's on-disk cache consistent with the sources.

numba checks a cached function against its own source file only: a kernel that calls
a model function from another module keeps its stale compiled code after that module
is edited. eventsim therefore hashes all of its Python sources (eventsim/ and models/)
at import and, when the hash differs from the one recorded for this source tree,
deletes the tree's numba cache files and the generated kernels before anything is
compiled. Installed packages never change, so this costs one hash (a few ms).

The hash is recorded in a private cache folder (``cache_dir``): whoever can write there
decides which compiled code is deleted, so it must be this user's alone.
Functions that bind another module's functions (a neuron model's loop, compiled by
eventsim.engine.neuron_loop for models inside or outside this tree) carry a hash of
those sources in their cache name instead.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def _private(folder: Path) -> str:
    """Why ``folder`` is not a private folder of this user ("" if it is): it must be owned
    by us and writable by nobody else, or others could plant code that we would run."""
    st = folder.stat()
    if st.st_uid != os.getuid():
        return f"{folder} belongs to another user (uid {st.st_uid})"
    if st.st_mode & 0o022:
        return f"{folder} is writable by others (mode {st.st_mode & 0o777:o})"
    return ""


def _make_private(folder: Path) -> str:
    """Create ``folder`` (mode 0700) if needed; "" when it is private, else why not."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for f in (folder, folder / "kernels"):
            f.mkdir(mode=0o700, exist_ok=True)
            why = _private(f)
            if why:
                return why
        if not os.access(folder / "kernels", os.W_OK):
            return f"{folder / 'kernels'} is not writable"
    except OSError as exc:
        return f"cannot create {folder} ({exc.strerror or exc})"
    return ""


def cache_dir() -> Path:
    """eventsim's private cache folder: ``$EVENTSIM_CACHE_DIR/kernels`` (refused unless
    private), else ``~/.cache/eventsim/kernels``, else a per-user folder in the temp
    folder (``eventsim-cache-<uid>``, created 0700). Each must be owned by this user and
    writable by no one else: never a shared folder where another user could plant code."""
    env = os.environ.get("EVENTSIM_CACHE_DIR")
    if env:
        why = _make_private(Path(env))
        if why:
            raise RuntimeError(f"EVENTSIM_CACHE_DIR: {why}; give a folder that only you can write")
        return Path(env) / "kernels"
    problems = []
    for cand in (Path(os.path.expanduser("~")) / ".cache" / "eventsim",
                 Path(tempfile.gettempdir()) / f"eventsim-cache-{os.getuid()}"):
        why = _make_private(cand)
        if not why:
            return cand / "kernels"
        problems.append(why)
    raise RuntimeError("no private cache folder (" + "; ".join(problems)
                       + "); set EVENTSIM_CACHE_DIR to a folder that only you can write")


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
        tmp = stamp.with_suffix(f".{os.getpid()}")
        tmp.write_text(current)
        os.replace(tmp, stamp)
    except OSError:
        pass  # a read-only install or cache folder: nothing to refresh
