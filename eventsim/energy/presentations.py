"""Energy and operations per presentation of a trial run (an inference, when epochs = 0).

A trial run (docs/trials.md) presents n_patterns x (1 + 2 epochs) windows, each from
a reset network, and its counters cover exactly those windows; so every count and
energy of the report divided by the number of presentations is the mean per
presentation: static energy included (static power x the window's steps).
"""
from __future__ import annotations


def presentations(path):
    """(number of presentations, window ms) of the trial run in ``path``, or None."""
    import h5py
    with h5py.File(path, "r") as f:
        g = f.get("learning")
        if g is None:
            return None
        return int(g.attrs["n_patterns"]) * (1 + 2 * int(g.attrs["epochs"])), float(g.attrs["window"])


def per_presentation(result, n, window):
    """The means per presentation of an accounting ``result`` (energy.accounting.account)."""
    so = result["sparsity"]["synaptic_operations"]
    return dict(presentations=n, window_ms=window,
                synaptic_events=result["counts"]["synaptic_events"] / n,
                effective_acs=so["effective_acs"] / n, dense_ops=so["dense"] / n,
                hardware={name: {k: h[k] / n for k in ("total_j", "dynamic_j", "static_j", "low_j", "high_j")}
                          for name, h in result["hardware"].items()})


def text(pp) -> str:
    from .report import si
    lines = [f"per presentation ({pp['presentations']} presentations of {pp['window_ms']:g} ms; an inference "
             f"when epochs = 0):",
             f"  synaptic events {pp['synaptic_events']:.6g}; synaptic operations (NeuroBench): effective ACs "
             f"{pp['effective_acs']:.6g}, dense {pp['dense_ops']:.6g}",
             f"  {'hardware':<14}{'total':>12}{'dynamic':>12}{'static':>12}   band"]
    for name, h in pp["hardware"].items():
        lines.append(f"  {name:<14}{si(h['total_j']):>12}{si(h['dynamic_j']):>12}{si(h['static_j']):>12}   "
                     f"{si(h['low_j'])} .. {si(h['high_j'])}")
    return "\n".join(lines)
