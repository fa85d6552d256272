"""Properties over random event streams: order and copies don't matter, numbers add up.

The streams have several client sessions (two tabs interleave inside one), gaps around the
15-minute boundary, times around midnight, page views with UTM values, activity, identify
events, exact copies and re-sent copies with a later corrected time.
"""

import itertools
import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hearth.tracking import (
    UTM_FIELDS,
    Activity,
    Event,
    IdentificationSource,
    Identify,
    PageView,
    combine,
    parse_batch,
    recompute,
    sessionize,
    utm_values,
)

MIDNIGHT = datetime(2026, 11, 25, tzinfo=UTC)
START = MIDNIGHT - timedelta(minutes=40)

# Offsets in seconds from START: mostly random, often right at the 15-minute boundary.
_step = st.one_of(
    st.integers(min_value=0, max_value=20 * 60),
    st.sampled_from([0, 1, 899, 900, 901, 14 * 60 + 59, 15 * 60 + 1]),
)
_paths = st.sampled_from(["/", "/pricing", "/docs", "/pricing/", "/blog/post"])
_utm_query = st.sampled_from(
    [
        "",
        "utm_source=google",
        "utm_source=Google&utm_medium=cpc",
        "utm_campaign=q4&utm_content=a",
        "utm_campaign=Q4&utm_source=bing&utm_content=b&utm_medium=email",
    ]
)


@st.composite
def _raw_events(draw: st.DrawFn) -> list[tuple[str, int, str, str, int, str]]:
    """(client session, seconds from START, kind, path, activity seconds, query) in time order."""
    count = draw(st.integers(min_value=0, max_value=30))
    clock = 0
    rows = []
    for _ in range(count):
        clock += draw(_step) // draw(st.sampled_from([1, 1, 4]))  # some bursts: two tabs
        rows.append(
            (
                draw(st.sampled_from(["s1", "s1", "s2", "s3"])),
                clock,
                draw(st.sampled_from(["pageview", "activity", "activity", "identify"])),
                draw(_paths),
                draw(st.integers(min_value=1, max_value=60)),
                draw(_utm_query),
            )
        )
    return rows


def _event(index: int, row: tuple[str, int, str, str, int, str], shift: float = 0) -> Event:
    session, seconds, kind, path, active, query = row
    when = START + timedelta(seconds=seconds + shift)
    url = f"https://acme.com{path}" + (f"?{query}" if query else "")
    common = {
        "event_id": f"e{index}",
        "anonymous_id": "a1",
        "client_session_id": session,
        "at": when,
    }
    if kind == "pageview":
        return PageView(**common, url=url, path=path, utm=utm_values(url))  # type: ignore[arg-type]
    if kind == "activity":
        return Activity(**common, url=url, path=path, seconds=active)  # type: ignore[arg-type]
    return Identify(**common, email="ann@acme.com", source=IdentificationSource.FORM)  # type: ignore[arg-type]


@st.composite
def streams(draw: st.DrawFn, *, moved: bool = False) -> tuple[list[Event], list[Event]]:
    """(the distinct events, the same events shuffled with exact and re-sent copies).

    Re-sent copies come later than the original, so the original is the copy kept. With
    `moved`, some copies also come earlier, under another client session id and with other
    UTM values (a snippet that re-batched its queue), so the kept copy is not always the
    original.
    """
    rows = draw(_raw_events())
    events = [_event(i, row) for i, row in enumerate(rows)]
    delivered = list(events)
    some = st.lists(st.integers(min_value=0, max_value=max(len(rows) - 1, 0)), max_size=8)
    for i in draw(some):
        if rows:
            delivered.append(events[i])  # an exact copy
    for i in draw(some):
        if rows:
            delivered.append(_event(i, rows[i], shift=draw(st.sampled_from([0.25, 2, 30]))))
    if moved:
        for i in draw(some):
            if rows:
                session = draw(st.sampled_from(["s1", "s2", "s3"]))
                row = (session, *rows[i][1:5], draw(_utm_query))
                delivered.append(_event(i, row, shift=draw(st.sampled_from([-60, -1, 0, 1]))))
    draw(st.randoms(use_true_random=False)).shuffle(delivered)
    return events, delivered


@settings(max_examples=300, deadline=None)
@given(streams(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_order_or_copies(
    stream: tuple[list[Event], list[Event]], rng: random.Random
) -> None:
    events, delivered = stream
    reordered = list(delivered)
    rng.shuffle(reordered)

    assert sessionize(reordered) == sessionize(delivered)
    assert recompute(reordered) == recompute(delivered)
    # Exact copies change nothing: only the re-sent copies with *later* times were added,
    # and the earliest copy of each id wins, which is the original.
    assert recompute(delivered) == recompute(events)
    assert sessionize(delivered) == sessionize(events)


@settings(max_examples=200, deadline=None)
@given(streams())
def test_aggregates_add_up_over_sessions(stream: tuple[list[Event], ...]) -> None:
    events, _ = stream
    sessions = sessionize(events)
    aggregate = recompute(events)
    assert aggregate.sessions == len(sessions)
    assert aggregate.page_views == sum(s.page_views for s in sessions)
    assert aggregate.active_seconds == sum(s.active_seconds for s in sessions)
    page_events = [e for e in events if not isinstance(e, Identify)]
    assert aggregate.last_seen == max((e.at for e in page_events), default=None)
    for client_session_id in {s.key.client_session_id for s in sessions}:
        parts = [s for s in sessions if s.key.client_session_id == client_session_id]
        assert [s.key.index for s in parts] == list(range(len(parts)))
        for first, second in itertools.pairwise(parts):
            assert second.started_at - first.last_at > timedelta(minutes=15)


@settings(max_examples=200, deadline=None)
@given(st.lists(streams(), min_size=0, max_size=4), st.randoms(use_true_random=False))
def test_combine_does_not_depend_on_visitor_order(
    visitor_streams: list[tuple[list[Event], list[Event]]], rng: random.Random
) -> None:
    visitors = [(f"v{i}", recompute(events)) for i, (events, _) in enumerate(visitor_streams)]
    company = combine(visitors)
    rng.shuffle(visitors)
    assert combine(visitors) == company
    assert company.visitor_count == sum(1 for _, v in visitors if v.last_seen is not None)
    assert company.page_views == sum(v.page_views for _, v in visitors)
    assert company.last_seen == max((v.last_seen for _, v in visitors if v.last_seen), default=None)
    for name in UTM_FIELDS:
        values = {value for _, v in visitors for value in v.utm.values(name)}
        assert set(company.utm.values(name)) == values


@settings(max_examples=200, deadline=None)
@given(streams(), st.lists(st.integers(min_value=-12 * 3600, max_value=12 * 3600), min_size=1))
def test_skewed_client_clocks_are_corrected(
    stream: tuple[list[Event], list[Event]], skews: list[int]
) -> None:
    """Each batch comes from a client clock off by up to 12 hours; the result is the truth's."""
    events, _ = stream
    page_events = [e for e in events if isinstance(e, PageView | Activity)]
    received_at = max((e.at for e in page_events), default=START) + timedelta(minutes=1)
    parsed: list[Event] = []
    for number, event in enumerate(page_events):
        skew = timedelta(seconds=skews[number % len(skews)])
        parsed.extend(_round_trip(event, skew, received_at))
    assert recompute(parsed) == recompute(page_events)
    assert [e.at for e in parsed] == [e.at for e in page_events]


def _round_trip(event: PageView | Activity, skew: timedelta, received_at: datetime) -> list[Event]:
    """`event` sent alone in a batch by a client whose clock is `skew` ahead."""

    def client_ms(moment: datetime) -> int:
        return round((moment + skew).timestamp() * 1000)

    raw: dict[str, object] = {"id": event.event_id, "ts": client_ms(event.at), "url": event.url}
    if isinstance(event, PageView):
        raw["type"] = "pageview"
    else:
        raw.update(type="activity", seconds=event.seconds)
    body = json.dumps(
        {
            "site": "site_x",
            "anon": event.anonymous_id,
            "session": event.client_session_id,
            "sent_at": client_ms(received_at),
            "events": [raw],
        }
    ).encode()
    batch = parse_batch(body, received_at=received_at)
    assert batch.rejected == ()
    return [replace(e) for e in batch.events]
