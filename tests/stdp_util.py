"""Networks that replay scripted pre and post spike trains through one plastic synapse."""
import numpy as np

from eventsim.engine.simulation import Simulation
from eventsim.network.core import Projection
from netutil import lif_pop, network, spike_source

DRIVE_DELAY = 1.0


def replay(pre_times, post_times, rule, params, w0, delay=1.0, t_stop=None, n_pre=1):
    """Simulate pre -> post through one plastic synapse (delay ``delay``); the post neuron
    fires exactly at post_times (driven by a huge delta input from a second source).

    Returns the Simulation (weight events of projection "plastic" recorded)."""
    post_times = np.asarray(post_times, dtype=float)
    drive_times = post_times - DRIVE_DELAY
    assert np.array_equal(drive_times + DRIVE_DELAY, post_times)   # the post spikes land exactly
    pre = spike_source("pre", [pre_times] * n_pre, 0)
    drive = spike_source("drive", [drive_times], n_pre)
    post = lif_pop("post", 1, n_pre + 1, synapse="delta", v_rest=0.0, v_reset=0.0, v_th=1e9, t_ref=0.0)
    edges = [(k, n_pre + 1, w0, delay, 0) for k in range(n_pre)] + [(n_pre, n_pre + 1, 1e12, DRIVE_DELAY, 1)]
    projs = [Projection("plastic", 0, "pre", "post", plasticity="syn", n_synapses=n_pre),
             Projection("drive", 1, "drive", "post", n_synapses=1)]
    net = network([pre, drive, post], edges, projections=projs)
    net.plasticity = {"syn": dict(params, rule=rule)}
    sim = Simulation(net, seed=1)
    sim.record_weight_events(["plastic"])
    end = max(np.max(pre_times, initial=0), np.max(post_times, initial=0)) + 10.0
    sim.run(end if t_stop is None else t_stop)
    t, _, _, _ = sim.weight_events("plastic")
    post_seen = sim.spikes("post")[0]
    np.testing.assert_array_equal(post_seen, post_times)   # the drive worked
    return sim
