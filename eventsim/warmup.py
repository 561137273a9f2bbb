"""``eventsim warmup SCENARIO... | --all``: compile, once, every kernel that runs of these
scenarios will need.

numba compiles eventsim's kernels the first time they are used, and caches them on disk
(numba's ``__pycache__`` folders and eventsim's private kernel cache, see
:mod:`eventsim._jitcache`): later processes load them in milliseconds. A cold first run
therefore spends most of its time compiling. ``warmup`` does that compiling ahead of time,
so that a cluster job, a classroom or a benchmark starts with a warm cache.

How: each scenario is validated as given, then a small copy of it is run briefly, on the
same backend and thread count as ``eventsim run`` would use, through the same code
(:func:`eventsim.api.run_scenario`, then the energy accounting of ``eventsim energy``):

- the same populations, models, synapse types, stimuli, projections, plasticity rules,
  state probes, recorded weights and trials, so the same kernels are compiled;
- fewer neurons: a network of more than :data:`MAX_NEURONS` neurons is scaled down with
  ``[network] scale`` (in-degrees alike); one that cannot be scaled (explicit neuron ids,
  a graph file, a NIR graph) is built as it is;
- a short run: :data:`WARM_MS` of simulated time (or the duration, if shorter), run
  again longer (:data:`LONGER_MS`) while a population has not spiked yet, since some
  kernels run only on what spikes do; a trial run presents its patterns for one training
  epoch (``epochs = 1``; 0 stays 0); state
  probes sample from 0 ms, weight samples and checkpoints fit in the short run; the
  ``[analysis]`` section is left out.

The output goes to a temporary folder and is deleted. ``--all`` warms a set of small
scenarios that together use every neuron model (with every synapse type), every
plasticity rule, state probes and weight recording of the catalogue, for users who will
write their own scenarios.
"""
from __future__ import annotations

import copy
import io
import tempfile
import time
from pathlib import Path

#: networks larger than this (neurons) are scaled down for the warm-up run
MAX_NEURONS = 5000
#: simulated time of the warm-up run (ms); enough for every population to spike
WARM_MS = 50.0


class _Compiles:
    """numba compile events during a warm-up: seconds and number of eventsim's own kernels
    (outermost compilations whose function is not numba's own: numba compiles its
    typed-list helpers in every process, in well under a second, whatever is cached)."""

    def __init__(self):
        import numba.core.event as ev
        self.seconds = 0.0
        self.kernels = 0
        self.other_s = 0.0
        self._depth = 0
        self._t0 = 0.0
        self._name = None
        outer = self

        class Listener(ev.Listener):
            def on_start(self, event):
                if outer._depth == 0:
                    outer._t0 = time.perf_counter()
                    outer._name = _module_of(event)
                outer._depth += 1

            def on_end(self, event):
                outer._depth -= 1
                if outer._depth == 0:
                    dt = time.perf_counter() - outer._t0
                    if outer._name.startswith("numba."):
                        outer.other_s += dt
                    else:
                        outer.seconds += dt
                        outer.kernels += 1
        self._listener = Listener()

    def __enter__(self):
        import numba.core.event as ev
        ev.register("numba:compile", self._listener)
        return self

    def __exit__(self, *exc):
        import numba.core.event as ev
        ev.unregister("numba:compile", self._listener)
        return False


def _module_of(event):
    data = event.data or {}
    disp = data.get("dispatcher")
    func = getattr(disp, "py_func", None)
    return getattr(func, "__module__", None) or ""


def small_copy(path, warm_ms=None):
    """(the validated scenario as given, the small copy to run, the scale factor applied);
    the copy runs ``warm_ms`` (default :data:`WARM_MS`) or the scenario's duration if shorter."""
    from .scenario.load import load_scenario, read_source
    full = load_scenario(path)                 # errors name the user's file and keys
    raw, _, _ = read_source(path)
    raw = copy.deepcopy(raw)
    raw.pop("analysis", None)
    raw.pop("output", None)
    short = min(full.duration, WARM_MS if warm_ms is None else warm_ms)
    if full.trials is None:
        raw.setdefault("simulation", {})["duration"] = short
    else:
        trials = raw.setdefault("trials", {})
        trials["epochs"] = min(int(trials.get("epochs", 1)), 1)
        short = None
    record = raw.get("record")
    if isinstance(record, dict):
        for probe in record.get("state", []) or []:
            if isinstance(probe, dict):
                probe["start"] = 0.0
                probe.pop("stop", None)
                if short is not None and isinstance(probe.get("interval"), (int, float)):
                    probe["interval"] = min(float(probe["interval"]), short / 4)
        if short is not None and isinstance(record.get("weights_interval"), (int, float)):
            record["weights_interval"] = min(float(record["weights_interval"]), short / 4)
    if full.output.get("checkpoint_every") is not None:
        raw["output"] = {"checkpoint_every": (short / 2) if short is not None else full.output["checkpoint_every"]}
    n = sum(int(p["size"]) for p in full.populations)
    factor = 1.0
    network = full.network
    if n > MAX_NEURONS and network.get("graph") is None and network.get("nir") is None:
        smallest = min(int(p["size"]) for p in full.populations)
        factor = max(MAX_NEURONS / n, 1.0 / smallest)
    if factor < 1.0:
        scaled = copy.deepcopy(raw)
        net = scaled.setdefault("network", {})
        net["scale"] = float(full.scaling["scale"]) * factor
        if "indegree_scale" in net:
            net["indegree_scale"] = float(full.scaling["indegree_scale"]) * factor
        try:
            return full, load_scenario(scaled, base_dir=full.base_dir), factor
        except Exception:   # noqa: BLE001 - not scalable (explicit ids): the whole network
            pass
    return full, load_scenario(raw, base_dir=full.base_dir), 1.0


#: longer warm-up runs, tried in turn while a population of neurons has not spiked yet
#: (some kernels run only on what spikes do: a plastic synapse's post-synaptic spikes,
#: spikes still in flight at the end)
LONGER_MS = (200.0, 1000.0)


def _silent(path, scenario):
    """Names of the scenario's neuron populations (not sources) without a spike in ``path``."""
    import h5py
    from .models import neuron_model
    with h5py.File(path, "r") as f:
        return [p["name"] for p in scenario.populations
                if not neuron_model(p["model"]).is_source
                and not (f"spikes/{p['name']}" in f and f[f"spikes/{p['name']}/timestamps"].shape[0] > 0)]


def warm_scenario(path, threads=1):
    """Run the small copy of the scenario at ``path`` (see the module docstring); returns a
    dict: scenario, neurons (of the copy), neurons_full, scale, warm_ms (simulated), threads,
    seconds (wall), compile_s and kernels (eventsim's kernels compiled: 0 when the cache was
    already warm)."""
    from .api import run_scenario
    t0 = time.perf_counter()
    full, small, factor = small_copy(path)
    if small.simulation["backend"] != "cpu":
        threads = None
    with _Compiles() as watch, tempfile.TemporaryDirectory(prefix="eventsim-warmup-") as tmp:
        out = Path(tmp) / "warmup.h5"
        run_scenario(small, out, threads=threads, force=True)
        for longer in LONGER_MS:
            if small.trials is not None or small.duration >= full.duration or not _silent(out, small):
                break
            small = small_copy(path, longer)[1]
            run_scenario(small, out, threads=threads, force=True)
        if small.energy.get("hardware"):
            from .energy.cli import run_energy
            run_energy(str(out), out=io.StringIO())
    return {"scenario": str(path), "neurons": sum(int(p["size"]) for p in small.populations),
            "neurons_full": sum(int(p["size"]) for p in full.populations), "scale": factor,
            "warm_ms": small.duration, "threads": threads, "seconds": time.perf_counter() - t0,
            "compile_s": watch.seconds, "kernels": watch.kernels}


# ---------------------------------------------------------------- --all: the catalogue
def catalogue_scenarios():
    """{name: scenario dict} that together use every neuron model with every synapse type
    (several populations of one model, which the engine advances in one launch; one
    population beside another model's, advanced alone; probed and not: each is compiled
    for its own arguments), every plasticity rule (event rules, and the trial rule in a
    trial run), energy accounting, spike and Poisson sources, current and spike-time stimuli, state probes,
    recorded weights, weight samples and weight events, weights and delays drawn per
    synapse, and delays too many for a table."""
    from . import models
    from .models.plasticity import plasticity_rules
    out = {}
    neuron_models = {name: m for name, m in sorted(models.neuron_models().items()) if not m.is_source}

    def population(pop, model, syn):
        return {"name": pop, "size": 20, "model": model, "params": {} if syn is None else {"synapse": syn}}

    def inputs(pop, syn, sources):
        weight = 50.0 if syn in ("exp", "alpha") else 2.0
        stimuli = [{"kind": "poisson", "rate": 2000.0, "target": pop, "weight": weight, "delay": 1.0},
                   {"kind": "current", "target": pop, "times": [0.0, 10.0], "amplitudes": [10.0, 0.0]},
                   {"kind": "spike_times", "target": pop, "times": [3.0], "weight": weight, "delay": 1.0}]
        projections = [{"source": pop, "target": pop, "rule": "fixed_indegree", "indegree": 5,
                        "weight": {"uniform": [-weight, 0.0]}, "delay": {"uniform": [0.5, 2.0]}}]
        if sources:
            projections += [{"source": "src", "target": pop, "rule": "fixed_indegree", "indegree": 5,
                             "weight": weight, "delay": 1.0},
                            {"source": "times", "target": pop, "rule": "all_to_all", "weight": weight,
                             "delay": 1.5}]
        return stimuli, projections

    def scenario(pops, probed, sources):
        """pops: [(population name, model, synapse)]; probed: the probed population's index."""
        raw = {"simulation": {"duration": WARM_MS, "seed": 1}, "population": [], "stimulus": [],
               "projection": [], "record": {"spikes": "all"}}
        if sources:
            raw["population"] += [
                {"name": "src", "size": 20, "model": "poisson_source", "params": {"rate": 100.0}},
                {"name": "times", "size": 2, "model": "spike_source", "params": {"times": [[1.0, 5.0], [2.0]]}}]
        for pop, model, syn in pops:
            raw["population"].append(population(pop, model, syn))
            stimuli, projections = inputs(pop, syn, sources)
            raw["stimulus"] += stimuli
            raw["projection"] += projections
        first = pops[0][0]
        raw["record"]["weights"] = [f"{first}_to_{first}"]
        if probed is not None:
            pop, model, _ = pops[probed]
            raw["record"]["state"] = [{"population": pop, "variables": list(model_recordables(model)),
                                       "ids": [0, 1], "interval": 1.0}]
        return raw

    for name, model in neuron_models.items():
        synapse = model.params.get("synapse")
        kinds = list(synapse.choices) if synapse is not None and synapse.choices else [None]
        same = [(f"n_{k or name}", name, k) for k in kinds]
        if len(same) == 1:
            same.append((f"{same[0][0]}_2", name, kinds[0]))
        other = next(m for m in neuron_models if m != name)
        mixed = [same[0], same[1], (f"other_{other}", other, None)]
        out[name] = scenario(same, 0, True)
        out[f"{name}_unprobed"] = scenario(same, None, False)
        out[f"{name}_mixed"] = scenario(mixed, 0, True)
    from .scenario.schema import HARDWARE_NAMES     # and eventsim energy's kernels
    out[next(iter(neuron_models))]["energy"] = {"hardware": list(HARDWARE_NAMES)}
    # more distinct delays than a delay table holds: delays stored per synapse
    out["many_delays"] = {
        "simulation": {"duration": WARM_MS, "seed": 1},
        "population": [{"name": "n", "size": 300, "model": "lif"}],
        "stimulus": [{"kind": "poisson", "rate": 2000.0, "target": "n", "weight": 2.0, "delay": 1.0}],
        "projection": [{"source": "n", "target": "n", "rule": "fixed_indegree", "indegree": 230,
                        "weight": -0.1, "delay": {"uniform": [0.5, 5.0]}}]}
    for rule_name, rule in sorted(plasticity_rules().items()):
        if rule.kind != "event":
            continue
        out[f"plasticity_{rule_name}"] = {
            "simulation": {"duration": WARM_MS, "seed": 1},
            "population": [
                {"name": "src", "size": 20, "model": "poisson_source", "params": {"rate": 50.0}},
                {"name": "n", "size": 4, "model": "lif"},
            ],
            "stimulus": [{"kind": "poisson", "rate": 2000.0, "target": "n", "weight": 2.0, "delay": 1.0}],
            "projection": [{"name": "plastic", "source": "src", "target": "n", "rule": "all_to_all",
                            "weight": {"uniform": [0.5, 1.5]}, "delay": 1.0, "plasticity": "rule"}],
            "plasticity": {"rule": {"rule": rule_name, "w_max": 5.0}},
            "record": {"spikes": "all", "weights": ["plastic"], "weights_interval": 10.0,
                       "weight_events": ["plastic"]},
        }
    for rule_name, rule in sorted(plasticity_rules().items()):
        if rule.kind != "trial":
            continue
        out[f"trials_{rule_name}"] = {       # as scenarios/emotion_parity_5_2.toml, smaller
            "simulation": {"duration": 1.0, "seed": 1},
            "population": [{"name": "inputs", "size": 2, "model": "spike_source", "params": {"times": [[], []]}},
                           {"name": "out", "size": 2, "model": "lif"}],
            "projection": [{"name": "learned", "source": "inputs", "target": "out", "rule": "all_to_all",
                            "weight": {"uniform": [0.8, 1.2]}, "delay": 0.1, "plasticity": "rule"},
                           {"source": "out", "target": "out", "rule": "all_to_all", "weight": -30.0,
                            "delay": 0.1}],
            "plasticity": {"rule": {"rule": rule_name, "w_max": 4.0}},
            "trials": {"input": "inputs", "output": "out", "patterns": [[1, 0], [0, 1]], "tags": [0, 1],
                       "epochs": 1, "window": 10.0, "rate_max": 5000.0},
            "record": {"weights": ["learned"]},
        }
    return out


def model_recordables(name):
    """The state variables a probe of this model may record."""
    from .output.report import recordable_variables
    return tuple(recordable_variables(name))
