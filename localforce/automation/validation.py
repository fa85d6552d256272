"""Validation rules: reject a save with FIELD_CUSTOM_VALIDATION_EXCEPTION when a condition holds.

A rule's error condition is a formula (see expressions.py) or a Python predicate that an
embedder or test registered in this process with `register_predicate`. Predicates are not
persisted: a stored rule naming one that is not registered in this process does not fire (the
admin API shows `predicateRegistered: false`). Rules run in name order and the first that fires
rejects the save.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from weakref import WeakKeyDictionary

from ..dml import WriteOptions
from ..errors import RecordError
from ..org import Org
from ..schema import ObjectDef
from ..values import Stored
from . import store
from .expressions import ExpressionError, compile_formula
from .rules import RuleError, RuleKind, ValidationRule

__all__ = [
    "Predicate",
    "ValidationRules",
    "check_validation_rule",
    "is_registered",
    "register_predicate",
]

# (new record as it will be stored, stored row before the save or None on insert) -> reject?
Predicate = Callable[[Mapping[str, Stored], Mapping[str, Any] | None], bool]

_PREDICATES: WeakKeyDictionary[Org, dict[tuple[str, str], Predicate]] = WeakKeyDictionary()


def _key(object_name: str, name: str) -> tuple[str, str]:
    return object_name.lower(), name


def register_predicate(org: Org, object_name: str, name: str, fn: Predicate) -> None:
    """Make `fn` available to validation rules on `object_name` as `predicate: name`.

    `fn` returns True to reject the save, like an error condition formula.
    """
    _PREDICATES.setdefault(org, {})[_key(object_name, name)] = fn


def _predicate(org: Org, object_name: str, name: str) -> Predicate | None:
    return _PREDICATES.get(org, {}).get(_key(object_name, name))


def is_registered(org: Org, rule: ValidationRule) -> bool:
    return rule.predicate is None or _predicate(org, rule.object, rule.predicate) is not None


def check_validation_rule(org: Org, rule: ValidationRule) -> ValidationRule:
    """The rule with its object and field names in canonical casing; RuleError if it won't fit."""
    obj = org.object(rule.object)
    if obj is None:
        raise RuleError(f"no sObject named {rule.object}")
    error_field = None
    if rule.error_field is not None:
        definition = obj.field(rule.error_field)
        if definition is None:
            raise RuleError(f"errorDisplayField: {obj.name} has no field {rule.error_field}")
        error_field = definition.name
    if rule.formula is not None:
        try:
            compile_formula(rule.formula, obj)
        except ExpressionError as exc:
            raise RuleError(
                f"errorConditionFormula: {exc.message}", position=exc.position
            ) from None
    elif rule.predicate is not None and _predicate(org, obj.name, rule.predicate) is None:
        raise RuleError(f"no predicate named {rule.predicate} is registered for {obj.name}")
    return replace(rule, object=obj.name, error_field=error_field)


class ValidationRules:
    """The `before_save` hook that runs the org's active validation rules."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def __call__(
        self,
        obj: ObjectDef,
        record: dict[str, Stored],
        old: dict[str, Any] | None,
        opts: WriteOptions,
    ) -> None:
        for rule in store.active_rules(self.org, RuleKind.VALIDATION, obj.name):
            assert isinstance(rule, ValidationRule)
            if self._fires(obj, rule, record, old):
                raise RecordError(
                    status_code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    message=rule.error_message,
                    fields=(rule.error_field,) if rule.error_field else (),
                )

    def _fires(
        self,
        obj: ObjectDef,
        rule: ValidationRule,
        record: Mapping[str, Stored],
        old: Mapping[str, Any] | None,
    ) -> bool:
        if rule.formula is not None:
            # Checked when the rule was stored, so this raises only if the schema lost a field
            # the rule uses, which nothing in localforce does.
            return compile_formula(rule.formula, obj).evaluate(record, old)
        assert rule.predicate is not None
        predicate = _predicate(self.org, obj.name, rule.predicate)
        return predicate is not None and predicate(record, old)
