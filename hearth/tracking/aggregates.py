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

There are two ways to a visitor's aggregate, and they always agree (property-tested):

- `recompute(events)`: from all of the visitor's events, in any order.
- `apply(state, event) -> (state, aggregate)`: an incremental fold over `VisitorState`,
  starting from `EMPTY_STATE`, events in any order, again with or without duplicates.

**What `VisitorState` holds.** Per client session id, its sessions ("parts"), each with its
distinct page events (one copy each, sorted by time), its `Session` and its UTM first sights;
the client session's totals; for the visitor, the running totals, the most recent session and
each UTM value's first time. An event touches only the parts of its own client session that are
within `IDLE_TIMEOUT` of it (at most two, which it then joins into one, exactly as `recompute`
would split them), and the visitor's totals change by the difference. The common case, an
event later than the last one of its session, does O(1) Python work plus a copy of that one
session's event tuple and id set (C speed; about 30 µs at 6,000 events). An event in the
middle re-scans the touched parts: O(n), n their events. Every event also does a duplicate
check and a shallow copy over the client sessions, O(s). The most recent session getting *less*
recent, or a UTM value losing its earliest sight (only when an earlier copy of an event, in
another client session or with another URL, replaces one), rescans the client sessions'
summaries, O(s).

**The bound.** Unsealed, the state grows with the visitor's distinct page events: one page
view per page loaded and one activity event per snippet heartbeat. `seal(state, before)` drops
the events of every client session whose last event is before `before` and keeps only its
totals, its most recent session, its UTM first sights and its last time (a few values per
visit). With the storage layer sealing at ``received_at - Limits.max_age - IDLE_TIMEOUT``
(25 h 15 min before a batch's arrival), a state holds only the events of the last ~25 hours:
with a heartbeat of at most one activity event per 15 active seconds, at most 6,100 activity
events per client session, plus its page views; every older visit costs one summary.
An event that would land within 15 minutes of a sealed part raises `SealedError` (recompute the
visitor from stored events then); with that sealing point no accepted event can.

Companies are recombined from their visitors' aggregates with `combine` (one row per visitor,
linear time): an exact incremental company update would need every visitor's contribution to
the maxima and minima anyway, which is what the visitors' aggregates are.
"""

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final, Literal, TypeAlias

from hearth.errors import InvalidInputError
from hearth.tracking.events import Activity, Event, PageEvent, PageView
from hearth.tracking.sessions import (
    IDLE_TIMEOUT,
    Session,
    SessionKey,
    copy_key,
    dedupe,
    recency_key,
    split_client_session,
)

__all__ = [
    "EMPTY_STATE",
    "UTM_FIELDS",
    "CompanyAggregate",
    "SealedError",
    "UtmField",
    "UtmFirstSeen",
    "VisitorAggregate",
    "VisitorState",
    "apply",
    "combine",
    "merge_first_sights",
    "recompute",
    "seal",
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


# -- incrementally --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sealed:
    """What `seal` keeps of a client session's past parts: their totals, not their events."""

    last_at: datetime
    latest: Session | None
    sessions: int
    page_views: int
    active_seconds: int
    utm: Mapping[UtmField, Mapping[str, datetime]]


@dataclass(frozen=True)
class _Part:
    """One session of a client session, with the events it is made of."""

    events: tuple[PageEvent, ...]  # one copy per id, sorted by (at, event_id)
    ids: frozenset[str]
    session: Session
    utm: Mapping[UtmField, Mapping[str, datetime]]

    @classmethod
    def of(cls, session: Session, events: Sequence[PageEvent]) -> "_Part":
        return cls(
            events=tuple(events),
            ids=frozenset(event.event_id for event in events),
            session=session,
            utm=utm_first_sights(events),
        )

    def extended(self, event: PageEvent) -> "_Part":
        """This part with `event` added after its last event (the in-order case, no re-scan)."""
        session = self.session
        is_view = isinstance(event, PageView)
        session = replace(
            session,
            last_at=event.at,
            page_paths=session.page_paths
            if event.path in session.page_paths
            else (*session.page_paths, event.path),
            page_views=session.page_views + is_view,
            active_seconds=session.active_seconds
            + (event.seconds if isinstance(event, Activity) else 0),
        )
        utm = self.utm
        if is_view:
            copied: _UtmMaps = {name: dict(values) for name, values in utm.items()}
            merge_first_sights(copied, utm_first_sights([event]))
            utm = copied
        return _Part(
            events=(*self.events, event), ids=self.ids | {event.event_id}, session=session, utm=utm
        )

    def rekeyed(self, key: SessionKey) -> "_Part":
        if key == self.session.key:
            return self
        return replace(self, session=replace(self.session, key=key))


@dataclass(frozen=True)
class _ClientSession:
    """What the state keeps of one client session: its sessions (parts) with their events.

    The totals include the sealed part, if any; ``parts`` are the sessions after it, in time
    order, more than `IDLE_TIMEOUT` apart.
    """

    client_session_id: str
    parts: tuple[_Part, ...]
    sealed: _Sealed | None
    sessions: int
    page_views: int
    active_seconds: int
    utm: Mapping[UtmField, Mapping[str, datetime]]

    @classmethod
    def of(
        cls, client_session_id: str, parts: Sequence[_Part], sealed: _Sealed | None
    ) -> "_ClientSession":
        first_index = sealed.sessions if sealed is not None else 0
        parts = tuple(
            part.rekeyed(SessionKey(client_session_id, first_index + index))
            for index, part in enumerate(parts)
        )
        utm: _UtmMaps = {}
        if sealed is not None:
            merge_first_sights(utm, sealed.utm)
        for part in parts:
            merge_first_sights(utm, part.utm)
        return cls(
            client_session_id=client_session_id,
            parts=parts,
            sealed=sealed,
            sessions=first_index + len(parts),
            page_views=(sealed.page_views if sealed else 0)
            + sum(part.session.page_views for part in parts),
            active_seconds=(sealed.active_seconds if sealed else 0)
            + sum(part.session.active_seconds for part in parts),
            utm=utm,
        )

    @property
    def latest(self) -> Session | None:
        """The most recent session: the last part (parts are over 15 minutes apart)."""
        if self.parts:
            return self.parts[-1].session
        return self.sealed.latest if self.sealed is not None else None

    @property
    def last_at(self) -> datetime | None:
        if self.parts:
            return self.parts[-1].session.last_at
        return self.sealed.last_at if self.sealed is not None else None

    @property
    def event_count(self) -> int:
        return sum(len(part.events) for part in self.parts)

    def find(self, event_id: str) -> PageEvent | None:
        for part in self.parts:
            if event_id in part.ids:
                return next(event for event in part.events if event.event_id == event_id)
        return None

    def inserted(self, event: PageEvent) -> "_ClientSession":
        """This client session with `event` (a new id) added; only touched parts re-scanned."""
        parts = self.parts
        # The parts within IDLE_TIMEOUT of the event join it; they are contiguous, at most two.
        position = bisect.bisect_right(parts, event.at, key=lambda part: part.session.started_at)
        low = position
        if low > 0 and event.at - parts[low - 1].session.last_at <= IDLE_TIMEOUT:
            low -= 1
        high = position
        if high < len(parts) and parts[high].session.started_at - event.at <= IDLE_TIMEOUT:
            high += 1
        touched = parts[low:high]
        if len(touched) == 1 and _time_order(event) > _time_order(touched[0].events[-1]):
            joined = touched[0].extended(event)
        else:
            events = sorted([event, *(e for part in touched for e in part.events)], key=_time_order)
            (session,) = split_client_session(self.client_session_id, events)
            joined = _Part.of(session, events)
        return _ClientSession.of(
            self.client_session_id, (*parts[:low], joined, *parts[high:]), self.sealed
        )

    def removed(self, event: PageEvent) -> "_ClientSession":
        """This client session without `event`; its part is split again if that opens a gap."""
        index = next(i for i, part in enumerate(self.parts) if event.event_id in part.ids)
        rest = [e for e in self.parts[index].events if e.event_id != event.event_id]
        pieces = [
            _Part.of(session, session_events)
            for session, session_events in _split_with_events(self.client_session_id, rest)
        ]
        parts = (*self.parts[:index], *pieces, *self.parts[index + 1 :])
        return _ClientSession.of(self.client_session_id, parts, self.sealed)

    def sealed_now(self) -> "_ClientSession":
        """This client session with all of its events sealed."""
        last_at = self.last_at
        assert last_at is not None
        sealed = _Sealed(
            last_at=last_at,
            latest=self.latest,
            sessions=self.sessions,
            page_views=self.page_views,
            active_seconds=self.active_seconds,
            utm=self.utm,
        )
        return replace(self, parts=(), sealed=sealed)


def _split_with_events(
    client_session_id: str, events: Sequence[PageEvent]
) -> list[tuple[Session, Sequence[PageEvent]]]:
    """`split_client_session`, each session with its events (a slice of `events`)."""
    result: list[tuple[Session, Sequence[PageEvent]]] = []
    start = 0
    for session in split_client_session(client_session_id, events):
        end = start
        while end < len(events) and events[end].at <= session.last_at:
            end += 1
        result.append((session, events[start:end]))
        start = end
    return result


def _no_client_session(client_session_id: str) -> _ClientSession:
    return _ClientSession.of(client_session_id, (), None)


class SealedError(InvalidInputError):
    """An event falls into a part of a visitor's history that `seal` compacted.

    The state cannot place it exactly; recompute the visitor from its stored events.
    """


@dataclass(frozen=True, eq=False)
class VisitorState:
    """What `apply` keeps between events of one visitor (see the module docstring).

    Treat it as opaque and immutable: `apply` returns a new state and never changes the one
    it was given. ``aggregate`` is the visitor's aggregate as of the events applied so far.
    """

    client_sessions: Mapping[str, _ClientSession] = field(default_factory=dict)
    latest: Session | None = None
    sessions: int = 0
    page_views: int = 0
    active_seconds: int = 0
    utm: Mapping[UtmField, Mapping[str, datetime]] = field(default_factory=dict)

    @property
    def aggregate(self) -> VisitorAggregate:
        return _aggregate(
            latest=self.latest,
            sessions=self.sessions,
            page_views=self.page_views,
            active_seconds=self.active_seconds,
            utm=self.utm,
        )

    @property
    def event_count(self) -> int:
        """The distinct page events held: the state's size."""
        return sum(client_session.event_count for client_session in self.client_sessions.values())


#: The state of a visitor with no events yet.
EMPTY_STATE: Final = VisitorState()


def apply(state: VisitorState, event: Event) -> tuple[VisitorState, VisitorAggregate]:
    """`state` with `event` added, and the visitor's aggregate after it.

    Equal to `recompute` over every event applied so far, whatever their order and however
    often each was applied. An identify event changes nothing. Raises `SealedError` for an
    event that falls within `IDLE_TIMEOUT` of a sealed part of its client session (`seal`).
    """
    if not isinstance(event, PageEvent):
        return state, state.aggregate
    own = state.client_sessions.get(event.client_session_id)
    if own is not None and own.sealed is not None and event.at - own.sealed.last_at <= IDLE_TIMEOUT:
        raise SealedError(
            f"event {event.event_id!r} is within {IDLE_TIMEOUT} of the sealed part of client "
            f"session {event.client_session_id!r}"
        )
    existing = _find(state, event)
    if existing is not None and copy_key(existing) <= copy_key(event):
        return state, state.aggregate  # a duplicate that does not win
    work = _Work(state)
    if existing is not None:
        holder = work.client_sessions[existing.client_session_id]
        work.replace(holder.removed(existing))
    target = work.client_sessions.get(event.client_session_id) or _no_client_session(
        event.client_session_id
    )
    work.replace(target.inserted(event))
    new_state = work.freeze()
    return new_state, new_state.aggregate


def _find(state: VisitorState, event: PageEvent) -> PageEvent | None:
    """The copy of `event`'s id the state holds, looking in its own client session first."""
    own = state.client_sessions.get(event.client_session_id)
    if own is not None and (found := own.find(event.event_id)) is not None:
        return found
    for client_session in state.client_sessions.values():
        if client_session is not own and (found := client_session.find(event.event_id)):
            return found
    return None


class _Work:
    """A state being updated inside one `apply`: copies of its mappings, changed in place."""

    def __init__(self, state: VisitorState) -> None:
        self.client_sessions = dict(state.client_sessions)
        self.latest = state.latest
        self.sessions = state.sessions
        self.page_views = state.page_views
        self.active_seconds = state.active_seconds
        self.utm: _UtmMaps = {name: dict(values) for name, values in state.utm.items()}

    def replace(self, new: _ClientSession) -> None:
        """Make `new` the state of its client session; update the visitor's totals."""
        client_session_id = new.client_session_id
        old = self.client_sessions.get(client_session_id) or _no_client_session(client_session_id)
        if new.parts or new.sealed is not None:
            self.client_sessions[client_session_id] = new
        else:
            self.client_sessions.pop(client_session_id, None)
        self.sessions += new.sessions - old.sessions
        self.page_views += new.page_views - old.page_views
        self.active_seconds += new.active_seconds - old.active_seconds
        self._update_latest(client_session_id, new)
        self._update_utm(old, new)

    def _update_latest(self, client_session_id: str, new: _ClientSession) -> None:
        candidate = new.latest
        if candidate is not None and (
            self.latest is None or recency_key(candidate) >= recency_key(self.latest)
        ):
            self.latest = candidate
        elif self.latest is not None and self.latest.key.client_session_id == client_session_id:
            # The most recent session was this client session's and became less recent (or
            # went away): look at every client session's own most recent one.
            self.latest = max(
                (cs.latest for cs in self.client_sessions.values() if cs.latest is not None),
                key=recency_key,
                default=None,
            )

    def _update_utm(self, old: _ClientSession, new: _ClientSession) -> None:
        for name in UTM_FIELDS:
            old_values = old.utm.get(name, {})
            new_values = new.utm.get(name, {})
            merged = self.utm.setdefault(name, {})
            for value in old_values.keys() | new_values.keys():
                was = old_values.get(value)
                now = new_values.get(value)
                current = merged.get(value)
                if now is not None and (current is None or now < current):
                    merged[value] = now
                elif was is not None and was == current and (now is None or now > was):
                    # This client session held the earliest sight and lost it: look again.
                    times = [
                        seen
                        for cs in self.client_sessions.values()
                        if (seen := cs.utm.get(name, {}).get(value)) is not None
                    ]
                    if times:
                        merged[value] = min(times)
                    else:
                        del merged[value]
            if not merged:
                del self.utm[name]

    def freeze(self) -> VisitorState:
        return VisitorState(
            client_sessions=self.client_sessions,
            latest=self.latest,
            sessions=self.sessions,
            page_views=self.page_views,
            active_seconds=self.active_seconds,
            utm=self.utm,
        )


def seal(state: VisitorState, before: datetime) -> VisitorState:
    """`state` with the events of every client session whose last event is before `before`
    dropped, keeping only what they add up to; the aggregate is unchanged.

    This is what bounds the state: a sealed client session costs a few numbers, not its
    events. The price is that an event of a sealed client session must come more than
    `IDLE_TIMEOUT` after its sealed part (`apply` raises `SealedError` otherwise), and that a
    copy of a sealed event is no longer recognised. Both hold when `before` is at most
    ``received_at - Limits.max_age - IDLE_TIMEOUT`` for every batch still to be applied, since
    `parse_batch` refuses events older than ``max_age`` (a copy re-sent later than that is
    refused too, unless the client's clock jumped by more than 15 minutes in between).
    """
    if before.tzinfo is None:
        raise ValueError("before must be an aware datetime")
    client_sessions = dict(state.client_sessions)
    changed = False
    for client_session_id, client_session in state.client_sessions.items():
        last_at = client_session.last_at
        if client_session.parts and last_at is not None and last_at < before:
            client_sessions[client_session_id] = client_session.sealed_now()
            changed = True
    return replace(state, client_sessions=client_sessions) if changed else state


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


def _time_order(event: PageEvent) -> tuple[datetime, str]:
    return (event.at, event.event_id)
