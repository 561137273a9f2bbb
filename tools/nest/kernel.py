"""Shared start of tools/nest/brunel_bench.py and cuba_bench.py: their options, NEST
imported (timed) and its kernel reset to the settings both compare under."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from peer_bench import options, timed_import  # noqa: E402


def start(description):
    """Options --duration (ms, default 1000) and --threads; ``nest`` imported, its messages
    below errors silenced, the kernel reset to a 0.1 ms resolution, --threads threads and
    rng_seed 1. Returns (args, nest, import_s)."""
    args = options(description)
    nest, import_s = timed_import("nest")
    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:
        nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": args.threads, "rng_seed": 1})
    return args, nest, import_s
