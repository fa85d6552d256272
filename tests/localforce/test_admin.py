"""The core admin endpoints (usage, faults, tokens, clock, limits) and the record browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from localforce import oauth
from localforce.admin_api import admin_token
from localforce.bootstrap import Credentials
from localforce.org import Org
from localforce.values import format_datetime, parse_datetime

from .conftest import Api, TestClient

ENDPOINTS = [
    ("GET", "/_localforce/usage"),
    ("POST", "/_localforce/usage/reset"),
    ("GET", "/_localforce/faults"),
    ("PUT", "/_localforce/faults"),
    ("DELETE", "/_localforce/faults"),
    ("POST", "/_localforce/users/005000000000001AAA/revoke-tokens"),
    ("GET", "/_localforce/clock"),
    ("POST", "/_localforce/clock"),
    ("GET", "/_localforce/limits"),
    ("PUT", "/_localforce/limits"),
]


@pytest.fixture
def admin(org: Org) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token(org)}"}


def call(
    api: Api, admin: dict[str, str], method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    response = api.client.request(method, f"/_localforce{path}", json=body, headers=admin)
    assert response.headers["content-type"] == "application/json"
    return response.status_code, response.json()


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_the_admin_token(api: Api, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, api.headers()):
        response = api.client.request(method, path, json={}, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "a valid admin token is required"}


# -- usage ----------------------------------------------------------------------------------------


def test_usage_by_endpoint_and_client_and_reset(
    api: Api, admin: dict[str, str], creds: Credentials
) -> None:
    api.get("/limits")
    api.query("SELECT Id FROM Account")
    api.query("SELECT Id FROM Lead")
    status, usage = call(api, admin, "GET", "/usage")
    assert status == 200
    assert usage == {
        "window_hours": 24,
        "used": 3,
        "limit": 100_000,
        "remaining": 99_997,
        "by_endpoint": {"limits": 1, "query": 2},
        "by_client": {creds.app.client_id: 3},
    }
    status, reset = call(api, admin, "POST", "/usage/reset")
    assert status == 200
    assert (reset["used"], reset["by_endpoint"], reset["by_client"]) == (0, {}, {})
    assert api.get("/limits").headers["sforce-limit-info"] == "api-usage=1/100000"


# -- faults ---------------------------------------------------------------------------------------


def test_faults_are_set_listed_and_cleared(api: Api, admin: dict[str, str]) -> None:
    assert call(api, admin, "GET", "/faults") == (200, {"seed": None, "rules": []})
    plan = {
        "seed": 99,
        "rules": [
            {"kind": "server_unavailable", "path": "/limits", "times": 1},
            {"kind": "slow", "rate": 0.5, "delay_ms": 1},
        ],
    }
    status, stored = call(api, admin, "PUT", "/faults", plan)
    assert status == 200
    assert stored == {
        "seed": 99,
        "rules": [
            {
                "kind": "server_unavailable",
                "path": "/limits",
                "times": 1,
                "matched": 0,
                "fired": 0,
                "remaining": 1,
            },
            {"kind": "slow", "path": "/", "rate": 0.5, "delay_ms": 1, "matched": 0, "fired": 0},
        ],
    }
    assert api.get("/limits").status_code == 503
    assert api.get("/limits").status_code == 200
    status, listed = call(api, admin, "GET", "/faults")
    # The 503 ended the first call's evaluation: the slow rule saw the second call only.
    first, slow = listed["rules"]
    assert (first["matched"], first["fired"], first["remaining"]) == (2, 1, 0)
    assert (slow["matched"], slow["fired"]) == (1, 1)  # seed 99 draws 0.36 < 0.5 first
    assert call(api, admin, "DELETE", "/faults") == (200, {"seed": 99, "rules": []})
    assert api.get("/limits").status_code == 200


def test_a_plan_without_a_seed_reports_the_seed_it_drew(api: Api, admin: dict[str, str]) -> None:
    status, stored = call(api, admin, "PUT", "/faults", {"rules": []})
    assert status == 200 and isinstance(stored["seed"], int)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "the body must be a JSON object"),
        (
            {"rules": [{"kind": "slow", "times": 1}]},
            "rules[0]: a slow rule needs delay_ms between 1 and 600000",
        ),
        ({"rules": "all"}, "rules must be a list"),
        ({"seed": "x", "rules": []}, "seed must be an integer"),
        ({"rule": []}, "unknown keys: rule"),
    ],
)
def test_a_bad_fault_plan_is_refused_with_the_reason(
    api: Api, admin: dict[str, str], body: Any, message: str
) -> None:
    assert call(api, admin, "PUT", "/faults", body) == (400, {"error": message})


def test_a_body_that_is_not_json_is_refused(api: Api, admin: dict[str, str]) -> None:
    response = api.client.put("/_localforce/faults", content=b"{nope", headers=admin)
    assert response.status_code == 400
    assert response.json()["error"].startswith("the body is not JSON")


# -- tokens ---------------------------------------------------------------------------------------


def test_revoking_a_users_tokens_ends_their_sessions(
    api: Api, admin: dict[str, str], creds: Credentials
) -> None:
    assert api.get("/limits").status_code == 200
    # A 15-character ID names the user as well as the 18-character one.
    status, body = call(api, admin, "POST", f"/users/{creds.user_id[:15]}/revoke-tokens")
    assert status == 200
    assert body == {"user_id": creds.user_id, "revoked": 1}
    response = api.get("/limits")
    assert response.status_code == 401
    assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    assert call(api, admin, "POST", f"/users/{creds.user_id}/revoke-tokens")[1]["revoked"] == 0


def test_revoking_tokens_of_an_unknown_user(api: Api, admin: dict[str, str]) -> None:
    assert call(api, admin, "POST", "/users/nope/revoke-tokens") == (
        400,
        {"error": "'nope' is not a user ID"},
    )
    status, body = call(api, admin, "POST", "/users/005000000000009AAA/revoke-tokens")
    assert (status, body) == (404, {"error": "no user has the ID 005000000000009AAA"})


# -- clock ----------------------------------------------------------------------------------------


def now_of(api: Api, admin: dict[str, str]) -> datetime:
    moment = parse_datetime(call(api, admin, "GET", "/clock")[1]["now"])
    assert moment is not None
    return moment


def test_the_clock_moves_forward_by_an_amount_or_to_a_moment(
    api: Api, admin: dict[str, str], org: Org, creds: Credentials
) -> None:
    start = now_of(api, admin)
    status, body = call(api, admin, "POST", "/clock", {"advance_seconds": 3600})
    assert status == 200
    moved = parse_datetime(body["now"])
    assert moved is not None and timedelta(hours=1) <= moved - start < timedelta(hours=1, seconds=5)
    target = datetime(2040, 1, 31, 10, 0, tzinfo=UTC)
    status, body = call(api, admin, "POST", "/clock", {"now": "2040-01-31T10:00:00Z"})
    assert status == 200
    reached = parse_datetime(body["now"])
    assert reached is not None and timedelta(0) <= reached - target < timedelta(seconds=5)
    # Records written now carry the org's time (by a fresh token: the old one has expired).
    api = Api(api.client, oauth.issue_session(org, creds.user_id, creds.app.client_id))
    account = api.create("Account", Name="Future Co")
    created = api.get(f"/sobjects/Account/{account}").json()["CreatedDate"]
    assert created.startswith("2040-01-31T10:00")


def test_the_clock_never_goes_back(api: Api, admin: dict[str, str]) -> None:
    before = now_of(api, admin)
    status, body = call(api, admin, "POST", "/clock", {"now": "2001-01-01T00:00:00Z"})
    assert status == 409
    assert "never goes back to 2001-01-01T00:00:00Z" in body["error"]
    assert now_of(api, admin) - before < timedelta(seconds=5)
    earlier = format_datetime(before - timedelta(seconds=1))
    assert call(api, admin, "POST", "/clock", {"now": earlier})[0] == 409


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, 'give exactly one of "advance_seconds" and "now"'),
        ({"advance_seconds": 1, "now": "2040-01-01"}, 'give exactly one of "advance_seconds"'),
        ({"advance_seconds": 1, "at": 2}, 'give exactly one of "advance_seconds"'),
        ({"advance_seconds": -1}, "advance_seconds must not be negative"),
        ({"advance_seconds": "60"}, "advance_seconds must be a number"),
        ({"advance_seconds": True}, "advance_seconds must be a number"),
        ({"advance_seconds": 1e12}, "advance_seconds may be at most 100 years"),
        ({"now": "tomorrow"}, "now must be an ISO 8601 date-time"),
        ({"now": 2040}, "now must be an ISO 8601 date-time"),
        ({"now": "9999-12-31T00:00:00Z"}, "now may be at most 100 years ahead"),
    ],
)
def test_bad_clock_moves_are_refused(
    api: Api, admin: dict[str, str], body: dict[str, Any], message: str
) -> None:
    status, answer = call(api, admin, "POST", "/clock", body)
    assert status == 400
    assert answer["error"].startswith(message)


# -- limits ---------------------------------------------------------------------------------------


def test_limits_can_be_read_and_changed(api: Api, admin: dict[str, str], org: Org) -> None:
    assert call(api, admin, "GET", "/limits") == (
        200,
        {"daily_api_limit": 100_000, "long_request_seconds": 20.0, "long_request_limit": 25},
    )
    api.get("/limits")
    api.get("/limits")
    status, body = call(
        api, admin, "PUT", "/limits", {"daily_api_limit": 3, "long_request_seconds": 5}
    )
    assert (status, body) == (
        200,
        {"daily_api_limit": 3, "long_request_seconds": 5.0, "long_request_limit": 25},
    )
    assert org.config.daily_api_limit == 3
    assert api.get("/limits").headers["sforce-limit-info"] == "api-usage=3/3"
    refused = api.get("/limits")
    assert refused.status_code == 403
    assert refused.json()[0]["message"] == "TotalRequests Limit exceeded."


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"daily_api_limit": -1}, "daily_api_limit must be an integer of at least 0"),
        ({"daily_api_limit": 1.5}, "daily_api_limit must be an integer of at least 0"),
        ({"daily_api_limit": True}, "daily_api_limit must be an integer of at least 0"),
        ({"long_request_limit": 0}, "long_request_limit must be an integer of at least 1"),
        ({"long_request_seconds": "20"}, "long_request_seconds must be a number of at least 0"),
        ({"hourly": 5}, "unknown limits: hourly"),
    ],
)
def test_bad_limits_are_refused(
    api: Api, admin: dict[str, str], org: Org, body: dict[str, Any], message: str
) -> None:
    assert call(api, admin, "PUT", "/limits", body) == (400, {"error": message})
    assert org.config.daily_api_limit == 100_000


# -- record browser -------------------------------------------------------------------------------


@pytest.fixture
def browser(client: TestClient, org: Org) -> TestClient:
    """The test client, signed in to the browser the way a person is: with `?token=`."""
    response = client.get(f"/_localforce/browse?token={admin_token(org)}", follow_redirects=False)
    assert response.status_code == 303
    return client


def test_the_browser_asks_for_the_token(client: TestClient, org: Org) -> None:
    response = client.get("/_localforce/browse/Account")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert '<input type="password" name="token"' in response.text
    wrong = client.get("/_localforce/browse/Account?token=nope")
    assert wrong.status_code == 401
    assert "That is not this org&#39;s admin token." in wrong.text


def test_a_token_in_the_url_becomes_a_cookie_and_leaves_the_url(
    client: TestClient, org: Org
) -> None:
    token = admin_token(org)
    response = client.get(
        f"/_localforce/browse/Account?page=2&token={token}", follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/_localforce/browse/Account?page=2"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/_localforce/browse" in cookie
    assert token not in cookie
    assert client.get("/_localforce/browse/Account").status_code == 200
    # The cookie opens the browser's pages only, not the admin API.
    assert client.get("/_localforce/usage").status_code == 401


def test_the_browser_takes_the_admin_header_too(client: TestClient, org: Org) -> None:
    response = client.get(
        "/_localforce/browse", headers={"X-Localforce-Admin-Token": admin_token(org)}
    )
    assert response.status_code == 200


def test_objects_are_listed_with_their_record_counts(browser: TestClient, api: Api) -> None:
    api.create("Account", Name="One")
    deleted = api.create("Account", Name="Two")
    api.delete(f"/sobjects/Account/{deleted}")
    page = browser.get("/_localforce/browse")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    row = page.text[page.text.index('href="/_localforce/browse/Account"') :]
    assert re.findall(r'<td class="num">(\d+)</td>', row[: row.index("</tr>")]) == ["1", "1"]
    assert 'href="/_localforce/browse/Lead"' in page.text


def test_records_are_listed_escaped_and_paged(browser: TestClient, api: Api) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": f"Paged {i:02d}", "Website": f"p{i}.example"}
        for i in range(55)
    ]
    assert api.post("/composite/sobjects", json={"records": records}).status_code == 200
    evil = api.create("Account", Name="<script>alert(1)</script>")
    page = browser.get("/_localforce/browse/account")  # object names are case-insensitive
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert f'href="/_localforce/browse/Account/{evil}"' in page.text
    assert "Paged 54" in page.text and "p54.example" in page.text
    assert "Paged 05" not in page.text  # newest first, 50 a page
    assert "Page 1 of 2" in page.text and "?page=2" in page.text
    second = browser.get("/_localforce/browse/Account?page=2")
    assert "Paged 05" in second.text and "Paged 00" in second.text and "Paged 54" not in second.text
    assert browser.get("/_localforce/browse/Account?page=x").status_code == 200


def test_one_record_shows_every_field_and_links_its_parents(browser: TestClient, api: Api) -> None:
    account = api.create("Account", Name="Parent <b>Co</b>")
    contact = api.create("Contact", LastName="Child", AccountId=account)
    page = browser.get(f"/_localforce/browse/Contact/{contact[:15]}")
    assert page.status_code == 200
    assert f"<code>{contact}</code>" in page.text
    assert "<code>LastName</code>" in page.text and "Child" in page.text
    assert f'href="/_localforce/browse/Account/{account}"' in page.text
    parent = browser.get(f"/_localforce/browse/Account/{account}")
    assert "Parent &lt;b&gt;Co&lt;/b&gt;" in parent.text


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/Nope__c", "No object is called Nope__c."),
        ("/Nope__c/001000000000001AAA", "No object is called Nope__c."),
        ("/Account/nope", "nope is not a record ID."),
        ("/Account/001000000000009AAA", "No Account has the ID 001000000000009AAA."),
    ],
)
def test_missing_objects_and_records_are_404_pages(
    browser: TestClient, path: str, message: str
) -> None:
    page = browser.get(f"/_localforce/browse{path}")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert message in page.text


def test_a_moved_clock_survives_a_restart(tmp_path: Path) -> None:
    first = Org.open(tmp_path / "clock-org")
    first.advance_clock(timedelta(days=3))
    moved = first.clock.now()
    first.close()
    again = Org.open(tmp_path / "clock-org")
    assert again.clock.now() >= moved
    again.close()
