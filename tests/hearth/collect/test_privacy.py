"""Erasure (GDPR) and data retention on both databases: what goes, what the companies become,
and when the outbox is told."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from hearth.collect.ingest import load_aggregate, recompute_visitor
from hearth.collect.privacy import Erasure, erase_by_email, erase_visitor, prune
from hearth.collect.recompute import check
from hearth.collect.settings import TrackingSettings, save_tracking_settings
from hearth.collect.tables import (
    collect_counts,
    companies,
    outbox,
    tracked_events,
    visitor_aliases,
    visitor_sessions,
    visitors,
)
from hearth.errors import NotFoundError
from tests.hearth.wire import MINUTE, active, identify, ms, now_ms, page

from .conftest import OneNetworkResolver, Tracked, add_workspace, ingest_at

PERSONAL_TABLES = (visitors, visitor_aliases, tracked_events, visitor_sessions, outbox, companies)


def everything_stored(session: Session) -> str:
    """Every row of the collect tables, as text, to search for what must be gone."""
    return repr([session.execute(select(table)).all() for table in PERSONAL_TABLES])


def visitor_id_of(session: Session, email: str) -> int:
    return int(session.scalars(select(visitors.c.id).where(visitors.c.email == email)).one())


def company(session: Session, domain: str) -> Any:
    return session.execute(select(companies).where(companies.c.domain == domain)).one_or_none()


def send_jane_and_bob(tracked: Tracked) -> None:
    """Jane on a laptop and a phone, merged by identify; Bob on his own: both at acme.com.

    Every event is from now on (a second apart), so that in a connected workspace none is
    older than the connection."""
    now = now_ms()
    tracked.send(
        [page(now, "/blog", "?utm_source=google"), active(now + 1000, 20)],
        anon="jane-laptop",
        session="s-a",
    )
    tracked.send([page(now + 2000, "/pricing")], anon="jane-phone", session="s-b")
    tracked.send(
        [
            identify(
                now + 3000,
                "jane@acme.com",
                title="CTO",
                linkedin="https://linkedin.com/in/janedoe",
            )
        ],
        anon="jane-phone",
        session="s-b",
    )
    tracked.send([identify(now + 4000, "jane@acme.com")], anon="jane-laptop", session="s-a")
    tracked.send(
        [
            page(now + 5000, "/docs", "?utm_source=bing"),
            identify(now + 5000, "bob@acme.com", name="Bob Roe"),
        ],
        anon="bob-laptop",
        session="s-c",
    )


def test_erasure_removes_the_person_and_their_share_of_the_company(tracked: Tracked) -> None:
    send_jane_and_bob(tracked)
    with Session(tracked.site.engine) as session:
        before = company(session, "acme.com")
        bob = load_aggregate(session, visitor_id_of(session, "bob@acme.com"))
    assert (before.visitor_count, before.page_views) == (2, 3)

    with Session(tracked.site.engine) as session, session.begin():
        jane = visitor_id_of(session, "jane@acme.com")
        erasure = erase_by_email(session, tracked.workspace_id, "  Jane@ACME.com ")

    assert erasure == Erasure(
        visitor_id=jane,
        events_deleted=5,  # two page views, an activity and an identify per device
        aliases_removed=2,
        company_domain="acme.com",
        company_removed=False,
    )
    with Session(tracked.site.engine) as session:
        stored = everything_stored(session)
        after = company(session, "acme.com")
        assert check(session, tracked.workspace_id).agrees
        assert session.execute(select(outbox)).all() == []  # not connected: nothing for the CRM
    for personal in (
        "jane",
        "Jane Doe",
        "CTO",
        "linkedin.com/in/janedoe",
        "jane-laptop",
        "jane-phone",
    ):
        assert personal not in stored
    assert "bob@acme.com" in stored
    # The company is Bob's alone now.
    assert (after.visitor_count, after.page_views, after.active_seconds) == (1, 1, 0)
    assert (after.sessions, after.last_session_pages) == (bob.sessions, ["/docs"])
    assert after.utm_first_seen.keys() == {"source"}
    assert list(after.utm_first_seen["source"]) == ["bing"]
    assert [v["email"] for v in tracked.site.hearth.get("/api/v1/visitors").json()] == [
        "bob@acme.com"
    ]


def test_erasing_the_last_visitor_removes_the_company(tracked: Tracked) -> None:
    send_jane_and_bob(tracked)
    with Session(tracked.site.engine) as session, session.begin():
        erase_by_email(session, tracked.workspace_id, "jane@acme.com")
        last = erase_by_email(session, tracked.workspace_id, "bob@acme.com")

    assert (last.company_domain, last.company_removed) == ("acme.com", True)
    with Session(tracked.site.engine) as session:
        for table in PERSONAL_TABLES:
            assert session.execute(select(table)).all() == [], table.name


def test_erasure_in_a_connected_workspace_marks_the_company_for_the_crm(
    tracked_connected: Tracked,
) -> None:
    tracked = tracked_connected
    send_jane_and_bob(tracked)
    with Session(tracked.site.engine) as session:
        jane = visitor_id_of(session, "jane@acme.com")
        marks = {(r.kind, r.key): r for r in session.execute(select(outbox))}
    assert ("visitor", str(jane)) in marks
    version = marks[("company", "acme.com")].version

    with Session(tracked.site.engine) as session, session.begin():
        erase_visitor(session, tracked.workspace_id, jane)

    with Session(tracked.site.engine) as session:
        marks = {(r.kind, r.key): r for r in session.execute(select(outbox))}
    assert ("visitor", str(jane)) not in marks
    mark = marks[("company", "acme.com")]
    assert mark.version == version + 1
    assert {"Hearth_Visitor_Count__c", "Hearth_Total_Pages_Viewed__c"} <= set(mark.fields)

    # The last visitor goes: the company row too, and the CRM is told to clear its numbers.
    with Session(tracked.site.engine) as session, session.begin():
        erasure = erase_by_email(session, tracked.workspace_id, "bob@acme.com")
    assert erasure.company_removed
    with Session(tracked.site.engine) as session:
        assert company(session, "acme.com") is None
        marks = {(r.kind, r.key): r for r in session.execute(select(outbox))}
    assert set(marks) == {("company", "acme.com")}
    assert marks[("company", "acme.com")].version == version + 2


def test_erasure_removes_the_ip_and_an_ip_company(session: Session, engine: Engine) -> None:
    workspace_id, _ = add_workspace(engine, "Acme")
    now = datetime.now(UTC)
    result = ingest_at(
        session,
        workspace_id,
        now,
        [page(ms(now) - MINUTE, "/")],
        ip="81.2.69.160",
        resolver=OneNetworkResolver("globex.com"),
        keep_full_ip=True,
    )
    row = session.execute(select(visitors)).one()
    assert (row.ip, row.company_domain) == ("81.2.69.160", "globex.com")

    erasure = erase_visitor(session, workspace_id, result.visitor_id)

    assert (erasure.company_domain, erasure.company_removed) == ("globex.com", True)
    assert "81.2.69" not in everything_stored(session)
    assert "globex" not in everything_stored(session)


def test_erasing_someone_unknown_is_a_not_found_error(session: Session, engine: Engine) -> None:
    first, _ = add_workspace(engine, "Acme")
    second, _ = add_workspace(engine, "Globex")
    now = datetime.now(UTC)
    theirs = ingest_at(
        session, second, now, [page(ms(now) - MINUTE), identify(ms(now) - MINUTE, "x@globex.com")]
    )

    with pytest.raises(NotFoundError, match="visitor '999' does not exist"):
        erase_visitor(session, first, 999)
    with pytest.raises(NotFoundError, match="visitor '"):
        erase_visitor(session, first, theirs.visitor_id)  # another workspace's visitor
    with pytest.raises(NotFoundError, match=r"visitor with email 'x@globex\.com' does not exist"):
        erase_by_email(session, first, "x@globex.com")
    assert load_aggregate(session, theirs.visitor_id).page_views == 1


def test_prune_erases_only_visitors_not_seen_within_the_retention(
    session: Session, engine: Engine
) -> None:
    workspace_id, _ = add_workspace(engine, "Acme")
    other_id, _ = add_workspace(engine, "Globex")
    save_tracking_settings(session, workspace_id, TrackingSettings(retention_days=30))
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    old, recent = now - timedelta(days=40), now - timedelta(days=1)
    just_inside = now - timedelta(days=30) + timedelta(minutes=2)

    def visit(at: datetime, anon: str, *more: dict[str, Any], ws: int = workspace_id) -> None:
        ingest_at(session, ws, at, [page(ms(at) - MINUTE, f"/{anon}"), *more], anon=anon)

    visit(old, "gone", identify(ms(old), "gone@initech.com"))
    visit(old, "gone-too", identify(ms(old), "old@acme.com"))
    visit(recent, "fresh", identify(ms(recent), "fresh@acme.com"))
    visit(just_inside, "edge")
    visit(old, "returning")
    ingest_at(
        session, workspace_id, recent, [identify(ms(recent), "ret@hooli.com")], anon="returning"
    )
    ingest_at(session, workspace_id, old, [identify(ms(old), "ghost@acme.com")], anon="ghost")
    visit(old, "other-workspace", ws=other_id)
    for ws, day in ((workspace_id, old), (workspace_id, recent), (other_id, old)):
        session.execute(
            insert(collect_counts).values(workspace_id=ws, day=day.date(), kind="stored", count=3)
        )
    acme_before = company(session, "acme.com")
    assert acme_before.visitor_count == 2

    pruned = prune(session, workspace_id, now=now)

    assert (pruned.visitors_erased, pruned.events_deleted, pruned.counts_deleted) == (3, 5, 1)
    assert pruned.cutoff == now - timedelta(days=30)
    assert pruned.companies_recombined == ("acme.com",)
    assert pruned.companies_removed == ("initech.com",)
    left = set(session.scalars(select(visitor_aliases.c.anonymous_id)))
    assert left == {"fresh", "edge", "returning", "other-workspace"}
    acme = company(session, "acme.com")
    assert (acme.visitor_count, acme.page_views) == (1, 1)
    days = session.execute(select(collect_counts.c.workspace_id, collect_counts.c.day)).all()
    assert sorted(days) == sorted([(workspace_id, recent.date()), (other_id, old.date())])
    for ws in (workspace_id, other_id):
        assert check(session, ws).agrees
    for visitor_id in session.scalars(select(visitors.c.id)):
        assert load_aggregate(session, visitor_id) == recompute_visitor(session, visitor_id)
    # Run again: nothing more to do.
    again = prune(session, workspace_id, now=now)
    assert (again.visitors_erased, again.counts_deleted) == (0, 0)


def test_erasure_by_email_also_removes_identifies_left_on_a_shared_browser(
    session: Session, engine: Engine
) -> None:
    workspace_id, _ = add_workspace(engine, "Acme")
    now = datetime.now(UTC)
    # One browser, identified as Jane, then as Bob: the visitor is Bob, with Jane's identify.
    ingest_at(
        session,
        workspace_id,
        now,
        [
            page(ms(now) - 2 * MINUTE),
            identify(ms(now) - MINUTE, "jane@acme.com"),
            identify(ms(now), "bob@acme.com", name="Bob Roe"),
        ],
        anon="kiosk",
    )

    erasure = erase_by_email(session, workspace_id, "jane@acme.com")

    assert (erasure.visitor_id, erasure.events_deleted) == (None, 1)
    assert "jane" not in everything_stored(session).lower()
    assert session.execute(select(visitors.c.email, visitors.c.page_views)).one() == (
        "bob@acme.com",
        1,
    )
    with pytest.raises(NotFoundError):
        erase_by_email(session, workspace_id, "jane@acme.com")
