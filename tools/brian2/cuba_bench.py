"""Brian2's figure for the peer comparison (bench/compare_peers.py): the CUBA benchmark
(Vogels & Abbott 2005, Brette et al. 2007) as scenarios/brette2007_cuba.toml, Brian2's
cpp_standalone device, printed as one JSON line like tools/nest/cuba_bench.py's.

Run in a separate venv (Brian2 is never a dependency of eventsim; g++ compiles the project):

    python -m venv /tmp/brianvenv && /tmp/brianvenv/bin/pip install brian2 "numpy<2.4"
    /tmp/brianvenv/bin/python tools/brian2/cuba_bench.py [--duration MS] [--threads N]

Model (Brian2's CUBA example in mV, the scenario's currents divided by c_m = 250 pF times
tau_m): 3200 excitatory and 800 inhibitory neurons,
tau_m dv/dt = ge + gi - (v - El), dge/dt = -ge / 5 ms, dgi/dt = -gi / 10 ms, El -49 mV,
threshold v >= -50 mV, reset -60 mV, t_ref 5 ms (v held, ge and gi go on; Brian2's
"unless refractory"), exact integration, dt 0.1 ms; every pair connected with
probability 0.02, no autapses, ge += 1.62 mV from an excitatory spike and gi -= 9 mV from an
inhibitory one (20.25 pA and -112.5 pA), delay 0.1 ms; V(0) uniform in [-60, -50] mV;
no external input. Brian2 stamps a spike at the start of the step in which it was found,
NEST at its end: t_ref is given as 5.1 ms so that v is held in the same 50 steps as in
NEST's iaf_psc_exp (tools/nest/cuba_bench.py). The input of a spike found in step k enters
ge/gi at the end of step k + 1 and v from step k + 2 on, as in iaf_psc_exp with a 0.1 ms
delay.

Reported (seconds, see tools/brian2/standalone.py): import_s, build_s (the model in
Python), compile_s (code generation and compilation), binary_s (the standalone binary's
whole run, connectivity generation included), simulate_s (the run loop alone:
``device._last_run_time``), recurrent_synaptic_events (spikes x out-degree of the sender,
exact), events_per_s (recurrent events / simulate_s), peak_rss_bytes. --threads 1 builds
serial code (no OpenMP); N > 1 sets ``prefs.devices.cpp_standalone.openmp_threads = N``.
"""
import time

import standalone


def main():
    args, t_import, build_dir, rss_file = standalone.start(__doc__.splitlines()[0], "brian2_cuba_")
    import brian2 as b2
    import numpy as np
    from brian2 import mV, ms
    t0 = time.perf_counter()
    dt = b2.defaultclock.dt
    NE, NI, p = 3200, 800, 0.02
    ns = dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV, El=-49 * mV,
              we=1.62 * mV, wi=-9.0 * mV, NE=NE)
    eqs = """
    dv/dt = (ge + gi - (v - El)) / taum : volt (unless refractory)
    dge/dt = -ge / taue : volt
    dgi/dt = -gi / taui : volt
    """
    P = b2.NeuronGroup(NE + NI, eqs, threshold="v >= Vt", reset="v = Vr", refractory=5 * ms + dt,
                       method="exact", namespace=ns)
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    Ce = b2.Synapses(P[:NE], P, on_pre="ge_post += we", delay=0.1 * ms, namespace=ns)
    Ce.connect(condition="i != j", p=p)
    Ci = b2.Synapses(P[NE:], P, on_pre="gi_post += wi", delay=0.1 * ms, namespace=ns)
    Ci.connect(condition="i + NE != j", p=p)
    mon = b2.SpikeMonitor(P)
    b2.run(args.duration * ms)
    build_s = time.perf_counter() - t0

    t = standalone.build_and_run(build_dir, rss_file)
    count = mon.count[:]
    out_degree = np.concatenate([np.bincount(np.asarray(Ce.i[:]), minlength=NE),
                                 np.bincount(np.asarray(Ci.i[:]), minlength=NI)])
    standalone.cleanup(build_dir)
    standalone.report("brette2007_cuba", args, t_import, build_s, t, count, out_degree, NE, NI,
                      synapses=int(out_degree.sum()))


if __name__ == "__main__":
    main()
