"""Which Salesforce fields an admin may map, read from an object's describe. Pure.

The spec's "Add Custom Field" dialog lists an object's custom fields to search and pick, with an
optional "value if Hearth creates record". `searchable_fields(describe, mapped)` is that list;
`mappable_field(describe, name)` checks one pick (it exists, the connected user can read it, and
its type fits the mirror's JSON); `default_value(field, text)` checks the default.

A field is readable when describe lists it: Salesforce leaves out the fields field-level
security hides from the connected user.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hearth.errors import InvalidInputError

__all__ = [
    "CREATABLE_OBJECTS",
    "MAPPABLE_OBJECTS",
    "SUPPORTED_TYPES",
    "FieldMapping",
    "SearchableField",
    "default_value",
    "mappable_field",
    "searchable_fields",
]

MAPPABLE_OBJECTS = ("Account", "Contact", "Lead", "Opportunity")
"""The objects the spec's field-mapping page offers."""

CREATABLE_OBJECTS = frozenset({"Account", "Lead"})
"""The objects Hearth creates records of, so the only ones a default value applies to."""

SUPPORTED_TYPES = frozenset(
    {
        "string",
        "textarea",
        "email",
        "url",
        "phone",
        "picklist",
        "multipicklist",
        "combobox",
        "boolean",
        "int",
        "double",
        "currency",
        "percent",
        "date",
        "datetime",
        "reference",
        "id",
    }
)
"""Describe types whose values are one JSON scalar; compound types (address, location) and
binary ones (base64) are not offered."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SearchableField:
    """A custom field the admin may map: API name, label, describe type, picklist values."""

    name: str
    label: str
    type: str
    picklist_values: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldMapping:
    """A custom field an admin mapped: read into the mirror's `custom` JSON while `enabled`.

    `label` and `type` are describe's when the mapping was saved; `default` is the value Hearth
    writes when it creates a record (None: none); `warning` says why a mapping was disabled.
    """

    sobject: str
    field: str
    label: str
    type: str
    default: Any = None
    enabled: bool = True
    warning: str | None = None


def _searchable(field: Mapping[str, Any]) -> SearchableField | None:
    if not field.get("custom") or field.get("type") not in SUPPORTED_TYPES:
        return None
    return SearchableField(
        name=str(field["name"]),
        label=str(field.get("label") or field["name"]),
        type=str(field["type"]),
        picklist_values=tuple(
            str(p["value"]) for p in field.get("picklistValues") or [] if p.get("active", True)
        ),
    )


def searchable_fields(
    describe: Mapping[str, Any], mapped: Collection[str] = ()
) -> list[SearchableField]:
    """The object's custom fields an admin may still map, by label; `mapped` are left out."""
    taken = {name.lower() for name in mapped}
    found = (_searchable(f) for f in describe.get("fields", []))
    return sorted(
        (f for f in found if f is not None and f.name.lower() not in taken),
        key=lambda f: (f.label.lower(), f.name),
    )


def mappable_field(describe: Mapping[str, Any], name: str) -> SearchableField:
    """The custom field `name` of the described object, or `InvalidInputError` saying why not."""
    sobject = str(describe.get("name"))
    if sobject not in MAPPABLE_OBJECTS:
        raise InvalidInputError(f"custom fields of {sobject} are not synced")
    for field in describe.get("fields", []):
        if str(field["name"]).lower() == name.lower():
            searchable = _searchable(field)
            if searchable is None:
                raise InvalidInputError(
                    f"{sobject}.{field['name']} cannot be synced: only custom fields of a "
                    f"simple type are (it is a {field.get('type')} field"
                    f"{'' if field.get('custom') else ', and a standard one'})"
                )
            return searchable
    raise InvalidInputError(
        f"{sobject}.{name} does not exist in Salesforce, or Hearth's Salesforce user cannot "
        "read it (check its field-level security)"
    )


def default_value(sobject: str, field: SearchableField, text: str | None) -> Any:
    """The "value if Hearth creates record" for `field`, as JSON, checked against its type.

    None or blank means no default. Raises `InvalidInputError` for a value the field cannot
    take, or for an object Hearth never creates records of.
    """
    if text is None or not text.strip():
        return None
    if sobject not in CREATABLE_OBJECTS:
        raise InvalidInputError(f"Hearth never creates {sobject} records, so it has no default")
    value = text.strip()
    try:
        if field.type == "boolean":
            if value.lower() not in ("true", "false"):
                raise ValueError(value)
            return value.lower() == "true"
        if field.type == "int":
            return int(value)
        if field.type in ("double", "currency", "percent"):
            return float(value)
        if field.type == "date":
            return date.fromisoformat(value).isoformat()
        if field.type == "datetime":
            return datetime.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise InvalidInputError(f"{value!r} is not a valid {field.type} value") from exc
    if field.type == "picklist" and field.picklist_values and value not in field.picklist_values:
        raise InvalidInputError(f"{value!r} is not a value of the picklist {field.name}")
    return value
