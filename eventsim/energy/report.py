"""Human-readable tables and the comparison plot of an energy accounting result."""
from __future__ import annotations

import os


def si(x, unit="J"):
    """1.23e-06 -> '1.23 uJ'."""
    if x is None:
        return "-"
    if x == 0:
        return f"0 {unit}"
    for scale, prefix in ((1, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")):
        if abs(x) >= scale:
            return f"{x / scale:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}"


def text_report(result: dict) -> str:
    c = result["counts"]
    lines = [f"energy accounting of {result['file']} ({result['t_stop_ms']:g} ms simulated)",
             f"  neurons {c['neurons']}, synapses {c['synapses']}, spikes {c['spikes']}, "
             f"synaptic events {c['synaptic_events']}, stimulus events {c['stimulus_events']}, "
             f"plasticity updates {c['plasticity_updates']}, neuron updates {c['neuron_updates']}"]
    if not result["connectivity"]:
        lines.append("  (network not rebuilt: spike routing within/across cores is not counted)")
    for name, h in result["hardware"].items():
        m = h["mapping"]
        lines.append("")
        lines.append(f"{name}: {h['title']}")
        if m["method"]:
            lines.append(f"  mapping: {m['cores']} cores on {m['chips']} chip(s), {m['method']}"
                         + (f", {m['violations']} neuron(s) over a core's fan-in limit" if m["violations"] else ""))
        if "spike_within_core" in m:
            lines.append(f"  spike messages: {m['spike_within_core']} within core, {m['spike_to_core']} to other "
                         f"cores, {m['spike_to_chip']} to other chips")
        if m.get("neuron_timesteps") is not None:
            lines.append(f"  neuron time steps at {h['time_step_ms']:g} ms: {m['neuron_timesteps']}")
        lines.append(f"  {'operation':<26}{'count':>16}{'energy':>14}")
        for op, e in h["dynamic_by_operation_j"].items():
            lines.append(f"  {op:<26}{h['operations'][op]:>16}{si(e):>14}")
        lines.append(f"  {'dynamic':<42}{si(h['dynamic_j']):>14}")
        lines.append(f"  {'static':<42}{si(h['static_j']):>14}   "
                     f"({si(h['static_power_w_per_chip'], 'W')}/chip x {h['wall_s']:.4g} s)")
        lines.append(f"  {'total':<42}{si(h['total_j']):>14}   band {si(h['low_j'])} .. {si(h['high_j'])}")
        lines.append(f"  per synaptic event {si(h['j_per_synaptic_event'])}, "
                     f"per simulated second {si(h['j_per_simulated_s'])} (= {si(h['j_per_simulated_s'], 'W')})")
        if h["missing_counts"]:
            lines.append(f"  not counted (no connectivity): {', '.join(h['missing_counts'])}")
    s = result["sparsity"]
    so = s["synaptic_operations"]
    fmt = lambda v: "-" if v is None else f"{v:.4f}"
    lines += ["", f"sparsity (NeuroBench definitions, {s['dt_ms']:g} ms steps):",
              f"  activation sparsity {fmt(s['activation_sparsity'])}, "
              f"connection sparsity {fmt(s['connection_sparsity'])}",
              f"  synaptic operations: effective ACs {so['effective_acs']}, dense {so['dense']}"
              + (f" (ratio {so['ratio_effective_to_dense']:.3g})" if so["ratio_effective_to_dense"] is not None else ""),
              f"  membrane updates {s['membrane_updates']} (clock-driven: {s['neuron_timesteps']} neuron steps)"]
    if result.get("plot"):
        lines.append(f"\nplot: {result['plot']}")
    return "\n".join(lines)


def plot_comparison(result: dict, path) -> str:
    """Two panels: left, each profile's dynamic energy split by operation (stacked shares);
    right, dynamic and total (dynamic + static) energy, the total with its low-high band (log x)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    hw = result["hardware"]
    names = list(hw)
    parts = []
    for h in hw.values():
        for op in h["dynamic_by_operation_j"]:
            if op not in parts:
                parts.append(op)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 0.6 * len(names) + 2.2))
    y = np.arange(len(names))
    left = np.zeros(len(names))
    cmap = plt.get_cmap("tab20")
    for k, part in enumerate(parts):
        vals = np.array([h["dynamic_by_operation_j"].get(part, 0.0) / h["dynamic_j"] if h["dynamic_j"] > 0
                         else 0.0 for h in hw.values()])
        if not vals.any():
            continue
        ax1.barh(y, vals, left=left, color=cmap(k % 20), label=part)
        left += vals
    ax1.set_yticks(y, names)
    ax1.set_xlim(0, 1)
    ax1.set_xlabel("share of dynamic energy, by operation (fraction)")
    ax1.set_ylabel("hardware profile")
    ax1.invert_yaxis()
    ax1.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, frameon=False)
    tot = np.array([h["total_j"] for h in hw.values()])
    lo = np.array([h["low_j"] for h in hw.values()])
    hi = np.array([h["high_j"] for h in hw.values()])
    dyn = np.array([h["dynamic_j"] for h in hw.values()])
    ok = tot > 0
    ax2.barh(y[ok] - 0.2, tot[ok], height=0.4, color="tab:blue", alpha=0.8, label="total (dynamic + static)")
    ax2.errorbar(tot[ok], y[ok] - 0.2, xerr=[tot[ok] - lo[ok], hi[ok] - tot[ok]], fmt="none", ecolor="k",
                 capsize=3, label="low-high band")
    okd = dyn > 0
    ax2.barh(y[okd] + 0.2, dyn[okd], height=0.4, color="tab:orange", alpha=0.8, label="dynamic")
    if ok.any():
        ax2.set_xscale("log")
    ax2.set_yticks(y, names)
    ax2.invert_yaxis()
    ax2.set_xlabel("energy (J)")
    ax2.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, frameon=False)
    fig.suptitle(f"{os.path.basename(str(result['file']))}  ({result['t_stop_ms']:g} ms simulated)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)
