"""Storing a parsed batch and keeping visitors' and companies' aggregates up to date.

`ingest(session, workspace_id, batch, ...)` does, in the caller's transaction:

1. **Who.** The batch's anonymous id names a visitor (`visitor_aliases`); a new one makes a new
   anonymous visitor.
2. **Store.** Every event goes to `tracked_events`, unique per (workspace, anonymous id, event
   id): a batch sent again (a beacon retried) adds nothing.
3. **Identify.** An identify sets the visitor's email, name, title and LinkedIn URL, and its
   identification source (the first one that identified them). If another visitor already has
   that email (the same person on another device), the two merge into the older one: aliases,
   events and visits follow, so anonymous history joins the identified person. The email's
   domain names the visitor's company unless it is free mail or disposable.
4. **Company by IP.** An anonymous visitor with no company is looked up by IP through the
   workspace's resolver (`hearth.identity.ip_resolvers`); the IP is stored truncated unless the
   workspace keeps full IPs.
5. **Aggregates, incrementally.** Only the client sessions the batch touched are rebuilt
   (`hearth.tracking.sessions.split_client_session` over that client session's stored events),
   then the visitor's aggregate is taken from its visit rows and the running UTM first sights,
   and the company's from its visitors (`hearth.tracking.aggregates.combine`): no visitor's
   whole history is read again. `recompute_visitor` rebuilds one from every stored event, and
   `hearth recompute` checks that both agree.
6. **Outbox.** When a CRM-relevant field changed (`hearth.tracking.dirty`) and the activity is
   not older than the workspace's Salesforce connection, the visitor's and the company's
   `outbox` rows get a new version: activity from before connecting is never marked for sync.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, insert, select, update
from sqlalchemy.orm import Session

from hearth.collect.tables import (
    companies,
    outbox,
    tracked_events,
    visitor_aliases,
    visitor_sessions,
    visitors,
)
from hearth.identity.email_companies import company_domain_from_email
from hearth.identity.ip_addresses import ip_for_storage, is_public, parse_ip
from hearth.identity.ip_resolvers import CompanyResolver
from hearth.storage.engine import insert_for
from hearth.tracking.aggregates import (
    UTM_FIELDS,
    CompanyAggregate,
    UtmField,
    UtmFirstSeen,
    VisitorAggregate,
    combine,
    merge_first_sights,
    recompute,
    utm_first_sights,
)
from hearth.tracking.dirty import company_changes, visitor_changes
from hearth.tracking.events import (
    Activity,
    Event,
    Identify,
    IdentifyTraits,
    PageEvent,
    PageView,
    ParsedBatch,
    UtmValues,
)
from hearth.tracking.sessions import Session as Visit
from hearth.tracking.sessions import SessionKey, dedupe, recency_key, split_client_session

__all__ = [
    "IngestResult",
    "aggregate_columns",
    "aggregate_of",
    "company_of",
    "ingest",
    "load_aggregate",
    "mark_outbox",
    "rebuild_client_session",
    "recompute_visitor",
    "refresh_company",
]


@dataclass(frozen=True, kw_only=True)
class IngestResult:
    """What a batch did: the visitor it belongs to (after any merge) and the events stored."""

    visitor_id: int
    stored: int
    duplicates: int


def ingest(
    session: Session,
    workspace_id: int,
    batch: ParsedBatch,
    *,
    ip: str | None = None,
    resolver: CompanyResolver | None = None,
    keep_full_ip: bool = False,
    sync_since: datetime | None = None,
) -> IngestResult:
    """Store `batch` for the workspace and bring the aggregates up to date (see the module
    docstring). `sync_since` is when the workspace connected Salesforce (None: not connected).
    Flushes, never commits."""
    visitor_id = _visitor_for(session, workspace_id, batch.anonymous_id, batch.received_at)
    _lock(session, visitor_id)
    stored = _store(session, workspace_id, visitor_id, batch)
    left: set[str] = set()  # companies the visitor stopped belonging to
    for event in stored:
        if isinstance(event, Identify):
            visitor_id, previous = _identify(session, workspace_id, visitor_id, event)
            left |= previous
    if ip is not None:
        _locate(session, visitor_id, ip, resolver, keep_full_ip)
    touched = {e.client_session_id for e in stored if isinstance(e, PageView | Activity)}
    _refresh(session, workspace_id, visitor_id, touched, stored, sync_since, left)
    return IngestResult(
        visitor_id=visitor_id, stored=len(stored), duplicates=len(batch.events) - len(stored)
    )


# -- who ------------------------------------------------------------------------------------


def _visitor_for(session: Session, workspace_id: int, anonymous_id: str, now: datetime) -> int:
    found = session.scalar(
        select(visitor_aliases.c.visitor_id).where(
            visitor_aliases.c.workspace_id == workspace_id,
            visitor_aliases.c.anonymous_id == anonymous_id,
        )
    )
    if found is not None:
        return int(found)
    visitor_id = int(
        session.execute(
            insert(visitors)
            .values(workspace_id=workspace_id, created_at=now, **_empty_aggregate())
            .returning(visitors.c.id)
        ).scalar_one()
    )
    # Two tabs of a new visitor report at once: the first alias wins, and the other batch
    # joins its visitor (the database serialises the two inserts; the loser sees the winner's).
    claimed = session.execute(
        insert_for(session, visitor_aliases)
        .values(workspace_id=workspace_id, anonymous_id=anonymous_id, visitor_id=visitor_id)
        .on_conflict_do_nothing(index_elements=["workspace_id", "anonymous_id"])
        .returning(visitor_aliases.c.visitor_id)
    ).scalar_one_or_none()
    if claimed is not None:
        return visitor_id
    session.execute(delete(visitors).where(visitors.c.id == visitor_id))
    return int(
        session.execute(
            select(visitor_aliases.c.visitor_id).where(
                visitor_aliases.c.workspace_id == workspace_id,
                visitor_aliases.c.anonymous_id == anonymous_id,
            )
        ).scalar_one()
    )


def _lock(session: Session, visitor_id: int) -> None:
    """Hold the visitor's row until the transaction ends: two batches of one visitor (two tabs)
    then rebuild its visits and aggregates one after the other, never from the same old state.
    SQLite serialises writers by itself; PostgreSQL needs the row lock."""
    session.execute(select(visitors.c.id).where(visitors.c.id == visitor_id).with_for_update())


def _empty_aggregate() -> dict[str, Any]:
    return {
        "last_session_pages": [],
        "active_seconds": 0,
        "page_views": 0,
        "sessions": 0,
        "utm_first_seen": {},
    }


# -- store ----------------------------------------------------------------------------------

_OPTIONAL_EVENT_COLUMNS = tuple(
    c.name for c in tracked_events.columns if c.nullable and not c.primary_key
)


def _event_row(
    workspace_id: int, visitor_id: int, received_at: datetime, event: Event
) -> dict[str, Any]:
    # A multi-row INSERT needs every row to name the same columns.
    row: dict[str, Any] = dict.fromkeys(_OPTIONAL_EVENT_COLUMNS) | {
        "workspace_id": workspace_id,
        "visitor_id": visitor_id,
        "anonymous_id": event.anonymous_id,
        "event_id": event.event_id,
        "at": event.at,
        "received_at": received_at,
        "client_session_id": event.client_session_id,
    }
    if isinstance(event, PageView):
        row |= {
            "type": "pageview",
            "url": event.url,
            "path": event.path,
            "title": event.title,
            "referrer": event.referrer,
            **{f"utm_{name}": getattr(event.utm, name) for name in UTM_FIELDS},
        }
    elif isinstance(event, Activity):
        row |= {"type": "activity", "url": event.url, "path": event.path, "seconds": event.seconds}
    else:
        row |= {
            "type": "identify",
            "email": event.email,
            "source": event.source.value,
            "traits": {k: v for k, v in vars(event.traits).items() if v is not None},
        }
    return row


def _store(session: Session, workspace_id: int, visitor_id: int, batch: ParsedBatch) -> list[Event]:
    """Insert the batch's events; returns those that were new (not seen before)."""
    if not batch.events:
        return []
    # One copy of an event id per batch, the first (the parser already refuses the others;
    # a batch built elsewhere must not count a copy that was not the one stored).
    events = list({e.event_id: e for e in reversed(batch.events)}.values())[::-1]
    rows = [_event_row(workspace_id, visitor_id, batch.received_at, e) for e in events]
    # One statement with the rows as parameters (not a VALUES list built per batch), so its
    # compiled form is cached and reused by every batch.
    statement = (
        insert_for(session, tracked_events)
        .on_conflict_do_nothing(index_elements=["workspace_id", "anonymous_id", "event_id"])
        .returning(tracked_events.c.event_id, sort_by_parameter_order=True)
    )
    new_ids = set(session.execute(statement, rows).scalars())
    return [e for e in events if e.event_id in new_ids]


# -- identify -------------------------------------------------------------------------------


def _identify(
    session: Session, workspace_id: int, visitor_id: int, event: Identify
) -> tuple[int, set[str]]:
    """Give the visitor the email (merging with the visitor who has it); returns the survivor
    and the company it left, if the email's domain moved it to another."""
    other = session.scalar(
        select(visitors.c.id).where(
            visitors.c.workspace_id == workspace_id, visitors.c.email == event.email
        )
    )
    if other is not None and other != visitor_id:
        _lock(session, other)
        survivor, merged = min(other, visitor_id), max(other, visitor_id)
        _merge(session, workspace_id, survivor, merged)
        visitor_id = survivor
    current = session.execute(select(visitors).where(visitors.c.id == visitor_id)).one()
    traits: IdentifyTraits = event.traits
    values: dict[str, Any] = {"email": event.email}
    for column, value in (
        ("name", traits.name),
        ("title", traits.title),
        ("linkedin_url", traits.linkedin),
    ):
        if value is not None:
            values[column] = value
    if current.identification_source is None:
        values["identification_source"] = event.source.value
        values["identified_at"] = event.at
    domain = company_domain_from_email(event.email)
    left: set[str] = set()
    if domain is not None:
        # An address at the company's domain says more than an IP range does.
        values["company_domain"] = domain
        if current.company_domain is not None and current.company_domain != domain:
            left.add(current.company_domain)
    session.execute(update(visitors).where(visitors.c.id == visitor_id).values(**values))
    return visitor_id, left


def _merge(session: Session, workspace_id: int, survivor: int, merged: int) -> None:
    """Fold visitor `merged` into `survivor`: aliases, events and visits move, `merged` goes."""
    for table in (visitor_aliases, tracked_events):
        session.execute(
            update(table).where(table.c.visitor_id == merged).values(visitor_id=survivor)
        )
    gone = session.execute(select(visitors).where(visitors.c.id == merged)).one()
    keep = session.execute(select(visitors).where(visitors.c.id == survivor)).one()
    # The merged visitor's facts fill the survivor's gaps; the survivor's win otherwise.
    fill = {
        column: getattr(gone, column)
        for column in ("name", "title", "linkedin_url", "company_domain", "ip")
        if getattr(keep, column) is None and getattr(gone, column) is not None
    }
    if keep.identification_source is None and gone.identification_source is not None:
        fill |= {
            "identification_source": gone.identification_source,
            "identified_at": gone.identified_at,
        }
    utm = _merged_utm(_utm_maps(keep.utm_first_seen), _utm_maps(gone.utm_first_seen))
    fill["utm_first_seen"] = _utm_json(utm)
    session.execute(delete(visitor_sessions).where(visitor_sessions.c.visitor_id == merged))
    session.execute(
        delete(outbox).where(
            and_(
                outbox.c.workspace_id == workspace_id,
                outbox.c.kind == "visitor",
                outbox.c.key == str(merged),
            )
        )
    )
    if gone.email is not None and keep.email is None:
        fill["email"] = gone.email
    session.execute(delete(visitors).where(visitors.c.id == merged))
    session.execute(update(visitors).where(visitors.c.id == survivor).values(**fill))
    # Every client session of the merged visitor now belongs to the survivor: rebuild them all.
    client_sessions = set(
        session.scalars(
            select(tracked_events.c.client_session_id)
            .where(tracked_events.c.visitor_id == survivor, tracked_events.c.type != "identify")
            .distinct()
        )
    )
    for client_session_id in client_sessions:
        rebuild_client_session(session, survivor, client_session_id)
    if gone.company_domain is not None and gone.company_domain != keep.company_domain:
        refresh_company(session, workspace_id, gone.company_domain, None)


# -- company by IP --------------------------------------------------------------------------


def _locate(
    session: Session,
    visitor_id: int,
    ip: str,
    resolver: CompanyResolver | None,
    keep_full_ip: bool,
) -> None:
    address = parse_ip(ip)
    if address is None:
        return
    values: dict[str, Any] = {"ip": ip_for_storage(address, keep_full_ip=keep_full_ip)}
    row = session.execute(
        select(visitors.c.company_domain).where(visitors.c.id == visitor_id)
    ).one()
    if row.company_domain is None and resolver is not None and is_public(address):
        found = resolver.resolve(address)
        if found is not None:
            values["company_domain"] = found.domain
    session.execute(update(visitors).where(visitors.c.id == visitor_id).values(**values))


# -- aggregates -----------------------------------------------------------------------------


def _page_event(row: Row[Any]) -> PageEvent:
    common = {
        "event_id": row.event_id,
        "anonymous_id": row.anonymous_id,
        "client_session_id": row.client_session_id,
        "at": row.at,
        "url": row.url,
        "path": row.path,
    }
    if row.type == "activity":
        return Activity(seconds=row.seconds, **common)
    return PageView(
        title=row.title,
        referrer=row.referrer,
        utm=UtmValues(**{name: getattr(row, f"utm_{name}") for name in UTM_FIELDS}),
        **common,
    )


def rebuild_client_session(session: Session, visitor_id: int, client_session_id: str) -> None:
    """Replace the visit rows of one client session with its stored events' sessions."""
    rows = session.execute(
        select(tracked_events)
        .where(
            tracked_events.c.visitor_id == visitor_id,
            tracked_events.c.client_session_id == client_session_id,
            tracked_events.c.type != "identify",
        )
        .order_by(tracked_events.c.at, tracked_events.c.event_id)
    ).all()
    visits = split_client_session(client_session_id, dedupe(_page_event(r) for r in rows))
    session.execute(
        delete(visitor_sessions).where(
            visitor_sessions.c.visitor_id == visitor_id,
            visitor_sessions.c.client_session_id == client_session_id,
        )
    )
    if visits:
        session.execute(
            insert(visitor_sessions),
            [
                {
                    "visitor_id": visitor_id,
                    "client_session_id": client_session_id,
                    "part": visit.key.index,
                    "started_at": visit.started_at,
                    "last_at": visit.last_at,
                    "page_paths": list(visit.page_paths),
                    "page_views": visit.page_views,
                    "active_seconds": visit.active_seconds,
                }
                for visit in visits
            ],
        )


def _utm_maps(
    stored: Mapping[str, Mapping[str, str]] | None,
) -> dict[UtmField, dict[str, datetime]]:
    return {
        name: {
            value: datetime.fromisoformat(at) for value, at in (stored or {}).get(name, {}).items()
        }
        for name in UTM_FIELDS
    }


def _merged_utm(
    *maps: Mapping[UtmField, Mapping[str, datetime]],
) -> dict[UtmField, dict[str, datetime]]:
    merged: dict[UtmField, dict[str, datetime]] = {}
    for each in maps:
        merge_first_sights(merged, each)
    return merged


def _utm_json(maps: Mapping[UtmField, Mapping[str, datetime]]) -> dict[str, dict[str, str]]:
    return {
        name: {v: at.isoformat() for v, at in values.items()}
        for name, values in maps.items()
        if values
    }


def load_aggregate(session: Session, visitor_id: int) -> VisitorAggregate:
    """The visitor's stored aggregate."""
    row = session.execute(select(visitors).where(visitors.c.id == visitor_id)).one()
    return aggregate_of(row)


def aggregate_of(row: Row[Any]) -> VisitorAggregate:
    """The aggregate stored in a `visitors` (or `companies`) row."""
    return VisitorAggregate(
        last_seen=row.last_seen,
        last_session_started_at=row.last_session_started_at,
        last_session_pages=tuple(row.last_session_pages),
        active_seconds=int(row.active_seconds),
        page_views=int(row.page_views),
        sessions=int(row.sessions),
        utm=UtmFirstSeen.from_maps(_utm_maps(row.utm_first_seen)),
    )


def _aggregate_from_visits(
    visits: Sequence[Visit], utm: Mapping[UtmField, Mapping[str, datetime]]
) -> VisitorAggregate:
    latest = max(visits, key=recency_key, default=None)
    return VisitorAggregate(
        last_seen=max((v.last_at for v in visits), default=None),
        last_session_started_at=latest.started_at if latest else None,
        last_session_pages=latest.page_paths if latest else (),
        active_seconds=sum(v.active_seconds for v in visits),
        page_views=sum(v.page_views for v in visits),
        sessions=len(visits),
        utm=UtmFirstSeen.from_maps(utm),
    )


def _visits(session: Session, visitor_id: int) -> list[Visit]:
    return [
        Visit(
            key=SessionKey(r.client_session_id, r.part),
            started_at=r.started_at,
            last_at=r.last_at,
            page_paths=tuple(r.page_paths),
            page_views=r.page_views,
            active_seconds=r.active_seconds,
        )
        for r in session.execute(
            select(visitor_sessions).where(visitor_sessions.c.visitor_id == visitor_id)
        )
    ]


def aggregate_columns(aggregate: VisitorAggregate) -> dict[str, Any]:
    """The aggregate as the column values of a `visitors` or `companies` row."""
    return {
        "last_seen": aggregate.last_seen,
        "last_session_started_at": aggregate.last_session_started_at,
        "last_session_pages": list(aggregate.last_session_pages),
        "active_seconds": aggregate.active_seconds,
        "page_views": aggregate.page_views,
        "sessions": aggregate.sessions,
        "utm_first_seen": _utm_json(
            {name: dict(getattr(aggregate.utm, name)) for name in UTM_FIELDS}
        ),
    }


def _refresh(
    session: Session,
    workspace_id: int,
    visitor_id: int,
    touched: set[str],
    stored: Sequence[Event],
    sync_since: datetime | None,
    left: set[str],
) -> None:
    row = session.execute(select(visitors).where(visitors.c.id == visitor_id)).one()
    old = aggregate_of(row)
    for client_session_id in sorted(touched):
        rebuild_client_session(session, visitor_id, client_session_id)
    utm = _merged_utm(
        _utm_maps(row.utm_first_seen),
        utm_first_sights(e for e in stored if isinstance(e, PageView | Activity)),
    )
    new = _aggregate_from_visits(_visits(session, visitor_id), utm)
    session.execute(
        update(visitors).where(visitors.c.id == visitor_id).values(**aggregate_columns(new))
    )
    newest = max((e.at for e in stored), default=None)
    syncable = sync_since is not None and newest is not None and newest >= sync_since
    changed = visitor_changes(old, new)
    if syncable and changed and newest is not None:
        mark_outbox(session, workspace_id, "visitor", str(visitor_id), changed, newest)
    company: str | None = row.company_domain
    for domain in sorted(left | ({company} if company is not None else set())):
        refresh_company(session, workspace_id, domain, newest if syncable else None)


def refresh_company(
    session: Session,
    workspace_id: int,
    domain: str,
    mark_at: datetime | None,
) -> bool:
    """Recombine the company from its visitors; mark it in the outbox at `mark_at` (None: the
    activity is not for the CRM). A company with no visitor left goes; returns True then.

    Recombining first (to the empty aggregate when no visitor is left) marks exactly the fields
    the Account must change before the row goes."""
    members = session.execute(
        select(visitors).where(
            visitors.c.workspace_id == workspace_id, visitors.c.company_domain == domain
        )
    ).all()
    new = combine((str(r.id), aggregate_of(r)) for r in members)
    current = session.execute(
        select(companies).where(
            companies.c.workspace_id == workspace_id, companies.c.domain == domain
        )
    ).one_or_none()
    old = None if current is None else company_of(current)
    values = {**aggregate_columns(new), "visitor_count": new.visitor_count}
    if current is None:
        session.execute(
            insert(companies).values(workspace_id=workspace_id, domain=domain, **values)
        )
    else:
        session.execute(
            update(companies)
            .where(companies.c.workspace_id == workspace_id, companies.c.domain == domain)
            .values(**values)
        )
    changed = company_changes(old, new)
    if mark_at is not None and changed:
        mark_outbox(session, workspace_id, "company", domain, changed, mark_at)
    if members:
        return False
    session.execute(
        delete(companies).where(
            companies.c.workspace_id == workspace_id, companies.c.domain == domain
        )
    )
    return True


def company_of(row: Row[Any]) -> CompanyAggregate:
    """The aggregate stored in a `companies` row."""
    visitor = aggregate_of(row)
    return CompanyAggregate(**vars(visitor), visitor_count=int(row.visitor_count))


def mark_outbox(
    session: Session,
    workspace_id: int,
    kind: str,
    key: str,
    fields: frozenset[str],
    at: datetime,
) -> None:
    """A new version of the outbox row: the write-back sends the latest, once."""
    current = session.execute(
        select(outbox.c.version, outbox.c.fields).where(
            outbox.c.workspace_id == workspace_id, outbox.c.kind == kind, outbox.c.key == key
        )
    ).one_or_none()
    if current is None:
        session.execute(
            insert(outbox).values(
                workspace_id=workspace_id,
                kind=kind,
                key=key,
                version=1,
                fields=sorted(fields),
                marked_at=at,
            )
        )
        return
    session.execute(
        update(outbox)
        .where(outbox.c.workspace_id == workspace_id, outbox.c.kind == kind, outbox.c.key == key)
        .values(
            version=current.version + 1,
            fields=sorted(set(current.fields) | fields),
            marked_at=at,
        )
    )


def recompute_visitor(session: Session, visitor_id: int) -> VisitorAggregate:
    """The visitor's aggregate from every stored event, from scratch (`recompute`)."""
    rows = session.execute(
        select(tracked_events).where(
            tracked_events.c.visitor_id == visitor_id, tracked_events.c.type != "identify"
        )
    ).all()
    return recompute(_page_event(r) for r in rows)
