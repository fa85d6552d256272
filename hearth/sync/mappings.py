"""The admin's custom-field mappings: stored per workspace and object, and the rules for them.

The web UI calls these with an open `Session`; they flush and never commit (the caller owns the
transaction). Adding a field checks it against the object's describe, which the caller fetches
(`SalesforceClient.describe`), and marks the object for re-sync, so the next cycle reads the
new field into every mirror row's `custom` JSON. Removing a mapping needs no re-sync: the field
stops being read, and `segment_fields` stops offering it.

    fields = searchable_fields(describe, mapped=[m.field for m in list_mappings(s, ws, "Account")])
    add_mapping(s, ws, describe, "Tier__c", default="Gold")
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.orm import Session

from hearth.errors import NotFoundError
from hearth.sync.fields import FieldMapping, default_value, mappable_field
from hearth.sync.state import request_resync
from hearth.sync.tables import sync_field_mappings

__all__ = [
    "CRM_COMPANY",
    "CRM_CONTACT",
    "add_mapping",
    "disable_mapping",
    "list_mappings",
    "remove_mapping",
    "segment_fields",
]

CRM_COMPANY = "CRM Company"
CRM_CONTACT = "CRM Contact"

# The spec's segment categories: Account fields describe the company, Contact and Lead fields
# the person. Opportunity fields have no category yet.
_SEGMENT_CATEGORIES: Mapping[str, str] = {
    "Account": CRM_COMPANY,
    "Contact": CRM_CONTACT,
    "Lead": CRM_CONTACT,
}

_t = sync_field_mappings


def _mapping(row: Row[Any]) -> FieldMapping:
    return FieldMapping(
        sobject=row.sobject,
        field=row.field,
        label=row.label,
        type=row.field_type,
        default=row.default_value,
        enabled=row.enabled,
        warning=row.warning,
    )


def list_mappings(
    session: Session, workspace_id: int, sobject: str | None = None
) -> list[FieldMapping]:
    """The workspace's mappings (of one object, if given), enabled or not, by object and field."""
    query = select(_t).where(_t.c.workspace_id == workspace_id)
    if sobject is not None:
        query = query.where(_t.c.sobject == sobject)
    rows = session.execute(query.order_by(_t.c.sobject, _t.c.field)).all()
    return [_mapping(row) for row in rows]


def add_mapping(
    session: Session,
    workspace_id: int,
    describe: Mapping[str, Any],
    field: str,
    *,
    default: str | None = None,
    now: datetime | None = None,
) -> FieldMapping:
    """Map the custom field `field` of the described object, and mark the object for re-sync.

    Mapping a field again replaces its default and re-enables it if drift had disabled it.
    Raises `InvalidInputError` when the field does not exist, cannot be read or synced, or the
    default does not fit it.
    """
    sobject = str(describe.get("name"))
    found = mappable_field(describe, field)
    mapping = FieldMapping(
        sobject=sobject,
        field=found.name,
        label=found.label,
        type=found.type,
        default=default_value(sobject, found, default),
    )
    _delete(session, workspace_id, sobject, found.name)
    session.execute(
        insert(_t).values(
            workspace_id=workspace_id,
            sobject=sobject,
            field=mapping.field,
            label=mapping.label,
            field_type=mapping.type,
            default_value=mapping.default,
            enabled=True,
            warning=None,
            created_at=now or datetime.now(UTC),
        )
    )
    request_resync(session, workspace_id, sobject)
    return mapping


def remove_mapping(session: Session, workspace_id: int, sobject: str, field: str) -> None:
    """Stop reading `field`; raises `NotFoundError` if it is not mapped."""
    if not _delete(session, workspace_id, sobject, field):
        raise NotFoundError("field mapping", f"{sobject}.{field}")


def disable_mapping(
    session: Session, workspace_id: int, sobject: str, field: str, warning: str
) -> None:
    """Stop reading `field` but keep the mapping, with `warning` saying why."""
    session.execute(
        update(_t)
        .where(_t.c.workspace_id == workspace_id, _t.c.sobject == sobject, _t.c.field == field)
        .values(enabled=False, warning=warning)
    )


def segment_fields(session: Session, workspace_id: int) -> dict[str, list[FieldMapping]]:
    """The enabled custom fields segments can filter on, under "CRM Company" and "CRM Contact"."""
    grouped: dict[str, list[FieldMapping]] = {CRM_COMPANY: [], CRM_CONTACT: []}
    for mapping in list_mappings(session, workspace_id):
        category = _SEGMENT_CATEGORIES.get(mapping.sobject)
        if mapping.enabled and category is not None:
            grouped[category].append(mapping)
    return grouped


def _delete(session: Session, workspace_id: int, sobject: str, field: str) -> bool:
    result = session.execute(
        delete(_t).where(
            _t.c.workspace_id == workspace_id,
            _t.c.sobject == sobject,
            func.lower(_t.c.field) == field.lower(),
        )
    )
    return bool(getattr(result, "rowcount", 0))
