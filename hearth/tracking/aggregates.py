"""Visitor and company aggregates: the numbers Hearth writes to Salesforce. Pure, no I/O.

The definitions, over one visitor's page views and activity events (identify events do not
count; duplicates by event id count once, see `hearth.tracking.sessions`):

- ``last_seen``: the time of the visitor's latest page view or activity event (None if none).
- ``sessions``: the number of sessions (`hearth.tracking.sessions`): per client session id,
  split wherever two consecutive events are more than 15 minutes apart.
- ``last_session_pages``: the ``page_paths`` of the most recent session: the one whose last
  event is latest (ties: the later start, then the greater key). ``last_session_started_at``
  is its start, kept so that companies can pick their most recent session among visitors.
- ``page_views``: the number of page views; ``active_seconds``: the sum of the activity
  events' seconds.
- ``utm``: for each of campaign, content, medium and source, the distinct values found in page
  views' URLs, each with the earliest time it was seen, ordered by that time (ties by value).
  ``utm_campaigns`` etc. are the values alone, in that order.

A company's aggregate (`CompanyAggregate`, built by `combine`) is the same over all of its
visitors: sums of the counts, the latest ``last_seen``, the pages of the most recent session of
any visitor (ties: the later start, then the greater visitor id), each UTM value at its earliest
time over all visitors, plus ``visitor_count``: the number of its visitors that were ever seen
(a visitor known only from an identify call, with no page event, is not counted).

`recompute(events)` takes a visitor's aggregate from all of its events, in any order. Storage
keeps aggregates up to date as batches arrive without reading a visitor's whole history
(`hearth.collect.ingest`: only the touched client sessions are rebuilt), and `hearth recompute`
checks that the two agree.

Companies are recombined from their visitors' aggregates with `combine` (one row per visitor,
linear time): an exact incremental company update would need every visitor's contribution to
the maxima and minima anyway, which is what the visitors' aggregates are.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, TypeAlias

from hearth.errors import InvalidInputError
from hearth.tracking.events import Event, PageEvent, PageView
from hearth.tracking.sessions import (
    Session,
    dedupe,
    recency_key,
    split_client_session,
)

__all__ = [
    "UTM_FIELDS",
    "CompanyAggregate",
    "UtmField",
    "UtmFirstSeen",
    "VisitorAggregate",
    "combine",
    "merge_first_sights",
    "recompute",
    "utm_first_sights",
]

UtmField: TypeAlias = Literal["campaign", "content", "medium", "source"]
UTM_FIELDS: Final[tuple[UtmField, ...]] = ("campaign", "content", "medium", "source")

#: Values with the earliest time each was seen, ordered by (time, value).
FirstSeen: TypeAlias = tuple[tuple[str, datetime], ...]
_UtmMaps: TypeAlias = dict[UtmField, dict[str, datetime]]


@dataclass(frozen=True, kw_only=True)
class UtmFirstSeen:
    """Each UTM parameter's distinct values with their first sight, ordered by (time, value)."""

    campaign: FirstSeen = ()
    content: FirstSeen = ()
    medium: FirstSeen = ()
    source: FirstSeen = ()

    @classmethod
    def from_maps(cls, maps: Mapping[UtmField, Mapping[str, datetime]]) -> "UtmFirstSeen":
        """From ``{field: {value: first time}}``."""
        ordered = {name: _ordered(maps.get(name, {})) for name in UTM_FIELDS}
        return cls(**ordered)

    def values(self, name: UtmField) -> tuple[str, ...]:
        """The values of one parameter, in order of first sight."""
        first_seen: FirstSeen = getattr(self, name)
        return tuple(value for value, _ in first_seen)


@dataclass(frozen=True, kw_only=True)
class VisitorAggregate:
    """One visitor's website activity, as the module docstring defines it."""

    last_seen: datetime | None = None
    last_session_started_at: datetime | None = None
    last_session_pages: tuple[str, ...] = ()
    active_seconds: int = 0
    page_views: int = 0
    sessions: int = 0
    utm: UtmFirstSeen = field(default_factory=UtmFirstSeen)

    @property
    def utm_campaigns(self) -> tuple[str, ...]:
        return self.utm.values("campaign")

    @property
    def utm_contents(self) -> tuple[str, ...]:
        return self.utm.values("content")

    @property
    def utm_mediums(self) -> tuple[str, ...]:
        return self.utm.values("medium")

    @property
    def utm_sources(self) -> tuple[str, ...]:
        return self.utm.values("source")


@dataclass(frozen=True, kw_only=True)
class CompanyAggregate(VisitorAggregate):
    """A company's website activity over all of its visitors, plus how many there are."""

    visitor_count: int = 0


# -- from scratch ---------------------------------------------------------------------------------


def recompute(events: Iterable[Event]) -> VisitorAggregate:
    """One visitor's aggregate from all of its events (any order, duplicates allowed)."""
    page_events = dedupe(events)
    by_client_session: dict[str, list[PageEvent]] = {}
    for event in page_events:
        by_client_session.setdefault(event.client_session_id, []).append(event)
    sessions = [
        session
        for client_session_id, part in by_client_session.items()
        for session in split_client_session(client_session_id, part)
    ]
    latest = max(sessions, key=recency_key, default=None)
    return _aggregate(
        latest=latest,
        sessions=len(sessions),
        page_views=sum(session.page_views for session in sessions),
        active_seconds=sum(session.active_seconds for session in sessions),
        utm=utm_first_sights(page_events),
    )


# -- companies ------------------------------------------------------------------------------------


def combine(visitors: Iterable[tuple[str, VisitorAggregate]]) -> CompanyAggregate:
    """A company's aggregate from its visitors' ``(visitor id, aggregate)`` pairs.

    The visitors given are the company's visitors; each id may appear once (`InvalidInputError`
    otherwise). Linear in the number of visitors and their UTM values.
    """
    seen_ids: set[str] = set()
    latest: tuple[datetime, datetime, str, VisitorAggregate] | None = None
    page_views = active_seconds = sessions = visitor_count = 0
    utm: _UtmMaps = {}
    for visitor_id, aggregate in visitors:
        if visitor_id in seen_ids:
            raise InvalidInputError(f"visitor {visitor_id!r} is given twice")
        seen_ids.add(visitor_id)
        page_views += aggregate.page_views
        active_seconds += aggregate.active_seconds
        sessions += aggregate.sessions
        if aggregate.last_seen is None or aggregate.last_session_started_at is None:
            continue
        visitor_count += 1
        candidate = (aggregate.last_seen, aggregate.last_session_started_at, visitor_id, aggregate)
        if latest is None or candidate[:3] > latest[:3]:
            latest = candidate
        for name in UTM_FIELDS:
            merged = utm.setdefault(name, {})
            for value, first in getattr(aggregate.utm, name):
                current = merged.get(value)
                if current is None or first < current:
                    merged[value] = first
    most_recent = latest[3] if latest is not None else VisitorAggregate()
    return CompanyAggregate(
        last_seen=most_recent.last_seen,
        last_session_started_at=most_recent.last_session_started_at,
        last_session_pages=most_recent.last_session_pages,
        active_seconds=active_seconds,
        page_views=page_views,
        sessions=sessions,
        utm=UtmFirstSeen.from_maps(utm),
        visitor_count=visitor_count,
    )


# -- shared ---------------------------------------------------------------------------------------


def _aggregate(
    *,
    latest: Session | None,
    sessions: int,
    page_views: int,
    active_seconds: int,
    utm: Mapping[UtmField, Mapping[str, datetime]],
) -> VisitorAggregate:
    return VisitorAggregate(
        last_seen=latest.last_at if latest is not None else None,
        last_session_started_at=latest.started_at if latest is not None else None,
        last_session_pages=latest.page_paths if latest is not None else (),
        active_seconds=active_seconds,
        page_views=page_views,
        sessions=sessions,
        utm=UtmFirstSeen.from_maps(utm),
    )


def utm_first_sights(events: Iterable[PageEvent]) -> _UtmMaps:
    """``{field: {value: earliest time}}`` over the page views of `events`."""
    maps: _UtmMaps = {}
    for event in events:
        if not isinstance(event, PageView):
            continue
        for name in UTM_FIELDS:
            value: str | None = getattr(event.utm, name)
            if value is None:
                continue
            values = maps.setdefault(name, {})
            current = values.get(value)
            if current is None or event.at < current:
                values[value] = event.at
    return maps


def merge_first_sights(into: _UtmMaps, other: Mapping[UtmField, Mapping[str, datetime]]) -> None:
    """Fold `other`'s first sights into `into`, keeping each value's earliest time."""
    for name, values in other.items():
        merged = into.setdefault(name, {})
        for value, first in values.items():
            current = merged.get(value)
            if current is None or first < current:
                merged[value] = first


def _ordered(values: Mapping[str, datetime]) -> FirstSeen:
    return tuple(sorted(values.items(), key=lambda item: (item[1], item[0])))
