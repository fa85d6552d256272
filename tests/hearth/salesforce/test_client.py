"""The client against localforce over HTTP: records, queries, collections, describe, limits,
Tooling, and every failure mapped to its typed error, retried only when that is safe."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hearth.salesforce import SalesforceClient, Tokens
from hearth.salesforce.client import COLLECTION_SIZE
from hearth.salesforce.errors import (
    DuplicatesDetected,
    InvalidField,
    MalformedQuery,
    NotFound,
    RecordError,
    RequestLimitExceeded,
    RowLocked,
    ServerUnavailable,
    TransportFailure,
)
from hearth.salesforce.soql import in_list_chunks, quote
from localforce import create_app
from localforce.server import Listener, free_port, serving_in_thread

from .conftest import Harness, connect

pytestmark = pytest.mark.anyio


def leads(count: int, prefix: str = "Lead") -> list[dict[str, Any]]:
    return [
        {"LastName": f"{prefix} {i}", "Company": "Acme", "Email": f"{prefix.lower()}{i}@acme.test"}
        for i in range(count)
    ]


async def test_a_record_round_trip(sf: SalesforceClient) -> None:
    lead_id = await sf.create("Lead", {"LastName": "O'Brien", "Company": "Acme"})
    await sf.update("Lead", lead_id, {"Title": "CTO"})
    record = await sf.get_record("Lead", lead_id, ["LastName", "Title"])
    assert (record["LastName"], record["Title"]) == ("O'Brien", "CTO")
    await sf.delete("Lead", lead_id)
    with pytest.raises(NotFound) as caught:
        await sf.get_record("Lead", lead_id)
    assert caught.value.status_code == 404
    deleted = [r async for r in sf.query_all(f"SELECT Id FROM Lead WHERE Id = {quote(lead_id)}")]
    assert [r["Id"] for r in deleted] == [lead_id]


async def grant_field(harness: Harness, sf: SalesforceClient, qualified: str) -> None:
    """Field-level security for the administrator's profile, as an admin would grant it."""
    profile_set = harness.org.conn.execute(
        'SELECT ps."Id" FROM "PermissionSet" ps JOIN "Profile" p ON p."Id" = ps."ProfileId" '
        "WHERE p.\"Name\" = 'System Administrator'"
    ).fetchone()[0]
    await sf.create(
        "FieldPermissions",
        {
            "ParentId": profile_set,
            "SobjectType": qualified.partition(".")[0],
            "Field": qualified,
            "PermissionsRead": True,
            "PermissionsEdit": True,
        },
    )


async def test_a_custom_field_then_upserts_on_it(harness: Harness, sf: SalesforceClient) -> None:
    before = await sf.describe("Account")
    field_id = await sf.create_custom_field(
        "Account.Hearth_Id__c",
        {"label": "Hearth Id", "type": "Text", "length": 64, "externalId": True, "unique": True},
    )
    found = [
        r
        async for r in sf.tooling_query(
            "SELECT Id, DeveloperName FROM CustomField WHERE TableEnumOrId = 'Account'"
        )
    ]
    assert field_id in {r["Id"] for r in found}
    await grant_field(harness, sf, "Account.Hearth_Id__c")
    after = await sf.describe("Account")
    assert "Hearth_Id__c" not in {f["name"] for f in before["fields"]}
    assert "Hearth_Id__c" in {f["name"] for f in after["fields"]}

    first = await sf.upsert("Account", "Hearth_Id__c", "v/1 x", {"Name": "One"})
    again = await sf.upsert("Account", "Hearth_Id__c", "v/1 x", {"Name": "Uno"})
    assert first.created and not again.created
    assert first.id == again.id
    results = await sf.collections_upsert(
        "Account", "Hearth_Id__c", [{"Hearth_Id__c": "v/1 x", "Name": "Eins"},
                                     {"Hearth_Id__c": "v2", "Name": "Zwei"}]
    )  # fmt: skip
    assert [(r.success, r.created) for r in results] == [(True, False), (True, True)]
    assert results[0].id == first.id


async def test_collections_chunk_at_200_and_queries_follow_every_page(
    harness: Harness, sf: SalesforceClient
) -> None:
    results = await sf.collections_create("Lead", leads(4_500))
    assert len(results) == 4_500 and all(r.success and r.id for r in results)
    posts = [r for r in harness.transport.requests if r.url.path.endswith("/composite/sobjects")]
    assert len(posts) == -(-4_500 // COLLECTION_SIZE)
    ids = [r async for r in sf.query("SELECT Id, LastName FROM Lead WHERE Company = 'Acme'")]
    assert sorted(r["Id"] for r in ids) == sorted(str(r.id) for r in results)
    # 2,000 a page: the first request and two nextRecordsUrl pages.
    assert len(harness.transport.paths("/query")) == 3

    updates = [{"Id": r.id, "Title": "Buyer"} for r in results[:250]]
    updated = await sf.collections_update("Lead", updates)
    assert all(r.success for r in updated)
    assert len(harness.transport.paths("/composite/sobjects")) == len(posts) + 2


async def test_per_record_failures_are_typed(sf: SalesforceClient) -> None:
    results = await sf.collections_create(
        "Lead", [{"LastName": "Fine", "Company": "Acme"}, {"LastName": "No company"}]
    )
    assert results[0].success and results[0].errors == ()
    assert not results[1].success and results[1].id is None
    (error,) = results[1].errors
    assert isinstance(error, RecordError)
    assert error.error_code == "REQUIRED_FIELD_MISSING"
    assert error.fields == ("Company",)


async def test_validation_errors_are_not_retried(harness: Harness, sf: SalesforceClient) -> None:
    with pytest.raises(RecordError) as caught:
        await sf.create("Lead", {"LastName": "No company"})
    assert (caught.value.status_code, caught.value.error_code) == (400, "REQUIRED_FIELD_MISSING")
    assert caught.value.fields == ("Company",)
    with pytest.raises(MalformedQuery):
        [r async for r in sf.query("SELECT Id FROM Lead WHERE")]
    with pytest.raises(InvalidField):
        [r async for r in sf.query("SELECT Nope__c FROM Lead")]
    assert harness.sleeps.delays == []


async def test_duplicates_detected_names_the_matches(
    harness: Harness, sf: SalesforceClient
) -> None:
    await harness.admin(
        "POST",
        "/automation/duplicate-rules",
        {
            "object": "Contact",
            "name": "Contact_Email",
            "action": "block",
            "matchFields": ["Email"],
            "matchObjects": ["Contact", "Lead"],
            "errorMessage": "This person is already in the org.",
        },
    )
    lead_id = await sf.create("Lead", {"LastName": "Lee", "Company": "Acme", "Email": "a@b.test"})
    with pytest.raises(DuplicatesDetected) as caught:
        await sf.create("Contact", {"LastName": "Lee", "Email": "a@b.test"})
    assert caught.value.duplicates == (lead_id,)
    assert harness.sleeps.delays == []


async def test_a_503_is_retried_with_bounded_backoff(
    harness: Harness, sf: SalesforceClient
) -> None:
    await harness.faults({"kind": "server_unavailable", "times": 2})
    assert "DailyApiRequests" in await sf.limits()
    assert len(harness.sleeps.delays) == 2

    await harness.faults({"kind": "server_unavailable", "rate": 1})
    with pytest.raises(ServerUnavailable) as caught:
        await sf.create("Lead", {"LastName": "Never", "Company": "Acme"})
    assert caught.value.status_code == 503
    # Four attempts, three waits, each within the policy's cap.
    assert len(harness.sleeps.delays) == 2 + 3
    assert all(0 <= d <= 4.0 for d in harness.sleeps.delays)


async def test_a_row_lock_is_retried_until_it_clears(
    harness: Harness, sf: SalesforceClient
) -> None:
    lead_id = await sf.create("Lead", {"LastName": "Locked", "Company": "Acme"})
    await harness.faults({"kind": "unable_to_lock_row", "times": 2})
    await sf.update("Lead", lead_id, {"Title": "Unlocked"})
    assert (await sf.get_record("Lead", lead_id))["Title"] == "Unlocked"
    assert len(harness.sleeps.delays) == 2

    await harness.faults({"kind": "unable_to_lock_row", "rate": 1})
    with pytest.raises(RowLocked):
        await sf.update("Lead", lead_id, {"Title": "Never"})
    # Inside collections a lock is a per-record result; retrying those is the caller's choice.
    (result,) = await sf.collections_update("Lead", [{"Id": lead_id, "Title": "Never"}])
    assert isinstance(result.errors[0], RowLocked)


async def test_the_daily_limit_is_not_retried(harness: Harness, sf: SalesforceClient) -> None:
    await harness.faults({"kind": "request_limit", "times": 1})
    with pytest.raises(RequestLimitExceeded) as caught:
        await sf.limits()
    assert caught.value.status_code == 403
    assert harness.sleeps.delays == []


async def test_every_answer_updates_the_usage_meter(harness: Harness, sf: SalesforceClient) -> None:
    assert sf.usage.used is None
    await sf.limits()
    first = sf.usage.used
    assert first is not None and sf.usage.max == harness.org.config.daily_api_limit
    assert sf.usage.updated_at is not None
    await sf.describe_global()
    assert sf.usage.used == first + 1


async def test_describe_is_cached_until_the_schema_changes(
    harness: Harness, sf: SalesforceClient
) -> None:
    first = await sf.describe("Lead")
    again = await sf.describe("Lead")
    assert again == first
    describes = [r for r in harness.transport.requests if r.url.path.endswith("/Lead/describe")]
    assert len(describes) == 2
    assert "if-none-match" in describes[1].headers
    assert "if-modified-since" in describes[1].headers


async def test_in_list_chunks_keep_every_request_under_the_limit(
    harness: Harness, sf: SalesforceClient
) -> None:
    created = await sf.collections_create("Lead", leads(900, prefix="Someone.With+A'Long_Name"))
    emails = [f"someone.with+a'long_name{i}@acme.test" for i in range(900)]
    found: set[str] = set()
    for soql in in_list_chunks(
        "Email", emails, query="SELECT Id FROM Lead WHERE {} AND IsDeleted = false"
    ):
        found |= {r["Id"] async for r in sf.query(soql)}
    assert found == {r.id for r in created}
    queries = [r for r in harness.transport.requests if r.url.path.endswith("/query")]
    assert len(queries) > 1
    assert all(len(r.url.raw_path) <= 14_000 for r in queries)


async def test_a_dropped_connection_is_retried_only_when_a_replay_is_safe(
    harness: Harness,
) -> None:
    listener = Listener(app=create_app(harness.org), host="127.0.0.1", port=free_port())
    with serving_in_thread(listener) as base:
        async with httpx.AsyncClient() as http:
            tokens: Tokens = await connect(http, harness.creds, base)
        async with harness.client(tokens, transport=None, login_url=base) as sf:
            await harness.faults({"kind": "drop_connection", "times": 1})
            assert "DailyApiRequests" in await sf.limits()
            assert len(harness.sleeps.delays) == 1
            # A create might have committed before the answer was lost: never replayed.
            await harness.faults({"kind": "drop_connection", "times": 1})
            with pytest.raises(TransportFailure) as caught:
                await sf.create("Lead", {"LastName": "Maybe", "Company": "Acme"})
            assert isinstance(caught.value.__cause__, httpx.TransportError)
            assert len(harness.sleeps.delays) == 1


async def test_a_bulk_query_streams_every_page(harness: Harness, sf: SalesforceClient) -> None:
    await sf.collections_create("Lead", leads(450))
    rows = [
        r async for r in sf.bulk_query("SELECT Id, LastName FROM Lead ORDER BY Id", page_size=200)
    ]
    assert len(rows) == 450
    assert {r["LastName"] for r in rows} == {f"Lead {i}" for i in range(450)}
    assert len(harness.transport.paths("/results")) == 3


async def test_a_bulk_query_the_org_refuses_is_typed(sf: SalesforceClient) -> None:
    with pytest.raises(InvalidField):
        [r async for r in sf.bulk_query("SELECT Nope__c FROM Lead")]
