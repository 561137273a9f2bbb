"""Communicators: the only place that knows about MPI.

A run under ``mpiexec -n R`` is R processes (ranks); rank r owns shards r*S .. r*S+S-1
of the R*S shards of the network (S: its threads; eventsim.engine.cpu). Each window the
ranks exchange the spikes of their shards (every rank then delivers the same ordered
list to its own neurons) and at the end they sum their counters. The window loop asks
a communicator for exactly that:

- ``rank``, ``size``: this process's place and how many there are;
- ``allgather(t, gid)``: the (time, global id) spike arrays of every rank, concatenated
  in rank order (MPI Allgatherv);
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


class LocalComm:
    """One process: the exchange is the identity, sums are the arrays themselves."""

    rank = 0
    size = 1

    def allgather(self, t, gid):
        return t, gid

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

    def allgather(self, t, gid):
        MPI = self._MPI
        counts = np.array(self.comm.allgather(int(t.size)), dtype=np.int64)
        displ = np.concatenate([[0], np.cumsum(counts)[:-1]])
        t_all = np.empty(int(counts.sum()))
        id_all = np.empty(int(counts.sum()), dtype=np.int64)
        self.comm.Allgatherv(np.ascontiguousarray(t, dtype=np.float64), [t_all, counts, displ, MPI.DOUBLE])
        self.comm.Allgatherv(np.ascontiguousarray(gid, dtype=np.int64), [id_all, counts, displ, MPI.INT64_T])
        return t_all, id_all

    def sum(self, a):
        a = np.ascontiguousarray(a)
        out = np.empty_like(a)
        self.comm.Allreduce(a, out, op=self._MPI.SUM)
        return out

    def broadcast(self, obj):
        return self.comm.bcast(obj, root=0)


LOCAL = LocalComm()


def launched_size() -> int:
    """The number of ranks an MPI launcher started this process among (1 without one)."""
    for name in _SIZE_VARS:
        v = os.environ.get(name)
        if v and v.isdigit():
            return int(v)
    return 1


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
