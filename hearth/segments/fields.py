"""The fields segments filter on: built-in ones as data, custom CRM fields from mappings. Pure.

Every field has a key (``visitor.page_views``, ``crm_company.custom.Tier__c``), a label, a
group (the spec's categories: Visitor, Company, CRM Company, CRM Contact) and a `FieldType`,
which decides the operators a condition on it may use (`hearth.segments.rules`).

Custom fields come from the admin's `FieldMapping`s (``hearth.sync.mappings.segment_fields``):
an Account field becomes ``crm_company.custom.<API name>`` under "CRM Company"; a Contact or Lead
field becomes ``crm_contact.custom.<API name>`` under "CRM Contact" (a person is a Contact or a
Lead, so a field both objects have, such as ``Tier__c``, is one segment field). Salesforce's
describe types map to segment types by `SALESFORCE_TYPES`; mappings that cannot be a segment
field (another type, an Opportunity field, a disabled mapping, a Lead field whose type differs
from the Contact field of the same name) are left out and listed in `FieldCatalogue.skipped`
with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from hearth.segments.operators import FieldType, operators_for
from hearth.sync.fields import FieldMapping
from hearth.tracking.events import IdentificationSource

__all__ = [
    "BUILTIN_FIELDS",
    "SALESFORCE_TYPES",
    "Field",
    "FieldCatalogue",
    "FieldType",
    "Group",
    "SkippedMapping",
    "catalogue",
    "custom_field_key",
]


class Group(StrEnum):
    """The spec's field categories, as the segment editor shows them."""

    VISITOR = "Visitor"
    COMPANY = "Company"
    CRM_COMPANY = "CRM Company"
    CRM_CONTACT = "CRM Contact"


@dataclass(frozen=True, kw_only=True, slots=True)
class Field:
    """One field segments can filter on.

    `values` are a picklist's allowed values; empty for other types, and for a picklist whose
    values are not known (then any value is accepted).
    """

    key: str
    label: str
    group: Group
    type: FieldType
    values: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The field as the API lists it, with the operators a condition on it may use."""
        return {
            "key": self.key,
            "label": self.label,
            "group": self.group.value,
            "type": self.type.value,
            "values": list(self.values),
            "operators": [op.value for op in operators_for(self.type)],
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class SkippedMapping:
    """A custom-field mapping that is not a segment field, and why."""

    mapping: FieldMapping
    reason: str


def _f(key: str, label: str, group: Group, type_: FieldType, values: Sequence[str] = ()) -> Field:
    return Field(key=key, label=label, group=group, type=type_, values=tuple(values))


_V, _C, _CC, _CP = Group.VISITOR, Group.COMPANY, Group.CRM_COMPANY, Group.CRM_CONTACT
_TEXT, _NUM, _BOOL = FieldType.TEXT, FieldType.NUMBER, FieldType.BOOLEAN
_DT, _D, _LIST, _PICK = FieldType.DATETIME, FieldType.DATE, FieldType.TEXT_LIST, FieldType.PICKLIST

BUILTIN_FIELDS: Final[tuple[Field, ...]] = (
    # The visitor: who they are and what they did (hearth.tracking.aggregates).
    _f("visitor.email", "Email", _V, _TEXT),
    _f("visitor.identified", "Identified (email known)", _V, _BOOL),
    _f(
        "visitor.identification_source",
        "Identification source",
        _V,
        _PICK,
        [source.value for source in IdentificationSource],
    ),
    _f("visitor.name", "Name", _V, _TEXT),
    _f("visitor.title", "Job title", _V, _TEXT),
    _f("visitor.first_seen", "First seen", _V, _DT),
    _f("visitor.last_seen", "Last seen", _V, _DT),
    _f("visitor.page_views", "Pages viewed", _V, _NUM),
    _f("visitor.sessions", "Sessions", _V, _NUM),
    _f("visitor.active_seconds", "Active time (seconds)", _V, _NUM),
    _f("visitor.last_session_pages", "Pages of the last session", _V, _LIST),
    _f("visitor.utm_campaigns", "UTM campaigns", _V, _LIST),
    _f("visitor.utm_contents", "UTM contents", _V, _LIST),
    _f("visitor.utm_mediums", "UTM mediums", _V, _LIST),
    _f("visitor.utm_sources", "UTM sources", _V, _LIST),
    # The visitor's company (or the company itself), over all of its visitors.
    _f("company.domain", "Domain", _C, _TEXT),
    _f("company.name", "Name", _C, _TEXT),
    _f("company.visitor_count", "Visitors", _C, _NUM),
    _f("company.last_seen", "Last seen", _C, _DT),
    _f("company.page_views", "Pages viewed", _C, _NUM),
    _f("company.sessions", "Sessions", _C, _NUM),
    _f("company.active_seconds", "Active time (seconds)", _C, _NUM),
    _f("company.last_session_pages", "Pages of the last session", _C, _LIST),
    _f("company.utm_campaigns", "UTM campaigns", _C, _LIST),
    _f("company.utm_contents", "UTM contents", _C, _LIST),
    _f("company.utm_mediums", "UTM mediums", _C, _LIST),
    _f("company.utm_sources", "UTM sources", _C, _LIST),
    # The matched Salesforce Account and the company's roll-ups (hearth.matching.match).
    _f("crm_company.exists", "In Salesforce (an Account matches)", _CC, _BOOL),
    _f("crm_company.name", "Account name", _CC, _TEXT),
    _f("crm_company.website", "Website", _CC, _TEXT),
    _f("crm_company.type", "Type", _CC, _PICK),
    _f("crm_company.owner_name", "Account owner", _CC, _TEXT),
    _f("crm_company.is_customer", "Is a customer", _CC, _BOOL),
    _f("crm_company.created_date", "Created date", _CC, _DT),
    _f("crm_company.last_activity_date", "Last activity date", _CC, _D),
    _f("crm_company.account_count", "Accounts with the domain", _CC, _NUM),
    _f("crm_company.contact_count", "Contacts", _CC, _NUM),
    _f("crm_company.lead_count", "Open Leads", _CC, _NUM),
    _f("crm_company.opportunity_count", "Opportunities", _CC, _NUM),
    _f("crm_company.open_opportunity_count", "Open opportunities", _CC, _NUM),
    _f("crm_company.has_open_opportunity", "Has an open opportunity", _CC, _BOOL),
    _f("crm_company.has_won_opportunity", "Has a won opportunity", _CC, _BOOL),
    _f("crm_company.opportunity_stages", "Opportunity stages", _CC, _LIST),
    _f("crm_company.latest_close_date", "Latest opportunity close date", _CC, _D),
    # The Contact or Lead the visitor is.
    _f("crm_contact.exists", "In Salesforce (a Contact or Lead matches)", _CP, _BOOL),
    _f("crm_contact.object", "Record type", _CP, _PICK, ["Contact", "Lead"]),
    _f("crm_contact.name", "Name", _CP, _TEXT),
    _f("crm_contact.email", "Email", _CP, _TEXT),
    _f("crm_contact.title", "Title", _CP, _TEXT),
    _f("crm_contact.owner_name", "Owner", _CP, _TEXT),
)
"""The built-in fields, in the order the segment editor lists them."""

SALESFORCE_TYPES: Final[Mapping[str, FieldType]] = {
    "string": FieldType.TEXT,
    "textarea": FieldType.TEXT,
    "url": FieldType.TEXT,
    "email": FieldType.TEXT,
    "phone": FieldType.TEXT,
    "combobox": FieldType.TEXT,
    "picklist": FieldType.PICKLIST,
    "multipicklist": FieldType.TEXT_LIST,
    "double": FieldType.NUMBER,
    "currency": FieldType.NUMBER,
    "percent": FieldType.NUMBER,
    "int": FieldType.NUMBER,
    "boolean": FieldType.BOOLEAN,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
}
"""Salesforce describe types → segment types; other types (reference, id, ...) are skipped."""

_PREFIXES: Final[Mapping[str, tuple[str, Group]]] = {
    "Account": ("crm_company.custom.", Group.CRM_COMPANY),
    "Contact": ("crm_contact.custom.", Group.CRM_CONTACT),
    "Lead": ("crm_contact.custom.", Group.CRM_CONTACT),
}


def custom_field_key(mapping: FieldMapping) -> str | None:
    """The segment field key of a mapped custom field; None for an object with no category."""
    prefix = _PREFIXES.get(mapping.sobject)
    return prefix[0] + mapping.field if prefix else None


@dataclass(frozen=True, slots=True)
class FieldCatalogue:
    """The fields a workspace's segments can use, in listing order, looked up by key.

    Keys are case-sensitive for built-in fields; a custom field is also found by its key in any
    case (Salesforce API names are case-insensitive), `get` returning the catalogue's spelling.
    """

    fields: tuple[Field, ...]
    skipped: tuple[SkippedMapping, ...] = ()
    _by_key: Mapping[str, Field] = field(init=False, repr=False, compare=False)
    _by_folded_key: Mapping[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key: dict[str, Field] = {}
        for item in self.fields:
            if item.key in by_key:
                raise ValueError(f"field {item.key!r} is in the catalogue twice")
            by_key[item.key] = item
        object.__setattr__(self, "_by_key", by_key)
        object.__setattr__(
            self,
            "_by_folded_key",
            {f.key.casefold(): f for f in self.fields if ".custom." in f.key},
        )

    def get(self, key: str) -> Field | None:
        """The field with this key, or None."""
        return self._by_key.get(key) or self._by_folded_key.get(key.casefold())

    def __getitem__(self, key: str) -> Field:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def by_group(self) -> dict[Group, tuple[Field, ...]]:
        """The fields of each group, every group present, in listing order."""
        return {g: tuple(f for f in self.fields if f.group is g) for g in Group}

    def to_json(self) -> list[dict[str, Any]]:
        """Every field as the API lists it (`Field.to_json`)."""
        return [f.to_json() for f in self.fields]


def catalogue(
    custom: Sequence[FieldMapping] = (),
    *,
    picklist_values: Mapping[str, Sequence[str]] | None = None,
) -> FieldCatalogue:
    """The built-in fields plus the custom fields of `custom`, which may be in any order.

    `picklist_values` gives the values of picklist fields by segment key (built-in, such as
    ``crm_company.type``, or custom, see `custom_field_key`), read from describe by the caller;
    a picklist without known values accepts any value. Custom fields follow the built-in ones,
    CRM Company before CRM Contact, each by label then key.
    """
    known = dict(picklist_values or {})
    fields = [_with_values(f, known.get(f.key)) for f in BUILTIN_FIELDS]
    skipped: list[SkippedMapping] = []
    custom_fields: dict[str, tuple[Field, FieldMapping]] = {}
    # Contact before Lead, so that a Contact field wins a type conflict with a Lead field.
    order = {"Account": 0, "Contact": 1, "Lead": 2}
    for mapping in sorted(custom, key=lambda m: (order.get(m.sobject, 3), m.sobject, m.field)):
        made = _custom_field(mapping, known)
        if isinstance(made, str):
            skipped.append(SkippedMapping(mapping=mapping, reason=made))
            continue
        folded = made.key.casefold()
        existing = custom_fields.get(folded)
        if existing is None:
            custom_fields[folded] = (made, mapping)
        elif existing[0].type is not made.type:
            skipped.append(
                SkippedMapping(
                    mapping=mapping,
                    reason=(
                        f"{existing[1].sobject}.{existing[1].field} is a {existing[0].type} "
                        f"field of the same name, which {made.key} already stands for"
                    ),
                )
            )
        else:
            merged_values = tuple(dict.fromkeys((*existing[0].values, *made.values)))
            merged = Field(
                key=existing[0].key,
                label=existing[0].label,
                group=existing[0].group,
                type=existing[0].type,
                values=merged_values if existing[0].values and made.values else (),
            )
            custom_fields[folded] = (merged, existing[1])
    ordered = sorted(
        (f for f, _ in custom_fields.values()),
        key=lambda f: (f.group is not Group.CRM_COMPANY, f.label.casefold(), f.key),
    )
    return FieldCatalogue(fields=(*fields, *ordered), skipped=tuple(skipped))


def _custom_field(mapping: FieldMapping, known: Mapping[str, Sequence[str]]) -> Field | str:
    """The segment field of one mapping, or the reason it cannot be one."""
    name = f"{mapping.sobject}.{mapping.field}"
    prefix = _PREFIXES.get(mapping.sobject)
    if prefix is None:
        return f"{mapping.sobject} fields have no segment category"
    if not mapping.enabled:
        return f"{name} is disabled" + (f": {mapping.warning}" if mapping.warning else "")
    field_type = SALESFORCE_TYPES.get(mapping.type)
    if field_type is None:
        return f"{name} is a {mapping.type} field, which segments cannot filter on"
    key = prefix[0] + mapping.field
    values = known.get(key, ()) if field_type is FieldType.PICKLIST else ()
    return Field(
        key=key,
        label=mapping.label or mapping.field,
        group=prefix[1],
        type=field_type,
        values=_distinct(values),
    )


def _with_values(item: Field, values: Sequence[str] | None) -> Field:
    if values is None or item.type is not FieldType.PICKLIST:
        return item
    return Field(
        key=item.key, label=item.label, group=item.group, type=item.type, values=_distinct(values)
    )


def _distinct(values: Sequence[str]) -> tuple[str, ...]:
    """`values` as strings, without repeats (case-insensitively), in their order."""
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(str(value).casefold(), str(value))
    return tuple(seen.values())
