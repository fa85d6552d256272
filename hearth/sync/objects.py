"""What the read sync asks Salesforce for, and how an answer becomes a mirror record. Pure.

For each mirrored object, `plan_object(sobject, describe, custom, ...)` decides the fields to
select: the standard fields the mirror's records need, the ones only some orgs have (read from
describe), then the admin's mapped custom fields. The SOQL builders turn that plan into the
queries of a full pass, an incremental pass, a deletion pass and a look-up by Id; every literal
goes through `hearth.salesforce.soql.quote`. `to_synced(plan, row)` turns one row, from the REST
API (typed JSON, parents nested) or from Bulk API 2.0 (CSV text, parents as dotted columns,
empty for null), into the same `Synced` record.

Two spec fields are read as follows:

- Opportunity "Pipeline Name" is `RecordType.Name`, the name of the Opportunity's record type.
  An org without Opportunity record types has no RecordTypeId field on Opportunity, so nothing
  is selected and the name is None; an org with them but a record without one gives None too.
- Opportunity "Active Date" is a configurable Opportunity date or date-time field
  (`active_date_field`, LastActivityDate by default: the latest task or event date). A date-time
  field is cut to its UTC date; a field the org lacks or that is no date leaves it None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hearth.mirror.records import CrmAccount, CrmContact, CrmLead, CrmOpportunity, CrmUser
from hearth.mirror.repository import Synced
from hearth.salesforce.soql import identifier, quote

__all__ = [
    "SYNCED_OBJECTS",
    "CustomField",
    "ObjectPlan",
    "by_ids_soql",
    "changes_soql",
    "converted_targets",
    "count_soql",
    "custom_value",
    "deletions_soql",
    "flatten",
    "full_pass_soql",
    "plan_object",
    "system_modstamp",
    "to_synced",
]

SYNCED_OBJECTS = ("User", "Account", "Contact", "Opportunity", "Lead")
"""The objects the sync mirrors, in the order a cycle visits them: owners first, then Accounts
before the records that point at them, and Leads last, so the Contacts and Accounts a
conversion made are usually in the mirror by the time their Lead is read."""

_STANDARD: Mapping[str, tuple[str, ...]] = {
    "User": ("Id", "Name", "Email"),
    "Account": (
        "Id",
        "Name",
        "Website",
        "OwnerId",
        "Type",
        "ParentId",
        "CreatedDate",
        "LastModifiedDate",
        "LastActivityDate",
    ),
    "Contact": ("Id", "AccountId", "Email", "Name", "Title", "OwnerId"),
    "Lead": (
        "Id",
        "Email",
        "Name",
        "Title",
        "Company",
        "OwnerId",
        "IsConverted",
        "ConvertedContactId",
        "ConvertedAccountId",
    ),
    "Opportunity": (
        "Id",
        "AccountId",
        "Name",
        "StageName",
        "Amount",
        "CloseDate",
        "IsClosed",
        "IsWon",
        "OwnerId",
    ),
}

_MODSTAMP = "SystemModstamp"
_PIPELINE = "RecordType.Name"
# Merges are reported on the losing record, which Salesforce deletes with this field set.
_MASTER = "MasterRecordId"
_DATE_TYPES = frozenset({"date", "datetime"})
_BOOLEAN_TYPES = frozenset({"boolean"})
_INTEGER_TYPES = frozenset({"int"})
_NUMBER_TYPES = frozenset({"double", "currency", "percent"})


@dataclass(frozen=True, kw_only=True, slots=True)
class CustomField:
    """A mapped custom field to read: its API name and describe type."""

    name: str
    type: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ObjectPlan:
    """What the sync selects from one object, decided from its describe.

    `tracks_deletions`: the object can be deleted and has IsDeleted, so a deletion pass runs.
    `merges`: deleted records carry MasterRecordId (Account, Contact and Lead in a real org).
    """

    sobject: str
    fields: tuple[str, ...]
    custom: tuple[CustomField, ...] = ()
    active_date_field: str | None = None
    tracks_deletions: bool = True
    merges: bool = False

    @property
    def select(self) -> str:
        names = [*self.fields, *(c.name for c in self.custom), _MODSTAMP]
        return ", ".join(identifier(n) for n in dict.fromkeys(names))


def plan_object(
    sobject: str,
    describe: Mapping[str, Any],
    custom: Iterable[CustomField] = (),
    *,
    active_date_field: str = "LastActivityDate",
) -> ObjectPlan:
    """The fields to select from `sobject`, given its describe and the mapped custom fields."""
    described = {str(f["name"]): f for f in describe.get("fields", [])}
    fields = list(_STANDARD[sobject])
    active: str | None = None
    if sobject == "Opportunity":
        if "RecordTypeId" in described:
            fields.append(_PIPELINE)
        field = described.get(active_date_field)
        if field is not None and field.get("type") in _DATE_TYPES:
            active = str(field["name"])
            fields.append(active)
    return ObjectPlan(
        sobject=sobject,
        fields=tuple(fields),
        custom=tuple(custom),
        active_date_field=active,
        tracks_deletions=bool(describe.get("deletable")) and "IsDeleted" in described,
        merges=_MASTER in described,
    )


# -- SOQL ----------------------------------------------------------------------------------------


def count_soql(plan: ObjectPlan) -> str:
    """How many records a full pass reads; the answer's one row holds it as `total`.

    `COUNT(Id)` with an alias rather than `COUNT()`: the client hands back records, not the
    `totalSize` that `COUNT()` answers with.
    """
    return f"SELECT COUNT(Id) total FROM {identifier(plan.sobject)}"


def full_pass_soql(plan: ObjectPlan, after_id: str | None) -> str:
    """Every live record, in Id order, after the last Id a committed batch held.

    Id order is what lets a killed pass resume where it stopped, on REST and Bulk alike.
    """
    where = f" WHERE Id > {quote(after_id)}" if after_id else ""
    return f"SELECT {plan.select} FROM {identifier(plan.sobject)}{where} ORDER BY Id"


def changes_soql(plan: ObjectPlan, since: datetime) -> str:
    """Live records changed at or after `since`, oldest change first."""
    return (
        f"SELECT {plan.select} FROM {identifier(plan.sobject)} "
        f"WHERE {_MODSTAMP} >= {quote(since)} ORDER BY {_MODSTAMP}, Id"
    )


def deletions_soql(plan: ObjectPlan, since: datetime) -> str:
    """Records deleted at or after `since` (for `queryAll`), oldest first."""
    fields = ["Id", _MODSTAMP, *([_MASTER] if plan.merges else [])]
    return (
        f"SELECT {', '.join(fields)} FROM {identifier(plan.sobject)} "
        f"WHERE IsDeleted = true AND {_MODSTAMP} >= {quote(since)} ORDER BY {_MODSTAMP}, Id"
    )


def by_ids_soql(plan: ObjectPlan) -> str:
    """A template for `in_list_chunks("Id", ids, query=...)`: the plan's fields of given Ids."""
    return f"SELECT {plan.select} FROM {identifier(plan.sobject)} WHERE {{}}"


# -- rows ----------------------------------------------------------------------------------------


def flatten(row: Mapping[str, Any]) -> dict[str, Any]:
    """A REST or Bulk row as one flat dict: parents as dotted keys, blanks as None."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if key == "attributes":
            continue
        if isinstance(value, Mapping):
            flat.update({f"{key}.{k}": v for k, v in flatten(value).items()})
        else:
            flat[key] = None if value == "" else value
    return flat


def system_modstamp(row: Mapping[str, Any]) -> datetime:
    """The flattened row's SystemModstamp."""
    stamp = _datetime(row.get(_MODSTAMP))
    if stamp is None:
        raise ValueError(f"a row without {_MODSTAMP}: {row.get('Id')}")
    return stamp


def custom_value(field_type: str, value: Any) -> Any:
    """A custom field's value as the mirror's JSON keeps it, the same from REST and Bulk."""
    if value is None or value == "":
        return None
    if field_type in _BOOLEAN_TYPES:
        return _bool(value)
    if field_type in _INTEGER_TYPES:
        return int(float(value))
    if field_type in _NUMBER_TYPES:
        return float(value)
    return str(value)


def to_synced(plan: ObjectPlan, row: Mapping[str, Any]) -> Synced[Any]:
    """The mirror record, SystemModstamp and custom values of one flattened row."""
    record = _BUILDERS[plan.sobject](plan, row)
    custom = {c.name: custom_value(c.type, row.get(c.name)) for c in plan.custom}
    return Synced(record=record, system_modstamp=system_modstamp(row), custom=custom)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _required(row: Mapping[str, Any], name: str) -> str:
    # A field Salesforce never leaves blank (Name, StageName); a masked or missing value still
    # has to make a record, so it becomes the empty string rather than failing the batch.
    return _text(row.get(name)) or ""


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date(value: Any) -> date | None:
    if value is None:
        return None
    text = str(value)
    if "T" in text:
        stamp = _datetime(text)
        return None if stamp is None else stamp.astimezone(UTC).date()
    return date.fromisoformat(text)


def _decimal(value: Any) -> Decimal | None:
    # str() first: a float from JSON becomes the decimal it was written as, not its binary value.
    return None if value is None else Decimal(str(value))


def _user(plan: ObjectPlan, row: Mapping[str, Any]) -> CrmUser:
    return CrmUser(id=str(row["Id"]), name=_required(row, "Name"), email=_text(row.get("Email")))


def _account(plan: ObjectPlan, row: Mapping[str, Any]) -> CrmAccount:
    created = _datetime(row.get("CreatedDate")) or system_modstamp(row)
    return CrmAccount(
        id=str(row["Id"]),
        name=_required(row, "Name"),
        website=_text(row.get("Website")),
        owner_id=_text(row.get("OwnerId")),
        type=_text(row.get("Type")),
        parent_id=_text(row.get("ParentId")),
        created_date=created,
        last_modified_date=_datetime(row.get("LastModifiedDate")) or created,
        last_activity_date=_date(row.get("LastActivityDate")),
    )


def _contact(plan: ObjectPlan, row: Mapping[str, Any]) -> CrmContact:
    return CrmContact(
        id=str(row["Id"]),
        account_id=_text(row.get("AccountId")),
        email=_text(row.get("Email")),
        name=_required(row, "Name"),
        title=_text(row.get("Title")),
        owner_id=_text(row.get("OwnerId")),
    )


def _lead(plan: ObjectPlan, row: Mapping[str, Any]) -> CrmLead:
    return CrmLead(
        id=str(row["Id"]),
        email=_text(row.get("Email")),
        name=_required(row, "Name"),
        title=_text(row.get("Title")),
        company=_text(row.get("Company")),
        owner_id=_text(row.get("OwnerId")),
        is_converted=_bool(row.get("IsConverted")),
        converted_contact_id=_text(row.get("ConvertedContactId")),
        converted_account_id=_text(row.get("ConvertedAccountId")),
    )


def _opportunity(plan: ObjectPlan, row: Mapping[str, Any]) -> CrmOpportunity:
    close = _date(row.get("CloseDate"))
    if close is None:
        raise ValueError(f"an Opportunity without CloseDate: {row.get('Id')}")
    active = _date(row.get(plan.active_date_field)) if plan.active_date_field else None
    return CrmOpportunity(
        id=str(row["Id"]),
        account_id=_text(row.get("AccountId")),
        name=_required(row, "Name"),
        stage_name=_required(row, "StageName"),
        amount=_decimal(row.get("Amount")),
        close_date=close,
        is_closed=_bool(row.get("IsClosed")),
        is_won=_bool(row.get("IsWon")),
        owner_id=_text(row.get("OwnerId")),
        record_type_name=_text(row.get(_PIPELINE)),
        active_date=active,
    )


_BUILDERS: Mapping[str, Callable[[ObjectPlan, Mapping[str, Any]], Any]] = {
    "User": _user,
    "Account": _account,
    "Contact": _contact,
    "Lead": _lead,
    "Opportunity": _opportunity,
}


def converted_targets(leads: Sequence[Synced[Any]]) -> tuple[set[str], set[str]]:
    """The Contact and Account Ids that converted Leads in a batch name."""
    contacts = {s.record.converted_contact_id for s in leads if s.record.converted_contact_id}
    accounts = {s.record.converted_account_id for s in leads if s.record.converted_account_id}
    return contacts, accounts
