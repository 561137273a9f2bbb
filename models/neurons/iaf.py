"""Perfect (non-leaky) integrate-and-fire neuron with delta synapses, solved exactly.

The NIR primitive ``IF`` (dv/dt = R I) and, with a threshold it cannot reach, the
integrator ``I``: eventsim.nir maps them here. Between events v is a straight line,
so the crossing time is one division.
"""
from ..base import NeuronModel, Param

MODEL = NeuronModel(
    name="if",
    doc="Perfect (non-leaky) integrate-and-fire neuron with delta synapses, absolute refractory period, "
        "exact spike times.",
    equations=(
        "dv/dt = (i_e + I_stim)/c_m\n"
        "delta synapse: v += w on arrival (discarded while refractory)\n"
        "spike when v reaches v_th; v = v_reset held for t_ref"
    ),
    source="NIR primitive IF (Pedersen et al. 2024, Nat Commun 15:8122); the non-leaky limit of lif",
    params={
        "c_m": Param(250.0, "pF", "membrane capacitance", check=">0"),
        "v_reset": Param(0.0, "mV", "reset potential"),
        "v_th": Param(1.0, "mV", "spike threshold"),
        "t_ref": Param(0.0, "ms", "absolute refractory period", check=">=0"),
        "i_e": Param(0.0, "pA", "constant input current"),
    },
    init={"v": Param(0.0, "mV", "initial membrane potential")},
    state=("v",),
    kernel_module="eventsim.models.neurons._if_kernel",
)
