"""``eventsim analyze``: a table (or one JSON object) of spike statistics, and pictures."""
from __future__ import annotations

import json
import math
import os
import sys

from eventsim.errors import InputError

from .reader import open_spikes
from .summary import MAX_BINS, summarize


def _clean(x):
    """JSON-ready copy: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _fmt(v, spec):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return format(v, spec)


def format_table(result):
    """The readable table printed by ``eventsim analyze``."""
    t0, t1 = result["window_ms"]
    lines = [f"{result['file']}: window [{t0:g}, {t1:g}] ms, bin {result['bin_ms']:g} ms"
             + ("" if result["complete"] else "  (INCOMPLETE run)")]
    head = (f"{'population':<16} {'n_neurons':>10} {'n_spikes':>11} {'rate Hz':>9} "
            f"{'CV ISI':>7} {'Fano':>7} {'chi':>7} {'peak Hz':>8}")
    lines += [head, "-" * len(head)]
    rows = list(result["populations"].items()) + [("(network)", result["network"])]
    for name, d in rows:
        n = str(d["n_neurons"]) + ("*" if d.get("n_neurons_source") == "max_id" else "")
        lines.append(f"{name:<16} {n:>10} {d['n_spikes']:>11} {_fmt(d['rate_hz'], '9.3f')} "
                     f"{_fmt(d['cv_isi'], '7.3f')} {_fmt(d['fano'], '7.3f')} "
                     f"{_fmt(d['chi'], '7.3f')} {_fmt(d['activity_peak_hz'], '8.1f')}")
    if any(d.get("n_neurons_source") == "max_id" for d in result["populations"].values()):
        lines.append("* no n_nodes attribute: size taken as the highest node id + 1")
    for note in result.get("notes", []):
        lines.append(f"note: {note}")
    if result.get("plots"):
        lines.append("plots: " + ", ".join(result["plots"]))
    return "\n".join(lines)


def analyze_file(path, plots_dir=None, bin_ms=None, t_start=None, t_stop=None, force=False,
                 draw=True):
    """Open, summarise and (optionally) plot a spike file; returns the result dict
    (NaN kept as float NaN; ``result["plots"]`` the plot files). Raises InputError
    subclasses for bad input: also, before anything is drawn, when ``plots_dir`` cannot
    be written, when a plot would replace the input file, or replace an existing file
    without ``force``. With ``draw=False`` the plots are checked and listed but not drawn:
    call ``result.pop("_draw")()`` to draw them."""
    if plots_dir is not None:
        from eventsim.output.paths import check_folder
        check_folder(plots_dir, "--plots")
    sf = open_spikes(path, t_start=t_start, t_stop=t_stop)
    if bin_ms is not None:
        try:
            bin_ms = float(bin_ms)
        except (TypeError, ValueError):
            raise InputError(f"--bin: must be a number of ms, got {bin_ms!r}")
        if not (math.isfinite(bin_ms) and bin_ms > 0):
            raise InputError(f"--bin: must be > 0 ms, got {bin_ms}")
        t0, t1 = sf.window
        if (t1 - t0) / bin_ms > MAX_BINS:
            raise InputError(f"--bin: {bin_ms} ms gives more than {MAX_BINS} bins over the "
                             f"{t1 - t0:g} ms window; use a wider bin")
    summary = summarize(sf, bin_ms)
    result = summary.stats
    if plots_dir is not None:
        from .plots import plan_plots
        from .state_plot import plan_state_plots   # recorded state (/report), if any
        plan = plan_plots(sf, summary, plots_dir) + plan_state_plots(path, plots_dir, t_start, t_stop)
        _check_plot_files([p for p, _ in plan], path, force)
        result["plots"] = [p for p, _ in plan]

        def draw_all():
            for p, d in plan:
                try:
                    d()
                except OSError as exc:
                    raise InputError(f"--plots: cannot write {p} ({exc.strerror or exc})") from None
        if draw:
            draw_all()
        else:
            result["_draw"] = draw_all
    return result


def _check_plot_files(files, source, force):
    from eventsim.output.paths import same_file
    problems = [f"--plots: {p} is the file being analysed; choose another folder"
                for p in files if same_file(p, source)]
    if problems:
        raise InputError(problems)
    existing = [p for p in files if os.path.exists(p)]
    if existing and not force:
        raise InputError(f"--plots: {', '.join(existing)} exist{'s' if len(existing) == 1 else ''}; "
                         f"pass --force to overwrite")


def run_analyze(path, plots_dir=None, json_out=False, bin_ms=None, t_start=None, t_stop=None,
                force=False):
    """Entry point of ``eventsim analyze OUT.h5 [--plots DIR [--force]] [--json] [--bin MS]
    [--t-start MS] [--t-stop MS]``. Prints the table, or exactly one JSON object
    on stdout with ``json_out``, then draws the plots; returns the exit code (0).
    Raises InputError (exit 2) for a missing file, a file that is not a spike file, a bad
    window, or plots that cannot be written (checked before anything is printed)."""
    result = analyze_file(path, plots_dir=plots_dir, bin_ms=bin_ms, t_start=t_start, t_stop=t_stop,
                          force=force, draw=False)
    draw = result.pop("_draw", None)
    if json_out:
        sys.stdout.write(json.dumps(_clean(result), allow_nan=False) + "\n")
    else:
        print(format_table(result))
    sys.stdout.flush()
    if draw is not None:
        draw()
    return 0
