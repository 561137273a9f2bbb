"""Run a scenario with the Python API on this process's ranks (started by the MPI tests
under mpiexec, or plainly for one process) and, on rank 0, save every population's
spikes and the counters to an npz file.

    [mpiexec -n R] python tests/mpi_worker.py SCENARIO OUT.npz THREADS
"""
import sys

import numpy as np

import eventsim
from eventsim.engine.comm import world


def main(scenario, out, threads):
    sc = eventsim.load(scenario)
    net = eventsim.build_network(sc)
    sim = eventsim.Simulation(net, seed=sc.seed, threads=int(threads))
    comm = sim.comm
    sim.run(sc.duration / 2)
    sim.run(sc.duration)          # continued: the same as one run
    arrays = {"ranks": np.array(comm.size), "threads": np.array(sim.engine.threads)}
    for p in net.populations:
        t, i = sim.spikes(p.name)
        arrays[f"spikes/{p.name}/t"], arrays[f"spikes/{p.name}/i"] = t, i
    c = sim.counters()          # collective: every rank takes part
    for name, d in c["populations"].items():
        arrays[f"counters/{name}/spike_count"] = d["spike_count"]
        arrays[f"counters/{name}/neuron_updates"] = d["neuron_updates"]
    for name, d in c["projections"].items():
        arrays[f"counters/{name}/synaptic_events"] = np.array(d["synaptic_events"])
    for name, d in c["stimuli"].items():
        arrays[f"counters/{name}/events"] = np.array(d["events"])
    if comm.rank == 0:
        np.savez(out, **arrays)


if __name__ == "__main__":
    assert world() is not None
    main(*sys.argv[1:4])
