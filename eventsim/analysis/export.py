"""Export spikes to NWB (pynwb, optional extra "nwb") and to neo SpikeTrains."""
from __future__ import annotations

import datetime
import os

import numpy as np

from .reader import open_spikes


def to_neo(path, t_start=None, t_stop=None):
    """The file's spikes as neo SpikeTrains: {population: [SpikeTrain per neuron]},
    times in ms, t_start/t_stop the observation window, annotations
    ``population`` and ``node_id``. neo is imported here (a test dependency)."""
    try:
        import neo
        import quantities as pq
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("to_neo needs the 'neo' package: pip install neo") from exc
    sf = open_spikes(path, t_start, t_stop)
    t0, t1 = sf.window
    out = {}
    for pop in sf.populations:
        out[pop] = [neo.SpikeTrain(train, units=pq.ms, t_start=t0 * pq.ms, t_stop=t1 * pq.ms,
                                   population=pop, node_id=i)
                    for i, train in enumerate(sf.spike_trains(pop))]
    return out


def to_nwb(path_in, path_out, t_start=None, t_stop=None, session_description=None):
    """Write the spikes of ``path_in`` to an NWB file ``path_out``.

    One row of the Units table per neuron (silent neurons included), spike
    times in seconds, columns ``population`` and ``node_id``, and the
    observation window as each unit's ``obs_intervals`` (s). Needs pynwb
    (``pip install eventsim[nwb]``)."""
    try:
        from pynwb import NWBHDF5IO, NWBFile
    except ImportError as exc:
        raise ImportError("to_nwb needs pynwb: pip install 'eventsim[nwb]' (or pip install pynwb)") from exc
    sf = open_spikes(path_in, t_start, t_stop)
    t0, t1 = sf.window
    nwb = NWBFile(
        session_description=session_description or f"eventsim spikes from {os.path.basename(sf.path)}",
        identifier=f"eventsim-{os.path.basename(sf.path)}",
        session_start_time=datetime.datetime.now(datetime.timezone.utc),
    )
    nwb.add_unit_column("population", "SONATA population of the neuron")
    nwb.add_unit_column("node_id", "node id within the population")
    interval = [[t0 / 1000.0, t1 / 1000.0]]
    for pop in sf.populations:
        for i, train in enumerate(sf.spike_trains(pop)):
            nwb.add_unit(spike_times=np.asarray(train) / 1000.0, obs_intervals=interval,
                         population=pop, node_id=i)
    with NWBHDF5IO(os.fspath(path_out), "w") as io:
        io.write(nwb)
    return os.fspath(path_out)
