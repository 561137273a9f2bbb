"""Building a :class:`~eventsim.network.core.Network` from a normalised Scenario.

Order of things (it fixes global ids and projection indices):
populations in scenario order, then one hidden population per ``spike_times``
stimulus; projections in scenario order, then those of the graph (if any), then
one per ``spike_times`` stimulus. Every random draw comes from a keyed stream
(:mod:`eventsim.network.rng`; key scheme in docs/network-construction.md), so the
same scenario and seed give byte-identical arrays.
"""
from __future__ import annotations

import functools

import numpy as np

from .. import models
from ..models.plasticity import plasticity_rule
from ..distributions import Dist
from ..errors import InputError
from .connect import SKIPPABLE, Edges, Rule, connect, synapse_values
from .core import Network, Population, Projection, Stimulus
from .csr import assemble
from .graph import graph_projections, read_graph
from .memory import check_fits, estimate_memory  # noqa: F401  (re-exported)
from .partition import owner_rank
from .rng import blocks, stream

MAX_PROJECTIONS = 65536  # Network.proj is uint16


def _model(pop, key):
    try:
        return models.neuron_model(pop["model"])
    except KeyError as exc:
        raise InputError(f"{key}.model: {exc.args[0]}") from None


def per_neuron(value, seed, size, key, *stream_key):
    """float64 (size,): a number filled in, or a Dist drawn per neuron; neuron block b
    draws from ``stream(seed, *stream_key, b)``."""
    if isinstance(value, Dist):
        out = np.empty(size, dtype=np.float64)
        for b, a, e in blocks(size):
            try:
                out[a:e] = value.draw(stream(seed, *stream_key, b), e - a)
            except ValueError as exc:
                raise InputError(f"{key}: {exc}") from None
        return out
    if isinstance(value, (bool, str)) or value is None:
        raise InputError(f"{key}: expected a number or a distribution, got {value!r}")
    try:
        return np.full(size, float(value), dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{key}: expected a number or a distribution, got {value!r}") from None


def _init_default(name, model, params, size):
    """Initial value of a state whose scenario value is None: the model's default,
    else the resting potential for ``v``, else 0."""
    p = model.init[name]
    if p.default is not None:
        return np.full(size, float(p.default))
    if name == "v" and "v_rest" in params:
        return params["v_rest"].copy()
    return np.zeros(size)


def _spike_times(pop, key):
    times = pop["params"].get("times", [])
    if len(times) != pop["size"]:
        raise InputError(f"{key}.params.times: one list of times per neuron is needed "
                         f"({pop['size']} neurons), got {len(times)} entries")
    out = []
    for i, t in enumerate(times):
        if not isinstance(t, (list, tuple, np.ndarray)):
            raise InputError(f"{key}.params.times[{i}]: expected a list of times (ms), got {t!r}")
        out.append(np.sort(np.asarray(t, dtype=np.float64)))
    return out


def build_population(pop, index, offset, seed) -> Population:
    """One scenario population: params drawn per neuron (key ("param", index, name, block)),
    initial state (key ("init", index, name, block)), options and spike times."""
    key = f"population[{index}]"
    model = _model(pop, key)
    size = int(pop["size"])
    params, problems = {}, []
    for name in model.numeric_params:
        spec = model.params[name]
        value = pop["params"].get(name, spec.default)
        arr = per_neuron(value, seed, size, f"{key}.params.{name}", "param", index, name)
        if size and spec.check != "any":
            worst = arr.min()
            why = spec.violates(worst)
            if why:
                problems.append(f"{key}.params.{name}: {why}, got {worst:g}"
                                + (" (drawn; bound the distribution with min)" if isinstance(value, Dist) else ""))
        params[name] = arr
    if problems:
        raise InputError(problems)
    options = {name: pop["params"].get(name, p.default) for name, p in model.options.items()}
    init = {}
    for name in model.init:
        value = pop.get("init", {}).get(name)
        init[name] = (_init_default(name, model, params, size) if value is None else
                      per_neuron(value, seed, size, f"{key}.init.{name}", "init", index, name))
    spike_times = _spike_times(pop, key) if model.name == "spike_source" else None
    return Population(name=pop["name"], model=model.name, size=size, offset=offset, params=params,
                      options=options, init=init, spike_times=spike_times)


def _local_ids(st, pop, key):
    if st.get("ids") is None:
        return np.arange(pop.size, dtype=np.int64)
    ids = np.asarray(st["ids"], dtype=np.int64).reshape(-1)
    bad = ids[(ids < 0) | (ids >= pop.size)]
    if bad.shape[0]:
        raise InputError(f"{key}.ids: {bad[0]} is not a neuron of {pop.name!r} (0..{pop.size - 1})")
    return ids


def _number(st, name, key):
    value = st.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{key}.{name}: expected a number, got {value!r}")
    return float(value)


def build_stimuli(scenario, pops, offset):
    """(Stimulus list, hidden populations, projection specs) for the scenario's stimuli."""
    by_name = {p.name: p for p in pops}
    stimuli, hidden, specs = [], [], []
    for j, st in enumerate(scenario.stimuli):
        key = f"stimulus[{j}]"
        pop = by_name.get(st["target"])
        if pop is None:
            raise InputError(f"{key}.target: no population named {st['target']!r}")
        if models.neuron_model(pop.model).is_source:
            raise InputError(f"{key}.target: {pop.name!r} is a {pop.model} and receives no input")
        local = _local_ids(st, pop, key)
        kind = st["kind"]
        if kind == "poisson":
            stimuli.append(Stimulus(name=st["name"], kind="poisson", target=pop.name, ids=local + pop.offset,
                                    rate=_number(st, "rate", key), weight=_number(st, "weight", key),
                                    delay=_number(st, "delay", key)))
        elif kind == "current":
            times = np.asarray(st["times"], dtype=np.float64)
            amps = np.asarray(st["amplitudes"], dtype=np.float64)
            if times.shape != amps.shape:
                raise InputError(f"{key}.amplitudes: {amps.shape[0]} amplitudes for {times.shape[0]} times")
            stimuli.append(Stimulus(name=st["name"], kind="current", target=pop.name, ids=local + pop.offset,
                                    times=times, amplitudes=amps))
        elif kind == "spike_times":
            name = f"stimulus:{st['name']}"
            src = Population(name=name, model="spike_source", size=1, offset=offset, params={}, options={},
                             init={}, spike_times=[np.sort(np.asarray(st["times"], dtype=np.float64))],
                             hidden=True)
            offset += 1
            hidden.append(src)
            specs.append(dict(name=name, source=name, target=pop.name, rule="pairs",
                              pairs=np.column_stack([np.zeros_like(local), local]),
                              weight=st["weight"], delay=st["delay"], allow_autapses=True,
                              allow_multapses=True, plasticity=None, key=key))
        else:
            raise InputError(f"{key}.kind: unknown stimulus kind {kind!r}; expected poisson, "
                             f"spike_times or current")
    return stimuli, hidden, specs


class Values:
    """What the checks need of a projection's weights or delays, over all its synapses
    (a rank's drawn ones and those of the blocks it left undrawn): how many, whether all
    are finite, the smallest and the largest."""

    def __init__(self):
        self.n, self.finite, self.min, self.max = 0, True, np.inf, -np.inf

    def add(self, a):
        if a.shape[0]:
            self.n += a.shape[0]
            self.finite = self.finite and bool(np.isfinite(a).all())
            self.min, self.max = min(self.min, float(a.min())), max(self.max, float(a.max()))
        return self


def _values(value, n, arr, seed, domain, index, skipped, key):
    """Values of a projection's n synapses: those drawn (arr: (n_drawn,) or a constant's
    (1,)) and, for Dist values, the blocks left undrawn (``skipped`` counts per block,
    drawn here from their own streams and dropped: every rank checks every value)."""
    out = Values()
    if n == 0:
        return out
    out.add(arr)
    if skipped is not None and isinstance(value, Dist):
        for b in np.flatnonzero(skipped):
            try:
                out.add(value.draw(stream(seed, domain, index, int(b)), int(skipped[b])))
            except ValueError as exc:
                raise InputError(f"{key}: {exc}") from None
    return out


def _check_values(spec, weight, delay, plastic):
    """``weight``, ``delay``: Values of the whole projection."""
    key = spec["key"]
    problems = []
    if weight.n and not weight.finite:
        problems.append(f"{key}.weight: must be finite")
    if delay.n and (not delay.finite or not delay.min > 0):
        drawn = " (drawn; give the distribution a min > 0)" if isinstance(spec["delay"], Dist) else ""
        problems.append(f"{key}.delay: must be > 0 ms, got {delay.min:g}{drawn}")
    if plastic and weight.n and weight.min < 0:
        problems.append(f"{key}.weight: a plastic projection ({spec['plasticity']}) needs weights >= 0, "
                        f"got {weight.min:g}")
    if problems:
        raise InputError(problems)


def _wanted_blocks(spec, t, mine):
    """Rank's part: per block of the projection's targets, whether it holds a neuron of
    this rank (None: draw every block, as one process does)."""
    if mine is None or spec["rule"] not in SKIPPABLE:
        return None
    mine_t = mine[t.offset:t.offset + t.size]
    return np.array([bool(mine_t[a:e].any()) for _, a, e in blocks(t.size)], dtype=bool)


def _synapses(spec, s, t, seed, index, mine=None):
    """(Edges, weight array, delay array) of one projection; deterministic (keyed streams),
    so that a large network can draw a projection twice instead of holding it.
    ``mine``: a rank's neurons; blocks of targets without any are not drawn where the
    rule allows (connect.SKIPPABLE; Edges.skipped counts their synapses)."""
    rule = Rule(spec, spec["key"], s.size, t.size, s.offset, t.offset, seed, index)
    rule.want = _wanted_blocks(spec, t, mine)
    edges = connect(rule)
    values = []
    for name in ("weight", "delay"):
        value = spec[name]
        if isinstance(value, np.ndarray) and spec["rule"] == "pairs":
            # explicit per-pair values follow the pairs into (source, target) order
            value = value[rule.order]
        values.append(synapse_values(value, seed, name, index, edges.block_starts, f"{spec['key']}.{name}"))
    return edges, values[0], values[1]


def _onto(mine, edges, weight, delay, order=None):
    """The synapses of a projection onto the neurons where ``mine`` (a rank's share).
    ``order`` (a dict): gets, under "index", each kept synapse's place in the
    projection's construction order, in the order of the table (by source, then
    construction): the key that puts the ranks' synapses back in the whole table's order."""
    keep = mine[edges.targets()]
    idx = np.flatnonzero(keep)
    src = edges.sources()[idx]
    if order is not None:
        order["index"] = edges.construction_index(idx[np.argsort(src, kind="stable")])
    if keep.all():
        return edges, weight, delay
    sub = Edges(int(idx.size), src, edges.targets()[idx], np.array([0, idx.size], dtype=np.int64))
    return sub, (weight[idx] if weight.shape[0] > 1 else weight), (delay[idx] if delay.shape[0] > 1 else delay)


def _cut(mine, order, make):
    return _onto(mine, *make(), order=order)


def build_synapses(specs, pops, scenario, seed, regenerate=False, mine=None):
    """(Projection list, parts for :func:`assemble`) for projection specs in index order.

    parts[k] is (index, Edges, weights, delays); with ``regenerate`` it is
    (index, make), make() drawing them again, and the projections are not held:
    peak memory while assembling is then the table plus one projection.
    ``mine`` (bool per neuron): keep only the synapses onto these neurons (a rank's):
    the blocks of targets holding none of them are not drawn where the rule allows
    (connect.SKIPPABLE: their counts are known without drawing; their drawn values are
    still checked, so every rank raises the same errors), the rest is drawn with the
    one-process draws and cut (with ``regenerate``, at each draw). Also returns the delay range of the whole network,
    (smallest, largest)."""
    by_name = {p.name: p for p in pops}
    projections, parts = [], []
    d_range = (np.inf, 0.0)
    rec = scenario.record or {}
    keep_order = set(rec.get("weights", [])) | set(rec.get("weight_events", []))
    orders = {}
    for index, spec in enumerate(specs):
        key = spec["key"]
        for side in ("source", "target"):
            if spec[side] not in by_name:
                raise InputError(f"{key}.{side}: no population named {spec[side]!r}")
        s, t = by_name[spec["source"]], by_name[spec["target"]]
        if models.neuron_model(t.model).is_source:
            raise InputError(f"{key}.target: {t.name!r} is a {t.model} and receives no input")
        plasticity = spec.get("plasticity")
        if plasticity is not None and plasticity not in scenario.plasticity:
            raise InputError(f"{key}.plasticity: no [plasticity.{plasticity}] in the scenario")
        edges, weight, delay = _synapses(spec, s, t, seed, index, mine)
        event_rule = plasticity is not None and plasticity_rule(
            scenario.plasticity[plasticity]["rule"]).kind == "event"
        n_all = edges.total()
        w_all = _values(spec["weight"], n_all, weight, seed, "weight", index, edges.skipped, f"{key}.weight")
        d_all = _values(spec["delay"], n_all, delay, seed, "delay", index, edges.skipped, f"{key}.delay")
        _check_values(spec, w_all, d_all, event_rule)
        projections.append(Projection(name=spec["name"], index=index, source=s.name, target=t.name,
                                      plasticity=plasticity, n_synapses=n_all))
        if n_all:
            d_range = (min(d_range[0], d_all.min), max(d_range[1], d_all.max))
        # a rank keeps, for projections whose weights it may have to hand to rank 0
        # (plastic or recorded), each synapse's place in construction order
        order = None
        if mine is not None and (plasticity is not None or spec["name"] in keep_order):
            order = orders.setdefault(index, {})
        if regenerate:
            make = functools.partial(_synapses, spec, s, t, seed, index, mine)
            parts.append((index, make if mine is None else functools.partial(_cut, mine, order, make)))
        elif mine is not None:
            parts.append((index, *_onto(mine, edges, weight, delay, order)))
        else:
            parts.append((index, edges, weight, delay))
        del edges, weight, delay
    return projections, parts, (d_range, orders)


def scenario_specs(scenario):
    """Projection specs (dicts as in Scenario.projections, plus "key") of the scenario."""
    return [dict(p, key=f"projection[{i}]") for i, p in enumerate(scenario.projections)]


def build_network(scenario, *, graph=None, check_memory=True, part=None) -> Network:
    """The network of ``scenario``; ``graph`` (a networkx DiGraph or a GraphML path)
    overrides scenario.network["graph"]. Raises InputError on content that the
    scenario checks cannot see (sizes, degrees larger than the population, ...) and,
    with ``check_memory``, CapacityError before building a network that would not
    fit in the available memory.

    ``part=(r, R)``: rank r's part of a network spread over R MPI ranks: every
    population, stimulus and projection, but only the synapses onto rank r's neurons
    (eventsim.network.partition); simulated by a Simulation on those ranks."""
    seed = scenario.seed
    graph = graph if graph is not None else (scenario.network or {}).get("graph")
    if graph is not None:
        import networkx as nx   # (only for networks from graphs: 12 MB and 75 ms per process)
        if not isinstance(graph, nx.Graph):
            graph = read_graph(graph)
    est = check_fits(scenario, graph=graph) if check_memory else estimate_memory(scenario, graph=graph)
    pops, offset = [], 0
    for i, pop in enumerate(scenario.populations):
        pops.append(build_population(pop, i, offset, seed))
        offset += pops[-1].size
    specs = scenario_specs(scenario)
    if graph is not None:
        specs += graph_projections(scenario, graph, taken={s["name"] for s in specs})
    stimuli, hidden, stim_specs = build_stimuli(scenario, pops, offset)
    pops += hidden
    offset += sum(p.size for p in hidden)
    specs += stim_specs
    if len(specs) > MAX_PROJECTIONS:
        raise InputError(f"projection: at most {MAX_PROJECTIONS} projections are supported, got {len(specs)}")
    if offset >= 2 ** 31:
        raise InputError(f"population: at most {2 ** 31 - 1} neurons are supported, got {offset}")
    mine = None
    if part is not None:
        rank, ranks = (int(x) for x in part)
        if not 0 <= rank < ranks:
            raise ValueError(f"part: rank {rank} of {ranks} ranks")
        mine = owner_rank(pops, offset, ranks) == rank
    projections, parts, (d_range, orders) = build_synapses(specs, pops, scenario, seed,
                                                           regenerate=est["regenerate"], mine=mine)
    csr = assemble(offset, parts)
    net = Network(populations=pops, projections=projections, stimuli=stimuli, seed=seed,
                  plasticity={k: dict(v) for k, v in scenario.plasticity.items()}, **csr)
    if part is not None:
        net.part = (rank, ranks)
        net.delay_range = d_range
        net.part_order = {index: o["index"] for index, o in orders.items()}
    return net
