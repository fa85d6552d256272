"""The plan carried out through Hearth's client against localforce's Tooling API: every
catalogue field is accepted as created, and the org's describe afterwards plans to nothing."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.provisioning import OBJECTS, existing_fields, plan_provisioning
from hearth.salesforce import SalesforceClient
from tests.hearth.salesforce.conftest import Harness

pytestmark = pytest.mark.anyio


async def describes(sf: SalesforceClient) -> dict[str, Any]:
    return {obj: await sf.describe(obj) for obj in OBJECTS}


async def test_provisioning_an_empty_org_then_replanning(
    harness: Harness, sf: SalesforceClient
) -> None:
    plan = plan_provisioning(existing_fields(await describes(sf)))
    assert len(plan.creates) == 53 and not plan.skips and not plan.conflicts

    for op in plan.creates:
        await sf.create_custom_field(op.full_name, op.metadata)
    permission_set = harness.org.conn.execute(
        'SELECT ps."Id" FROM "PermissionSet" ps JOIN "Profile" p ON p."Id" = ps."ProfileId" '
        "WHERE p.\"Name\" = 'System Administrator'"
    ).fetchone()[0]
    for grant in plan.grants:
        await sf.create(
            "FieldPermissions",
            {
                "ParentId": permission_set,
                "SobjectType": grant.object,
                "Field": grant.full_name,
                "PermissionsRead": grant.read,
                "PermissionsEdit": grant.edit,
            },
        )

    after = await describes(sf)
    again = plan_provisioning(existing_fields(after))
    assert again.creates == () and again.conflicts == ()
    assert [(s.object, s.field) for s in again.skips] == [
        (op.object, op.field) for op in plan.creates
    ]
    lead = {f["name"]: f for f in after["Lead"]["fields"]}
    assert lead["Hearth_Id__c"]["externalId"] and lead["Hearth_Id__c"]["unique"]
    assert lead["Hearth_Touched__c"]["defaultValue"] is False
    assert lead["Hearth_Last_Chat_Content__c"]["length"] == 32768
    assert [v["value"] for v in lead["Hearth_Identification_Source__c"]["picklistValues"]] == [
        "form",
        "chat",
        "api",
        "orchestration",
        "enrichment",
    ]

    # Hearth can write its fields now.
    lead_id = await sf.create(
        "Lead",
        {"LastName": "Doe", "Company": "Acme", "Hearth_Total_Sessions__c": 3,
         "Hearth_Last_Pages_Visited__c": "/,/pricing", "Hearth_Identification_Source__c": "chat"},
    )  # fmt: skip
    record = await sf.get_record("Lead", lead_id, ["Hearth_Total_Sessions__c", "Hearth_Created__c"])
    assert record["Hearth_Total_Sessions__c"] == 3
    assert record["Hearth_Created__c"] is False
