"""Visitor and company aggregates: each definition, whatever the order of the events."""

from datetime import UTC, datetime, timedelta

import pytest

from hearth.errors import InvalidInputError
from hearth.tracking import (
    CompanyAggregate,
    Event,
    UtmFirstSeen,
    VisitorAggregate,
    combine,
    recompute,
)
from tests.hearth.tracking.builders import active, at, identify, page


def both(events: list[Event]) -> VisitorAggregate:
    """The aggregate, after checking that it is the same with the events in reverse order."""
    expected = recompute(events)
    assert recompute(reversed(events)) == expected
    return expected


def test_no_events() -> None:
    assert recompute([]) == VisitorAggregate()
    assert both([identify("i1", at(0))]) == VisitorAggregate()


def test_every_visitor_field() -> None:
    events: list[Event] = [
        page("p1", at(0), "/", query="utm_source=google&utm_medium=cpc&utm_campaign=Q4"),
        active("a1", at(1), 40, "/"),
        page("p2", at(2), "/pricing"),
        active("a2", at(3), 20, "/pricing"),
        # 30 minutes later: a second session.
        page("p3", at(33), "/docs", query="utm_source=LinkedIn&utm_content=banner"),
        page("p4", at(34), "/pricing"),
        active("a3", at(35), 5, "/pricing"),
    ]

    aggregate = both(events)

    assert aggregate.last_seen == at(35)
    assert aggregate.last_session_started_at == at(33)
    assert aggregate.last_session_pages == ("/docs", "/pricing")
    assert aggregate.active_seconds == 65
    assert aggregate.page_views == 4
    assert aggregate.sessions == 2
    assert aggregate.utm_sources == ("google", "LinkedIn")
    assert aggregate.utm_mediums == ("cpc",)
    assert aggregate.utm_campaigns == ("Q4",)
    assert aggregate.utm_contents == ("banner",)
    assert aggregate.utm.source == (("google", at(0)), ("LinkedIn", at(33)))


def test_utm_values_are_ordered_by_first_sight_then_value() -> None:
    events: list[Event] = [
        page("p1", at(5), query="utm_source=b"),
        page("p2", at(1), query="utm_source=c"),
        page("p3", at(5), query="utm_source=a"),
        page("p4", at(9), query="utm_source=c"),  # seen again: keeps its first sight
        page("p5", at(0), query="utm_source=B"),  # case kept: another value
    ]
    assert both(events).utm_sources == ("B", "c", "a", "b")


def test_utm_values_come_from_page_views_only() -> None:
    view = page("p1", at(0))
    act = active("a1", at(1))
    act = type(act)(**{**act.__dict__, "url": "https://acme.com/?utm_source=x"})
    assert both([view, act]).utm_sources == ()


def test_sessions_across_midnight_count_once() -> None:
    night = datetime(2026, 11, 24, 23, 50, tzinfo=UTC)
    events: list[Event] = [
        page("p1", night, "/a"),
        page("p2", night + timedelta(minutes=14), "/b"),
        active("a1", night + timedelta(minutes=28), 60, "/b"),
    ]
    aggregate = both(events)
    assert aggregate.sessions == 1
    assert aggregate.last_session_pages == ("/a", "/b")
    assert aggregate.last_seen == night + timedelta(minutes=28)


def test_the_idle_boundary() -> None:
    assert both([page("p1", at(0)), page("p2", at(14, 59))]).sessions == 1
    assert both([page("p1", at(0)), page("p2", at(15, 1))]).sessions == 2


def test_duplicates_count_once() -> None:
    events: list[Event] = [page("p1", at(0)), active("a1", at(1), 30)]
    assert both(events + events + [events[1]]) == both(events)


def test_a_resent_copy_with_an_earlier_time_replaces_the_first_copy() -> None:
    late = page("p1", at(10, 1), "/x", query="utm_source=s")
    early = page("p1", at(10), "/x", query="utm_source=s")
    aggregate = both([page("p0", at(0)), late, early])
    assert aggregate.last_seen == at(10)
    assert aggregate.utm.source == (("s", at(10)),)
    assert aggregate.page_views == 2


def test_a_late_event_fills_a_gap_and_merges_sessions() -> None:
    events: list[Event] = [page("p1", at(0), "/a"), page("p2", at(20), "/b")]
    before = both(events)
    assert (before.sessions, before.last_session_pages) == (2, ("/b",))

    after = both([*events, active("a1", at(10), 7, "/a")])

    assert (after.sessions, after.last_session_pages) == (1, ("/a", "/b"))
    assert after.last_session_started_at == at(0)


def test_two_tabs_at_once() -> None:
    events: list[Event] = [
        page("a1", at(0), "/", session="s"),
        page("b1", at(1), "/pricing", session="s"),
        active("a2", at(2), 10, "/", session="s"),
        active("b2", at(2), 10, "/pricing", session="s"),
    ]
    aggregate = both(events)
    assert (aggregate.sessions, aggregate.page_views, aggregate.active_seconds) == (1, 2, 20)


def test_clock_skewed_batches_land_in_one_session() -> None:
    # Two batches from one client whose clock jumped by hours in between: after the
    # collect layer's correction their times are the server's, so they join.
    first = page("p1", at(0), "/a")
    second = active("a1", at(3), 20, "/a")
    assert both([first, second]).sessions == 1


def test_the_most_recent_session_is_the_one_that_ended_last() -> None:
    events: list[Event] = [
        page("l1", at(0), "/long", session="long"),
        active("l2", at(14), 5, "/long", session="long"),
        active("l3", at(28), 5, "/long", session="long"),
        page("s1", at(10), "/short", session="short"),
    ]
    aggregate = both(events)
    assert aggregate.last_session_pages == ("/long",)
    assert aggregate.last_session_started_at == at(0)


# -- companies -----------------------------------------------------------------------------------


def test_combine_sums_counts_and_picks_the_latest_session() -> None:
    ann = recompute(
        [
            page("p1", at(0), "/", query="utm_source=google"),
            active("a1", at(1), 30),
            page("p2", at(40), "/pricing", query="utm_source=bing"),
        ]
    )
    bob = recompute(
        [
            page("q1", at(5), "/docs", anon="b", query="utm_source=bing&utm_medium=email"),
            page("q2", at(50), "/careers", anon="b"),
        ]
    )
    nobody = VisitorAggregate()  # known from an identify call only

    company = combine([("ann", ann), ("bob", bob), ("zed", nobody)])

    assert company == CompanyAggregate(
        last_seen=at(50),
        last_session_started_at=at(50),
        last_session_pages=("/careers",),
        active_seconds=30,
        page_views=4,
        sessions=4,
        utm=UtmFirstSeen(
            source=(("google", at(0)), ("bing", at(5))),
            medium=(("email", at(5)),),
        ),
        visitor_count=2,
    )
    assert company.utm_sources == ("google", "bing")


def test_combine_breaks_a_tie_by_start_then_visitor_id() -> None:
    ann = recompute([page("p1", at(0), "/ann"), page("p2", at(10), "/ann")])
    bob = recompute([page("q1", at(5), "/bob"), page("q2", at(10), "/bob")])
    cat = recompute([page("r1", at(5), "/cat"), page("r2", at(10), "/cat")])
    assert combine([("ann", ann), ("bob", bob)]).last_session_pages == ("/bob",)
    assert combine([("cat", cat), ("bob", bob), ("ann", ann)]).last_session_pages == ("/cat",)


def test_combine_of_nothing_and_of_a_repeated_visitor() -> None:
    assert combine([]) == CompanyAggregate()
    with pytest.raises(InvalidInputError):
        combine([("ann", VisitorAggregate()), ("ann", VisitorAggregate())])
