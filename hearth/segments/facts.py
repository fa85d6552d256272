"""Facts for `evaluate`, built from plain values: a visitor's or a company's. Pure, no I/O.

The storage layer loads what Hearth knows and passes it in: the visitor's identity, its and its
company's aggregates (`hearth.tracking`), the `MatchResult` of `match_visitor` (the matched
Account, person and roll-ups), the company's Opportunities, and the mapped custom fields' values
as the mirror's ``custom`` JSON keeps them (by API name).

What is not passed is unknown (None), so only ``is_not_set``/``is_empty`` conditions hold on it
(`hearth.segments.evaluation`):

- ``aggregate`` None: the activity fields (``last_seen``, ``page_views``, ...) are unknown.
- ``match`` None (the mirror was not consulted): every ``crm_company.*`` and ``crm_contact.*``
  field is unknown. A match that found nothing is knowledge: ``crm_company.exists`` is false,
  counts are 0, ``is_customer`` and ``has_*_opportunity`` false, the Account's own fields unknown.
- ``opportunities`` None: ``open_opportunity_count``, ``has_open_opportunity`` and
  ``has_won_opportunity`` are unknown when the company has Accounts (and ``is_customer`` too,
  unless the Account's Type already says "Customer...").
- A company (`company_facts`) has no ``visitor.*`` nor ``crm_contact.*`` facts.

Custom values are converted to their field's type (`FieldCatalogue`): numbers from numbers or
numeric text, booleans from booleans or "true"/"false", dates and datetimes from ISO text (as
Salesforce sends them; a naive datetime is UTC), a multi-select picklist's "a;b" to a list.
A value that does not convert is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Final

from hearth.matching.match import MatchResult
from hearth.mirror.records import CrmContact, CrmOpportunity
from hearth.segments.evaluation import FactValue
from hearth.segments.fields import FieldCatalogue, FieldType
from hearth.tracking.aggregates import CompanyAggregate, VisitorAggregate

__all__ = ["company_facts", "custom_fact", "visitor_facts"]

_CRM_COMPANY_CUSTOM: Final = "crm_company.custom."
_CRM_CONTACT_CUSTOM: Final = "crm_contact.custom."


def visitor_facts(
    *,
    catalogue: FieldCatalogue,
    email: str | None = None,
    name: str | None = None,
    title: str | None = None,
    identification_source: str | None = None,
    first_seen: datetime | None = None,
    aggregate: VisitorAggregate | None = None,
    company_domain: str | None = None,
    company_name: str | None = None,
    company_aggregate: CompanyAggregate | None = None,
    match: MatchResult | None = None,
    opportunities: Sequence[CrmOpportunity] | None = None,
    account_custom: Mapping[str, object] | None = None,
    person_custom: Mapping[str, object] | None = None,
) -> dict[str, FactValue]:
    """A visitor's facts: its own, its company's, and the CRM's (see the module docstring).

    `match` is `match_visitor(company_domain, email, ...)`; `opportunities` are those of every
    Account with the company's domain (what the roll-ups count); `account_custom` and
    `person_custom` are the custom values of the chosen Account and of the matched Contact or
    Lead.
    """
    facts: dict[str, FactValue] = {
        "visitor.email": email,
        "visitor.identified": bool(email and email.strip()),
        "visitor.identification_source": identification_source,
        "visitor.name": name,
        "visitor.title": title,
        "visitor.first_seen": first_seen,
    }
    facts.update(_activity("visitor", aggregate))
    facts.update(_company(company_domain, company_name, company_aggregate))
    facts.update(_crm_company(match, opportunities, account_custom, catalogue))
    facts.update(_crm_contact(match, person_custom, catalogue))
    return facts


def company_facts(
    *,
    catalogue: FieldCatalogue,
    domain: str | None,
    name: str | None = None,
    aggregate: CompanyAggregate | None = None,
    match: MatchResult | None = None,
    opportunities: Sequence[CrmOpportunity] | None = None,
    account_custom: Mapping[str, object] | None = None,
) -> dict[str, FactValue]:
    """A company's facts: its own and the CRM's (``match_visitor(domain, None, ...)``)."""
    facts = _company(domain, name, aggregate)
    facts.update(_crm_company(match, opportunities, account_custom, catalogue))
    return facts


def _activity(prefix: str, aggregate: VisitorAggregate | None) -> dict[str, FactValue]:
    if aggregate is None:
        keys = (
            "last_seen",
            "page_views",
            "sessions",
            "active_seconds",
            "last_session_pages",
            "utm_campaigns",
            "utm_contents",
            "utm_mediums",
            "utm_sources",
        )
        return {f"{prefix}.{key}": None for key in keys}
    return {
        f"{prefix}.last_seen": aggregate.last_seen,
        f"{prefix}.page_views": aggregate.page_views,
        f"{prefix}.sessions": aggregate.sessions,
        f"{prefix}.active_seconds": aggregate.active_seconds,
        f"{prefix}.last_session_pages": tuple(aggregate.last_session_pages),
        f"{prefix}.utm_campaigns": aggregate.utm_campaigns,
        f"{prefix}.utm_contents": aggregate.utm_contents,
        f"{prefix}.utm_mediums": aggregate.utm_mediums,
        f"{prefix}.utm_sources": aggregate.utm_sources,
    }


def _company(
    domain: str | None, name: str | None, aggregate: CompanyAggregate | None
) -> dict[str, FactValue]:
    facts: dict[str, FactValue] = {"company.domain": domain, "company.name": name}
    facts.update(_activity("company", aggregate))
    facts["company.visitor_count"] = aggregate.visitor_count if aggregate is not None else None
    return facts


def _crm_company(
    match: MatchResult | None,
    opportunities: Sequence[CrmOpportunity] | None,
    custom: Mapping[str, object] | None,
    catalogue: FieldCatalogue,
) -> dict[str, FactValue]:
    keys = [f.key for f in catalogue if f.key.startswith("crm_company.")]
    if match is None:
        return dict.fromkeys(keys)
    facts: dict[str, FactValue] = dict.fromkeys(keys)
    rollups = match.rollups
    account = match.account.account if match.account is not None else None
    has_accounts = bool(match.accounts)
    open_count: int | None
    if opportunities is not None:
        open_count = sum(1 for o in opportunities if not o.is_closed)
        has_won: bool | None = any(o.is_won for o in opportunities)
    elif not has_accounts:
        open_count, has_won = 0, False
    else:
        open_count, has_won = None, None
    customer_type = account is not None and (account.type or "").casefold().startswith("customer")
    is_customer: bool | None = True if customer_type else has_won
    stages = tuple(stage.stage_name for stage in rollups.opportunity_stages)
    facts.update(
        {
            "crm_company.exists": account is not None,
            "crm_company.is_customer": is_customer,
            "crm_company.account_count": rollups.account_count,
            "crm_company.contact_count": rollups.contact_count,
            "crm_company.lead_count": rollups.lead_count,
            "crm_company.opportunity_count": rollups.opportunity_count,
            "crm_company.open_opportunity_count": open_count,
            "crm_company.has_open_opportunity": None if open_count is None else open_count > 0,
            "crm_company.has_won_opportunity": has_won,
            "crm_company.opportunity_stages": stages,
            "crm_company.latest_close_date": rollups.latest_close_date,
        }
    )
    if account is not None:
        owner = rollups.account_owner
        facts.update(
            {
                "crm_company.name": account.name,
                "crm_company.website": account.website,
                "crm_company.type": account.type,
                "crm_company.owner_name": owner.name if owner is not None else None,
                "crm_company.created_date": account.created_date,
                "crm_company.last_activity_date": account.last_activity_date,
            }
        )
        facts.update(_custom_facts(_CRM_COMPANY_CUSTOM, custom, catalogue))
    return facts


def _crm_contact(
    match: MatchResult | None,
    custom: Mapping[str, object] | None,
    catalogue: FieldCatalogue,
) -> dict[str, FactValue]:
    facts: dict[str, FactValue] = {
        f.key: None for f in catalogue if f.key.startswith("crm_contact.")
    }
    if match is None:
        return facts
    person = match.person
    facts["crm_contact.exists"] = person is not None
    if person is None:
        return facts
    owner = match.rollups.person_owner
    facts.update(
        {
            "crm_contact.object": "Contact" if isinstance(person, CrmContact) else "Lead",
            "crm_contact.name": person.name,
            "crm_contact.email": person.email,
            "crm_contact.title": person.title,
            "crm_contact.owner_name": owner.name if owner is not None else None,
        }
    )
    facts.update(_custom_facts(_CRM_CONTACT_CUSTOM, custom, catalogue))
    return facts


def _custom_facts(
    prefix: str, custom: Mapping[str, object] | None, catalogue: FieldCatalogue
) -> dict[str, FactValue]:
    values = custom or {}
    folded = {name.casefold(): value for name, value in values.items()}
    facts: dict[str, FactValue] = {}
    for found in catalogue:
        if not found.key.startswith(prefix):
            continue
        name = found.key[len(prefix) :]
        raw = values[name] if name in values else folded.get(name.casefold())
        facts[found.key] = custom_fact(found.type, raw)
    return facts


def custom_fact(field_type: FieldType, raw: object) -> FactValue:
    """A custom field's mirrored value as a fact of `field_type`; None if it does not fit."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    converter = _CONVERTERS[field_type]
    try:
        return converter(raw)
    except (ValueError, TypeError, InvalidOperation, OverflowError):
        return None


def _as_text(raw: object) -> FactValue:
    if isinstance(raw, str | int | float | Decimal) and not isinstance(raw, bool):
        return str(raw)
    return None


def _as_list(raw: object) -> FactValue:
    if isinstance(raw, str):
        items = raw.split(";")
    elif isinstance(raw, list | tuple):
        items = [str(item) for item in raw]
    else:
        return None
    return tuple(item.strip() for item in items if item.strip())


def _as_number(raw: object) -> FactValue:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float | Decimal):
        return raw
    if isinstance(raw, str):
        number = Decimal(raw.strip())
        return number if number.is_finite() else None
    return None


def _as_boolean(raw: object) -> FactValue:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    return None


def _as_date(raw: object) -> FactValue:
    if isinstance(raw, datetime):
        return (raw if raw.tzinfo else raw.replace(tzinfo=UTC)).astimezone(UTC).date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        return date.fromisoformat(raw.strip()[:10])
    return None


def _as_datetime(raw: object) -> FactValue:
    if isinstance(raw, datetime):
        parsed = raw
    elif isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
    elif isinstance(raw, str):
        parsed = datetime.fromisoformat(raw.strip())
    else:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_CONVERTERS: Final = {
    FieldType.TEXT: _as_text,
    FieldType.PICKLIST: _as_text,
    FieldType.TEXT_LIST: _as_list,
    FieldType.NUMBER: _as_number,
    FieldType.BOOLEAN: _as_boolean,
    FieldType.DATE: _as_date,
    FieldType.DATETIME: _as_datetime,
}
