"""Validation of a parsed scenario: every section, every cross-reference, in one pass.

:func:`validate` walks the raw structure (as parsed from TOML/JSON) against the
schema tables of :mod:`eventsim.scenario.schema` and the neuron model catalogue,
collects one-line messages for every problem, and either raises one
:class:`~eventsim.errors.ScenarioError` with all of them or returns the
normalised fields of :class:`~eventsim.scenario.model.Scenario`. It allocates
nothing of network size: connectivity limits are checked from the sizes alone.
"""
from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .. import models
from ..distributions import Dist
from ..errors import ScenarioError
from . import scaling
from . import schema as S
from .values import (INVALID, Problems, check_name, check_names, check_number, check_numbers,
                     check_string, check_table, check_value, describe, join)

_MISSING = object()


@dataclass
class _PopRef:
    index: int
    size: int | None        # None if the size was invalid
    model: object | None    # NeuronModel, None if unknown

    @property
    def is_source(self):
        return self.model is not None and self.model.is_source


def validate(raw, base_dir: Path, *, duration_override=False) -> dict:
    """The normalised Scenario fields (simulation, populations, ...) or ScenarioError.
    ``duration_override``: the duration was given apart from the scenario (``--duration``);
    an ``[analysis] t_start`` it leaves behind is then a warning, not an error."""
    p = Problems()
    if not isinstance(raw, dict):
        raise ScenarioError([f"scenario: must be a table of sections, got {describe(raw)}"])
    for k in raw:
        if k not in S.SECTIONS:
            p.unknown(join("", k), k, S.SECTIONS)
    base_dir = Path(base_dir)
    simulation = _simulation(p, raw.get("simulation", _MISSING))
    plasticity = _plasticity(p, raw.get("plasticity", {}))
    network = _network(p, raw.get("network", {}), base_dir)
    nir = _nir(p, network)
    populations, pops = _populations(p, _with(raw.get("population", _MISSING), nir and nir.populations))
    stimuli = _stimuli(p, _with(raw.get("stimulus", []), nir and nir.stimuli), pops)
    projections = _projections(p, raw.get("projection", []), pops, plasticity)
    if nir:
        _add_nir_projections(p, projections, nir.projections)
    n_hidden = sum(1 for s in stimuli if s.get("kind") == "spike_times")  # built as projections
    if len(projections) + n_hidden > S.MAX_PROJECTIONS:
        p.add("projection", f"at most {S.MAX_PROJECTIONS} projections (spike_times stimuli included), "
                            f"got {len(projections) + n_hidden}")
    record = _record(p, raw.get("record", {}), pops, projections, network)
    output = _output(p, raw.get("output", {}), base_dir)
    energy = _energy(p, raw.get("energy", {}), base_dir)
    from ..trials.config import validate_trials
    trials = validate_trials(p, raw.get("trials"), S.TRIALS, pops, populations, plasticity, projections,
                             base_dir)
    if trials is not None and simulation:
        simulation["duration"] = trials["duration"]   # the trial loop decides how long it runs
    analysis = _analysis(p, raw.get("analysis", {}), simulation, duration_override and trials is None)
    network, scale = scaling.split(network)
    scaling.check_mean_rates(p, scale, pops)
    if not p:   # scaling needs valid values; it reports what only the scaled sizes show
        scaling.apply(p, scale, network, populations, stimuli, projections)
    if p:
        raise ScenarioError(p.messages)
    return dict(simulation=simulation, populations=populations, stimuli=stimuli,
                projections=projections, plasticity=plasticity, network=network, record=record,
                output=output, energy=energy, analysis=analysis, scaling=scale, trials=trials)


# ---------------------------------------------------------------- helpers
def _array(p, name, raw):
    """The tables of an array section ([[name]]), as (path, table) pairs."""
    if raw is _MISSING:
        if S.SECTIONS[name].required:
            p.add(name, f"required: at least one [[{name}]], missing")
        return []
    if isinstance(raw, dict):
        p.add(name, f"must be an array of tables ([[{name}]] in TOML, a list in JSON), got a table")
        return []
    if not isinstance(raw, list):
        p.add(name, f"must be an array of tables, got {describe(raw)}")
        return []
    if not raw and S.SECTIONS[name].required:
        p.add(name, f"at least one [[{name}]] is required")
    return [(f"{name}[{i}]", r) for i, r in enumerate(raw)]


def _other_keys(p, path, raw, chosen, all_sets, what, choice):
    """Report keys that belong to another rule/kind than the chosen one."""
    for k in raw:
        if any(k in keys for keys in all_sets.values()) and k not in all_sets[chosen]:
            takes = ", ".join(all_sets[chosen]) or "no parameters"
            p.add(join(path, k), f"not used by {what} {choice!r} (it takes: {takes})")


def _pop_ref(p, path, name, pops, role):
    """The population a source/target names, or None (reported)."""
    if name is INVALID or name is None:
        return None
    if name not in pops:
        hint = difflib.get_close_matches(name, list(pops), n=1, cutoff=0.6)
        p.add(path, f"unknown population {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else
                                                      f" (known: {', '.join(pops) or 'none'})"))
        return None
    ref = pops[name]
    if role == "target" and ref.is_source:
        p.add(path, f"{name!r} is a {ref.model.name} population; sources receive no input")
        return None
    return ref


def _assign_names(p, section, entries):
    """Names for the entries [(path, table or None, raw name or _MISSING, default base or None)].

    Explicit names are kept; an entry without one gets ``base``, ``base_2``, ``base_3`` ... in
    order of appearance among those with the same base. Duplicates are reported.
    """
    counts = Counter()
    seen = {}
    for path, table, raw_name, base in entries:
        if table is None:
            continue
        if raw_name is _MISSING:
            if base is None:
                table["name"] = INVALID
                continue
            counts[base] += 1
            name = base if counts[base] == 1 else f"{base}_{counts[base]}"
            table["name"] = name
            where = f"{path} (default name)"
        else:
            name = table["name"]
            where = join(path, "name")
        if name is INVALID:
            continue
        if name in seen:
            p.add(where, f"duplicate {section} name {name!r} (also {seen[name]}); give each a unique name")
        else:
            seen[name] = path
    return seen


# ---------------------------------------------------------------- [simulation]
def _simulation(p, raw):
    if raw is _MISSING:
        p.add("simulation", "required section [simulation] (with duration in ms), missing")
        return None
    t = check_table(p, "simulation", raw, S.SIMULATION)
    if t and t["seed"] is not INVALID and t["seed"] >= S.SEED_LIMIT:
        p.add("simulation.seed", f"must be < 2**64, got {t['seed']}")
    return t


# ---------------------------------------------------------------- [plasticity.<name>]
def _plasticity(p, raw):
    if not isinstance(raw, dict):
        p.add("plasticity", f"must be a table of named tables ([plasticity.<name>]), got {describe(raw)}")
        return {}
    out = {}
    all_keys = {r: spec["keys"] for r, spec in S.PLASTICITY_RULES.items()}
    for label, table in raw.items():
        path = join("plasticity", label)
        if check_name(p, path, label) is INVALID:
            continue
        rule = table.get("rule") if isinstance(table, dict) else None
        rule = rule if isinstance(rule, str) and rule in S.PLASTICITY_RULES else None
        keys = dict(S.PLASTICITY, **(all_keys[rule] if rule else {}))
        known = dict(S.PLASTICITY, **{k: v for ks in all_keys.values() for k, v in ks.items()})
        t = check_table(p, path, table, keys, known=known)
        if t is None:
            out[label] = INVALID
            continue
        if rule:
            _other_keys(p, path, table, rule, all_keys, "rule", rule)
        out[label] = t
    return out


# ---------------------------------------------------------------- [[population]]
def _populations(p, raw):
    out, refs = [], {}
    total = 0
    for path, r in _array(p, "population", raw):
        pop = _population(p, path, r)
        if pop is None:
            continue
        out.append(pop)
        name = pop["name"]
        if isinstance(pop["size"], int):
            total += pop["size"]
        if name is INVALID:
            continue
        if name in refs:
            p.add(join(path, "name"), f"duplicate population name {name!r} "
                                      f"(also population[{refs[name].index}])")
            continue
        idx = int(path[len("population["):-1])
        size = pop["size"] if isinstance(pop["size"], int) else None
        refs[name] = _PopRef(idx, size, pop.pop("_model"))
    for pop in out:
        pop.pop("_model", None)
    if total > S.MAX_NEURONS:
        p.add("population", f"{total} neurons in total; at most {S.MAX_NEURONS} (int32 neuron ids)")
    return out, refs


def _model(name):
    if not isinstance(name, str):
        return None
    try:
        return models.neuron_model(name)
    except KeyError:
        return None


def _population(p, path, r):
    if not isinstance(r, dict):
        p.add(path, f"must be a table, got {describe(r)}")
        return None
    model = _model(r.get("model"))

    def hint(k):   # a model parameter written at the population level
        if model is not None and k in model.params:
            return f" ({k!r} is a parameter of model {model.name!r}: put it under params)"
        if model is not None and k in model.init:
            return f" ({k!r} is an initial value of model {model.name!r}: put it under init)"
        return None

    t = check_table(p, path, r, S.POPULATION, hint=hint)
    if isinstance(t["model"], str) and model is None:
        known = sorted(models.neuron_models())
        close = difflib.get_close_matches(t["model"], known, n=1, cutoff=0.6)
        p.add(join(path, "model"), f"unknown model {t['model']!r}"
              + (f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"))
    size = t["size"] if isinstance(t["size"], int) else None
    if model is not None:
        t["params"] = _params(p, join(path, "params"), r.get("params", {}), model, size)
        t["init"] = _init(p, join(path, "init"), r.get("init", {}), model)
    else:
        t["params"] = t["init"] = INVALID
    t["_model"] = model
    return t


def _params(p, path, raw, model, size):
    if not isinstance(raw, dict):
        p.add(path, f"must be a table, got {describe(raw)}")
        return INVALID
    for k in raw:
        if k not in model.params:
            if k in model.init:
                p.add(join(path, k), f"unknown key ({k!r} is an initial value: put it under init)")
            else:
                p.unknown(join(path, k), k, model.params, f" for model {model.name!r}")
    out = {}
    for name, prm in model.params.items():
        kp = join(path, name)
        if name not in raw:
            if isinstance(prm.default, list):  # per-neuron lists (spike_source times): no useful default
                p.add(kp, f"required for model {model.name!r} ({prm.doc}, {prm.unit}), missing")
                out[name] = INVALID
            else:
                out[name] = prm.default
            continue
        v = raw[name]
        if prm.choices:
            out[name] = check_string(p, kp, v, prm.choices)
        elif isinstance(prm.default, list):
            out[name] = _per_neuron_lists(p, kp, v, size, prm.unit)
        elif isinstance(prm.default, str):
            out[name] = check_string(p, kp, v)
        elif prm.per_neuron:
            out[name] = check_value(p, kp, v, prm.unit, prm.check)
        elif isinstance(v, (dict, Dist)):
            p.add(kp, "must be one number for the whole population, not a distribution")
            out[name] = INVALID
        else:
            out[name] = check_number(p, kp, v, prm.unit, prm.check)
    for low, high in S.PARAM_ORDER:
        a, b = out.get(low), out.get(high)
        if isinstance(a, (float, Dist)) and isinstance(b, (float, Dist)):
            a_hi = a if isinstance(a, float) else a.support()[1]
            b_lo = b if isinstance(b, float) else b.support()[0]
            if not a_hi < b_lo:
                unit = model.params[low].unit
                got = f"got {a:g}" if isinstance(a, float) else f"this distribution reaches {a_hi:g}"
                p.add(join(path, low), f"must be < {high} ({b_lo:g} {unit}), {got}")
    return out


def _per_neuron_lists(p, path, v, size, unit):
    """One list of times (>= 0) per neuron; each list is sorted."""
    n = f"{size} " if size is not None else ""
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, (list, tuple)) for x in v):
        p.add(path, f"must be a list of {n}lists of times ({unit}), one per neuron, got {describe(v)}")
        return INVALID
    if size is not None and len(v) != size:
        p.add(path, f"must have one list per neuron: {size} lists, got {len(v)}")
        return INVALID
    out = []
    for i, times in enumerate(v):
        x = check_numbers(p, f"{path}[{i}]", times, unit, ">=0")
        if x is INVALID:
            return INVALID
        out.append(sorted(x))
    return out


def _init(p, path, raw, model):
    if not isinstance(raw, dict):
        p.add(path, f"must be a table, got {describe(raw)}")
        return INVALID
    for k in raw:
        if k not in model.init:
            if k in model.params:
                p.add(join(path, k), f"unknown key ({k!r} is a parameter: put it under params)")
            else:
                p.unknown(join(path, k), k, model.init, f" for model {model.name!r}")
    return {name: check_value(p, join(path, name), raw[name], prm.unit, prm.check) if name in raw
            else prm.default for name, prm in model.init.items()}


# ---------------------------------------------------------------- [[stimulus]]
def _stimuli(p, raw, pops):
    out, entries = [], []
    kind_keys = S.STIMULUS_KINDS
    known = dict(S.STIMULUS, **{k: v for ks in kind_keys.values() for k, v in ks.items()})
    for path, r in _array(p, "stimulus", raw):
        if not isinstance(r, dict):
            p.add(path, f"must be a table, got {describe(r)}")
            continue
        kind = r.get("kind") if isinstance(r.get("kind"), str) and r.get("kind") in kind_keys else None
        t = check_table(p, path, r, dict(S.STIMULUS, **(kind_keys[kind] if kind else {})), known=known)
        if kind:
            _other_keys(p, path, r, kind, kind_keys, "kind", kind)
        target = _pop_ref(p, join(path, "target"), t["target"], pops, "target")
        _ids(p, join(path, "ids"), t["ids"], target)
        if kind == "current" and isinstance(t["times"], list) and isinstance(t["amplitudes"], list):
            if len(t["times"]) != len(t["amplitudes"]):
                p.add(join(path, "amplitudes"), f"must have one amplitude per time: {len(t['times'])}, "
                                                f"got {len(t['amplitudes'])}")
            bad = [i for i in range(1, len(t["times"])) if t["times"][i] < t["times"][i - 1]]
            if bad:
                p.add(join(path, "times"), f"must be non-decreasing, got {t['times'][bad[0]]:g} after "
                                           f"{t['times'][bad[0] - 1]:g} at index {bad[0]}")
        if kind == "spike_times" and isinstance(t["times"], list):
            t["times"] = sorted(t["times"])
        base = f"{kind}_to_{t['target']}" if kind and target else None
        entries.append((path, t, r.get("name", _MISSING), base))
        out.append(t)
    _assign_names(p, "stimulus", entries)
    return out


def _ids(p, path, ids, target):
    if not isinstance(ids, list):
        return
    if target is not None and target.size is not None:
        for i, x in enumerate(ids):
            if x < 0 or x >= target.size:
                p.add(f"{path}[{i}]", f"id {x} out of range for a population of size {target.size} "
                                      f"(ids are 0 .. {target.size - 1})")
                return
    dup = [x for x, c in Counter(ids).items() if c > 1]
    if dup:
        p.add(path, f"id {dup[0]} listed more than once")


# ---------------------------------------------------------------- [[projection]]
def _projections(p, raw, pops, plasticity):
    out, entries = [], []
    rule_keys = S.PROJECTION_RULES
    known = dict(S.PROJECTION, **{k: v for ks in rule_keys.values() for k, v in ks.items()})
    for path, r in _array(p, "projection", raw):
        if not isinstance(r, dict):
            p.add(path, f"must be a table, got {describe(r)}")
            continue
        rule = r.get("rule") if isinstance(r.get("rule"), str) and r.get("rule") in rule_keys else None
        keys = dict(S.PROJECTION, **(rule_keys[rule] if rule else {}))
        t = check_table(p, path, r, keys, known=known)
        if rule:
            _other_keys(p, path, r, rule, rule_keys, "rule", rule)
            _one_of(p, path, r, rule)
        source = _pop_ref(p, join(path, "source"), t["source"], pops, "source")
        target = _pop_ref(p, join(path, "target"), t["target"], pops, "target")
        if rule and source and target and source.size and target.size:
            _connectivity(p, path, t, rule, source, target, t["source"], t["target"])
        _plastic_weight(p, path, t, plasticity)
        base = f"{t['source']}_to_{t['target']}" if source and target else None
        entries.append((path, t, r.get("name", _MISSING), base))
        out.append(t)
    _assign_names(p, "projection", entries)
    order = ["name", "source", "target", "rule"]
    return [{k: t[k] for k in order + [k for k in t if k not in order]} for t in out]


def _one_of(p, path, raw, rule):
    """Exactly one of a rule's alternative keys (schema.RULE_ONE_OF) is given."""
    keys = S.RULE_ONE_OF.get(rule, ())
    given = [k for k in keys if k in raw]
    if keys and len(given) != 1:
        what = "both " + " and ".join(given) if given else "neither " + " nor ".join(keys)
        p.add(path, f"rule {rule!r} takes exactly one of {', '.join(keys)}, got {what}")


def _connectivity(p, path, t, rule, src, tgt, src_name, tgt_name):
    """Can the rule be realised with these sizes? (No arrays: sizes only.)"""
    aut, mult = t["allow_autapses"], t["allow_multapses"]
    if aut is INVALID or mult is INVALID:
        return
    n_src, n_tgt = src.size, tgt.size
    no_self = src_name == tgt_name and not aut
    if rule == "one_to_one":
        if n_src != n_tgt:
            p.add(join(path, "rule"), f"one_to_one needs source and target of equal size, got "
                                      f"{n_src} ({src_name}) and {n_tgt} ({tgt_name})")
        elif no_self:
            p.add(join(path, "allow_autapses"), "one_to_one from a population onto itself connects each "
                                                "neuron to itself: set allow_autapses = true")
    elif rule in ("fixed_indegree", "fixed_outdegree"):
        key = "indegree" if rule == "fixed_indegree" else "outdegree"
        pool, pool_name = (n_src, src_name) if key == "indegree" else (n_tgt, tgt_name)
        k = t[key]
        if not isinstance(k, int):
            return
        candidates = pool - (1 if no_self else 0)
        why = f"{pool_name!r} has {pool} neurons" + (", no autapses" if no_self else "")
        if k > 0 and candidates == 0:
            p.add(join(path, key), f"no candidates to draw from ({why}), got {k}")
        elif not mult and k > candidates:
            p.add(join(path, key), f"must be <= {candidates} without multapses ({why}), got {k}")
    elif rule == "fixed_total_number":
        n = t["n"]
        if not isinstance(n, int):
            return
        candidates = n_src * n_tgt - (n_src if no_self else 0)
        if n > 0 and candidates == 0:
            p.add(join(path, "n"), f"no candidate pairs (a single neuron without autapses), got {n}")
        elif not mult and n > candidates:
            p.add(join(path, "n"), f"must be <= {candidates} without multapses (the number of distinct "
                                   f"pairs), got {n}")
    elif rule == "pairs" and isinstance(t["pairs"], list):
        for i, (a, b) in enumerate(t["pairs"]):
            kp = f"{join(path, 'pairs')}[{i}]"
            if a >= n_src:
                p.add(kp, f"source id {a} out of range for {src_name!r} (size {n_src})")
                return
            if b >= n_tgt:
                p.add(kp, f"target id {b} out of range for {tgt_name!r} (size {n_tgt})")
                return
            if no_self and a == b:
                p.add(kp, f"[{a}, {b}] connects a neuron to itself: set allow_autapses = true")
                return
        if not mult:
            dup = [pair for pair, c in Counter(t["pairs"]).items() if c > 1]
            if dup:
                p.add(join(path, "pairs"), f"pair {list(dup[0])} repeated without multapses "
                                           f"(allow_multapses = false)")
        t["pairs"] = [list(pair) for pair in t["pairs"]]


def _plastic_weight(p, path, t, plasticity):
    """A plastic projection names a known [plasticity] table and has weights in [0, w_max]."""
    label, w = t["plasticity"], t["weight"]
    if label is None or label is INVALID:
        return
    if label not in plasticity:
        hint = difflib.get_close_matches(label, list(plasticity), n=1, cutoff=0.6)
        p.add(join(path, "plasticity"), f"unknown plasticity {label!r}"
              + (f" (did you mean {hint[0]!r}?)" if hint else
                 f" (known: {', '.join(plasticity) or 'none; define it in [plasticity.' + label + ']'})"))
        return
    if w is INVALID:
        return
    lo, hi = (w, w) if isinstance(w, float) else w.support()

    def got(x, fix):
        return f"got {w:g}" if isinstance(w, float) else f"this distribution reaches {x:g} ({fix})"

    rule = plasticity[label]
    event_rule = isinstance(rule, dict) and S.PLASTICITY_RULES.get(rule.get("rule"), {}).get("kind") == "event"
    if lo < 0 and event_rule:   # trial rules (emotion) allow signed weights
        p.add(join(path, "weight"), f"must be >= 0 for a plastic projection (plasticity {label!r}), "
                                    + got(lo, "set min >= 0"))
    rule = plasticity[label]
    w_max = rule.get("w_max") if isinstance(rule, dict) else None
    if isinstance(w_max, float) and hi > w_max:
        p.add(join(path, "weight"), f"must be <= w_max = {w_max:g} of plasticity {label!r}, "
                                    + got(hi, "set max <= w_max"))


# ---------------------------------------------------------------- [network] [record] [output] [energy]
def _file(p, key, base_dir, name, what="file", must_exist=True):
    """``name`` resolved against ``base_dir``; reported (and None) if it cannot be a path or is missing."""
    try:
        path = (base_dir / name).resolve()
        exists = path.is_file()
    except (OSError, ValueError) as e:   # e.g. an embedded NUL character
        p.add(key, f"not a usable path {name!r}: {e}")
        return None
    if must_exist and not exists:
        p.add(key, f"{what} not found: {path}")
        return None
    return path


def _network(p, raw, base_dir):
    t = check_table(p, "network", raw, S.NETWORK)
    if t is None:
        return scaling.defaults()
    t["graph"] = _file(p, "network.graph", base_dir, t["graph"]) if isinstance(t["graph"], str) else None
    t["nir"] = _file(p, "network.nir", base_dir, t["nir"], what="NIR file") if isinstance(t["nir"], str) else None
    if t["nir"] is None:     # without a NIR graph the scenario's [network] is as before
        for k in NIR_KEYS:
            if isinstance(raw, dict) and k in raw and "nir" not in raw:
                p.add(join("network", k), "used only with network.nir (a NIR graph)")
            t.pop(k)
        t.pop("nir")
    else:
        if t["graph"] is not None:
            p.add("network.nir", "a NIR graph and a GraphML graph (network.graph) cannot be combined")
        if t["scale"] not in (1.0, INVALID) or t["indegree_scale"] not in (None, 1.0, INVALID):
            p.add("network.scale", "a NIR network's neurons and synapses are explicit and cannot be scaled")
    return t


NIR_KEYS = ("nir_time_unit", "nir_dt", "nir_delay")


def _nir(p, network):
    """The scenario parts of [network] nir (eventsim.nir), or None; problems go to ``p``."""
    if network.get("nir") is None or any(network.get(k) is INVALID for k in NIR_KEYS):
        return None
    from ..errors import InputError
    try:
        from ..nir import scenario as nir_scenario
        return nir_scenario.read(network["nir"], nir_scenario.units_of(network), label=network["nir"].name)
    except InputError as exc:
        for line in exc.problems:
            p.add("network.nir", line)
        return None


def _with(raw, extra):
    """An array section's tables followed by ``extra`` (the NIR graph's), when there are any."""
    if not extra:
        return raw
    if raw is _MISSING:
        return list(extra)
    return raw + list(extra) if isinstance(raw, list) else raw   # not an array: reported as such


def _add_nir_projections(p, projections, extra):
    """Append the NIR graph's projections (already checked: explicit pairs, finite weights,
    delays > 0); a scenario projection of the same name is a conflict."""
    names = {q["name"] for q in projections}
    for q in extra:
        if q["name"] in names:
            p.add("network.nir", f"projection {q['name']!r} of the NIR graph is also a projection of the "
                                 f"scenario; rename the scenario's")
        projections.append(q)


def _record(p, raw, pops, projections, network):
    t = check_table(p, "record", raw, S.RECORD)
    if t is None:
        return None
    spikes = t["spikes"]
    if isinstance(spikes, str):
        if spikes != "all":
            p.add("record.spikes", f"must be \"all\" or a list of population names, got {spikes!r}")
    elif isinstance(spikes, list):
        spikes = check_names(p, "record.spikes", spikes)
        for i, name in enumerate(spikes or []):
            _pop_ref(p, f"record.spikes[{i}]", name, pops, "source")
    else:
        p.add("record.spikes", f"must be \"all\" or a list of population names, got {describe(spikes)}")
    t["state"] = _state_probes(p, t["state"], pops)
    names = [q["name"] for q in projections if isinstance(q.get("name"), str)]
    if len(names) < len(projections):   # a projection without a usable name: references can't be judged
        return t
    for key in ("weights", "weight_events"):
        for i, name in enumerate(t[key] or []):
            if name not in names and not (network["graph"] and _graph_projection_name(name, pops)):
                hint = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
                p.add(f"record.{key}[{i}]", f"unknown projection {name!r}"
                      + (f" (did you mean {hint[0]!r}?)" if hint else f" (known: {', '.join(names) or 'none'})"))
    plastic = {q["name"] for q in projections if q.get("plasticity")}
    for i, name in enumerate(t["weight_events"] or []):
        if name in names and name not in plastic:
            p.add(f"record.weight_events[{i}]", f"projection {name!r} is not plastic (its weight never changes)")
    if t["weights_interval"] is not None and not t["weights"]:
        p.add("record.weights_interval", "samples the weights of record.weights, which is empty")
    return t


def _state_probes(p, raw, pops):
    """[[record.state]]: each a table of S.RECORD_STATE, at most one per population; the
    model-dependent checks (variables, ids, times) are the probe's own (output.report)."""
    from ..output.report import check_probe
    if not isinstance(raw, list):
        p.add("record.state", f"must be a list of tables ([[record.state]] in TOML), got {describe(raw)}")
        return []
    out, seen = [], set()
    for i, r in enumerate(raw):
        path = f"record.state[{i}]"
        t = check_table(p, path, r, S.RECORD_STATE)
        if t is None:
            continue
        ref = _pop_ref(p, join(path, "population"), t["population"], pops, "source")
        if ref is None or ref.model is None or ref.size is None:
            continue
        if t["population"] in seen:
            p.add(join(path, "population"), f"{t['population']!r} already has a state probe")
        seen.add(t["population"])
        # keys already reported stand in with harmless values, so the others are still checked
        bad = {k for k in t if t[k] is INVALID}
        ok = {k: (dict(variables=["v"], ids="all", interval=1.0, start=0.0, stop=None)[k] if k in bad
                  else t[k]) for k in ("variables", "ids", "interval", "start", "stop")}
        for msg in check_probe(path, ref.model.name, ref.size, **ok):
            key, text = msg.split(":", 1)
            if not any(key == join(path, k) or key.startswith(join(path, k) + "[") for k in bad):
                p.add(key, text.strip())
        out.append(t)
    return out


def _graph_projection_name(name, pops):
    """A name the graph's synapses may get: '<source>_to_<target>' of known populations, optionally
    followed by '_graph' and/or '_<k>' (as eventsim.network.graph names them)."""
    for src in pops:
        for tgt in pops:
            base = f"{src}_to_{tgt}"
            if name == base or (name.startswith(base + "_")
                                and re.fullmatch(r"(_graph)?(_\d+)?", name[len(base):])):
                return True
    return False


def _output(p, raw, base_dir):
    t = check_table(p, "output", raw, S.OUTPUT)
    if t is None:
        return {"path": None, "checkpoint_every": None}
    every = t.get("checkpoint_every")
    if not isinstance(t["path"], str):
        return {"path": None, "checkpoint_every": every}
    path = _file(p, "output.path", base_dir, t["path"], must_exist=False)
    return {"path": str(path) if path else None, "checkpoint_every": every}


def _energy(p, raw, base_dir):
    t = check_table(p, "energy", raw, S.ENERGY)
    if t is None:
        return None
    hardware = t["hardware"]
    if isinstance(hardware, str):
        hardware = [hardware]
    if not isinstance(hardware, list):
        p.add("energy.hardware", f"must be a list of hardware names or profile paths, "
                                 f"got {describe(hardware)}")
        return None
    out = []
    for i, h in enumerate(hardware):
        path = f"energy.hardware[{i}]"
        if not isinstance(h, str):
            p.add(path, f"must be a hardware name or a .toml profile path, got {describe(h)}")
        elif h in S.HARDWARE_NAMES:
            out.append(h)
        elif h.endswith(".toml"):
            f = _file(p, path, base_dir, h, what="profile file")
            if f is not None:
                out.append(str(f))
        else:
            hint = difflib.get_close_matches(h, S.HARDWARE_NAMES, n=1, cutoff=0.6)
            p.add(path, f"unknown hardware {h!r}" + (f" (did you mean {hint[0]!r}?)" if hint else
                        f" (known: {', '.join(S.HARDWARE_NAMES)}, or a path to a .toml profile)"))
    dup = [h for h, c in Counter(out).items() if c > 1]
    if dup:
        p.add("energy.hardware", f"{dup[0]!r} listed more than once")
    return {"hardware": out}


# ---------------------------------------------------------------- [analysis]
def _analysis(p, raw, simulation, duration_override=False):
    t = check_table(p, "analysis", raw, S.ANALYSIS)
    if t is None:
        return {"t_start": None}
    t_start = t["t_start"]
    if t_start is INVALID:
        return {"t_start": None}
    duration = (simulation or {}).get("duration")
    if t_start is not None and isinstance(duration, float) and t_start >= duration:
        if duration_override:     # a shorter run than the scenario's: it runs, analyze needs --t-start
            import warnings
            warnings.warn(f"analysis.t_start: {t_start:g} ms is not before the end of this run "
                          f"({duration:g} ms, a duration given apart from the scenario); eventsim "
                          f"analyze of its output will need --t-start", stacklevel=3)
        else:
            p.add("analysis.t_start", f"must be before the end of the run (simulation.duration = "
                                      f"{duration:g} ms), got {t_start:g} ms")
    return {"t_start": t_start}
