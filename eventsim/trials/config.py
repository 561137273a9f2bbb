"""Validation of the [trials] section (called by eventsim.scenario.validate).

Normalises the section into a dict with every default filled in, the dataset read
(``patterns``: list of lists, ``tags``: list of ints), ``n_classes`` and
``duration`` (the simulated time the loop needs) set, and reports every problem
with its key path.
"""
from __future__ import annotations

import numpy as np

from ..scenario.values import INVALID, check_table, describe, join


def plan_duration(t, n_patterns):
    """ms the loop simulates: an initial evaluation, then per epoch a training pass and
    an evaluation pass, each presentation one window."""
    return (1 + 2 * t["epochs"]) * n_patterns * t["window"]


def read_dataset(path):
    """(patterns (n, features), tags (n,)) from a CSV file: one pattern per row, the
    tag (a class index) in the last column; '#' starts a comment."""
    data = np.loadtxt(path, delimiter=",", comments="#", ndmin=2)
    if data.shape[1] < 2:
        raise ValueError("needs at least one input column and the tag column")
    return data[:, :-1].tolist(), data[:, -1].tolist()


def _patterns(p, t, base_dir):
    if (t["patterns"] is None) == (t["dataset"] is None):
        p.add("trials", "give either patterns (with tags) or dataset, not both or neither")
        return None, None
    if t["dataset"] is not None:
        path = (base_dir / t["dataset"]).resolve()
        if t["tags"] is not None:
            p.add("trials.tags", "not used with dataset (the tags are its last column)")
        try:
            pats, tags = read_dataset(path)
        except (OSError, ValueError) as e:
            p.add("trials.dataset", f"cannot read {path}: {e}")
            return None, None
        t["dataset"] = str(path)
    else:
        pats, tags = t["patterns"], t["tags"]
        if not isinstance(pats, list) or not pats:
            p.add("trials.patterns", f"must be a non-empty list of input vectors, got {describe(pats)}")
            return None, None
        if tags is None or tags is INVALID:
            if tags is None:
                p.add("trials.tags", "required with patterns (one class index per pattern), missing")
            return None, None
        for i, x in enumerate(pats):
            ok = isinstance(x, list) and x and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) or
                (t["encoding"] == "delta" and isinstance(v, list) and v and
                 all(isinstance(u, (int, float)) and not isinstance(u, bool) for u in v)) for v in x)
            if not ok:
                p.add(f"trials.patterns[{i}]", "must be a non-empty list of numbers (delta encoding: "
                                               f"or of per-channel sample lists), got {describe(x)}")
                return None, None
        if len(tags) != len(pats):
            p.add("trials.tags", f"must have one tag per pattern: {len(pats)}, got {len(tags)}")
            return None, None
    if any(float(g) != int(g) or g < 0 for g in tags):
        p.add("trials.dataset" if t["dataset"] else "trials.tags", "tags must be class indices (integers >= 0)")
        return None, None
    widths = {len(x) for x in pats}
    if len(widths) != 1:
        p.add("trials.patterns", f"all patterns must have the same number of channels, got {sorted(widths)}")
        return None, None
    return pats, [int(g) for g in tags]


def validate_trials(p, raw, keys, pops, populations, plasticity, projections, base_dir):
    """The normalised [trials] dict (or None when absent / invalid; problems go to ``p``)."""
    emotion_labels = {k for k, v in plasticity.items() if isinstance(v, dict) and v.get("rule") == "emotion"}
    for label in emotion_labels:
        v = plasticity[label]
        if isinstance(v.get("baseline_rate"), float) and not v["baseline_rate"] <= 1:
            p.add(join(join("plasticity", label), "baseline_rate"), f"must be <= 1, got {v['baseline_rate']:g}")
        for k in ("reward", "punishment"):
            if isinstance(v.get(k), float) and not v[k] < 1:
                p.add(join(join("plasticity", label), k), f"must be < 1 (e is in (-1, 1)), got {v[k]:g}")
        if isinstance(v.get("w_min"), float) and isinstance(v.get("w_max"), float) and not v["w_min"] < v["w_max"]:
            p.add(join(join("plasticity", label), "w_min"), f"must be < w_max = {v['w_max']:g}, got {v['w_min']:g}")
    if raw is None:
        for i, q in enumerate(projections):
            if q.get("plasticity") in emotion_labels:
                p.add(f"projection[{i}].plasticity", f"rule 'emotion' of {q['plasticity']!r} is applied "
                                                     "per trial: it needs a [trials] section")
        return None
    t = check_table(p, "trials", raw, keys)
    if t is None or any(v is INVALID for v in t.values()):
        return None
    pats, tags = _patterns(p, t, base_dir)
    if pats is None:
        return None
    by_name = {q["name"]: q for q in populations if isinstance(q.get("name"), str)}
    inp, out = by_name.get(t["input"]), by_name.get(t["output"])
    if inp is None:
        p.add("trials.input", f"unknown population {t['input']!r}")
    elif inp["model"] != "spike_source":
        p.add("trials.input", f"must be a spike_source population (the patterns are its trains), "
                              f"{t['input']!r} is a {inp['model']}")
    if t["exploration"] is not None:
        ex = by_name.get(t["exploration"])
        if ex is None:
            p.add("trials.exploration", f"unknown population {t['exploration']!r}")
        elif ex["model"] != "spike_source" or t["exploration"] == t["input"]:
            p.add("trials.exploration", f"must be a spike_source population other than the input, "
                                        f"{t['exploration']!r} is not")
    if out is None:
        p.add("trials.output", f"unknown population {t['output']!r}")
    elif pops.get(t["output"]) is not None and pops[t["output"]].is_source:
        p.add("trials.output", f"{t['output']!r} is a source population; the output must integrate input")
    if t["shuffle_tags"] and t["shuffle_tags_per_epoch"]:
        p.add("trials.shuffle_tags_per_epoch", "choose one control: shuffle_tags (one permutation, kept) "
                                               "or shuffle_tags_per_epoch (a new one every epoch)")
    from .encoding import n_channels_out
    if t["complement"] and t["encoding"] == "delta":
        p.add("trials.complement", "not with encoding = \"delta\" (use delta_off for OFF spikes)")
        return None
    n_in = n_channels_out(len(pats[0]), t["encoding"], t["delta_off"], t["complement"], t["bias"])
    if t["encoding"] == "delta" and t["delta_off"] and t["bias"]:
        n_in += 1       # the bias channel is delta-encoded too: a step from 0 makes its OFF twin
    if inp is not None and isinstance(inp.get("size"), int) and inp["size"] != n_in:
        p.add("trials.input", f"population {t['input']!r} has {inp['size']} neurons; the patterns need "
                              f"{n_in} ({len(pats[0])} channels" + (" + bias" if t["bias"] else "")
                              + (", ON and OFF" if t["complement"] else "")
                              + (", ON and OFF" if t["encoding"] == "delta" and t["delta_off"] else "") + ")")
    n_classes = t["n_classes"] if t["n_classes"] is not None else max(tags) + 1
    if max(tags) >= n_classes:
        p.add("trials.n_classes", f"must exceed every tag ({max(tags)}), got {n_classes}")
    if out is not None and isinstance(out.get("size"), int):
        size = out["size"]
        if t["decoding"] in ("rate", "first") and size != n_classes:
            p.add("trials.output", f"decoding {t['decoding']!r} needs one output neuron per class "
                                   f"({n_classes}), {t['output']!r} has {size}")
        if t["decoding"] == "population" and size % n_classes:
            p.add("trials.output", f"population decoding needs a size divisible by n_classes = "
                                   f"{n_classes}, {t['output']!r} has {size}")
    if t["encoding"] == "latency" and t["latency_max"] >= t["window"]:
        p.add("trials.latency_max", f"must be < window = {t['window']:g} ms, got {t['latency_max']:g}")
    if t["encoding"] == "delta":
        n_samples = max(len(v) if isinstance(v, list) else 1 for x in pats for v in x)
        if (n_samples - 1) * t["sample_interval"] >= t["window"]:
            p.add("trials.sample_interval", f"{n_samples} samples every {t['sample_interval']:g} ms do "
                                            f"not fit in the window of {t['window']:g} ms")
    t.update(patterns=pats, tags=tags, n_classes=n_classes)
    t["duration"] = plan_duration(t, len(pats))
    return t
