"""The STDP family, as NEST's stdp_synapse, stdp_nn_symm_synapse,
stdp_nn_pre_centered_synapse, stdp_nn_restr_synapse and stdp_triplet_synapse.

All rules see a pre spike at its emission time t_pre and a post spike at
t_post + delay (the delay counts as dendritic). A post spike seen at the same
instant as a pre spike pairs with the earlier pre spikes only (potentiation) and
not with this one (no depression). Weights stay in [0, w_max]. The engine applies
the updates lazily at each pre spike (as NEST) and, at the end of a run, applies
the potentiation by post spikes seen after the last pre spike, so the final
weights are those of eager, event-by-event updates.

The kernels are in ``eventsim.engine.plasticity`` (one numba function per rule
step); this module holds what users see: keys, defaults, units and equations.
"""
from ..base import Param, PlasticityRule

_NORM = "w_n = w / w_max; "
_COMMON = {
    "tau_plus": Param(20.0, "ms", "time constant of the pre trace K+", ">0"),
    "tau_minus": Param(20.0, "ms", "time constant of the post trace K- (NEST: the neuron's tau_minus)", ">0"),
    "lambda": Param(0.01, "", "learning rate: step of w / w_max", ">0"),
    "alpha": Param(1.0, "", "depression / potentiation ratio", ">=0"),
    "mu_plus": Param(0.0, "", "weight dependence of potentiation (0 additive, 1 multiplicative)", ">=0"),
    "mu_minus": Param(0.0, "", "weight dependence of depression (0 additive, 1 multiplicative)", ">=0"),
    "w_max": Param(100.0, "", "largest weight (the weight's unit: mV for delta, pA for current synapses)", ">0"),
}
_POT = "post spike seen at t: w_n <- min(1, w_n + lambda (1 - w_n)^mu_plus {k})"
_DEP = "pre spike at t: w_n <- max(0, w_n - alpha lambda w_n^mu_minus {k})"

RULES = (
    PlasticityRule(
        name="stdp",
        doc="Pair-based STDP, all-to-all pairing, exponential traces, weight dependence of "
            "Guetig et al. 2003 (mu = 0 additive, mu = 1 multiplicative).",
        equations=_NORM + _POT.format(k="K+(t)") + "; " + _DEP.format(k="K-(t)")
        + "; K+ (tau_plus) counts pre spikes strictly before t, K- (tau_minus) post spikes seen "
          "strictly before t, each +1 per spike.",
        source="NEST stdp_synapse; Guetig et al. 2003, J Neurosci 23:3697; contract 'Plasticity'",
        params=dict(_COMMON),
        extra={"code": 0},
    ),
    PlasticityRule(
        name="stdp_nn_symm",
        doc="Symmetric nearest-neighbour STDP: each post spike pairs with the last pre spike "
            "before it, each pre spike with the last post spike seen before it.",
        equations=_NORM + _POT.format(k="exp(-(t - t_pre_last)/tau_plus)") + "; "
        + _DEP.format(k="exp(-(t - t_post_last)/tau_minus)")
        + " (0 when there is no earlier spike; as NEST, a synapse counts t = 0 as its last pre spike "
          "before its first, so post spikes before the first pre spike potentiate).",
        source="NEST stdp_nn_symm_synapse; Morrison et al. 2008, Biol Cybern 98:459, Fig. 7A",
        params=dict(_COMMON),
        extra={"code": 1},
    ),
    PlasticityRule(
        name="stdp_nn_pre_centered",
        doc="Presynaptic-centred nearest-neighbour STDP: each pre spike depresses with the last "
            "post spike before it; the first post spike after a run of pre spikes potentiates "
            "with all of them (K+), then K+ is cleared.",
        equations=_NORM + "first post spike seen after the last pre spike: "
        + "w_n <- min(1, w_n + lambda (1 - w_n)^mu_plus K+(t)), then K+ <- 0; "
        + _DEP.format(k="exp(-(t - t_post_last)/tau_minus)")
        + "; then K+ <- K+ e^{-dt/tau_plus} + 1.",
        source="NEST stdp_nn_pre_centered_synapse; Izhikevich & Desai 2003, Neural Comput 15:1511; "
               "Morrison et al. 2008, Fig. 7B",
        params=dict(_COMMON),
        extra={"code": 2},
    ),
    PlasticityRule(
        name="stdp_nn_restr",
        doc="Restricted symmetric nearest-neighbour STDP: only pairs of a pre spike and the first "
            "post spike after it, and of the first pre spike after a post spike and that post "
            "spike, count.",
        equations=_NORM + "at a pre spike at t, if post spikes were seen since the last pre spike "
        "t_pre_last: w_n <- min(1, w_n + lambda (1 - w_n)^mu_plus exp(-(t_post_first - "
        "t_pre_last)/tau_plus)) with the first of them, then "
        + _DEP.format(k="exp(-(t - t_post_last)/tau_minus)")
        + " with the last post spike seen strictly before t (no update at all when none was seen "
          "in (t_pre_last, t]). As NEST, a synapse counts t = 0 as its last pre spike before its first.",
        source="NEST stdp_nn_restr_synapse; Morrison et al. 2008, Fig. 7C",
        params=dict(_COMMON),
        extra={"code": 3},
    ),
    PlasticityRule(
        name="stdp_triplet",
        doc="Triplet STDP of Pfister & Gerstner 2006, all-to-all: potentiation grows with the "
            "post spikes just before (slow post trace), depression with the pre spikes just "
            "before (slow pre trace). Weights are absolute, bounded to [0, w_max].",
        equations="post spike seen at t: w <- min(w_max, w + K+(t) (a_plus + a_plus_triplet "
                  "K-_triplet(t-))); pre spike at t: w <- max(0, w - K-(t) (a_minus + "
                  "a_minus_triplet K+_triplet(t-))); traces K+ (tau_plus), K+_triplet "
                  "(tau_plus_triplet), K- (tau_minus), K-_triplet (tau_minus_triplet) jump by 1 "
                  "per spike; t- excludes the spike itself.",
        source="NEST stdp_triplet_synapse; Pfister & Gerstner 2006, J Neurosci 26:9673",
        params={
            "tau_plus": Param(16.8, "ms", "time constant of the pre trace K+", ">0"),
            "tau_plus_triplet": Param(101.0, "ms", "time constant of the slow pre trace K+_triplet", ">0"),
            "tau_minus": Param(33.7, "ms", "time constant of the post trace K-", ">0"),
            "tau_minus_triplet": Param(125.0, "ms", "time constant of the slow post trace K-_triplet", ">0"),
            "a_plus": Param(5e-10, "", "pair potentiation amplitude (weight units)", ">=0"),
            "a_plus_triplet": Param(6.2e-3, "", "triplet potentiation amplitude (weight units)", ">=0"),
            "a_minus": Param(7e-3, "", "pair depression amplitude (weight units)", ">=0"),
            "a_minus_triplet": Param(2.3e-4, "", "triplet depression amplitude (weight units)", ">=0"),
            "w_max": Param(100.0, "", "largest weight", ">0"),
        },
        extra={"code": 4},
    ),
)
