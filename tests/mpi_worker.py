"""Run a scenario with the Python API on this process's ranks (started by the MPI tests
under mpiexec, or plainly for one process) and, on rank 0, save every population's
spikes and the counters to an npz file.

    [mpiexec -n R] python tests/mpi_worker.py SCENARIO OUT.npz THREADS [replicated]

Each rank builds only the synapses onto its own neurons (build_network(part=...)),
unless "replicated" is given (then every rank holds the whole network).
"""
import sys

import numpy as np

import eventsim
from eventsim.engine.comm import world


def main(scenario, out, threads, replicated=""):
    sc = eventsim.load(scenario)
    comm = world()
    part = (comm.rank, comm.size) if comm.size > 1 and replicated != "replicated" else None
    net = eventsim.build_network(sc, part=part)
    sim = eventsim.Simulation(net, seed=sc.seed, threads=int(threads))
    # state probes across the ranks' neurons (every rank attaches them; rank 0 gets the samples)
    sim.record_state("exc", ["v", "i_syn"], [0, 129, 300, 399], interval=0.25)
    sim.record_state("adapt", ["v", "a"], "all", interval=1.0, start=3.0)
    sim.run(sc.duration / 2)
    sim.run(sc.duration)          # continued: the same as one run
    arrays = {"ranks": np.array(comm.size), "threads": np.array(sim.engine.threads),
              "synapses_here": np.array(net.n_synapses), "synapses": np.array(net.total_synapses)}
    for p in net.populations:
        t, i = sim.spikes(p.name)
        arrays[f"spikes/{p.name}/t"], arrays[f"spikes/{p.name}/i"] = t, i
    for pop in ("exc", "adapt"):
        smp = sim.state_samples(pop)
        if comm.rank == 0:
            arrays[f"state/{pop}/times"] = smp.times
            for v, x in smp.values.items():
                arrays[f"state/{pop}/{v}"] = x
    c = sim.counters()          # collective: every rank takes part
    for name, d in c["populations"].items():
        arrays[f"counters/{name}/spike_count"] = d["spike_count"]
        arrays[f"counters/{name}/neuron_updates"] = d["neuron_updates"]
    for name, d in c["projections"].items():
        arrays[f"counters/{name}/synaptic_events"] = np.array(d["synaptic_events"])
        arrays[f"counters/{name}/plasticity_updates"] = np.array(d["plasticity_updates"])
    for name, d in c["stimuli"].items():
        arrays[f"counters/{name}/events"] = np.array(d["events"])
    if comm.rank == 0:
        np.savez(out, **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:])
