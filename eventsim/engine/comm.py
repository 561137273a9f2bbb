"""Communicators: the only place that knows about MPI.

A run under ``mpiexec -n R`` is R processes (ranks); rank r owns shards r*S .. r*S+S-1
of the R*S shards of the network (S: its threads; eventsim.engine.cpu). Each window the
ranks exchange the spikes of their shards (every rank then delivers the same ordered
list to its own neurons) and at the end they sum their counters. The window loop asks
a communicator for exactly that:

- ``rank``, ``size``: this process's place and how many there are;
- ``allgather(t, gid, flags)``: the (time, global id) spike arrays of every rank,
  concatenated in rank order, and the bitwise or of every rank's ``flags`` (requests
  that travel with the window's spikes: STOP, COMMIT): two collectives per window, an
  Allgather of the counts and flags and an Allgatherv of the spikes;
- ``gather(obj)``: every rank's ``obj`` as a list on rank 0 (None on the others);
- ``sum(a)``: the element-wise sum of an integer array over the ranks (Allreduce);
- ``broadcast(obj)``: rank 0's ``obj`` on every rank.

``world()`` gives the communicator of this process: ``LocalComm`` (one process; mpi4py
is not imported) unless the process was started by an MPI launcher with more than one
rank, then ``MpiComm`` over MPI_COMM_WORLD (mpi4py: ``pip install eventsim[mpi]``).
"""
from __future__ import annotations

import os

import numpy as np

# what MPI launchers put in each rank's environment (MPICH/Hydra and Slurm's PMI, Open MPI)
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE")
_RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")
_LOCAL_SIZE_VARS = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE")


class LocalComm:
    """One process: the exchange is the identity, sums are the arrays themselves."""

    rank = 0
    size = 1

    def allgather(self, t, gid, flags=0):
        return t, gid, int(flags)

    def gather(self, obj):
        return [obj]

    def sum(self, a):
        return np.asarray(a)

    def broadcast(self, obj):
        return obj


class MpiComm:
    """MPI_COMM_WORLD through mpi4py."""

    def __init__(self, comm=None):
        from mpi4py import MPI
        self._MPI = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()

    def allgather(self, t, gid, flags=0):
        MPI = self._MPI
        mine = np.array([t.size, int(flags)], dtype=np.int64)
        every = np.empty((self.size, 2), dtype=np.int64)
        self.comm.Allgather(mine, every)
        counts = every[:, 0] * _SPIKE.itemsize       # bytes
        displ = np.concatenate([[0], np.cumsum(counts)[:-1]])
        out = np.empty(int(every[:, 0].sum()), dtype=_SPIKE)
        send = np.empty(t.size, dtype=_SPIKE)
        send["t"], send["gid"] = t, gid
        self.comm.Allgatherv([send.view(np.uint8), MPI.BYTE], [out.view(np.uint8), counts, displ, MPI.BYTE])
        return out["t"].copy(), out["gid"].copy(), int(np.bitwise_or.reduce(every[:, 1]))

    def gather(self, obj):
        return self.comm.gather(obj, root=0)

    def sum(self, a):
        a = np.ascontiguousarray(a)
        out = np.empty_like(a)
        self.comm.Allreduce(a, out, op=self._MPI.SUM)
        return out

    def broadcast(self, obj):
        return self.comm.bcast(obj, root=0)


# the requests a rank can send with its spikes (allgather's flags)
STOP = 1       # a signal asked this rank to stop: every rank stops after this window
COMMIT = 2     # this rank wants a commit (its wall-clock interval, a full state probe)

LOCAL = LocalComm()
_SPIKE = np.dtype([("t", np.float64), ("gid", np.int64)])   # one spike on the wire: 16 bytes


def _env_int(names, default):
    for name in names:
        v = os.environ.get(name, "")
        if v.isdigit():
            return int(v)
    return default


def launched_size() -> int:
    """The number of ranks an MPI launcher started this process among (1 without one)."""
    return _env_int(_SIZE_VARS, 1)


def launched_rank() -> int:
    """This process's rank as the launcher set it (0 without one), known without MPI: who
    prints messages and the summary (rank 0 only)."""
    return _env_int(_RANK_VARS, 0)


def ranks_on_this_node() -> int:
    """How many ranks the launcher started on this machine (they share its cores)."""
    return _env_int(_LOCAL_SIZE_VARS, launched_size())


def world():
    """This process's communicator: MpiComm when started by mpiexec/srun with more than
    one rank, else LocalComm (and mpi4py is not imported)."""
    if launched_size() <= 1:
        return LOCAL
    try:
        return MpiComm()
    except ImportError as exc:
        from eventsim.errors import BackendUnavailableError
        raise BackendUnavailableError(
            f"mpi: started by an MPI launcher with {launched_size()} ranks, but mpi4py is not installed "
            f"({exc}); install it with: pip install 'eventsim[mpi]'") from None


def on_ranks(ranks):
    """For a program's ``--ranks R`` (the benchmarks): when this process was not started by
    an MPI launcher and R > 1, run the program again, with the same arguments, under the
    mpiexec on PATH (the MPICH wheel's) with R ranks; does not return then (SystemExit
    with a message when there is no mpiexec). Otherwise returns at once."""
    import shutil
    import sys
    if int(ranks) <= 1 or launched_size() > 1:
        return
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        raise SystemExit("--ranks needs mpiexec: pip install 'eventsim[mpi]'")
    os.execv(mpiexec, [mpiexec, "-n", str(int(ranks)), sys.executable, *sys.argv])
