"""The validated, normalised form of a scenario (what the rest of eventsim consumes).

Produced by :func:`eventsim.scenario.load_scenario`; every default is filled in,
every cross-reference checked, numbers are floats/ints, distributions are
:class:`eventsim.distributions.Dist`, paths are resolved against ``base_dir``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Scenario:
    # {"duration": float ms, "seed": int, "backend": "cpu"|"cuda"}
    simulation: dict
    # [{"name", "size": int, "model": str,
    #   "params": {param: float | Dist | str (option) | list (spike_source times)},  all model params, defaults filled
    #   "init": {state: float | Dist | None}}]   (None = model default, e.g. v = v_rest)
    populations: list
    # [{"name", "kind": "poisson"|"spike_times"|"current", "target": pop name, "ids": list[int] | None,
    #   poisson: "rate" (of the train: rate x indegree when indegree is given), "weight", "delay",
    #   "indegree" (int, scaled) | None; spike_times: "times" (list[float]), "weight", "delay";
    #   current: "times" (list[float]), "amplitudes" (list[float])}]
    stimuli: list = field(default_factory=list)
    # [{"name", "source", "target", "rule", one of "p"/"indegree"/"outdegree"/"n"/"pairs" as the rule needs
    #   (fixed_total_number: "n", scaled, and "p" | None, the probability it came from),
    #   "weight": float | Dist, "delay": float | Dist, "allow_autapses": bool, "allow_multapses": bool,
    #   "plasticity": str | None}]
    projections: list = field(default_factory=list)
    # name -> {"rule": str, <rule params with defaults filled>}
    plasticity: dict = field(default_factory=dict)
    # {"graph": Path | None}
    network: dict = field(default_factory=lambda: {"graph": None})
    # [network] scaling, already applied to the fields above (eventsim/scenario/scaling.py):
    # {"scale": float, "indegree_scale": float, "compensate": bool, "mean_rates": {pop: Hz}}
    scaling: dict = field(default_factory=lambda: {"scale": 1.0, "indegree_scale": 1.0,
                                                   "compensate": False, "mean_rates": {}})
    # {"spikes": "all" | list[str], "weights": list[str], ...}
    record: dict = field(default_factory=lambda: {"spikes": "all", "weights": []})
    # {"path": str | None}
    output: dict = field(default_factory=lambda: {"path": None})
    # {"hardware": list[str]}
    energy: dict = field(default_factory=lambda: {"hardware": []})
    # {"t_start": float ms | None}: eventsim analyze's default window start for the output file
    analysis: dict = field(default_factory=lambda: {"t_start": None})
    # None, or the normalised [trials] table (eventsim.trials.config): patterns, tags, n_classes, ...
    trials: dict | None = None
    text: str = ""                 # the scenario text as given (TOML or JSON), for the output file
    path: Path | None = None       # the scenario file, if any
    base_dir: Path = field(default_factory=Path.cwd)  # for relative paths
    # the overrides applied to the text ({"simulation.seed": 3, ...}): text + overrides +
    # base_dir give this scenario again (checkpoints rebuild it from them)
    overrides: dict = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return int(self.simulation["seed"])

    @property
    def duration(self) -> float:
        return float(self.simulation["duration"])

    def population(self, name):
        for p in self.populations:
            if p["name"] == name:
                return p
        raise KeyError(name)
