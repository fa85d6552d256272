"""API request limits: the daily allowance over a rolling 24 hours, and the cap on concurrent
long-running requests (reference §6.3, §6.4, §8)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from localforce import Org, OrgConfig, bootstrap, create_app, oauth
from localforce.admin_api import admin_token
from localforce.bootstrap import Credentials
from localforce.limits import LongRequests, daily_usage, usage_by
from localforce.server import Listener, free_port, serving_in_thread

from .conftest import BASE, Api, TestClient

TOTAL_BODY = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
CONCURRENT_BODY = [
    {"message": "ConcurrentPerOrgLongTxn Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
]


# -- long-running requests, on a hand-driven clock ------------------------------------------------


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_only_requests_past_the_threshold_count_towards_the_cap() -> None:
    clock = FakeMonotonic()
    tracker = LongRequests(clock)

    def admit() -> int | None:
        return tracker.admit(threshold=20, limit=2)

    first, second = admit(), admit()
    assert first is not None and second is not None
    # However many short requests are in flight, none is long-running yet.
    for _ in range(50):
        ticket = admit()
        assert ticket is not None
        tracker.release(ticket)
    clock.now += 20
    # Two requests have now run for 20 s: nothing new is admitted until one of them ends.
    assert admit() is None
    tracker.release(first)
    late = admit()
    assert late is not None
    clock.now += 19.9
    assert admit() is not None  # `late` is still short: only `second` is long-running
    clock.now += 0.1
    assert admit() is None  # `late` has reached 20 s too


def test_a_refused_request_is_not_tracked() -> None:
    clock = FakeMonotonic()
    tracker = LongRequests(clock)
    blocker = tracker.admit(threshold=1, limit=1)
    assert blocker is not None
    clock.now += 1
    assert tracker.admit(threshold=1, limit=1) is None
    tracker.release(blocker)
    assert tracker.admit(threshold=1, limit=1) is not None


# -- the daily allowance --------------------------------------------------------------------------


@pytest.fixture
def small(tmp_path: Path) -> Iterator[tuple[Org, Credentials, TestClient]]:
    org = Org.open(tmp_path / "org", config=OrgConfig(daily_api_limit=3))
    creds = bootstrap(org)
    assert creds is not None
    with TestClient(create_app(org)) as client:
        yield org, creds, client
    org.close()


def api_for(org: Org, creds: Credentials, client: TestClient) -> Api:
    return Api(client, oauth.issue_session(org, creds.user_id, creds.app.client_id))


def test_refused_calls_do_not_push_usage_past_the_limit(
    small: tuple[Org, Credentials, TestClient],
) -> None:
    org, creds, client = small
    api = api_for(org, creds, client)
    for expected in (1, 2, 3):
        response = api.get("/limits")
        assert response.headers["sforce-limit-info"] == f"api-usage={expected}/3"
        assert response.json()["DailyApiRequests"] == {"Max": 3, "Remaining": 3 - expected}
    for _ in range(5):
        refused = api.post("/sobjects/Account", json={"Name": "Too Many"})
        assert refused.status_code == 403
        assert refused.json() == TOTAL_BODY
        assert refused.headers["sforce-limit-info"] == "api-usage=3/3"
    assert daily_usage(org).used == 3
    assert org.conn.execute('SELECT count(*) FROM "Account"').fetchone()[0] == 0


def test_the_allowance_is_a_rolling_24_hours(
    small: tuple[Org, Credentials, TestClient],
) -> None:
    org, creds, client = small
    api = api_for(org, creds, client)
    assert api.get("/limits").status_code == 200
    org.clock.advance(timedelta(hours=12))
    api = api_for(org, creds, client)  # access tokens live 2 hours
    assert [api.get("/limits").status_code for _ in range(3)] == [200, 200, 403]
    # 24 hours after the first call it leaves the window; the two later ones stay in it.
    org.clock.advance(timedelta(hours=12, minutes=1))
    api = api_for(org, creds, client)
    response = api.get("/limits")
    assert response.status_code == 200
    assert response.headers["sforce-limit-info"] == "api-usage=3/3"
    assert api.get("/limits").status_code == 403
    org.clock.advance(timedelta(hours=12))
    api = api_for(org, creds, client)
    assert api.get("/limits").headers["sforce-limit-info"] == "api-usage=2/3"


def test_calls_are_counted_by_endpoint_and_by_client(
    small: tuple[Org, Credentials, TestClient],
) -> None:
    org, creds, client = small
    org.config = replace(org.config, daily_api_limit=100)
    api = api_for(org, creds, client)
    api.get("/limits")
    api.query("SELECT Id FROM Account")
    api.query("SELECT Id FROM Lead")
    assert usage_by(org, "endpoint") == {"limits": 1, "query": 2}
    assert usage_by(org, "client") == {creds.app.client_id: 3}


def test_a_lower_limit_applies_at_once(
    small: tuple[Org, Credentials, TestClient],
) -> None:
    org, creds, client = small
    api = api_for(org, creds, client)
    api.get("/limits")
    api.get("/limits")
    org.config = replace(org.config, daily_api_limit=1)
    refused = api.get("/limits")
    assert refused.status_code == 403
    # The usage Salesforce reports may exceed a lowered maximum; /limits never shows less than 0.
    assert refused.headers["sforce-limit-info"] == "api-usage=2/1"
    org.config = replace(org.config, daily_api_limit=3)
    assert api.get("/limits").json()["DailyApiRequests"] == {"Max": 3, "Remaining": 0}


# -- concurrent long-running requests, over a real server -----------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Org, str, dict[str, str]]]:
    config = OrgConfig(long_request_seconds=0.2, long_request_limit=1)
    org = Org.open(tmp_path / "org", config=config)
    creds = bootstrap(org)
    assert creds is not None
    token = oauth.issue_session(org, creds.user_id, creds.app.client_id)
    listener = Listener(app=create_app(org), host="127.0.0.1", port=free_port())
    with serving_in_thread(listener) as base:
        yield org, base, {"Authorization": f"Bearer {token}"}
    org.close()


def test_new_requests_are_refused_while_long_running_ones_fill_the_cap(
    served: tuple[Org, str, dict[str, str]],
) -> None:
    org, base, headers = served
    slow = {"kind": "slow", "path": "/sobjects/Account", "delay_ms": 4000, "times": 1}
    put = httpx.put(
        f"{base}/_localforce/faults",
        json={"seed": 1, "rules": [slow]},
        headers={"Authorization": f"Bearer {admin_token(org)}"},
    )
    assert put.status_code == 200
    answers: list[httpx.Response] = []
    long_one = threading.Thread(
        target=lambda: answers.append(
            httpx.get(f"{base}{BASE}/sobjects/Account", headers=headers, timeout=20)
        )
    )
    long_one.start()
    # Until the slow request has run for 0.2 s, short requests pass; then every new one is refused.
    deadline = time.monotonic() + 2.5
    refused = None
    while refused is None and time.monotonic() < deadline:
        response = httpx.get(f"{base}{BASE}/limits", headers=headers)
        if response.status_code == 403:
            refused = response
        else:
            assert response.status_code == 200
            time.sleep(0.02)
    assert refused is not None, "the long-running request never filled the cap"
    assert refused.json() == CONCURRENT_BODY
    counted = daily_usage(org).used
    assert httpx.get(f"{base}{BASE}/limits", headers=headers).status_code == 403
    assert daily_usage(org).used == counted  # a refused request costs nothing
    long_one.join(timeout=10)
    assert [a.status_code for a in answers] == [200]
    # The long request is over: new requests go through again.
    assert httpx.get(f"{base}{BASE}/limits", headers=headers).status_code == 200


def test_short_requests_never_fill_the_cap(served: tuple[Org, str, dict[str, str]]) -> None:
    org, base, headers = served
    # A margin for a loaded machine: each of these requests takes milliseconds.
    org.config = replace(org.config, long_request_seconds=1.0)
    with httpx.Client(base_url=base + BASE, headers=headers) as client:

        def burst(_: int) -> list[int]:
            return [client.get("/limits").status_code for _ in range(5)]

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = [s for batch in pool.map(burst, range(8)) for s in batch]
    assert statuses == [200] * 40
