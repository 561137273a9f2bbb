"""Run an emotion scenario for 10 seeds (and shuffled-tags controls); print one JSON object.

    python bench/emotion_seeds.py [SCENARIO ...] [--seeds N] [--epochs E] [--controls C] [--jobs J]

Two controls, C seeds each: ``shuffled_tags_final`` (the tags permuted once and kept:
how much of an arbitrary pattern -> tag table the network memorises, scored against the
permuted tags) and ``reshuffled_tags_final`` (a new permutation every epoch, scored
against the true tags: what is learnt without a consistent pattern -> tag relation).

Per seed: final frozen accuracy (accuracy[-1]), the first epoch at which the frozen
accuracy reached 1, wall time, and for networks with more than one emotion projection
the accuracy that survives when every projection but the last (the hidden layers) is
reset to its initial weights; the learning curves (accuracy and mean |dw| per projection,
per epoch) of every run.
"""
from __future__ import annotations

import argparse
import json
import time
from multiprocessing import Pool

import numpy as np

import eventsim
from eventsim.trials import TrialRunner


def one(path, seed, epochs=None, shuffle_tags=False, per_epoch=False):
    ov = {"simulation.seed": seed, "trials.shuffle_tags": shuffle_tags, "trials.shuffle_tags_per_epoch": per_epoch}
    if epochs:
        ov["trials.epochs"] = epochs
    sc = eventsim.load_scenario(path, overrides=ov)
    sim = eventsim.Simulation(eventsim.build_network(sc), seed=seed)
    t = time.perf_counter()
    runner = TrialRunner(sim, sc.trials, sc.plasticity, seed)
    h = runner.run()
    acc = np.asarray(h.accuracy)
    out = dict(seed=seed, final=float(acc[-1]), wall_s=round(time.perf_counter() - t, 2),
               first_epoch_100=int(np.argmax(acc >= 1.0)) + 1 if (acc >= 1.0).any() else None,
               first_epoch_95=int(np.argmax(acc >= 0.95)) + 1 if (acc >= 0.95).any() else None,
               accuracy=[round(float(a), 4) for a in acc],
               dw={k: [round(float(x), 5) for x in v] for k, v in h.dw.items()})
    if len(runner.rules) > 1:
        trained = [r.weights.copy() for r in runner.rules]
        for r in runner.rules[:-1]:
            r.reset_weights()
        out["hidden_reset_accuracy"] = runner.evaluate(10 ** 6)[0]
        out["hidden_mean_abs_change"] = float(np.mean(np.abs(trained[0] - runner.rules[0].w_initial)))
    return out


def _one(args):
    return one(*args)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenarios", nargs="*", default=["scenarios/emotion_parity_5_2.toml",
                                                     "scenarios/emotion_parity_5_8_2.toml"])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--controls", type=int, default=3, help="seeds of the shuffled-tags control")
    ap.add_argument("--jobs", type=int, default=1, help="seeds run in parallel processes")
    a = ap.parse_args()
    result = {}
    with Pool(a.jobs) as pool:
        for path in a.scenarios:
            runs = pool.map(_one, [(path, s, a.epochs) for s in range(a.seeds)])
            n_c = min(a.controls, a.seeds)
            control = [r["final"] for r in pool.map(_one, [(path, s, a.epochs, True) for s in range(n_c)])]
            reshuffled = [r["final"] for r in pool.map(_one, [(path, s, a.epochs, False, True)
                                                              for s in range(n_c)])]
            result[path] = dict(runs=runs, n_perfect=sum(r["final"] >= 1.0 for r in runs),
                                n_95=sum(r["final"] >= 0.95 for r in runs),
                                shuffled_tags_final=control, reshuffled_tags_final=reshuffled)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
