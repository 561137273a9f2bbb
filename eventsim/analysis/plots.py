"""PNG pictures of a spike file (matplotlib, Agg backend: no display needed).

raster.png, activity.png (population activity per population and total, with
its power spectrum), isi_rates.png (ISI and firing-rate histograms), and
weights.png / learning.png when the file has /weights or /learning.
"""
from __future__ import annotations

import functools
import os

import h5py
import numpy as np

from . import stats
from .summary import ISI_EDGES_MS

#: raster: at most this many neurons per population and this many points in all
RASTER_MAX_NEURONS = 200
RASTER_MAX_POINTS = 200_000


def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def raster_selection(counts, max_neurons=RASTER_MAX_NEURONS, max_points=RASTER_MAX_POINTS):
    """Evenly spaced neuron ids to draw for one population, so that at most
    max_neurons neurons and about max_points spikes are drawn."""
    n = counts.size
    k = min(n, max_neurons)
    while True:
        sel = np.unique(np.linspace(0, n - 1, k).astype(np.int64)) if k else np.zeros(0, np.int64)
        if k <= 1 or counts[sel].sum() <= max_points:
            return sel
        k //= 2


def plot_raster(sf, summary, path):
    plt = _pyplot()
    accs = summary.accumulators
    budget = max(1, RASTER_MAX_POINTS // max(1, len(accs)))
    fig, ax = plt.subplots(figsize=(10, 6))
    offset, ticks, labels, shown, total = 0, [], [], 0, 0
    for i, (pop, acc) in enumerate(accs.items()):
        sel = raster_selection(acc.counts, RASTER_MAX_NEURONS, budget)
        row = np.full(acc.n, -1, np.int64)
        row[sel] = np.arange(sel.size)
        xs, ys = [], []
        for t, ids in sf.iter_chunks(pop):
            r = row[ids]
            keep = r >= 0
            xs.append(t[keep])
            ys.append(r[keep] + offset)
        x = np.concatenate(xs) if xs else np.zeros(0)
        y = np.concatenate(ys) if ys else np.zeros(0)
        ax.scatter(x, y, s=1.5, marker="|" if x.size < 20000 else ".", color=f"C{i % 10}",
                   linewidths=0.6, rasterized=True)
        ticks.append(offset + sel.size / 2)
        labels.append(pop)
        offset += sel.size + 2
        shown += sel.size
        total += acc.n
    ax.set_yticks(ticks, labels)
    ax.set_xlim(*sf.window)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron (by population, ids in order)")
    title = "Spike raster"
    if shown < total:
        title += (f" ({shown} of {total} neurons shown, evenly spaced ids, "
                  f"at most {RASTER_MAX_NEURONS} per population)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_activity(sf, summary, path):
    plt = _pyplot()
    accs, bin_ms = summary.accumulators, summary.bin_ms
    t0, t1 = sf.window
    fig, (ax, axf) = plt.subplots(2, 1, figsize=(10, 7))
    centres = None
    traces = [(pop, acc.active_per_bin) for pop, acc in accs.items()]
    if len(traces) > 1:
        traces.append(("total", sum(a.active_per_bin for a in accs.values())))
    for i, (name, act) in enumerate(traces):
        if centres is None:
            centres = t0 + bin_ms * (np.arange(act.size) + 0.5)
        colour = "k" if name == "total" else f"C{i % 10}"
        ax.plot(centres, act, lw=0.8, color=colour, label=name)
        f, p = stats.power_spectrum(act, bin_ms)
        if f.size > 1:
            axf.semilogy(f[1:], np.maximum(p[1:], 1e-30), lw=0.8, color=colour, label=name)
    ax.set_xlim(t0, t1)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"active neurons (per {bin_ms:g} ms bin)")
    ax.set_title("Population activity (\"brain wave\")")
    ax.legend(loc="upper right", fontsize=8)
    axf.set_xlabel("frequency (Hz)")
    axf.set_ylabel("PSD (neurons$^2$/Hz)")
    axf.set_title("Power spectrum of the activity (Welch)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_isi_rates(sf, summary, path):
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    for i, (pop, acc) in enumerate(summary.accumulators.items()):
        if acc.isi_hist.any():
            ax1.stairs(acc.isi_hist, ISI_EDGES_MS, color=f"C{i % 10}", label=pop)
        r = acc.rates()
        if r.size:
            # rates are counts / window: bins a whole number of counts wide, no aliasing
            top = int(acc.counts.max())
            width = max(1, -(-(top + 1) // 40))
            edges = (np.arange(0, top + width + 1, width) - 0.5) / acc.window_s()
            ax2.hist(r, bins=edges, histtype="step", color=f"C{i % 10}", label=pop)
    ax1.set_xscale("log")
    hits = np.flatnonzero(sum(a.isi_hist for a in summary.accumulators.values()))
    if hits.size:
        ax1.set_xlim(ISI_EDGES_MS[hits[0]], ISI_EDGES_MS[hits[-1] + 1])
    ax1.set_xlabel("inter-spike interval (ms)")
    ax1.set_ylabel("count")
    ax1.set_title("ISI histogram")
    ax2.set_xlabel("firing rate (Hz)")
    ax2.set_ylabel("neurons")
    ax2.set_title("Firing-rate distribution")
    for ax in (ax1, ax2):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _weight_histogram(ds, chunk=1 << 22, bins=50):
    """Histogram of a (possibly huge) weight dataset in two chunked passes."""
    n = ds.shape[0]
    lo, hi = np.inf, -np.inf
    for s in range(0, n, chunk):
        w = ds[s:s + chunk]
        if w.size:
            lo, hi = min(lo, float(w.min())), max(hi, float(w.max()))
    if not np.isfinite(lo):
        return None, None
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    counts = np.zeros(bins, np.int64)
    for s in range(0, n, chunk):
        counts += np.histogram(ds[s:s + chunk], edges)[0]
    return counts, edges


def weight_units(sf):
    """{projection: "pA" | "mV" | ""}: a weight is a current jump (pA) onto neurons with
    current synapses, a voltage jump (mV) onto neurons with delta synapses; found from
    the scenario stored in the file ("" when it cannot be told)."""
    text = sf.attrs.get("scenario")
    if not text:
        return {}
    try:
        from eventsim.scenario.load import load_scenario, parse_text
        sc = load_scenario(parse_text(text), base_dir=sf.attrs.get("scenario_dir") or None)
    except Exception:      # a foreign or no longer valid scenario: no units rather than no plot
        return {}
    synapse = {p["name"]: p["params"].get("synapse") for p in sc.populations}
    return {pr["name"]: {"delta": "mV", "exp": "pA", "alpha": "pA"}.get(synapse.get(pr["target"]), "")
            for pr in sc.projections}


def _weight_label(units, name):
    unit = units.get(name, "")
    return f"weight ({unit})" if unit else "weight (pA, or mV onto delta synapses)"


def plot_weights(sf, path):
    names = sf.weights()
    if not names:
        return False
    units = weight_units(sf)
    plt = _pyplot()
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
    with h5py.File(sf.path, "r") as f:
        for ax, name in zip(axes.flat, names):
            counts, edges = _weight_histogram(f["weights"][name]["weight"])
            if counts is not None:
                ax.stairs(counts, edges, fill=True, alpha=0.7)
            ax.set_title(f"{name} ({f['weights'][name]['weight'].shape[0]} synapses)", fontsize=9)
            ax.set_xlabel(_weight_label(units, name))
            ax.set_ylabel("synapses")
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    fig.suptitle("Final weights")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_weight_samples(sf, path):
    """Weight distributions over time (record.weights_interval): one column per sample."""
    units = weight_units(sf)
    with h5py.File(sf.path, "r") as f:
        names = [n for n in f.get("weights", {}) if "samples" in f["weights"][n]]
        if not names:
            return False
        plt = _pyplot()
        fig, axes = plt.subplots(len(names), 1, figsize=(8, 3.2 * len(names)), squeeze=False)
        for ax, name in zip(axes[:, 0], names):
            g = f["weights"][name]["samples"]
            t, w = g["time"][:], g["weight"][:]
            lo, hi = float(w.min()), float(w.max())
            hi = hi if hi > lo else lo + 1.0
            edges = np.linspace(lo, hi, 41)
            img = np.array([np.histogram(row, edges)[0] for row in w]).T
            dt = (t[1] - t[0]) if t.size > 1 else 1.0
            im = ax.imshow(img, origin="lower", aspect="auto", cmap="viridis",
                           extent=[t[0] - dt / 2, t[-1] + dt / 2, lo, hi])
            fig.colorbar(im, ax=ax, label="synapses per weight bin")
            ax.set_xlabel("time (ms)")
            ax.set_ylabel(_weight_label(units, name))
            ax.set_title(f"{name}: synapses per weight bin over time", fontsize=9)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return True


def _learning_panels(curves):
    """Per-epoch curves of /learning grouped by quantity: [(axis label, [(name, y)])].
    Curves are recognised by the last part of their name (eventsim's layout, or another
    tool's with groups in front); predictions, tags and initial weights are not curves."""
    accuracy = {k: v for k, v in curves.items() if k.split("/")[-1].endswith("accuracy")}
    n = next(iter(accuracy.values())).size if accuracy else 0
    if n == 0:       # none, or an inference run (epochs = 0): no per-epoch curve
        return []
    groups = {"accuracy (fraction correct)": [], "mean |dw| per epoch (pA or mV)": [],
              "mean emotion e (dimensionless)": []}
    for name, y in curves.items():
        last = name.split("/")[-1]
        if y.size != n or last in ("predictions", "tags") or "weights_initial" in name.split("/"):
            continue
        if last.endswith("accuracy"):
            groups["accuracy (fraction correct)"].append((name.replace("_", " "), y))
        elif last == "mean_abs_dw" or "dw" in name.split("/")[:-1]:
            groups["mean |dw| per epoch (pA or mV)"].append((name, y))
        elif last == "mean_emotion":
            groups["mean emotion e (dimensionless)"].append((name, y))
    return [(label, series) for label, series in groups.items() if series]


def plot_learning(sf, path):
    """Learning curves of a trial run (/learning, docs/trials.md): accuracy, weight change
    and emotion per epoch, each on its own axis with its unit."""
    panels = _learning_panels(sf.learning())
    if not panels:
        return False
    n = panels[0][1][0][1].size
    x = np.arange(1, n + 1)
    plt = _pyplot()
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.6 * len(panels) + 0.6), sharex=True, squeeze=False)
    for ax, (label, series) in zip(axes[:, 0], panels):
        for name, y in series:
            ax.plot(x, y, marker="o" if n < 50 else None, ms=3, label=name)
        ax.set_ylabel(label, fontsize=9)
        ax.legend(fontsize=8)
    axes[-1, 0].set_xlabel("epoch")
    axes[0, 0].set_title("Learning curves")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _has_weight_samples(sf):
    with h5py.File(sf.path, "r") as f:
        return any("samples" in f["weights"][n] for n in f.get("weights", {}))


def plan_plots(sf, summary, plots_dir):
    """The pictures that apply to this file: [(path, draw)], ``draw()`` writing path.
    Known before anything is drawn, so that the paths can be checked first."""
    plan = []
    for name, fn in (("raster.png", plot_raster), ("activity.png", plot_activity),
                     ("isi_rates.png", plot_isi_rates)):
        p = os.path.join(plots_dir, name)
        plan.append((p, functools.partial(fn, sf, summary, p)))
    for name, fn, applies in (("weights.png", plot_weights, bool(sf.weights())),
                              ("weight_samples.png", plot_weight_samples, _has_weight_samples(sf)),
                              ("learning.png", plot_learning, bool(_learning_panels(sf.learning())))):
        if applies:
            p = os.path.join(plots_dir, name)
            plan.append((p, functools.partial(fn, sf, p)))
    return plan

