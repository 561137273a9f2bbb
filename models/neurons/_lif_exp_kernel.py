"""The LIF kernel (``_lif_kernel``) compiled for exponential synapses only.

The same source, with ``EXP_ONLY = True`` bound at compilation: the alpha synapses'
inner variables di_ex, di_in are the constant 0 (``load``, ``evolve``,
``evolve_refractory``, ``receive`` and ``spike_reset`` return literal zeros for them) and
``receive`` adds w to I_ex or I_in without reading the synapse kind, so the compiled event
loop carries three values instead of five. The arithmetic is ``_lif_kernel``'s, so the
spikes are the same to the bit (tests/test_kernel_variants.py checks it). Populations of
model ``lif`` with ``synapse = "exp"`` run it (``NeuronModel.kernel_variants``).
"""
from eventsim.engine.dual import compile_functions, source_tag

from . import _lif_kernel as _lif

globals().update({k: v for k, v in vars(_lif).items() if not k.startswith("__")})
EXP_ONLY = True
# the sources whose code this module compiles (their hash names the loop's cache entries)
SOURCE_MODULES = (_lif,) + _lif.SOURCE_MODULES
CPU = compile_functions(globals(), _lif.FUNCTIONS, "cpu", inline=_lif.INLINE,
                        tag=source_tag(*SOURCE_MODULES))
