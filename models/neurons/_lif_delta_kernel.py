"""The LIF kernel (``_lif_kernel``) compiled for delta synapses only.

The same source, with ``DELTA_ONLY = True`` bound at compilation: the synaptic currents
are the constant 0 (``load``, ``evolve``, ``evolve_refractory``, ``spike_reset`` and
``receive`` return literal zeros for them), so the compiled event loop carries the
membrane potential alone (one value instead of five) and none of the branches on the
currents. The arithmetic is
``_lif_kernel``'s, so the spikes are the same to the bit (tests/test_kernel_variants.py
checks it); Brunel's loop takes 13 % less time (docs/benchmarks.md). Populations of model
``lif`` with ``synapse = "delta"`` (the default) run it (``NeuronModel.kernel_variants``).
"""
from . import _lif_kernel as _lif

# _lif_kernel's functions and constants, with DELTA_ONLY, LEAK_AHEAD and REFRACTORY_INERT
# True (sets SOURCE_MODULES too)
CPU = _lif.compile_variant(globals(), DELTA_ONLY=True, LEAK_AHEAD=True, REFRACTORY_INERT=True)
