"""Proving that the incrementally kept aggregates equal a recompute from stored events.

`hearth.collect.ingest` keeps each visitor's aggregate up to date from the visits of the client
sessions a batch touched, and each company's from its visitors, without reading anyone's whole
history again. `check(session, workspace_id)` reads it all again, to show that nothing drifted:

- **Visitors**, in batches of `BATCH_SIZE` by id, one visitor's events at a time (never the
  workspace's events at once): `recompute_visitor` (from every stored event) against
  `load_aggregate`'s stored values.
- **Companies**, in batches of domains: `combine` over the recomputed aggregates of the
  visitors whose company is that domain, against the stored `companies` row. A company row with
  no visitor, or visitors whose company has no row, are differences too (field ``exists``).

Each difference names the visitor id or the domain and the fields that differ, with the stored
and the recomputed value. With ``fix=True`` the recomputed values are written: a visitor's
visit rows are rebuilt from its events and its aggregate columns replaced; a company is
recombined (or created, or deleted). When the workspace is connected to Salesforce, a fixed
visitor or company whose CRM-visible fields changed (`hearth.tracking.dirty`) is marked in the
outbox, so the CRM gets the right numbers too.

Flushes, never commits.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Final, Literal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from hearth.collect.ingest import (
    aggregate_columns,
    aggregate_of,
    company_of,
    load_aggregate,
    mark_outbox,
    rebuild_client_session,
    recompute_visitor,
    refresh_company,
)
from hearth.collect.tables import companies, tracked_events, visitor_sessions, visitors
from hearth.connections import get_connection
from hearth.storage.models import ConnectionStatus
from hearth.tracking.aggregates import (
    UTM_FIELDS,
    CompanyAggregate,
    VisitorAggregate,
    combine,
)
from hearth.tracking.dirty import visitor_changes

__all__ = ["BATCH_SIZE", "Difference", "FieldDifference", "RecomputeReport", "check"]

#: Visitors (or company domains) read per query.
BATCH_SIZE: Final = 500


@dataclass(frozen=True, kw_only=True)
class FieldDifference:
    """One field whose stored value is not the recomputed one. UTM fields are compared with
    their first-sight times (``utm_source`` etc.: ``((value, first seen), ...)``)."""

    name: str
    stored: object
    recomputed: object


@dataclass(frozen=True, kw_only=True)
class Difference:
    """A visitor (`key` its id) or a company (`key` its domain) whose stored aggregate is not
    the recomputed one."""

    kind: Literal["visitor", "company"]
    key: str
    fields: tuple[FieldDifference, ...]

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True, kw_only=True)
class RecomputeReport:
    """What `check` found; `fixed` says the differences were written over."""

    workspace_id: int
    visitors_checked: int
    companies_checked: int
    differences: tuple[Difference, ...]
    fixed: bool

    @property
    def agrees(self) -> bool:
        return not self.differences


def check(
    session: Session,
    workspace_id: int,
    *,
    fix: bool = False,
    now: datetime | None = None,
) -> RecomputeReport:
    """Compare every stored visitor and company aggregate of the workspace with a recompute
    (see the module docstring); with `fix`, write the recomputed values. `now` is the time of
    any outbox mark (default: the current time)."""
    mark_at = (now or datetime.now(UTC)) if fix and _connected(session, workspace_id) else None
    differences: list[Difference] = []
    # Recomputed aggregates of the visitors that differ: companies are compared with what
    # their visitors should be, so one wrong visitor is not also reported as a wrong company.
    corrected: dict[int, VisitorAggregate] = {}
    visitors_checked = 0
    for batch in _visitor_batches(session, workspace_id):
        for visitor_id in batch:
            visitors_checked += 1
            stored = load_aggregate(session, visitor_id)
            recomputed = recompute_visitor(session, visitor_id)
            found = _field_differences(stored, recomputed)
            if not found:
                continue
            differences.append(Difference(kind="visitor", key=str(visitor_id), fields=found))
            corrected[visitor_id] = recomputed
            if fix:
                _fix_visitor(session, workspace_id, visitor_id, stored, recomputed, mark_at)
    companies_checked = 0
    for domains in _domain_batches(session, workspace_id):
        companies_checked += len(domains)
        for domain, found in _company_differences(session, workspace_id, domains, corrected):
            differences.append(Difference(kind="company", key=domain, fields=found))
            if fix:
                _fix_company(session, workspace_id, domain, found, mark_at)
    return RecomputeReport(
        workspace_id=workspace_id,
        visitors_checked=visitors_checked,
        companies_checked=companies_checked,
        differences=tuple(differences),
        fixed=fix and bool(differences),
    )


# -- reading in batches ---------------------------------------------------------------------


def _visitor_batches(session: Session, workspace_id: int) -> Iterator[list[int]]:
    after = 0
    while True:
        batch = [
            int(v)
            for v in session.scalars(
                select(visitors.c.id)
                .where(visitors.c.workspace_id == workspace_id, visitors.c.id > after)
                .order_by(visitors.c.id)
                .limit(BATCH_SIZE)
            )
        ]
        if not batch:
            return
        yield batch
        after = batch[-1]


def _domain_batches(session: Session, workspace_id: int) -> Iterator[list[str]]:
    """Every domain that has a company row or a visitor, in order, a batch at a time."""
    after = ""
    while True:
        with_row = session.scalars(
            select(companies.c.domain)
            .where(companies.c.workspace_id == workspace_id, companies.c.domain > after)
            .order_by(companies.c.domain)
            .limit(BATCH_SIZE)
        ).all()
        of_visitors = session.scalars(
            select(visitors.c.company_domain)
            .where(visitors.c.workspace_id == workspace_id, visitors.c.company_domain > after)
            .group_by(visitors.c.company_domain)
            .order_by(visitors.c.company_domain)
            .limit(BATCH_SIZE)
        ).all()
        batch = sorted({*with_row, *of_visitors})[:BATCH_SIZE]
        if not batch:
            return
        yield batch
        after = batch[-1]


# -- comparing ------------------------------------------------------------------------------

_PLAIN_FIELDS: Final = tuple(f.name for f in fields(VisitorAggregate) if f.name != "utm")


def _field_differences(
    stored: VisitorAggregate, recomputed: VisitorAggregate
) -> tuple[FieldDifference, ...]:
    names = list(_PLAIN_FIELDS)
    if isinstance(stored, CompanyAggregate) and isinstance(recomputed, CompanyAggregate):
        names.append("visitor_count")
    found = [
        FieldDifference(
            name=name, stored=getattr(stored, name), recomputed=getattr(recomputed, name)
        )
        for name in names
        if getattr(stored, name) != getattr(recomputed, name)
    ]
    for name in UTM_FIELDS:
        was, now = getattr(stored.utm, name), getattr(recomputed.utm, name)
        if was != now:
            found.append(FieldDifference(name=f"utm_{name}", stored=was, recomputed=now))
    return tuple(found)


def _company_differences(
    session: Session,
    workspace_id: int,
    domains: Sequence[str],
    corrected: dict[int, VisitorAggregate],
) -> Iterator[tuple[str, tuple[FieldDifference, ...]]]:
    rows = {
        r.domain: r
        for r in session.execute(
            select(companies).where(
                companies.c.workspace_id == workspace_id, companies.c.domain.in_(domains)
            )
        )
    }
    members: dict[str, list[tuple[str, VisitorAggregate]]] = {}
    for r in session.execute(
        select(visitors).where(
            visitors.c.workspace_id == workspace_id, visitors.c.company_domain.in_(domains)
        )
    ):
        aggregate = corrected.get(r.id) or aggregate_of(r)
        members.setdefault(r.company_domain, []).append((str(r.id), aggregate))
    for domain in domains:
        row = rows.get(domain)
        if row is None or domain not in members:
            exists = FieldDifference(
                name="exists", stored=row is not None, recomputed=domain in members
            )
            yield domain, (exists,)
            continue
        found = _field_differences(company_of(row), combine(members[domain]))
        if found:
            yield domain, found


# -- fixing ---------------------------------------------------------------------------------


def _fix_visitor(
    session: Session,
    workspace_id: int,
    visitor_id: int,
    stored: VisitorAggregate,
    recomputed: VisitorAggregate,
    mark_at: datetime | None,
) -> None:
    """Rebuild the visitor's visit rows from its events and write the recomputed aggregate,
    so that the next batch builds on the right visits."""
    session.execute(delete(visitor_sessions).where(visitor_sessions.c.visitor_id == visitor_id))
    client_sessions = session.scalars(
        select(tracked_events.c.client_session_id)
        .where(tracked_events.c.visitor_id == visitor_id, tracked_events.c.type != "identify")
        .distinct()
    ).all()
    for client_session_id in sorted(client_sessions):
        rebuild_client_session(session, visitor_id, client_session_id)
    session.execute(
        update(visitors).where(visitors.c.id == visitor_id).values(**aggregate_columns(recomputed))
    )
    changed = visitor_changes(stored, recomputed)
    if mark_at is not None and changed:
        mark_outbox(session, workspace_id, "visitor", str(visitor_id), changed, mark_at)


def _fix_company(
    session: Session,
    workspace_id: int,
    domain: str,
    found: tuple[FieldDifference, ...],
    mark_at: datetime | None,
) -> None:
    # The visitors are fixed already, so recombining them gives the recomputed company.
    refresh_company(session, workspace_id, domain, mark_at)
    if any(f.name == "exists" and f.recomputed is False for f in found):
        session.execute(
            delete(companies).where(
                companies.c.workspace_id == workspace_id, companies.c.domain == domain
            )
        )


def _connected(session: Session, workspace_id: int) -> bool:
    connection = get_connection(session, workspace_id)
    return connection is not None and connection.status is ConnectionStatus.CONNECTED
