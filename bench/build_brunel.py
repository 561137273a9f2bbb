"""Build time and memory of the Brunel (2000) network: 10,000 excitatory + 2,500
inhibitory lif neurons, fixed_indegree CE = 1000 from exc and CI = 250 from inh onto
every neuron, J = 0.1 mV, g = 5 (inhibitory weight -0.5 mV), delay 1.5 ms:
15.6 million synapses.

    python bench/build_brunel.py [--seed N] [--scale F]

Prints one JSON line: neurons, synapses, build_s (wall time of build_network,
after a small warm-up build that loads the numba kernels), bytes_per_synapse
(peak RSS growth during the build / synapses), retained_bytes_per_synapse
(RSS growth that remains once built) and layout_bytes_per_synapse
(Network.synapse_bytes() / synapses).
"""
from __future__ import annotations

import argparse
import json
import time

from eventsim.models import neuron_model

from eventsim.network.build import build_network
from eventsim.scenario.model import Scenario


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def _reset_peak():
    """Reset VmHWM to the current RSS (Linux >= 4.0), so the peak covers the build only."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def brunel(scale=1.0, seed=12345, J=0.1, g=5.0, delay=1.5):
    model = neuron_model("lif")
    params = {k: p.default for k, p in model.params.items()}
    params.update(tau_m=20.0, c_m=250.0, v_rest=0.0, v_reset=10.0, v_th=20.0, t_ref=2.0)
    n_e, n_i = int(10000 * scale), int(2500 * scale)
    c_e, c_i = int(1000 * scale), int(250 * scale)
    pops = [dict(name="exc", size=n_e, model="lif", params=dict(params), init={"v": None}),
            dict(name="inh", size=n_i, model="lif", params=dict(params), init={"v": None})]
    projections = []
    for src, k, w in (("exc", c_e, J), ("inh", c_i, -g * J)):
        for tgt in ("exc", "inh"):
            projections.append(dict(name=f"{src}_to_{tgt}", source=src, target=tgt, rule="fixed_indegree",
                                    indegree=k, weight=w, delay=delay, allow_autapses=False,
                                    allow_multapses=True, plasticity=None))
    return Scenario(simulation=dict(duration=1000.0, seed=seed, backend="cpu"),
                    populations=pops, projections=projections)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    build_network(brunel(0.01, args.seed))  # warm-up: numba kernels loaded or compiled
    scenario = brunel(args.scale, args.seed)
    rss0 = _status_kib("VmRSS")
    peak_reset = _reset_peak()
    t0 = time.perf_counter()
    net = build_network(scenario)
    build_s = time.perf_counter() - t0
    rss1, peak = _status_kib("VmRSS"), _status_kib("VmHWM")
    n = net.n_synapses
    print(json.dumps(dict(
        neurons=net.n_neurons, synapses=n, build_s=round(build_s, 3),
        bytes_per_synapse=round((peak - rss0) * 1024 / n, 2) if peak_reset else None,
        retained_bytes_per_synapse=round((rss1 - rss0) * 1024 / n, 2),
        layout_bytes_per_synapse=round(net.synapse_bytes() / n, 2))))


if __name__ == "__main__":
    main()
