"""The trial loop: present a pattern for a window, decode, grade, update, reset, go on.

One presentation at simulated time t0: the input population's trains become the
encoded pattern shifted by t0, the network runs to t0 + window, the output spikes
of [t0, t0 + window) are decoded, then (training only) every emotion projection is
updated and the network is reset (state back to init, in-flight arrivals dropped),
so presentations do not leak into each other. Epoch k: a training pass (patterns in
an order drawn from (seed, k) when shuffling), then a frozen evaluation pass (no
update, no perturbation, every pattern once, in dataset order). An evaluation pass
also precedes training (``initial_accuracy``). Randomness (Poisson inputs, order,
perturbation) comes from numpy Generators keyed by (seed, purpose, epoch, step): the
same seed gives the same run.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..output.recorder import SpikeRecorder
from .decoding import decode
from .emotion import EmotionProjection, emotion_value, spike_csr
from .encoding import complement, delta_encode, latency_encode, rate_encode

_TRAIN, _EVAL, _ORDER, _NOISE, _TAGS, _EXPLORE = 1, 2, 3, 4, 5, 6   # stream purposes


class TeeSink:
    """Forwards spikes to another sink (the output file) and keeps them for the loop."""

    def __init__(self, network, inner=None):
        self.inner = inner
        self.recorder = SpikeRecorder(network)

    def append(self, t, gid):
        self.recorder.append(t, gid)
        if self.inner is not None:
            self.inner.append(t, gid)

    def commit(self, t):
        if self.inner is not None:
            self.inner.commit(t)

    @property
    def t_committed(self):
        """The output file's t_committed (a checkpoint needs everything before it written;
        None without a file)."""
        return getattr(self.inner, "t_committed", None)

    def spikes(self, population):
        return self.recorder.spikes(population)

    def take(self, population):
        return self.recorder.take(population)


@dataclass
class LearningHistory:
    """Per-epoch learning curves (all arrays have one entry per epoch)."""
    accuracy: list = field(default_factory=list)        # frozen evaluation after the epoch
    train_accuracy: list = field(default_factory=list)  # answers given while training
    mean_abs_dw: list = field(default_factory=list)     # mean |w_end - w_start| over plastic synapses
    mean_emotion: list = field(default_factory=list)
    dw: dict = field(default_factory=dict)              # projection -> per-epoch mean |dw|
    initial_accuracy: float = float("nan")
    predictions: np.ndarray | None = None               # final evaluation, per pattern
    tags: np.ndarray | None = None
    wall_s: float = 0.0


class TrialRunner:
    """Runs the [trials] loop of a scenario on a Simulation.

    ``trials``: the normalised [trials] dict (``scenario.trials``); ``plasticity``: the
    scenario's [plasticity] tables; ``seed``: keys every random draw of the loop."""

    def __init__(self, sim, trials, plasticity, seed):
        self.sim = sim
        self.net = sim.network
        self.cfg = trials
        self.seed = int(seed)
        if not isinstance(sim.sink, TeeSink):
            sim.sink = TeeSink(self.net, sim.sink)
        self.patterns = [np.asarray(x, dtype=object if trials["encoding"] == "delta" else np.float64)
                         for x in trials["patterns"]]
        tags = np.asarray(trials["tags"], dtype=np.int64)
        if trials.get("shuffle_tags"):
            tags = np.random.default_rng([self.seed, _TAGS]).permutation(tags)
        self.tags = tags
        # the tags the rule is told in training (a new permutation each epoch for the
        # shuffle_tags_per_epoch control; the evaluation always scores against self.tags)
        self.train_tags = tags
        self.output = self.net.population(trials["output"])
        self.input = self.net.population(trials["input"])
        self.exploration = (self.net.population(trials["exploration"]) if trials.get("exploration") else None)
        self.rules = [EmotionProjection(self.net, pr.name, plasticity[pr.plasticity])
                      for pr in self.net.projections
                      if pr.plasticity and plasticity.get(pr.plasticity, {}).get("rule") == "emotion"]
        self.pops = sorted({self.output.name} | {self.net.projection(r.name).source for r in self.rules}
                           | {self.net.projection(r.name).target for r in self.rules})

    # ---- one presentation ----
    def encode(self, x, rng):
        c = self.cfg
        if c["complement"]:
            x = complement(x)
        x = list(x) + ([1.0] if c["bias"] else [])
        if c["encoding"] == "rate":
            return rate_encode(np.asarray(x, dtype=np.float64), c["window"], c["rate_max"], rng)
        if c["encoding"] == "latency":
            return latency_encode(np.asarray(x, dtype=np.float64), c["latency_max"], c["latency_threshold"])
        width = max(len(v) if isinstance(v, (list, np.ndarray)) else 1 for v in x)
        sig = np.array([np.broadcast_to(np.asarray(v, dtype=np.float64), (width,)) if np.ndim(v) == 0
                        else np.asarray(v, dtype=np.float64) for v in x])
        return delta_encode(sig, c["sample_interval"], c["delta_threshold"], c["delta_off"])

    def _explore(self, t0, rng):
        """Exploration noise for one training presentation: neuron j of the exploration
        population fires as a Poisson train at a rate drawn in [0, exploration_rate]."""
        c = self.cfg
        rates = rng.uniform(0.0, c["exploration_rate"], self.exploration.size)
        counts = rng.poisson(rates * c["window"] / 1000.0)
        self.sim.set_spike_times(self.exploration.name,
                                 [t0 + np.sort(rng.uniform(0.0, c["window"], n)) for n in counts])

    def present(self, k, rng, learn, noise_rng=None, explore_rng=None):
        """Present pattern k; returns (label, emotion). With ``learn`` the rule updates and
        the exploration population (if any) fires."""
        sim, c = self.sim, self.cfg
        t0 = sim.t
        t_end = t0 + c["window"]
        sim.set_spike_times(self.input.name, [t0 + tr for tr in self.encode(self.patterns[k], rng)])
        if self.exploration is not None and learn:
            self._explore(t0, explore_rng)
        sim.run(t_end)
        spikes = {p: sim.sink.take(p) for p in self.pops}
        for p in sim.sink.recorder._t:      # forget what the loop does not read
            if p not in spikes:
                sim.sink.take(p)
        ot, oi = spikes[self.output.name]
        label, scores = decode(c["decoding"], ot, oi, self.output.size, c["n_classes"])
        tag = int(self.train_tags[k] if learn else self.tags[k])
        e = 0.0
        if learn and self.rules:
            fired, csr, counts = self._activity(spikes)
            for r in self.rules:
                e = emotion_value(r.p["emotion"], label, tag, scores, r.p["reward"], r.p["punishment"],
                                  r.p["margin_scale"])
                r.learn(e, k, fired, csr, t_end, counts, noise_rng)
        sim.reset_state()
        return label, e

    def _activity(self, spikes):
        n = self.net.n_neurons
        ts, gs = [], []
        for p, (t, i) in spikes.items():
            ts.append(t)
            gs.append(i + self.net.population(p).offset)
        t = np.concatenate(ts) if ts else np.zeros(0)
        g = np.concatenate(gs).astype(np.int64) if gs else np.zeros(0, dtype=np.int64)
        counts = np.bincount(g, minlength=n).astype(np.float64)
        csr = spike_csr(n, t, g) if any(r.p["eligibility"] == "trace" for r in self.rules) else None
        return counts > 0, csr, counts

    # ---- passes ----
    def evaluate(self, epoch=0):
        """Frozen evaluation: every pattern once, dataset order; returns (accuracy, labels)."""
        labels = np.array([self._eval_step(epoch, k) for k in range(len(self.patterns))])
        return float(np.mean(labels == self.tags)), labels

    def _eval_step(self, epoch, k):
        return self.present(k, np.random.default_rng([self.seed, _EVAL, epoch, k]), False)[0]

    def _train_order(self, epoch):
        """The epoch's presentation order; sets the epoch's training tags and perturbation."""
        n = len(self.patterns)
        order = (np.random.default_rng([self.seed, _ORDER, epoch]).permutation(n) if self.cfg["shuffle"]
                 else np.arange(n))
        if self.cfg.get("shuffle_tags_per_epoch"):
            self.train_tags = np.random.default_rng([self.seed, _TAGS, epoch]).permutation(self.tags)
        for r in self.rules:    # the perturbation shrinks geometrically over the epochs
            r.sigma_scale = r.p["perturbation_decay"] ** (epoch - 1)
        return order

    def _train_step(self, epoch, step, k):
        return self.present(int(k), np.random.default_rng([self.seed, _TRAIN, epoch, step]), True,
                            np.random.default_rng([self.seed, _NOISE, epoch, step]),
                            np.random.default_rng([self.seed, _EXPLORE, epoch, step]))

    def train_epoch(self, epoch):
        """One training pass; returns (training accuracy, mean emotion, per-projection mean |dw|)."""
        n = len(self.patterns)
        order = self._train_order(epoch)
        before = [r.weights.copy() for r in self.rules]
        correct, emotions = 0, []
        for step, k in enumerate(order):
            label, e = self._train_step(epoch, step, k)
            correct += label == self.train_tags[k]
            emotions.append(e)
        return correct / n, float(np.mean(emotions)), self._mean_abs_dw(before)

    def _mean_abs_dw(self, before):
        """Per emotion projection: mean |w - w_before| over its synapses."""
        return {r.name: float(np.mean(np.abs(r.weights - b))) if b.size else 0.0
                for r, b in zip(self.rules, before)}

    def run(self, progress=None, checkpoint=None, resume=None):
        """The whole loop: an evaluation, then per epoch a training and an evaluation pass.

        ``checkpoint``: a callable ``f(state, arrays)`` called after every presentation
        (its caller decides whether a checkpoint is due) with the loop's position and
        accumulators (JSON-able ``state``, numpy ``arrays``); ``resume``: a (state,
        arrays) pair it saved, to go on from there (the Simulation is restored apart).
        Returns the LearningHistory (None if the simulation was stopped)."""
        import time
        t_wall = time.perf_counter()
        n = len(self.patterns)
        h = LearningHistory(tags=self.tags.copy())
        h.dw = {r.name: [] for r in self.rules}
        n_syn = sum(r.sel.size for r in self.rules)
        # position: (epoch, phase, step); phase "eval" or "train"; accumulators of the pass
        st = dict(epoch=0, phase="eval", step=0, correct=0, emotions=[], labels=[])
        before = None
        if resume is not None:
            saved, arrays = resume
            st = dict(saved["position"])
            for name in ("accuracy", "train_accuracy", "mean_abs_dw", "mean_emotion"):
                getattr(h, name).extend(saved["history"][name])
            h.dw = {name: list(v) for name, v in saved["history"]["dw"].items()}
            h.initial_accuracy = saved["history"]["initial_accuracy"]
            h.predictions = None if saved["history"]["predictions"] is None else np.array(
                saved["history"]["predictions"], dtype=np.int64)
            for r, b in zip(self.rules, saved["baselines"]):
                r._e_mean = {int(k): v for k, v in b["e_mean"].items()}
                r._post_mean = {int(k): np.asarray(v) if isinstance(v, list) else v
                                for k, v in b["post_mean"].items()}
            before = [arrays[f"before_{j}"] for j in range(len(self.rules))] if st["phase"] == "train" else None
        order = self._train_order(st["epoch"]) if st["epoch"] >= 1 else None
        while st["epoch"] <= self.cfg["epochs"]:
            epoch = st["epoch"]
            while st["step"] < n:
                if self.sim.should_stop():
                    return None
                step = st["step"]
                if st["phase"] == "eval":
                    st["labels"].append(int(self._eval_step(epoch, step)))
                else:
                    k = order[step]
                    label, e = self._train_step(epoch, step, k)
                    st["correct"] += int(label == self.train_tags[k])
                    st["emotions"].append(float(e))
                if self.sim.should_stop():    # stopped inside the presentation: not counted
                    return None
                st["step"] += 1
                if st["step"] == n:
                    self._end_pass(h, st, before, n_syn, progress)
                    if st["phase"] == "eval":
                        st.update(epoch=epoch + 1, phase="train")
                        if st["epoch"] <= self.cfg["epochs"]:
                            order = self._train_order(st["epoch"])
                    else:
                        st["phase"] = "eval"
                    st.update(step=0, correct=0, emotions=[], labels=[])
                    if st["phase"] == "train":
                        before = [r.weights.copy() for r in self.rules]
                if checkpoint is not None:
                    checkpoint(self._state(h, st), {f"before_{j}": b for j, b in enumerate(before or [])})
                if st["step"] == 0:
                    break          # the pass is over: the next one starts from the top
        h.wall_s = time.perf_counter() - t_wall
        return h

    def _end_pass(self, h, st, before, n_syn, progress):
        n = len(self.patterns)
        if st["phase"] == "eval":
            labels = np.array(st["labels"], dtype=np.int64)
            acc = float(np.mean(labels == self.tags))
            h.predictions = labels
            if st["epoch"] == 0:
                h.initial_accuracy = acc
            else:
                h.accuracy.append(acc)
                if progress is not None:
                    progress.update(2 * n * self.cfg["window"])
            return
        dws = self._mean_abs_dw(before)
        h.train_accuracy.append(st["correct"] / n)
        h.mean_emotion.append(float(np.mean(st["emotions"])))
        for r in self.rules:
            h.dw[r.name].append(dws[r.name])
        h.mean_abs_dw.append(sum(dws[r.name] * r.sel.size for r in self.rules) / n_syn if n_syn else 0.0)

    def _state(self, h, st):
        """The loop's position and accumulators, JSON-able (for checkpoints)."""
        def plain(v):
            return v.tolist() if isinstance(v, np.ndarray) else float(v)
        return dict(position=dict(st, emotions=list(st["emotions"]), labels=list(st["labels"])),
                    history=dict(accuracy=list(h.accuracy), train_accuracy=list(h.train_accuracy),
                                 mean_abs_dw=list(h.mean_abs_dw), mean_emotion=list(h.mean_emotion),
                                 dw={k: list(v) for k, v in h.dw.items()}, initial_accuracy=h.initial_accuracy,
                                 predictions=None if h.predictions is None else h.predictions.tolist()),
                    baselines=[dict(e_mean={str(k): float(v) for k, v in r._e_mean.items()},
                                    post_mean={str(k): plain(v) for k, v in r._post_mean.items()})
                               for r in self.rules])


def run_trials(sim, scenario, progress=None):
    """Run the scenario's [trials] loop on ``sim``; returns (LearningHistory, TrialRunner)."""
    runner = TrialRunner(sim, scenario.trials, scenario.plasticity, scenario.seed)
    return runner.run(progress), runner
