"""Learning curves of a trial run (the /learning group, docs/trials.md): data and a plot."""
from __future__ import annotations

import os

import h5py
import numpy as np


def read_learning(path):
    """{name: array} of /learning's per-epoch datasets plus its attributes, or None."""
    with h5py.File(path, "r", locking=False) as f:
        if "learning" not in f:
            return None
        g = f["learning"]
        out = {k: g[k][()] for k in g if isinstance(g[k], h5py.Dataset)}
        out["dw"] = {k: g["dw"][k][()] for k in g.get("dw", {})}
        out["attrs"] = {k: (v.item() if hasattr(v, "item") else v) for k, v in g.attrs.items()}
        return out


def write_learning_plot(path, plots_dir):
    """learning.png (accuracy and mean |dw| per epoch) in ``plots_dir``; [] without /learning."""
    data = read_learning(path)
    if data is None:
        return []
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(plots_dir, exist_ok=True)
    epochs = np.arange(1, data["accuracy"].size + 1)
    fig, (a, b) = plt.subplots(2, 1, figsize=(6, 5), sharex=True)
    a.plot(epochs, data["accuracy"], "o-", ms=3, label="frozen evaluation")
    a.plot(epochs, data["train_accuracy"], "-", alpha=0.5, label="during training")
    a.set_ylim(-0.02, 1.02)
    a.set_ylabel("accuracy (fraction correct)")
    a.legend(loc="lower right")
    b.plot(epochs, data["mean_abs_dw"], "k-", label="all")
    for name, dw in data["dw"].items():
        b.plot(epochs, dw, "--", label=name)
    b.set_ylabel("mean |dw| per epoch (pA or mV)")
    b.set_xlabel("epoch")
    b.legend(loc="upper right", fontsize="small")
    out = os.path.join(plots_dir, "learning.png")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return [out]
