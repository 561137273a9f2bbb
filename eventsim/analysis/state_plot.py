"""state_<population>.png: recorded state over time (``/report/<population>``, see
eventsim/output/report.py), one panel per neuron (at most ``MAX_NEURONS``), the neuron's
spikes marked on top. Variables in mV (v, threshold, a) share the left axis; currents
go on a right axis."""
from __future__ import annotations

import functools
import os

import h5py
import numpy as np

#: panels per population
MAX_NEURONS = 4


def report_populations(path):
    """Populations with a state report in the file (empty if none)."""
    with h5py.File(path, "r", locking=False) as f:
        return sorted(f["report"]) if "report" in f else []


def _spikes(path, population, node_id, t0, t1):
    with h5py.File(path, "r", locking=False) as f:
        g = f.get("spikes", {}).get(population) if "spikes" in f else None
        if g is None or "timestamps" not in g:
            return np.zeros(0)
        t, i = g["timestamps"][:], g["node_ids"][:]
    t = t[(i == node_id) & (t >= t0) & (t <= t1)]
    return t


def plot_state(path, population, out, t_start=None, t_stop=None):
    """Draw one population's report into ``out``; returns out."""
    from eventsim.output.report import read_report

    from .plots import _pyplot
    plt = _pyplot()
    times, node_ids, values, units = read_report(path, population)
    t0 = times[0] if t_start is None and times.size else (t_start or 0.0)
    t1 = times[-1] if t_stop is None and times.size else (t_stop if t_stop is not None else t0)
    sel = (times >= t0) & (times <= t1)
    cols = np.unique(np.linspace(0, node_ids.size - 1, min(node_ids.size, MAX_NEURONS)).astype(int))
    fig, axes = plt.subplots(len(cols), 1, figsize=(9, 2.4 * len(cols) + 0.6), sharex=True, squeeze=False)
    mv = [v for v in values if units.get(v) == "mV"]
    other = [v for v in values if v not in mv]
    for ax, c in zip(axes[:, 0], cols):
        for v in mv:
            ax.plot(times[sel], values[v][sel, c], lw=0.8, label=f"{v} (mV)")
        if other:
            ax2 = ax.twinx()
            for j, v in enumerate(other):
                ax2.plot(times[sel], values[v][sel, c], lw=0.6, color=f"C{len(mv) + j}", alpha=0.7,
                         label=f"{v} ({units.get(v, '')})")
            ax2.legend(loc="upper right", fontsize=7)
            ax2.set_ylabel("\n".join(f"{v} ({units.get(v, '')})" for v in other), fontsize=8)
        sp = _spikes(path, population, node_ids[c], times[sel][0] if sel.any() else t0,
                     times[sel][-1] if sel.any() else t1)
        if sp.size and mv:
            top = max(np.nanmax(values[v][sel, c]) for v in mv) if sel.any() else 0.0
            ax.plot(sp, np.full(sp.size, top + 1.0), "|", color="k", ms=6, label="spikes")
        ax.set_ylabel(f"neuron {node_ids[c]}" + ("\n(mV)" if mv else ""))
        ax.legend(loc="upper left", fontsize=7)
    axes[-1, 0].set_xlabel("time (ms)")
    fig.suptitle(f"{population}: recorded state ({', '.join(values)}), "
                 f"{len(cols)} of {node_ids.size} recorded neurons")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plan_state_plots(path, plots_dir, t_start=None, t_stop=None):
    """[(file, draw)] for every report in the file (see plots.plan_plots)."""
    plan = []
    for pop in report_populations(path):
        p = os.path.join(plots_dir, f"state_{pop}.png")
        plan.append((p, functools.partial(plot_state, path, pop, p, t_start, t_stop)))
    return plan
