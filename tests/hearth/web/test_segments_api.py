from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearth.storage.models import SiteKey
from tests.hearth.wire import active, identify, now_ms, page

from .conftest import Site, add_user
from .test_collect import send

ACTIVE_WEEK: dict[str, Any] = {
    "all": [
        {"field": "visitor.last_seen", "op": "within_last", "value": {"amount": 7, "unit": "days"}},
        {"field": "visitor.page_views", "op": "gte", "value": 2},
    ]
}


def _signed_in(site: Site) -> str:
    add_user(site.engine, "ada@example.com")
    site.sign_in("ada@example.com")
    site.hearth.get("/settings/tracking")  # makes the site key
    with Session(site.engine) as session:
        return str(session.scalars(select(SiteKey.public_key)).one())


def test_segments_are_created_listed_and_evaluated_for_visitors_and_companies(
    site: Site,
) -> None:
    key = _signed_in(site)
    headers = {"X-CSRF-Token": site.csrf()}
    now = now_ms()
    send(site, key, [page(now - 60_000), page(now - 30_000, "/pricing"), active(now, 20)])
    send(site, key, [identify(now, "jane@acme.com")])
    send(site, key, [page(now)], anon="anon-2", session="s-2")

    created = site.hearth.post(
        "/api/v1/segments", json={"name": "Engaged this week", "rule": ACTIVE_WEEK}, headers=headers
    )
    company_rule = {"field": "company.visitor_count", "op": "gte", "value": 1}
    site.hearth.post(
        "/api/v1/segments", json={"name": "Known companies", "rule": company_rule}, headers=headers
    )

    assert created.status_code == 201, created.text
    listed = site.hearth.get("/api/v1/segments").json()
    assert [s["name"] for s in listed] == ["Engaged this week", "Known companies"]
    visitors = {v["email"]: v["id"] for v in site.hearth.get("/api/v1/visitors").json()}
    jane = site.hearth.get(f"/api/v1/visitors/{visitors['jane@acme.com']}/segments").json()
    other = site.hearth.get(f"/api/v1/visitors/{visitors[None]}/segments").json()
    assert {m["name"]: m["member"] for m in jane} == {
        "Engaged this week": True,
        "Known companies": True,
    }
    assert {m["name"]: m["member"] for m in other}["Engaged this week"] is False
    assert jane[0]["conditions"][0]["held"] is True
    acme = site.hearth.get("/api/v1/companies/ACME.com/segments").json()
    assert {m["name"]: m["member"] for m in acme} == {
        "Engaged this week": False,
        "Known companies": True,
    }


def test_bad_rules_are_refused_with_the_path_of_the_fault(site: Site) -> None:
    _signed_in(site)
    headers = {"X-CSRF-Token": site.csrf()}
    rule = {
        "all": [ACTIVE_WEEK["all"][0], {"field": "visitor.page_views", "op": "gte", "value": "x"}]
    }

    response = site.hearth.post(
        "/api/v1/segments", json={"name": "Broken", "rule": rule}, headers=headers
    )
    duplicate = [
        site.hearth.post(
            "/api/v1/segments", json={"name": "Twice", "rule": ACTIVE_WEEK}, headers=headers
        ).status_code
        for _ in range(2)
    ]

    assert response.status_code == 422
    assert response.json()["detail"].startswith("all[1]")
    assert duplicate == [201, 409]


def test_the_field_catalogue_lists_groups_and_operators(site: Site) -> None:
    _signed_in(site)

    fields = site.hearth.get("/api/v1/segments/fields").json()

    groups = {f["group"] for f in fields}
    assert {"Visitor", "Company", "CRM Company", "CRM Contact"} <= groups
    page_views = next(f for f in fields if f["key"] == "visitor.page_views")
    assert "gte" in page_views["operators"]
    assert site.hearth.get("/api/v1/companies/nowhere.com/segments").status_code == 404
