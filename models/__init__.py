"""The eventsim model catalogue: neuron models, plasticity rules, hardware profiles.

Installed as ``eventsim.models`` (the folder is ``models/`` at the top of the
repository). Neuron models are found by scanning ``models/neurons/``: every module
there that defines ``MODEL`` (or a tuple ``MODELS``) of :class:`~eventsim.models.base.NeuronModel`) is
registered under ``MODEL.name``. Adding a model means adding one module there
(or calling :func:`register_neuron_model` from your own code); no engine file changes.
"""
from __future__ import annotations

import difflib

from .base import NeuronModel, Param, declared_in  # noqa: F401

_NEURON_MODELS: dict = {}


def _scan():
    from . import neurons
    for model in declared_in(neurons, "MODEL", "MODELS", NeuronModel):
        _NEURON_MODELS.setdefault(model.name, model)


def register_neuron_model(model: NeuronModel):
    """Register a model declared outside the catalogue (for example in a test or notebook)."""
    if not _NEURON_MODELS:
        _scan()
    _NEURON_MODELS[model.name] = model
    return model


def neuron_models() -> dict:
    """name -> NeuronModel, for every registered model."""
    if not _NEURON_MODELS:
        _scan()
    return dict(_NEURON_MODELS)


def neuron_model(name: str) -> NeuronModel:
    models = neuron_models()
    if name not in models:
        hint = difflib.get_close_matches(name, list(models), n=1)
        raise KeyError(f"unknown model {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    return models[name]
