"""The model page (``docs/models.md``), generated from the neuron model catalogue.

``python -m eventsim.models_doc > docs/models.md`` rewrites the page; a test checks
that the committed page equals :func:`models_markdown`, so the page cannot drift from
the declarations in ``models/neurons/``. Edit the declarations, not the page.
"""
from __future__ import annotations

import sys

from . import models

INTRO = """\
# Neuron models

<!-- Generated from the model catalogue (models/neurons/) by
     `python -m eventsim.models_doc > docs/models.md`. Do not edit by hand. -->

Every neuron model a scenario can name with `model = "<name>"`, with its equations,
parameters (`[population.params]`), initial values (`[population.init]`) and source.
Units: time ms, potential mV, current pA, capacitance pF, rate Hz. A parameter marked
"per neuron" may be a distribution drawn per neuron. How to add a model:
[engine.md](engine.md), "Adding a neuron model".
"""

_CHECKS = {"any": "-", ">0": "> 0", ">=0": ">= 0"}


def _cell(v):
    return str(v).replace("|", "\\|").replace("\n", " ")


def _default(prm):
    if prm.default is None:
        return "see meaning"
    if isinstance(prm.default, str):
        return f'`"{prm.default}"`'
    if isinstance(prm.default, list):
        return "required"
    return f"`{prm.default!r}`"


def _constraint(prm):
    if prm.choices:
        return " \\| ".join(f'`"{c}"`' for c in prm.choices)
    return _CHECKS.get(prm.check, prm.check)


def _table(params):
    rows = ["| name | default | unit | constraint | per neuron | meaning |",
            "|---|---|---|---|---|---|"]
    for name, prm in params.items():
        rows.append(f"| `{name}` | {_default(prm)} | {prm.unit or '-'} | {_constraint(prm)} | "
                    f"{'yes' if prm.per_neuron and not prm.choices else 'no'} | {_cell(prm.doc)} |")
    return "\n".join(rows) + "\n"


def _model(model):
    kind = " (a source: receives no input)" if model.is_source else ""
    out = [f"## `{model.name}`{kind}\n", f"{model.doc}\n",
           "Equations:\n", "```\n" + model.equations.rstrip("\n") + "\n```\n"]
    if model.params:
        out.append("Parameters (`[population.params]`):\n\n" + _table(model.params))
    if model.init:
        out.append("Initial values (`[population.init]`):\n\n" + _table(model.init))
    if model.state:
        out.append("State: " + ", ".join(f"`{s}`" for s in model.state) + ".\n")
    if model.kernel_module:
        line = f"Kernel: `{model.kernel_module}`"
        if model.kernel_variants is not None:
            option, modules = model.kernel_variants
            line += "; " + "; ".join(f"`{option} = \"{v}\"`: `{m}` (the same equations compiled for it)"
                                     for v, m in modules.items())
        out.append(line + ".\n")
    out.append(f"Source: {_cell(model.source)}\n")
    return "\n".join(out)


PLASTICITY_INTRO = """\
# Plasticity rules

Every rule a `[plasticity.<label>]` table can name with `rule = "<name>"` (declared in
models/plasticity/), with its update and keys. "event" rules are applied spike by spike
inside the engine (eventsim/engine/plasticity.py); "trial" rules between presentations
of a trial loop (docs/trials.md).
"""


def _rule(rule):
    rows = ["| key | default | unit | constraint | meaning |", "|---|---|---|---|---|"]
    for name, prm in rule.params.items():
        rows.append(f"| `{name}` | {_default(prm)} | {prm.unit or '-'} | {_constraint(prm)} | {_cell(prm.doc)} |")
    return "\n".join([f"## `{rule.name}` ({rule.kind})\n", f"{rule.doc}\n", "Update:\n",
                      "```\n" + rule.equations.rstrip("\n") + "\n```\n",
                      "Keys (`[plasticity.<label>]`):\n\n" + "\n".join(rows) + "\n",
                      f"Source: {_cell(rule.source)}\n"])


def models_markdown() -> str:
    """The full model page: one section per registered neuron model and plasticity rule."""
    from .models.plasticity import plasticity_rules
    return "\n".join([INTRO] + [_model(m) for _, m in sorted(models.neuron_models().items())]
                     + [PLASTICITY_INTRO] + [_rule(r) for _, r in sorted(plasticity_rules().items())])


def main(argv=None):
    sys.stdout.write(models_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
