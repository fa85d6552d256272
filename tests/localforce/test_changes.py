"""getUpdated / getDeleted through HTTP: windows truncated to the minute, resumable
`latestDateCovered`, retention limits, the ID limit and errors (reference §10.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from localforce import changes, oauth
from localforce.bootstrap import Credentials
from localforce.org import Org
from localforce.values import format_datetime

from .conftest import BASE, Api


def minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def changed(api: Api, kind: str, start: datetime, end: datetime, sobject: str = "Account") -> Any:
    response = api.get(
        f"/sobjects/{sobject}/{kind}/",
        params={"start": start.isoformat(), "end": end.isoformat()},
    )
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1 and body[0]["errorCode"] == code, body
    return str(body[0]["message"])


def start_of_minute(org: Org) -> datetime:
    """Move the org clock to the start of the next minute, leaving a minute of wall time before
    writes spill into the following one."""
    org.clock.advance(timedelta(minutes=1) - timedelta(seconds=org.clock.now().second))
    return minute(org.clock.now())


def advance(org: Org, creds: Credentials, api: Api, delta: timedelta) -> None:
    """Move the org clock; access tokens live 2 hours of it, so sign in again."""
    org.clock.advance(delta)
    api.token = oauth.issue_session(org, creds.user_id, creds.app.client_id)


# -- getUpdated ----------------------------------------------------------------------------------


def test_updated_lists_records_created_or_modified_in_the_window(api: Api, org: Org) -> None:
    start = minute(org.clock.now())
    first = api.create("Account", Name="First")
    second = api.create("Account", Name="Second")
    org.clock.advance(timedelta(minutes=2))
    end = minute(org.clock.now())
    body = changed(api, "updated", start, end)
    assert body == {"ids": [first, second], "latestDateCovered": format_datetime(end)}
    assert body["latestDateCovered"].endswith(":00.000+0000")
    # The next window, resumed from latestDateCovered, sees only what changed since.
    assert api.patch(f"/sobjects/Account/{first}", json={"Phone": "1"}).status_code == 204
    org.clock.advance(timedelta(minutes=2))
    later = minute(org.clock.now())
    assert changed(api, "updated", end, later)["ids"] == [first]


def test_updated_omits_other_objects_and_deleted_records(api: Api, org: Org) -> None:
    start = minute(org.clock.now())
    kept = api.create("Account", Name="Kept")
    gone = api.create("Account", Name="Gone")
    contact = api.create("Contact", LastName="Doe")
    assert api.delete(f"/sobjects/Account/{gone}").status_code == 204
    org.clock.advance(timedelta(minutes=1))
    end = minute(org.clock.now())
    assert changed(api, "updated", start, end)["ids"] == [kept]
    assert changed(api, "updated", start, end, "Contact")["ids"] == [contact]
    assert changed(api, "updated", start, end, "Lead")["ids"] == []


def test_seconds_are_ignored_and_the_window_is_half_open(api: Api, org: Org) -> None:
    at = start_of_minute(org)
    org.clock.advance(timedelta(seconds=30))
    inside = api.create("Account", Name="At hh:mm:30")
    org.clock.advance(timedelta(minutes=1))
    after = api.create("Account", Name="At hh:mm+1:30")
    org.clock.advance(timedelta(minutes=2))
    # 12:30:59 reads as 12:30:00 and 12:31:45 as 12:31:00.
    body = changed(api, "updated", at + timedelta(seconds=59), at + timedelta(seconds=105))
    assert body == {
        "ids": [inside],
        "latestDateCovered": format_datetime(at + timedelta(minutes=1)),
    }
    assert changed(api, "updated", at + timedelta(minutes=1), at + timedelta(minutes=2))["ids"] == [
        after
    ]


def test_latest_date_covered_stops_at_the_current_minute(api: Api, org: Org) -> None:
    start = minute(org.clock.now())
    now = start_of_minute(org)
    record = api.create("Account", Name="This minute")
    body = changed(api, "updated", start, now + timedelta(hours=1))
    # The current minute is not over: its records come with the next window.
    assert body == {"ids": [], "latestDateCovered": format_datetime(now)}
    org.clock.advance(timedelta(minutes=1))
    resumed = changed(api, "updated", now, now + timedelta(hours=1))
    assert resumed["ids"] == [record]


def test_offsets_are_converted_to_utc(api: Api, org: Org) -> None:
    start = minute(org.clock.now())
    record = api.create("Account", Name="Acme")
    org.clock.advance(timedelta(minutes=1))
    end = minute(org.clock.now())
    zone = timezone(timedelta(hours=-5))
    assert changed(api, "updated", start.astimezone(zone), end.astimezone(zone))["ids"] == [record]
    zulu = api.get(
        "/sobjects/Account/updated",
        params={
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": end.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        },
    )
    assert zulu.status_code == 200 and zulu.json()["ids"] == [record]


def test_updated_window_is_thirty_days(api: Api, org: Org, creds: Credentials) -> None:
    advance(org, creds, api, timedelta(days=40))
    now = org.clock.now()
    old = api.create("Account", Name="Recent")
    advance(org, creds, api, timedelta(minutes=1))
    body = changed(api, "updated", now - timedelta(days=29), org.clock.now())
    assert body["ids"] == [old]
    response = api.get(
        "/sobjects/Account/updated",
        params={
            "start": (now - timedelta(days=31)).isoformat(),
            "end": now.isoformat(),
        },
    )
    message = assert_error(response, 400, "INVALID_REPLICATION_DATE")
    assert "30 days" in message


def test_start_before_the_org_existed_is_refused(api: Api, org: Org) -> None:
    now = org.clock.now()
    response = api.get(
        "/sobjects/Account/updated",
        params={"start": (now - timedelta(days=1)).isoformat(), "end": now.isoformat()},
    )
    message = assert_error(response, 400, "INVALID_REPLICATION_DATE")
    assert message == "startDate before org replication enabled date"


@pytest.mark.parametrize("gap", [timedelta(0), timedelta(seconds=50), timedelta(minutes=-5)])
def test_end_must_be_a_minute_after_start(api: Api, org: Org, gap: timedelta) -> None:
    start = minute(org.clock.now())
    response = api.get(
        "/sobjects/Account/updated",
        params={"start": start.isoformat(), "end": (start + gap).isoformat()},
    )
    message = assert_error(response, 400, "INVALID_REPLICATION_DATE")
    assert message == "startDate must be at least one minute greater than endDate"


def test_bad_or_missing_dates_are_refused(api: Api, org: Org) -> None:
    start = minute(org.clock.now())
    end = start + timedelta(minutes=5)
    iso = end.isoformat()
    assert_error(api.get("/sobjects/Account/updated", params={"end": iso}), 400, "MISSING_ARGUMENT")
    # A `+` that was not percent-encoded arrives as a space.
    raw = f"{BASE}/sobjects/Account/updated/?start={start.isoformat()}&end={iso}"
    assert_error(api.get(raw), 400, "INVALID_REPLICATION_DATE")
    for bad in ("yesterday", start.strftime("%Y-%m-%dT%H:%M:%S"), start.strftime("%Y-%m-%d")):
        response = api.get("/sobjects/Account/updated", params={"start": bad, "end": iso})
        assert_error(response, 400, "INVALID_REPLICATION_DATE")


def test_more_ids_than_the_limit_is_an_error(
    api: Api, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(changes, "MAX_IDS", 2)
    start = minute(org.clock.now())
    for name in ("A", "B"):
        api.create("Account", Name=name)
    org.clock.advance(timedelta(minutes=1))
    end = minute(org.clock.now())
    assert len(changed(api, "updated", start, end)["ids"]) == 2
    api.create("Account", Name="C")
    org.clock.advance(timedelta(minutes=1))
    response = api.get(
        "/sobjects/Account/updated",
        params={"start": start.isoformat(), "end": org.clock.now().isoformat()},
    )
    assert_error(response, 400, "EXCEEDED_ID_LIMIT")


def test_objects_that_are_not_replicateable(api: Api, org: Org) -> None:
    start = minute(org.clock.now())
    params = {"start": start.isoformat(), "end": (start + timedelta(minutes=5)).isoformat()}
    for kind in ("updated", "deleted"):
        response = api.get(f"/sobjects/Organization/{kind}/", params=params)
        assert_error(response, 400, "INVALID_TYPE_FOR_OPERATION")
        assert_error(api.get(f"/sobjects/Nope__c/{kind}/", params=params), 404, "NOT_FOUND")
    described = api.get("/sobjects/Organization/describe").json()
    assert described["replicateable"] is False
    assert api.get("/sobjects/Account/describe").json()["replicateable"] is True


def test_replication_resources_are_read_only_and_routed_before_records(api: Api) -> None:
    response = api.post("/sobjects/Account/updated/", json={})
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    account_id = api.create("Account", Name="Still readable")
    assert api.get(f"/sobjects/Account/{account_id}").status_code == 200


# -- getDeleted ----------------------------------------------------------------------------------


def test_deleted_lists_records_moved_to_the_recycle_bin(api: Api, org: Org) -> None:
    start = minute(org.clock.now())
    doomed = api.create("Account", Name="Doomed")
    contact = api.create("Contact", LastName="Child", AccountId=doomed)
    api.create("Account", Name="Alive")
    assert api.delete(f"/sobjects/Account/{doomed}").status_code == 204
    # A delete stamps SystemModstamp, which queryAll still shows.
    bin_query = f"SELECT SystemModstamp FROM Account WHERE Id = '{doomed}'"
    deleted_at = api.get("/queryAll", params={"q": bin_query}).json()["records"][0]
    org.clock.advance(timedelta(minutes=1))
    end = minute(org.clock.now())
    body = changed(api, "deleted", start, end)
    assert body == {
        "deletedRecords": [{"id": doomed, "deletedDate": deleted_at["SystemModstamp"]}],
        "earliestDateAvailable": body["earliestDateAvailable"],
        "latestDateCovered": format_datetime(end),
    }
    earliest = datetime.strptime(body["earliestDateAvailable"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert earliest <= start
    # The cascade deleted the child too.
    assert changed(api, "deleted", start, end, "Contact")["deletedRecords"][0]["id"] == contact
    # Resuming from latestDateCovered finds nothing new.
    org.clock.advance(timedelta(minutes=1))
    assert changed(api, "deleted", end, minute(org.clock.now()))["deletedRecords"] == []


def test_deleted_window_is_fifteen_days(api: Api, org: Org, creds: Credentials) -> None:
    advance(org, creds, api, timedelta(days=20))
    now = org.clock.now()
    record = api.create("Account", Name="Short-lived")
    assert api.delete(f"/sobjects/Account/{record}").status_code == 204
    advance(org, creds, api, timedelta(minutes=1))
    body = changed(api, "deleted", now - timedelta(days=14), org.clock.now())
    assert [d["id"] for d in body["deletedRecords"]] == [record]
    assert body["earliestDateAvailable"] == format_datetime(
        minute(org.clock.now() - timedelta(days=15))
    )
    response = api.get(
        "/sobjects/Account/deleted",
        params={"start": (now - timedelta(days=16)).isoformat(), "end": now.isoformat()},
    )
    assert "15 days" in assert_error(response, 400, "INVALID_REPLICATION_DATE")


def test_replication_resources_work_inside_composite(api: Api, org: Org) -> None:
    start = minute(org.clock.now())
    record = api.create("Account", Name="Acme")
    org.clock.advance(timedelta(minutes=1))
    end = minute(org.clock.now())
    window = f"?start={_encoded(start)}&end={_encoded(end)}"
    response = api.post(
        "/composite",
        json={
            "compositeRequest": [
                {
                    "method": "GET",
                    "url": f"{BASE}/sobjects/Account/updated/{window}",
                    "referenceId": "changes",
                },
                {
                    "method": "GET",
                    "url": f"{BASE}/sobjects/Account/@{{changes.ids[0]}}",
                    "referenceId": "record",
                },
            ]
        },
    )
    assert response.status_code == 200, response.text
    changes_entry, record_entry = response.json()["compositeResponse"]
    assert changes_entry["body"]["ids"] == [record]
    assert record_entry["body"]["Id"] == record


def _encoded(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+", "%2B").replace(":", "%3A")
