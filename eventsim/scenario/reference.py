"""The scenario reference page (``docs/scenario-format.md``), generated from the schema.

``python -m eventsim.scenario.reference > docs/scenario-format.md`` rewrites the page;
a test checks that the committed page equals :func:`scenario_format_markdown`, so
the page cannot drift from the checks. Edit the schema (or the model catalogue),
not the page.
"""
from __future__ import annotations

import sys

from .. import models
from . import schema as S

EXAMPLE = """\
[simulation]
duration = 1000.0                 # ms
seed = 42
backend = "cpu"

[[population]]
name = "exc"
size = 800
model = "lif"
[population.params]
tau_m = 20.0
v_rest = 0.0
v_reset = 10.0
v_th = 20.0
t_ref = 2.0
[population.init]
v = {uniform = [0.0, 20.0]}       # drawn per neuron

[[population]]
name = "inputs"
size = 100
model = "poisson_source"
params = {rate = 10.0}

[[population]]
name = "pattern"
size = 2
model = "spike_source"
params = {times = [[5.0, 10.0], [7.5]]}

[[stimulus]]
name = "drive"
kind = "poisson"
target = "exc"
ids = [0, 1, 2]
rate = 20.0
weight = 0.1
delay = 1.5

[[stimulus]]
kind = "current"                  # default name "current_to_exc"
target = "exc"
times = [100.0, 300.0]
amplitudes = [200.0, 0.0]

[[projection]]
name = "ee"
source = "exc"
target = "exc"
rule = "fixed_indegree"
indegree = 80
weight = {uniform = [0.0, 0.4]}
delay = {normal = [1.5, 0.5], min = 0.1}
plasticity = "stdp_ee"

[[projection]]                    # default name "inputs_to_exc"
source = "inputs"
target = "exc"
rule = "fixed_probability"
p = 0.1
weight = 0.5
delay = 1.0

[plasticity.stdp_ee]
rule = "stdp"
tau_plus = 16.8

[record]
spikes = "all"
weights = ["ee"]

[output]
path = "run.h5"

[energy]
hardware = ["loihi", "cmos45"]
"""

INTRO = """\
# Scenario file format

<!-- Generated from eventsim/scenario/schema.py and the model catalogue by
     `python -m eventsim.scenario.reference > docs/scenario-format.md`. Do not edit by hand. -->

A scenario is a TOML file (or a JSON file, ending in `.json`, with the same
structure) that says what to simulate. `eventsim validate SCENARIO` checks one
without running it; `eventsim.scenario.load_scenario(path_or_dict)` does the
same from Python and returns the normalised `Scenario`.

- Units: time ms, potential mV, current pA, capacitance pF, rate Hz.
- Unknown keys are errors, reported with a "did you mean" hint.
- Every problem is reported at once, one line each, starting with its key path
  (arrays of tables are counted from 0): `projection[2].delay: must be > 0 ms, got 0`.
  The command line then exits with code 2.
- An integer is accepted where a number is expected; a boolean or a string is not.
- A *name* is a non-empty string without `/`, control characters or surrounding
  spaces (names become group names in the output file).
- A *path* is a string, relative to the scenario file (or absolute).
- `eventsim run --seed/--duration/--backend` (and `load_scenario(..., overrides=
  {"simulation.seed": 3})`) replace values before validation.
- A key marked "number or distribution" takes a number or a distribution
  table (see "Distributions"), drawn per neuron or per synapse.

## Example

```toml
""" + EXAMPLE + "```\n"

TAIL = """\
## Distributions

Wherever "number or distribution" is allowed:

| form | parameters | values |
|---|---|---|
| `{uniform = [low, high]}` | low < high | [low, high) |
| `{normal = [mean, std]}` | std >= 0 | all reals (std > 0) |
| `{lognormal = [mu, sigma]}` | sigma >= 0; exp(normal(mu, sigma)) | > 0 |

Each may add `min` and/or `max` (numbers, min <= max): draws outside are
redrawn. The bounds must keep at least @MASS@ of the draws. Constraints of a key
(for example `delay` > 0, or `tau_m` > 0) must hold for every value the
distribution can produce: a delay distribution needs `min` > 0 unless it cannot
reach 0 (lognormal), and a plastic projection's weight distribution needs
`min` >= 0 and `max` <= w_max.

## Connectivity limits

Checked from the sizes before anything is built:

- `one_to_one` needs equal sizes; from a population onto itself it needs
  `allow_autapses = true`.
- Without multapses, `indegree` is at most the source size, `outdegree` at most
  the target size and `n` at most source size x target size (each minus the
  self-connections when source = target and autapses are off).
- `pairs` ids must be in range; a pair [i, i] within one population needs
  `allow_autapses = true`; repeated pairs need `allow_multapses = true`.
- `ids` of a stimulus must be in range of the target and not repeated.
- Populations have at most @MAX_NEURONS@ neurons in total; at most
  @MAX_PROJ@ projections (spike_times stimuli count as one each).
"""


def _cell(v):
    return str(v).replace("|", "\\|").replace("\n", " ")


def _default(key_default):
    if key_default is S.REQUIRED:
        return "required"
    if key_default is None:
        return "-"
    if isinstance(key_default, str):
        return f'`"{key_default}"`'
    if isinstance(key_default, bool):
        return "`true`" if key_default else "`false`"
    if isinstance(key_default, dict) and not key_default:
        return "`{}`"
    return f"`{key_default!r}`"


def _constraint(key):
    if key.choices:
        return " \\| ".join(f'`"{c}"`' for c in key.choices)
    return S.CHECKS.get(key.check, key.check)


def _table(keys):
    rows = ["| key | type | default | unit | constraint | meaning |", "|---|---|---|---|---|---|"]
    for name, key in keys.items():
        rows.append(f"| `{name}` | {S.TYPES[key.type]} | {_default(key.default)} | {key.unit} | "
                    f"{_constraint(key)} | {_cell(key.doc)} |")
    return "\n".join(rows) + "\n"


def _param_type(prm):
    if prm.choices or isinstance(prm.default, str):
        return "string"
    if isinstance(prm.default, list):
        return "list of lists of numbers (one per neuron)"
    return "number or distribution" if prm.per_neuron else "number"


def _param_table(params, list_required=True):
    rows = ["| key | type | default | unit | constraint | meaning |", "|---|---|---|---|---|---|"]
    for name, prm in params.items():
        default = "required" if isinstance(prm.default, list) and list_required else _default(prm.default)
        constraint = (" \\| ".join(f'`"{c}"`' for c in prm.choices) if prm.choices
                      else "each >= 0" if isinstance(prm.default, list)   # see validate._per_neuron_lists
                      else S.CHECKS.get(prm.check, prm.check))
        rows.append(f"| `{name}` | {_param_type(prm)} | {default} | {prm.unit} | {constraint} | "
                    f"{_cell(prm.doc)} |")
    return "\n".join(rows) + "\n"


def _models():
    out = ["### Neuron models\n",
           "`params` and `init` keys per model (from the model catalogue, `models/neurons/`).\n"]
    for name, model in sorted(models.neuron_models().items()):
        kind = " (a source: receives no input)" if model.is_source else ""
        out.append(f"#### `{name}`{kind}\n\n{_cell(model.doc)}\n\nSource: {_cell(model.source)}\n")
        if model.params:
            out.append("`params`:\n\n" + _param_table(model.params))
        if model.init:
            out.append("`init`:\n\n" + _param_table(model.init, list_required=False))
    if S.PARAM_ORDER:
        pairs = ", ".join(f"`{a}` < `{b}`" for a, b in S.PARAM_ORDER)
        out.append(f"Where a model has both, {pairs} (for distributions: every value).\n")
    return "\n".join(out)


def _section(name, sec):
    head = {"table": f"[{name}]", "array": f"[[{name}]]", "map": f"[{name}.<label>]"}[sec.kind]
    req = " Required." if sec.required else ""
    return f"## `{head}`\n\n{sec.doc}{req}\n\n" + _table(sec.keys)


def scenario_format_markdown() -> str:
    """The full reference page, from the schema tables and the model catalogue."""
    parts = [INTRO]
    for name, sec in S.SECTIONS.items():
        parts.append(_section(name, sec))
        if name == "population":
            parts.append(_models())
        elif name == "stimulus":
            for kind, keys in S.STIMULUS_KINDS.items():
                parts.append(f'### `kind = "{kind}"`\n\n' + _table(keys))
        elif name == "projection":
            for rule, keys in S.PROJECTION_RULES.items():
                parts.append(f'### `rule = "{rule}"`\n\n' + (_table(keys) if keys else "No further keys.\n"))
        elif name == "plasticity":
            parts.append("`[plasticity.<label>]` tables are named by their label, which projections give "
                         "as `plasticity = \"<label>\"`.\n")
            for rule, spec in S.PLASTICITY_RULES.items():
                parts.append(f'### `rule = "{rule}"`\n\n{_cell(spec["doc"])}.\n\n' + _table(spec["keys"]))
    parts.append(TAIL.replace("@MASS@", f"{S.DIST_MIN_MASS:.0%}")
                 .replace("@MAX_NEURONS@", f"{S.MAX_NEURONS:,}")
                 .replace("@MAX_PROJ@", f"{S.MAX_PROJECTIONS:,}"))
    return "\n".join(parts)


def main(argv=None):
    sys.stdout.write(scenario_format_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
