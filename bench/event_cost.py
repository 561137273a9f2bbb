"""Cost per event of the neuron update, without network effects: one JSON line.

    python bench/event_cost.py [--duration MS] [--threads N] [--synapse delta|exp]

--synapse delta (the default): two tiny networks of 100 LIF neurons (delta synapses,
threshold out of reach, so nothing but integration happens): one driven only by a 1 MHz
Poisson stimulus per neuron (draws merged inside the update), one only by 1000
poisson_source neurons at 1 kHz through all-to-all synapses (queue, partition, per-block
sort, update). Figures: ns per event of CPU time (time.process_time) for each.

--synapse exp: the microcircuit's case. 4000 LIF neurons with exponential synapses
(its parameters, threshold out of reach) get 30 kHz of input each, three inputs per
0.1 ms window as at full scale, from a Poisson stimulus only, from 2000 LIF neurons
firing at about 22 Hz through synapses with the microcircuit's excitatory delays only
(normal 1.5 +- 0.75 ms, at least 0.1: the window is 0.1 ms), or half from each. Figures:
ns per input (CPU time of the run over the inputs delivered, the sources' own updates
and fan-out included) for each.
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


EXP_LIF = """model = "lif"
[population.params]
c_m = 250.0
tau_m = 10.0
v_rest = -65.0
v_reset = -65.0
t_ref = 2.0
synapse = "exp"
tau_syn_ex = 0.5
tau_syn_in = 0.5
"""
EXP_NETWORK = """[simulation]
duration = 10.0
seed = 5

[[population]]
name = "src"
size = 2000
""" + EXP_LIF + """v_th = -50.0
i_e = 380.0
[population.init]
v = {uniform = [-65.0, -50.0]}

[[population]]
name = "n"
size = 4000
""" + EXP_LIF + """v_th = 1e9

[[projection]]
source = "src"
target = "n"
rule = "fixed_indegree"
indegree = SOURCE_INDEGREE
weight = 87.8
delay = {normal = [1.5, 0.75], min = 0.1}
"""
EXP_STIMULUS = """
[[stimulus]]
name = "bg"
kind = "poisson"
target = "n"
rate = 8.0
indegree = POISSON_INDEGREE
weight = 87.8
delay = 1.5
"""


def exp_network(poisson_indegree, source_indegree):
    """The --synapse exp network: 30 kHz per target neuron, poisson_indegree x 8 Hz from
    the stimulus and source_indegree x about 22 Hz from the sources (one synapse at least:
    it sets the window to the delays' minimum, 0.1 ms)."""
    text = EXP_NETWORK.replace("SOURCE_INDEGREE", str(max(source_indegree, 1)))
    if poisson_indegree:
        text += EXP_STIMULUS.replace("POISSON_INDEGREE", str(poisson_indegree))
    return text


def cost(text, duration, threads, warmup=1.0):
    """ns per event (CPU time) of a run of ``duration`` ms after ``warmup`` ms (compilation,
    and the sources' first spikes, outside the timing), and the events counted."""
    path = Path(tempfile.mkdtemp()) / "s.toml"
    path.write_text(text)
    sc = eventsim.load(path)
    sim = eventsim.Simulation(eventsim.build_network(sc), seed=1, threads=threads)

    def events():
        c = sim.counters()
        return (sum(int(x["synaptic_events"]) for x in c["projections"].values())
                + sum(int(x["events"]) for x in c["stimuli"].values()))
    sim.run(warmup)
    e0 = events()
    t = time.process_time()
    sim.run(warmup + duration)
    dt = time.process_time() - t
    n = events() - e0
    return round(1e9 * dt / n, 1), n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=1000.0, help="ms")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--synapse", choices=("delta", "exp"), default="delta")
    args = ap.parse_args()
    if args.synapse == "exp":
        res = dict(benchmark="event_cost", synapse="exp", threads=args.threads)
        for name, (k_poisson, k_source) in (("poisson", (3750, 0)), ("arrival", (0, 1360)),
                                            ("mixed", (1875, 680))):
            ns, n = cost(exp_network(k_poisson, k_source), args.duration, args.threads, warmup=20.0)
            res[f"{name}_ns_per_event"], res[f"{name}_events"] = ns, n
        print(json.dumps(res))
        return
    p_ns, p_n = cost(POISSON_ONLY, args.duration, args.threads)
    a_ns, a_n = cost(ARRIVALS_ONLY, args.duration, args.threads)
    print(json.dumps(dict(benchmark="event_cost", poisson_ns_per_event=p_ns, poisson_events=p_n,
                          arrival_ns_per_event=a_ns, arrival_events=a_n, threads=args.threads)))


if __name__ == "__main__":
    main()
