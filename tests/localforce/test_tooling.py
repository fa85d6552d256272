"""Tooling API: creating custom fields, reading them back, and querying the schema catalogues.

The whole provisioning flow Hearth runs against a customer's org is in test_permissions.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from localforce.ids import normalize_id

from .conftest import Api

TOOLING = "/tooling"


def create_field(api: Api, full_name: str, **metadata: Any) -> Any:
    return api.post(
        f"{TOOLING}/sobjects/CustomField", json={"FullName": full_name, "Metadata": metadata}
    )


def tooling_query(api: Api, soql: str) -> dict[str, Any]:
    response = api.get(f"{TOOLING}/query", params={"q": soql})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_a_number_field(api: Api) -> None:
    response = create_field(
        api, "Lead.Visitor_Score__c", label="Visitor Score", type="Number", precision=18,
        scale=0, description="Set by the visitor-sync service", required=False,
        externalId=False,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {"id": body["id"], "success": True, "errors": [], "warnings": [], "infos": []}
    assert body["id"].startswith("00N") and normalize_id(body["id"]) == body["id"]
    assert response.headers["Location"].endswith(f"/tooling/sobjects/CustomField/{body['id']}")

    read = api.get(f"{TOOLING}/sobjects/CustomField/{body['id']}")
    assert read.status_code == 200, read.text
    record = read.json()
    assert record["attributes"]["type"] == "CustomField"
    assert record["FullName"] == "Lead.Visitor_Score__c"
    assert record["DeveloperName"] == "Visitor_Score"
    assert record["TableEnumOrId"] == "Lead"
    metadata = record["Metadata"]
    assert metadata["type"] == "Number"
    assert (metadata["precision"], metadata["scale"]) == (18, 0)
    assert metadata["label"] == "Visitor Score"
    assert metadata["description"] == "Set by the visitor-sync service"
    # The 15-character form of the ID reads the same record.
    assert api.get(f"{TOOLING}/sobjects/CustomField/{body['id'][:15]}").status_code == 200


@pytest.mark.parametrize(
    ("metadata", "describe_type", "checks"),
    [
        ({"type": "Text", "length": 64, "unique": True, "externalId": True,
          "caseSensitive": False}, "string", {"length": 64, "unique": True, "externalId": True}),
        ({"type": "Checkbox", "defaultValue": "false"}, "boolean",
         {"defaultValue": False, "nillable": False}),
        ({"type": "Checkbox", "defaultValue": True}, "boolean", {"defaultValue": True}),
        ({"type": "LongTextArea", "length": 131072, "visibleLines": 10}, "textarea",
         {"length": 131072}),
        ({"type": "TextArea"}, "textarea", {"length": 255}),
        ({"type": "Url"}, "url", {"length": 255}),
        ({"type": "Email"}, "email", {"length": 80}),
        ({"type": "Phone"}, "phone", {"length": 40}),
        ({"type": "DateTime"}, "datetime", {}),
        ({"type": "Date"}, "date", {}),
        ({"type": "Number", "precision": 10, "scale": 2}, "double",
         {"precision": 10, "scale": 2}),
        ({"type": "Currency", "precision": 16, "scale": 2}, "currency", {}),
        ({"type": "Percent", "precision": 5, "scale": 2}, "percent", {}),
        ({"type": "Picklist", "valueSet": {"restricted": True, "valueSetDefinition": {"value": [
            {"fullName": "Hot", "default": True}, {"fullName": "Cold", "label": "Cold"}]}}},
         "picklist", {"restrictedPicklist": True}),
        ({"type": "MultiselectPicklist", "visibleLines": 4, "valueSet": {"valueSetDefinition":
            {"value": [{"fullName": "A"}, {"fullName": "B"}]}}}, "multipicklist", {}),
        ({"type": "Text", "length": 10, "required": True, "inlineHelpText": "Help!"}, "string",
         {"nillable": False, "inlineHelpText": "Help!"}),
    ],
)  # fmt: skip
def test_field_types(
    api: Api, grant_admin: Any, metadata: dict[str, Any], describe_type: str,
    checks: dict[str, Any],
) -> None:  # fmt: skip
    response = create_field(api, "Lead.Probe__c", label="Probe", **metadata)
    assert response.status_code == 201, response.text
    grant_admin("Lead.Probe__c")
    fields = {f["name"]: f for f in api.get("/sobjects/Lead/describe").json()["fields"]}
    described = fields["Probe__c"]
    assert described["type"] == describe_type
    assert described["custom"] is True
    for key, value in checks.items():
        assert described[key] == value, key
    read = api.get(f"{TOOLING}/sobjects/CustomField/{response.json()['id']}").json()
    assert read["Metadata"]["type"] == metadata["type"]


def test_a_duplicate_field(api: Api) -> None:
    assert create_field(api, "Lead.Dup__c", label="Dup", type="Text", length=5).status_code == 201
    response = create_field(api, "Lead.dup__c", label="Dup", type="Text", length=5)
    assert response.status_code == 400
    assert response.json() == [{"message": "There is already a field named Dup__c on Lead.",
                                "errorCode": "DUPLICATE_DEVELOPER_NAME",
                                "fields": ["FullName"]}]  # fmt: skip


@pytest.mark.parametrize(
    ("full_name", "metadata", "codes"),
    [
        ("Lead.NoSuffix", {"type": "Text", "length": 5}, {"FIELD_INTEGRITY_EXCEPTION"}),
        ("NoDot__c", {"type": "Text", "length": 5}, {"FIELD_INTEGRITY_EXCEPTION"}),
        ("Lead.Bad__Name__c", {"type": "Text", "length": 5}, {"FIELD_INTEGRITY_EXCEPTION"}),
        ("Lead.1st__c", {"type": "Text", "length": 5}, {"FIELD_INTEGRITY_EXCEPTION"}),
        ("Nope.X__c", {"type": "Text", "length": 5}, {"INVALID_TYPE"}),
        ("Lead.X__c", {"type": "Text", "length": 256}, {"FIELD_INTEGRITY_EXCEPTION"}),
        ("Lead.X__c", {"type": "Text"}, {"FIELD_INTEGRITY_EXCEPTION"}),
        ("Lead.X__c", {"type": "LongTextArea", "length": 131073, "visibleLines": 3},
         {"FIELD_INTEGRITY_EXCEPTION"}),
        ("Lead.X__c", {"type": "LongTextArea", "length": 1000}, {"FIELD_INTEGRITY_EXCEPTION"}),
        ("Lead.X__c", {"type": "Checkbox"}, {"FIELD_INTEGRITY_EXCEPTION"}),
        ("Lead.X__c", {"type": "Picklist"}, {"FIELD_INTEGRITY_EXCEPTION"}),
        ("Lead.X__c", {"type": "Number", "precision": 19}, {"FIELD_INTEGRITY_EXCEPTION"}),
        ("Lead.X__c", {"type": "Number", "precision": 4, "scale": 5},
         {"FIELD_INTEGRITY_EXCEPTION"}),
        ("Lead.X__c", {"type": "Blob"}, {"JSON_PARSER_ERROR", "FIELD_INTEGRITY_EXCEPTION"}),
        ("Lead.X__c", {"type": "Lookup"}, {"FIELD_INTEGRITY_EXCEPTION"}),
        ("Lead.X__c", {"type": "Date", "externalId": True}, {"FIELD_INTEGRITY_EXCEPTION"}),
    ],
)  # fmt: skip
def test_invalid_definitions(
    api: Api, full_name: str, metadata: dict[str, Any], codes: set[str]
) -> None:
    response = create_field(api, full_name, label="X", **metadata)
    assert response.status_code == 400, response.text
    assert response.json()[0]["errorCode"] in codes
    # Nothing was created.
    assert tooling_query(api, "SELECT Id FROM CustomField")["totalSize"] == 0


def test_a_label_and_metadata_are_required(api: Api) -> None:
    response = api.post(f"{TOOLING}/sobjects/CustomField", json={"FullName": "Lead.X__c"})
    assert (response.status_code, response.json()[0]["errorCode"]) == (
        400,
        "REQUIRED_FIELD_MISSING",
    )
    response = create_field(api, "Lead.X__c", type="Text", length=5)
    assert (response.status_code, response.json()[0]["errorCode"]) == (
        400,
        "REQUIRED_FIELD_MISSING",
    )


def test_only_custom_fields_can_be_created(api: Api) -> None:
    response = api.post(f"{TOOLING}/sobjects/FieldDefinition", json={})
    assert response.status_code == 400
    assert api.get(f"{TOOLING}/sobjects/CustomField/00N000000000000AAA").status_code == 404
    assert api.get(f"{TOOLING}/sobjects/Nope").status_code == 404


def test_describe_sees_a_granted_field_at_once_and_its_cache_headers_change(
    api: Api, grant_admin: Any
) -> None:
    before = api.get("/sobjects/Lead/describe")
    etag, modified = before.headers["ETag"], before.headers["Last-Modified"]
    assert create_field(api, "Lead.Seen__c", label="Seen", type="Text",
                        length=20).status_code == 201  # fmt: skip
    grant_admin("Lead.Seen__c")
    after = api.get("/sobjects/Lead/describe", headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    assert "Seen__c" in {f["name"] for f in after.json()["fields"]}
    stale = api.get("/sobjects/Lead/describe", headers={"If-Modified-Since": modified})
    assert stale.status_code in (200, 304)  # same second: Last-Modified may not move


def test_query_custom_fields(api: Api) -> None:
    first = create_field(api, "Lead.A__c", label="A", type="Text", length=5).json()["id"]
    create_field(api, "Account.B__c", label="B", type="Checkbox", defaultValue=False)
    body = tooling_query(
        api, "SELECT Id, DeveloperName, TableEnumOrId FROM CustomField WHERE TableEnumOrId = 'Lead'"
    )
    assert body["totalSize"] == 1
    record = body["records"][0]
    assert record == {
        "attributes": {"type": "CustomField",
                       "url": f"{api.base}/tooling/sobjects/CustomField/{first}"},
        "Id": first, "DeveloperName": "A", "TableEnumOrId": "Lead",
    }  # fmt: skip
    names = tooling_query(api, "SELECT FullName FROM CustomField ORDER BY FullName")["records"]
    assert [r["FullName"] for r in names] == ["Account.B__c", "Lead.A__c"]


def test_query_field_definitions_by_entity(api: Api) -> None:
    create_field(api, "Lead.Score__c", label="Score", type="Number", precision=5, scale=1)
    body = tooling_query(
        api,
        "SELECT QualifiedApiName, DataType, Label FROM FieldDefinition "
        "WHERE EntityDefinition.QualifiedApiName = 'Lead' ORDER BY QualifiedApiName",
    )
    by_name = {r["QualifiedApiName"]: r for r in body["records"]}
    assert by_name["Score__c"]["DataType"] == "Number(4, 1)"
    assert by_name["Score__c"]["Label"] == "Score"
    assert by_name["Email"]["DataType"] == "Email"
    assert by_name["Company"]["DataType"] == "Text(255)"
    assert by_name["OwnerId"]["DataType"].startswith("Lookup(")
    assert all(r["attributes"]["type"] == "FieldDefinition" for r in body["records"])
    assert "Contact" not in {r["QualifiedApiName"] for r in body["records"]}


def test_query_entity_definitions(api: Api) -> None:
    body = tooling_query(
        api, "SELECT QualifiedApiName, KeyPrefix, Label FROM EntityDefinition "
        "WHERE QualifiedApiName IN ('Lead', 'Account') ORDER BY QualifiedApiName"
    )  # fmt: skip
    assert [(r["QualifiedApiName"], r["KeyPrefix"]) for r in body["records"]] == [
        ("Account", "001"), ("Lead", "00Q")
    ]  # fmt: skip


def test_tooling_query_pages_like_query(api: Api) -> None:
    body = tooling_query(api, "SELECT QualifiedApiName FROM FieldDefinition")
    total = body["totalSize"]
    assert total > 200
    response = api.get(f"{TOOLING}/query", params={"q": "SELECT Id FROM FieldDefinition"},
                       headers={"Sforce-Query-Options": "batchSize=200"})  # fmt: skip
    page = response.json()
    assert page["done"] is False and len(page["records"]) == 200
    assert page["nextRecordsUrl"].startswith(f"{api.base}/tooling/query/")
    seen = len(page["records"])
    while not page["done"]:
        page = api.get(page["nextRecordsUrl"]).json()
        seen += len(page["records"])
    assert seen == total


def test_tooling_query_errors(api: Api) -> None:
    response = api.get(f"{TOOLING}/query", params={"q": "SELECT Id FROM Lead"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_TYPE"
    response = api.get(f"{TOOLING}/query", params={"q": "SELECT Nope FROM CustomField"})
    assert response.json()[0]["errorCode"] == "INVALID_FIELD"


def test_tooling_describe(api: Api) -> None:
    body = api.get(f"{TOOLING}/sobjects").json()
    names = {o["name"] for o in body["sobjects"]}
    assert {"CustomField", "EntityDefinition", "FieldDefinition"} <= names
    custom_field = next(o for o in body["sobjects"] if o["name"] == "CustomField")
    assert custom_field["urls"]["sobject"] == f"{api.base}/tooling/sobjects/CustomField"
    described = api.get(f"{TOOLING}/sobjects/FieldDefinition/describe").json()
    assert "QualifiedApiName" in {f["name"] for f in described["fields"]}
    # The data API does not serve tooling objects.
    assert api.get("/sobjects/CustomField/describe").status_code == 404
