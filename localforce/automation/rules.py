"""Org automation rules as data: validation, duplicate and assignment rules. Pure.

Each rule is a frozen dataclass that checks its own shape on construction and converts to and
from the JSON the admin API speaks (Salesforce's metadata names where there is one:
`errorConditionFormula`, `errorDisplayField`, `errorMessage`). Whether a rule fits the org's
schema (fields exist, formulas compile, owners exist) is checked by the module that runs it.
An `id` of "" marks a rule not stored yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "DEFAULT_DUPLICATE_MESSAGE",
    "AssignmentEntry",
    "AssignmentRule",
    "DuplicateAction",
    "DuplicateRule",
    "JsonFields",
    "Rule",
    "RuleError",
    "RuleKind",
    "ValidationRule",
    "rule_from_json",
]

# Salesforce's default alert text for a new duplicate rule.
DEFAULT_DUPLICATE_MESSAGE = "Use one of these records?"


class RuleError(ValueError):
    """A rule definition (or admin request body) that cannot be accepted; `position` locates a
    formula error."""

    def __init__(self, message: str, *, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class RuleKind(StrEnum):
    VALIDATION = "validation"
    DUPLICATE = "duplicate"
    ASSIGNMENT = "assignment"

    @property
    def key_prefix(self) -> str:
        """Salesforce's key prefix for the setup entity (ValidationRule, DuplicateRule, ...)."""
        return _KEY_PREFIXES[self]


_KEY_PREFIXES = {
    RuleKind.VALIDATION: "03d",
    RuleKind.DUPLICATE: "0Bm",
    RuleKind.ASSIGNMENT: "01Q",
}


class DuplicateAction(StrEnum):
    BLOCK = "block"
    ALERT = "alert"


def _require_name(name: str, what: str) -> None:
    if not name.strip():
        raise RuleError(f"{what} must not be empty")


@dataclass(frozen=True, kw_only=True)
class ValidationRule:
    """Rejects a save when its error condition holds: a formula, or a registered predicate."""

    id: str = ""
    object: str
    name: str
    active: bool = True
    formula: str | None = None
    predicate: str | None = None
    error_message: str
    error_field: str | None = None

    kind = RuleKind.VALIDATION

    def __post_init__(self) -> None:
        _require_name(self.name, "name")
        _require_name(self.error_message, "errorMessage")
        if (self.formula is None) == (self.predicate is None):
            raise RuleError("give exactly one of errorConditionFormula and predicate")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": self.object,
            "name": self.name,
            "active": self.active,
            "errorConditionFormula": self.formula,
            "predicate": self.predicate,
            "errorMessage": self.error_message,
            "errorDisplayField": self.error_field,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ValidationRule:
        fields = JsonFields(data, _VALIDATION_KEYS)
        return cls(
            id=fields.text("id", default=""),
            object=fields.text("object"),
            name=fields.text("name"),
            active=fields.boolean("active", default=True),
            formula=fields.optional_text("errorConditionFormula"),
            predicate=fields.optional_text("predicate"),
            error_message=fields.text("errorMessage"),
            error_field=fields.optional_text("errorDisplayField"),
        )


@dataclass(frozen=True, kw_only=True)
class DuplicateRule:
    """Finds existing records that match a saved one on `match_fields` (all of them).

    `match_objects` are the objects searched (a Lead rule may also search Contacts);
    `matching_rules` names the matching rule reported for each of them.
    """

    id: str = ""
    object: str
    name: str
    active: bool = True
    action: DuplicateAction = DuplicateAction.BLOCK
    match_fields: tuple[str, ...]
    match_objects: tuple[str, ...] = ()
    on_create: bool = True
    on_update: bool = False
    error_message: str = DEFAULT_DUPLICATE_MESSAGE
    condition: str | None = None
    matching_rules: Mapping[str, str] = field(default_factory=dict)

    kind = RuleKind.DUPLICATE

    def __post_init__(self) -> None:
        _require_name(self.name, "name")
        _require_name(self.error_message, "errorMessage")
        if not self.match_fields:
            raise RuleError("matchFields must name at least one field")
        if not (self.on_create or self.on_update):
            raise RuleError("a duplicate rule must run on create, on update or both")

    @property
    def searched_objects(self) -> tuple[str, ...]:
        return self.match_objects or (self.object,)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": self.object,
            "name": self.name,
            "active": self.active,
            "action": self.action.value,
            "matchFields": list(self.match_fields),
            "matchObjects": list(self.searched_objects),
            "onCreate": self.on_create,
            "onUpdate": self.on_update,
            "errorMessage": self.error_message,
            "condition": self.condition,
            "matchingRules": dict(self.matching_rules),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DuplicateRule:
        fields = JsonFields(data, _DUPLICATE_KEYS)
        try:
            action = DuplicateAction(fields.text("action", default="block").lower())
        except ValueError:
            raise RuleError("action must be 'block' or 'alert'") from None
        return cls(
            id=fields.text("id", default=""),
            object=fields.text("object"),
            name=fields.text("name"),
            active=fields.boolean("active", default=True),
            action=action,
            match_fields=fields.texts("matchFields"),
            match_objects=fields.texts("matchObjects", required=False),
            on_create=fields.boolean("onCreate", default=True),
            on_update=fields.boolean("onUpdate", default=False),
            error_message=fields.text("errorMessage", default=DEFAULT_DUPLICATE_MESSAGE),
            condition=fields.optional_text("condition"),
            matching_rules=fields.text_map("matchingRules"),
        )


@dataclass(frozen=True, kw_only=True)
class AssignmentEntry:
    """One rule entry: when `criteria` holds (or is None), the record goes to `owner_id`."""

    criteria: str | None
    owner_id: str

    def to_json(self) -> dict[str, Any]:
        return {"criteria": self.criteria, "ownerId": self.owner_id}


@dataclass(frozen=True, kw_only=True)
class AssignmentRule:
    """Ordered entries; the first whose criteria hold sets the owner. One active per object."""

    id: str = ""
    object: str = "Lead"
    name: str
    active: bool = True
    entries: tuple[AssignmentEntry, ...]

    kind = RuleKind.ASSIGNMENT

    def __post_init__(self) -> None:
        _require_name(self.name, "name")
        if not self.entries:
            raise RuleError("an assignment rule needs at least one entry")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": self.object,
            "name": self.name,
            "active": self.active,
            "entries": [e.to_json() for e in self.entries],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AssignmentRule:
        fields = JsonFields(data, _ASSIGNMENT_KEYS)
        raw_entries = data.get("entries")
        if not isinstance(raw_entries, list):
            raise RuleError("entries must be a list of {criteria, ownerId} objects")
        entries = []
        for i, raw in enumerate(raw_entries):
            if not isinstance(raw, dict):
                raise RuleError(f"entries[{i}] must be an object")
            entry = JsonFields(raw, frozenset({"criteria", "ownerId"}), where=f"entries[{i}].")
            entries.append(
                AssignmentEntry(
                    criteria=entry.optional_text("criteria"), owner_id=entry.text("ownerId")
                )
            )
        return cls(
            id=fields.text("id", default=""),
            object=fields.text("object", default="Lead"),
            name=fields.text("name"),
            active=fields.boolean("active", default=True),
            entries=tuple(entries),
        )


Rule = ValidationRule | DuplicateRule | AssignmentRule

_VALIDATION_KEYS = frozenset(
    {"id", "object", "name", "active", "errorConditionFormula", "predicate", "errorMessage",
     "errorDisplayField"}
)  # fmt: skip
_DUPLICATE_KEYS = frozenset(
    {"id", "object", "name", "active", "action", "matchFields", "matchObjects", "onCreate",
     "onUpdate", "errorMessage", "condition", "matchingRules"}
)  # fmt: skip
_ASSIGNMENT_KEYS = frozenset({"id", "object", "name", "active", "entries"})


def rule_from_json(kind: RuleKind, data: Mapping[str, Any]) -> Rule:
    if kind is RuleKind.VALIDATION:
        return ValidationRule.from_json(data)
    if kind is RuleKind.DUPLICATE:
        return DuplicateRule.from_json(data)
    return AssignmentRule.from_json(data)


_MISSING: Any = object()


class JsonFields:
    """Typed reads from a JSON object, refusing unknown keys so that typos are not ignored."""

    def __init__(self, data: Mapping[str, Any], allowed: frozenset[str], where: str = "") -> None:
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise RuleError(f"unknown field {where}{unknown[0]}; allowed: {sorted(allowed)}")
        self.data = data
        self.where = where

    def _get(self, key: str, default: Any) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is _MISSING:
                raise RuleError(f"{self.where}{key} is required")
            return default
        return value

    def text(self, key: str, *, default: Any = _MISSING) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise RuleError(f"{self.where}{key} must be a string")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise RuleError(f"{self.where}{key} must be a string or null")
        return value

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise RuleError(f"{self.where}{key} must be true or false")
        return value

    def texts(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        value = self._get(key, _MISSING if required else [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RuleError(f"{self.where}{key} must be a list of strings")
        return tuple(value)

    def text_map(self, key: str) -> dict[str, str]:
        value = self._get(key, {})
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise RuleError(f"{self.where}{key} must map object names to rule names")
        return dict(value)
