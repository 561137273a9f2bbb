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
    call ``result.pop("_draw")()`` to draw them. Without ``t_start`` the window starts at
    the stored scenario's ``[analysis] t_start`` if it has one (``result["t_start_source"]``
    says which: ``"--t-start"``, ``"analysis.t_start"`` or ``"recording"``)."""
    if plots_dir is not None:
        from eventsim.output.paths import check_folder
        check_folder(plots_dir, "--plots")
    t_start_source = "--t-start" if t_start is not None else None
    if t_start is None:
        t_start = scenario_t_start(path, t_stop)
        t_start_source = "analysis.t_start" if t_start is not None else "recording"
    sf = open_spikes(path, t_start=t_start, t_stop=t_stop)
    if t_start_source == "analysis.t_start":
        sf.notes.append(f"window starts at analysis.t_start = {t_start:g} ms of the stored scenario "
                        f"(the start-up transient is left out; --t-start 0 includes it)")
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
    result["t_start_source"] = t_start_source
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


def scenario_t_start(path, t_stop=None):
    """``[analysis] t_start`` (ms) of the scenario stored in an eventsim output file, or None
    (no such key, no stored scenario, a file of another tool). A run from a checkpoint
    (root attribute ``t_start``) starts no earlier than its recording. Raises InputError
    naming ``analysis.t_start`` when the value is not a number >= 0 or leaves no window
    (at or beyond the end of the recording, or not before ``t_stop``)."""
    import h5py
    try:
        with h5py.File(path, "r") as f:
            attrs = {k: f.attrs[k] for k in ("scenario", "t_start", "duration", "t_committed", "complete")
                     if k in f.attrs}
    except (OSError, TypeError, ValueError):
        return None           # missing or not HDF5: open_spikes says what is wrong
    text = attrs.get("scenario")
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str) or not text.strip():
        return None
    from eventsim.scenario.load import parse_text
    try:
        raw = parse_text(text)
    except ValueError:
        return None           # not a scenario eventsim can read: no default from it
    section = raw.get("analysis") if isinstance(raw, dict) else None
    if not isinstance(section, dict) or section.get("t_start") is None:
        return None
    where = f"analysis.t_start (scenario stored in {path})"
    value = section["t_start"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{where}: must be a number of ms, got {value!r}; give --t-start")
    if value < 0:
        raise InputError(f"{where}: must be >= 0 ms, got {value:g}; give --t-start")
    value = float(value)
    begin = attrs.get("t_start")
    if isinstance(begin, (int, float)) and float(begin) >= value:
        return None                   # a run from a checkpoint whose recording starts later
    complete = bool(attrs["complete"]) if "complete" in attrs else True
    end = attrs.get("duration") if complete else attrs.get("t_committed")
    if isinstance(end, (int, float)) and not value < float(end):
        what = "duration" if complete else "t_committed (the run did not complete)"
        raise InputError(f"{where}: {value:g} ms is not before the end of the recording "
                         f"({what} = {float(end):g} ms); give --t-start")
    if t_stop is not None:
        try:
            before = not float(t_stop) > value
        except (TypeError, ValueError):
            before = False    # open_spikes names the bad --t-stop
        if before:
            raise InputError(f"--t-stop: {float(t_stop):g} ms is not after {where} = {value:g} ms; "
                             f"give --t-start too")
    return value


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
    on stdout with ``json_out``, then draws the plots; returns the exit code (0). The window
    starts at ``t_start``, else the stored scenario's ``[analysis] t_start``, else the start
    of the recording.
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
