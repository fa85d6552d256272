"""The preflight: facts gathered from localforce for a good org, an API-disabled user and a user
missing object permissions; and the pure rules on literal facts for what localforce cannot show
(standard fields hidden by field-level security, a spent allowance)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hearth.provisioning import (
    Finding,
    PreflightFacts,
    PreflightReport,
    evaluate_preflight,
    gather_preflight_facts,
)
from hearth.provisioning.plan import DescribedField
from hearth.provisioning.preflight import FieldFacts, ObjectFacts
from hearth.salesforce import SalesforceClient
from tests.hearth.localforce_harness import Harness

pytestmark = pytest.mark.anyio


def codes(findings: tuple[Finding, ...]) -> list[str]:
    return [f.code for f in findings]


async def test_an_administrator_in_a_good_org_passes(
    harness: Harness, sf: SalesforceClient
) -> None:
    start = len(harness.transport.requests)
    facts = await gather_preflight_facts(sf)
    assert len(harness.transport.requests) - start == 4

    assert facts.api_enabled and facts.profile == "System Administrator"
    assert facts.customize_application and facts.modify_all_data and facts.tooling_ok
    assert facts.permission_sets_writable
    assert set(facts.objects) == {"Account", "Contact", "Lead", "Opportunity", "User"}
    assert facts.objects["Lead"].fields["Email"].updateable
    report = evaluate_preflight(facts)
    # Hearth's fields are missing, but this user can create them: nothing to report.
    assert report.ok and report.findings == ()


async def test_a_user_without_api_access_is_blocked(
    harness: Harness, standard_sf: SalesforceClient
) -> None:
    harness.org.conn.execute(
        'UPDATE "Profile" SET "PermissionsApiEnabled" = 0 WHERE "Name" = ?', ("Standard User",)
    )
    start = len(harness.transport.requests)
    facts = await gather_preflight_facts(standard_sf)
    assert len(harness.transport.requests) - start == 1
    assert not facts.api_enabled

    report = evaluate_preflight(facts)
    [finding] = report.blocking
    assert not report.ok and finding.code == "api_disabled"
    assert "System Permissions > tick 'API Enabled'" in finding.fix
    assert "Setup > Users > Profiles" in finding.fix


async def test_a_user_missing_object_permissions(
    harness: Harness, standard_sf: SalesforceClient
) -> None:
    profile_set = harness.org.conn.execute(
        'SELECT ps."Id" FROM "PermissionSet" ps JOIN "Profile" p ON p."Id" = ps."ProfileId" '
        "WHERE p.\"Name\" = 'Standard User'"
    ).fetchone()[0]
    harness.org.conn.execute(
        'UPDATE "ObjectPermissions" SET "PermissionsCreate" = 0, "PermissionsEdit" = 0, '
        '"PermissionsDelete" = 0 WHERE "ParentId" = ? AND "SobjectType" = \'Lead\'',
        (profile_set,),
    )
    harness.org.conn.execute(
        'UPDATE "ObjectPermissions" SET "PermissionsRead" = 0, "PermissionsEdit" = 0, '
        '"PermissionsCreate" = 0, "PermissionsDelete" = 0 '
        'WHERE "ParentId" = ? AND "SobjectType" = \'Opportunity\'',
        (profile_set,),
    )

    facts = await gather_preflight_facts(standard_sf)
    assert "Opportunity" not in facts.objects and facts.profile == "Standard User"
    assert facts.customize_application is False and facts.modify_all_data is False

    report = evaluate_preflight(facts)
    assert codes(report.blocking) == [
        "object:Lead:edit",
        "object:Opportunity:read",
        "hearth_fields_missing",
    ]
    assert codes(report.warnings) == [
        "object:Lead:create",
        "customize_application",
        "connected_app",
    ]
    lead_edit = report.blocking[0]
    assert lead_edit.fix.startswith(
        "Setup > Users > Profiles > Standard User > Object Settings > Lead > Edit > "
        "Object Permissions: tick 'Edit'"
    )
    assert "integration@localforce.test" in lead_edit.fix
    [app] = [f for f in report.warnings if f.code == "connected_app"]
    assert "Admin approved users are pre-authorized" in app.fix
    assert "System Administrator" in app.fix
    assert PreflightReport.from_json(report.to_json()) == report


# -- the rules on literal facts -------------------------------------------------------------


def _field(name: str, *, type_: str = "string", write: bool = True) -> tuple[str, FieldFacts]:
    described = DescribedField(name=name, type=type_, length=80)
    return name, FieldFacts(label=name, described=described, createable=write, updateable=write)


def _object(name: str, *fields: tuple[str, FieldFacts]) -> ObjectFacts:
    return ObjectFacts(
        name=name, queryable=True, createable=True, updateable=True, fields=dict(fields)
    )


GOOD = PreflightFacts(
    api_enabled=True,
    user_id="005000000000001AAA",
    username="sync@example.com",
    profile="Hearth Sync",
    customize_application=True,
    modify_all_data=True,
    tooling_ok=True,
    api_requests_max=100_000,
    api_requests_remaining=99_000,
    objects={
        "Account": _object("Account", _field("Name"), _field("Website"), _field("OwnerId")),
        "Lead": _object(
            "Lead", _field("Email"), _field("OwnerId"), _field("Company"), _field("Title")
        ),
        "Contact": _object("Contact", _field("Email"), _field("OwnerId"), _field("Title")),
        "Opportunity": _object(
            "Opportunity", _field("StageName"), _field("CloseDate"), _field("Amount"),
            _field("AccountId"),
        ),
        "User": _object("User"),
    },
)  # fmt: skip


def test_literal_good_facts_pass() -> None:
    assert evaluate_preflight(GOOD).findings == ()


def test_hidden_and_read_only_standard_fields() -> None:
    lead = GOOD.objects["Lead"]
    fields = {k: v for k, v in lead.fields.items() if k != "Email"}
    fields["Title"] = _field("Title", write=False)[1]
    facts = replace(GOOD, objects={**GOOD.objects, "Lead": replace(lead, fields=fields)})
    report = evaluate_preflight(facts)
    assert codes(report.blocking) == ["field:Lead.Email:read"]
    assert codes(report.warnings) == ["field:Lead.Title:edit"]
    assert "Set Field-Level Security > for Hearth Sync: tick 'Visible'" in report.blocking[0].fix
    assert "clear 'Read-Only'" in report.warnings[0].fix


def test_a_conflicting_hearth_field_and_a_low_allowance_are_warnings() -> None:
    account = GOOD.objects["Account"]
    fields = dict(account.fields)
    fields.update([_field("Hearth_Total_Sessions__c", type_="boolean")])
    facts = replace(
        GOOD,
        api_requests_remaining=120,
        tooling_ok=False,
        objects={**GOOD.objects, "Account": replace(account, fields=fields)},
    )
    report = evaluate_preflight(facts)
    assert report.ok
    assert codes(report.warnings) == [
        "conflict:Account.Hearth_Total_Sessions__c",
        "tooling_api",
        "api_allowance_low",
    ]


def test_permission_sets_the_user_may_not_write_are_a_warning() -> None:
    report = evaluate_preflight(replace(GOOD, permission_sets_writable=False))
    assert report.ok and codes(report.warnings) == ["permission_sets"]
    assert "'Manage Profiles and Permission Sets'" in report.warnings[0].fix
    # Without "Customize Application" that finding already names both permissions.
    lacking = replace(GOOD, permission_sets_writable=False, customize_application=False)
    assert codes(evaluate_preflight(lacking).warnings) == ["customize_application"]
