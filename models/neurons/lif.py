"""Leaky integrate-and-fire neuron with delta, exponential or alpha current synapses, solved exactly.

Between events the state evolves by its closed-form solution; threshold crossings
between events (constant/stepped current, decaying synaptic currents) are found
by a bracketing search that cannot skip a crossing (see ``_lif_kernel``).
"""
from ..base import NeuronModel, Param

MODEL = NeuronModel(
    name="lif",
    doc="Leaky integrate-and-fire neuron, current-based synapses (delta, exponential or alpha), "
        "absolute refractory period, exact spike times.",
    equations=(
        "dv/dt = -(v - v_rest)/tau_m + (I_ex + I_in + i_e + I_stim)/c_m\n"
        "delta synapse: v += w on arrival (discarded while refractory)\n"
        "exp synapse:   I_ex += w (w > 0), I_in += w (w < 0); dI_ex/dt = -I_ex/tau_syn_ex, "
        "dI_in/dt = -I_in/tau_syn_in\n"
        "alpha synapse: an input w starts w (t/tau_syn) e^{1 - t/tau_syn} in I_ex (w > 0) or I_in "
        "(w < 0), peak w at t = tau_syn: dI_ex += e w/tau_syn_ex, dI_ex' = -dI_ex/tau_syn_ex, "
        "I_ex' = -I_ex/tau_syn_ex + dI_ex (likewise in)\n"
        "spike when v reaches v_th; v = v_reset held for t_ref; currents keep evolving"
    ),
    source="Rotter & Diesmann 1999 (exact integration); NEST iaf_psc_delta_ps, "
           "iaf_psc_exp_ps_lossless (Krishnan et al. 2018), iaf_psc_alpha_ps; defaults as NEST iaf_psc_delta",
    params={
        "tau_m": Param(10.0, "ms", "membrane time constant", check=">0"),
        "c_m": Param(250.0, "pF", "membrane capacitance", check=">0"),
        "v_rest": Param(-70.0, "mV", "leak reversal potential"),
        "v_reset": Param(-70.0, "mV", "reset potential"),
        "v_th": Param(-55.0, "mV", "spike threshold"),
        "t_ref": Param(2.0, "ms", "absolute refractory period", check=">=0"),
        "i_e": Param(0.0, "pA", "constant input current"),
        "tau_syn_ex": Param(2.0, "ms", "excitatory synaptic time constant (exp and alpha)", check=">0"),
        "tau_syn_in": Param(2.0, "ms", "inhibitory synaptic time constant (exp and alpha)", check=">0"),
        "synapse": Param("delta", "", "synapse kind: delta (w in mV), exp (w in pA) or alpha "
                         "(w = peak current in pA)", choices=("delta", "exp", "alpha"), per_neuron=False),
    },
    init={"v": Param(None, "mV", "initial membrane potential (default: v_rest)")},
    state=("v", "i_ex", "i_in", "di_ex", "di_in"),
    kernel_module="eventsim.models.neurons._lif_kernel",
    # delta synapses: the kernel compiled with DELTA_ONLY (one state value through the event
    # loop instead of five; the same arithmetic, the same spikes, 13 % less time in Brunel);
    # exp synapses: with EXP_ONLY (three values: no alpha variables)
    kernel_variants=("synapse", {"delta": "eventsim.models.neurons._lif_delta_kernel",
                                 "exp": "eventsim.models.neurons._lif_exp_kernel"}),
)
