"""Energy and sparsity accounting: hand calculations, published chip figures, mapping, routing."""
import json
import math

import h5py
import numpy as np
import pytest
import tomllib
from eventsim.models.hardware import HERE as HW_DIR
from eventsim.models.hardware import load_profile, profile_names

from eventsim.energy import cli as energy_cli
from eventsim.energy.accounting import Connectivity, account
from eventsim.energy.counters import Counters, PopulationCounts, ProjectionCounts
from eventsim.energy.mapping import contiguous_order, map_network, pack, partition_order, route_counts
from eventsim.errors import InputError

BUILTIN = ["cmos45", "loihi", "spinnaker", "spinnaker2", "truenorth"]


def toml_profile(name):
    return tomllib.loads((HW_DIR / f"{name}.toml").read_text())


# ---------------------------------------------------------------- a small network, by hand

# inp (poisson_source, 4) -> exc (lif, 6); exc -> exc; one poisson stimulus into exc[0:2]
SRC = [0, 0, 1, 2, 3, 3, 4, 5, 6, 9]
TGT = [4, 5, 6, 7, 8, 9, 5, 6, 7, 4]
T_STOP = 10.0                                    # ms
SPIKES = np.array([3, 0, 2, 1, 4, 0, 2, 1, 0, 5], dtype=np.uint64)
UPDATES = np.array([0, 0, 0, 0, 12, 3, 9, 4, 0, 30], dtype=np.uint64)   # exc: neurons 4..9
EVENTS = {"inp_to_exc": 2 * 3 + 0 + 1 + 2 * 1, "exc_to_exc": 4 + 0 + 2 + 5}   # spikes x synapses
STIM_EVENTS = 7


def small_counters(path=""):
    inp = PopulationCounts("inp", "poisson_source", 4, SPIKES[:4], UPDATES[:4], True)
    exc = PopulationCounts("exc", "lif", 6, SPIKES[4:], UPDATES[4:], False)
    projs = [ProjectionCounts("inp_to_exc", "inp", "exc", 6, EVENTS["inp_to_exc"], 0),
             ProjectionCounts("exc_to_exc", "exc", "exc", 4, EVENTS["exc_to_exc"], 3)]
    return Counters(t_stop=T_STOP, populations=[inp, exc], projections=projs,
                    stimuli={"drive": STIM_EVENTS}, path=path)


def small_connectivity():
    order = np.argsort(SRC, kind="stable")
    indptr = np.zeros(11, np.int64)
    np.cumsum(np.bincount(SRC, minlength=10), out=indptr[1:])
    return Connectivity(indptr=indptr, target=np.asarray(TGT)[order], spike_count=SPIKES.astype(np.int64),
                        population_offsets=(0, 4), stimulus_inputs=2)


def write_counters_h5(path, counters, scenario=""):
    with h5py.File(path, "w") as f:
        f.attrs["scenario"] = scenario
        f.attrs["duration"] = counters.t_stop
        f.attrs["seed"] = 1
        g = f.create_group("counters")
        g.attrs["t_stop"] = counters.t_stop
        g.attrs["version"] = 1
        for p in counters.populations:
            pg = g.create_group(f"populations/{p.name}")
            pg["spike_count"] = p.spike_count.astype(np.uint64)
            pg["neuron_updates"] = p.neuron_updates.astype(np.uint64)
            pg.attrs["model"] = p.model
            pg.attrs["size"] = p.size
        for j in counters.projections:
            jg = g.create_group(f"projections/{j.name}")
            jg["synaptic_events"] = np.uint64(j.synaptic_events)
            jg["plasticity_updates"] = np.uint64(j.plasticity_updates)
            jg.attrs.update(source=j.source, target=j.target, n_synapses=j.n_synapses)
        for name, n in counters.stimuli.items():
            g.create_group(f"stimuli/{name}")["events"] = np.uint64(n)


def run_json(capsys, *args, **kw):
    assert energy_cli.run_energy(*args, json_out=True, **kw) == 0
    out = capsys.readouterr().out
    return json.loads(out)


@pytest.fixture
def small_file(tmp_path, monkeypatch):
    path = tmp_path / "run.h5"
    write_counters_h5(path, small_counters())
    monkeypatch.setattr(energy_cli, "rebuild_connectivity", lambda c: (small_connectivity(), None))
    return path


def test_loihi_and_cmos45_by_hand(small_file, capsys):
    res = run_json(capsys, small_file, hardware="loihi,cmos45", plot=False)
    steps = 10                                  # 10 ms at 1 ms steps
    exc_updates = [12, 3, 9, 4, 0, 30]
    active = sum(min(u, steps) for u in exc_updates)          # 10+3+9+4+0+10 = 36
    n_timesteps = 6 * steps
    syn_ops = sum(EVENTS.values()) + STIM_EVENTS
    # all 10 neurons fit one Loihi core: each spike of a neuron with targets is one message
    has_targets = np.bincount(SRC, minlength=10) > 0
    messages = int(SPIKES[has_targets].sum())
    L = toml_profile("loihi")
    e = L["energy"]
    dyn = (syn_ops * e["synaptic_op"]["value"] + 3 * e["plasticity_update"]["value"]
           + active * e["neuron_timestep_active"]["value"]
           + (n_timesteps - active) * e["neuron_timestep_inactive"]["value"]
           + messages * e["spike_routed"]["value"])            # no hops, no outgoing messages
    static = L["static"]["power_w"] * 1 * steps * L["timing"]["step_wall_s"]
    h = res["hardware"]["loihi"]
    assert h["mapping"]["cores"] == 1 and h["mapping"]["chips"] == 1
    assert h["mapping"]["spike_within_core"] == messages
    assert h["dynamic_j"] == pytest.approx(dyn, rel=1e-12)
    assert h["static_j"] == pytest.approx(static, rel=1e-12)
    assert h["total_j"] == pytest.approx(dyn + static, rel=1e-12)
    high = (syn_ops * e["synaptic_op"]["high"] + 3 * 120e-12 + active * 81e-12
            + (n_timesteps - active) * 52e-12 + messages * 1.7e-12)
    assert h["high_j"] == pytest.approx(high + static, rel=1e-12)
    # cmos45: every possible synapse (4x6 + 6x6) and the 2 stimulus inputs, each step
    C = toml_profile("cmos45")["energy"]
    dense = (4 * 6 + 6 * 6 + 2) * steps
    want = dense * (C["dense_mac"]["value"] + C["dense_weight_read"]["value"]) \
        + n_timesteps * C["neuron_timestep"]["value"]
    assert res["hardware"]["cmos45"]["total_j"] == pytest.approx(want, rel=1e-12)
    assert res["hardware"]["cmos45"]["static_j"] == 0
    # sparsity: spiking neuron-steps of exc = min(spikes, 10) summed; events vs dense
    s = res["sparsity"]
    assert s["activation_sparsity"] == pytest.approx(1 - 12 / 60)
    assert s["connection_sparsity"] == pytest.approx(1 - 10 / 60)
    assert s["synaptic_operations"]["effective_acs"] == syn_ops
    assert s["synaptic_operations"]["dense"] == dense


def test_band_contains_total_for_every_profile(small_file, capsys):
    res = run_json(capsys, small_file, hardware=",".join(BUILTIN), plot=False)
    assert sorted(res["hardware"]) == BUILTIN
    for name, h in res["hardware"].items():
        assert h["low_j"] <= h["total_j"] <= h["high_j"], name
        assert h["total_j"] == pytest.approx(h["dynamic_j"] + h["static_j"])
        assert h["total_j"] > 0, name


def test_json_shape_and_plot(small_file, tmp_path, capsys):
    png = tmp_path / "cmp.png"
    res = run_json(capsys, small_file, hardware=["loihi", "truenorth"], plot=png)
    assert set(res) >= {"counts", "hardware", "sparsity"}
    for h in res["hardware"].values():
        assert set(h) >= {"total_j", "dynamic_j", "static_j", "low_j", "high_j"}
    assert res["counts"]["spikes"] == int(SPIKES.sum())
    assert res["counts"]["synaptic_events"] == sum(EVENTS.values())
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"


def test_text_report(small_file, capsys):
    assert energy_cli.run_energy(small_file, hardware="spinnaker", plot=False) == 0
    out = capsys.readouterr().out
    assert "spinnaker" in out and "synaptic_op" in out and "band" in out and "activation sparsity" in out


# ---------------------------------------------------------------- published chip figures

@pytest.mark.parametrize("rate_hz, published_mw", [(11.6, 68.0), (20.1, 71.0), (95.9, 94.0)])
def test_truenorth_matches_akopyan_2015(rate_hz, published_mw):
    # A full chip, 4096 cores x 256 neurons, each neuron with 128 active synapses, firing at rate_hz
    # for 10 s (long enough for integer spike counts: 116, 201, 959 per neuron). No scaling needed.
    n = 4096 * 256
    seconds = 10.0
    spikes_per_neuron = round(rate_hz * seconds)
    sc = np.full(n, spikes_per_neuron, dtype=np.uint64)
    pop = PopulationCounts("cores", "lif", n, sc, sc.copy(), False)
    proj = ProjectionCounts("syn", "cores", "cores", n * 128, n * 128 * spikes_per_neuron)
    c = Counters(t_stop=seconds * 1000.0, populations=[pop], projections=[proj])
    res = account(c, [load_profile("truenorth")])
    h = res["hardware"]["truenorth"]
    assert h["mapping"]["chips"] == 1 and h["mapping"]["cores"] == 4096
    power_mw = h["total_j"] / seconds * 1e3
    assert power_mw == pytest.approx(published_mw, rel=0.05)


def test_profiles_cite_sources():
    assert set(BUILTIN) <= set(profile_names())
    for name in BUILTIN:
        data = toml_profile(name)
        assert data["source"] and data["static"]["source"]
        for op, fig in data["energy"].items():
            assert fig["source"], (name, op)
            assert fig["low"] <= fig["value"] <= fig["high"], (name, op)


# ---------------------------------------------------------------- mapping and routing

def random_csr(rng, n, p):
    src, tgt = np.nonzero(rng.random((n, n)) < p)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, tgt.astype(np.int64)


def brute_force_routing(spikes, indptr, target, core_of, cpc, mesh_w):
    out = dict(spike_within_core=0, spike_to_core=0, spike_to_chip=0, hop_ew=0, hop_ns=0)

    def xy(c):
        chip, local = divmod(int(c), cpc)
        return chip * mesh_w + local % mesh_w, local // mesh_w

    for j in range(len(indptr) - 1):
        cores = {int(core_of[t]) for t in target[indptr[j]:indptr[j + 1]]}
        for c in cores:
            if c == core_of[j]:
                out["spike_within_core"] += int(spikes[j])
                continue
            key = "spike_to_core" if c // cpc == core_of[j] // cpc else "spike_to_chip"
            out[key] += int(spikes[j])
            (x0, y0), (x1, y1) = xy(core_of[j]), xy(c)
            out["hop_ew"] += int(spikes[j]) * abs(x1 - x0)
            out["hop_ns"] += int(spikes[j]) * abs(y1 - y0)
    return out


def test_routed_spikes_equal_brute_force():
    rng = np.random.default_rng(3)
    n = 60
    indptr, target = random_csr(rng, n, 0.08)
    core_of = rng.integers(0, 14, n)
    spikes = rng.integers(0, 20, n)
    got = route_counts(spikes, indptr, target, core_of, cores_per_chip=4, mesh_width=2)
    want = brute_force_routing(spikes, indptr, target, core_of, 4, 2)
    for k, v in want.items():
        assert got[k] == v, k
    assert got["spike_outgoing"] == want["spike_to_core"] + want["spike_to_chip"]
    assert got["spike_routed"] == sum(want[k] for k in ("spike_within_core", "spike_to_core", "spike_to_chip"))


@pytest.mark.parametrize("method", ["contiguous", "partition"])
def test_mapping_honours_limits(method):
    rng = np.random.default_rng(5)
    n = 200
    indptr, target = random_csr(rng, n, 0.05)
    limits = {"neurons_per_core": 12, "synapses_per_core": 60, "axons_per_core": 40, "cores_per_chip": 5}
    m = map_network(limits, n, indptr, target, rng.integers(0, 5, n), (0, 120), method=method)
    assert m.violations == 0
    src = np.repeat(np.arange(n), np.diff(indptr))
    assert (m.core_of >= 0).all()
    for c in range(m.n_cores):
        members = np.flatnonzero(m.core_of == c)
        assert 1 <= len(members) <= 12
        into = np.isin(target, members)
        assert into.sum() <= 60
        assert len(set(src[into].tolist())) <= 40
    assert m.n_chips == math.ceil(m.n_cores / 5)
    assert (m.chip_of == m.core_of // 5).all()
    if method == "contiguous":      # population-contiguous: no core mixes the two populations
        for c in range(m.n_cores):
            members = np.flatnonzero(m.core_of == c)
            assert (members < 120).all() or (members >= 120).all()


def test_fan_in_violation_is_reported():
    # neuron 0 receives from 10 sources; a core takes at most 4 distinct sources
    indptr = np.r_[0, np.arange(11)].astype(np.int64)     # neuron 0: none out; 1..10: one synapse each
    target = np.zeros(10, np.int64)                        # ... all onto neuron 0
    order, brk = contiguous_order(11)
    core_of, viol = pack(order, {"neurons_per_core": 4, "axons_per_core": 4}, 11, indptr, target, brk)
    assert viol == 1
    assert (core_of == core_of[0]).sum() == 1        # placed alone


def test_partition_reduces_cross_core_traffic():
    # 8 clusters of 16 neurons, interleaved in id order (neuron i in cluster i % 8):
    # dense inside a cluster, sparse between. Contiguous packing scatters every cluster.
    rng = np.random.default_rng(11)
    n, k = 128, 8
    cl = np.arange(n) % k
    p = np.where(cl[:, None] == cl[None, :], 0.5, 0.01)
    np.fill_diagonal(p, 0)
    src, tgt = np.nonzero(rng.random((n, n)) < p)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    spikes = rng.integers(5, 15, n)
    limits = {"neurons_per_core": 16, "cores_per_chip": 4}
    contig = map_network(limits, n, indptr, tgt, spikes, (0,), method="contiguous")
    part = map_network(limits, n, indptr, tgt, spikes, (0,), method="partition")
    off = lambda m: brute_force_routing(spikes, indptr, tgt, m.core_of, 4, 2)
    c_off = off(contig)["spike_to_core"] + off(contig)["spike_to_chip"]
    p_off = off(part)["spike_to_core"] + off(part)["spike_to_chip"]
    assert p_off < 0.5 * c_off
    auto = map_network(limits, n, indptr, tgt, spikes, (0,), method="auto")
    a_off = off(auto)["spike_to_core"] + off(auto)["spike_to_chip"]
    assert a_off == min(p_off, c_off)
    order, name = partition_order(n, indptr, tgt, spikes)
    assert sorted(order.tolist()) == list(range(n)) and name.startswith("partition")


# ---------------------------------------------------------------- bad input

def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        energy_cli.run_energy(tmp_path / "nope.h5")


def test_file_without_counters(tmp_path):
    p = tmp_path / "x.h5"
    with h5py.File(p, "w") as f:
        f["spikes/a/timestamps"] = np.zeros(0)
    with pytest.raises(InputError, match="/counters"):
        energy_cli.run_energy(p)


def test_unknown_hardware_did_you_mean(small_file):
    with pytest.raises(InputError) as exc:
        energy_cli.run_energy(small_file, hardware="lohi", plot=False)
    assert "did you mean 'loihi'" in exc.value.problems[0]
    assert exc.value.problems[0].startswith("--hardware")


def test_malformed_profile_names_key(small_file, tmp_path, capsys):
    bad = tmp_path / "chip.toml"
    bad.write_text('name = "chip"\n[limits]\nneurons_per_core = 64\n'
                   '[energy.synaptic_op]\nvalue = 1e-12\nlow = 2e-12\n'
                   '[energy.synaptic_opp]\nvalue = 1e-12\n')
    with pytest.raises(InputError) as exc:
        energy_cli.run_energy(small_file, hardware=str(bad), plot=False)
    msgs = "\n".join(exc.value.problems)
    assert "chip.toml: energy.synaptic_op: need low <= value <= high" in msgs
    assert "chip.toml: energy.synaptic_opp: unknown operation (did you mean 'synaptic_op'?)" in msgs
    # a good user profile file is accepted by path
    good = tmp_path / "mychip.toml"
    good.write_text('name = "mychip"\n[limits]\nneurons_per_core = 4\ncores_per_chip = 2\n'
                    '[static]\npower_w = 0.01\n[energy.synaptic_op]\nvalue = 1e-12\nsource = "test"\n')
    res = run_json(capsys, small_file, hardware=str(good), plot=False)
    h = res["hardware"]["mychip"]
    assert h["mapping"]["chips"] == math.ceil(h["mapping"]["cores"] / 2)
    syn = sum(EVENTS.values()) + STIM_EVENTS
    assert h["dynamic_j"] == pytest.approx(syn * 1e-12)
    assert h["static_j"] == pytest.approx(0.01 * h["mapping"]["chips"] * 10 * 1e-3)


def test_scenario_energy_hardware_is_default(tmp_path, monkeypatch, capsys):
    path = tmp_path / "run.h5"
    write_counters_h5(path, small_counters(), scenario='[energy]\nhardware = ["truenorth"]\n')
    monkeypatch.setattr(energy_cli, "rebuild_connectivity", lambda c: (None, "test"))
    res = run_json(capsys, path, plot=False)
    assert list(res["hardware"]) == ["truenorth"]
    assert res["notes"] == ["routing not counted: test"]


def test_rcm_partition_for_large_graphs_also_reduces_traffic(monkeypatch):
    # the same clustered graph through the reverse Cuthill-McKee path used above LOUVAIN_MAX_SYNAPSES
    from eventsim.energy import mapping
    monkeypatch.setattr(mapping, "LOUVAIN_MAX_SYNAPSES", 0)
    rng = np.random.default_rng(11)
    n, k = 128, 8
    cl = np.arange(n) % k
    p = np.where(cl[:, None] == cl[None, :], 0.5, 0.01)
    np.fill_diagonal(p, 0)
    src, tgt = np.nonzero(rng.random((n, n)) < p)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    spikes = rng.integers(5, 15, n)
    limits = {"neurons_per_core": 16, "cores_per_chip": 4}
    contig = map_network(limits, n, indptr, tgt, spikes, (0,), method="contiguous")
    part = map_network(limits, n, indptr, tgt, spikes, (0,), method="partition")
    assert part.method == "partition (rcm)"
    off = lambda m: sum(brute_force_routing(spikes, indptr, tgt, m.core_of, 4, 2)[key]
                        for key in ("spike_to_core", "spike_to_chip"))
    assert off(part) < off(contig)
