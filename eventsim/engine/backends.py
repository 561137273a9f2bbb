"""Backend registry: where a simulation runs is chosen by name, apart from what is simulated."""
from __future__ import annotations

from eventsim.errors import BackendUnavailableError

_REGISTRY = {}


def register_backend(name, factory, available=lambda: (True, "")):
    """factory(network, seed) -> engine; available() -> (ok, reason)."""
    _REGISTRY[name] = (factory, available)


def backend_names():
    return sorted(_REGISTRY)


def require_backend(name):
    """BackendUnavailableError (exit 2) unless backend ``name`` can run here; cheap, so
    callers check before building anything."""
    if name not in _REGISTRY:
        raise BackendUnavailableError(f"backend: unknown backend {name!r} (known: {', '.join(backend_names())})")
    ok, reason = _REGISTRY[name][1]()
    if not ok:
        raise BackendUnavailableError(f"backend: {name!r} cannot run here: {reason}")


def make_engine(name, network, seed, **options):
    """The engine of backend ``name``; ``options`` go to its factory (cpu: threads)."""
    require_backend(name)
    return _REGISTRY[name][0](network, seed, **options)


def _cpu_factory(network, seed, threads=None, comm=None):
    from .cpu import CpuEngine
    return CpuEngine(network, seed, threads=threads, comm=comm)


def _cuda_factory(network, seed, comm=None):
    if comm is not None and comm.size > 1:
        raise BackendUnavailableError(f"mpi: the cuda backend runs in one process, not on {comm.size} ranks; "
                                      "use --backend cpu under mpiexec")
    if getattr(network, "part", None) is not None:
        raise BackendUnavailableError("mpi: the cuda backend simulates a whole network, not a rank's part")
    from .cuda import CudaEngine
    return CudaEngine(network, seed)


def _cuda_available():
    """A CUDA GPU that numba can use, or numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1,
    for tests: same kernels, run on the CPU, very slowly)."""
    try:
        from numba import cuda
        if cuda.is_available():
            return True, ""
        return False, "no CUDA GPU found (numba.cuda.is_available() is False); use --backend cpu"
    except Exception as exc:  # numba-cuda missing or the driver failing
        return False, f"CUDA is unavailable ({exc.__class__.__name__}: {exc}); use --backend cpu"


register_backend("cpu", _cpu_factory)
register_backend("cuda", _cuda_factory, _cuda_available)
