"""Fault injection: the pure decision core, then every fault kind as a client meets it over a real
socket (uvicorn, httpx, and simple-salesforce over HTTPS), as a real org would send it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from localforce import Org, bootstrap, create_app, oauth
from localforce.admin_api import admin_token
from localforce.api import ConnectionDropped
from localforce.bootstrap import Credentials
from localforce.faults import Call, Decision, FaultKind, FaultPlan, FaultRule, FaultRuleError
from localforce.limits import daily_usage
from localforce.server import Listener, free_port, serving_in_thread
from localforce.tls import ensure_certificate

from .conftest import Api, TestClient

BASE = "/services/data/v62.0"
LOCK_MESSAGE = "unable to obtain exclusive access to this record or 1 records: "
SESSION_BODY = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
TOTAL_BODY = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


# -- the decision core ----------------------------------------------------------------------------


def rule(**fields: Any) -> FaultRule:
    return FaultRule.from_json(fields)


def run(plan: FaultPlan, calls: list[Call]) -> tuple[list[Decision], FaultPlan]:
    decisions = []
    for call in calls:
        decision, plan = plan.decide(call)
        decisions.append(decision)
    return decisions, plan


GET_LIMITS = Call(method="GET", path=f"{BASE}/limits")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "nope", "times": 1}, "kind must be one of server_unavailable"),
        ({"kind": "slow", "times": 1}, "a slow rule needs delay_ms"),
        ({"kind": "slow", "times": 1, "delay_ms": 600_001}, "a slow rule needs delay_ms"),
        ({"kind": "drop_connection", "times": 1, "delay_ms": 5}, "delay_ms belongs to slow"),
        ({"kind": "drop_connection"}, "exactly one of rate"),
        ({"kind": "drop_connection", "rate": 0.5, "times": 2}, "exactly one of rate"),
        ({"kind": "drop_connection", "rate": 1.5}, "rate must be between 0 and 1"),
        ({"kind": "drop_connection", "rate": "half"}, "rate must be a number"),
        ({"kind": "drop_connection", "rate": True}, "rate must be a number"),
        ({"kind": "drop_connection", "times": 0}, "times must be at least 1"),
        ({"kind": "drop_connection", "times": 1.5}, "times must be an integer"),
        ({"kind": "drop_connection", "times": 1, "path": "sobjects"}, "path must start with"),
        ({"kind": "drop_connection", "times": 1, "path": 3}, "path must be a string"),
        ({"kind": "drop_connection", "times": 1, "method": "FETCH"}, "method must be one of"),
        ({"kind": "drop_connection", "times": 1, "every": 2}, "unknown keys: every"),
    ],
)
def test_a_bad_rule_says_what_is_wrong(data: dict[str, Any], message: str) -> None:
    with pytest.raises(FaultRuleError, match=message):
        FaultRule.from_json(data)


def test_a_bad_plan_names_the_rule() -> None:
    with pytest.raises(FaultRuleError, match=r"rules\[1\]: times must be at least 1"):
        FaultPlan.from_json(
            {"rules": [{"kind": "slow", "times": 1, "delay_ms": 5}, {"kind": "slow", "times": 0}]},
            default_seed=1,
        )
    with pytest.raises(FaultRuleError, match="rules must be a list"):
        FaultPlan.from_json({"rules": {}}, default_seed=1)
    assert FaultPlan.from_json({}, default_seed=9) == FaultPlan(seed=9)


@pytest.mark.parametrize(
    ("pattern", "method", "path", "matches"),
    [
        ("/", None, f"{BASE}/limits", True),
        ("/sobjects/Account", None, f"{BASE}/sobjects/Account", True),
        ("/sobjects/Account", None, f"{BASE}/sobjects/Account/001000000000001AAA", True),
        # A prefix ends at a segment boundary.
        ("/sobjects/Account", None, f"{BASE}/sobjects/AccountContactRelation", False),
        ("/sobjects/Account/", None, f"{BASE}/sobjects/Account/001000000000001AAA", True),
        ("/sobjects/*/describe", None, f"{BASE}/sobjects/Lead/describe", True),
        ("/sobjects/*/describe", None, f"{BASE}/sobjects/Lead", False),
        ("/query*", None, f"{BASE}/queryAll", True),
        ("/services/data/v62.0/limits", None, f"{BASE}/limits", True),
        ("/services/data/v62.0/limits", None, "/services/data/v61.0/limits", False),
        ("/services/data/*/limits", None, "/services/data/v61.0/limits", True),
        ("/limits", "GET", f"{BASE}/limits", True),
        ("/limits", "POST", f"{BASE}/limits", False),
    ],
)
def test_rules_match_by_path_and_method(
    pattern: str, method: str | None, path: str, matches: bool
) -> None:
    fault = rule(kind="server_unavailable", path=pattern, method=method, times=1)
    assert fault.matches(Call(method="GET", path=path)) is matches


def test_a_row_lock_is_only_waited_for_by_writes() -> None:
    lock = rule(kind="unable_to_lock_row", rate=1)
    account = f"{BASE}/sobjects/Account"
    assert not lock.matches(Call(method="GET", path=account))
    assert not lock.matches(Call(method="HEAD", path=account))
    for method in ("POST", "PATCH", "PUT", "DELETE"):
        assert lock.matches(Call(method=method, path=account))


def test_a_times_rule_fires_on_the_next_n_matching_calls_only() -> None:
    plan = FaultPlan(seed=1, rules=(rule(kind="drop_connection", path="/limits", times=2),))
    other = Call(method="GET", path=f"{BASE}/sobjects")
    decisions, after = run(plan, [other, GET_LIMITS, other, GET_LIMITS, GET_LIMITS, GET_LIMITS])
    drop = FaultKind.DROP_CONNECTION
    assert [d.fault for d in decisions] == [None, drop, None, drop, None, None]
    progress = after.to_json()["rules"][0]
    assert (progress["matched"], progress["fired"], progress["remaining"]) == (4, 2, 0)


def faulted(seed: int, rate: float, calls: int) -> list[int]:
    plan = FaultPlan(seed=seed, rules=(rule(kind="server_unavailable", rate=rate),))
    decisions, _ = run(plan, [GET_LIMITS] * calls)
    return [i for i, d in enumerate(decisions) if d.fault is not None]


def test_the_same_seed_replays_the_same_faulted_calls() -> None:
    assert faulted(42, 0.3, 200) == faulted(42, 0.3, 200)
    assert faulted(42, 0.3, 200) != faulted(43, 0.3, 200)
    # The rate is a probability per matching call.
    assert 0.2 < len(faulted(7, 0.3, 2000)) / 2000 < 0.4
    assert faulted(7, 0.0, 100) == []
    assert faulted(7, 1.0, 100) == list(range(100))


def test_a_rules_stream_ignores_calls_it_does_not_match() -> None:
    """The PRNG advances once per *matching* call, so unrelated traffic cannot shift a replay."""
    plan = FaultPlan(seed=5, rules=(rule(kind="server_unavailable", path="/limits", rate=0.5),))
    noise = Call(method="GET", path=f"{BASE}/sobjects")
    quiet, _ = run(plan, [GET_LIMITS] * 50)
    noisy, _ = run(plan, [noise, GET_LIMITS, noise] * 50)
    assert {d.fault for d in quiet} == {None, FaultKind.SERVER_UNAVAILABLE}
    assert noisy[1::3] == quiet


def test_slow_rules_add_up_and_the_first_other_fault_wins() -> None:
    plan = FaultPlan(
        seed=1,
        rules=(
            rule(kind="slow", delay_ms=100, times=5),
            rule(kind="server_unavailable", times=1),
            rule(kind="slow", delay_ms=20, times=5),
            rule(kind="drop_connection", times=1),
        ),
    )
    decisions, after = run(plan, [GET_LIMITS] * 3)
    assert decisions == [
        # The 503 stops the evaluation: the rules after it keep their counts for later calls.
        Decision(fault=FaultKind.SERVER_UNAVAILABLE, delay_ms=100),
        Decision(fault=FaultKind.DROP_CONNECTION, delay_ms=120),
        Decision(delay_ms=120),
    ]
    assert [r["matched"] for r in after.to_json()["rules"]] == [3, 3, 2, 2]


def test_a_plan_round_trips_through_its_stored_form() -> None:
    plan = FaultPlan.from_json(
        {
            "seed": 3,
            "rules": [
                {"kind": "slow", "delay_ms": 50, "rate": 0.25, "path": "/query", "method": "get"},
                {"kind": "unable_to_lock_row", "times": 3},
            ],
        },
        default_seed=0,
    )
    _, advanced = run(plan, [Call(method="POST", path=f"{BASE}/sobjects/Lead")] * 2)
    assert FaultPlan.loads(advanced.dumps()) == advanced
    assert advanced.to_json() == {
        "seed": 3,
        "rules": [
            {
                "kind": "slow",
                "path": "/query",
                "method": "GET",
                "rate": 0.25,
                "delay_ms": 50,
                "matched": 0,
                "fired": 0,
            },
            {
                "kind": "unable_to_lock_row",
                "path": "/",
                "times": 3,
                "matched": 2,
                "fired": 2,
                "remaining": 1,
            },
        ],
    }


# -- through a real server ------------------------------------------------------------------------


@dataclass(frozen=True)
class Running:
    org: Org
    creds: Credentials
    base: str
    tls_base: str
    cert: Path

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {admin_token(self.org)}"}

    def token(self) -> str:
        return oauth.issue_session(self.org, self.creds.user_id, self.creds.app.client_id)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data = tmp_path_factory.mktemp("org")
    cert, key = ensure_certificate(data)
    org = Org.open(data)
    creds = bootstrap(org)
    assert creds is not None
    app = create_app(org)
    plain = Listener(app=app, host="127.0.0.1", port=free_port())
    tls = Listener(app=app, host="127.0.0.1", port=free_port(), certfile=cert, keyfile=key)
    with serving_in_thread(plain) as base, serving_in_thread(tls) as tls_base:
        try:
            yield Running(org, creds, base, tls_base, cert)
        finally:
            org.close()


@pytest.fixture
def http(running: Running) -> Iterator[httpx.Client]:
    """A client with a fresh token, on an org with no fault rules."""
    with httpx.Client(
        base_url=running.base + BASE,
        headers={"Authorization": f"Bearer {running.token()}"},
        timeout=20,
    ) as client:
        client.delete(running.base + "/_localforce/faults", headers=running.admin)
        yield client


def set_faults(running: Running, *rules: dict[str, Any], seed: int = 7) -> dict[str, Any]:
    response = httpx.put(
        running.base + "/_localforce/faults",
        json={"seed": seed, "rules": list(rules)},
        headers=running.admin,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def faults_now(running: Running) -> list[dict[str, Any]]:
    response = httpx.get(running.base + "/_localforce/faults", headers=running.admin)
    rules: list[dict[str, Any]] = response.json()["rules"]
    return rules


def used(running: Running) -> int:
    return daily_usage(running.org).used


def names(http: httpx.Client, sobject: str, name: str) -> list[str]:
    soql = f"SELECT Id FROM {sobject} WHERE Name = '{name}'"
    response = http.get("/query", params={"q": soql})
    assert response.status_code == 200, response.text
    return [r["Id"] for r in response.json()["records"]]


def test_server_unavailable_is_an_html_503_from_the_door(
    running: Running, http: httpx.Client
) -> None:
    set_faults(running, {"kind": "server_unavailable", "times": 1})
    before = used(running)
    response = http.get("/limits")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lstrip().startswith("<!DOCTYPE html>")
    assert "sforce-limit-info" not in response.headers
    # Salesforce's front door answered: the call never reached the API and is not counted.
    assert used(running) == before
    assert http.get("/limits").status_code == 200
    # Only the REST API is faulted; OAuth, the versions list and the admin API are not.
    set_faults(running, {"kind": "server_unavailable", "rate": 1})
    assert httpx.get(running.base + "/services/data").status_code == 200
    assert httpx.get(running.base + "/_localforce/org", headers=running.admin).status_code == 200


def test_unable_to_lock_row_fails_a_single_record_write(
    running: Running, http: httpx.Client
) -> None:
    account = http.post("/sobjects/Account", json={"Name": "Locked Co"}).json()["id"]
    set_faults(running, {"kind": "unable_to_lock_row", "path": "/sobjects/Account", "times": 1})
    # Reads never wait for a row lock, and do not use the rule up.
    assert http.get(f"/sobjects/Account/{account}").status_code == 200
    before = used(running)
    response = http.patch(f"/sobjects/Account/{account}", json={"Name": "Renamed"})
    assert response.status_code == 400
    assert response.json() == [
        {"message": LOCK_MESSAGE + account, "errorCode": "UNABLE_TO_LOCK_ROW", "fields": []}
    ]
    assert response.headers["sforce-limit-info"].startswith("api-usage=")
    assert used(running) == before + 1  # the call reached the API
    assert http.get(f"/sobjects/Account/{account}").json()["Name"] == "Locked Co"
    assert http.patch(f"/sobjects/Account/{account}", json={"Name": "Renamed"}).status_code == 204


def test_unable_to_lock_row_in_collections_fails_each_record(
    running: Running, http: httpx.Client
) -> None:
    account = http.post("/sobjects/Account", json={"Name": "Parent Co"}).json()["id"]
    set_faults(running, {"kind": "unable_to_lock_row", "path": "/composite/sobjects", "times": 1})
    records = [
        {"attributes": {"type": "Contact"}, "LastName": "Child", "AccountId": account},
        {"attributes": {"type": "Account"}, "Name": "Collection Co"},
    ]
    response = http.post("/composite/sobjects", json={"records": records, "allOrNone": False})
    # As in a real org, row locks are per-record results inside a 200, with `statusCode`.
    assert response.status_code == 200
    results = response.json()
    assert [r["success"] for r in results] == [False, False]
    first, second = (r["errors"] for r in results)
    # A new record waits for the parent it names, else for its owner.
    assert first == [
        {"statusCode": "UNABLE_TO_LOCK_ROW", "message": LOCK_MESSAGE + account, "fields": []}
    ]
    assert second[0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert second[0]["message"] == LOCK_MESSAGE + running.creds.user_id
    assert names(http, "Account", "Collection Co") == []
    deleted = http.delete("/composite/sobjects", params={"ids": account})
    assert deleted.json() == [{"id": account, "success": True, "errors": []}]


def test_session_expired_is_a_401_and_the_session_stays_expired(
    running: Running, http: httpx.Client
) -> None:
    set_faults(running, {"kind": "session_expired", "times": 1})
    before = used(running)
    response = http.get("/limits")
    assert response.status_code == 401
    assert response.json() == SESSION_BODY
    assert response.headers["www-authenticate"] == "Token"
    # The rule is spent, but the token is dead: only a client that refreshes gets through.
    assert http.get("/limits").status_code == 401
    assert faults_now(running)[0]["remaining"] == 0
    assert used(running) == before
    fresh = {"Authorization": f"Bearer {running.token()}"}
    assert http.get("/limits", headers=fresh).status_code == 200


def test_request_limit_is_the_daily_403_and_costs_nothing(
    running: Running, http: httpx.Client
) -> None:
    set_faults(running, {"kind": "request_limit", "method": "POST", "times": 1})
    before = used(running)
    response = http.post("/sobjects/Account", json={"Name": "Refused Co"})
    assert response.status_code == 403
    assert response.json() == TOTAL_BODY
    assert "retry-after" not in response.headers
    assert response.headers["sforce-limit-info"] == f"api-usage={before}/100000"
    assert used(running) == before
    assert names(http, "Account", "Refused Co") == []


def test_slow_delays_the_answer(running: Running, http: httpx.Client) -> None:
    set_faults(running, {"kind": "slow", "delay_ms": 300, "times": 1})
    started = time.monotonic()
    assert http.get("/limits").status_code == 200
    assert time.monotonic() - started >= 0.3
    assert http.get("/limits").status_code == 200
    progress = faults_now(running)[0]
    assert (progress["matched"], progress["fired"], progress["remaining"]) == (2, 1, 0)


def test_drop_connection_closes_without_an_answer(running: Running, http: httpx.Client) -> None:
    set_faults(running, {"kind": "drop_connection", "method": "POST", "times": 1})
    before = used(running)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        http.post("/sobjects/Account", json={"Name": "Dropped Co"})
    assert names(http, "Account", "Dropped Co") == []
    assert used(running) == before + 1  # the query; the dropped call never reached the API
    # requests (under simple-salesforce) sees the same as a connection aborted by the peer.
    set_faults(running, {"kind": "drop_connection", "times": 1})
    with pytest.raises(requests.ConnectionError, match="without response"):
        requests.get(running.base + BASE + "/limits", headers=dict(http.headers), timeout=10)


def test_lost_after_commit_writes_but_the_client_never_hears(
    running: Running, http: httpx.Client
) -> None:
    set_faults(running, {"kind": "lost_after_commit", "method": "POST", "times": 1})
    before = used(running)
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/sobjects/Account", json={"Name": "Committed Co"})
    # The write happened: a client that retries blindly would make a duplicate.
    assert len(names(http, "Account", "Committed Co")) == 1
    assert used(running) == before + 2


def test_next_n_rules_count_matching_calls_only(running: Running, http: httpx.Client) -> None:
    set_faults(
        running,
        {"kind": "server_unavailable", "path": "/sobjects/Account", "method": "POST", "times": 2},
    )
    create = {"Name": "Third Time Co"}
    assert http.get("/sobjects/Account/describe").status_code == 200
    assert http.post("/sobjects/Lead", json={"LastName": "L", "Company": "C"}).status_code == 201
    assert [http.post("/sobjects/Account", json=create).status_code for _ in range(3)] == [
        503,
        503,
        201,
    ]
    progress = faults_now(running)[0]
    assert (progress["matched"], progress["fired"], progress["remaining"]) == (3, 2, 0)


def test_a_seeded_rate_replays_through_http(running: Running, http: httpx.Client) -> None:
    def statuses(seed: int) -> list[int]:
        set_faults(
            running, {"kind": "server_unavailable", "path": "/limits", "rate": 0.5}, seed=seed
        )
        return [http.get("/limits").status_code for _ in range(24)]

    first = statuses(11)
    assert set(first) == {200, 503}
    assert statuses(11) == first
    assert statuses(12) != first


def test_rules_survive_a_restart_of_the_app(running: Running) -> None:
    """The plan lives in the org database: a second app over the same org sees its progress."""
    set_faults(running, {"kind": "request_limit", "times": 2})
    headers = {"Authorization": f"Bearer {running.token()}"}
    with TestClient(create_app(running.org)) as client:
        assert client.get(BASE + "/limits", headers=headers).status_code == 403
    assert faults_now(running)[0]["remaining"] == 1


@pytest.fixture
def sf(running: Running, http: httpx.Client) -> Salesforce:
    """simple-salesforce over HTTPS, on an org with no fault rules (`http` clears them)."""
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify`
    session.verify = str(running.cert)
    return Salesforce(
        instance_url=running.tls_base,
        session_id=running.token(),
        session=session,
        version="62.0",
    )


def test_simple_salesforce_meets_each_fault_as_it_would_a_real_orgs(
    running: Running, sf: Salesforce
) -> None:
    set_faults(running, {"kind": "server_unavailable", "times": 1})
    with pytest.raises(SalesforceGeneralError) as unavailable:
        sf.Account.create({"Name": "Unavailable Co"})
    assert unavailable.value.status == 503
    assert "<h1>Service Unavailable</h1>" in str(unavailable.value.content)

    set_faults(running, {"kind": "unable_to_lock_row", "times": 1})
    with pytest.raises(SalesforceMalformedRequest) as locked:
        sf.Account.create({"Name": "Locked Co"})
    assert locked.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"

    set_faults(running, {"kind": "request_limit", "times": 1})
    with pytest.raises(SalesforceRefusedRequest) as refused:
        sf.Account.create({"Name": "Refused Co"})
    assert refused.value.content == TOTAL_BODY

    set_faults(running, {"kind": "drop_connection", "times": 1})
    with pytest.raises(requests.ConnectionError):
        sf.Account.create({"Name": "Dropped Co"})

    set_faults(running, {"kind": "session_expired", "times": 1})
    with pytest.raises(SalesforceExpiredSession) as expired:
        sf.Account.create({"Name": "Expired Co"})
    assert expired.value.content == SESSION_BODY


def test_in_process_transports_see_the_drop_as_an_exception(api: Api, org: Org) -> None:
    """Starlette's TestClient and httpx's ASGITransport have no connection to close: the app
    raises ConnectionDropped, which they hand to their caller."""
    headers = {"Authorization": f"Bearer {admin_token(org)}"}
    rules = [{"kind": "lost_after_commit", "times": 1}]
    api.client.put("/_localforce/faults", json={"seed": 1, "rules": rules}, headers=headers)
    with pytest.raises(ConnectionDropped):
        api.post("/sobjects/Account", json={"Name": "In Process Co"})
    assert len(api.query_all_records("SELECT Id FROM Account WHERE Name = 'In Process Co'")) == 1
