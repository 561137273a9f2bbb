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
from eventsim.engine.dual import compile_functions, source_tag

from . import _lif_kernel as _lif

globals().update({k: v for k, v in vars(_lif).items() if not k.startswith("__")})
DELTA_ONLY = True
# the sources whose code this module compiles (their hash names the loop's cache entries)
SOURCE_MODULES = (_lif,) + _lif.SOURCE_MODULES
CPU = compile_functions(globals(), _lif.FUNCTIONS, "cpu", inline=_lif.INLINE,
                        tag=source_tag(*SOURCE_MODULES))
