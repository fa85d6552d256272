"""The collect wire format: what `parse_batch` accepts, and every reason it refuses."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hearth.errors import HearthError
from hearth.provisioning.catalogue import fields_for
from hearth.tracking import (
    Activity,
    BatchProblem,
    BatchRejected,
    IdentificationSource,
    Identify,
    Limits,
    PageView,
    RejectReason,
    UtmValues,
    page_path,
    parse_batch,
    utm_values,
)

RECEIVED = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RECEIVED_MS = int(RECEIVED.timestamp() * 1000)


def body(batch_events: list[Any], **overrides: Any) -> bytes:
    document: dict[str, Any] = {
        "site": "site_abc",
        "anon": "anon-1",
        "session": "sess-1",
        "sent_at": RECEIVED_MS,
        "events": batch_events,
    }
    document.update(overrides)
    return json.dumps(document).encode()


def pageview(event_id: str = "e1", ts: int = RECEIVED_MS, **fields: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "pageview",
        "ts": ts,
        "url": "https://acme.com/pricing?utm_source=g",
        "title": "Pricing",
        "referrer": "https://google.com/",
        **fields,
    }


def activity(event_id: str = "e2", ts: int = RECEIVED_MS, **fields: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "activity",
        "ts": ts,
        "url": "https://acme.com/pricing",
        "seconds": 15,
        **fields,
    }


def identify(event_id: str = "e3", ts: int = RECEIVED_MS, **fields: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "identify",
        "ts": ts,
        "email": " Ann@Acme.com ",
        "traits": {"name": "Ann", "title": "CTO", "linkedin": "https://linkedin.com/in/ann"},
        "source": "form",
        **fields,
    }


def parse(events: list[Any], **overrides: Any) -> Any:
    return parse_batch(body(events, **overrides), received_at=RECEIVED)


def only_rejection(event: dict[str, Any]) -> RejectReason:
    parsed = parse([event])
    assert parsed.events == ()
    assert len(parsed.rejected) == 1
    assert parsed.rejected[0].index == 0
    return parsed.rejected[0].reason


# -- accepted --------------------------------------------------------------------------------------


def test_a_valid_batch_gives_typed_events_in_batch_order() -> None:
    parsed = parse([pageview(), activity(), identify()])

    assert parsed.site_key == "site_abc"
    assert parsed.anonymous_id == "anon-1"
    assert parsed.client_session_id == "sess-1"
    assert parsed.clock_offset == timedelta(0)
    assert parsed.rejected == ()
    view, act, ident = parsed.events
    assert view == PageView(
        event_id="e1",
        anonymous_id="anon-1",
        client_session_id="sess-1",
        at=RECEIVED,
        url="https://acme.com/pricing?utm_source=g",
        path="/pricing",
        title="Pricing",
        referrer="https://google.com/",
        utm=UtmValues(source="g"),
    )
    assert isinstance(act, Activity)
    assert (act.path, act.seconds, act.at) == ("/pricing", 15, RECEIVED)
    assert isinstance(ident, Identify)
    assert ident.email == "ann@acme.com"
    assert ident.source is IdentificationSource.FORM
    assert ident.traits.name == "Ann"
    assert ident.traits.linkedin == "https://linkedin.com/in/ann"


def test_the_client_clock_is_corrected_and_relative_timing_kept() -> None:
    client_now = RECEIVED_MS - 3 * 3600 * 1000  # the client's clock is 3 hours behind
    parsed = parse(
        [pageview("e1", client_now - 60_000), activity("e2", client_now - 1_000)],
        sent_at=client_now,
    )

    assert parsed.clock_offset == timedelta(hours=3)
    assert [event.at for event in parsed.events] == [
        RECEIVED - timedelta(minutes=1),
        RECEIVED - timedelta(seconds=1),
    ]


def test_an_event_inside_the_window_after_correction_is_accepted() -> None:
    parsed = parse(
        [
            pageview("old", RECEIVED_MS - 24 * 3600 * 1000),
            pageview("soon", RECEIVED_MS + 60_000),
        ]
    )
    assert [event.event_id for event in parsed.events] == ["old", "soon"]


def test_missing_optional_fields_and_fractional_milliseconds() -> None:
    event = pageview(ts=RECEIVED_MS + 0.9)
    del event["title"], event["referrer"]
    parsed = parse([event, identify("e3", traits=None)])

    view, ident = parsed.events
    assert isinstance(view, PageView) and isinstance(ident, Identify)
    assert (view.title, view.referrer, view.at) == (None, None, RECEIVED)
    assert ident.traits.name is None


def test_a_non_http_referrer_is_dropped_not_refused() -> None:
    parsed = parse([pageview(referrer="android-app://com.google.android.gm/")])
    assert isinstance(parsed.events[0], PageView)
    assert parsed.events[0].referrer is None


def test_unknown_trait_keys_are_ignored() -> None:
    parsed = parse([identify(traits={"name": "Ann", "shoe_size": 42})])
    assert isinstance(parsed.events[0], Identify)
    assert parsed.events[0].traits.name == "Ann"


def test_an_empty_batch_is_fine() -> None:
    assert parse([]).events == ()


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://acme.com", "/"),
        ("https://acme.com/", "/"),
        ("https://acme.com/pricing/", "/pricing/"),
        ("https://acme.com/Pricing?x=1#top", "/Pricing"),
        ("https://acme.com/a%20b", "/a%20b"),
        ("http://localhost:8000/x", "/x"),
    ],
)
def test_page_path(url: str, path: str) -> None:
    assert page_path(url) == path


def test_utm_values_keep_case_trim_and_drop_empty() -> None:
    url = (
        "https://acme.com/?UTM_Source=%20LinkedIn%20&utm_medium=&utm_campaign=Q4+Launch"
        "&utm_content=a&utm_content=b&utm_term=x"
    )
    assert utm_values(url) == UtmValues(campaign="Q4 Launch", content="a", source="LinkedIn")
    assert utm_values("https://acme.com/") == UtmValues()


def test_identification_sources_are_the_catalogue_picklist() -> None:
    (spec,) = [s for s in fields_for("Lead") if s.api_name == "Hearth_Identification_Source__c"]
    assert {value for value, _ in spec.picklist} == {
        source.value for source in IdentificationSource
    }


# -- one bad event ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("not an object", RejectReason.NOT_AN_OBJECT),
        (pageview(id=None), RejectReason.BAD_ID),
        (pageview(id=""), RejectReason.BAD_ID),
        (pageview(id="x" * 65), RejectReason.BAD_ID),
        (pageview(id="has space"), RejectReason.BAD_ID),
        (pageview(type="click"), RejectReason.UNKNOWN_TYPE),
        (pageview(type=None), RejectReason.UNKNOWN_TYPE),
        (pageview(ts="yesterday"), RejectReason.BAD_TIMESTAMP),
        (pageview(ts=True), RejectReason.BAD_TIMESTAMP),
        (pageview(ts=-1), RejectReason.BAD_TIMESTAMP),
        (pageview(ts=10**16), RejectReason.BAD_TIMESTAMP),
        (pageview(ts=RECEIVED_MS - 24 * 3600 * 1000 - 1), RejectReason.TOO_OLD),
        (pageview(ts=RECEIVED_MS + 60_001), RejectReason.IN_FUTURE),
        (pageview(url=None), RejectReason.BAD_URL),
        (pageview(url="/pricing"), RejectReason.BAD_URL),
        (pageview(url="ftp://acme.com/x"), RejectReason.BAD_URL),
        (pageview(url="javascript:alert(1)"), RejectReason.BAD_URL),
        (pageview(url="https://acme.com/a b"), RejectReason.BAD_URL),
        (pageview(url="https://acme.com:99999/"), RejectReason.BAD_URL),
        (pageview(url="https:///nohost"), RejectReason.BAD_URL),
        (pageview(url="https://acme.com/" + "x" * 2048), RejectReason.TOO_LONG),
        (pageview(title="x" * 1025), RejectReason.TOO_LONG),
        (pageview(title=42), RejectReason.BAD_TITLE),
        (pageview(referrer=["x"]), RejectReason.BAD_URL),
        (pageview(referrer="https://g.com/" + "x" * 2048), RejectReason.TOO_LONG),
        (activity(seconds=0), RejectReason.BAD_SECONDS),
        (activity(seconds=61), RejectReason.BAD_SECONDS),
        (activity(seconds=1.5), RejectReason.BAD_SECONDS),
        (activity(seconds=True), RejectReason.BAD_SECONDS),
        (activity(url="nope"), RejectReason.BAD_URL),
        (identify(email="not-an-address"), RejectReason.BAD_EMAIL),
        (identify(email="ann@10.0.0.1"), RejectReason.BAD_EMAIL),
        (identify(email=None), RejectReason.BAD_EMAIL),
        (identify(email="a" * 250 + "@acme.com"), RejectReason.BAD_EMAIL),
        (identify(traits=["Ann"]), RejectReason.BAD_TRAITS),
        (identify(traits={"name": 7}), RejectReason.BAD_TRAITS),
        (identify(traits={"title": "x" * 513}), RejectReason.BAD_TRAITS),
        (identify(traits={"linkedin": "linkedin.com/in/ann"}), RejectReason.BAD_TRAITS),
        (identify(source="crystal-ball"), RejectReason.BAD_SOURCE),
        (identify(source=None), RejectReason.BAD_SOURCE),
    ],
)
def test_each_rejection_reason(event: Any, reason: RejectReason) -> None:
    assert only_rejection(event) == reason


def test_every_rejection_reason_is_tested() -> None:
    # The parametrised cases above plus duplicate_id below cover the whole enum.
    source = Path(__file__).read_text()
    for reason in RejectReason:
        assert f"RejectReason.{reason.name}" in source


def test_one_bad_event_does_not_reject_the_others() -> None:
    parsed = parse([pageview("e1"), activity("e2", seconds=99), identify("e3")])

    assert [event.event_id for event in parsed.events] == ["e1", "e3"]
    assert [(r.index, r.reason) for r in parsed.rejected] == [(1, RejectReason.BAD_SECONDS)]
    assert "1 to 60" in parsed.rejected[0].detail


def test_a_repeated_event_id_keeps_the_first_copy() -> None:
    parsed = parse([pageview("e1"), activity("e1"), pageview("e2")])

    assert [type(event).__name__ for event in parsed.events] == ["PageView", "PageView"]
    assert [(r.index, r.reason) for r in parsed.rejected] == [(1, RejectReason.DUPLICATE_ID)]


def test_a_refused_event_does_not_reserve_its_id() -> None:
    parsed = parse([activity("e1", seconds=0), activity("e1")])
    assert [event.event_id for event in parsed.events] == ["e1"]
    assert [r.reason for r in parsed.rejected] == [RejectReason.BAD_SECONDS]


# -- the whole batch -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"\xff\xfe", BatchProblem.NOT_JSON),
        (b"{not json", BatchProblem.NOT_JSON),
        (b"[1, 2]", BatchProblem.NOT_AN_OBJECT),
        (body([], site=None), BatchProblem.BAD_SITE),
        (body([], site="x" * 65), BatchProblem.BAD_SITE),
        (body([], anon=""), BatchProblem.BAD_ANON),
        (body([], anon=5), BatchProblem.BAD_ANON),
        (body([], session="a/b"), BatchProblem.BAD_SESSION),
        (body([], sent_at=None), BatchProblem.BAD_SENT_AT),
        (body([], sent_at="now"), BatchProblem.BAD_SENT_AT),
        (body([], sent_at=float("nan")), BatchProblem.BAD_SENT_AT),
        (body([], events={"id": "e1"}), BatchProblem.BAD_EVENTS),
        (body([], events=None), BatchProblem.BAD_EVENTS),
        (body([pageview(f"e{i}") for i in range(101)]), BatchProblem.TOO_MANY_EVENTS),
        (b" " * 65_537, BatchProblem.TOO_LARGE),
    ],
)
def test_each_batch_problem(raw: bytes, problem: BatchProblem) -> None:
    with pytest.raises(BatchRejected) as caught:
        parse_batch(raw, received_at=RECEIVED)
    assert caught.value.reason == problem
    assert isinstance(caught.value, HearthError)
    assert caught.value.detail in str(caught.value)


def test_every_batch_problem_is_tested() -> None:
    source = Path(__file__).read_text()
    for problem in BatchProblem:
        assert f"BatchProblem.{problem.name}" in source


def test_limits_are_configurable() -> None:
    limits = Limits(max_events=2, max_age=timedelta(minutes=5))
    with pytest.raises(BatchRejected):
        parse_batch(
            body([pageview("a"), pageview("b"), pageview("c")]), received_at=RECEIVED, limits=limits
        )
    parsed = parse_batch(
        body([pageview("a", RECEIVED_MS - 6 * 60_000)]), received_at=RECEIVED, limits=limits
    )
    assert [r.reason for r in parsed.rejected] == [RejectReason.TOO_OLD]


def test_received_at_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_batch(body([]), received_at=datetime(2026, 11, 24, 12, 0))
