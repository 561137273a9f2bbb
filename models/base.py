"""Declarations that catalogue entries use: parameters with defaults and units, neuron models.

A neuron model is declared in one module under ``models/neurons/`` as a
``NeuronModel`` instance named ``MODEL``. The declaration carries what the
scenario reader needs (parameter names, defaults, units, constraints, options)
and names the module that holds the model's numba scalar functions (its
*kernel module*), from which the engine generates its update kernel.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field


def declared_in(package, single: str, plural: str, cls) -> list:
    """The ``cls`` instances that the public modules of ``package`` declare as ``single``
    (one) or ``plural`` (a tuple), module by module in file-name order: how the catalogue
    finds neuron models (MODEL/MODELS) and plasticity rules (RULE/RULES)."""
    out = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{package.__name__}.{info.name}")
        out += [x for x in list(getattr(mod, plural, ())) + [getattr(mod, single, None)] if isinstance(x, cls)]
    return out


@dataclass(frozen=True)
class Param:
    default: object          # a number, a string (option), or None (see ``doc``)
    unit: str                # "ms", "mV", "pA", "pF", "Hz", "" ...
    doc: str
    check: str = "any"       # "any" | ">0" | ">=0"
    choices: tuple = ()      # for string options: the allowed values
    per_neuron: bool = True  # may be a distribution drawn per neuron

    def violates(self, value):
        """A short reason if ``value`` (a number) breaks ``check``, else None."""
        if self.check == ">0" and not value > 0:
            return f"must be > 0 {self.unit}".rstrip()
        if self.check == ">=0" and not value >= 0:
            return f"must be >= 0 {self.unit}".rstrip()
        return None


@dataclass(frozen=True)
class NeuronModel:
    name: str
    doc: str                      # one paragraph: what it is
    equations: str                # the equations, in the contract's notation
    source: str                   # paper / simulator it follows
    params: dict                  # name -> Param (numbers and string options)
    init: dict                    # state name -> Param (initial values; default None = a param, see doc)
    is_source: bool = False       # emits spikes, receives no input
    state: tuple = ()             # state variable names, in kernel column order
    kernel_module: str | None = None   # module with the numba scalar functions
    # (option, {value: module}): a population whose option has one of these values runs the
    # kernel compiled for it (the same equations with that option fixed at compilation)
    kernel_variants: tuple | None = None
    extra: dict = field(default_factory=dict)

    def kernel_for(self, options) -> str | None:
        """The kernel module of a population with these options (``kernel_variants``, else
        ``kernel_module``)."""
        if self.kernel_variants is not None:
            option, modules = self.kernel_variants
            value = options.get(option, self.params[option].default)
            if value in modules:
                return modules[value]
        return self.kernel_module

    @property
    def numeric_params(self):
        return [k for k, p in self.params.items() if not p.choices and p.per_neuron]

    @property
    def options(self):
        return {k: p for k, p in self.params.items() if p.choices}


@dataclass(frozen=True)
class PlasticityRule:
    """A plasticity rule: its scenario keys (``[plasticity.<label>]``) and documentation.

    Declared in a module under ``models/plasticity/`` as ``RULE`` (or a tuple ``RULES``).
    ``kind`` says when the engine applies it: ``"event"`` rules (STDP family) update
    weights spike by spike inside the engine's kernels; ``"trial"`` rules (emotion)
    update between presentations of a trial loop.
    """
    name: str
    doc: str                      # one paragraph
    equations: str                # the update, in the contract's notation
    source: str                   # paper / simulator it follows
    params: dict                  # key -> Param (numbers; string options via choices; bool defaults)
    kind: str = "event"           # "event" | "trial"
    extra: dict = field(default_factory=dict)
