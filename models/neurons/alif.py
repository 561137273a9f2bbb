"""Adaptive-threshold leaky integrate-and-fire neuron (LIF with a spike-triggered threshold).

The membrane and synapses are LIF's (``lif.py``, same parameters, same equations); each
spike raises the threshold by delta_th, which relaxes back with tau_a. Solved exactly,
first threshold crossings included (see ``_alif_kernel``).
"""
from ..base import NeuronModel, Param
from .lif import MODEL as LIF

MODEL = NeuronModel(
    name="alif",
    doc="Leaky integrate-and-fire neuron with a spike-triggered adaptive threshold "
        "(spike-frequency adaptation); synapses and refractoriness as lif; exact spike times.",
    equations=(
        LIF.equations.replace("spike when v reaches v_th;", "spike when v reaches v_th + a;")
        + "\nda/dt = -a/tau_a; a += delta_th at each spike (a keeps decaying while refractory)"
    ),
    source="Bellec et al. 2018 (the adaptive threshold of LSNN neurons); NEST mat2_psc_exp "
           "(Kobayashi et al. 2009: a threshold that jumps at each spike and relaxes exponentially; "
           "here one time constant and a reset of v); exact integration as lif",
    params={
        **LIF.params,
        "tau_a": Param(200.0, "ms", "time constant of the threshold adaptation", check=">0"),
        "delta_th": Param(1.0, "mV", "threshold increase per spike", check=">=0"),
    },
    init={**LIF.init, "a": Param(0.0, "mV", "initial threshold adaptation (threshold = v_th + a)")},
    state=LIF.state + ("a",),
    kernel_module="eventsim.models.neurons._alif_kernel",
)
