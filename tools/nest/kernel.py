"""Shared start of tools/nest/brunel_bench.py and cuba_bench.py: their options, NEST
imported (timed) and its kernel reset to the settings both compare under."""
import argparse
import time


def start(description):
    """Options --duration (ms, default 1000) and --threads; ``nest`` imported, its messages
    below errors silenced, the kernel reset to a 0.1 ms resolution, --threads threads and
    rng_seed 1. Returns (args, nest, import_s)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--duration", type=float, default=1000.0, help="ms (default 1000)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    import nest
    import_s = time.perf_counter() - t0
    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:
        nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": args.threads, "rng_seed": 1})
    return args, nest, import_s
