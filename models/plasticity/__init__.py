"""Plasticity rules: one module per rule family, each defining ``RULE`` or ``RULES``
(:class:`~eventsim.models.base.PlasticityRule`). The scenario schema reads its
``[plasticity.<label>]`` keys from here, so the rule, its keys and its documentation
live in one place."""
from __future__ import annotations

import sys

from ..base import PlasticityRule, declared_in

_RULES: dict = {}


def plasticity_rules() -> dict:
    """name -> PlasticityRule, for every rule in models/plasticity/ (scan order: module name)."""
    if not _RULES:
        for rule in declared_in(sys.modules[__name__], "RULE", "RULES", PlasticityRule):
            _RULES.setdefault(rule.name, rule)
    return dict(_RULES)


def plasticity_rule(name: str) -> PlasticityRule:
    return plasticity_rules()[name]
