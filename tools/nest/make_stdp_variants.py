"""Write tests/data/nest/stdp_variants.json: NEST's STDP synapse variants on scripted spike trains.

Run with a separate environment that has NEST (NEST is never a dependency of eventsim):

    python -m venv /tmp/nestvenv && /tmp/nestvenv/bin/pip install nest-simulator numpy
    /tmp/nestvenv/bin/python tools/nest/make_stdp_variants.py

Set-up as ../shared/reference/stdp_pair.json: spike_generator -> parrot_neuron (pre) and
spike_generator -> parrot_neuron (post), plastic synapse parrot(pre) -> parrot(post) on
receptor 1 (a parrot does not repeat spikes arriving there), so the rule sees exactly the
scripted parrot trains. A weight_recorder gives the weight sent with each pre spike.
Each case is also replayed by an independent Python transcription of the NEST rule
(`python_reference_check`), which checks the semantics written into the file.
"""
import json
import math
import os
import platform
import sys

import numpy as np

SEED = 20240611
RESOLUTION = 0.1  # ms
GEN_DELAY = 1.0  # ms, spike_generator -> parrot
STDP_EPS = 1.0e-6  # NEST's ConnectionManager stdp_eps (ms), used by get_history / get_K_value

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "nest", "stdp_variants.json")

# (case name, NEST model, synapse params, post neuron params, initial weight)
GUTIG = dict(tau_plus=16.8, Wmax=100.0)
VARIANTS = [
    ("stdp_mult", "stdp_synapse",
     dict(GUTIG, **{"lambda": 0.05, "alpha": 1.1, "mu_plus": 1.0, "mu_minus": 1.0}), dict(tau_minus=33.7), 50.0),
    ("stdp_mu04", "stdp_synapse",
     dict(GUTIG, **{"lambda": 0.08, "alpha": 0.9, "mu_plus": 0.4, "mu_minus": 0.4}), dict(tau_minus=25.0), 40.0),
    ("nn_symm", "stdp_nn_symm_synapse",
     dict(GUTIG, **{"lambda": 0.05, "alpha": 1.1, "mu_plus": 1.0, "mu_minus": 1.0}), dict(tau_minus=33.7), 50.0),
    ("nn_pre_centered", "stdp_nn_pre_centered_synapse",
     dict(GUTIG, **{"lambda": 0.05, "alpha": 1.1, "mu_plus": 0.4, "mu_minus": 0.4}), dict(tau_minus=33.7), 50.0),
    ("nn_restr", "stdp_nn_restr_synapse",
     dict(GUTIG, **{"lambda": 0.05, "alpha": 1.1, "mu_plus": 1.0, "mu_minus": 1.0}), dict(tau_minus=33.7), 50.0),
    ("triplet_visual_cortex", "stdp_triplet_synapse",  # Pfister & Gerstner 2006 all-to-all visual cortex set, scaled
     dict(tau_plus=16.8, tau_plus_triplet=101.0, Aplus=0.5, Aminus=0.7, Aplus_triplet=0.62,
          Aminus_triplet=0.023, Wmax=100.0), dict(tau_minus=33.7, tau_minus_triplet=125.0), 50.0),
    ("triplet_bounds", "stdp_triplet_synapse",  # strong: reaches Wmax and 0 (hard bounds)
     dict(tau_plus=16.8, tau_plus_triplet=101.0, Aplus=2.0, Aminus=3.0, Aplus_triplet=1.5,
          Aminus_triplet=0.4, Wmax=12.0), dict(tau_minus=33.7, tau_minus_triplet=125.0), 6.0),
]
DELAYS = [1.0, 2.5]

RULES = {
    "common": {
        "delay_semantics": "the whole synaptic delay d is DENDRITIC: a post spike at t_post is seen at the "
                           "synapse at t_post + d, a pre spike at t_pre at t_pre. Updates happen only at pre "
                           "spikes (lazily); post spikes after the last pre spike never change the weight.",
        "windows": "at a pre spike at t (previous pre spike t_last, t_last = 0 and Kplus = 0 initially, i.e. a "
                   "PHANTOM previous pre spike at t = 0): the facilitating post spikes are those with "
                   "t_last < t_post + d <= t (NEST get_history(t_last - d, t - d) with eps = 1e-6 ms: "
                   "t_last - d + eps <= t_post < t - d + eps). Depression reads the post trace at t - d from "
                   "post spikes with t_post + d < t strictly (get_K_value: t - d - t_post > eps). So a post "
                   "spike with t_post + d == t_pre facilitates at that pre spike and does not depress it.",
        "Kminus": "Kminus(t) = sum over post spikes t_post < t of exp(-(t - t_post)/tau_minus) (post neuron's "
                  "tau_minus); the nearest-neighbour value is exp(-(t - t_last_post)/tau_minus) with t_last_post "
                  "the latest post spike strictly before t; both are 0 before the first post spike.",
        "gutig_update": "facilitate(w, k): w_n = w/Wmax + lambda (1 - w/Wmax)^mu_plus k, w = Wmax min(1, w_n); "
                        "depress(w, k): w_n = w/Wmax - alpha lambda (w/Wmax)^mu_minus k, w = Wmax max(0, w_n)",
        "recorded_weight": "the weight after the updates of that pre spike, i.e. the weight it transmits",
        "float_coincidences": "every pair with t_post + d == t_pre on the 0.1 ms grid is also exactly equal in "
                              "float64 for the stored parrot times; no pair is within NEST's 1e-6 ms eps without "
                              "being exactly equal.",
    },
    "stdp_synapse": [
        "1) for each post spike in the facilitation window, in time order: "
        "w = facilitate(w, Kplus exp(-(t_post + d - t_last)/tau_plus))",
        "2) w = depress(w, Kminus(t - d))",
        "3) transmit w; 4) Kplus = Kplus exp(-(t - t_last)/tau_plus) + 1; t_last = t",
    ],
    "stdp_nn_symm_synapse": [
        "symmetric nearest-neighbour: no Kplus state; 1) for EACH post spike in the facilitation window: "
        "w = facilitate(w, exp(-(t_post + d - t_last)/tau_plus)) (pairs with the previous pre spike only; "
        "at the first pre spike that is the phantom pre spike at t = 0)",
        "2) w = depress(w, nearest-neighbour Kminus at t - d) (0 before any post spike)",
        "3) transmit w; t_last = t",
    ],
    "stdp_nn_pre_centered_synapse": [
        "presynaptic-centred: 1) if the facilitation window is not empty: "
        "w = facilitate(w, Kplus exp(-(t_post_first + d - t_last)/tau_plus)) with the FIRST post spike of "
        "the window only, then Kplus = 0",
        "2) w = depress(w, nearest-neighbour Kminus at t - d)",
        "3) Kplus = Kplus exp(-(t - t_last)/tau_plus) + 1; transmit w; t_last = t",
    ],
    "stdp_nn_restr_synapse": [
        "restricted symmetric: 1) if the facilitation window is not empty: "
        "w = facilitate(w, exp(-(t_post_first + d - t_last)/tau_plus)) with the FIRST post spike of the window",
        "2) ONLY if the facilitation window is not empty: w = depress(w, nearest-neighbour Kminus at t - d); "
        "note the window includes t_post + d == t but the depression uses the latest post spike strictly "
        "before t - d, which may lie before t_last (then the same post spike depresses twice)",
        "3) transmit w; t_last = t",
    ],
    "stdp_triplet_synapse": [
        "Pfister & Gerstner 2006 all-to-all, weights in absolute units (not normalised): "
        "1) for each post spike in the facilitation window: w = min(Wmax, w + Kplus exp(-(t_post + d - "
        "t_last)/tau_plus) (Aplus + Aplus_triplet ky)), ky = post triplet trace (tau_minus_triplet) just "
        "BEFORE that post spike (history entry Kminus_triplet - 1)",
        "2) Kplus_triplet = Kplus_triplet exp(-(t - t_last)/tau_plus_triplet) (value just before this pre "
        "spike); w = max(0, w - Kminus(t - d) (Aminus + Aminus_triplet Kplus_triplet))",
        "3) Kplus_triplet += 1; Kplus = Kplus exp(-(t - t_last)/tau_plus) + 1; transmit w; t_last = t",
    ],
}


def nest_ms(steps):
    """A grid time as NEST reports it: tics * ms_per_tic (1000 tics per ms), e.g. 4804 -> 480.40000000000003."""
    return (np.asarray(steps, dtype=np.int64) * 100) * 0.001


def make_trains(rng, d):
    """Pre and post parrot spike times in integer 0.1 ms steps for dendritic delay d (ms)."""
    ds = int(round(d / RESOLUTION))
    pre = set(int(x) for x in rng.choice(np.arange(400, 9700), 38, replace=False))
    post_seen = set(int(x) for x in rng.choice(np.arange(400, 9700), 30, replace=False))
    engineered = {}
    # post spikes before the first pre spike (first pre at >= 40 ms)
    early = [50, 123, 201, 287, 333]
    engineered["post_before_first_pre_parrot_steps"] = early
    # a burst of 5 post spikes (seen) between two pre spikes, no other spike in between
    pre_a, pre_b = 6000, 6100
    burst_post = [6011, 6023, 6040, 6062, 6087]
    # a burst of 5 pre spikes between two post spikes (seen), no other spike in between
    post_a, post_b = 7800, 7950
    burst_pre = [7812, 7825, 7831, 7866, 7902]
    for lo, hi in ((pre_a, pre_b), (post_a, post_b)):
        pre = {p for p in pre if not lo - 10 <= p <= hi + 10}
        post_seen = {p for p in post_seen if not lo - 10 <= p <= hi + 10}
    pre |= {pre_a, pre_b, *burst_pre}
    post_seen |= {post_a, post_b, *burst_post}
    pre = {p for p in pre if p > 400}
    # coincidences: t_post + d == t_pre exactly in float64 (checked on the ms values)
    cands = sorted(p for p in pre if not 5990 <= p <= 7960) + [7825, 7902]
    coinc = []
    for p in cands:
        if nest_ms(p - ds) + d == nest_ms(p) and len(coinc) < 7:
            coinc.append(p)
    post_seen |= set(coinc)
    # the last spike is a pre spike
    last_pre = 9950
    pre.add(last_pre)
    post_seen = {p for p in post_seen if p < last_pre}
    post = {p - ds for p in post_seen} | set(early)
    # drop posts that would be grid-coincident with a pre spike but not exactly equal in float64
    post = {q for q in post if not (q + ds in pre and nest_ms(q) + d != nest_ms(q + ds))}
    post = {q for q in post if nest_ms(q) + d < nest_ms(last_pre)}
    engineered.update(post_burst_between_pre_steps=[pre_a, burst_post, pre_b],
                      pre_burst_between_post_seen_steps=[post_a, burst_pre, post_b],
                      coincident_pre_steps=coinc, last_pre_step=last_pre)
    return np.array(sorted(pre)), np.array(sorted(post)), engineered


def run_nest(model, syn, post_params, w0, d, pre_steps, post_steps):
    import nest
    nest.ResetKernel()
    nest.set(resolution=RESOLUTION, local_num_threads=1, print_time=False)
    pre_ms = nest_ms(pre_steps)
    post_ms = nest_ms(post_steps)
    g_pre = nest.Create("spike_generator", params={"spike_times": list(pre_ms - GEN_DELAY)})
    g_post = nest.Create("spike_generator", params={"spike_times": list(post_ms - GEN_DELAY)})
    p_pre = nest.Create("parrot_neuron")
    p_post = nest.Create("parrot_neuron", params=post_params)
    sr = nest.Create("spike_recorder", params={"time_in_steps": False})
    wr = nest.Create("weight_recorder")
    nest.CopyModel(model, "plastic_rec", {"weight_recorder": wr})
    nest.Connect(g_pre, p_pre, syn_spec={"delay": GEN_DELAY})
    nest.Connect(g_post, p_post, syn_spec={"delay": GEN_DELAY})
    nest.Connect(p_pre, p_post, syn_spec=dict(syn, synapse_model="plastic_rec", weight=w0, delay=d,
                                              receptor_type=1))
    nest.Connect(p_pre + p_post, sr)
    t_sim = float(pre_ms.max() + d + 5.0)
    nest.Simulate(t_sim)
    ev = sr.get("events")
    snd, tt = np.asarray(ev["senders"]), np.asarray(ev["times"], dtype=float)
    pre_parrot = np.sort(tt[snd == p_pre.global_id])
    post_parrot = np.sort(tt[snd == p_post.global_id])
    wev = wr.get("events")
    conn = nest.GetConnections(p_pre, p_post).get()
    conn = {k: (v.item() if hasattr(v, "item") else v) for k, v in conn.items()
            if isinstance(v, (int, float, str, np.generic))}
    kernel = dict(resolution_ms=nest.resolution, tics_per_ms=nest.tics_per_ms,
                  local_num_threads=nest.local_num_threads, min_delay_ms=nest.min_delay,
                  max_delay_ms=nest.max_delay)
    return (pre_parrot, post_parrot, np.asarray(wev["times"], float), np.asarray(wev["weights"], float),
            conn, kernel, t_sim, post_parrot.size)


def python_rule(model, syn, post_params, w0, d, pre, post):
    """Independent transcription of NEST 3.10's send() for each model; returns weights at pre spikes."""
    tau_m = post_params["tau_minus"]
    tau_mt = post_params.get("tau_minus_triplet", 110.0)
    Wmax = syn["Wmax"]

    def fac(w, k):
        wn = w / Wmax + syn["lambda"] * (1.0 - w / Wmax) ** syn["mu_plus"] * k
        return Wmax * wn if wn < 1.0 else Wmax

    def dep(w, k):
        wn = w / Wmax - syn["alpha"] * syn["lambda"] * (w / Wmax) ** syn["mu_minus"] * k
        return Wmax * wn if wn > 0.0 else 0.0

    def kminus(t, triplet=False):  # all-to-all trace from post spikes strictly before t
        tau = tau_mt if triplet else tau_m
        return sum(math.exp(-(t - q) / tau) for q in post if t - q > STDP_EPS)

    def nn_kminus(t):
        earlier = [q for q in post if t - q > STDP_EPS]
        return math.exp(-(t - earlier[-1]) / tau_m) if earlier else 0.0

    w, kplus, kplus_t, t_last, out = w0, 0.0, 0.0, 0.0, []
    hits = {"facilitation_clipped_at_Wmax": 0, "depression_clipped_at_0": 0}
    for t in pre:
        window = [q for q in post if t_last - d + STDP_EPS <= q < t - d + STDP_EPS]
        w_in = w
        if model == "stdp_synapse":
            for q in window:
                w = fac(w, kplus * math.exp((t_last - (q + d)) / syn["tau_plus"]))
            w = dep(w, kminus(t - d))
        elif model == "stdp_nn_symm_synapse":
            for q in window:
                w = fac(w, math.exp((t_last - (q + d)) / syn["tau_plus"]))
            w = dep(w, nn_kminus(t - d))
        elif model == "stdp_nn_pre_centered_synapse":
            if window:
                w = fac(w, kplus * math.exp((t_last - (window[0] + d)) / syn["tau_plus"]))
                kplus = 0.0
            w = dep(w, nn_kminus(t - d))
        elif model == "stdp_nn_restr_synapse":
            if window:
                w = fac(w, math.exp((t_last - (window[0] + d)) / syn["tau_plus"]))
                w = dep(w, nn_kminus(t - d))
        elif model == "stdp_triplet_synapse":
            for q in window:
                ky = kminus(q, triplet=True)  # triplet trace just before q
                nw = abs(w) + kplus * math.exp((t_last - (q + d)) / syn["tau_plus"]) * (
                    syn["Aplus"] + syn["Aplus_triplet"] * ky)
                hits["facilitation_clipped_at_Wmax"] += nw >= Wmax
                w = nw if nw < Wmax else Wmax
            kplus_t *= math.exp((t_last - t) / syn["tau_plus_triplet"])
            nw = abs(w) - kminus(t - d) * (syn["Aminus"] + syn["Aminus_triplet"] * kplus_t)
            hits["depression_clipped_at_0"] += nw <= 0.0
            w = nw if nw > 0.0 else 0.0
            kplus_t += 1.0
        if model != "stdp_triplet_synapse":
            hits["facilitation_clipped_at_Wmax"] += (w == Wmax and w_in != Wmax)
            hits["depression_clipped_at_0"] += (w == 0.0 and w_in != 0.0)
        kplus = kplus * math.exp((t_last - t) / syn["tau_plus"]) + 1.0
        t_last = t
        out.append(w)
    return np.array(out), kplus, kplus_t, hits


def main():
    import nest
    rng = np.random.default_rng(SEED)
    trains = {d: make_trains(rng, d) for d in DELAYS}
    cases, kernels = {}, {}
    for d in DELAYS:
        pre_steps, post_steps, engineered = trains[d]
        for name, model, syn, post_params, w0 in VARIANTS:
            pre, post, wt, ww, conn, kernel, t_sim, _ = run_nest(model, syn, post_params, w0, d,
                                                                  pre_steps, post_steps)
            # the parrots reproduce the scripted trains; these values are what the rule sees
            assert np.array_equal(pre, nest_ms(pre_steps)) and np.array_equal(post, nest_ms(post_steps))
            assert np.array_equal(wt, pre)
            # float64 coincidences are exact or far from NEST's eps
            gap = np.abs(post[:, None] + d - pre[None, :])
            assert not np.any((gap > 0) & (gap < 1e-3)), name
            n_coinc = int(np.sum(post[:, None] + d == pre[None, :]))
            ref_w, ref_kplus, ref_kplus_t, hits = python_rule(model, syn, post_params, w0, d, pre, post)
            key = f"{name}_d{str(d).replace('.', 'p')}"
            cases[key] = {
                "nest_model": model,
                "synapse_params": dict(syn, delay=d),
                "initial_weight": w0,
                "post_neuron_params": dict(post_params),
                "tau_minus_ms": post_params["tau_minus"],
                "tau_minus_triplet_ms": post_params.get("tau_minus_triplet", 110.0),
                "delay_ms": d,
                "pre_parrot_spike_times_ms": pre.tolist(),
                "post_parrot_spike_times_ms": post.tolist(),
                "n_exact_coincidences_post_plus_delay_eq_pre": n_coinc,
                "weight_after_each_pre_spike": {
                    "times_ms": wt.tolist(), "weights": ww.tolist(),
                    "note": "weight_recorder: one entry per pre parrot spike, the weight after the updates "
                            "triggered by that spike (= the weight it transmits)"},
                "final_weight": conn["weight"],
                "final_Kplus": conn.get("Kplus"),
                "final_connection_status": conn,
                "bound_hits_in_python_reference": {k: int(v) for k, v in hits.items()},
                "python_reference_check": {
                    "max_abs_weight_diff": float(np.max(np.abs(ref_w - ww))),
                    "final_Kplus_python": ref_kplus,
                    "final_Kplus_triplet_python": ref_kplus_t if model == "stdp_triplet_synapse" else None},
            }
            kernels[d] = kernel
            t_sims = t_sim
            print(f"{key:28s} pre {pre.size} post {post.size} coinc {n_coinc} final w {conn['weight']:.6f} "
                  f"py diff {cases[key]['python_reference_check']['max_abs_weight_diff']:.2e} hits {hits}")
    doc = {
        "case": "stdp_variants",
        "description": "NEST STDP synapse variants between two parrot neurons with scripted spike times, "
                       "dendritic delays 1.0 and 2.5 ms; weight after each pre spike.",
        "simulator": "NEST",
        "generator": "tools/nest/make_stdp_variants.py",
        "versions": {"python": platform.python_version(), "platform": platform.platform(),
                     "numpy": np.__version__, "nest-simulator": nest.__version__},
        "kernel": {str(d): k for d, k in kernels.items()},
        "simulation": {"t_sim_ms": t_sims, "stdp_eps_ms": STDP_EPS},
        "model": {
            "pre": f"spike_generator --static_synapse(weight 1, delay {GEN_DELAY})--> parrot_neuron (pre)",
            "post": f"spike_generator --static_synapse(weight 1, delay {GEN_DELAY})--> parrot_neuron "
                    "(post, tau_minus / tau_minus_triplet set)",
            "plastic": "parrot(pre) --<nest_model>(delay d, receptor_type 1)--> parrot(post); spikes into "
                       "receptor 1 of a parrot_neuron are NOT repeated, so the post train is exactly the "
                       "scripted one",
            "rule": RULES,
        },
        "inputs": {
            "seed": SEED,
            "generation": "numpy.random.default_rng(seed); per delay: 38 random pre and 30 random post "
                          "(seen-time) grid times in [40, 970) ms plus engineered spikes; generator times = "
                          "parrot times - 1.0 ms",
            "per_delay": {str(d): {"engineered": trains[d][2]} for d in DELAYS},
            "note": "the STDP rule sees the PARROT spike times stored in each case",
        },
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    sys.exit(main())
