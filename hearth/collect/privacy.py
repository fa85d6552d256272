"""Erasing a visitor (a GDPR erasure request) and keeping data no longer than the workspace's
retention.

`erase_visitor(session, workspace_id, visitor_id)` removes everything Hearth holds about one
person: their events (`tracked_events`, which include identify events with the email and
traits), their anonymous ids (`visitor_aliases`), their visits (`visitor_sessions`), their
outbox row and the visitor row itself, with the email, name, title, LinkedIn URL and IP. Their
company is then recombined from the visitors it has left (`hearth.collect.ingest.refresh_company`),
so its totals and visitor count drop by what the person contributed; a company with no visitor
left goes. When the workspace is connected to Salesforce the company is marked in the outbox
with the fields that changed, so the Account's Hearth fields are corrected; a marked company
whose row is gone is one whose Account's Hearth fields are to be cleared.
`erase_by_email` finds the visitor by email first, and also deletes identify events that carried
the email to another visitor (a shared browser identified as someone else later).

**Retention: whole visitors.** `prune(session, workspace_id, now=...)` erases, exactly as
`erase_visitor` does, every visitor not seen for more than the workspace's ``retention_days``
(`hearth.collect.settings`): whose latest event of any kind (page view, activity or identify;
with none, when the visitor was created) is before ``now - retention_days``. It also deletes the
workspace's `collect_counts` days before that point.

Why whole visitors, and not each event older than the retention: a visitor's stored aggregate
is its numbers over *all* of its events (total sessions, pages viewed, the first sight of each
UTM value), kept incrementally. Dropping a returning visitor's old events would leave two bad
choices: keep the totals, and the stored aggregates no longer equal a recompute over the stored
events (`hearth recompute` could no longer prove anything, and a merge or a late event would
silently recompute smaller numbers); or recompute them, and every active visitor's Salesforce
totals would shrink a little every day, with an outbox write for each. Erasing whole visitors
keeps the invariant "stored aggregates = recompute over stored events" at all times, and the
CRM's numbers only change when a person really goes. The cost: a visitor who keeps coming back
keeps their history, which is what the numbers Hearth writes to the CRM are made of; a person
who wants it gone asks for erasure.

Every function here flushes and never commits: the caller owns the transaction.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import anyio
from sqlalchemy import CursorResult, Engine, and_, delete, exists, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hearth.collect.ingest import refresh_company
from hearth.collect.settings import load_tracking_settings
from hearth.collect.tables import (
    collect_counts,
    outbox,
    tracked_events,
    visitor_aliases,
    visitor_sessions,
    visitors,
)
from hearth.connections import get_connection
from hearth.errors import NotFoundError
from hearth.storage.engine import database_failure_reason
from hearth.storage.models import ConnectionStatus, Workspace

__all__ = [
    "Erasure",
    "Pruned",
    "erase_by_email",
    "erase_visitor",
    "prune",
    "prune_all",
    "prune_daily",
]

_logger = logging.getLogger(__name__)
_PRUNE_INTERVAL = timedelta(days=1)

#: How many visitors `prune` erases per statement.
_PRUNE_BATCH = 500


@dataclass(frozen=True, kw_only=True)
class Erasure:
    """What erasing one visitor did. `company_domain` is the company recombined (None: the
    visitor had none); `company_removed` says it had no visitor left and went. `visitor_id` is
    None when an erasure by email found only identify events carrying the email."""

    visitor_id: int | None
    events_deleted: int
    aliases_removed: int
    company_domain: str | None
    company_removed: bool


@dataclass(frozen=True, kw_only=True)
class Pruned:
    """What a retention run did in one workspace."""

    workspace_id: int
    cutoff: datetime
    visitors_erased: int
    events_deleted: int
    counts_deleted: int
    companies_recombined: tuple[str, ...]
    companies_removed: tuple[str, ...]


def erase_visitor(
    session: Session, workspace_id: int, visitor_id: int, *, now: datetime | None = None
) -> Erasure:
    """Erase the workspace's visitor `visitor_id` (see the module docstring); raises
    `NotFoundError` when the workspace has no such visitor. `now` is the time of the outbox
    mark (default: the current time)."""
    row = session.execute(
        select(visitors.c.company_domain).where(
            visitors.c.workspace_id == workspace_id, visitors.c.id == visitor_id
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError("visitor", str(visitor_id))
    domain: str | None = row.company_domain
    events, aliases = _delete_visitors(session, workspace_id, [visitor_id])
    domains = {domain} if domain is not None else set()
    removed = _recombine(session, workspace_id, domains, now or datetime.now(UTC))
    return Erasure(
        visitor_id=visitor_id,
        events_deleted=events,
        aliases_removed=aliases,
        company_domain=domain,
        company_removed=domain in removed,
    )


def erase_by_email(
    session: Session, workspace_id: int, email: str, *, now: datetime | None = None
) -> Erasure:
    """Erase the workspace's visitor with this email (compared without case or surrounding
    spaces), and every identify event that carried the email to another visitor (a shared
    browser later identified as someone else); raises `NotFoundError` when there is neither.
    Such events count no visit, so removing them changes no number. `visitor_id` is None when
    only those events were found."""
    address = email.strip().lower()
    visitor_id = session.scalar(
        select(visitors.c.id).where(
            visitors.c.workspace_id == workspace_id, visitors.c.email == address
        )
    )
    strays = _rowcount(
        session.execute(
            delete(tracked_events).where(
                tracked_events.c.workspace_id == workspace_id,
                tracked_events.c.type == "identify",
                tracked_events.c.email == address,
                tracked_events.c.visitor_id != (visitor_id or 0),
            )
        )
    )
    if visitor_id is None:
        if not strays:
            raise NotFoundError("visitor with email", address)
        return Erasure(
            visitor_id=None,
            events_deleted=strays,
            aliases_removed=0,
            company_domain=None,
            company_removed=False,
        )
    erasure = erase_visitor(session, workspace_id, int(visitor_id), now=now)
    return replace(erasure, events_deleted=erasure.events_deleted + strays)


def prune(session: Session, workspace_id: int, *, now: datetime) -> Pruned:
    """Erase the workspace's visitors not seen for more than its retention, and its collect
    counts older than that (the rule and why: the module docstring)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    retention = load_tracking_settings(session, workspace_id).retention_days
    cutoff = now - timedelta(days=retention)
    recent_event = exists().where(
        tracked_events.c.visitor_id == visitors.c.id, tracked_events.c.at >= cutoff
    )
    stale = list(
        session.scalars(
            select(visitors.c.id)
            .where(
                visitors.c.workspace_id == workspace_id,
                or_(
                    visitors.c.last_seen < cutoff,
                    and_(visitors.c.last_seen.is_(None), visitors.c.created_at < cutoff),
                ),
                ~recent_event,
            )
            .order_by(visitors.c.id)
        )
    )
    domains: set[str] = set()
    events = 0
    for start in range(0, len(stale), _PRUNE_BATCH):
        chunk = stale[start : start + _PRUNE_BATCH]
        domains.update(
            session.scalars(
                select(visitors.c.company_domain)
                .where(visitors.c.id.in_(chunk), visitors.c.company_domain.is_not(None))
                .distinct()
            )
        )
        events += _delete_visitors(session, workspace_id, chunk)[0]
    removed = _recombine(session, workspace_id, domains, now)
    counts = _rowcount(
        session.execute(
            delete(collect_counts).where(
                collect_counts.c.workspace_id == workspace_id,
                collect_counts.c.day < cutoff.date(),
            )
        )
    )
    return Pruned(
        workspace_id=workspace_id,
        cutoff=cutoff,
        visitors_erased=len(stale),
        events_deleted=events,
        counts_deleted=counts,
        companies_recombined=tuple(sorted(domains - removed)),
        companies_removed=tuple(sorted(removed)),
    )


def _delete_visitors(
    session: Session, workspace_id: int, visitor_ids: Sequence[int]
) -> tuple[int, int]:
    """Delete the visitors and all that hangs off them; returns (events, aliases) deleted.
    Children first: SQLite enforces no foreign keys unless asked to, so no cascade is relied
    on."""
    events = _rowcount(
        session.execute(delete(tracked_events).where(tracked_events.c.visitor_id.in_(visitor_ids)))
    )
    aliases = _rowcount(
        session.execute(
            delete(visitor_aliases).where(visitor_aliases.c.visitor_id.in_(visitor_ids))
        )
    )
    session.execute(delete(visitor_sessions).where(visitor_sessions.c.visitor_id.in_(visitor_ids)))
    session.execute(
        delete(outbox).where(
            outbox.c.workspace_id == workspace_id,
            outbox.c.kind == "visitor",
            outbox.c.key.in_([str(v) for v in visitor_ids]),
        )
    )
    session.execute(
        delete(visitors).where(
            visitors.c.workspace_id == workspace_id, visitors.c.id.in_(visitor_ids)
        )
    )
    return events, aliases


def _recombine(session: Session, workspace_id: int, domains: set[str], now: datetime) -> set[str]:
    """Recombine each company from the visitors it has left, marking it for the CRM when the
    workspace is connected; delete those with no visitor left. Returns the deleted domains."""
    mark_at = now if _connected(session, workspace_id) else None
    removed: set[str] = set()
    for domain in sorted(domains):
        if refresh_company(session, workspace_id, domain, mark_at):
            removed.add(domain)
    return removed


def _connected(session: Session, workspace_id: int) -> bool:
    connection = get_connection(session, workspace_id)
    return connection is not None and connection.status is ConnectionStatus.CONNECTED


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def prune_all(engine: Engine, *, now: datetime) -> list[Pruned]:
    """`prune` every workspace, each in its own transaction."""
    with Session(engine) as session:
        workspace_ids = list(session.scalars(select(Workspace.id).order_by(Workspace.id)))
    done = []
    for workspace_id in workspace_ids:
        with Session(engine) as session, session.begin():
            done.append(prune(session, workspace_id, now=now))
    return done


async def prune_daily(engine: Engine, *, clock: Callable[[], datetime]) -> None:
    """Enforce every workspace's retention once a day, from now on, until cancelled."""
    while True:
        try:
            pruned = await anyio.to_thread.run_sync(lambda: prune_all(engine, now=clock()))
        except SQLAlchemyError as exc:
            # The database may be down or not migrated yet: try again at the next interval
            # rather than end retention for the life of the process.
            _logger.warning("retention pruning failed: %s", database_failure_reason(exc))
            pruned = []
        for result in pruned:
            if result.visitors_erased:
                _logger.info(
                    "workspace %s: retention erased %s visitors",
                    result.workspace_id,
                    result.visitors_erased,
                )
        await anyio.sleep(_PRUNE_INTERVAL.total_seconds())
