"""Off-grid delays, and the reference networks' statistics (CUBA; a short Brunel run)."""
import os

import numpy as np
import pytest

import eventsim
from eventsim.analysis import stats

ROOT = os.path.join(os.path.dirname(__file__), "..")


@pytest.mark.parametrize("delay", [0.37, 2.0001, 1e-3, 7.123456789])
def test_spike_arrives_at_exactly_t_plus_delay(delay):
    # a supra-threshold input makes the target spike at its arrival time: t_emit + delay
    emit = [3.3, 10.7, 25.000001]
    d = {"simulation": {"duration": 60.0, "seed": 1},
         "population": [{"name": "s", "size": 1, "model": "spike_source", "params": {"times": [emit]}},
                        {"name": "n", "size": 1, "model": "lif", "params": {"t_ref": 0.5}}],
         "projection": [{"source": "s", "target": "n", "rule": "all_to_all", "weight": 20.0,
                         "delay": delay}]}
    sc = eventsim.load_scenario(d)
    sim = eventsim.Simulation(eventsim.build_network(sc), seed=1)
    sim.run(sc.duration)
    t, _ = sim.spikes("n")
    assert t.tolist() == [te + delay for te in emit]   # exactly, in float64


def _rates_cv(path, duration, t_start=0.0):
    sc = eventsim.load(path, duration=duration)
    net = eventsim.build_network(sc)
    sim = eventsim.Simulation(net, seed=sc.seed)
    sim.run(sc.duration)
    out = {}
    for p in net.populations:
        t, i = sim.spikes(p.name)
        keep = t >= t_start
        cv = stats.cv_isi(t[keep], i[keep], p.size)
        out[p.name] = (np.sum(keep) / p.size / ((duration - t_start) / 1000.0), float(np.nanmean(cv)))
    return out


def test_cuba_rate_in_published_band():
    # Brette et al. 2007 CUBA: NEST 5.0 Hz, Brian2 5.7 Hz over 1 s; the issue asks 4.5-6.5 Hz
    res = _rates_cv(os.path.join(ROOT, "scenarios", "brette2007_cuba.toml"), 1000.0)
    n_exc, n_inh = 3200, 800
    mean = (res["exc"][0] * n_exc + res["inh"][0] * n_inh) / (n_exc + n_inh)
    assert 4.5 <= mean <= 6.5, res


def test_brunel_asynchronous_irregular_state_short_run():
    # 300 ms of the full 12,500-neuron network (the 1 s figures are in the README):
    # excitatory rate within 10 % of NEST's 37.7 Hz, CV of ISI in [0.3, 0.6]
    res = _rates_cv(os.path.join(ROOT, "scenarios", "brunel2000_ai.toml"), 300.0, t_start=50.0)
    rate, cv = res["exc"]
    assert abs(rate - 37.7) / 37.7 < 0.10, res
    assert 0.3 <= cv <= 0.6, res


def test_delay_bounds_of_the_synapses_not_of_the_table():
    """min_delay/max_delay (the window length and ring size) are the smallest and largest
    delay a synapse has: table entries no synapse uses do not count; with per-synapse
    values, their extremes; a new delay array gives new bounds (the result is kept per
    array)."""
    from eventsim.network.core import Network

    def net(**delays):
        return Network(populations=[], projections=[], stimuli=[], indptr=np.array([0, 2, 4]),
                       target=np.array([1, 0, 0, 1], dtype=np.int32), weight=np.ones(4),
                       proj=np.zeros(4, dtype=np.uint16), **delays)

    n = net(delay_index=np.array([1, 3, 1, 2], dtype=np.uint16), delay_table=np.array([0.1, 0.5, 0.7, 2.25, 9.0]))
    assert (n.min_delay(), n.max_delay()) == (0.5, 2.25)
    n.delay_index = np.array([2, 2, 2, 2], dtype=np.uint16)
    assert n.delay_bounds() == (0.7, 0.7)
    v = net(delay_values=np.array([1.5, 0.3, 4.0, 0.3]))
    assert (v.min_delay(), v.max_delay()) == (0.3, 4.0)
    e = Network(populations=[], projections=[], stimuli=[], indptr=np.zeros(3, dtype=np.int64),
                target=np.zeros(0, dtype=np.int32), weight=np.zeros(0), proj=np.zeros(0, dtype=np.uint16),
                delay_values=np.zeros(0))
    assert (e.min_delay(), e.max_delay()) == (np.inf, 0.0)
