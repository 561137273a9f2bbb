"""Write tests/data/nest/iaf_psc_alpha_ps.json: NEST's precise alpha-current LIF on off-grid inputs.

Run with a separate environment that has NEST (NEST is never a dependency of eventsim):

    python -m venv /tmp/nestvenv && /tmp/nestvenv/bin/pip install nest-simulator numpy
    /tmp/nestvenv/bin/python tools/nest/make_alpha_ps.py

One `iaf_psc_alpha_ps` neuron per case, driven by one spike_generator with
precise_times=True, off-grid spike times and per-spike weights (spike_weights, pA; w >= 0
excitatory, w < 0 inhibitory; connection weight 1, delay 1.0 ms). Output spike times come
from a spike_recorder with time_in_steps=False (step time minus the precise offset).
Each case is run at two resolutions; NEST checks the threshold only at input times and
step ends, so equal results at 0.1 and 0.01 ms show that no brief crossing was missed.
"""
import json
import os
import platform
import sys

import numpy as np

SEED = 777
DELAY = 1.0  # ms
T_SIM = 500.0  # ms
RESOLUTIONS = (0.1, 0.01)  # ms; the first is the reference

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "nest", "iaf_psc_alpha_ps.json")

BASE = dict(tau_m=12.5, C_m=180.0, E_L=-65.0, V_reset=-68.0, V_th=-50.0, tau_syn_ex=0.7, tau_syn_in=2.3)
# (case, neuron params, V_m(0), (ex rate kHz, ex weight range pA), (in rate kHz, in weight range pA))
CASES = [
    ("syn_only_tref2", dict(BASE, I_e=0.0, t_ref=2.0), -60.0, (4.0, (40.0, 110.0)), (0.4, (-160.0, -40.0))),
    ("const_ie_tref0p5", dict(BASE, I_e=150.0, t_ref=0.5, tau_syn_ex=1.5, tau_syn_in=0.4), -65.0,
     (1.0, (20.0, 80.0)), (0.8, (-120.0, -30.0))),
    ("supra_ie_tref5", dict(BASE, I_e=260.0, t_ref=5.0, tau_m=8.0, C_m=120.0), -52.0,
     (1.5, (30.0, 90.0)), (0.2, (-200.0, -60.0))),
]
EVENTSIM_MAP = {"tau_m": "tau_m", "C_m": "c_m", "E_L": "v_rest", "V_reset": "v_reset", "V_th": "v_th",
                "t_ref": "t_ref", "I_e": "i_e", "tau_syn_ex": "tau_syn_ex", "tau_syn_in": "tau_syn_in"}


def make_input(rng, ex, inh):
    """Off-grid emission times (ms) in (0, T_SIM - 2) with weights (pA), sorted, with a few simultaneous ones."""
    def train(rate, wr):
        n = rng.poisson(rate * (T_SIM - 2.0))
        return rng.uniform(0.05, T_SIM - 2.0, n), rng.uniform(*wr, n)
    te, we = train(*ex)
    ti, wi = train(*inh)
    # simultaneous arrivals: ex+in pairs and ex+ex pairs at identical times (summed before the threshold test)
    k = min(6, te.size // 2, ti.size)
    ti[:k] = te[:k]
    te[k:2 * k] = te[:k]
    t = np.concatenate([te, ti])
    w = np.concatenate([we, wi])
    order = np.lexsort((w, t))
    return t[order], w[order]


def run_nest(params, v0, times, weights, resolution):
    import nest
    nest.ResetKernel()
    nest.set(resolution=resolution, local_num_threads=1, print_time=False)
    nrn = nest.Create("iaf_psc_alpha_ps", params=dict(params, V_m=v0))
    gen = nest.Create("spike_generator", params={"precise_times": True, "spike_times": times.tolist(),
                                                 "spike_weights": weights.tolist()})
    sr = nest.Create("spike_recorder", params={"time_in_steps": False})
    nest.Connect(gen, nrn, syn_spec={"weight": 1.0, "delay": DELAY})
    nest.Connect(nrn, sr)
    nest.Simulate(T_SIM)
    out = np.sort(np.asarray(sr.get("events")["times"], dtype=float))
    kernel = dict(resolution_ms=nest.resolution, tics_per_ms=nest.tics_per_ms, min_delay_ms=nest.min_delay,
                  max_delay_ms=nest.max_delay, local_num_threads=nest.local_num_threads)
    status = {k: v for k, v in nrn.get().items() if isinstance(v, (int, float, str))}
    return out, kernel, status


def main():
    import nest
    rng = np.random.default_rng(SEED)
    cases, kernels = {}, {}
    for name, params, v0, ex, inh in CASES:
        times, weights = make_input(rng, ex, inh)
        runs = {}
        for res in RESOLUTIONS:
            out, kernel, status = run_nest(params, v0, times, weights, res)
            runs[res] = out
            kernels[str(res)] = kernel
        ref = runs[RESOLUTIONS[0]]
        other = runs[RESOLUTIONS[1]]
        same_count = ref.size == other.size
        diff = float(np.max(np.abs(ref - other))) if same_count and ref.size else None
        print(f"{name:20s} inputs {times.size} spikes {ref.size} (res {RESOLUTIONS[1]}: {other.size}) "
              f"max diff between resolutions {diff}")
        cases[name] = {
            "nest_model": "iaf_psc_alpha_ps",
            "neuron_params": dict(params, V_m=v0),
            "eventsim_lif": dict({EVENTSIM_MAP[k]: v for k, v in params.items()}, v=v0, synapse="alpha"),
            "input": {"emission_times_ms": times.tolist(), "weights_pA": weights.tolist(), "delay_ms": DELAY,
                      "n_excitatory": int(np.sum(weights >= 0)), "n_inhibitory": int(np.sum(weights < 0)),
                      "note": "arrival at the neuron = emission time + delay; several arrivals share a time"},
            "spike_times_ms": ref.tolist(),
            "cross_check_resolution_0.01": {"spike_times_ms": other.tolist(),
                                            "max_abs_diff_ms": diff},
            "final_neuron_status": status,
        }
    doc = {
        "case": "iaf_psc_alpha_ps",
        "description": "iaf_psc_alpha_ps driven by precise off-grid spikes (alpha currents, tau_syn_ex != "
                       "tau_syn_in, I_e, t_ref); exact output spike times.",
        "simulator": "NEST",
        "generator": "tools/nest/make_alpha_ps.py",
        "versions": {"python": platform.python_version(), "platform": platform.platform(),
                     "numpy": np.__version__, "nest-simulator": nest.__version__},
        "kernel": kernels,
        "simulation": {"t_sim_ms": T_SIM, "reference_resolution_ms": RESOLUTIONS[0], "seed": SEED},
        "model": {
            "set_up": "spike_generator(precise_times=True, spike_times, spike_weights) --static_synapse(weight 1, "
                      f"delay {DELAY})--> iaf_psc_alpha_ps --> spike_recorder(time_in_steps=False)",
            "alpha": "an input of weight w (pA) adds e w / tau_syn to dI (ex if w >= 0, in if w < 0): "
                     "I(t) = w (t/tau_syn) exp(1 - t/tau_syn), peak w at t = tau_syn",
            "mapping_to_eventsim_lif": EVENTSIM_MAP,
            "threshold_detection": "NEST tests V >= V_th only at each input arrival and at step ends, then "
                                   "locates the crossing by regula falsi (Illinois variant) to |V - V_th| < "
                                   "1e-14 mV (libnestutil/regula_falsi.h)",
            "refractoriness": "V_m held at V_reset for t_ref after the precise spike time; synaptic currents "
                              "keep evolving; return from refractoriness is a pseudo-event at the exact time",
        },
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    sys.exit(main())
