"""Cost per event of the neuron update, without network effects: one JSON line.

    python bench/event_cost.py [--duration MS] [--threads N]

Two tiny networks of 100 LIF neurons (delta synapses, threshold out of reach, so
nothing but integration happens): one driven only by a 1 MHz Poisson stimulus per
neuron (draws merged inside the update), one only by 1000 poisson_source neurons at
1 kHz through all-to-all synapses (queue, partition, per-block sort, update). Figures:
ns per event of CPU time (time.process_time) for each.
"""
import argparse
import json
import tempfile
import time
from pathlib import Path

import eventsim

LIF = """
[[population]]
name = "n"
size = 100
model = "lif"
[population.params]
tau_m = 20.0
v_th = 1e9
synapse = "delta"
"""
POISSON_ONLY = "[simulation]\nduration = 10.0\n" + LIF + """
[[stimulus]]
name = "s"
kind = "poisson"
rate = 1e6
target = "n"
weight = 0.1
delay = 1.0
"""
ARRIVALS_ONLY = "[simulation]\nduration = 10.0\n" + LIF + """
[[population]]
name = "src"
size = 1000
model = "poisson_source"
[population.params]
rate = 1000.0

[[projection]]
source = "src"
target = "n"
rule = "all_to_all"
weight = 0.1
delay = 1.5
"""


def cost(text, duration, threads):
    path = Path(tempfile.mkdtemp()) / "s.toml"
    path.write_text(text)
    sc = eventsim.load(path)
    sim = eventsim.Simulation(eventsim.build_network(sc), seed=1, threads=threads)
    sim.run(1.0)   # compile outside the timing
    t = time.process_time()
    sim.run(duration)
    dt = time.process_time() - t
    c = sim.counters()
    events = sum(int(x["synaptic_events"]) for x in c["projections"].values()) + \
        sum(int(x["events"]) for x in c["stimuli"].values())
    return round(1e9 * dt / events, 1), events


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=1000.0, help="ms")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    p_ns, p_n = cost(POISSON_ONLY, args.duration, args.threads)
    a_ns, a_n = cost(ARRIVALS_ONLY, args.duration, args.threads)
    print(json.dumps(dict(benchmark="event_cost", poisson_ns_per_event=p_ns, poisson_events=p_n,
                          arrival_ns_per_event=a_ns, arrival_events=a_n, threads=args.threads)))


if __name__ == "__main__":
    main()
