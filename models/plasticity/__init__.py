"""Plasticity rules: one module per rule family, each defining ``RULE`` or ``RULES``
(:class:`~eventsim.models.base.PlasticityRule`). The scenario schema reads its
``[plasticity.<label>]`` keys from here, so the rule, its keys and its documentation
live in one place."""
from __future__ import annotations

import importlib
import pkgutil

from ..base import PlasticityRule

_RULES: dict = {}


def plasticity_rules() -> dict:
    """name -> PlasticityRule, for every rule in models/plasticity/ (scan order: module name)."""
    if not _RULES:
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
            if info.name.startswith("_"):
                continue
            mod = importlib.import_module(f"{__name__}.{info.name}")
            found = list(getattr(mod, "RULES", ())) + [getattr(mod, "RULE", None)]
            for rule in found:
                if isinstance(rule, PlasticityRule):
                    _RULES.setdefault(rule.name, rule)
    return dict(_RULES)


def plasticity_rule(name: str) -> PlasticityRule:
    return plasticity_rules()[name]
