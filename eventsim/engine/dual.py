"""One source per model equation: compile plain Python functions for the CPU (and the GPU).

Model equations are written once as plain Python functions on scalars and small
arrays. ``compile_functions`` compiles a set of them for one target, so that
calls between them resolve to the compiled versions of the same target:
``numba.njit`` for the CPU, ``numba.cuda.jit(device=True)`` for
the GPU. Nobody keeps two hand-written copies.
"""
from __future__ import annotations

import hashlib
import inspect
import types

from numba import njit


def compile_functions(module_globals: dict, names, target: str = "cpu", inline=(), nrt_free=(), parallel=(),
                      tag: str = "") -> types.SimpleNamespace:
    """Compile ``names`` (in dependency order: callees first) from a module's globals.

    On the CPU, the functions named in ``inline`` are inlined into their callers by
    numba (``inline="always"``): LLVM does not inline calls between separately cached
    numba functions, and a call per event costs a measurable share of the event loop.
    Only small leaf functions of the event loop belong there: inlining a function
    that itself calls others multiplies compile time (the whole lot at once took
    minutes) and adds reference counting of array arguments.
    ``nrt_free`` (cpu): compiled without reference counting of array arguments;
    ``parallel`` (cpu): compiled with numba's parallel=True (prange), and also without, as
    ``<name>_serial`` (one source, the target an argument of compilation: a prange loop
    is a plain loop there, and no thread pool starts). numba's loop fusion is off: two
    prange loops in a row are two launches with every iteration of the first done before
    the second starts (fused, the second loop's work stealing would take blocks of
    shards whose partition, in the first loop, is not done).
    ``tag``: part of each function's cache name; a caller that binds functions of other
    modules into ``module_globals`` passes a hash of their sources (numba checks a cached
    function against its own source file only).
    Returns a namespace with one compiled function per name. Each function's
    global lookups go to a copy of ``module_globals`` in which already-compiled
    names are replaced by their compiled versions.
    """
    ns = dict(module_globals)
    out = {}
    for name in names:
        f = module_globals[name]
        g = types.FunctionType(f.__code__, ns, name, f.__defaults__, f.__closure__)
        g.__module__ = f.__module__
        # the compiling module in the name: a function recompiled by another model module
        # (one source, other records) gets its own numba cache index
        g.__qualname__ = f"{f.__qualname__}__{target}__{module_globals['__name__'].rsplit('.', 1)[-1]}" \
            + (f"__{tag}" if tag else "")
        g.__doc__ = f.__doc__
        if target == "cpu":
            opts = {"_nrt": False} if name in nrt_free else {}
            if name in parallel:
                out[name + "_serial"] = serial_twin(g)
                opts["parallel"] = {"fusion": False}
            compiled = njit(cache=True, inline="always" if name in inline else "never", **opts)(g)
        elif target == "cuda":
            from numba import cuda
            # NVVM-level inlining (forceinline): numba-IR inlining (inline=True) of the
            # whole call tree made the LIF update kernel 1.6 MB of PTX, ~7 min to compile
            # (numba's CUDA simulator knows no forceinline: it runs the Python source)
            from numba import config
            kw = {} if config.ENABLE_CUDASIM else {"forceinline": True}
            compiled = cuda.jit(device=True, **kw)(g)
        else:
            raise ValueError(f"unknown target {target!r}")
        ns[name] = compiled
        out[name] = compiled
    return types.SimpleNamespace(**out)


def source_tag(*modules) -> str:
    """A hash of the modules' sources: compiled code that binds functions of several
    modules is cached under it (numba checks a cached function against its own file only,
    so a changed model, or a changed output function, must change the cache entry)."""
    h = hashlib.sha1()
    for m in modules:
        h.update(inspect.getsource(m).encode())
    return h.hexdigest()[:12]


def serial_twin(f):
    """``f`` (a plain function with prange loops) compiled without parallel=True, under a
    cache name of its own (numba's cache index does not tell the two apart)."""
    g = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__, f.__closure__)
    g.__module__ = f.__module__
    g.__qualname__ = f.__qualname__ + "__serial"
    g.__doc__ = f.__doc__
    return njit(cache=True)(g)
