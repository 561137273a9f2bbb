"""Scaling a scenario's network with its input statistics kept: ``[network] scale``,
``indegree_scale``, ``compensate``, ``mean_rates``.

Runs at the end of validation on the normalised values, so everything after it (memory
estimate, construction, ``eventsim validate``) sees the scaled network. With N = scale
(neuron numbers) and K = indegree_scale (in-degrees; default N), as the Potjans & Diesmann
(2014) reference implementation scales its model (van Albada, Helias & Diesmann 2015):

- population sizes: round(size N);
- ``fixed_total_number``: n = round(n_full N K), where a given ``p`` means
  n_full = ln(1 - p) / ln(1 - 1/(N_source N_target)) from the full sizes (:func:`total_from_probability`);
- ``fixed_indegree`` / ``fixed_outdegree``: round(k K); ``fixed_probability``: p K / N;
- a ``poisson`` stimulus with ``indegree``: round(indegree K) sources, so the train rate is
  rate x round(indegree K) (the normalised ``rate`` is that train rate);
- ``compensate``: the weights of these inputs are divided by sqrt(K) (the input variance is
  kept), and the mean input they lose, (1 - sqrt(K)) sum K_full w r q / 1000 pA, is added to the
  target's ``i_e``: K_full the full-scale mean in-degree, w the mean weight, r the source's rate
  (Hz: ``mean_rates``, a poisson_source's rate, a stimulus's rate) and q the charge of a unit
  input in pA ms (``exp``: tau_syn, ``alpha``: e tau_syn, ``delta``: c_m; the mean weight's sign
  picks tau_syn_ex or tau_syn_in).

``all_to_all`` and ``one_to_one`` follow the sizes and are not compensated; explicit neuron
ids (``pairs``, stimulus ``ids``, a graph file, ``spike_source`` times) cannot be scaled.
"""
from __future__ import annotations

import difflib
import math

from ..distributions import Dist
from . import schema as S
from .values import INVALID, describe, is_number, join

SCALED_RULES = ("fixed_total_number", "fixed_indegree", "fixed_outdegree", "fixed_probability")


SCALING_KEYS = ("scale", "indegree_scale", "compensate", "mean_rates")


def defaults() -> dict:
    """The normalised [network] table when none (or an invalid one) is given."""
    return {name: (dict(k.default) if isinstance(k.default, dict) else k.default)
            for name, k in S.NETWORK.items()}


def split(network):
    """({"graph": ...}, {"scale", "indegree_scale", "compensate", "mean_rates"}) of a
    normalised [network] table (Scenario.network and Scenario.scaling)."""
    return ({k: v for k, v in network.items() if k not in SCALING_KEYS},
            {k: network[k] for k in SCALING_KEYS})


def total_from_probability(p, n_source, n_target) -> float:
    """Synapses to draw (uniformly, with repetition) so that a pair is connected at least once
    with probability p: ln(1 - p) / ln(1 - 1/(n_source n_target)). Not rounded."""
    pairs = n_source * n_target
    if p <= 0.0:
        return 0.0
    if pairs == 1:       # the only pair is always drawn
        return 0.0 if p < 1.0 else math.inf
    return math.log1p(-p) / math.log1p(-1.0 / pairs)


def mean_of(value) -> float:
    """The mean of a number (itself) or of a Dist, bounds (redrawn values) included."""
    if not isinstance(value, Dist):
        return float(value)
    lo = -math.inf if value.min is None else value.min
    hi = math.inf if value.max is None else value.max
    a, b = value.args
    if value.kind == "uniform":
        lo, hi = max(lo, a), min(hi, b)
        return 0.5 * (lo + hi)
    if value.kind == "normal":
        if b == 0 or (lo == -math.inf and hi == math.inf):
            return float(a)
        from scipy.stats import truncnorm
        return float(truncnorm.mean((lo - a) / b, (hi - a) / b, loc=a, scale=b))
    if b == 0:
        return math.exp(a)
    from scipy.stats import lognorm
    dist = lognorm(b, scale=math.exp(a))
    if lo <= 0 and hi == math.inf:
        return float(dist.mean())
    return float(dist.expect(lb=max(lo, 0.0), ub=hi, conditional=True))


def scaled_value(value, factor):
    """``value`` x factor (factor > 0): a number, or a Dist whose every draw is multiplied."""
    if not isinstance(value, Dist):
        return value * factor
    bounds = dict(min=None if value.min is None else value.min * factor,
                  max=None if value.max is None else value.max * factor)
    a, b = value.args
    if value.kind == "lognormal":
        return Dist("lognormal", (a + math.log(factor), b), **bounds)
    return Dist(value.kind, (a * factor, b * factor), **bounds)


def check_mean_rates(p, scale, pops):
    """network.mean_rates (in ``scale``, Scenario.scaling): a table of known population names to
    rates >= 0 Hz, normalised to floats."""
    rates = scale.get("mean_rates")
    if rates is INVALID or rates is None:
        scale["mean_rates"] = {}
        return
    if not isinstance(rates, dict):
        p.add("network.mean_rates", f"must be a table of population names to rates (Hz), "
                                    f"got {describe(rates)}")
        scale["mean_rates"] = {}
        return
    out = {}
    for name, r in rates.items():
        path = join("network.mean_rates", name)
        if name not in pops:
            hint = difflib.get_close_matches(str(name), list(pops), n=1, cutoff=0.6)
            p.add(path, f"unknown population {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else
                                                          f" (known: {', '.join(pops) or 'none'})"))
        elif not is_number(r) or not r >= 0:
            p.add(path, f"must be a rate >= 0 Hz, got {describe(r)}")
        else:
            out[name] = float(r)
    scale["mean_rates"] = out


def _charge(pop, w_mean):
    """pA ms of charge per unit weight into ``pop`` (None if its model's synapse is unknown)."""
    params = pop["params"]
    kind = params.get("synapse")
    if kind == "delta" and "c_m" in params:
        return mean_of(params["c_m"])
    tau = params.get("tau_syn_ex" if w_mean >= 0 else "tau_syn_in")
    if tau is None:
        return None
    if kind == "exp":
        return mean_of(tau)
    if kind == "alpha":
        return math.e * mean_of(tau)
    return None


def apply(p, scale, network, populations, stimuli, projections):
    """Scale the normalised populations, stimuli and projections in place (see the module
    docstring) by ``scale`` (Scenario.scaling; indegree_scale filled in); report what cannot
    be scaled into ``p``."""
    n_scale = scale["scale"]
    k_scale = scale["indegree_scale"] if scale["indegree_scale"] is not None else n_scale
    scale["indegree_scale"] = k_scale
    compensate = scale["compensate"] and k_scale != 1.0
    w_factor = 1.0 / math.sqrt(k_scale) if scale["compensate"] else 1.0
    full = {pop["name"]: pop["size"] for pop in populations}
    pops = {pop["name"]: pop for pop in populations}
    resized = n_scale != 1.0
    where = f"network.scale = {n_scale:g}"

    if resized and network["graph"] is not None:
        p.add("network.graph", f"a graph file's synapses name neurons and cannot be scaled ({where})")
    for i, pop in enumerate(populations):
        if not resized:
            continue
        if pop["model"] == "spike_source":
            p.add(f"population[{i}]", f"a spike_source population (one list of times per neuron) cannot "
                                      f"be scaled ({where})")
            continue
        size = round(pop["size"] * n_scale)
        if size < 1:
            p.add(join(f"population[{i}]", "size"), f"{pop['size']} x scale {n_scale:g} rounds to 0 neurons")
        pop["size"] = size

    inputs = {}   # target name -> [(key path, full in-degree, weight, rate or source name)]
    for i, q in enumerate(projections):
        path, rule = f"projection[{i}]", q["rule"]
        if rule == "pairs" and resized:
            p.add(join(path, "rule"), f"explicit pairs name neurons and cannot be scaled ({where})")
        if rule not in SCALED_RULES:
            continue
        src, tgt = q["source"], q["target"]
        n_src, n_tgt = full[src], full[tgt]
        if rule == "fixed_total_number":
            if q.get("p") is not None:
                if q["p"] >= 1.0:
                    p.add(join(path, "p"), "must be < 1 (p = 1 needs infinitely many synapses)")
                    continue
                if not q["allow_multapses"]:
                    p.add(join(path, "allow_multapses"), "must be true with p (the count assumes pairs "
                                                         "drawn with repetition)")
                    continue
                n_full = total_from_probability(q["p"], n_src, n_tgt)
            else:
                n_full = q["n"]
            q["n"] = round(n_full * n_scale * k_scale)
            k_full = n_full / n_tgt
        elif rule == "fixed_indegree":
            k_full = q["indegree"]
            q["indegree"] = round(k_full * k_scale)
        elif rule == "fixed_outdegree":
            k_full = q["outdegree"] * n_src / n_tgt
            q["outdegree"] = round(q["outdegree"] * k_scale)
        else:
            partners = n_src - 1 if src == tgt and not q["allow_autapses"] else n_src
            k_full = q["p"] * partners
            p_scaled = q["p"] * k_scale / n_scale
            if p_scaled > 1.0:
                p.add(join(path, "p"), f"p x indegree_scale / scale = {p_scaled:g} > 1: the in-degree "
                                       f"cannot be kept at this scale")
            q["p"] = min(p_scaled, 1.0)
        inputs.setdefault(tgt, []).append((path, k_full, q["weight"], src))
        q["weight"] = scaled_value(q["weight"], w_factor)

    for j, st in enumerate(stimuli):
        path = f"stimulus[{j}]"
        if st.get("ids") is not None and resized:
            p.add(join(path, "ids"), f"explicit neuron ids cannot be scaled ({where})")
        if st["kind"] != "poisson" or st.get("indegree") is None:
            continue
        if st.get("ids") is not None and compensate:
            p.add(join(path, "ids"), "compensate adds to a whole population's i_e: a stimulus with "
                                     "indegree on some neurons only cannot be compensated")
        k_full = st["indegree"]
        st["indegree"] = round(k_full * k_scale)
        inputs.setdefault(st["target"], []).append((path, k_full, st["weight"], st["rate"]))
        st["rate"] = st["rate"] * st["indegree"]
        st["weight"] = scaled_value(st["weight"], w_factor)

    if compensate:
        _compensate(p, scale, pops, inputs, k_scale)


def _source_rate(p, scale, pops, source, path):
    """Hz of a source population for compensation, or None (reported)."""
    rates = scale["mean_rates"]
    if source in rates:
        return rates[source]
    pop = pops[source]
    if pop["model"] == "poisson_source":
        return mean_of(pop["params"]["rate"])
    p.add("network.mean_rates", f"no rate for population {source!r} (the source of {path}); "
                                f"compensate needs the full-scale rate of every source")
    return None


def _compensate(p, scale, pops, inputs, k_scale):
    """Add the mean input lost by scaling in-degrees (and weights by 1/sqrt(K)) to each target's i_e."""
    for target, items in inputs.items():
        pop = pops[target]
        index = list(pops).index(target)   # pops is in scenario order
        mean = 0.0   # pA: the full-scale mean input through the scaled inputs
        for path, k_full, weight, rate in items:
            if isinstance(rate, str):
                rate = _source_rate(p, scale, pops, rate, path)
                if rate is None:
                    continue
            w = mean_of(weight)
            charge = _charge(pop, w)
            if charge is None:
                p.add(path, f"compensate: the charge of an input to model {pop['model']!r} is unknown "
                            f"(needs a delta, exp or alpha synapse)")
                continue
            mean += k_full * w * rate * 1e-3 * charge
        i_e = pop["params"].get("i_e")
        key = join(f"population[{index}]", "params") + ".i_e"
        if "i_e" not in pop["params"]:
            p.add(f"population[{index}].model", f"compensate adds to i_e, which model {pop['model']!r} lacks")
        elif not is_number(i_e):
            p.add(key, f"must be a number with compensate (the mean input lost by scaling is added to it), "
                       f"got {describe(i_e)}")
        else:
            pop["params"]["i_e"] = float(i_e) + (1.0 - math.sqrt(k_scale)) * mean
