"""`check`: the incrementally kept aggregates equal a recompute from stored events after a
realistic run of batches, and a corrupted aggregate is found, named and fixed."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.orm import Session

from hearth.collect import recompute
from hearth.collect.ingest import load_aggregate, recompute_visitor
from hearth.collect.privacy import erase_by_email
from hearth.collect.recompute import Difference, FieldDifference, check
from hearth.collect.tables import companies, outbox, visitor_sessions, visitors
from tests.hearth.wire import MINUTE, active, identify, ms, now_ms, page

from .conftest import OneNetworkResolver, Tracked, add_workspace, ingest_at


def realistic_traffic(tracked: Tracked) -> None:
    """Duplicates, events out of order and late, a gap filled, two devices merged by identify,
    visitors at one company and on free mail, and an erasure."""
    now = now_ms()
    laptop = [
        page(now - 90 * MINUTE, "/", "?utm_source=google&utm_campaign=spring"),
        active(now - 89 * MINUTE, 30),
        page(now - 60 * MINUTE, "/pricing", "?utm_medium=cpc"),
    ]
    tracked.send(laptop, anon="jane-laptop", session="s-1")
    tracked.send(laptop, anon="jane-laptop", session="s-1")  # the beacon, retried
    tracked.send([active(now - 74 * MINUTE, 12, "/")], anon="jane-laptop", session="s-1")  # late
    tracked.send(
        [page(now - 30 * MINUTE, "/docs"), page(now - 100 * MINUTE, "/early", "?utm_source=bing")],
        anon="jane-phone",
        session="s-2",
    )
    tracked.send([identify(now - 29 * MINUTE, "jane@acme.com")], anon="jane-phone", session="s-2")
    tracked.send(
        [active(now - 20 * MINUTE, 40, "/pricing"), identify(now - 20 * MINUTE, "JANE@acme.com")],
        anon="jane-laptop",
        session="s-3",
    )
    tracked.send(
        [
            page(now - 10 * MINUTE, "/", "?utm_source=google"),
            identify(now - 9 * MINUTE, "bob@acme.com"),
        ],
        anon="bob",
        session="s-4",
    )
    tracked.send(
        [page(now - 8 * MINUTE, "/careers"), identify(now - 8 * MINUTE, "carl@acme.com")],
        anon="carl",
        session="s-5",
    )
    tracked.send(
        [page(now - 7 * MINUTE, "/"), identify(now - 7 * MINUTE, "dana@gmail.com")],
        anon="dana",
        session="s-6",
    )
    tracked.send([page(now - 6 * MINUTE, "/anon")], anon="nobody", session="s-7")
    with Session(tracked.site.engine) as session, session.begin():
        erase_by_email(session, tracked.workspace_id, "carl@acme.com")


def visitor_id_of(session: Session, email: str) -> int:
    return int(session.scalars(select(visitors.c.id).where(visitors.c.email == email)).one())


@pytest.mark.parametrize("batch_size", [500, 1])
def test_aggregates_agree_with_a_recompute_after_realistic_traffic(
    tracked: Tracked, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    monkeypatch.setattr(recompute, "BATCH_SIZE", batch_size)
    realistic_traffic(tracked)

    with Session(tracked.site.engine) as session:
        report = check(session, tracked.workspace_id)
        jane = load_aggregate(session, visitor_id_of(session, "jane@acme.com"))

    assert report.differences == ()
    assert report.agrees and not report.fixed
    # Jane (two devices), Bob, Dana, the anonymous one; acme.com is the only company.
    assert (report.visitors_checked, report.companies_checked) == (4, 1)
    assert (jane.page_views, jane.sessions, jane.active_seconds) == (4, 4, 82)
    assert jane.utm_sources == ("bing", "google")


def test_a_corrupted_aggregate_is_reported_then_fixed(tracked: Tracked) -> None:
    realistic_traffic(tracked)
    with Session(tracked.site.engine) as session, session.begin():
        jane = visitor_id_of(session, "jane@acme.com")
        session.execute(
            text("UPDATE visitors SET page_views = page_views + 5, sessions = 9 WHERE id = :id"),
            {"id": jane},
        )
        session.execute(text("UPDATE companies SET active_seconds = 1 WHERE domain = 'acme.com'"))

    with Session(tracked.site.engine) as session:
        report = check(session, tracked.workspace_id)

    assert not report.agrees
    assert [(d.kind, d.key, d.field_names) for d in report.differences] == [
        ("visitor", str(jane), ("page_views", "sessions")),
        ("company", "acme.com", ("active_seconds",)),
    ]
    assert report.differences[0].fields[0] == FieldDifference(
        name="page_views", stored=9, recomputed=4
    )

    with Session(tracked.site.engine) as session, session.begin():
        fixed = check(session, tracked.workspace_id, fix=True)
    assert fixed.fixed and fixed.differences == report.differences

    with Session(tracked.site.engine) as session:
        assert check(session, tracked.workspace_id).agrees
        assert load_aggregate(session, jane) == recompute_visitor(session, jane)
        assert session.execute(select(companies.c.active_seconds)).scalar_one() == 82
        assert session.execute(select(outbox)).all() == []  # not connected


def test_fixing_rebuilds_the_visits_later_batches_build_on(tracked: Tracked) -> None:
    realistic_traffic(tracked)
    with Session(tracked.site.engine) as session, session.begin():
        jane = visitor_id_of(session, "jane@acme.com")
        session.execute(
            update(visitor_sessions)
            .where(visitor_sessions.c.visitor_id == jane)
            .values(page_views=40)
        )
    # The next batch takes Jane's totals from her (corrupted) visits.
    tracked.send([page(now_ms(), "/blog")], anon="jane-phone", session="s-8")
    with Session(tracked.site.engine) as session:
        report = check(session, tracked.workspace_id)
    assert [(d.key, d.field_names) for d in report.differences] == [
        (str(jane), ("page_views",)),
        ("acme.com", ("page_views",)),
    ]

    with Session(tracked.site.engine) as session, session.begin():
        check(session, tracked.workspace_id, fix=True)
    tracked.send([page(now_ms(), "/about")], anon="jane-phone", session="s-9")

    with Session(tracked.site.engine) as session:
        assert check(session, tracked.workspace_id).agrees
        assert load_aggregate(session, jane).page_views == 6


def test_missing_and_orphaned_company_rows_are_differences(tracked: Tracked) -> None:
    realistic_traffic(tracked)
    with Session(tracked.site.engine) as session, session.begin():
        session.execute(delete(companies).where(companies.c.domain == "acme.com"))
        session.execute(
            insert(companies).values(
                workspace_id=tracked.workspace_id,
                domain="ghost.example",
                visitor_count=3,
                last_session_pages=[],
                active_seconds=0,
                page_views=7,
                sessions=2,
                utm_first_seen={},
            )
        )

    with Session(tracked.site.engine) as session, session.begin():
        report = check(session, tracked.workspace_id, fix=True)

    assert report.differences == (
        Difference(
            kind="company",
            key="acme.com",
            fields=(FieldDifference(name="exists", stored=False, recomputed=True),),
        ),
        Difference(
            kind="company",
            key="ghost.example",
            fields=(FieldDifference(name="exists", stored=True, recomputed=False),),
        ),
    )
    with Session(tracked.site.engine) as session:
        assert check(session, tracked.workspace_id).agrees
        assert list(session.scalars(select(companies.c.domain))) == ["acme.com"]


def test_a_fix_in_a_connected_workspace_marks_the_outbox(tracked_connected: Tracked) -> None:
    tracked = tracked_connected
    now = now_ms()
    tracked.send([page(now, "/"), identify(now, "jane@acme.com")], anon="jane")
    with Session(tracked.site.engine) as session, session.begin():
        jane = visitor_id_of(session, "jane@acme.com")
        versions = {(r.kind, r.key): r.version for r in session.execute(select(outbox))}
        session.execute(update(visitors).where(visitors.c.id == jane).values(page_views=3))
        session.execute(update(companies).values(page_views=3))

    with Session(tracked.site.engine) as session, session.begin():
        check(session, tracked.workspace_id, fix=True)

    with Session(tracked.site.engine) as session:
        marks = {(r.kind, r.key): r for r in session.execute(select(outbox))}
    assert marks[("visitor", str(jane))].version == versions[("visitor", str(jane))] + 1
    assert marks[("company", "acme.com")].version == versions[("company", "acme.com")] + 1
    assert "Hearth_Total_Pages_Viewed__c" in marks[("visitor", str(jane))].fields


def test_a_visitor_moved_from_an_ip_company_leaves_it_right(
    session: Session, engine: Engine
) -> None:
    workspace_id, _ = add_workspace(engine, "Acme")
    now = datetime.now(UTC)
    ingest_at(
        session,
        workspace_id,
        now,
        [page(ms(now) - MINUTE)],
        ip="81.2.69.160",
        resolver=OneNetworkResolver("globex.com"),
    )
    ingest_at(session, workspace_id, now, [identify(ms(now), "jane@acme.com")])

    assert check(session, workspace_id).differences == ()
