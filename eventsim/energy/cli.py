"""``eventsim energy OUT.h5 [--hardware NAME[,NAME...]] [--json]``: the thin command layer.

Reads the counters, rebuilds the network from the scenario stored in the file
(for the mapping onto cores and the routing split), accounts every profile,
prints a table or one JSON object, and (only when asked, ``--plot PNG``) draws the
comparison plot, after the report is printed.
"""
from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

from eventsim.errors import InputError

from eventsim.scenario.load import parse_text

from .accounting import Connectivity, account
from .counters import read_counters
from .presentations import per_presentation, presentations
from .presentations import text as presentation_text
from .report import plot_comparison, text_report

DEFAULT_HARDWARE = ("loihi", "truenorth", "spinnaker", "spinnaker2", "cmos45")


def hardware_specs(hardware, counters):
    """(specs, base_dir, where): the argument, else the scenario's [energy] hardware, else all built-ins."""
    if hardware:
        specs = hardware.split(",") if isinstance(hardware, str) else list(hardware)
        return [s.strip() for s in specs if s.strip()], None, "--hardware"
    if counters.scenario:
        try:
            hw = parse_text(counters.scenario).get("energy", {}).get("hardware")
        except (ValueError, AttributeError):
            hw = None
        if hw:
            hw = [hw] if isinstance(hw, str) else list(hw)
            return [str(h) for h in hw], counters.scenario_dir or None, "energy.hardware"
    return list(DEFAULT_HARDWARE), None, "--hardware"


def rebuild_connectivity(counters):
    """Connectivity arrays from the scenario in the file, or (None, reason) if it cannot be rebuilt."""
    if not counters.scenario:
        return None, "the file holds no scenario"
    try:
        from eventsim.network.build import build_network
        from eventsim.scenario import load_scenario
    except ImportError as exc:
        return None, f"network builder unavailable ({exc})"
    try:
        data = parse_text(counters.scenario)
        if counters.seed is not None:
            data.setdefault("simulation", {})["seed"] = counters.seed
        base = counters.scenario_dir or (str(Path(counters.path).parent) if counters.path else None)
        net = build_network(load_scenario(data, base_dir=base))
    except Exception as exc:  # a stored scenario that no longer builds: report, account without routing
        return None, f"could not rebuild the network ({type(exc).__name__}: {exc})"
    spikes = np.zeros(net.n_neurons, dtype=np.int64)
    for p in net.populations:
        try:
            cp = counters.population(p.name)
        except KeyError:
            continue
        if cp.size == p.size:
            spikes[p.offset:p.offset + p.size] = cp.spike_count.astype(np.int64)
    stim_inputs = sum(len(s.ids) for s in net.stimuli if getattr(s, "kind", "") == "poisson")
    return Connectivity(indptr=np.asarray(net.indptr, dtype=np.int64), target=net.target, spike_count=spikes,
                        population_offsets=tuple(p.offset for p in net.populations),
                        stimulus_inputs=int(stim_inputs)), None


def run_energy(path, hardware=None, json_out=False, plot=None, out=None, force=False) -> int:
    """Account the run in ``path`` on ``hardware`` (names/paths, a comma list or a list).

    plot: a PNG path to draw the comparison into (None or False: no plot). It must not
    be the input, nor an existing file unless ``force``; it is checked before anything
    is computed and written after the report is printed. Returns 0; raises InputError
    (exit code 2) for bad input.
    """
    from eventsim.models.hardware import load_profile
    from eventsim.output.paths import check_target

    out = out or sys.stdout
    if plot:
        check_target(plot, "--plot", force=force, inputs=[path])
    counters = read_counters(path)
    specs, base, where = hardware_specs(hardware, counters)
    profiles, problems = [], []
    for s in specs:
        try:
            profiles.append(load_profile(s, base_dir=base, where=where))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    conn, reason = rebuild_connectivity(counters)
    result = account(counters, profiles, conn)
    if reason:
        result["notes"] = [f"routing not counted: {reason}"]
    trials = presentations(path)
    if trials is not None:    # a trial run: the means per presentation (per inference)
        result["per_presentation"] = per_presentation(result, *trials)
    if plot:
        result["plot"] = str(plot)
    if json_out:
        out.write(json.dumps(result, default=_jsonable) + "\n")
    else:
        out.write(text_report(result) + "\n")
        if trials is not None:
            out.write("\n" + presentation_text(result["per_presentation"]) + "\n")
        for n in result.get("notes", []):
            out.write(f"note: {n}\n")
    out.flush()
    if plot:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                plot_comparison(result, plot)
        except OSError as exc:
            raise InputError(f"--plot: cannot write {plot} ({exc.strerror or exc})") from None
    return 0


def _jsonable(x):
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    raise TypeError(type(x).__name__)
