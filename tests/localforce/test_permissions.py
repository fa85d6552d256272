"""Profiles, permission sets and field-level security, through HTTP.

The first test is the provisioning flow Hearth runs on a customer's org: create custom fields
through the Tooling API, find them invisible, grant FLS through a permission set, assign it, and
use them in describe, SOQL (REST, Bulk API, composite) and writes.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from localforce import oauth
from localforce.bootstrap import Credentials, create_user
from localforce.org import Org
from localforce.schema import FieldDef, FieldType

from .conftest import Api


def create_field(api: Api, full_name: str, **metadata: Any) -> str:
    response = api.post(
        "/tooling/sobjects/CustomField", json={"FullName": full_name, "Metadata": metadata}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def lead_fields(api: Api) -> set[str]:
    response = api.get("/sobjects/Lead/describe")
    assert response.status_code == 200, response.text
    return {f["name"] for f in response.json()["fields"]}


def error_code(response: Any) -> str:
    return str(response.json()[0].get("errorCode") or response.json()[0].get("statusCode"))


def profile_set(org: Org, profile: str) -> str:
    return str(
        org.conn.execute(
            'SELECT ps."Id" FROM "PermissionSet" ps JOIN "Profile" p ON p."Id" = ps."ProfileId" '
            'WHERE p."Name" = ?',
            (profile,),
        ).fetchone()[0]
    )


def user_api(client: TestClient, org: Org, creds: Credentials, profile: str) -> tuple[str, Api]:
    user_id = create_user(org, username=f"{profile[:3].lower()}@x.test", last_name="U",
                          profile=profile)  # fmt: skip
    return user_id, Api(client, oauth.issue_session(org, user_id, creds.app.client_id))


def bulk_query(api: Api, soql: str) -> Any:
    job = api.post("/jobs/query", json={"operation": "query", "query": soql})
    return job


def test_provisioning_flow(api: Api, org: Org, creds: Credentials) -> None:
    create_field(api, "Lead.Hearth_Visitor_Id__c", label="Visitor Id", type="Text", length=64,
                 unique=True, externalId=True)  # fmt: skip
    create_field(api, "Lead.Hearth_Score__c", label="Score", type="Number", precision=5, scale=0)
    lead_id = api.create("Lead", LastName="Lovelace", Company="Analytical")

    # Invisible everywhere until FLS is granted, even to the System Administrator.
    assert "Hearth_Visitor_Id__c" not in lead_fields(api)
    query = api.query("SELECT Hearth_Visitor_Id__c FROM Lead")
    assert (query.status_code, error_code(query)) == (400, "INVALID_FIELD")
    assert "No such column 'Hearth_Visitor_Id__c' on entity 'Lead'" in query.json()[0]["message"]
    write = api.patch(f"/sobjects/Lead/{lead_id}", json={"Hearth_Visitor_Id__c": "v1"})
    assert (write.status_code, error_code(write)) == (400, "INVALID_FIELD")
    create = api.post("/sobjects/Lead", json={"LastName": "X", "Company": "Y",
                                              "Hearth_Score__c": 1})  # fmt: skip
    assert (create.status_code, error_code(create)) == (400, "INVALID_FIELD")
    upsert = api.patch("/sobjects/Lead/Hearth_Visitor_Id__c/v1", json={"LastName": "X"})
    assert upsert.status_code == 404
    assert bulk_query(api, "SELECT Hearth_Score__c FROM Lead").status_code == 400
    composite = api.post("/composite", json={"compositeRequest": [{
        "method": "GET", "referenceId": "q",
        "url": f"{api.base}/query?q=SELECT+Hearth_Score__c+FROM+Lead"}]})  # fmt: skip
    sub = composite.json()["compositeResponse"][0]
    assert sub["httpStatusCode"] == 400 and sub["body"][0]["errorCode"] == "INVALID_FIELD"
    tooling = api.get("/tooling/query", params={"q": "SELECT Id, DeveloperName FROM CustomField "
                                                      "WHERE TableEnumOrId = 'Lead'"})  # fmt: skip
    assert tooling.json()["totalSize"] == 2  # the Tooling API still lists them

    # A permission set granting both fields, assigned to the API user.
    permission_set = api.create("PermissionSet", Name="Hearth_Integration", Label="Hearth")
    for name in ("Hearth_Visitor_Id__c", "Hearth_Score__c"):
        api.create("FieldPermissions", ParentId=permission_set, SobjectType="Lead",
                   Field=f"Lead.{name}", PermissionsRead=True, PermissionsEdit=True)  # fmt: skip
    assert "Hearth_Visitor_Id__c" not in lead_fields(api)  # granted, not yet assigned
    api.create("PermissionSetAssignment", AssigneeId=creds.user_id, PermissionSetId=permission_set)

    assert {"Hearth_Visitor_Id__c", "Hearth_Score__c"} <= lead_fields(api)
    assert (
        api.patch(
            f"/sobjects/Lead/{lead_id}", json={"Hearth_Visitor_Id__c": "v1", "Hearth_Score__c": 7}
        ).status_code
        == 204
    )
    records = api.query_all_records("SELECT Hearth_Visitor_Id__c, Hearth_Score__c FROM Lead")
    assert [(r["Hearth_Visitor_Id__c"], r["Hearth_Score__c"]) for r in records] == [("v1", 7)]
    upsert = api.patch("/sobjects/Lead/Hearth_Visitor_Id__c/v2",
                       json={"LastName": "Byron", "Company": "Poetry"})  # fmt: skip
    assert upsert.status_code == 201, upsert.text
    assert bulk_query(api, "SELECT Hearth_Score__c FROM Lead").status_code == 200
    grants = api.query_all_records(
        "SELECT Field, PermissionsRead, PermissionsEdit FROM FieldPermissions "
        f"WHERE ParentId = '{permission_set}' ORDER BY Field"
    )
    assert [r["Field"] for r in grants] == ["Lead.Hearth_Score__c", "Lead.Hearth_Visitor_Id__c"]


def test_read_only_field_level_security(api: Api, org: Org, creds: Credentials) -> None:
    create_field(api, "Lead.Seen__c", label="Seen", type="Checkbox", defaultValue=False)
    api.create("FieldPermissions", ParentId=profile_set(org, "System Administrator"),
               SobjectType="Lead", Field="Lead.Seen__c", PermissionsRead=True)  # fmt: skip
    fields = {f["name"]: f for f in api.get("/sobjects/Lead/describe").json()["fields"]}
    assert (fields["Seen__c"]["createable"], fields["Seen__c"]["updateable"]) == (False, False)
    lead_id = api.create("Lead", LastName="L", Company="C")
    response = api.patch(f"/sobjects/Lead/{lead_id}", json={"Seen__c": True})
    assert (response.status_code, error_code(response)) == (400, "INVALID_FIELD_FOR_INSERT_UPDATE")
    # Readable; the checkbox got its default even though the writer could not set it.
    assert api.get(f"/sobjects/Lead/{lead_id}").json()["Seen__c"] is False
    records = api.query_all_records("SELECT Seen__c FROM Lead")
    assert records[0]["Seen__c"] is False


def test_edit_requires_read_and_grants_are_unique(api: Api, org: Org) -> None:
    create_field(api, "Lead.G__c", label="G", type="Text", length=5)
    parent = profile_set(org, "System Administrator")
    response = api.post("/sobjects/FieldPermissions", json={
        "ParentId": parent, "SobjectType": "Lead", "Field": "Lead.G__c", "PermissionsEdit": True,
    })  # fmt: skip
    assert (response.status_code, error_code(response)) == (400, "FIELD_INTEGRITY_EXCEPTION")
    body = {"ParentId": parent, "SobjectType": "lead", "Field": "lead.g__c",
            "PermissionsRead": True}  # fmt: skip
    grant = api.create("FieldPermissions", **body)
    assert api.get(f"/sobjects/FieldPermissions/{grant}").json()["Field"] == "Lead.G__c"
    again = api.post("/sobjects/FieldPermissions", json=body)
    assert (again.status_code, error_code(again)) == (400, "DUPLICATE_VALUE")
    unknown = api.post("/sobjects/FieldPermissions", json={**body, "Field": "Lead.Nope__c"})
    assert unknown.status_code == 400
    # Upgrading a grant to edit, then revoking it by deleting the record.
    assert api.patch(f"/sobjects/FieldPermissions/{grant}",
                     json={"PermissionsEdit": True}).status_code == 204  # fmt: skip
    assert lead_fields(api) >= {"G__c"}
    assert api.delete(f"/sobjects/FieldPermissions/{grant}").status_code == 204
    assert "G__c" not in lead_fields(api)


def test_duplicate_assignment(api: Api, creds: Credentials) -> None:
    permission_set = api.create("PermissionSet", Name="P", Label="P")
    body = {"AssigneeId": creds.user_id, "PermissionSetId": permission_set}
    api.create("PermissionSetAssignment", **body)
    response = api.post("/sobjects/PermissionSetAssignment", json=body)
    assert (response.status_code, error_code(response)) == (400, "DUPLICATE_VALUE")


def test_every_profile_owns_a_permission_set(api: Api) -> None:
    records = api.query_all_records(
        "SELECT Profile.Name, IsOwnedByProfile FROM PermissionSet WHERE IsOwnedByProfile = true "
        "ORDER BY Profile.Name"
    )
    assert [r["Profile"]["Name"] for r in records] == [
        "Read Only", "Standard User", "System Administrator"
    ]  # fmt: skip
    standard = api.query_all_records(
        "SELECT SobjectType, PermissionsRead, PermissionsCreate FROM ObjectPermissions "
        "WHERE Parent.Profile.Name = 'Standard User' AND SobjectType = 'Campaign'"
    )
    assert [(r["PermissionsRead"], r["PermissionsCreate"]) for r in standard] == [(True, False)]


def test_fields_added_from_python_are_granted_to_profiles(
    api: Api, org: Org, client: TestClient, creds: Credentials
) -> None:
    org.add_custom_field("Lead", FieldDef(name="Py__c", label="Py", type=FieldType.STRING,
                                          length=10, custom=True))  # fmt: skip
    hidden = FieldDef(name="Hidden__c", label="H", type=FieldType.STRING, length=10, custom=True)
    org.add_custom_field("Lead", hidden, grant_access=False)
    assert "Py__c" in lead_fields(api) and "Hidden__c" not in lead_fields(api)
    _, read_only = user_api(client, org, creds, "Standard User")
    assert "Py__c" in lead_fields(read_only)


def test_a_profile_without_api_access(
    api: Api, org: Org, client: TestClient, creds: Credentials
) -> None:
    user_id, user = user_api(client, org, creds, "Standard User")
    assert user.get("/sobjects/Account/describe").status_code == 200
    read_only_profile = org.conn.execute(
        'SELECT "Id" FROM "Profile" WHERE "Name" = \'Read Only\''
    ).fetchone()[0]
    assert api.patch(f"/sobjects/User/{user_id}",
                     json={"ProfileId": read_only_profile}).status_code == 204  # fmt: skip
    response = user.get("/sobjects/Account/describe")
    assert response.status_code == 403
    assert response.json() == [{"message": "The REST API is not enabled for this Organization.",
                                "errorCode": "API_DISABLED_FOR_ORG"}]  # fmt: skip
    # A profile edited behind the API's back counts too.
    org.conn.execute("UPDATE \"Profile\" SET \"PermissionsApiEnabled\" = 0 WHERE \"Name\" = "
                     "'System Administrator'")  # fmt: skip
    assert api.get("/limits").status_code == 403


def test_object_permissions(api: Api, org: Org, client: TestClient, creds: Credentials) -> None:
    _, user = user_api(client, org, creds, "Standard User")
    # Standard User reads campaigns but may not create them.
    campaign = user.post("/sobjects/Campaign", json={"Name": "Launch"})
    assert (campaign.status_code, error_code(campaign)) == (400, "INSUFFICIENT_ACCESS_OR_READONLY")
    described = user.get("/sobjects/Campaign/describe").json()
    assert (described["createable"], described["queryable"]) == (False, True)
    campaign_id = api.create("Campaign", Name="Launch")
    update = user.patch(f"/sobjects/Campaign/{campaign_id}", json={"Name": "X"})
    assert (update.status_code, error_code(update)) == (400, "INSUFFICIENT_ACCESS_OR_READONLY")
    assert user.query("SELECT Name FROM Campaign").json()["totalSize"] == 1
    # Losing Read on an object hides it: describe, SOQL and records.
    rows = user.query_all_records(
        "SELECT Id FROM ObjectPermissions WHERE Parent.Profile.Name = 'Standard User' "
        "AND SobjectType = 'Opportunity'"
    )
    assert api.delete(f"/sobjects/ObjectPermissions/{rows[0]['Id']}").status_code == 204
    assert user.get("/sobjects/Opportunity/describe").status_code == 404
    query = user.query("SELECT Id FROM Opportunity")
    assert (query.status_code, error_code(query)) == (400, "INVALID_TYPE")
    names = {o["name"] for o in user.get("/sobjects").json()["sobjects"]}
    assert "Opportunity" not in names and "Account" in names
    # Standard users may not edit permissions.
    grant = user.post("/sobjects/PermissionSet", json={"Name": "Mine", "Label": "Mine"})
    assert (grant.status_code, error_code(grant)) == (400, "INSUFFICIENT_ACCESS_OR_READONLY")


def test_creating_fields_needs_customize_application(
    org: Org, client: TestClient, creds: Credentials
) -> None:
    _, user = user_api(client, org, creds, "Standard User")
    response = user.post(
        "/tooling/sobjects/CustomField",
        json={"FullName": "Lead.X__c", "Metadata": {"label": "X", "type": "Text", "length": 5}},
    )
    assert response.status_code in (400, 403)
    assert error_code(response) == "INSUFFICIENT_ACCESS_OR_READONLY"


def test_collections_respect_field_level_security(api: Api) -> None:
    create_field(api, "Lead.C__c", label="C", type="Text", length=5)
    response = api.post(
        "/composite/sobjects",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Lead"}, "LastName": "A", "Company": "B", "C__c": "x"}
            ],
        },
    )
    assert response.status_code == 200
    assert response.json()[0]["errors"][0]["statusCode"] == "INVALID_FIELD"


def test_access_is_cached_until_permissions_change(api: Api, org: Org) -> None:
    create_field(api, "Lead.Fast__c", label="F", type="Text", length=5)
    lead_fields(api)
    started = time.perf_counter()
    for _ in range(20):
        lead_fields(api)
    assert time.perf_counter() - started < 5
    api.create("FieldPermissions", ParentId=profile_set(org, "System Administrator"),
               SobjectType="Lead", Field="Lead.Fast__c", PermissionsRead=True)  # fmt: skip
    assert "Fast__c" in lead_fields(api)


@pytest.mark.parametrize("profile", ["Read Only"])
def test_read_only_profile_reads(
    org: Org, client: TestClient, creds: Credentials, profile: str
) -> None:
    # Read Only users cannot get a token (API disabled); give the profile API access first.
    org.conn.execute("UPDATE \"Profile\" SET \"PermissionsApiEnabled\" = 1 WHERE \"Name\" = ?",
                     (profile,))  # fmt: skip
    _, user = user_api(client, org, creds, profile)
    assert user.query("SELECT Id FROM Lead").status_code == 200
    response = user.post("/sobjects/Lead", json={"LastName": "L", "Company": "C"})
    assert (response.status_code, error_code(response)) == (400, "INSUFFICIENT_ACCESS_OR_READONLY")
