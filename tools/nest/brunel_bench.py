"""NEST's figure for issue 3's comparison: Brunel (2000) model A as scenarios/brunel2000_ai.toml,
on one thread, printed as one JSON line like bench/brunel.py's.

Run in a separate venv (NEST is never a dependency of eventsim):

    python -m venv /tmp/nestvenv && /tmp/nestvenv/bin/pip install nest-simulator numpy
    /tmp/nestvenv/bin/python tools/nest/brunel_bench.py [--duration MS] [--threads N]

Model: iaf_psc_delta, NE 10000, NI 2500, CE 1000, CI 250 (fixed in-degree, autapses and
multapses allowed as in NEST's brunel_delta example), J 0.1 mV, g 5, eta 2, delay 1.5 ms,
tau_m 20 ms, C_m 250 pF, V_th 20 mV, V_reset 10 mV, t_ref 2 ms, E_L 0, V_m(0) 0; one
poisson_generator at eta * nu_thr * CE (independent trains per target), resolution 0.1 ms.
"""
import json
import resource
import time

from kernel import start


def main():
    args, nest, t_import = start(__doc__.splitlines()[0])
    NE, NI, CE, CI = 10000, 2500, 1000, 250
    J, g, eta, D = 0.1, 5.0, 2.0, 1.5
    tau_m, theta = 20.0, 20.0
    nu_th = theta / (J * CE * tau_m)
    p_rate = 1000.0 * eta * nu_th * CE
    t0 = time.perf_counter()
    params = {"C_m": 250.0, "tau_m": tau_m, "t_ref": 2.0, "E_L": 0.0, "V_reset": 10.0, "V_m": 0.0,
              "V_th": theta}
    exc = nest.Create("iaf_psc_delta", NE, params=params)
    inh = nest.Create("iaf_psc_delta", NI, params=params)
    noise = nest.Create("poisson_generator", params={"rate": p_rate})
    rec = nest.Create("spike_recorder")
    nest.CopyModel("static_synapse", "excitatory", {"weight": J, "delay": D})
    nest.CopyModel("static_synapse", "inhibitory", {"weight": -g * J, "delay": D})
    nest.Connect(noise, exc + inh, syn_spec="excitatory")
    nest.Connect(exc, exc + inh, {"rule": "fixed_indegree", "indegree": CE}, "excitatory")
    nest.Connect(inh, exc + inh, {"rule": "fixed_indegree", "indegree": CI}, "inhibitory")
    nest.Connect(exc + inh, rec)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    nest.Simulate(args.duration)
    simulate_s = time.perf_counter() - t0
    ev = rec.get("events")
    senders = ev["senders"]
    n_exc = int((senders <= NE).sum())
    n_inh = int(senders.size - n_exc)
    recurrent = n_exc * (CE * (NE + NI) // NE) + n_inh * (CI * (NE + NI) // NI)
    print(json.dumps(dict(
        benchmark="brunel2000_ai", simulator="nest " + nest.__version__, threads=args.threads,
        duration_ms=args.duration, import_s=round(t_import, 3), build_s=round(build_s, 3),
        simulate_s=round(simulate_s, 3), spikes=int(senders.size),
        rate_hz=dict(exc=n_exc / NE / (args.duration / 1000.0), inh=n_inh / NI / (args.duration / 1000.0)),
        recurrent_synaptic_events=recurrent, events_per_s=round(recurrent / simulate_s),
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)))


if __name__ == "__main__":
    main()
