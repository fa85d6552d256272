"""Lead conversion: a Lead becomes an Account, a Contact and optionally an Opportunity.

Follows Salesforce's convertLead(): standard lead fields map to the new records (Company →
Account Name, address → Billing/Mailing address, ...); merging into an existing Account or
Contact fills only its blank fields (LeadSource too when `overwrite_lead_source`); the Lead gets
IsConverted, ConvertedDate, Converted{Account,Contact,Opportunity}Id and a converted Status, and
is read-only from then on. Everything happens in one transaction. The new records go through
`Dml`, so defaults, validation and duplicate rules apply to them; the Lead and its related
records are changed by system writes, since a converted Lead refuses ordinary updates.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..dml import Dml, WriteOptions
from ..errors import RecordError
from ..org import Org
from ..schema import ObjectDef
from ..values import Stored, to_json

__all__ = ["ConversionError", "LeadConvert", "LeadConvertResult", "convert_lead"]

# Lead field → field of the new record (Salesforce's standard lead conversion mapping).
ACCOUNT_MAPPING: tuple[tuple[str, str], ...] = (
    ("Company", "Name"), ("Website", "Website"), ("Phone", "Phone"), ("Fax", "Fax"),
    ("Industry", "Industry"), ("AnnualRevenue", "AnnualRevenue"),
    ("NumberOfEmployees", "NumberOfEmployees"), ("Rating", "Rating"),
    ("LeadSource", "AccountSource"),  # [U] documented both ways; recent orgs map it
    ("Street", "BillingStreet"), ("City", "BillingCity"), ("State", "BillingState"),
    ("PostalCode", "BillingPostalCode"), ("Country", "BillingCountry"),
)  # fmt: skip
CONTACT_MAPPING: tuple[tuple[str, str], ...] = (
    ("Salutation", "Salutation"), ("FirstName", "FirstName"), ("LastName", "LastName"),
    ("Title", "Title"), ("Email", "Email"), ("Phone", "Phone"), ("MobilePhone", "MobilePhone"),
    ("Fax", "Fax"), ("Description", "Description"), ("LeadSource", "LeadSource"),
    ("HasOptedOutOfEmail", "HasOptedOutOfEmail"), ("DoNotCall", "DoNotCall"),
    ("Street", "MailingStreet"), ("City", "MailingCity"), ("State", "MailingState"),
    ("PostalCode", "MailingPostalCode"), ("Country", "MailingCountry"),
)  # fmt: skip
OPPORTUNITY_MAPPING: tuple[tuple[str, str], ...] = (("LeadSource", "LeadSource"),)


class ConversionError(Exception):
    """A conversion refused for its input (IDs, status, their combination); like any failure
    of the conversion, nothing it wrote stays."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, kw_only=True)
class LeadConvert:
    """convertLead()'s LeadConvert. A None status picks the org's first converted status."""

    lead_id: str
    converted_status: str | None = None
    account_id: str | None = None
    contact_id: str | None = None
    create_opportunity: bool = True
    opportunity_name: str | None = None
    owner_id: str | None = None
    overwrite_lead_source: bool = False


@dataclass(frozen=True, kw_only=True)
class LeadConvertResult:
    lead_id: str
    account_id: str
    contact_id: str
    opportunity_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "leadId": self.lead_id,
            "accountId": self.account_id,
            "contactId": self.contact_id,
            "opportunityId": self.opportunity_id,
        }


def _object(org: Org, name: str) -> ObjectDef:
    obj = org.object(name)
    assert obj is not None, name
    return obj


def _live_row(dml: Dml, obj: ObjectDef, record_id: str, what: str) -> dict[str, Any]:
    try:
        canonical = dml.canonical_id(obj, record_id)
    except RecordError:
        raise ConversionError(400, f"{what}: {record_id} is not a {obj.label} ID") from None
    row = dml.org.fetch_row(obj, canonical)
    if row is None or row["IsDeleted"]:
        # The lead is the resource in the URL; the other IDs are arguments in the body.
        status = 404 if what == "leadId" else 400
        raise ConversionError(status, f"{what}: no {obj.label} {record_id}")
    return row


def _converted_status(org: Org, wanted: str | None) -> str:
    row = org.conn.execute(
        'SELECT "ApiName" FROM "LeadStatus" WHERE "IsConverted" = 1 AND "IsDeleted" = 0 '
        'AND (? IS NULL OR "ApiName" = ? OR "MasterLabel" = ?) ORDER BY "SortOrder" LIMIT 1',
        (wanted, wanted, wanted),
    ).fetchone()
    if row is None:
        raise ConversionError(400, f"convertedStatus: {wanted} is not a converted lead status")
    return str(row[0])


def _owner(dml: Dml, owner_id: str | None, lead: Mapping[str, Any]) -> str:
    if owner_id is None:
        return str(lead["OwnerId"])
    row = _live_row(dml, _object(dml.org, "User"), owner_id, "ownerId")
    if not row["IsActive"]:
        raise ConversionError(400, f"ownerId: {owner_id} is not an active user")
    return str(row["Id"])


def _mapped(
    lead_obj: ObjectDef, lead: Mapping[str, Any], mapping: tuple[tuple[str, str], ...]
) -> dict[str, Any]:
    """The non-blank lead values under their target names, as JSON values for `Dml`."""
    out = {}
    for source, target in mapping:
        definition = lead_obj.field(source)
        assert definition is not None, source
        if lead.get(source) is not None:
            out[target] = to_json(definition, lead[source])
    return out


def _fill_blanks(
    dml: Dml,
    obj: ObjectDef,
    row: Mapping[str, Any],
    values: Mapping[str, Any],
    opts: WriteOptions,
    overwrite: frozenset[str] = frozenset(),
) -> None:
    """Merge into an existing record: only blank fields take the lead's values.

    Checkboxes are never blank, so an existing Contact keeps its DoNotCall and opt-outs, as in
    Salesforce.
    """
    changes = {k: v for k, v in values.items() if row.get(k) in (None, "") or k in overwrite}
    if changes:
        dml.update(obj, str(row["Id"]), changes, opts)


def _system_update(
    org: Org, obj: ObjectDef, record_id: str, values: Mapping[str, Stored], user_id: str
) -> None:
    now = org.now()
    org.update_row(
        obj,
        record_id,
        {**values, "LastModifiedDate": now, "LastModifiedById": user_id, "SystemModstamp": now},
    )


def _quarter_end(day: date) -> date:
    """Salesforce sets a converted opportunity's CloseDate to the end of the fiscal quarter
    (calendar quarters in an org without custom fiscal years)."""
    month = (day.month - 1) // 3 * 3 + 3
    return date(day.year, month, calendar.monthrange(day.year, month)[1])


def _latest_campaign(org: Org, lead_id: str) -> str | None:
    row = org.conn.execute(
        'SELECT "CampaignId" FROM "CampaignMember" WHERE "LeadId" = ? AND "IsDeleted" = 0 '
        'ORDER BY "CreatedDate" DESC, _rid DESC LIMIT 1',
        (lead_id,),
    ).fetchone()
    return None if row is None else str(row[0])


def _carry_over(org: Org, lead_id: str, contact_id: str, account_id: str, user_id: str) -> None:
    """Campaign memberships and activities of the lead now also belong to the contact [U]."""
    members = _object(org, "CampaignMember")
    for (member_id,) in org.conn.execute(
        'SELECT "Id" FROM "CampaignMember" WHERE "LeadId" = ? AND "IsDeleted" = 0 '
        'AND "ContactId" IS NULL AND "CampaignId" NOT IN (SELECT "CampaignId" FROM '
        '"CampaignMember" WHERE "ContactId" = ? AND "IsDeleted" = 0)',
        (lead_id, contact_id),
    ).fetchall():
        _system_update(org, members, member_id, {"ContactId": contact_id}, user_id)
    tasks = _object(org, "Task")
    for (task_id,) in org.conn.execute(
        'SELECT "Id" FROM "Task" WHERE "WhoId" = ? AND "IsDeleted" = 0', (lead_id,)
    ).fetchall():
        moved = {"WhoId": contact_id, "AccountId": account_id}
        _system_update(org, tasks, task_id, moved, user_id)


def convert_lead(dml: Dml, request: LeadConvert, opts: WriteOptions) -> LeadConvertResult:
    """Convert one lead; raises ConversionError for bad input and RecordError when a write of
    the new or merged records fails (validation or duplicate rules, required fields)."""
    org = dml.org
    lead_obj = _object(org, "Lead")
    account_obj, contact_obj = _object(org, "Account"), _object(org, "Contact")
    with org.transaction():
        lead = _live_row(dml, lead_obj, request.lead_id, "leadId")
        lead_id = str(lead["Id"])
        if lead["IsConverted"]:
            raise ConversionError(400, f"leadId: {lead_id} is already converted")
        status = _converted_status(org, request.converted_status)
        owner = _owner(dml, request.owner_id, lead)
        if request.contact_id is not None and request.account_id is None:
            raise ConversionError(400, "contactId needs the accountId the contact belongs to")
        today = org.clock.now().date()
        # Converted first, so that duplicate rules searching Leads skip this one while its
        # Contact is created.
        converted: dict[str, Stored] = {
            "IsConverted": 1,
            "Status": status,
            "ConvertedDate": today.isoformat(),
        }
        _system_update(org, lead_obj, lead_id, converted, opts.user_id)

        account_values = _mapped(lead_obj, lead, ACCOUNT_MAPPING)
        if request.account_id is not None:
            account = _live_row(dml, account_obj, request.account_id, "accountId")
            account_id = str(account["Id"])
            _fill_blanks(dml, account_obj, account, account_values, opts)
        else:
            account_id = dml.insert(account_obj, {**account_values, "OwnerId": owner}, opts)

        contact_values = _mapped(lead_obj, lead, CONTACT_MAPPING)
        if request.contact_id is not None:
            contact = _live_row(dml, contact_obj, request.contact_id, "contactId")
            if contact["AccountId"] != account_id:
                message = f"contactId: {contact['Id']} does not belong to account {account_id}"
                raise ConversionError(400, message)
            contact_id = str(contact["Id"])
            overwrite = frozenset({"LeadSource"} if request.overwrite_lead_source else ())
            _fill_blanks(dml, contact_obj, contact, contact_values, opts, overwrite)
        else:
            contact_id = dml.insert(
                contact_obj, {**contact_values, "AccountId": account_id, "OwnerId": owner}, opts
            )

        opportunity_id = None
        if request.create_opportunity:
            opportunity_id = _create_opportunity(dml, request, lead, account_id, owner, opts)

        links: dict[str, Stored] = {
            "ConvertedAccountId": account_id,
            "ConvertedContactId": contact_id,
            "ConvertedOpportunityId": opportunity_id,
        }
        _system_update(org, lead_obj, lead_id, links, opts.user_id)
        _carry_over(org, lead_id, contact_id, account_id, opts.user_id)
    return LeadConvertResult(
        lead_id=lead_id, account_id=account_id, contact_id=contact_id, opportunity_id=opportunity_id
    )


def _create_opportunity(
    dml: Dml,
    request: LeadConvert,
    lead: Mapping[str, Any],
    account_id: str,
    owner: str,
    opts: WriteOptions,
) -> str:
    org = dml.org
    obj, lead_obj = _object(org, "Opportunity"), _object(org, "Lead")
    name_field, stage_field = obj.field("Name"), obj.field("StageName")
    assert name_field is not None and stage_field is not None
    # convertLead() names the opportunity after the company when no name is given.
    name = request.opportunity_name or str(lead["Company"])[: name_field.length]
    return dml.insert(
        obj,
        {
            **_mapped(lead_obj, lead, OPPORTUNITY_MAPPING),
            "Name": name,
            "AccountId": account_id,
            "OwnerId": owner,
            # The first stage of the picklist [U: Salesforce uses the default stage].
            "StageName": stage_field.picklist[0].value,
            "CloseDate": _quarter_end(org.clock.now().date()).isoformat(),
            "CampaignId": _latest_campaign(org, str(lead["Id"])),
        },
        opts,
    )
