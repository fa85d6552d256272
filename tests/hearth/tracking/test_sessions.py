"""Sessions: client session ids, the 15-minute backstop, duplicates, order, midnight."""

from datetime import UTC, datetime, timedelta

from hearth.tracking import (
    IDLE_TIMEOUT,
    Session,
    SessionKey,
    dedupe,
    sessionize,
)
from hearth.tracking.sessions import recency_key
from tests.hearth.tracking.builders import T0, active, at, identify, page


def test_one_session_with_its_pages_views_and_active_time() -> None:
    events = [
        page("p1", at(0), "/"),
        active("a1", at(0, 30), 30, "/"),
        page("p2", at(1), "/pricing"),
        active("a2", at(2), 45, "/pricing"),
        page("p3", at(3), "/"),
    ]

    assert sessionize(events) == [
        Session(
            key=SessionKey("s1", 0),
            started_at=at(0),
            last_at=at(3),
            page_paths=("/", "/pricing"),
            page_views=3,
            active_seconds=75,
        )
    ]


def test_the_idle_split_is_strictly_more_than_15_minutes() -> None:
    assert timedelta(minutes=15) == IDLE_TIMEOUT
    just_under = [page("p1", at(0)), page("p2", at(14, 59))]
    exactly = [page("p1", at(0)), page("p2", at(15))]
    just_over = [page("p1", at(0)), page("p2", at(15, 1))]
    a_millisecond_over = [page("p1", at(0)), page("p2", at(15, 0.001))]

    assert len(sessionize(just_under)) == 1
    assert len(sessionize(exactly)) == 1
    assert [s.key for s in sessionize(just_over)] == [SessionKey("s1", 0), SessionKey("s1", 1)]
    assert len(sessionize(a_millisecond_over)) == 2


def test_the_gap_is_between_consecutive_events_not_from_the_start() -> None:
    # Active for an hour, never idle for 15 minutes: one session.
    events = [active(f"a{i}", at(i * 10), 60) for i in range(7)]
    (session,) = sessionize(events)
    assert (session.started_at, session.last_at) == (at(0), at(60))


def test_a_session_across_midnight_is_one_session() -> None:
    before = datetime(2026, 11, 24, 23, 55, tzinfo=UTC)
    events = [
        page("p1", before, "/blog"),
        active("a1", before + timedelta(minutes=4), 30, "/blog"),
        page("p2", before + timedelta(minutes=10), "/pricing"),
    ]

    (session,) = sessionize(events)
    assert session.started_at.date() != session.last_at.date()
    assert session.page_paths == ("/blog", "/pricing")


def test_two_tabs_share_one_client_session() -> None:
    tab_a = [page("a1", at(0), "/"), active("a2", at(5), 20, "/"), page("a3", at(19), "/docs")]
    tab_b = [page("b1", at(2), "/pricing"), active("b2", at(12), 10, "/pricing")]

    (session,) = sessionize(tab_a + tab_b)
    # Each tab alone has a gap over 15 minutes; together no gap reaches it.
    assert session.page_paths == ("/", "/pricing", "/docs")
    assert (session.page_views, session.active_seconds) == (3, 30)


def test_client_sessions_are_never_merged() -> None:
    events = [page("p1", at(0), session="s1"), page("p2", at(1), session="s2")]
    sessions = sessionize(events)
    assert [s.key for s in sessions] == [SessionKey("s1", 0), SessionKey("s2", 0)]


def test_order_and_duplicates_do_not_matter() -> None:
    events = [
        page("p1", at(0)),
        active("a1", at(1)),
        page("p2", at(20), "/x"),
        active("a2", at(21)),
    ]
    shuffled = [events[3], events[1], events[0], events[2], events[1], events[3]]
    assert sessionize(shuffled) == sessionize(events)


def test_a_resent_copy_keeps_the_earliest_time() -> None:
    original = page("p1", at(10))
    resent = page("p1", at(10, 2))  # the same event, corrected by another batch's offset
    assert dedupe([resent, original]) == [original]
    assert sessionize([resent, original]) == sessionize([original])


def test_a_late_event_in_the_gap_joins_the_two_parts() -> None:
    events = [page("p1", at(0), "/"), page("p2", at(20), "/b")]
    assert len(sessionize(events)) == 2
    assert sessionize([*events, active("a1", at(10), 5, "/")]) == [
        Session(
            key=SessionKey("s1", 0),
            started_at=at(0),
            last_at=at(20),
            page_paths=("/", "/b"),
            page_views=2,
            active_seconds=5,
        )
    ]


def test_an_activity_only_session_has_the_activity_page() -> None:
    # The visitor comes back to a tab left open for 30 minutes and scrolls.
    events = [page("p1", at(0), "/guide"), active("a1", at(30), 12, "/guide")]
    _, second = sessionize(events)
    assert second.page_paths == ("/guide",)
    assert (second.page_views, second.active_seconds) == (0, 12)


def test_identify_events_take_no_part() -> None:
    assert sessionize([identify("i1", at(0))]) == []
    assert sessionize([page("p1", at(0)), identify("i1", at(40))]) == sessionize(
        [page("p1", at(0))]
    )


def test_sessions_are_sorted_by_start_and_recency_picks_the_latest_end() -> None:
    events = [
        page("p1", T0, session="long"),
        active("a1", at(50), session="long"),
        page("p2", at(10), session="short"),
    ]
    sessions = sessionize(events)
    assert [s.key.client_session_id for s in sessions] == ["long", "short", "long"]
    latest = max(sessions, key=recency_key)
    assert latest.key == SessionKey("long", 1)
