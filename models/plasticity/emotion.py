"""The "emotion" rule: a reward-signed Hebbian rule applied once per trial (docs/trials.md).

After each training presentation the trial loop (``eventsim.trials``) decodes the
output, computes the emotion e(output, tag) in (-1, 1) and updates every projection
whose ``plasticity`` names a table with ``rule = "emotion"``:

    w_ij <- w_ij + S e E_ij

with E_ij = v_i v_j (v = 1 where the neuron fired during the presentation: the
notebook's rule) or, with ``eligibility = "trace"``, a decaying pre-before-post
eligibility trace. Then the optional per-presentation perturbation, the
normalisation and the bounds are applied, in that order. Weights may be negative.
The update kernels are in ``eventsim.trials.emotion``.

The form that learns through a hidden layer (scenarios/emotion_parity_5_8_2.toml) is
the REINFORCE / node-perturbation reading of the same rule (Williams 1992; Fiete &
Seung 2006; Fremaux, Sprekeler & Gerstner 2010):

    w_ij <- w_ij + S (e - ebar_k) v_i (n_j - nbar_jk)

``baseline = "pattern"``: ebar_k is a running mean of e over the presentations of
pattern k (the expected reward for that input; Fremaux et al. 2010 show that it
must be input-specific); ``eligibility = "centred"``: n_j is the post neuron's spike
count and nbar_jk its running mean for that pattern, so the Poisson input noise that
makes a hidden neuron fire more or less than usual is what gets credited when the
reward is better or worse than usual; v_i is the pre neuron's count over its layer's
largest count. In expectation this follows the gradient of the mean reward for every
layer, with only pre activity, post activity and one global scalar, and it is zero
once every pattern is answered as expected (e = ebar_k). Both running means use
ebar <- ebar + baseline_rate (e - ebar), initialised at the first presentation.
Credit needs variance: the [trials] key ``exploration`` names a spike_source population
that, in training presentations only, fires at a rate drawn per presentation, so each
hidden neuron's count moves by several spikes from one presentation to the next.
"""
from ..base import Param, PlasticityRule

RULE = PlasticityRule(
    name="emotion",
    doc="Reward-signed Hebbian rule of the seed notebook, applied after each training "
        "presentation of a [trials] loop: synapses whose pre- and post-neuron were both active "
        "are strengthened when the answer was right and weakened when it was wrong. Options add "
        "a graded emotion, decaying eligibility traces, a per-presentation weight perturbation "
        "(the notebook's symmetry breaker), a normalisation and weight bounds.",
    equations=(
        "after a presentation with output class y, tag c, class counts n (decoded): "
        "emotion = \"binary\": e = reward if y = c else -punishment; "
        "emotion = \"margin\": m = (n_c - max_{k != c} n_k) / (n_c + max_{k != c} n_k) (m = -1 when "
        "no output neuron fired), e = reward (1 - m) if y = c else -punishment; "
        "emotion = \"tanh\": t = tanh((n_c - max_{k != c} n_k) / margin_scale), e = reward t if t > 0 "
        "else punishment t (a tie or silence gives 0); "
        "eligibility = \"binary\": E_ij = v_i v_j, v = 1 if the neuron fired in the window; "
        "eligibility = \"trace\": E_ij = sum_{post spikes t} x_i(t) exp(-(T - t)/tau_e), "
        "x_i(t) = sum_{pre spikes s, s + d_ij <= t} exp(-(t - s - d_ij)/tau_pre), T = window end; "
        "eligibility = \"count\": E_ij = v_i v_j, v = n / max(n over the neuron's population) "
        "(spike counts n in the window); "
        "eligibility = \"centred\": E_ij = v_i (n_j - nbar_j), v_i as for count, n_j the post spike "
        "count, nbar_j its running mean (per pattern with baseline = \"pattern\", else over all "
        "presentations); "
        "baseline = \"global\" | \"pattern\": e is replaced by e - ebar, ebar the running mean of e "
        "(over all presentations | over those of the presented pattern); running means: "
        "m <- m + baseline_rate (x - m) after use, m = x at the first presentation; "
        "dw_ij = S e E_ij; w_ij += dw_ij + sigma decay^(epoch - 1) xi_ij (xi ~ N(0, 1), each training "
        "presentation); "
        "normalise = \"zero_mean\": dw of the synapses onto each post neuron j minus their mean "
        "(total input to j kept); normalise = \"l2\": w_.j rescaled to its initial L2 norm; "
        "homeostasis: w_ij += h v_i (1 - v_j) (silent post neurons regain input from active pre "
        "neurons, so punishment cannot silence a layer for good); finally w clipped to [w_min, w_max]."),
    source="seed-notes.md (the notebook's rule and perturbation); eligibility traces as in "
           "three-factor rules (Fremaux & Gerstner 2016, Front Neural Circuits 9:85)",
    params={
        "sensitivity": Param(0.5, "", "S: step of w per unit of e E (the weight's unit: mV for delta "
                                      "synapses, pA for current synapses)", ">0"),
        "emotion": Param("binary", "", "emotion function e(output, tag)",
                         choices=("binary", "margin", "tanh")),
        "margin_scale": Param(2.0, "", "spikes: the count margin at which e = tanh(1) of its amplitude "
                                       "(emotion = \"tanh\")", ">0"),
        "reward": Param(0.5, "", "e when the output matches the tag (0 < reward < 1)", ">0"),
        "punishment": Param(0.5, "", "-e when it does not (0 < punishment < 1)", ">0"),
        "eligibility": Param("binary", "", "binary: E = v_pre v_post (the notebook); trace: decaying "
                                           "pre-before-post traces; count: E = v_pre v_post with v the "
                                           "spike count over the layer's largest count; centred: "
                                           "E = v_pre (n_post - running mean of n_post)",
                                           choices=("binary", "trace", "count", "centred")),
        "baseline": Param("none", "", "reward baseline subtracted from e: none | global (running mean "
                                      "of e) | pattern (running mean of e for the presented pattern)",
                          choices=("none", "global", "pattern")),
        "baseline_rate": Param(0.2, "", "rate of the running means of e and of the post counts "
                                        "(baseline, eligibility = \"centred\"): m += rate (x - m)",
                               ">0"),
        "tau_pre": Param(10.0, "ms", "decay of the pre trace x (eligibility = \"trace\")", ">0"),
        "tau_e": Param(20.0, "ms", "decay of the eligibility up to the end of the window "
                                   "(eligibility = \"trace\")", ">0"),
        "perturbation": Param(0.0, "", "sigma: std of the Gaussian noise added to every weight at each "
                                       "training presentation (weight unit); 0 = off", ">=0"),
        "perturbation_decay": Param(1.0, "", "the perturbation's std is sigma * decay^(epoch - 1); "
                                             "1 = constant", ">0"),
        "normalise": Param("none", "", "none | zero_mean: rule changes onto each post neuron sum to 0 | "
                                       "l2: each post neuron's incoming weights keep their initial "
                                       "L2 norm", choices=("none", "zero_mean", "l2")),
        "homeostasis": Param(0.0, "", "h: weight added, per training presentation, to each synapse from "
                                      "an active pre neuron onto a silent post neuron (weight unit); "
                                      "0 = off", ">=0"),
        "w_min": Param(-100.0, "", "lower weight bound (weight unit; may be negative)"),
        "w_max": Param(100.0, "", "upper weight bound (weight unit)"),
    },
    kind="trial",
)
