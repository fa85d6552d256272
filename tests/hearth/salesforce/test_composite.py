"""`/composite` and `/composite/batch` through the client against localforce: references,
all-or-none rollback, per-subrequest typed errors, and what one call costs."""

from __future__ import annotations

import pytest

from hearth.errors import InvalidInputError
from hearth.salesforce import SalesforceClient, SubRequest
from hearth.salesforce.errors import InvalidField, NotFound, RecordError

from .conftest import Harness

pytestmark = pytest.mark.anyio


def account_and_contact(last_name: str | None) -> list[SubRequest]:
    return [
        SubRequest(
            method="POST", path="/sobjects/Account", reference_id="acct", body={"Name": "Acme"}
        ),
        SubRequest(
            method="POST",
            path="/sobjects/Contact",
            reference_id="contact",
            body={"LastName": last_name, "AccountId": "@{acct.id}"},
        ),
        SubRequest(
            method="GET",
            path="/sobjects/Contact/@{contact.id}?fields=AccountId",
            reference_id="readBack",
        ),
    ]


async def test_references_chain_subrequests_in_one_call(
    harness: Harness, sf: SalesforceClient
) -> None:
    before = len(harness.transport.requests)
    account, contact, read_back = await sf.composite(account_and_contact("Doe"), all_or_none=True)
    assert len(harness.transport.requests) == before + 1
    assert all(r.ok for r in (account, contact, read_back))
    assert (account.reference_id, account.status_code) == ("acct", 201)
    assert read_back.body["AccountId"] == account.body["id"]
    assert account.headers["Location"].endswith(account.body["id"])


async def test_all_or_none_rolls_everything_back(sf: SalesforceClient) -> None:
    account, contact, read_back = await sf.composite(account_and_contact(None), all_or_none=True)
    assert isinstance(contact.error, RecordError)
    assert contact.error.error_code == "REQUIRED_FIELD_MISSING" and contact.status_code == 400
    assert contact.error.fields == ("LastName",)
    for halted in (account, read_back):
        assert halted.error is not None and halted.error.error_code == "PROCESSING_HALTED"
    assert [r async for r in sf.query("SELECT Id FROM Account")] == []


async def test_without_all_or_none_only_dependents_fail(sf: SalesforceClient) -> None:
    account, contact, read_back = await sf.composite(account_and_contact(None))
    assert account.ok and not contact.ok
    assert read_back.error is not None and read_back.error.error_code == "PROCESSING_HALTED"
    assert len([r async for r in sf.query("SELECT Id FROM Account")]) == 1


async def test_subrequest_errors_are_typed(sf: SalesforceClient) -> None:
    missing, bad_query = await sf.composite(
        [
            SubRequest(method="GET", path="/sobjects/Lead/00Q000000000000", reference_id="a"),
            SubRequest(method="GET", path="/query?q=SELECT+Nope__c+FROM+Lead", reference_id="b"),
        ]
    )
    assert isinstance(missing.error, NotFound) and missing.status_code == 404
    assert isinstance(bad_query.error, InvalidField)


async def test_collections_inside_composite_take_references(sf: SalesforceClient) -> None:
    account, contacts = await sf.composite(
        [
            SubRequest(
                method="POST", path="/sobjects/Account", reference_id="a", body={"Name": "Acme"}
            ),
            SubRequest(
                method="POST",
                path="/composite/sobjects",
                reference_id="c",
                body={
                    "allOrNone": True,
                    "records": [
                        {"attributes": {"type": "Contact"}, "LastName": n, "AccountId": "@{a.id}"}
                        for n in ("One", "Two")
                    ],
                },
            ),
        ],
        all_or_none=True,
    )
    assert contacts.ok and [r["success"] for r in contacts.body] == [True, True]
    rows = [r async for r in sf.query("SELECT AccountId FROM Contact")]
    assert {r["AccountId"] for r in rows} == {account.body["id"]}


async def test_batch_runs_independent_subrequests(sf: SalesforceClient) -> None:
    await sf.limits()
    before = sf.usage.used
    created, missing, count = await sf.composite_batch(
        [
            SubRequest(method="POST", path="/sobjects/Account", body={"Name": "Batch"}),
            SubRequest(method="GET", path="/sobjects/Account/001000000000000"),
            SubRequest(method="GET", path="/query?q=SELECT+COUNT()+FROM+Account"),
        ]
    )
    assert created.status_code == 201 and created.ok
    assert isinstance(missing.error, NotFound)
    assert count.body["totalSize"] == 1
    # Each subrequest counts against the allowance: three, then one for /limits.
    await sf.limits()
    assert before is not None and sf.usage.used == before + 3 + 1


async def test_envelopes_are_checked_before_sending(sf: SalesforceClient) -> None:
    with pytest.raises(InvalidInputError):
        await sf.composite([])
    with pytest.raises(InvalidInputError):
        await sf.composite([SubRequest(method="GET", path="/limits", reference_id="same")] * 2)
    with pytest.raises(InvalidInputError):
        await sf.composite([SubRequest(method="GET", path="/limits", reference_id="x")] * 26)


async def test_describe_many_is_one_call_and_shares_the_describe_cache(
    harness: Harness, sf: SalesforceClient
) -> None:
    start = len(harness.transport.requests)
    first = await sf.describe_many(["Account", "Lead", "Nope"])
    assert len(harness.transport.requests) == start + 1
    # An object the user cannot see is left out rather than failing the rest.
    assert set(first) == {"Account", "Lead"} and first["Lead"]["name"] == "Lead"

    again = await sf.describe_many(["Account", "Lead"])
    assert again == first
    [sent] = harness.transport.requests[start + 1 :]
    assert b"If-None-Match" in sent.content
    # The plain describe reuses what describe_many cached: a 304, same body.
    assert await sf.describe("Lead") == first["Lead"]
    assert harness.transport.requests[-1].headers.get("if-none-match")


async def test_first_pages_send_five_queries_a_call_and_records_from_pages_on(
    harness: Harness, sf: SalesforceClient
) -> None:
    await sf.collections_create("Account", [{"Name": f"Acme {n:04}"} for n in range(2100)])
    (first,) = [r async for r in sf.query("SELECT Id FROM Account LIMIT 1")]
    await sf.delete("Account", first["Id"])
    queries = [("SELECT Id FROM Account", False)] * 6 + [
        ("SELECT Id FROM Account WHERE IsDeleted = true", True)
    ]
    before = len(harness.transport.requests)

    pages = await sf.first_pages(queries)

    assert len(harness.transport.requests) - before == 2  # 5 + 2 queries
    assert [p["totalSize"] for p in pages] == [2099] * 6 + [1]
    assert len(pages[0]["records"]) == 2000 and not pages[0]["done"]
    records = [r async for r in sf.records_from(pages[0])]
    assert len(records) == 2099
    assert len(harness.transport.requests) - before == 3  # one more page, fetched on demand


async def test_first_pages_raise_a_failed_querys_typed_error(sf: SalesforceClient) -> None:
    with pytest.raises(InvalidField):
        await sf.first_pages([("SELECT Nope__c FROM Account", False)])
