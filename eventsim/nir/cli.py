"""``eventsim nir-import`` and ``eventsim nir-export``.

    eventsim nir-import MODEL.nir [-o SCENARIO.toml] [--time-unit MS] [--dt DT] [--delay MS] [--json] [--force]
    eventsim nir-export SCENARIO [-o MODEL.nir] [--force]

nir-import writes a scenario that runs the graph (``[network] nir``), headed by what
the graph became (populations with their eventsim parameters, projections with their
synapse counts, weight ranges and delays); without ``-o`` it prints it. nir-export
writes the network of a scenario as a NIR file and prints what it left out. Outputs
are never written over an input, nor over an existing file without ``--force``.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..output.paths import check_target
from .neurons import NEVER, Units
from .scenario import read


def run_import(path, output=None, *, time_unit=1000.0, dt=1e-4, delay=0.01, json_out=False, force=False,
               out=None) -> int:
    out = out or sys.stdout
    path = Path(path)
    if output is not None:
        check_target(output, "-o", force=force, inputs=[path])
    units = Units(time_unit=float(time_unit), dt=float(dt), delay=float(delay))
    for key, value in (("--time-unit", units.time_unit), ("--dt", units.dt), ("--delay", units.delay)):
        if not (np.isfinite(value) and value > 0):
            raise InputError(f"{key}: must be > 0, got {value:g}")
    parts = read(path, units)
    summary = describe_parts(parts)
    if json_out:
        print(json.dumps(summary), file=out)
        return 0
    nir_ref = _relative(path, Path(output).parent if output is not None else Path.cwd())
    text = scenario_text(summary, nir_ref, units)
    from ..scenario.load import load_scenario, parse_text    # the written scenario must load
    load_scenario(parse_text(text), base_dir=Path(output).parent if output is not None else Path.cwd())
    if output is None:
        out.write(text)
        return 0
    Path(output).write_text(text)
    print(f"wrote {output}: {len(summary['populations'])} populations, {len(summary['projections'])} "
          f"projections, {sum(q['synapses'] for q in summary['projections'])} synapses", file=out)
    return 0


def run_export(scenario, output=None, *, force=False, out=None) -> int:
    out = out or sys.stdout
    import nir
    from ..api import load
    from .api import to_nir
    sc = load(scenario)
    output = Path(output) if output is not None else Path(scenario).with_suffix(".nir")
    check_target(output, "-o", force=force, inputs=[scenario, sc.network.get("nir")])
    graph, notes = to_nir(sc)
    nir.write(output, graph)
    for note in notes:
        print(f"eventsim: note: {note}", file=sys.stderr)
    kinds = {}
    for node in graph.nodes.values():
        kinds[type(node).__name__] = kinds.get(type(node).__name__, 0) + 1
    print(f"wrote {output}: {len(graph.nodes)} nodes (" + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
          + f"), {len(graph.edges)} edges", file=out)
    return 0


def _relative(path, folder):
    try:
        return os.path.relpath(Path(path).resolve(), Path(folder).resolve())
    except ValueError:          # another drive (Windows)
        return str(Path(path).resolve())


def describe_parts(parts) -> dict:
    """What the graph became, as plain data."""
    c = parts.composed
    bias_stims = {}
    for st in parts.stimuli:
        bias_stims[st["target"]] = bias_stims.get(st["target"], 0) + 1
    pops = []
    for table in parts.populations:
        name = table["name"]
        node = c.flat.nodes[name]
        params = {k: v for k, v in table["params"].items() if k != "times"}
        if params.get("v_th") == NEVER:
            params["v_th"] = "never reached (does not spike)"
        pops.append(dict(name=name, node=type(node).__name__, model=table["model"], size=table["size"],
                         params=params, bias_stimuli=bias_stims.get(name, 0)))
    projs = []
    for q, s in zip(parts.projections, c.synapses):
        projs.append(dict(name=q["name"], source=q["source"], target=q["target"], synapses=int(s.weight.size),
                          through=[f"{n} ({type(c.flat.nodes[n]).__name__})" for n in s.nodes],
                          weight_min=float(s.weight.min()), weight_max=float(s.weight.max()),
                          weight_unit="pA" if c.neurons[s.target].table["params"].get("synapse") == "exp" else "mV",
                          delay_min=float(s.delay.min()), delay_max=float(s.delay.max())))
    return dict(file=c.flat.label, inputs=c.inputs, outputs=c.outputs, populations=pops, projections=projs)


def scenario_text(summary, nir_ref, units: Units) -> str:
    lines = [f"# eventsim scenario running the NIR graph {summary['file']} (written by eventsim nir-import).",
             "# What the graph became (mapping and units: docs/nir.md):"]
    from .. import models
    for p in summary["populations"]:
        spec = models.neuron_model(p["model"]).params
        params = ", ".join(f"{k} = {v:g} {spec[k].unit}".rstrip() if isinstance(v, float) else f"{k} = {v}"
                           for k, v in p["params"].items())
        extra = f"; a constant current per neuron (the bias: {p['bias_stimuli']} current stimuli)" \
            if p["bias_stimuli"] else ""
        lines.append(f"#   population {p['name']!r} <- {p['node']}: {p['model']}, {p['size']} neurons"
                     + (f": {params}" if params else "") + extra)
    for q in summary["projections"]:
        through = ", ".join(q["through"]) or "a direct edge"
        lines.append(f"#   projection {q['name']!r} <- {through}: {q['synapses']} synapses, weights "
                     f"{q['weight_min']:.4g} .. {q['weight_max']:.4g} {q['weight_unit']}, delay "
                     + (f"{q['delay_min']:g} ms" if q["delay_min"] == q["delay_max"]
                        else f"{q['delay_min']:g} .. {q['delay_max']:g} ms"))
    lines.append(f"# Inputs (spike_source populations): {', '.join(summary['inputs']) or 'none'}; "
                 f"outputs: {', '.join(summary['outputs']) or 'none'}.")
    out = summary["outputs"][0] if summary["outputs"] else "OUTPUT"
    inp = summary["inputs"][0] if summary["inputs"] else "INPUT"
    lines += ["", "[simulation]", "duration = 100.0                # ms (a [trials] section sets it instead)",
              "seed = 0", "", "[network]", f"nir = {json.dumps(nir_ref)}",
              f"nir_time_unit = {units.time_unit!r}     # ms per NIR time unit",
              f"nir_dt = {units.dt!r}              # the step the graph was trained with (NIR time units)",
              f"nir_delay = {units.delay!r}             # ms, every connection", "",
              "[record]", 'spikes = "all"', "",
              "# Inference on a data set (docs/nir.md, docs/trials.md): encode, run, decode, score.",
              "# [trials]", f'# input = "{inp}"', f'# output = "{out}"',
              '# dataset = "test.csv"          # one sample per row, values in [0, 1], the class last',
              "# epochs = 0                    # evaluation only", '# encoding = "latency"',
              "# latency_max = 20.0", "# window = 30.0", '# decoding = "rate"', ""]
    return "\n".join(lines)
