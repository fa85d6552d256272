"""Provisioning carried out against localforce: a fresh org, an org with some of Hearth's fields
already there (one of the wrong type), and a user who may not customise the org."""

from __future__ import annotations

import pytest

from hearth.provisioning import (
    CATALOGUE,
    OBJECTS,
    PERMISSION_SET,
    ProvisioningReport,
    existing_fields,
    plan_provisioning,
    provision,
)
from hearth.salesforce import SalesforceClient
from hearth.salesforce.soql import quote
from localforce.schema import FieldDef, FieldType
from tests.hearth.localforce_harness import Harness

pytestmark = pytest.mark.anyio


def api_calls(harness: Harness, since: int) -> int:
    """REST calls made since request number `since` (OAuth calls are not API calls)."""
    return sum(1 for r in harness.transport.requests[since:] if "/services/data/" in r.url.path)


async def count(sf: SalesforceClient, soql: str) -> int:
    return len([row async for row in sf.query(soql)])


async def test_a_fresh_org_gets_every_field_and_the_permission_set(
    harness: Harness, sf: SalesforceClient
) -> None:
    start = len(harness.transport.requests)
    report = await provision(sf)
    calls = api_calls(harness, start)

    assert len(report.created) == len(CATALOGUE) == 53
    assert report.skipped == () and report.conflicts == () and report.failed == ()
    assert set(report.granted) == {spec.full_name for spec in CATALOGUE}
    assert report.assigned and report.ok and report.manual_steps == ""
    # One composite of describes, one Tooling call per field, one composite of lookups, one
    # all-or-none composite of writes.
    assert calls == 1 + 53 + 1 + 1

    name = quote(PERMISSION_SET)
    soql = f"SELECT Id, Label FROM PermissionSet WHERE Name = {name}"
    [permission_set] = [row async for row in sf.query(soql)]
    assert permission_set["Id"] == report.permission_set_id
    assert permission_set["Label"] == "Hearth Integration"
    read_edit = "PermissionsRead = true AND PermissionsEdit = true"
    soql = f"SELECT Id FROM FieldPermissions WHERE Parent.Name = {name} AND {read_edit}"
    assert await count(sf, soql) == 53
    assert await count(sf, f"SELECT Id FROM ObjectPermissions WHERE Parent.Name = {name}") == 4
    soql = (
        "SELECT Id FROM PermissionSetAssignment WHERE "
        f"PermissionSetId = {quote(permission_set['Id'])} AND AssigneeId = {quote(sf.user_id)}"
    )
    assert await count(sf, soql) == 1

    # The connecting user now sees and may write every field.
    after = plan_provisioning(existing_fields(await sf.describe_many(OBJECTS)))
    assert after.creates == () and after.conflicts == () and len(after.skips) == 53
    lead = await sf.create("Lead", {"LastName": "Doe", "Company": "Acme", "Hearth_Id__c": "v-1"})
    assert (await sf.get_record("Lead", lead, ["Hearth_Id__c"]))["Hearth_Id__c"] == "v-1"

    # Twice is once: the second run writes nothing and costs two calls.
    start = len(harness.transport.requests)
    again = await provision(sf)
    assert api_calls(harness, start) == 2
    assert again.created == () and again.granted == () and again.failed == ()
    assert len(again.skipped) == 53 and again.ok
    assert again.permission_set_id == report.permission_set_id
    assert await count(sf, f"SELECT Id FROM FieldPermissions WHERE Parent.Name = {name}") == 53


async def test_the_report_round_trips_through_json(sf: SalesforceClient) -> None:
    report = await provision(sf)
    assert ProvisioningReport.from_json(report.to_json()) == report


async def test_existing_fields_are_skipped_and_a_wrong_type_is_a_conflict(
    harness: Harness, sf: SalesforceClient
) -> None:
    org = harness.org
    # Made in Setup by an admin (visible to profiles), one of them with the wrong type.
    org.add_custom_field(
        "Lead",
        FieldDef(name="Hearth_Touched__c", label="Hearth: Touched", type=FieldType.BOOLEAN,
                 custom=True, default_value=False),
    )  # fmt: skip
    org.add_custom_field(
        "Account",
        FieldDef(name="Hearth_Total_Sessions__c", label="Hearth: Total sessions",
                 type=FieldType.STRING, length=20, custom=True),
    )  # fmt: skip
    # Made through the Tooling API earlier and never granted: hidden from describe.
    org.add_custom_field(
        "Contact",
        FieldDef(name="Hearth_Created__c", label="Hearth: Created", type=FieldType.BOOLEAN,
                 custom=True, default_value=False),
        grant_access=False,
    )  # fmt: skip

    report = await provision(sf)

    assert "Lead.Hearth_Touched__c" in report.skipped
    assert "Contact.Hearth_Created__c" in report.skipped  # found by its duplicate name
    assert len(report.created) == 53 - 3
    [conflict] = report.conflicts
    assert (conflict.object, conflict.field) == ("Account", "Hearth_Total_Sessions__c")
    assert conflict.found_type == "string(20)"
    assert "Account.Hearth_Total_Sessions__c" not in report.granted
    assert {"Lead.Hearth_Touched__c", "Contact.Hearth_Created__c"} <= set(report.granted)
    assert report.failed == () and report.assigned and not report.ok
    assert "Resolve a conflict on Account.Hearth_Total_Sessions__c" in report.manual_steps
    assert "Fields & Relationships > New" not in report.manual_steps

    contact = await sf.describe("Contact")
    assert "Hearth_Created__c" in {f["name"] for f in contact["fields"]}
    # The conflicting field is left as it was.
    account = {f["name"]: f for f in (await sf.describe("Account"))["fields"]}
    assert account["Hearth_Total_Sessions__c"]["type"] == "string"


async def test_a_user_who_may_not_customise_the_org_changes_nothing(
    harness: Harness, standard_sf: SalesforceClient
) -> None:
    start = len(harness.transport.requests)
    report = await provision(standard_sf)

    # The first refused create stops the run: one describe call, one create.
    assert api_calls(harness, start) == 2
    assert report.created == () and report.granted == () and not report.assigned
    assert len(report.failed) == 53
    assert {(f.step, f.error_code) for f in report.failed} == {
        ("create_field", "INSUFFICIENT_ACCESS_OR_READONLY")
    }
    assert report.permission_set_id is None and not report.ok
    steps = report.manual_steps
    assert "1. Setup > Object Manager > Account > Fields & Relationships > New" in steps
    assert "Field-level security" in steps and "Lead: Hearth_Id__c: Read and Edit Access" in steps
    assert "Permission set: Setup > Users > Permission Sets > New" in steps

    # Nothing half-done: no field, no permission set.
    assert [f.name for obj in harness.org.schema for f in obj.custom_fields] == []
    rows = harness.org.conn.execute(
        'SELECT count(*) FROM "PermissionSet" WHERE "Name" = ?', (PERMISSION_SET,)
    ).fetchone()
    assert rows[0] == 0


async def test_refused_grants_write_nothing_and_a_rerun_finishes_the_job(
    harness: Harness, sf: SalesforceClient
) -> None:
    # The describe and lookup composites (reads) use up two matches; the write composite meets
    # a locked row.
    await harness.faults({"kind": "unable_to_lock_row", "path": "/composite", "times": 3})
    report = await provision(sf)

    assert len(report.created) == 53 and report.granted == () and not report.assigned
    assert [(f.step, f.error_code) for f in report.failed] == [
        ("permission_set", "UNABLE_TO_LOCK_ROW")
    ]
    assert "Fields & Relationships > New" not in report.manual_steps
    assert "Lead: Hearth_Id__c: Read and Edit Access" in report.manual_steps
    assert "Permission set: Setup > Users > Permission Sets > New" in report.manual_steps
    assert (
        await count(sf, f"SELECT Id FROM PermissionSet WHERE Name = {quote(PERMISSION_SET)}") == 0
    )

    # The fields exist but nobody sees them yet: the re-run meets their names and grants them.
    again = await provision(sf)
    assert again.created == () and len(again.skipped) == 53 and len(again.granted) == 53
    assert again.ok and again.manual_steps == ""
    lead = await sf.describe("Lead")
    assert "Hearth_Id__c" in {f["name"] for f in lead["fields"]}
