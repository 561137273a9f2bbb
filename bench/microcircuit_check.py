"""Check a microcircuit run's output against NEST's full-scale figures: one JSON line.

    python bench/microcircuit_check.py OUT.h5 [--t0 100] [--t1 5100] [--scale 1.0]

For each population of scenarios/potjans2014_microcircuit.toml: the mean rate over
[t0, t1) ms (spikes / neurons / time, every neuron counted), its relative error to
NEST's full-scale rate (issue 10's criterion: within 15 %), and the mean coefficient
of variation of the inter-spike intervals over neurons with at least 3 spikes in the
window (criterion: 0.6 to 1.1, with at least 100 such neurons). Population sizes come
from the scenario at the given scale (the run's --set network.scale, default 1.0).
"""
import argparse
import json
import sys
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from microcircuit import NEST_RATES  # noqa: E402


def cv_per_neuron(t, ids):
    """CV of the ISIs of every neuron with >= 3 spikes (t sorted within each neuron)."""
    order = np.lexsort((t, ids))
    t, ids = t[order], ids[order]
    out = []
    for seg in np.split(np.arange(t.size), np.flatnonzero(np.diff(ids)) + 1):
        if seg.size >= 3:
            isi = np.diff(t[seg])
            out.append(isi.std() / isi.mean())
    return np.array(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("h5")
    ap.add_argument("--t0", type=float, default=100.0, help="start of the analysed window (ms)")
    ap.add_argument("--t1", type=float, default=5100.0, help="end of the analysed window (ms)")
    ap.add_argument("--scale", type=float, default=1.0, help="network.scale of the run")
    ap.add_argument("--scenario", default=str(Path(__file__).resolve().parents[1] / "scenarios" /
                                              "potjans2014_microcircuit.toml"))
    args = ap.parse_args()
    import eventsim
    sizes = {p["name"]: p["size"] for p in eventsim.load_scenario(
        args.scenario, overrides={"network.scale": args.scale}).populations}
    out = {"file": args.h5, "t0_ms": args.t0, "t1_ms": args.t1, "populations": {}}
    with h5py.File(args.h5, "r") as f:
        out["complete"] = bool(f.attrs.get("complete", False))
        for name, ref in NEST_RATES.items():
            t = f[f"spikes/{name}/timestamps"][()]
            ids = f[f"spikes/{name}/node_ids"][()]
            n = sizes[name]
            sel = (t >= args.t0) & (t < args.t1)
            rate = sel.sum() / n / ((args.t1 - args.t0) / 1000.0)
            cvs = cv_per_neuron(t[sel], ids[sel])
            out["populations"][name] = {
                "neurons": n, "rate_hz": round(float(rate), 4), "nest_hz": ref,
                "rel_err": round(float(rate / ref - 1.0), 4),
                "cv_isi": round(float(cvs.mean()), 4) if cvs.size else None, "cv_neurons": int(cvs.size)}
    pops = out["populations"].values()
    out["rates_within_15pct"] = all(abs(p["rel_err"]) <= 0.15 for p in pops)
    out["cv_ok"] = all(p["cv_isi"] is not None and 0.6 <= p["cv_isi"] <= 1.1 and p["cv_neurons"] >= 100
                       for p in pops)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
