"""How much memory a scenario's network needs, estimated without building it.

Used by ``eventsim validate`` (to print the estimate) and before construction
(:func:`check_fits` refuses, with CapacityError, a network that cannot fit).
Synapse figures follow the layout of :mod:`eventsim.network.core`: 16 bytes per
synapse (int32 target, float64 weight, uint16 projection, uint16 delay index)
when the network has at most 65,535 distinct delays, 22 otherwise, plus 8 bytes
per neuron for ``indptr``. The queue figure is rough (see :func:`estimate_memory`).
"""
from __future__ import annotations

import os

import numpy as np

from .. import models
from ..distributions import Dist
from ..errors import CapacityError
from .csr import MAX_DELAY_TABLE

ASSUMED_RATE_HZ = 10.0      # mean rate assumed for model neurons in the queue estimate
BYTES_PER_QUEUED_EVENT = 16  # arrival time (float64) + target and weight, as queues store them
NEURON_OVERHEAD = 32        # bytes per neuron for engine bookkeeping (state index, flags, ...)
GRAPH_BUILD_BYTES = 200     # per graph edge while its attributes are collected (Python lists)
# above this many bytes of projections held at once, the build draws each projection twice
# (counting pass, placing pass) and holds one at a time (eventsim.network.csr.assemble)
REGENERATE_ABOVE = 2 ** 30


def _number(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return 0.0


def _upper(value):
    """A value's largest plausible magnitude: a number, or a Dist's upper bound (mean + 5 sd
    where unbounded)."""
    if not isinstance(value, Dist):
        return abs(float(value))
    lo, hi = value.support()
    if np.isfinite(hi):
        return max(abs(lo), abs(hi)) if np.isfinite(lo) else abs(hi)
    a, b = value.args
    return float(np.exp(a + 5 * b)) if value.kind == "lognormal" else abs(a) + 5 * abs(b)


def _mean_rate(pop):
    if pop["model"] == "poisson_source":
        rate = pop["params"].get("rate", 0.0)
        if isinstance(rate, Dist):
            return _upper(rate)
        return float(rate)
    if pop["model"] == "spike_source":
        return 0.0  # counted from its times below
    return ASSUMED_RATE_HZ


def count_synapses(spec, n_source, n_target):
    """Expected number of synapses of one projection spec (exact but for fixed_probability)."""
    rule = spec["rule"]
    no_self = spec["source"] == spec["target"] and not spec.get("allow_autapses", False)
    partners = max(n_source - 1, 0) if no_self else n_source
    if rule == "all_to_all":
        return n_target * partners
    if rule == "one_to_one":
        return 0 if no_self else min(n_source, n_target)
    if rule == "fixed_probability":
        return round(float(spec["p"]) * n_target * partners)
    if rule == "fixed_indegree":
        return n_target * int(spec["indegree"])
    if rule == "fixed_outdegree":
        return n_source * int(spec["outdegree"])
    if rule == "fixed_total_number":
        return int(spec["n"])
    if rule == "pairs":
        return len(spec["pairs"])
    return 0


def _build_bytes(spec):
    """Bytes per synapse a projection holds while the table is assembled."""
    rule = spec["rule"]
    b = 4 if rule in ("all_to_all", "one_to_one", "fixed_indegree", "fixed_outdegree") else 8
    for name in ("weight", "delay"):
        if isinstance(spec[name], (Dist, np.ndarray)):
            b += 8
    return b


def estimate_memory(scenario, graph=None, ranks=1) -> dict:
    """Bytes a scenario's network and run need, estimated from the scenario alone.

    Returns a dict: neurons, synapses (counts), synapse_bytes (the CSR table),
    neuron_bytes (parameters, state, spike lists), build_bytes (extra memory held
    while the table is assembled: every projection's edges, or, when that exceeds
    REGENERATE_ABOVE, the largest one's: ``regenerate`` is then True and the build
    draws each projection twice instead of holding them all), queue_bytes (a rough figure for spikes in
    flight: every synapse carrying ASSUMED_RATE_HZ (sources: their rate) over the
    largest delay, BYTES_PER_QUEUED_EVENT each), record_bytes (state probes, weight
    samples and weight events held in memory, see :func:`_recording_bytes`),
    output_bytes (what they add to the output file), total_bytes (synapses + neurons +
    queue + recording) and peak_bytes (the larger of total and build peak).

    ``ranks`` > 1 adds ``per_rank``: for each of that many MPI ranks (docs/mpi.md), the
    synapses onto its neurons, its synapse table, queue, the per-neuron arrays (every
    rank has them for all neurons) and its peak (its part plus, while building, the
    cut parts or, drawing twice, the largest projection drawn whole).
    """
    from .partition import owned_counts
    from .build import scenario_specs
    pops = {p["name"]: p for p in scenario.populations}
    sizes = {name: int(p["size"]) for name, p in pops.items()}
    rates = {name: _mean_rate(p) for name, p in pops.items()}
    specs = scenario_specs(scenario)
    graph = graph if graph is not None else (scenario.network or {}).get("graph")
    graph_edges = graph_delay = 0
    if graph is not None:
        import networkx as nx

        from .graph import read_graph
        if not isinstance(graph, nx.Graph):
            graph = read_graph(graph)
        graph_edges = graph.number_of_edges()
        graph_delay = max((_number(d) for _, _, d in graph.edges(data="delay", default=0.0)), default=0.0)
    for j, st in enumerate(scenario.stimuli):
        if st["kind"] == "spike_times":
            name = f"stimulus:{st['name']}"
            n_ids = sizes.get(st["target"], 0) if st.get("ids") is None else len(st["ids"])
            sizes[name] = 1
            duration = max(scenario.duration, 1e-9)
            rates[name] = 1000.0 * len(st["times"]) / duration
            specs.append(dict(name=name, source=name, target=st["target"], rule="pairs",
                              pairs=[None] * n_ids, weight=st["weight"], delay=st["delay"]))
    n_syn = build = events = 0
    build_largest = 0
    n_dist_delay = 0
    # per rank: synapses, their build bytes and queued events (a share of each target's)
    share = {name: owned_counts(n, ranks) / max(n, 1) for name, n in sizes.items()}
    syn_r, build_r, events_r = np.zeros(ranks), np.zeros(ranks), np.zeros(ranks)
    for spec in specs:
        k = count_synapses(spec, sizes.get(spec["source"], 0), sizes.get(spec["target"], 0))
        kb = k * _build_bytes(spec)
        n_syn += k
        build += kb
        build_largest = max(build_largest, kb)
        frac = share.get(spec["target"], np.full(ranks, 1.0 / ranks))
        syn_r += k * frac
        build_r += kb * frac
        delay = spec["delay"]
        if isinstance(delay, (Dist, np.ndarray)):
            n_dist_delay += k
        if isinstance(delay, np.ndarray):
            d_max = float(delay.max()) if delay.size else 0.0
        else:
            d_max = _upper(delay)
        ev = k * rates.get(spec["source"], ASSUMED_RATE_HZ) * 1e-3 * d_max
        events += ev
        events_r += ev * frac
    regenerate = build > REGENERATE_ABOVE
    if regenerate:
        build = build_largest
    n_syn += graph_edges
    build += graph_edges * GRAPH_BUILD_BYTES
    events += graph_edges * ASSUMED_RATE_HZ * 1e-3 * graph_delay
    syn_r += graph_edges / ranks
    build_r += graph_edges * GRAPH_BUILD_BYTES / ranks
    events_r += graph_edges * ASSUMED_RATE_HZ * 1e-3 * graph_delay / ranks
    for st in scenario.stimuli:
        if st["kind"] == "poisson":
            n_ids = sizes.get(st["target"], 0) if st.get("ids") is None else len(st["ids"])
            ev = n_ids * _upper(st["rate"]) * 1e-3 * _upper(st["delay"])
            events += ev
            events_r += ev * share.get(st["target"], np.full(ranks, 1.0 / ranks))
    n_neurons = sum(sizes.values())
    per_syn = 16 if n_dist_delay <= MAX_DELAY_TABLE else 22
    synapse_bytes = per_syn * n_syn + 8 * (n_neurons + 1)
    neuron_bytes = 0
    for name, p in pops.items():
        model = models.neuron_model(p["model"])
        per = 8 * (len(model.numeric_params) + len(model.init) + len(model.state)) + NEURON_OVERHEAD
        neuron_bytes += per * sizes[name]
        if model.name == "spike_source":
            neuron_bytes += sum(8 * len(t) + 112 for t in p["params"].get("times", []))
    queue_bytes = int(events * BYTES_PER_QUEUED_EVENT)
    min_delay = min((_lower(spec["delay"]) for spec in specs), default=0.0)
    record_items = _recording_bytes(scenario, specs, sizes, rates, min_delay)
    record_bytes = sum(m for _, m, _ in record_items)
    output_bytes = sum(o for _, _, o in record_items)
    total = synapse_bytes + neuron_bytes + queue_bytes + record_bytes
    per_rank = None
    if ranks > 1:
        table_r = per_syn * syn_r + 8 * (n_neurons + 1)
        queue_r = events_r * BYTES_PER_QUEUED_EVENT
        peak_r = np.maximum(table_r + neuron_bytes + queue_r,
                            table_r + neuron_bytes + np.maximum(build_largest, 0 if regenerate else build_r))
        per_rank = [dict(synapses=int(a), synapse_bytes=int(b), queue_bytes=int(c), neuron_bytes=int(neuron_bytes),
                         peak_bytes=int(d)) for a, b, c, d in zip(syn_r, table_r, queue_r, peak_r)]
    out = dict(neurons=int(n_neurons), synapses=int(n_syn), synapse_bytes=int(synapse_bytes),
               neuron_bytes=int(neuron_bytes), build_bytes=int(build), regenerate=bool(regenerate),
               queue_bytes=queue_bytes, record_bytes=int(record_bytes), output_bytes=int(output_bytes),
               record_items={k: [int(m), int(o)] for k, m, o in record_items},
               total_bytes=int(total),
               peak_bytes=int(max(total, synapse_bytes + neuron_bytes + build)))
    if per_rank is not None:
        out["per_rank"] = per_rank
    return out


def _lower(value):
    """A value's smallest possible value (a number, or a Dist's lower bound, 0 if none)."""
    if isinstance(value, np.ndarray):
        return float(value.min()) if value.size else 0.0
    if not isinstance(value, Dist):
        return float(value)
    lo, _ = value.support()
    return float(lo) if np.isfinite(lo) else 0.0


def _recording_bytes(scenario, specs, sizes, rates, min_delay):
    """[(key, memory bytes, output file bytes)] of what [record] asks for beyond spikes.

    State probes: frames are float64 in memory until the next commit, which the run
    forces once a probe holds PROBE_BUFFER_VALUES values (Simulation.run), so memory is
    that plus one window's frames (the window is at least the smallest delay), twice
    over while the buffer grows; on disk every frame, float32. Weight samples: every
    sample of every synapse of the projection, float64, held until the end (twice while
    they are stacked). Weight events: one (time, synapse, weight) record, 24 bytes, per
    transmitted spike, held until the end; as many as the source's rate (ASSUMED_RATE_HZ
    for model neurons) gives."""
    from eventsim.output.report import PROBE_BUFFER_VALUES, samples_before
    rec = scenario.record or {}
    duration = float(scenario.duration)
    items = []
    for j, probe in enumerate(rec.get("state") or []):
        n_ids = sizes.get(probe["population"], 0) if isinstance(probe["ids"], str) else len(probe["ids"])
        cols = n_ids * len(probe["variables"])
        start = float(probe.get("start", 0.0) or 0.0)
        stop = min(duration, float(probe["stop"])) if probe.get("stop") is not None else duration
        interval = float(probe["interval"])
        n_frames = samples_before(stop, start, interval)
        per_window = (min_delay / interval + 2) * cols if min_delay > 0 else n_frames * cols
        held = min(n_frames * cols, per_window + PROBE_BUFFER_VALUES)
        items.append((f"record.state[{j}]", 2 * 8 * held, 4 * n_frames * cols))
    names = rec.get("weights") or []
    by_name = {spec.get("name"): spec for spec in specs}
    n_syn = {name: count_synapses(by_name[name], sizes.get(by_name[name]["source"], 0),
                                  sizes.get(by_name[name]["target"], 0))
             for name in set(names) | set(rec.get("weight_events") or []) if name in by_name}
    if rec.get("weights_interval"):
        n_samples = int(np.floor(duration / float(rec["weights_interval"]) + 1e-9)) + 1
        for name in names:
            n = n_samples * n_syn.get(name, 0)
            items.append((f"record.weights_interval ({name})", 2 * 8 * n, 8 * n))
    for name in rec.get("weight_events") or []:
        spec = by_name.get(name)
        if spec is not None:
            n = n_syn.get(name, 0) * rates.get(spec["source"], ASSUMED_RATE_HZ) * duration * 1e-3
            items.append((f"record.weight_events ({name})", 24 * n, 32 * n))
    return items


def available_memory() -> int:
    """Bytes of memory available to a new allocation: MemAvailable from /proc/meminfo,
    else free physical pages (os.sysconf)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _gib(b):
    return f"{b / 2 ** 30:.2f} GiB"


def check_fits(scenario, available=None, graph=None) -> dict:
    """The estimate of :func:`estimate_memory`; CapacityError if its peak exceeds
    ``available`` bytes (default: :func:`available_memory`)."""
    est = estimate_memory(scenario, graph=graph)
    avail = available_memory() if available is None else int(available)
    if est["peak_bytes"] > avail:
        heavy = [f"{key}: would hold about {_gib(m)} in memory" for key, (m, _) in est["record_items"].items()
                 if m > avail / 4]
        raise CapacityError(heavy + [
            f"network: needs about {_gib(est['peak_bytes'])} ({est['synapses']:,} synapses: "
            f"{_gib(est['synapse_bytes'])}; neurons {_gib(est['neuron_bytes'])}; "
            f"queue {_gib(est['queue_bytes'])}; recording {_gib(est['record_bytes'])}; "
            f"building {_gib(est['build_bytes'])}), "
            f"but only {_gib(avail)} of memory is available"])
    return est


def check_disk(est, folder):
    """CapacityError if what [record] adds to the output file (``est["output_bytes"]``)
    exceeds the free space in ``folder``."""
    import shutil
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if est["output_bytes"] > free:
        heavy = [f"{key}: would write about {_gib(o)} to the output file"
                 for key, (_, o) in est["record_items"].items() if o > free / 4]
        raise CapacityError(heavy + [f"output: the recording needs about {_gib(est['output_bytes'])} "
                                     f"but {folder} has {_gib(free)} free"])
