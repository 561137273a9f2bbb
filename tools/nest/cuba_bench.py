"""NEST's figure for the peer comparison (bench/compare_peers.py): the CUBA benchmark
(Vogels & Abbott 2005, Brette et al. 2007) as scenarios/brette2007_cuba.toml, printed as one
JSON line like tools/nest/brunel_bench.py's.

Run in a separate venv (NEST is never a dependency of eventsim):

    python -m venv /tmp/nestvenv && /tmp/nestvenv/bin/pip install nest-simulator numpy
    /tmp/nestvenv/bin/python tools/nest/cuba_bench.py [--duration MS] [--threads N]

Model: iaf_psc_exp (NEST's grid model: resolution 0.1 ms, spikes on the grid), 3200
excitatory and 800 inhibitory neurons, C_m 250 pF, tau_m 20 ms, E_L -49 mV, V_th -50 mV,
V_reset -60 mV, t_ref 5 ms, tau_syn_ex 5 ms, tau_syn_in 10 ms, I_e 0; pairwise_bernoulli
p = 0.02 from each population onto both (no autapses, as the scenario), weights 20.25 pA
(excitatory) and -112.5 pA (inhibitory), delay 0.1 ms; V_m(0) uniform in [-60, -50] mV; no
external input. Timings as tools/nest/brunel_bench.py: simulate_s is nest.Simulate alone;
recurrent_synaptic_events is spikes x out-degree of the sender (exact, from
GetConnections).
"""
import json
import resource
import time

import numpy as np
from kernel import start


def main():
    args, nest, t_import = start(__doc__.splitlines()[0])
    NE, NI, p = 3200, 800, 0.02
    t0 = time.perf_counter()
    params = {"C_m": 250.0, "tau_m": 20.0, "E_L": -49.0, "V_th": -50.0, "V_reset": -60.0,
              "t_ref": 5.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0, "I_e": 0.0}
    pop = nest.Create("iaf_psc_exp", NE + NI, params=params)
    pop.V_m = nest.random.uniform(-60.0, -50.0)
    exc, inh = pop[:NE], pop[NE:]
    rec = nest.Create("spike_recorder")
    conn = {"rule": "pairwise_bernoulli", "p": p, "allow_autapses": False}
    nest.Connect(exc, pop, conn, {"synapse_model": "static_synapse", "weight": 20.25, "delay": 0.1})
    nest.Connect(inh, pop, conn, {"synapse_model": "static_synapse", "weight": -112.5, "delay": 0.1})
    nest.Connect(pop, rec)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    nest.Simulate(args.duration)
    simulate_s = time.perf_counter() - t0
    first = pop[0].global_id
    senders = np.asarray(rec.get("events")["senders"]) - first
    sources = np.asarray(nest.GetConnections(source=pop, target=pop).get("source")) - first
    count = np.bincount(senders, minlength=NE + NI)
    out_degree = np.bincount(sources, minlength=NE + NI)
    n_exc, n_inh = int(count[:NE].sum()), int(count[NE:].sum())
    recurrent = int((count * out_degree).sum())
    sec = args.duration / 1000.0
    print(json.dumps(dict(
        benchmark="brette2007_cuba", simulator="nest " + nest.__version__, threads=args.threads,
        duration_ms=args.duration, import_s=round(t_import, 3), build_s=round(build_s, 3),
        simulate_s=round(simulate_s, 3), spikes=n_exc + n_inh,
        rate_hz=dict(exc=round(n_exc / NE / sec, 3), inh=round(n_inh / NI / sec, 3)),
        recurrent_synaptic_events=recurrent, events_per_s=round(recurrent / max(simulate_s, 1e-9)),
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        synapses=int(sources.size))))


if __name__ == "__main__":
    main()
