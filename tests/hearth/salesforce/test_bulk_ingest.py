"""Bulk API 2.0 ingest through the client against localforce: the CSV it writes, every
operation, per-row results typed, and a job the org fails."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from itertools import pairwise

import pytest

from hearth.errors import InvalidInputError
from hearth.salesforce import SalesforceClient, bulk_csv
from hearth.salesforce.errors import RecordError
from hearth.salesforce.soql import quote

from .conftest import Harness

pytestmark = pytest.mark.anyio


def test_the_csv_quotes_what_needs_quoting_and_marks_nulls() -> None:
    data = bulk_csv(
        [
            {"LastName": 'Doe, "Jr."', "Company": "Acme\nLabs", "Title": None},
            {"LastName": "Roe", "HasOptedOutOfEmail": True, "Birth__c": date(2024, 1, 31)},
            {"LastName": "Poe", "Seen__c": datetime(2024, 1, 31, 10, 0, tzinfo=UTC)},
        ]
    )
    text = data.decode()
    assert text.splitlines()[0] == "LastName,Company,Title,HasOptedOutOfEmail,Birth__c,Seen__c"
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ['Doe, "Jr."', "Acme\nLabs", "#N/A", "", "", ""]
    assert rows[2] == ["Roe", "", "", "true", "2024-01-31", ""]
    assert rows[3][5] == "2024-01-31T10:00:00.000Z"
    assert '"Doe, ""Jr."""' in text


async def test_insert_reports_each_row_with_typed_errors(sf: SalesforceClient) -> None:
    result = await sf.bulk_ingest(
        "Lead",
        "insert",
        [
            {"LastName": 'O"Brien, Jr.', "Company": "Acme\nLabs", "Title": None},
            {"LastName": "NoCompany", "Company": None},
            {"LastName": "Roe", "Company": "Roe Inc", "Email": "not-an-address"},
        ],
    )
    assert (result.state, result.processed, result.failed) == ("JobComplete", 3, 2)
    [ok] = result.successful
    assert ok.success and ok.created and ok.id is not None and ok.id.startswith("00Q")
    record = await sf.get_record("Lead", ok.id, ["LastName", "Company", "Title"])
    assert (record["LastName"], record["Company"], record["Title"]) == (
        'O"Brien, Jr.',
        "Acme\nLabs",
        None,
    )
    errors = {r.record["LastName"]: r.error for r in result.failures}
    missing, invalid = errors["NoCompany"], errors["Roe"]
    assert isinstance(missing, RecordError) and missing.error_code == "REQUIRED_FIELD_MISSING"
    assert missing.fields == ("Company",) and missing.status_code is None
    assert invalid is not None and invalid.error_code == "INVALID_EMAIL_ADDRESS"
    assert result.unprocessed == () and len(result.rows) == 3


async def test_update_upsert_and_delete(harness: Harness, sf: SalesforceClient) -> None:
    rows = [{"LastName": f"L{i}", "Company": "Acme", "Title": "CEO"} for i in range(3)]
    inserted = await sf.bulk_ingest("Lead", "insert", rows)
    ids = [r.id for r in inserted.successful]
    # An absent key leaves the field alone; None clears it.
    updated = await sf.bulk_ingest(
        "Lead", "update", [{"Id": ids[0], "Title": None}, {"Id": ids[1], "Company": "Beta"}]
    )
    assert updated.failed == 0 and {r.id for r in updated.successful} == set(ids[:2])
    soql = f"SELECT Title, Company FROM Lead WHERE Id IN ({quote(ids[0])}, {quote(ids[1])})"
    rows = [r async for r in sf.query(soql + " ORDER BY Id")]
    assert [(r["Title"], r["Company"]) for r in rows] == [(None, "Acme"), ("CEO", "Beta")]

    upserted = await sf.bulk_ingest(
        "Lead",
        "upsert",
        [{"Email": "new@acme.test", "LastName": "New", "Company": "Acme"}],
        external_id_field="Email",
    )
    assert [r.created for r in upserted.successful] == [True]
    again = await sf.bulk_ingest(
        "Lead",
        "upsert",
        [{"Email": "new@acme.test", "Title": "CTO"}],
        external_id_field="Email",
    )
    assert [(r.created, r.id) for r in again.successful] == [(False, upserted.successful[0].id)]

    deleted = await sf.bulk_ingest("Lead", "delete", [{"Id": ids[2]}, {"Id": "00Qbogus"}])
    assert [r.id for r in deleted.successful] == [ids[2]]
    assert [r.error.error_code for r in deleted.failures if r.error] == ["MALFORMED_ID"]
    assert [r async for r in sf.query(f"SELECT Id FROM Lead WHERE Id = {quote(ids[2])}")] == []


async def test_a_job_the_org_fails_lists_its_rows_as_unprocessed(
    harness: Harness, sf: SalesforceClient
) -> None:
    result = await sf.bulk_ingest("Lead", "insert", [{"LastName": "A", "Nope__c": "x"}])
    assert result.state == "Failed"
    assert result.error_message is not None and "Nope__c" in result.error_message
    assert [(r.processed, r.record["LastName"]) for r in result.unprocessed] == [(False, "A")]
    # Polling waits through the injected sleep, from 1 s up, doubling.
    delays = harness.sleeps.delays
    assert delays[0] == 1.0 and all(b == min(30.0, 2 * a) for a, b in pairwise(delays))


async def test_the_upload_is_one_put(harness: Harness, sf: SalesforceClient) -> None:
    result = await sf.bulk_ingest("Account", "insert", [{"Name": f"A{i}"} for i in range(250)])
    assert len(harness.transport.paths("/batches")) == 1
    assert len(result.successful) == 250 and result.failures == ()


async def test_upsert_needs_its_key_and_only_upsert_takes_one(sf: SalesforceClient) -> None:
    with pytest.raises(InvalidInputError):
        await sf.bulk_ingest("Lead", "upsert", [{"LastName": "A"}])
    with pytest.raises(InvalidInputError):
        await sf.bulk_ingest("Lead", "insert", [{"LastName": "A"}], external_id_field="Email")
