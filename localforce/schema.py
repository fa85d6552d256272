"""The org's schema: objects, their fields, and the relationships between them.

Describe, validation, storage and the SOQL compiler all read this one registry, so a custom field
added at run time becomes visible to all of them at once. Names are matched case-insensitively, as
Salesforce does, and reported in their canonical casing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum

__all__ = [
    "ChildRelationship",
    "FieldDef",
    "FieldType",
    "ObjectDef",
    "PicklistValue",
    "Schema",
]


class FieldType(StrEnum):
    """Describe's `type` values that localforce implements."""

    ID = "id"
    STRING = "string"
    TEXTAREA = "textarea"
    EMAIL = "email"
    URL = "url"
    PHONE = "phone"
    PICKLIST = "picklist"
    MULTIPICKLIST = "multipicklist"
    COMBOBOX = "combobox"
    REFERENCE = "reference"
    BOOLEAN = "boolean"
    INT = "int"
    DOUBLE = "double"
    CURRENCY = "currency"
    PERCENT = "percent"
    DATE = "date"
    DATETIME = "datetime"

    @property
    def is_text(self) -> bool:
        return self in _TEXT_TYPES

    @property
    def is_number(self) -> bool:
        return self in _NUMBER_TYPES


_TEXT_TYPES = frozenset(
    {
        FieldType.ID,
        FieldType.STRING,
        FieldType.TEXTAREA,
        FieldType.EMAIL,
        FieldType.URL,
        FieldType.PHONE,
        FieldType.PICKLIST,
        FieldType.MULTIPICKLIST,
        FieldType.COMBOBOX,
        FieldType.REFERENCE,
    }
)
_NUMBER_TYPES = frozenset({FieldType.INT, FieldType.DOUBLE, FieldType.CURRENCY, FieldType.PERCENT})


@dataclass(frozen=True, slots=True, kw_only=True)
class PicklistValue:
    value: str
    label: str
    default: bool = False
    active: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldDef:
    """One field, with the describe attributes that change behaviour."""

    name: str
    label: str
    type: FieldType
    length: int = 0
    precision: int = 0
    scale: int = 0
    digits: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    default_value: str | bool | float | None = None
    picklist: tuple[PicklistValue, ...] = ()
    restricted_picklist: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    # Name of the child relationship this lookup creates on its parent (Account.Contacts).
    child_relationship: str | None = None
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False
    custom: bool = False
    name_field: bool = False
    id_lookup: bool = False
    calculated: bool = False
    html_formatted: bool = False
    description: str | None = None
    inline_help_text: str | None = None
    # Rows a text area or multi-select picklist shows in the UI (Tooling's `visibleLines`).
    visible_lines: int | None = None

    @property
    def required_on_create(self) -> bool:
        return not self.nillable and self.createable and not self.defaulted_on_create

    def picklist_value(self, value: str) -> PicklistValue | None:
        folded = value.casefold()
        for entry in self.picklist:
            if entry.value.casefold() == folded:
                return entry
        return None

    @property
    def default_picklist_value(self) -> str | None:
        for entry in self.picklist:
            if entry.default:
                return entry.value
        return None


@dataclass(frozen=True, slots=True)
class ChildRelationship:
    name: str
    child_object: str
    field: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectDef:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: tuple[FieldDef, ...]
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    queryable: bool = True
    # getUpdated/getDeleted serve it (describe's `replicateable`).
    replicateable: bool = True
    custom: bool = False
    _by_lower: dict[str, FieldDef] = field(default_factory=dict, compare=False, repr=False)
    _by_relationship: dict[str, FieldDef] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for f in self.fields:
            self._by_lower[f.name.lower()] = f
            if f.relationship_name:
                self._by_relationship[f.relationship_name.lower()] = f

    def field(self, name: str) -> FieldDef | None:
        """The field named `name`, matched case-insensitively."""
        return self._by_lower.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The lookup field whose relationship is called `name` (`Account`, `Owner`)."""
        return self._by_relationship.get(name.lower())

    def with_field(self, new: FieldDef) -> ObjectDef:
        return replace(self, fields=(*self.fields, new), _by_lower={}, _by_relationship={})

    def without_field(self, name: str) -> ObjectDef:
        kept = tuple(f for f in self.fields if f.name.lower() != name.lower())
        return replace(self, fields=kept, _by_lower={}, _by_relationship={})

    @property
    def custom_fields(self) -> Iterator[FieldDef]:
        return (f for f in self.fields if f.custom)


class Schema:
    """A case-insensitive registry of objects; copy-on-write per object."""

    def __init__(self, objects: Iterable[ObjectDef]) -> None:
        self._objects: dict[str, ObjectDef] = {}
        self._by_prefix: dict[str, ObjectDef] = {}
        self._children: dict[str, dict[str, ChildRelationship]] = {}
        self.version = 0
        for obj in objects:
            self._objects[obj.name.lower()] = obj
        self._reindex()

    def _reindex(self) -> None:
        self._by_prefix = {o.key_prefix: o for o in self._objects.values()}
        self._children = {name: {} for name in self._objects}
        for child in self._objects.values():
            for f in child.fields:
                if not f.child_relationship:
                    continue
                for parent in f.reference_to:
                    rel = ChildRelationship(f.child_relationship, child.name, f.name)
                    self._children.setdefault(parent.lower(), {})[rel.name.lower()] = rel
        self.version += 1

    def __iter__(self) -> Iterator[ObjectDef]:
        return iter(self._objects.values())

    def get(self, name: str) -> ObjectDef | None:
        return self._objects.get(name.lower())

    def by_prefix(self, key_prefix: str) -> ObjectDef | None:
        return self._by_prefix.get(key_prefix)

    def child_relationships(self, parent: str) -> list[ChildRelationship]:
        return list(self._children.get(parent.lower(), {}).values())

    def child_relationship(self, parent: str, name: str) -> ChildRelationship | None:
        return self._children.get(parent.lower(), {}).get(name.lower())

    def replace_object(self, obj: ObjectDef) -> None:
        self._objects[obj.name.lower()] = obj
        self._reindex()
