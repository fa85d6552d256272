"""Automation rules in the org's database.

One table holds every kind of rule; a rule's definition is its admin-API JSON, and `active`
lives in its own column so that hooks select only what runs. Rule IDs are Salesforce-shaped,
made from the setup entity's key prefix (ValidationRule `03d`, DuplicateRule `0Bm`,
AssignmentRule `01Q`) and a per-table counter.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache

from ..ids import InvalidId, make_id, normalize_id
from ..org import Org
from .rules import Rule, RuleKind, rule_from_json

__all__ = [
    "NameTaken",
    "active_rules",
    "create_rule",
    "delete_rule",
    "ensure_tables",
    "get_rule",
    "list_rules",
    "set_active",
]

_TABLE = "_lf_automation_rules"


class NameTaken(Exception):
    """A rule of the same kind and name already exists on the object."""


def ensure_tables(org: Org) -> None:
    with org.transaction():
        org.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
            " rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
            " object TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL COLLATE NOCASE,"
            " active INTEGER NOT NULL, definition TEXT NOT NULL, created_date TEXT NOT NULL,"
            " UNIQUE (kind, object, name))"
        )
        org.conn.execute(
            f"CREATE INDEX IF NOT EXISTS {_TABLE}_active ON {_TABLE} (kind, object, active)"
        )


@lru_cache(maxsize=1024)
def _load(kind: str, active: int, definition: str) -> Rule:
    # Cached: hooks read the active rules on every write, and rules are immutable values.
    return rule_from_json(RuleKind(kind), {**json.loads(definition), "active": bool(active)})


def _deactivate_others(org: Org, rule: Rule) -> None:
    """Salesforce allows one active assignment rule per object: activating one retires the rest."""
    if rule.kind is RuleKind.ASSIGNMENT and rule.active:
        org.conn.execute(
            f"UPDATE {_TABLE} SET active = 0 WHERE kind = ? AND object = ? AND id != ?",
            (rule.kind.value, rule.object, rule.id),
        )


def create_rule(org: Org, rule: Rule) -> Rule:
    """Store a new rule (its `id` is assigned here); raises NameTaken on a name clash."""
    with org.transaction():
        clash = org.conn.execute(
            f"SELECT 1 FROM {_TABLE} WHERE kind = ? AND object = ? AND name = ?",
            (rule.kind.value, rule.object, rule.name),
        ).fetchone()
        if clash:
            raise NameTaken(f"a {rule.kind.value} rule named {rule.name} exists on {rule.object}")
        rid = org.conn.execute(f"SELECT coalesce(max(rid), 0) + 1 FROM {_TABLE}").fetchone()[0]
        stored = replace(rule, id=make_id(rule.kind.key_prefix, org.pod, rid))
        org.conn.execute(
            f"INSERT INTO {_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (rid, stored.id, rule.kind.value, rule.object, rule.name, int(rule.active),
             json.dumps(stored.to_json()), org.now()),
        )  # fmt: skip
        _deactivate_others(org, stored)
    return stored


def _canonical(rule_id: str) -> str | None:
    try:
        return normalize_id(rule_id)
    except InvalidId:
        return None


def get_rule(org: Org, kind: RuleKind, rule_id: str) -> Rule | None:
    with org.lock:  # the connection is shared: never read inside another thread's transaction
        row = org.conn.execute(
            f"SELECT active, definition FROM {_TABLE} WHERE kind = ? AND id = ?",
            (kind.value, _canonical(rule_id)),
        ).fetchone()
    return None if row is None else _load(kind.value, row[0], row[1])


def list_rules(org: Org, kind: RuleKind, object_name: str | None = None) -> list[Rule]:
    with org.lock:
        rows = org.conn.execute(
            f"SELECT active, definition FROM {_TABLE} "
            "WHERE kind = ? AND (? IS NULL OR object = ?) ORDER BY object, name",
            (kind.value, object_name, object_name),
        ).fetchall()
    return [_load(kind.value, active, definition) for active, definition in rows]


def active_rules(org: Org, kind: RuleKind, object_name: str) -> list[Rule]:
    """The active rules of one kind on one object, in name order (the order they are tried)."""
    with org.lock:
        rows = org.conn.execute(
            f"SELECT definition FROM {_TABLE} WHERE kind = ? AND object = ? AND active = 1 "
            "ORDER BY name",
            (kind.value, object_name),
        ).fetchall()
    return [_load(kind.value, 1, definition) for (definition,) in rows]


def delete_rule(org: Org, kind: RuleKind, rule_id: str) -> bool:
    with org.transaction():
        cursor = org.conn.execute(
            f"DELETE FROM {_TABLE} WHERE kind = ? AND id = ?", (kind.value, _canonical(rule_id))
        )
    return cursor.rowcount > 0


def set_active(org: Org, kind: RuleKind, rule_id: str, active: bool) -> Rule | None:
    with org.transaction():
        rule = get_rule(org, kind, rule_id)
        if rule is None:
            return None
        rule = replace(rule, active=active)
        org.conn.execute(f"UPDATE {_TABLE} SET active = ? WHERE id = ?", (int(active), rule.id))
        _deactivate_others(org, rule)
    return rule
