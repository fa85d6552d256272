"""Lead assignment rules: the active rule's first matching entry sets the owner.

As in Salesforce, one assignment rule per object is active at a time and its entries are tried
in order. It runs on create and update whenever the request allows assignment (REST applies
it unless `Sforce-Auto-Assign: FALSE`), and it overrides an OwnerId given in the request. A
write may instead name one rule to run, active or not (`WriteOptions.assignment_rule_id`). When
no entry matches, the owner stays as given or defaulted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..dml import WriteOptions
from ..ids import InvalidId, normalize_id
from ..org import Org
from ..schema import ObjectDef
from ..values import Stored
from . import store
from .expressions import ExpressionError, compile_formula
from .rules import AssignmentEntry, AssignmentRule, RuleError, RuleKind

__all__ = ["ASSIGNABLE", "AssignmentRules", "check_assignment_rule"]

# Salesforce also has Case (and Account territory) rules; localforce has no Case object.
ASSIGNABLE = ("Lead",)


def _active_user(org: Org, user_id: str) -> str | None:
    try:
        canonical = normalize_id(user_id)
    except InvalidId:
        return None
    with org.lock:
        row = org.conn.execute(
            'SELECT "Id" FROM "User" WHERE "Id" = ? AND "IsActive" = 1 AND "IsDeleted" = 0',
            (canonical,),
        ).fetchone()
    return None if row is None else str(row[0])


def check_assignment_rule(org: Org, rule: AssignmentRule) -> AssignmentRule:
    """The rule with canonical names and IDs; RuleError when it cannot run in this org."""
    obj = org.object(rule.object)
    if obj is None or obj.name not in ASSIGNABLE:
        raise RuleError(f"assignment rules apply to {', '.join(ASSIGNABLE)}, not {rule.object}")
    entries = []
    for i, entry in enumerate(rule.entries):
        if entry.criteria is not None:
            try:
                compile_formula(entry.criteria, obj)
            except ExpressionError as exc:
                raise RuleError(
                    f"entries[{i}].criteria: {exc.message}", position=exc.position
                ) from None
        owner = _active_user(org, entry.owner_id)
        if owner is None:
            raise RuleError(f"entries[{i}].ownerId: {entry.owner_id} is not an active user")
        entries.append(AssignmentEntry(criteria=entry.criteria, owner_id=owner))
    return replace(rule, object=obj.name, entries=tuple(entries))


class AssignmentRules:
    """The `before_save` hook that applies the active assignment rule."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def __call__(
        self,
        obj: ObjectDef,
        record: dict[str, Stored],
        old: dict[str, Any] | None,
        opts: WriteOptions,
    ) -> None:
        if obj.name not in ASSIGNABLE:
            return
        if opts.assignment_rule_id is not None:
            named = store.get_rule(self.org, RuleKind.ASSIGNMENT, opts.assignment_rule_id)
            rules = [named] if named is not None and named.object == obj.name else []
        elif opts.auto_assign:
            rules = store.active_rules(self.org, RuleKind.ASSIGNMENT, obj.name)
        else:
            return
        for rule in rules:
            assert isinstance(rule, AssignmentRule)
            for entry in rule.entries:
                if entry.criteria is None or compile_formula(entry.criteria, obj).evaluate(
                    record, old
                ):
                    record["OwnerId"] = entry.owner_id
                    return
