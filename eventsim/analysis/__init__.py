"""Spike-train analysis of SONATA spike files: reader, statistics, pictures, export.

    from eventsim.analysis import open_spikes, summarize, stats
    sf = open_spikes("run.h5")            # window defaults to [0, duration]
    t, ids = sf.spikes("exc")             # arrays (ms, node ids) in the window
    stats.cv_isi(t, ids, sf.n_neurons("exc"))
    summarize(sf).stats                   # what ``eventsim analyze --json`` prints
"""
from . import stats
from .cli import analyze_file, run_analyze
from .export import to_neo, to_nwb
from .reader import IncompleteFileWarning, SpikeFile, open_spikes
from .summary import summarize

__all__ = ["stats", "open_spikes", "SpikeFile", "IncompleteFileWarning", "summarize",
           "analyze_file", "run_analyze", "to_nwb", "to_neo"]
