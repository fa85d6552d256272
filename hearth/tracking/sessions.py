"""Sessions: one visitor's page events grouped into visits. Pure, no I/O.

A **session** is a run of one visitor's page views and activity events that

1. carry the same client session id: the snippet starts a new one when the visitor arrives, and
   ends it when the last of the visitor's tabs closes or after 15 minutes without activity, so
   two tabs open at once share one session; and
2. have no gap of more than 15 minutes (`IDLE_TIMEOUT`) between one event and the next, in time
   order. This is the server's backstop for a snippet that could not end its session (a
   sleeping laptop, a tab that was never closed): a gap of exactly 15:00 keeps the session
   going, 15:00.001 starts a new one.

Midnight means nothing: a session runs for as long as the visitor is active. Identify events
are not visits and take no part (an identify can come from the API with no page at all).

**Duplicates.** An event id counts once per visitor. When copies of one id differ (a batch sent
again carries a new ``sent_at``, so its clock correction differs slightly), the copy kept is the
smallest by `copy_key`: the earliest corrected time first. So the result depends on the set of
events given, never on their order or on how often each was sent.

**Keys.** A session's key is its client session id and the 0-based index of the split within
it (`SessionKey`). Because an event that arrives late can fill a gap and join two parts, the
index of a part is only stable while no earlier event of that client session arrives.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from hearth.tracking.events import Activity, Event, PageEvent, PageView

__all__ = [
    "IDLE_TIMEOUT",
    "Session",
    "SessionKey",
    "copy_key",
    "dedupe",
    "recency_key",
    "sessionize",
    "split_client_session",
]

#: The longest gap between two events of one session.
IDLE_TIMEOUT: Final = timedelta(minutes=15)


@dataclass(frozen=True, order=True)
class SessionKey:
    """A client session id and the index of the part the 15-minute backstop cut it into."""

    client_session_id: str
    index: int

    def __str__(self) -> str:
        return f"{self.client_session_id}#{self.index}"


@dataclass(frozen=True, kw_only=True)
class Session:
    """One visit.

    ``page_paths`` are the distinct paths of the session's page views and activity events, in
    the order each was first seen (a visitor who goes ``/`` → ``/pricing`` → ``/`` has
    ``("/", "/pricing")``). Activity paths count because a visitor who comes back to a tab left
    open for more than 15 minutes starts a new session on that page without loading it again.
    ``page_views`` counts page views only; ``active_seconds`` sums the activity events.
    """

    key: SessionKey
    started_at: datetime
    last_at: datetime
    page_paths: tuple[str, ...]
    page_views: int
    active_seconds: int


def copy_key(event: PageEvent) -> tuple[datetime, str, str, int, str, str, str, int]:
    """The order in which copies of one event id compete; the smallest copy is the one kept."""
    if isinstance(event, PageView):
        return (
            event.at,
            event.client_session_id,
            event.anonymous_id,
            0,
            event.url,
            event.title or "",
            event.referrer or "",
            0,
        )
    return (
        event.at,
        event.client_session_id,
        event.anonymous_id,
        1,
        event.url,
        "",
        "",
        event.seconds,
    )


def dedupe(events: Iterable[Event]) -> list[PageEvent]:
    """The page events of `events`, one copy per event id (the smallest by `copy_key`).

    Sorted by time, then event id.
    """
    kept: dict[str, PageEvent] = {}
    for event in events:
        if isinstance(event, PageView | Activity):
            other = kept.get(event.event_id)
            if other is None or copy_key(event) < copy_key(other):
                kept[event.event_id] = event
    return sorted(kept.values(), key=_time_order)


def split_client_session(
    client_session_id: str, events: Sequence[PageEvent], *, first_index: int = 0
) -> list[Session]:
    """The sessions of one client session, from its deduplicated events sorted by time.

    Their key indexes count from `first_index` (the parts of the client session that came
    before, when the caller keeps those apart).
    """
    sessions: list[Session] = []
    part: list[PageEvent] = []
    for event in events:
        if part and event.at - part[-1].at > IDLE_TIMEOUT:
            key = SessionKey(client_session_id, first_index + len(sessions))
            sessions.append(_session(key, part))
            part = []
        part.append(event)
    if part:
        sessions.append(_session(SessionKey(client_session_id, first_index + len(sessions)), part))
    return sessions


def sessionize(events: Iterable[Event]) -> list[Session]:
    """One visitor's sessions, from its events in any order, with or without duplicates.

    Sorted by start time, then key.
    """
    by_client_session: dict[str, list[PageEvent]] = {}
    for event in dedupe(events):
        by_client_session.setdefault(event.client_session_id, []).append(event)
    sessions = [
        session
        for client_session_id, part in by_client_session.items()
        for session in split_client_session(client_session_id, part)
    ]
    return sorted(sessions, key=lambda session: (session.started_at, session.key))


def recency_key(session: Session) -> tuple[datetime, datetime, SessionKey]:
    """The order that decides a visitor's most recent session: the greatest is the latest.

    The session whose last event is latest; on a tie the one that started later; then the
    greater key.
    """
    return (session.last_at, session.started_at, session.key)


def _time_order(event: PageEvent) -> tuple[datetime, str]:
    return (event.at, event.event_id)


def _session(key: SessionKey, events: Sequence[PageEvent]) -> Session:
    paths: dict[str, None] = {}
    page_views = 0
    active_seconds = 0
    for event in events:
        paths.setdefault(event.path, None)
        if isinstance(event, PageView):
            page_views += 1
        else:
            active_seconds += event.seconds
    return Session(
        key=key,
        started_at=events[0].at,
        last_at=events[-1].at,
        page_paths=tuple(paths),
        page_views=page_views,
        active_seconds=active_seconds,
    )
