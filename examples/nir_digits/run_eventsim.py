"""Run the snnTorch-trained digits network in eventsim, compare, price it, draw the figure.

    python examples/nir_digits/run_eventsim.py [--threads N]

Uses the command line as a user would: ``eventsim run digits.toml`` (the NIR file, the
held-out digits, latency coding, count decoding: digits.toml) and ``eventsim energy
--json``. Writes results.json and digits_nir.png beside this script; the run's output
file goes to a temporary folder.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np

HERE = Path(__file__).resolve().parent
CHIPS = ["loihi", "truenorth", "spinnaker", "spinnaker2", "cmos45"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    ref = json.loads((HERE / "snntorch_result.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "digits.h5"
        subprocess.run([sys.executable, "-m", "eventsim.cli", "run", str(HERE / "digits.toml"), "-o", str(out),
                        "--threads", str(args.threads), "--quiet"], check=True)
        energy = json.loads(subprocess.run([sys.executable, "-m", "eventsim.cli", "energy", str(out), "--json"],
                                           check=True, capture_output=True, text=True).stdout)
        with h5py.File(out, "r") as f:
            pred = f["learning/predictions"][()]
            tags = f["learning/tags"][()]
            window = float(f["learning"].attrs["window"])
            sample = {p: (f[f"spikes/{p}/timestamps"][()], f[f"spikes/{p}/node_ids"][()]) for p in f["spikes"]}
            counts = {p: len(sample[p][0]) / len(tags) for p in sample}
    ref_pred = np.asarray(ref["predictions"])
    acc = float(np.mean(pred == tags))
    pp = energy["per_presentation"]
    result = dict(accuracy_eventsim=acc, accuracy_snntorch=ref["accuracy"], n_test=int(len(tags)),
                  same_answer=float(np.mean(pred == ref_pred)), ties_or_silent_eventsim=int(np.sum(pred == -1)),
                  ties_or_silent_snntorch=ref["ties_or_silent"],
                  mean_spikes_per_inference_eventsim={k: v for k, v in counts.items()},
                  mean_spikes_per_inference_snntorch=ref["mean_spikes_per_sample"],
                  per_inference=dict(synaptic_events=pp["synaptic_events"], effective_acs=pp["effective_acs"],
                                     dense_ops=pp["dense_ops"],
                                     energy_j={c: pp["hardware"][c] for c in CHIPS}))
    (HERE / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "per_inference"}, indent=1))
    print("per inference:", json.dumps(result["per_inference"], indent=1))
    figure(ref, sample, window, result, HERE / "digits_nir.png")


def figure(ref, spikes, window, result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    hidden, output = ref["output_nodes"]
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 5.4), gridspec_kw=dict(width_ratios=[2.2, 1, 1.4]))
    offset = {"input": 0, hidden: 64, output: 128}
    for pop, key, colour in (("input", "input", "0.5"), (hidden, "hidden", "tab:blue"), (output, "output", "tab:red")):
        t, i = spikes[pop]
        first = t < window                       # the first presentation: test digit 0
        a.plot(t[first], i[first] + offset[pop], ".", color=colour, ms=4,
               label=f"{key}: eventsim (continuous time)")
        steps = np.asarray(ref["sample"][key], dtype=float).reshape(-1, 2)
        a.plot(steps[:, 0], steps[:, 1] + offset[pop], "s", mfc="none", color=colour, ms=6, mew=0.7,
               label=f"{key}: snnTorch step")
    a.set_xlabel("time (ms; one snnTorch step = 1 ms)")
    a.set_ylabel("neuron (input 0-63, hidden 64-127, output 128-137)")
    a.set_title(f"held-out digit 0 (class {ref['sample']['tag']}): spikes")
    a.set_xlim(-0.5, window)
    a.set_ylim(-2, 140)
    a.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)
    names = ["snnTorch\n(discrete)", "eventsim\n(continuous)", "same answer"]
    vals = [result["accuracy_snntorch"], result["accuracy_eventsim"], result["same_answer"]]
    bars = b.bar(names, vals, color=["0.6", "tab:blue", "tab:green"])
    for bar, v in zip(bars, vals):
        b.text(bar.get_x() + bar.get_width() / 2, v + 0.01, f"{100 * v:.1f} %", ha="center", fontsize=9)
    b.set_ylim(0, 1.08)
    b.set_ylabel("fraction of held-out digits")
    b.set_title(f"accuracy on {result['n_test']} held-out digits")
    e = result["per_inference"]["energy_j"]
    x = np.arange(len(CHIPS))
    c.bar(x - 0.2, [e[k]["dynamic_j"] for k in CHIPS], 0.4, label="dynamic", color="tab:orange")
    tot = [e[k]["total_j"] for k in CHIPS]
    c.bar(x + 0.2, tot, 0.4, label="total (static: whole chips)", color="tab:purple",
          yerr=[np.subtract(tot, [e[k]["low_j"] for k in CHIPS]), np.subtract([e[k]["high_j"] for k in CHIPS], tot)],
          capsize=3)
    c.set_yscale("log")
    c.set_xticks(x, CHIPS, rotation=20)
    c.set_ylabel("energy per inference (J)")
    c.set_title("eventsim energy, per inference (24 ms)")
    c.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
