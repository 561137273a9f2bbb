"""The /learning group of the output file (layout in docs/trials.md)."""
from __future__ import annotations

import numpy as np


def write_learning(history, runner):
    """A callable ``f(h5file)`` for ``SonataWriter.finish(extras=[...])``."""
    def write(f):
        g = f.require_group("learning")
        c = runner.cfg
        g.attrs.update(epochs=int(c["epochs"]), n_patterns=len(runner.patterns), window=float(c["window"]),
                       encoding=c["encoding"], decoding=c["decoding"], n_classes=int(c["n_classes"]),
                       shuffle_tags=bool(c["shuffle_tags"]),
                       shuffle_tags_per_epoch=bool(c.get("shuffle_tags_per_epoch", False)), seed=np.int64(runner.seed),
                       initial_accuracy=float(history.initial_accuracy), wall_s=float(history.wall_s))
        for name in ("accuracy", "train_accuracy", "mean_abs_dw", "mean_emotion"):
            g.create_dataset(name, data=np.asarray(getattr(history, name), dtype=np.float64))
        g["accuracy"].attrs["doc"] = "frozen evaluation after each epoch (no update, no perturbation)"
        g["mean_abs_dw"].attrs["doc"] = "mean over plastic synapses of |w(end of epoch) - w(start)|"
        g.create_dataset("predictions", data=np.asarray(history.predictions, dtype=np.int64))
        g.create_dataset("tags", data=np.asarray(history.tags, dtype=np.int64))
        dg = g.require_group("dw")
        wg = g.require_group("weights_initial")
        for r in runner.rules:
            dg.create_dataset(r.name, data=np.asarray(history.dw[r.name], dtype=np.float64))
            wg.create_dataset(r.name, data=r.w_initial)
    return write
