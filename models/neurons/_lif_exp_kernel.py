"""The LIF kernel (``_lif_kernel``) compiled for exponential synapses only.

The same source, with ``EXP_ONLY = True`` bound at compilation: the alpha synapses'
inner variables di_ex, di_in are the constant 0 (``load``, ``evolve``,
``evolve_refractory``, ``receive`` and ``spike_reset`` return literal zeros for them) and
``receive`` adds w to I_ex or I_in without reading the synapse kind, so the compiled event
loop carries three values instead of five. The arithmetic is ``_lif_kernel``'s, so the
spikes are the same to the bit (tests/test_kernel_variants.py checks it). Populations of
model ``lif`` with ``synapse = "exp"`` run it (``NeuronModel.kernel_variants``).
"""
from . import _lif_kernel as _lif

# _lif_kernel's functions and constants, with EXP_ONLY = True (sets SOURCE_MODULES too)
CPU = _lif.compile_variant(globals(), EXP_ONLY=True)
