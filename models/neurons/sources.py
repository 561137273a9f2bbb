"""Spike sources: populations that emit spikes and receive no input."""
from ..base import NeuronModel, Param

POISSON_SOURCE = NeuronModel(
    name="poisson_source",
    doc="Each neuron emits an independent homogeneous Poisson spike train.",
    equations="inter-spike intervals ~ Exponential(rate); the k-th interval of neuron i is drawn "
              "from a counter-based stream keyed by (seed, population, i, k)",
    source="NEST poisson_generator (one independent train per target); here each source neuron is "
           "one train that all its targets share",
    params={"rate": Param(0.0, "Hz", "firing rate", check=">=0")},
    init={},
    is_source=True,
)

SPIKE_SOURCE = NeuronModel(
    name="spike_source",
    doc="Each neuron emits exactly the listed spike times (repeated times are repeated spikes).",
    equations="spikes at params.times[i]",
    source="NEST spike_generator with precise_times = true",
    params={"times": Param([], "ms", "one list of spike times per neuron", per_neuron=False)},
    init={},
    is_source=True,
)

MODELS = (POISSON_SOURCE, SPIKE_SOURCE)
