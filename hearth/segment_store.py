"""Segments kept per workspace, and the facts a segment is evaluated on, loaded from storage.

`hearth.segments` is the pure core (fields, rules, evaluation); this is its shell: the
`segments` table, the field catalogue with the workspace's synced custom fields, and the facts
of one visitor or company: its activity (`hearth.collect`), its company's, and what the CRM
mirror says (matching, the chosen Account's and the person's custom values, Opportunities).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hearth.collect.ingest import company_of, load_aggregate
from hearth.collect.tables import companies, visitors
from hearth.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from hearth.matching.match import match_visitor
from hearth.mirror.records import CrmOpportunity
from hearth.mirror.repository import SqlMirrorView
from hearth.mirror.tables import mirror_accounts, mirror_contacts, mirror_leads
from hearth.segment_table import segments
from hearth.segments import (
    FieldCatalogue,
    Rule,
    catalogue,
    company_facts,
    parse_rule,
    to_json,
    visitor_facts,
)
from hearth.segments.evaluation import FactValue
from hearth.sync import list_mappings
from hearth.tracking.aggregates import CompanyAggregate

__all__ = [
    "StoredSegment",
    "company_facts_of",
    "create_segment",
    "delete_segment",
    "list_segments",
    "segment_catalogue",
    "visitor_facts_of",
]


@dataclass(frozen=True, kw_only=True)
class StoredSegment:
    id: int
    name: str
    rule: Rule


def segment_catalogue(session: Session, workspace_id: int) -> FieldCatalogue:
    """The fields segments of the workspace may use: built-in ones and synced custom fields."""
    return catalogue([m for m in list_mappings(session, workspace_id) if m.enabled])


def list_segments(
    session: Session, workspace_id: int, fields: FieldCatalogue
) -> list[StoredSegment]:
    """The workspace's segments by name. A stored rule that no longer fits the catalogue (a
    custom field it used was unmapped) is left out rather than failing every listing."""
    found = []
    for row in session.execute(
        select(segments).where(segments.c.workspace_id == workspace_id).order_by(segments.c.name)
    ):
        try:
            found.append(StoredSegment(id=row.id, name=row.name, rule=parse_rule(row.rule, fields)))
        except InvalidInputError:
            continue
    return found


def create_segment(
    session: Session,
    workspace_id: int,
    name: str,
    rule: Any,
    fields: FieldCatalogue,
    *,
    now: datetime,
) -> StoredSegment:
    """Validate and store a segment; raises `InvalidSegment` (with the bad node's path) or
    `AlreadyExistsError`. Flushes, never commits."""
    name = name.strip()
    if not 0 < len(name) <= 200:
        raise InvalidInputError("a segment's name must have 1 to 200 characters")
    parsed = parse_rule(rule, fields)
    try:
        with session.begin_nested():
            segment_id = session.execute(
                insert(segments)
                .values(workspace_id=workspace_id, name=name, rule=to_json(parsed), created_at=now)
                .returning(segments.c.id)
            ).scalar_one()
    except IntegrityError as exc:
        raise AlreadyExistsError("segment", name) from exc
    return StoredSegment(id=int(segment_id), name=name, rule=parsed)


def delete_segment(session: Session, workspace_id: int, segment_id: int) -> None:
    result = session.execute(
        delete(segments).where(segments.c.workspace_id == workspace_id, segments.c.id == segment_id)
    )
    if not getattr(result, "rowcount", 0):
        raise NotFoundError("segment", str(segment_id))


def _company(
    session: Session, workspace_id: int, domain: str | None
) -> tuple[str | None, CompanyAggregate | None]:
    if domain is None:
        return None, None
    row = session.execute(
        select(companies).where(
            companies.c.workspace_id == workspace_id, companies.c.domain == domain
        )
    ).one_or_none()
    if row is None:
        return None, None
    return row.name, company_of(row)


def _crm(
    session: Session, workspace_id: int, domain: str | None, email: str | None
) -> tuple[Any, list[CrmOpportunity], dict[str, Any], dict[str, Any]]:
    view = SqlMirrorView(session, workspace_id)
    match = match_visitor(domain, email, view)
    opportunities = [o for a in match.accounts for o in view.opportunities_of_account(a.id)]
    account_custom = (
        _custom(session, mirror_accounts, workspace_id, match.account.account.id)
        if match.account
        else {}
    )
    person_custom: dict[str, Any] = {}
    if match.person is not None:
        table = mirror_contacts if match.person in match.contacts else mirror_leads
        person_custom = _custom(session, table, workspace_id, match.person.id)
    return match, opportunities, account_custom, person_custom


def _custom(session: Session, table: Table, workspace_id: int, record_id: str) -> dict[str, Any]:
    value = session.scalar(
        select(table.c.custom).where(
            table.c.workspace_id == workspace_id, table.c.salesforce_id == record_id
        )
    )
    return dict(value or {})


def visitor_facts_of(
    session: Session, workspace_id: int, visitor_id: int, fields: FieldCatalogue
) -> dict[str, FactValue]:
    """The facts of one visitor (raises `NotFoundError`)."""
    row = session.execute(
        select(visitors).where(visitors.c.workspace_id == workspace_id, visitors.c.id == visitor_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError("visitor", str(visitor_id))
    company_name, company = _company(session, workspace_id, row.company_domain)
    match, opportunities, account_custom, person_custom = _crm(
        session, workspace_id, row.company_domain, row.email
    )
    return visitor_facts(
        catalogue=fields,
        email=row.email,
        name=row.name,
        title=row.title,
        identification_source=row.identification_source,
        first_seen=row.created_at,
        aggregate=load_aggregate(session, visitor_id),
        company_domain=row.company_domain,
        company_name=company_name,
        company_aggregate=company,
        match=match,
        opportunities=opportunities,
        account_custom=account_custom,
        person_custom=person_custom,
    )


def company_facts_of(
    session: Session, workspace_id: int, domain: str, fields: FieldCatalogue
) -> dict[str, FactValue]:
    """The facts of one company, by normalised domain (raises `NotFoundError`)."""
    name, aggregate = _company(session, workspace_id, domain)
    if aggregate is None:
        raise NotFoundError("company", domain)
    match, opportunities, account_custom, _ = _crm(session, workspace_id, domain, None)
    return company_facts(
        catalogue=fields,
        domain=domain,
        name=name,
        aggregate=aggregate,
        match=match,
        opportunities=opportunities,
        account_custom=account_custom,
    )
