"""The pure part of reading: the fields and SOQL of each object, and rows into records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from hearth.mirror.records import CrmAccount, CrmLead, CrmOpportunity, CrmUser
from hearth.sync.objects import (
    CustomField,
    by_ids_soql,
    changes_soql,
    converted_targets,
    count_soql,
    custom_value,
    deletions_soql,
    flatten,
    full_pass_soql,
    plan_object,
    to_synced,
)


def describe(name: str, *fields: tuple[str, str], deletable: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "deletable": deletable,
        "fields": [{"name": n, "type": t} for n, t in (("Id", "id"), ("IsDeleted", "boolean"))]
        + [{"name": n, "type": t} for n, t in fields],
    }


def test_an_opportunity_reads_its_record_type_name_when_the_org_has_record_types() -> None:
    with_types = plan_object(
        "Opportunity",
        describe("Opportunity", ("RecordTypeId", "reference"), ("LastActivityDate", "date")),
    )
    without = plan_object("Opportunity", describe("Opportunity", ("LastActivityDate", "date")))

    assert "RecordType.Name" in with_types.fields
    assert "RecordType.Name" not in without.fields
    assert with_types.active_date_field == "LastActivityDate"


def test_the_active_date_field_is_configurable_and_must_be_a_date() -> None:
    d = describe("Opportunity", ("Kickoff__c", "datetime"), ("Notes__c", "string"))

    assert plan_object("Opportunity", d, active_date_field="Kickoff__c").active_date_field == (
        "Kickoff__c"
    )
    assert plan_object("Opportunity", d, active_date_field="Notes__c").active_date_field is None
    assert plan_object("Opportunity", d, active_date_field="Gone__c").active_date_field is None


def test_deletions_and_merges_follow_describe() -> None:
    users = plan_object("User", describe("User", deletable=False))
    leads = plan_object("Lead", describe("Lead", ("MasterRecordId", "reference")))

    assert not users.tracks_deletions
    assert leads.tracks_deletions and leads.merges
    assert "MasterRecordId" in deletions_soql(leads, datetime(2026, 1, 1, tzinfo=UTC))


def test_the_queries_of_each_pass() -> None:
    plan = plan_object("Contact", describe("Contact"), [CustomField(name="Tier__c", type="string")])
    since = datetime(2026, 11, 24, 22, 15, tzinfo=UTC)

    select = "Id, AccountId, Email, Name, Title, OwnerId, Tier__c, SystemModstamp"
    assert count_soql(plan) == "SELECT COUNT(Id) total FROM Contact"
    assert full_pass_soql(plan, None) == f"SELECT {select} FROM Contact ORDER BY Id"
    assert full_pass_soql(plan, "003000000000001AAA") == (
        f"SELECT {select} FROM Contact WHERE Id > '003000000000001AAA' ORDER BY Id"
    )
    assert changes_soql(plan, since) == (
        f"SELECT {select} FROM Contact WHERE SystemModstamp >= 2026-11-24T22:15:00Z "
        "ORDER BY SystemModstamp, Id"
    )
    assert deletions_soql(plan, since) == (
        "SELECT Id, SystemModstamp FROM Contact WHERE IsDeleted = true "
        "AND SystemModstamp >= 2026-11-24T22:15:00Z ORDER BY SystemModstamp, Id"
    )
    assert by_ids_soql(plan) == f"SELECT {select} FROM Contact WHERE {{}}"


def test_a_cursor_is_quoted_never_pasted() -> None:
    plan = plan_object("Lead", describe("Lead"))

    assert "\\'" in full_pass_soql(plan, "x' OR Name != '")


REST_OPPORTUNITY = {
    "attributes": {"type": "Opportunity", "url": "/services/data/v62.0/sobjects/Opportunity/006"},
    "Id": "0065b0000000001AAA",
    "AccountId": "0015b0000000001AAA",
    "Name": "Big deal",
    "StageName": "Prospecting",
    "Amount": 12.1,
    "CloseDate": "2026-12-31",
    "IsClosed": False,
    "IsWon": False,
    "OwnerId": "0055b0000000001AAA",
    "RecordType": {"attributes": {"type": "RecordType"}, "Name": "New Business"},
    "LastActivityDate": None,
    "Tier__c": 3,
    "Gold__c": True,
    "SystemModstamp": "2026-11-24T23:17:59.021+0000",
}
BULK_OPPORTUNITY = {
    "Id": "0065b0000000001AAA",
    "AccountId": "0015b0000000001AAA",
    "Name": "Big deal",
    "StageName": "Prospecting",
    "Amount": "12.1",
    "CloseDate": "2026-12-31",
    "IsClosed": "false",
    "IsWon": "false",
    "OwnerId": "0055b0000000001AAA",
    "RecordType.Name": "New Business",
    "LastActivityDate": "",
    "Tier__c": "3",
    "Gold__c": "true",
    "SystemModstamp": "2026-11-24T23:17:59.021Z",
}


def test_rest_and_bulk_rows_make_the_same_record() -> None:
    plan = plan_object(
        "Opportunity",
        describe("Opportunity", ("RecordTypeId", "reference"), ("LastActivityDate", "date")),
        [CustomField(name="Tier__c", type="int"), CustomField(name="Gold__c", type="boolean")],
    )

    from_rest = to_synced(plan, flatten(REST_OPPORTUNITY))
    from_bulk = to_synced(plan, flatten(BULK_OPPORTUNITY))

    assert from_rest == from_bulk
    assert from_rest.record == CrmOpportunity(
        id="0065b0000000001AAA",
        account_id="0015b0000000001AAA",
        name="Big deal",
        stage_name="Prospecting",
        amount=Decimal("12.1"),
        close_date=date(2026, 12, 31),
        owner_id="0055b0000000001AAA",
        record_type_name="New Business",
    )
    assert from_rest.custom == {"Tier__c": 3, "Gold__c": True}
    assert from_rest.system_modstamp == datetime(2026, 11, 24, 23, 17, 59, 21000, tzinfo=UTC)


def test_a_record_without_a_record_type_has_no_pipeline_name() -> None:
    plan = plan_object("Opportunity", describe("Opportunity", ("RecordTypeId", "reference")))

    synced = to_synced(plan, flatten({**REST_OPPORTUNITY, "RecordType": None}))

    assert synced.record.record_type_name is None


def test_other_objects() -> None:
    stamp = "2026-11-24T23:17:59.000+0000"
    account = to_synced(
        plan_object("Account", describe("Account")),
        flatten(
            {
                "Id": "001A",
                "Name": "Acme",
                "Website": "acme.com",
                "CreatedDate": stamp,
                "LastModifiedDate": stamp,
                "LastActivityDate": "2026-11-01",
                "SystemModstamp": stamp,
            }
        ),
    ).record
    lead = to_synced(
        plan_object("Lead", describe("Lead")),
        flatten(
            {
                "Id": "00QA",
                "Name": "Ada Lovelace",
                "Company": "Acme",
                "IsConverted": "true",
                "ConvertedContactId": "003A",
                "ConvertedAccountId": "001A",
                "SystemModstamp": stamp,
            }
        ),
    )
    user = to_synced(
        plan_object("User", describe("User", deletable=False)),
        {"Id": "005A", "Name": "Admin", "Email": "a@b.test", "SystemModstamp": stamp},
    ).record

    assert isinstance(account, CrmAccount) and account.last_activity_date == date(2026, 11, 1)
    assert isinstance(lead.record, CrmLead) and lead.record.is_converted
    assert converted_targets([lead]) == ({"003A"}, {"001A"})
    assert user == CrmUser(id="005A", name="Admin", email="a@b.test")


@pytest.mark.parametrize(
    ("field_type", "value", "expected"),
    [
        ("boolean", "false", False),
        ("boolean", True, True),
        ("int", "7", 7),
        ("currency", 7, 7.0),
        ("percent", "12.5", 12.5),
        ("date", "2026-01-01", "2026-01-01"),
        ("picklist", "", None),
        ("string", None, None),
    ],
)
def test_custom_values_are_json_of_their_type(field_type: str, value: Any, expected: Any) -> None:
    assert custom_value(field_type, value) == expected
