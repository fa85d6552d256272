"""`POST /collect` end to end on both databases: validation, dedupe, identity, sessions,
aggregates, companies, bots, privacy, and the outbox."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hearth.collect.ingest import ingest, load_aggregate, recompute_visitor
from hearth.collect.rate_limit import RateLimiter
from hearth.collect.settings import TrackingSettings, save_tracking_settings
from hearth.collect.tables import collect_counts, companies, outbox, visitors
from hearth.errors import ConfigError
from hearth.identity.ip_resolvers import resolvers_from_config
from hearth.storage.models import Workspace
from hearth.tracking.events import parse_batch
from hearth.workspaces import create_api_key, create_site_key
from tests.hearth.wire import MINUTE, active, identify, now_ms, page

from .conftest import Site, add_user

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture
def tracked(site: Site) -> tuple[Site, str]:
    add_user(site.engine, "ada@example.com")
    site.sign_in("ada@example.com")
    with Session(site.engine) as session, session.begin():
        workspace = session.scalars(select(Workspace)).one()
        key = create_site_key(session, workspace).public_key
    return site, key


def send(
    site: Site,
    key: str,
    events: list[dict[str, Any]],
    *,
    anon: str = "anon-1",
    session: str = "s-1",
    headers: dict[str, str] | None = None,
) -> Any:
    body = {"site": key, "anon": anon, "session": session, "sent_at": now_ms(), "events": events}
    return site.hearth.post(
        "/collect",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain", "User-Agent": CHROME, **(headers or {})},
    )


def visitor(site: Site, **query: str) -> dict[str, Any]:
    (found,) = site.hearth.get("/api/v1/visitors", params=query).json()
    return dict(found)


def test_a_batch_is_stored_and_the_visitor_aggregated(tracked: tuple[Site, str]) -> None:
    site, key = tracked
    now = now_ms()
    events = [
        page(now - 5 * MINUTE, "/", "?utm_source=google&utm_campaign=spring"),
        active(now - 4 * MINUTE, 20),
        page(now - 3 * MINUTE, "/pricing"),
        active(now - 2 * MINUTE, 35, "/pricing"),
    ]

    response = send(site, key, events)

    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 4, "duplicates": 0, "rejected": []}
    found = visitor(site)
    assert found["anonymous_ids"] == ["anon-1"]
    assert (found["page_views"], found["active_seconds"], found["sessions"]) == (2, 55, 1)
    assert found["last_session_pages"] == ["/", "/pricing"]
    assert (found["utm_sources"], found["utm_campaigns"]) == (["google"], ["spring"])
    # A beacon sent twice counts once.
    again = send(site, key, events)
    assert again.json()["duplicates"] == 4
    assert visitor(site)["page_views"] == 2


def test_a_bad_event_is_listed_and_the_rest_stored(tracked: tuple[Site, str]) -> None:
    site, key = tracked
    now = now_ms()

    response = send(site, key, [page(now), {"id": "x1", "type": "teleport", "ts": now}])

    body = response.json()
    assert response.status_code == 422
    assert body["accepted"] == 1
    assert [r["index"] for r in body["rejected"]] == [1]
    assert body["rejected"][0]["reason"] == "unknown_type"


def test_bad_batches_get_a_reason(tracked: tuple[Site, str]) -> None:
    site, _ = tracked

    not_json = site.hearth.post("/collect", content=b"{nope", headers={"User-Agent": CHROME})
    too_big = site.hearth.post("/collect", content=b"x" * 70_000, headers={"User-Agent": CHROME})
    unknown_site = send(site, "site_nope", [page(now_ms())])

    assert not_json.status_code == 400 and "not_json" in not_json.json()["detail"]
    assert too_big.status_code == 413
    assert unknown_site.status_code == 403
    assert "site key" in unknown_site.json()["detail"]


def test_origins_outside_the_allow_list_are_refused(tracked: tuple[Site, str]) -> None:
    site, key = tracked
    with Session(site.engine) as session, session.begin():
        save_tracking_settings(session, 1, TrackingSettings(allowed_origins=("https://acme.com",)))

    refused = send(site, key, [page(now_ms())], headers={"Origin": "https://evil.example"})
    allowed = send(site, key, [page(now_ms())], headers={"Origin": "https://acme.com"})

    assert refused.status_code == 403 and "evil.example" in refused.json()["detail"]
    assert allowed.status_code == 202


def test_bots_and_automation_are_counted_and_dropped(tracked: tuple[Site, str]) -> None:
    site, key = tracked
    headless = CHROME.replace("Chrome/", "HeadlessChrome/")

    bot = send(site, key, [page(now_ms())], headers={"User-Agent": "Googlebot/2.1"})
    driven = send(site, key, [page(now_ms())], headers={"User-Agent": headless})

    assert bot.json() == {"accepted": 0, "dropped": "bot"}
    assert driven.json() == {"accepted": 0, "dropped": "automation"}
    assert site.hearth.get("/api/v1/visitors").json() == []
    with Session(site.engine) as session:
        counts = dict(session.execute(select(collect_counts.c.kind, collect_counts.c.count)).all())
    assert counts == {"bot": 1, "automation": 1}
    # A workspace that counts its browser tests.
    with Session(site.engine) as session, session.begin():
        save_tracking_settings(session, 1, TrackingSettings(allow_automation=True))
    assert (
        send(site, key, [page(now_ms())], headers={"User-Agent": headless}).json()["accepted"] == 1
    )


def test_privacy_signals_are_respected_when_the_workspace_asks(
    tracked: tuple[Site, str],
) -> None:
    site, key = tracked
    assert send(site, key, [page(now_ms())], headers={"Sec-GPC": "1"}).json()["accepted"] == 1
    with Session(site.engine) as session, session.begin():
        save_tracking_settings(session, 1, TrackingSettings(respect_privacy_signals=True))

    response = send(site, key, [page(now_ms())], anon="anon-2", headers={"DNT": "1"})

    assert response.json() == {"accepted": 0, "dropped": "privacy"}


def test_two_devices_of_one_email_become_one_person(tracked: tuple[Site, str]) -> None:
    site, key = tracked
    now = now_ms()
    send(site, key, [page(now - 30 * MINUTE, "/blog")], anon="laptop", session="s-a")
    send(site, key, [page(now - 20 * MINUTE, "/")], anon="phone", session="s-b")
    send(site, key, [identify(now - 19 * MINUTE, "Jane@Acme.com")], anon="phone", session="s-b")

    send(site, key, [identify(now - 10 * MINUTE, "jane@acme.com")], anon="laptop", session="s-a")

    (person,) = site.hearth.get("/api/v1/visitors").json()
    assert person["email"] == "jane@acme.com"
    assert person["anonymous_ids"] == ["laptop", "phone"]
    assert (person["page_views"], person["sessions"]) == (2, 2)
    assert person["identification_source"] == "form"
    assert person["name"] == "Jane Doe"
    assert person["company_domain"] == "acme.com"
    with Session(site.engine) as session:
        company = session.execute(select(companies)).one()
    assert (company.domain, company.visitor_count, company.page_views) == ("acme.com", 1, 2)


def test_free_mail_names_no_company(tracked: tuple[Site, str]) -> None:
    site, key = tracked

    send(site, key, [page(now_ms()), identify(now_ms(), "jane@gmail.com")])

    assert visitor(site)["company_domain"] is None


def test_a_long_idle_gap_splits_a_client_session(tracked: tuple[Site, str]) -> None:
    site, key = tracked
    now = now_ms()
    send(site, key, [page(now - 40 * MINUTE, "/a"), page(now - 39 * MINUTE, "/b")])
    send(site, key, [page(now - 20 * MINUTE, "/c")])
    assert visitor(site)["sessions"] == 2
    # A late event fills the gap: the two visits are one.
    send(site, key, [active(now - 30 * MINUTE, 10, "/b")])

    found = visitor(site)

    assert found["sessions"] == 1
    assert found["last_session_pages"] == ["/a", "/b", "/c"]


def test_incremental_aggregates_agree_with_a_recompute(tracked: tuple[Site, str]) -> None:
    site, key = tracked
    now = now_ms()
    batches = [
        [page(now - 50 * MINUTE, "/x", "?utm_medium=email"), active(now - 49 * MINUTE, 30)],
        [page(now - 10 * MINUTE, "/y", "?utm_medium=cpc")],
        [active(now - 48 * MINUTE, 15), page(now - 70 * MINUTE, "/z", "?utm_medium=social")],
    ]
    for index, batch in enumerate(batches):
        send(site, key, batch, session=f"s-{index % 2}")
        send(site, key, batch[:1], session=f"s-{index % 2}")  # a repeat

    with Session(site.engine) as session:
        (visitor_id,) = session.scalars(select(visitors.c.id)).all()
        stored = load_aggregate(session, visitor_id)
        assert stored == recompute_visitor(session, visitor_id)
    assert stored.utm_mediums == ("social", "email", "cpc")


def test_activity_before_connecting_salesforce_is_never_marked(
    tracked: tuple[Site, str],
) -> None:
    site, key = tracked
    send(site, key, [page(now_ms()), identify(now_ms(), "jane@acme.com")])
    with Session(site.engine) as session:
        assert session.execute(select(outbox)).all() == []

    site.connect()
    send(site, key, [active(now_ms(), 12)])
    send(site, key, [active(now_ms() + 1, 7)])

    with Session(site.engine) as session:
        marks = {(r.kind, r.key): r for r in session.execute(select(outbox))}
    assert set(marks) == {("visitor", "1"), ("company", "acme.com")}
    assert marks[("visitor", "1")].version == 2
    assert "Hearth_Total_Active_Time__c" in marks[("visitor", "1")].fields


def test_the_rate_limit_lets_bursts_through_then_asks_to_wait() -> None:
    limiter = RateLimiter(rate=2, burst=3)

    waits = [limiter.wait("site", 100.0) for _ in range(4)]

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.5)
    assert limiter.wait("site", 100.5) == 0.0
    assert limiter.wait("other-site", 100.0) == 0.0


def _api_key(site: Site) -> str:
    with Session(site.engine) as session, session.begin():
        workspace = session.scalars(select(Workspace)).one()
        _, secret = create_api_key(session, workspace, "form backend")
    return secret


def test_servers_identify_visitors_with_an_api_key(tracked: tuple[Site, str]) -> None:
    site, key = tracked
    secret = _api_key(site)
    send(site, key, [page(now_ms(), "/demo")], anon="browser-1")
    auth = {"Authorization": f"Bearer {secret}"}

    joined = site.hearth.post(
        "/api/v1/identify",
        json={"email": "Jane@Acme.com", "anonymous_id": "browser-1", "title": "CTO"},
        headers=auth,
    )
    by_email = site.hearth.post(
        "/api/v1/identify",
        json={"email": "jane@acme.com", "source": "enrichment", "name": "Jane Doe"},
        headers=auth,
    )

    assert joined.status_code == 202, joined.text
    assert by_email.json()["visitor_id"] == joined.json()["visitor_id"]
    person = visitor(site)
    assert (person["email"], person["title"], person["name"]) == (
        "jane@acme.com",
        "CTO",
        "Jane Doe",
    )
    assert person["identification_source"] == "api"
    assert person["page_views"] == 1
    # The same idempotency key twice is stored once.
    twice = [
        site.hearth.post(
            "/api/v1/identify",
            json={"email": "joe@acme.com", "event_id": "crm-123"},
            headers=auth,
        ).json()["stored"]
        for _ in range(2)
    ]
    assert twice == [True, False]


def test_the_identify_api_refuses_bad_keys_and_bad_emails(tracked: tuple[Site, str]) -> None:
    site, _ = tracked
    secret = _api_key(site)

    no_key = site.hearth.post("/api/v1/identify", json={"email": "a@acme.com"})
    wrong_key = site.hearth.post(
        "/api/v1/identify",
        json={"email": "a@acme.com"},
        headers={"Authorization": "Bearer hk_wrong"},
    )
    bad_email = site.hearth.post(
        "/api/v1/identify",
        json={"email": "not an address"},
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert no_key.status_code == wrong_key.status_code == 401
    assert bad_email.status_code == 422
    assert "bad_email" in bad_email.json()["detail"]


def test_an_anonymous_visitor_is_placed_by_ip_and_the_ip_stored_truncated(
    tracked: tuple[Site, str], tmp_path: Path
) -> None:
    site, key = tracked
    ranges = tmp_path / "ranges.csv"
    ranges.write_text("network,domain,name\n8.8.8.0/24,globex.com,Globex\n")
    resolver = resolvers_from_config(f"csv:{ranges}")
    body = {
        "site": key,
        "anon": "anon-ip",
        "session": "s-ip",
        "sent_at": now_ms(),
        "events": [page(now_ms())],
    }
    batch = parse_batch(json.dumps(body).encode(), received_at=datetime.now(UTC))

    with Session(site.engine) as session, session.begin():
        ingest(session, 1, batch, ip="8.8.8.8", resolver=resolver)

    found = visitor(site)
    assert found["company_domain"] == "globex.com"
    with Session(site.engine) as session:
        assert session.scalar(select(visitors.c.ip)) == "8.8.8.0"


def test_resolver_configuration_errors_name_the_entry() -> None:
    with pytest.raises(ConfigError, match="'ftp:/x' is not maxmind:<path> or csv:<path>"):
        resolvers_from_config("ftp:/x")


def test_an_admin_erases_a_visitor_through_the_api(tracked: tuple[Site, str]) -> None:
    site, key = tracked
    send(site, key, [page(now_ms()), identify(now_ms(), "jane@acme.com")])
    visitor_id = visitor(site)["id"]
    headers = {"X-CSRF-Token": site.csrf()}

    erased = site.hearth.delete(f"/api/v1/visitors/{visitor_id}", headers=headers)
    again = site.hearth.delete(f"/api/v1/visitors/{visitor_id}", headers=headers)

    assert erased.status_code == 204
    assert again.status_code == 404
    assert site.hearth.get("/api/v1/visitors").json() == []
