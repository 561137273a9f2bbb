"""MPI exchange cost per window: the time of one ``comm.allgather`` (the window loop's
exchange: an Allgather of counts and flags, an Allgatherv of the spikes), print one JSON
line (rank 0).

    python bench/exchange.py [--ranks R] [--spikes N] [--calls K]

--ranks R (default 2) starts itself again under mpiexec; each rank sends N spikes
(16 bytes each) per call; figures: microseconds per call, bytes received per rank.
"""
import argparse
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--spikes", type=int, default=10, help="spikes per rank per call")
    ap.add_argument("--calls", type=int, default=2000)
    args = ap.parse_args()
    import numpy as np

    from eventsim.engine.comm import on_ranks, world
    on_ranks(args.ranks)
    comm = world()
    t = np.sort(np.random.default_rng(comm.rank).random(args.spikes))
    gid = np.arange(args.spikes, dtype=np.int64) + comm.rank * args.spikes
    for _ in range(200):            # warm-up
        comm.allgather(t, gid, 0)
    t0 = time.perf_counter()
    for _ in range(args.calls):
        t_all, _ids, _flags = comm.allgather(t, gid, 0)
    us = (time.perf_counter() - t0) / args.calls * 1e6
    if comm.rank == 0:
        print(json.dumps(dict(benchmark="exchange", ranks=comm.size, spikes_per_rank=args.spikes,
                              calls=args.calls, us_per_call=round(us, 2),
                              bytes_received_per_rank=int(t_all.size * 16))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
