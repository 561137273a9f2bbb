"""Brian2's figure for the peer comparison (bench/compare_peers.py): Brunel (2000) model A as
scenarios/brunel2000_ai.toml, Brian2's cpp_standalone device, printed as one JSON line like
tools/nest/brunel_bench.py's.

Run in a separate venv (Brian2 is never a dependency of eventsim; g++ compiles the project):

    python -m venv /tmp/brianvenv && /tmp/brianvenv/bin/pip install brian2 "numpy<2.4"
    /tmp/brianvenv/bin/python tools/brian2/brunel_bench.py [--duration MS] [--threads N]

Model: NE 10000, NI 2500, CE 1000, CI 250, fixed in-degree drawn as the scenario's rule
(sources drawn with replacement, no autapses; drawn here with numpy, seed 1, and passed to
``Synapses.connect(i=..., j=...)``), J 0.1 mV, g 5, eta 2, delay 1.5 ms, tau_m 20 ms,
theta 20 mV, V_r 10 mV, t_ref 2 ms, V(0) 0, dt 0.1 ms, exact integration of
dv/dt = -v / tau_m; delta synapses (``v_post += w`` on_pre). External drive: a
``PoissonInput`` per neuron, N = CE inputs at eta * nu_thr = 20 Hz (a binomial count per
neuron and step, independent across neurons: the closest Brian2 has to an independent
20 kHz Poisson train per neuron, as NEST's poisson_generator draws a Poisson count per
target and step; a PoissonGroup would need a source per neuron firing at 20 kHz, more than
one spike per 0.1 ms step, or 12.5 million 20 Hz sources).

The schedule reproduces NEST's iaf_psc_delta step by step: in step k, v decays, the inputs
of the step are added, then the threshold (v >= theta) is tested, so thresholds, spike
monitor and reset run 'after_synapses' (Brian2's default tests before the inputs of the
step). A spike found in step k reaches its targets in step k + 15 (1.5 ms) and is seen by
that step's threshold test: Brian2 pushes it to the synapses in step k + 1, so the synaptic
delay is 1.4 ms. Refractoriness as iaf_psc_delta: inputs are dropped and v stays at V_r in
steps k + 1 .. k + 20 (Brian2's conditional write on a variable marked "unless refractory"
drops ``v_post +=`` and the PoissonInput's additions while refractory); Brian2 stamps a
spike at the start of its step and NEST at its end, so t_ref is given as 2.1 ms.

Reported (seconds): import_s (import brian2), build_s (the model in Python, numpy
connectivity included), compile_s (code generation and compilation, a fresh build folder
every run), binary_s (the standalone binary's whole run: loading connectivity, run loop,
writing results), simulate_s (the run loop alone, as the binary measures it:
``device._last_run_time``), recurrent_synaptic_events (spikes x out-degree of the sender,
exact), events_per_s (recurrent events / simulate_s), peak_rss_bytes (the binary's, or the
Python process's if larger). --threads 1 builds serial code (no OpenMP); N > 1 sets
``prefs.devices.cpp_standalone.openmp_threads = N``. The build folder is a temporary
folder, removed at the end.
"""
import time

import standalone


def fixed_indegree(rng, n_src, src0, n_tgt, tgt0, k, same):
    """k sources per target, with replacement; no autapses when source and target are one
    population (draw from n_src - 1 and skip the target itself). Global indices."""
    import numpy as np
    tgt = np.repeat(np.arange(n_tgt, dtype=np.int32), k)
    if same:
        src = rng.integers(0, n_src - 1, size=n_tgt * k, dtype=np.int32)
        src += src >= tgt
    else:
        src = rng.integers(0, n_src, size=n_tgt * k, dtype=np.int32)
    return src + src0, tgt + tgt0


def main():
    args, t_import, build_dir, rss_file = standalone.start(__doc__.splitlines()[0], "brian2_brunel_")
    import brian2 as b2
    import numpy as np
    from brian2 import mV, ms, Hz
    t0 = time.perf_counter()
    dt = b2.defaultclock.dt
    NE, NI, CE, CI = 10000, 2500, 1000, 250
    J, g, eta, D = 0.1 * mV, 5.0, 2.0, 1.5 * ms
    tau_m, theta, V_r, t_ref = 20.0 * ms, 20.0 * mV, 10.0 * mV, 2.0 * ms
    nu_thr = theta / (J * CE * tau_m)
    ns = dict(tau_m=tau_m, theta=theta, V_r=V_r, J_e=J, J_i=-g * J)
    G = b2.NeuronGroup(NE + NI, "dv/dt = -v / tau_m : volt (unless refractory)",
                       threshold="v >= theta", reset="v = V_r", refractory=t_ref + dt,
                       method="exact", namespace=ns)
    G.thresholder["spike"].when = "after_synapses"
    G.thresholder["spike"].order = 0
    G.resetter["spike"].when = "after_synapses"
    G.resetter["spike"].order = 2
    G.v = 0 * mV
    ext = b2.PoissonInput(G, "v", N=CE, rate=eta * nu_thr, weight=J)  # noqa: F841 (run() finds it by name)
    rng = np.random.default_rng(1)
    ee = fixed_indegree(rng, NE, 0, NE, 0, CE, True)
    ei = fixed_indegree(rng, NE, 0, NI, NE, CE, False)
    ie = fixed_indegree(rng, NI, NE, NE, 0, CI, False)
    ii = fixed_indegree(rng, NI, NE, NI, NE, CI, True)
    pre_e, post_e = np.concatenate([ee[0], ei[0]]), np.concatenate([ee[1], ei[1]])
    pre_i, post_i = np.concatenate([ie[0], ii[0]]), np.concatenate([ie[1], ii[1]])
    Se = b2.Synapses(G, G, on_pre="v_post += J_e", delay=D - dt, namespace=ns)
    Se.connect(i=pre_e, j=post_e)
    Si = b2.Synapses(G, G, on_pre="v_post += J_i", delay=D - dt, namespace=ns)
    Si.connect(i=pre_i, j=post_i)
    mon = b2.SpikeMonitor(G, when="after_synapses", order=1)
    b2.run(args.duration * ms)
    out_degree = np.bincount(pre_e, minlength=NE + NI) + np.bincount(pre_i, minlength=NE + NI)
    del pre_e, post_e, pre_i, post_i, ee, ei, ie, ii
    build_s = time.perf_counter() - t0

    t = standalone.build_and_run(build_dir, rss_file)
    count = mon.count[:]
    standalone.cleanup(build_dir)
    standalone.report("brunel2000_ai", args, t_import, build_s, t, count, out_degree, NE, NI,
                      poisson="PoissonInput N=%d rate=%g Hz" % (CE, eta * nu_thr / Hz))


if __name__ == "__main__":
    main()
