"""Network construction: connection rules, per-synapse and per-neuron draws, reproducibility,
the CSR layout, stimuli and the memory estimate."""
import itertools

import numpy as np
import pytest
from eventsim.models import neuron_model
from scipy import stats

from eventsim.distributions import Dist
from eventsim.errors import CapacityError, InputError
from eventsim.network.build import build_network
from eventsim.network.core import csr_from_edges
from eventsim.network.memory import check_fits, estimate_memory
from eventsim.scenario.model import Scenario


def lif(name, size, **params):
    full = {k: p.default for k, p in neuron_model("lif").params.items()}
    full.update(params)
    return dict(name=name, size=size, model="lif", params=full, init={"v": None})


def proj(source, target, rule, name=None, weight=0.5, delay=1.0, autapses=False, multapses=True, **kw):
    return dict(name=name or f"{source}_to_{target}", source=source, target=target, rule=rule,
                weight=weight, delay=delay, allow_autapses=autapses, allow_multapses=multapses,
                plasticity=None, **kw)


def scenario(populations, projections=(), stimuli=(), seed=7):
    return Scenario(simulation=dict(duration=100.0, seed=seed, backend="cpu"),
                    populations=list(populations), projections=list(projections), stimuli=list(stimuli))


def local_table(net, name):
    s, t, w, d = net.synapse_table(name)
    return s.astype(np.int64), t.astype(np.int64), w, d


# --- rules -----------------------------------------------------------------------------

@pytest.mark.parametrize("multapses", [True, False])
def test_fixed_indegree_exact_and_no_autapses(multapses):
    k = 40
    net = build_network(scenario([lif("a", 1100), lif("b", 60)],
                                 [proj("a", "a", "fixed_indegree", indegree=k, multapses=multapses),
                                  proj("b", "a", "fixed_indegree", indegree=k, multapses=multapses)]))
    for name, n_src in (("a_to_a", 1100), ("b_to_a", 60)):
        s, t, _, _ = local_table(net, name)
        assert np.array_equal(np.bincount(t, minlength=1100), np.full(1100, k))
        assert s.min() >= 0 and s.max() < n_src
        if name == "a_to_a":
            assert not np.any(s == t)
        pairs = s * 10_000 + t
        if not multapses:
            assert np.unique(pairs).shape[0] == pairs.shape[0]
    if multapses:  # 40 of 60 with replacement: repeats are all but certain
        s, t, _, _ = local_table(net, "b_to_a")
        assert np.unique(s * 10_000 + t).shape[0] < s.shape[0]


def test_fixed_indegree_without_multapses_takes_every_partner():
    # indegree = n - 1 without autapses or multapses: each target gets every other neuron once
    net = build_network(scenario([lif("a", 30)], [proj("a", "a", "fixed_indegree", indegree=29, multapses=False)]))
    s, t, _, _ = local_table(net, "a_to_a")
    got = set(zip(s.tolist(), t.tolist()))
    assert got == {(i, j) for i in range(30) for j in range(30) if i != j}


@pytest.mark.parametrize("multapses", [True, False])
def test_fixed_outdegree_exact(multapses):
    k = 25
    net = build_network(scenario([lif("a", 1300), lif("b", 40)],
                                 [proj("a", "a", "fixed_outdegree", outdegree=k, multapses=multapses),
                                  proj("a", "b", "fixed_outdegree", outdegree=k, multapses=multapses)]))
    for name, n_tgt in (("a_to_a", 1300), ("a_to_b", 40)):
        s, t, _, _ = local_table(net, name)
        assert np.array_equal(np.bincount(s, minlength=1300), np.full(1300, k))
        assert t.max() < n_tgt
        if name == "a_to_a":
            assert not np.any(s == t)
        if not multapses:
            assert np.unique(s * 10_000 + t).shape[0] == s.shape[0]


@pytest.mark.parametrize("multapses", [True, False])
def test_fixed_total_number_exact(multapses):
    n = 5000
    net = build_network(scenario([lif("a", 2100)],  # three target blocks
                                 [proj("a", "a", "fixed_total_number", n=n, multapses=multapses)]))
    s, t, _, _ = local_table(net, "a_to_a")
    assert s.shape[0] == n and net.projection("a_to_a").n_synapses == n
    assert not np.any(s == t)
    if not multapses:
        assert np.unique(s * 10_000 + t).shape[0] == n
    # targets spread over all blocks in proportion to their size (loose chi-square)
    counts = np.bincount(t // 1024, minlength=3)
    expected = n * np.array([1024, 1024, 52]) / 2100
    assert stats.chisquare(counts, expected).pvalue > 1e-4


def test_fixed_total_number_dense_without_multapses():
    # every allowed pair: 20 * 19
    net = build_network(scenario([lif("a", 20)], [proj("a", "a", "fixed_total_number", n=380, multapses=False)]))
    s, t, _, _ = local_table(net, "a_to_a")
    assert set(zip(s.tolist(), t.tolist())) == {(i, j) for i in range(20) for j in range(20) if i != j}


def test_fixed_probability_within_binomial_bounds():
    p, n_a, n_b = 0.05, 1500, 300
    net = build_network(scenario([lif("a", n_a), lif("b", n_b)],
                                 [proj("a", "a", "fixed_probability", p=p),
                                  proj("b", "a", "fixed_probability", p=p, autapses=True)]))
    for name, trials in (("a_to_a", n_a * (n_a - 1)), ("b_to_a", n_b * n_a)):
        s, t, _, _ = local_table(net, name)
        mean, sd = trials * p, np.sqrt(trials * p * (1 - p))
        assert abs(s.shape[0] - mean) < 5 * sd
        assert np.unique(s * 10_000 + t).shape[0] == s.shape[0]  # at most one synapse per pair
    s, t, _, _ = local_table(net, "a_to_a")
    assert not np.any(s == t)
    # in-degrees of a_to_a ~ Binomial(n_a - 1, p): check the spread as well as the mean
    indeg = np.bincount(t, minlength=n_a)
    assert abs(indeg.var() - (n_a - 1) * p * (1 - p)) < 0.2 * (n_a - 1) * p * (1 - p)


def test_fixed_probability_extremes():
    net = build_network(scenario([lif("a", 10), lif("b", 7)],
                                 [proj("a", "b", "fixed_probability", p=1.0, name="all"),
                                  proj("a", "b", "fixed_probability", p=0.0, name="none")]))
    assert net.projection("all").n_synapses == 70 and net.projection("none").n_synapses == 0


def test_all_to_all_and_one_to_one_exact():
    net = build_network(scenario([lif("a", 12), lif("b", 5), lif("c", 12)],
                                 [proj("a", "a", "all_to_all", name="aa"),
                                  proj("a", "a", "all_to_all", name="aa_self", autapses=True),
                                  proj("a", "b", "all_to_all", name="ab"),
                                  proj("a", "c", "one_to_one", name="ac"),
                                  proj("a", "a", "one_to_one", name="aa_1to1_self", autapses=True)]))

    def pairs(name):
        s, t, _, _ = local_table(net, name)
        return sorted(zip(s.tolist(), t.tolist()))
    assert pairs("aa") == sorted((i, j) for i in range(12) for j in range(12) if i != j)
    assert pairs("aa_self") == sorted(itertools.product(range(12), range(12)))
    assert pairs("ab") == sorted(itertools.product(range(12), range(5)))
    assert pairs("ac") == [(i, i) for i in range(12)]
    assert pairs("aa_1to1_self") == [(i, i) for i in range(12)]


def test_pairs_kept_with_duplicates_and_autapses():
    listed = [[3, 1], [0, 2], [3, 1], [2, 2]]
    net = build_network(scenario([lif("a", 4)], [proj("a", "a", "pairs", pairs=listed)]))
    s, t, _, _ = local_table(net, "a_to_a")
    assert sorted(zip(s.tolist(), t.tolist())) == sorted(map(tuple, listed))


# --- values -----------------------------------------------------------------------------

def test_weight_and_delay_distributions_respect_bounds():
    w = Dist("normal", (1.0, 1.0), min=0.5, max=2.5)
    d = Dist("uniform", (0.0, 4.0), min=0.5)
    net = build_network(scenario([lif("a", 200)], [proj("a", "a", "fixed_indegree", indegree=50,
                                                        weight=w, delay=d)]))
    _, _, weight, delay = local_table(net, "a_to_a")
    assert weight.min() >= 0.5 and weight.max() <= 2.5
    assert delay.min() >= 0.5 and delay.max() <= 4.0
    n = weight.shape[0]
    truncated = stats.truncnorm(-0.5, 1.5, loc=1.0, scale=1.0)
    assert abs(weight.mean() - truncated.mean()) < 5 * truncated.std() / np.sqrt(n)
    assert abs(delay.mean() - 2.25) < 5 * (3.5 / np.sqrt(12)) / np.sqrt(n)  # uniform on [0.5, 4]
    assert np.unique(weight).shape[0] > n * 0.99  # drawn per synapse


def test_lognormal_weights_mean():
    net = build_network(scenario([lif("a", 100)], [proj("a", "a", "fixed_indegree", indegree=100,
                                                        autapses=True, weight=Dist("lognormal", (0.0, 0.5)))]))
    _, _, w, _ = local_table(net, "a_to_a")
    mean = np.exp(0.125)
    sd = np.sqrt((np.exp(0.25) - 1) * np.exp(0.25))
    assert w.min() > 0 and abs(w.mean() - mean) < 5 * sd / np.sqrt(w.shape[0])


def test_delay_that_reaches_zero_is_refused():
    sc = scenario([lif("a", 20)], [proj("a", "a", "all_to_all", delay=Dist("uniform", (-1.0, 1.0)))])
    with pytest.raises(InputError) as e:
        build_network(sc)
    assert e.value.problems[0].startswith("projection[0].delay")


def test_parameters_and_initial_state_drawn_per_neuron():
    tau = Dist("normal", (20.0, 5.0), min=10.0, max=30.0)
    pop = lif("a", 3000, tau_m=tau, v_rest=-65.0)
    pop2 = lif("b", 10)
    pop2["init"] = {"v": Dist("uniform", (-70.0, -60.0))}
    net = build_network(scenario([pop, pop2]))
    a, b = net.population("a"), net.population("b")
    assert a.params["tau_m"].min() >= 10.0 and a.params["tau_m"].max() <= 30.0
    ref = stats.truncnorm(-2, 2, loc=20.0, scale=5.0)
    assert abs(a.params["tau_m"].mean() - ref.mean()) < 5 * ref.std() / np.sqrt(3000)
    assert np.unique(a.params["tau_m"]).shape[0] == 3000
    assert np.all(a.params["v_rest"] == -65.0) and np.all(a.init["v"] == -65.0)  # default v = v_rest
    assert a.options == {"synapse": "delta"}
    assert b.offset == 3000 and np.all((b.init["v"] >= -70) & (b.init["v"] <= -60))
    assert np.unique(b.init["v"]).shape[0] == 10
    for arr in list(a.params.values()) + list(a.init.values()):
        assert arr.dtype == np.float64 and arr.shape == (3000,)


def test_sources():
    src = dict(name="pattern", size=2, model="spike_source", params={"times": [[10.0, 5.0], [7.5]]}, init={})
    poi = dict(name="noise", size=4, model="poisson_source", params={"rate": Dist("uniform", (5.0, 15.0))}, init={})
    net = build_network(scenario([src, poi, lif("a", 3)], [proj("pattern", "a", "all_to_all")]))
    p = net.population("pattern")
    assert [t.tolist() for t in p.spike_times] == [[5.0, 10.0], [7.5]]
    rate = net.population("noise").params["rate"]
    assert rate.shape == (4,) and np.all((rate >= 5) & (rate <= 15))
    with pytest.raises(InputError, match=r"projection\[0\].target"):
        build_network(scenario([poi, lif("a", 3)], [proj("a", "noise", "all_to_all")]))


# --- reproducibility and layout --------------------------------------------------------------

def mixed(seed):
    pops = [lif("e", 1200, tau_m=Dist("normal", (10.0, 1.0), min=5.0)), lif("i", 300)]
    pops[1]["init"] = {"v": Dist("uniform", (-70.0, -55.0))}
    projections = [
        proj("e", "e", "fixed_indegree", indegree=20, weight=Dist("normal", (0.2, 0.05))),
        proj("e", "i", "fixed_probability", p=0.05, delay=Dist("uniform", (0.5, 2.0))),
        proj("i", "e", "fixed_outdegree", outdegree=30, multapses=False, weight=-1.0, delay=0.8),
        proj("i", "i", "fixed_total_number", n=2000, multapses=False, delay=Dist("lognormal", (0.0, 0.3))),
        proj("i", "e", "all_to_all", name="dense", weight=Dist("uniform", (-1.0, 0.0))),
        proj("e", "i", "pairs", name="explicit", pairs=[[5, 3], [0, 0], [5, 1]], delay=2.0),
    ]
    stimuli = [dict(name="probe", kind="spike_times", target="i", ids=[0, 4, 2], times=[12.5, 10.0],
                    weight=3.0, delay=1.0)]
    return scenario(pops, projections, stimuli, seed=seed)


def arrays(net):
    out = [net.indptr, net.target, net.weight, net.proj, net.delays()]
    for p in net.populations:
        out += list(p.params.values()) + list(p.init.values())
    return out


def test_same_seed_same_bytes_other_seed_differs():
    a, b, c = build_network(mixed(1)), build_network(mixed(1)), build_network(mixed(2))
    for x, y in zip(arrays(a), arrays(b)):
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes()
    assert a.target.tobytes() != c.target.tobytes()
    assert a.weight.tobytes() != c.weight.tobytes()
    assert a.population("e").params["tau_m"].tobytes() != c.population("e").params["tau_m"].tobytes()


def test_blocks_are_keyed_not_sequential():
    # Block b of a projection draws from its own stream, so the sources of the first
    # 1024 targets do not depend on how many targets follow (the basis of parallel builds).
    small = build_network(scenario([lif("a", 500), lif("b", 1100)], [proj("a", "b", "fixed_indegree", indegree=5)]))
    big = build_network(scenario([lif("a", 500), lif("b", 3000)], [proj("a", "b", "fixed_indegree", indegree=5)]))
    s1, t1, _, _ = local_table(small, "a_to_b")
    s2, t2, _, _ = local_table(big, "a_to_b")
    first = sorted(zip(s1[t1 < 1024].tolist(), t1[t1 < 1024].tolist()))
    assert first == sorted(zip(s2[t2 < 1024].tolist(), t2[t2 < 1024].tolist()))


def test_layout_equals_lexsort_reference():
    """The counting sort gives the layout of core.csr_from_edges (a lexsort) applied to the
    projections' edges in construction order."""
    from eventsim.network.build import (
        build_population,
        build_stimuli,
        build_synapses,
        scenario_specs,
    )
    sc = mixed(3)
    net = build_network(sc)
    pops = [build_population(p, i, off, sc.seed) for i, (p, off) in enumerate(zip(sc.populations, (0, 1200)))]
    _, hidden, stim_specs = build_stimuli(sc, pops, 1500)
    _, parts, _ = build_synapses(scenario_specs(sc) + stim_specs, pops + hidden, sc, sc.seed)
    src, tgt, w, d, pr = [], [], [], [], []
    for index, e, weight, delay in parts:
        src.append(e.sources())
        tgt.append(e.targets())
        w.append(np.broadcast_to(weight, (e.n,)))
        d.append(np.broadcast_to(delay, (e.n,)))
        pr.append(np.full(e.n, index))
    ref = csr_from_edges(net.n_neurons, *(np.concatenate(x) for x in (src, tgt, w, d, pr)))
    assert np.array_equal(ref["indptr"], net.indptr)
    for k in ("target", "weight", "proj", "delay_index", "delay_table"):
        assert ref[k].dtype == getattr(net, k).dtype and np.array_equal(ref[k], getattr(net, k)), k
    assert ref["delay_values"] is None and net.delay_values is None
    key = net.sources().astype(np.int64) * 65536 + net.proj  # grouped by source, then projection
    assert np.all(np.diff(key) >= 0)


def test_many_distinct_delays_stored_as_values():
    net = build_network(scenario([lif("a", 300)], [proj("a", "a", "all_to_all", delay=Dist("uniform", (1.0, 2.0)))]))
    assert net.delay_values is not None and net.delay_index is None
    assert net.delay_values.shape == (300 * 299,)
    assert net.delay_values.min() >= 1.0 and net.delay_values.max() <= 2.0


def test_stimuli():
    net = build_network(mixed(1))
    hidden = net.population("stimulus:probe")
    assert hidden.hidden and hidden.size == 1 and hidden.model == "spike_source"
    assert hidden.offset == 1500 and hidden.spike_times[0].tolist() == [10.0, 12.5]
    s, t, w, d = net.synapse_table("stimulus:probe")
    assert sorted(t.tolist()) == [0, 2, 4] and np.all(s == 0) and np.all(w == 3.0) and np.all(d == 1.0)
    stim = [dict(name="drive", kind="poisson", target="b", ids=[1, 3], rate=20.0, weight=0.1, delay=1.5),
            dict(name="step", kind="current", target="b", ids=None, times=[1.0, 3.0], amplitudes=[5.0, 0.0])]
    net = build_network(scenario([lif("a", 2), lif("b", 4)], stimuli=stim))
    drive, step = net.stimuli
    assert drive.ids.tolist() == [3, 5] and drive.rate == 20.0 and drive.delay == 1.5
    assert step.ids.tolist() == [2, 3, 4, 5] and step.amplitudes.tolist() == [5.0, 0.0]


def test_bad_content_names_the_key():
    cases = [
        (proj("a", "a", "fixed_indegree", indegree=10, multapses=False), "projection[0].indegree"),
        (proj("a", "b", "one_to_one"), "projection[0].rule"),
        (proj("a", "b", "pairs", pairs=[[0, 1], [9, 0]]), "projection[0].pairs[1]"),
        (proj("a", "a", "fixed_total_number", n=50, multapses=False), "projection[0].n"),
    ]
    for spec, key in cases:
        with pytest.raises(InputError) as e:
            build_network(scenario([lif("a", 6), lif("b", 4)], [spec]))
        assert e.value.problems[0].startswith(key), e.value.problems


def test_brunel_shaped_network_about_a_million_synapses():
    j, g = 0.1, 5.0
    pops = [lif("exc", 3200), lif("inh", 800)]
    projections = [proj(s, t, "fixed_indegree", indegree=k, weight=w, delay=1.5)
                   for s, k, w in (("exc", 200, j), ("inh", 50, -g * j)) for t in ("exc", "inh")]
    net = build_network(scenario(pops, projections))
    assert net.n_synapses == 4000 * 250
    assert np.array_equal(np.bincount(net.target, minlength=4000), np.full(4000, 250))
    exc_src = net.sources() < 3200
    assert np.all(net.weight[exc_src] == 0.1) and np.all(net.weight[~exc_src] == -0.5)
    assert net.delay_table.tolist() == [1.5]
    assert net.synapse_bytes() <= 16 * net.n_synapses + 8 * (net.n_neurons + 1) + 8
    est = estimate_memory(scenario(pops, projections))
    assert est["synapses"] == net.n_synapses and est["synapse_bytes"] == net.synapse_bytes() - 8


def test_estimate_and_capacity_refusal():
    sc = mixed(1)
    net = build_network(sc)
    est = estimate_memory(sc)
    # exact for every rule but fixed_probability (expected 0.05 * 1200 * 300 = 18000)
    fp = net.projection("e_to_i").n_synapses
    assert est["synapses"] == net.n_synapses - fp + 18000
    assert est["neurons"] == net.n_neurons
    assert est["peak_bytes"] >= est["synapse_bytes"] > 16 * est["synapses"]
    with pytest.raises(CapacityError) as e:
        check_fits(sc, available=est["peak_bytes"] - 1)
    assert e.value.problems[0].startswith("network:")
    assert check_fits(sc, available=est["peak_bytes"]) == est


# --- a rank's part: only its blocks of targets are drawn ---------------------------------

def _rank_part_scenario(delay_in_skipped=None):
    """Target populations of several construction blocks (1024 neurons), so that a rank's
    part leaves some blocks undrawn: every rule, drawn and constant values, a plastic
    projection (its construction-order keys)."""
    import eventsim
    exc = {"name": "exc", "size": 3000, "model": "lif", "params": {"synapse": "exp"}}
    inh = {"name": "inh", "size": 1100, "model": "lif", "params": {"synapse": "exp"}}
    few = {"name": "few", "size": 3, "model": "lif", "params": {"synapse": "exp"}}
    projs = [
        {"source": "exc", "target": "exc", "rule": "fixed_indegree", "indegree": 4,
         "weight": {"normal": [20.0, 5.0], "min": 0.0}, "delay": {"uniform": [0.2, 3.0]}},
        {"source": "inh", "target": "exc", "rule": "fixed_total_number", "n": 9000,
         "weight": {"normal": [-40.0, 5.0]}, "delay": 0.7},
        {"source": "few", "target": "inh", "rule": "all_to_all", "weight": 10.0,
         "delay": {"uniform": [0.5, 1.0]}},
        {"source": "exc", "target": "inh", "rule": "fixed_probability", "p": 0.002,
         "weight": 12.0, "delay": {"uniform": [0.1, 2.0]}},
        {"source": "inh", "target": "inh", "rule": "fixed_outdegree", "outdegree": 3, "weight": -30.0,
         "delay": 1.0},
        {"name": "plastic", "source": "few", "target": "exc", "rule": "fixed_indegree", "indegree": 2,
         "weight": {"uniform": [0.0, 5.0]}, "delay": 1.5, "plasticity": "stdp"},
    ]
    if delay_in_skipped is not None:
        projs[0]["delay"] = delay_in_skipped
    return eventsim.load_scenario({"simulation": {"duration": 10.0, "seed": 3},
                                   "population": [exc, inh, few], "projection": projs,
                                   "plasticity": {"stdp": {"rule": "stdp"}}})


def test_rank_parts_draw_only_their_blocks_and_equal_the_cut_whole():
    """build_network(part=(r, R)) leaves the blocks of targets without a neuron of rank r
    undrawn where the rule's counts are known (all_to_all, fixed_indegree,
    fixed_total_number): the part still equals the whole network cut to rank r's
    neurons (same synapses per source in the same order, weights, delays), with the
    whole network's synapse counts, delay range and construction-order keys."""
    import eventsim.network.connect as C
    from eventsim.network.partition import owner_rank
    sc = _rank_part_scenario()
    full = build_network(sc)
    src, dly = full.sources(), full.delays()
    plastic = [p.index for p in full.projections if p.name == "plastic"][0]
    whole_order = np.flatnonzero(full.proj == plastic)   # table positions of its synapses
    # the keys of a one-rank part: every synapse's place in construction order, table order
    whole_keys = build_network(sc, part=(0, 1)).part_order[plastic]
    assert sorted(whole_keys) == list(range(whole_order.size))
    drawn_rows = []
    real = C._fixed_degree

    def spy(r, k, name, by_source):
        e = real(r, k, name, by_source)
        drawn_rows.append((r.index, None if r.want is None else r.want.copy(), e.skipped))
        return e
    C._fixed_degree, saved = spy, C._fixed_degree
    try:
        for R in (2, 3):
            owner = owner_rank(full.populations, full.n_neurons, R)
            for r in range(R):
                part = build_network(sc, part=(r, R))
                sel = owner[full.target] == r
                assert np.array_equal(part.sources(), src[sel])
                assert np.array_equal(part.target, full.target[sel])
                assert np.array_equal(part.weight, full.weight[sel])
                assert np.array_equal(part.delays(), dly[sel])
                assert np.array_equal(part.proj, full.proj[sel])
                assert (part.min_delay(), part.max_delay()) == (full.min_delay(), full.max_delay())
                assert [p.n_synapses for p in part.projections] == [p.n_synapses for p in full.projections]
                # the plastic projection's keys: each kept synapse's place in construction
                # order; a plastic projection's table order here is its construction order
                # within a source, so the keys pick out exactly the part's synapses
                keys = part.part_order[plastic]
                assert np.array_equal(keys, whole_keys[sel[whole_order]])
    finally:
        C._fixed_degree = saved
    # the exc -> exc fixed_indegree rule really left blocks undrawn on some rank
    skipped = [s for index, want, s in drawn_rows if index == 0 and want is not None and not want.all()]
    assert skipped and all(s.sum() > 0 for s in skipped)


def test_rank_parts_check_every_drawn_value_alike():
    """A drawn delay that is not > 0 (possible for a Scenario made in Python, past the
    scenario checks) is refused by every rank with the same message, whichever rank's
    blocks it lies in: the values of undrawn blocks are drawn and checked too."""
    pops = [lif("exc", 3000), lif("inh", 1100)]
    bad = proj("exc", "exc", "fixed_indegree", indegree=5, delay=Dist("normal", (1.0, 0.3)))
    sc = scenario(pops, [bad, proj("inh", "exc", "fixed_indegree", indegree=2)])
    with pytest.raises(InputError) as whole:
        build_network(sc)
    messages = []
    for r in range(3):
        with pytest.raises(InputError) as part:
            build_network(sc, part=(r, 3))
        messages.append(str(part.value))
    assert messages == [str(whole.value)] * 3
    assert "exc_to_exc" in messages[0] or "projection[0].delay: must be > 0 ms" in messages[0]
