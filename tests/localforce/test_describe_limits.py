"""Versions, resources, describe (global and per object, with HTTP caching), /limits and the
Sforce-Limit-Info header, through HTTP (reference §2.1, §6)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import httpx
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from localforce import oauth
from localforce.app import create_app
from localforce.bootstrap import Credentials, bootstrap
from localforce.org import Org, OrgConfig
from localforce.schema import FieldDef, FieldType

from .conftest import BASE, Api

JSON_TYPE = "application/json;charset=UTF-8"
LIMIT_INFO = re.compile(r"^api-usage=(\d+)/(\d+)$")

GLOBAL_SOBJECT_KEYS = {
    "activateable", "createable", "custom", "customSetting", "deletable", "deprecatedAndHidden",
    "feedEnabled", "keyPrefix", "label", "labelPlural", "layoutable", "mergeable", "mruEnabled",
    "name", "queryable", "replicateable", "retrieveable", "searchable", "triggerable",
    "undeletable", "updateable", "urls",
}  # fmt: skip
DESCRIBE_KEYS = {
    "actionOverrides", "activateable", "childRelationships", "compactLayoutable", "createable",
    "custom", "customSetting", "deepCloneable", "deletable", "deprecatedAndHidden", "feedEnabled",
    "fields", "hasSubtypes", "isSubtype", "keyPrefix", "label", "labelPlural", "layoutable",
    "mergeable", "mruEnabled", "name", "namedLayoutInfos", "networkScopeFieldName", "queryable",
    "recordTypeInfos", "replicateable", "retrieveable", "searchLayoutable", "searchable",
    "supportedScopes", "triggerable", "undeletable", "updateable", "urls",
}  # fmt: skip
FIELD_KEYS = {
    "aggregatable", "aiPredictionField", "autoNumber", "byteLength", "calculated",
    "calculatedFormula", "cascadeDelete", "caseSensitive", "compoundFieldName", "controllerName",
    "createable", "custom", "defaultValue", "defaultValueFormula", "defaultedOnCreate",
    "dependentPicklist", "deprecatedAndHidden", "digits", "displayLocationInDecimal", "encrypted",
    "externalId", "extraTypeInfo", "filterable", "filteredLookupInfo",
    "formulaTreatNullNumberAsZero", "groupable", "highScaleNumber", "htmlFormatted", "idLookup",
    "inlineHelpText", "label", "length", "mask", "maskType", "name", "nameField", "namePointing",
    "nillable", "permissionable", "picklistValues", "polymorphicForeignKey", "precision",
    "queryByDistance", "referenceTargetField", "referenceTo", "relationshipName",
    "relationshipOrder", "restrictedDelete", "restrictedPicklist", "scale",
    "searchPrefilterable", "soapType", "sortable", "type", "unique", "updateable",
    "writeRequiresMasterRead",
}  # fmt: skip
DESCRIBE_TYPES = {
    "id", "string", "textarea", "email", "url", "phone", "picklist", "multipicklist", "combobox",
    "reference", "boolean", "int", "double", "currency", "percent", "date", "datetime", "time",
    "address", "location", "encryptedstring", "base64",
}  # fmt: skip


def usage(response: httpx.Response) -> tuple[int, int]:
    match = LIMIT_INFO.match(response.headers["sforce-limit-info"])
    assert match, response.headers["sforce-limit-info"]
    return int(match[1]), int(match[2])


def fields_by_name(described: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in described["fields"]}


def describe(api: Api, sobject: str, **headers: str) -> httpx.Response:
    return api.get(f"/sobjects/{sobject}/describe", headers=headers)


# -- versions and resources -----------------------------------------------------------------------


def test_versions_list_every_version_and_each_works(api: Api, client: TestClient) -> None:
    for path in ("/services/data", "/services/data/"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        versions = response.json()
        assert [v["version"] for v in versions] == [f"{v}.0" for v in range(31, 69)]
        for v in versions:
            assert set(v) == {"label", "url", "version"}
            assert v["url"] == f"/services/data/v{v['version']}"
            assert re.match(r"^(Spring|Summer|Winter) '\d\d$", v["label"]), v
    assert versions[0]["label"] == "Summer '14"
    for v in versions:
        response = api.get(v["url"])
        assert response.status_code == 200, v
        assert response.json()["sobjects"] == f"{v['url']}/sobjects"


@pytest.mark.parametrize("version", ["30.0", "69.0", "62", "62.1", "v62.0", "abc", "0.0"])
def test_unsupported_versions_are_404(api: Api, version: str) -> None:
    for path in ("", "/sobjects", "/sobjects/Account/describe", "/limits"):
        response = api.get(f"/services/data/v{version}{path}")
        assert response.status_code == 404, (version, path)
        body = response.json()
        assert body[0]["errorCode"] == "NOT_FOUND"
        assert "Traceback" not in response.text


@pytest.mark.parametrize("version", ["31.0", "68.0"])
def test_resources_document(api: Api, client: TestClient, creds: Credentials, version: str) -> None:
    response = Api(client, api.token, version).get(f"/services/data/v{version}/")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_TYPE
    body = response.json()
    prefix = f"/services/data/v{version}"
    for key in ("sobjects", "query", "queryAll", "limits", "composite", "tooling", "search"):
        assert body[key] == f"{prefix}/{key}"
    assert body["identity"].startswith("/id/00D")
    assert body["identity"].endswith(f"/{creds.user_id}")


def test_every_version_serves_records(api: Api, client: TestClient) -> None:
    for version in ("31.0", "45.0", "68.0"):
        versioned = Api(client, api.token, version)
        record_id = versioned.create("Account", Name=version)
        response = versioned.get(f"/sobjects/Account/{record_id}")
        assert (
            response.json()["attributes"]["url"]
            == f"/services/data/v{version}/sobjects/Account/{record_id}"
        )


# -- describe global ------------------------------------------------------------------------------


def test_describe_global(api: Api) -> None:
    response = api.get("/sobjects")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_TYPE
    body = response.json()
    assert body["encoding"] == "UTF-8" and body["maxBatchSize"] == 200
    by_name = {s["name"]: s for s in body["sobjects"]}
    expected = {
        "Account": "001", "Contact": "003", "Lead": "00Q", "Opportunity": "006", "Task": "00T",
        "Campaign": "701", "CampaignMember": "00v", "User": "005",
    }  # fmt: skip
    for name, prefix in expected.items():
        entry = by_name[name]
        assert set(entry) >= GLOBAL_SOBJECT_KEYS, GLOBAL_SOBJECT_KEYS - set(entry)
        assert entry["keyPrefix"] == prefix
        assert entry["urls"] == {
            "sobject": f"{BASE}/sobjects/{name}",
            "describe": f"{BASE}/sobjects/{name}/describe",
            "rowTemplate": f"{BASE}/sobjects/{name}/{{ID}}",
        }
        for key in GLOBAL_SOBJECT_KEYS - {"urls", "keyPrefix", "label", "labelPlural", "name"}:
            assert isinstance(entry[key], bool), key
    account = by_name["Account"]
    assert (account["label"], account["labelPlural"]) == ("Account", "Accounts")
    assert account["createable"] and account["updateable"] and account["deletable"]
    assert account["queryable"] and not account["custom"]
    assert by_name["Opportunity"]["labelPlural"] == "Opportunities"
    assert api.get("/sobjects/").json() == body


def test_sobject_basic_info(api: Api) -> None:
    response = api.get("/sobjects/lead")
    assert response.status_code == 200
    body = response.json()
    assert body["objectDescribe"]["name"] == "Lead"
    assert body["recentItems"] == []


# -- describe sObject -----------------------------------------------------------------------------


def test_describe_object_top_level(api: Api) -> None:
    response = describe(api, "Account")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_TYPE
    body = response.json()
    assert set(body) >= DESCRIBE_KEYS, DESCRIBE_KEYS - set(body)
    assert (body["name"], body["keyPrefix"], body["label"]) == ("Account", "001", "Account")
    assert body["urls"]["describe"] == f"{BASE}/sobjects/Account/describe"
    assert api.get("/sobjects/ACCOUNT/describe/").json()["name"] == "Account"
    for field in body["fields"]:
        assert set(field) >= FIELD_KEYS, (field["name"], FIELD_KEYS - set(field))
        assert field["type"] in DESCRIBE_TYPES
        if field["type"] in ("string", "textarea", "email", "url", "phone", "picklist"):
            assert field["byteLength"] == 3 * field["length"], field["name"]


def test_describe_lead_fields(api: Api) -> None:
    fields = fields_by_name(describe(api, "Lead").json())
    required_on_create = {
        name
        for name, f in fields.items()
        if not f["nillable"] and f["createable"] and not f["defaultedOnCreate"]
    }
    assert required_on_create == {"LastName", "Company"}
    last = fields["LastName"]
    flags = (last["type"], last["length"], last["nillable"], last["createable"], last["updateable"])
    assert flags == ("string", 80, False, True, True)
    assert fields["Company"]["length"] == 255
    assert (fields["Email"]["type"], fields["Email"]["length"]) == ("email", 80)
    assert fields["Title"]["length"] == 128
    status = fields["Status"]
    assert status["type"] == "picklist"
    assert status["defaultedOnCreate"] is True and status["restrictedPicklist"] is True
    assert [p["value"] for p in status["picklistValues"]] == [
        "Open - Not Contacted",
        "Working - Contacted",
        "Closed - Converted",
        "Closed - Not Converted",
    ]
    for p in status["picklistValues"]:
        assert set(p) == {"active", "defaultValue", "label", "validFor", "value"}
    assert [p["value"] for p in status["picklistValues"] if p["defaultValue"]] == [
        "Open - Not Contacted"
    ]
    for name in ("Id", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
                 "SystemModstamp", "IsDeleted", "IsConverted", "Name"):  # fmt: skip
        assert (fields[name]["createable"], fields[name]["updateable"]) == (False, False), name
    assert fields["Id"]["type"] == "id"
    assert fields["CreatedDate"]["type"] == "datetime"
    assert fields["IsConverted"]["type"] == "boolean" and fields["IsConverted"]["nillable"] is False
    owner = fields["OwnerId"]
    assert owner["type"] == "reference" and owner["relationshipName"] == "Owner"
    assert owner["defaultedOnCreate"] is True
    assert fields["NumberOfEmployees"]["type"] == "int"
    assert fields["AnnualRevenue"]["type"] == "currency"


def test_describe_references_and_child_relationships(api: Api) -> None:
    contact = fields_by_name(describe(api, "Contact").json())
    account_id = contact["AccountId"]
    assert account_id["type"] == "reference"
    assert account_id["referenceTo"] == ["Account"]
    assert account_id["relationshipName"] == "Account"
    assert (
        contact["LastName"]["referenceTo"] == [] and contact["LastName"]["relationshipName"] is None
    )
    task = fields_by_name(describe(api, "Task").json())
    assert sorted(task["WhoId"]["referenceTo"]) == ["Contact", "Lead"]
    assert task["WhoId"]["polymorphicForeignKey"] is True
    assert task["WhoId"]["relationshipName"] == "Who"

    children = describe(api, "Account").json()["childRelationships"]
    by_name = {c["relationshipName"]: c for c in children}
    assert by_name["Contacts"]["childSObject"] == "Contact"
    assert by_name["Contacts"]["field"] == "AccountId"
    assert by_name["Opportunities"]["childSObject"] == "Opportunity"
    for child in children:
        assert {"cascadeDelete", "childSObject", "field", "relationshipName"} <= set(child)


def test_describe_opportunity_and_task(api: Api) -> None:
    opportunity = fields_by_name(describe(api, "Opportunity").json())
    required = {
        n
        for n, f in opportunity.items()
        if not f["nillable"] and f["createable"] and not f["defaultedOnCreate"]
    }
    assert required == {"Name", "StageName", "CloseDate"}
    assert opportunity["Amount"]["type"] == "currency"
    assert (opportunity["Amount"]["precision"], opportunity["Amount"]["scale"]) == (18, 2)
    assert opportunity["Probability"]["type"] == "percent"
    assert opportunity["CloseDate"]["type"] == "date"
    task = fields_by_name(describe(api, "Task").json())
    assert task["Status"]["defaultedOnCreate"] is True
    assert [p["value"] for p in task["Status"]["picklistValues"] if p["defaultValue"]] == [
        "Not Started"
    ]
    assert [p["value"] for p in task["Priority"]["picklistValues"] if p["defaultValue"]] == [
        "Normal"
    ]
    assert task["Description"]["length"] == 32000 and task["Description"]["type"] == "textarea"
    assert task["Subject"]["type"] == "combobox"


def test_describe_record_type_infos_have_master(api: Api) -> None:
    for sobject in ("Account", "Lead", "Opportunity"):
        infos = describe(api, sobject).json()["recordTypeInfos"]
        masters = [i for i in infos if i["master"]]
        assert len(masters) == 1, sobject
        master = masters[0]
        assert master["name"] == "Master" and master["developerName"] == "Master"
        assert master["recordTypeId"] == "012000000000000AAA"
        assert master["available"] is True and master["defaultRecordTypeMapping"] is True


def test_describe_unknown_object_is_404(api: Api) -> None:
    for path in (
        "/sobjects/Nope__c/describe",
        "/sobjects/Nope__c",
        "/sobjects/Nope__c/001000000000000AAA",
    ):
        response = api.get(path)
        assert response.status_code == 404
        assert (
            response.json()
            == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
            or response.json()[0]["errorCode"] == "NOT_FOUND"
        )
    response = api.post("/sobjects/Nope__c", json={"Name": "x"})
    assert response.status_code == 404 and response.json()[0]["errorCode"] == "NOT_FOUND"


# -- describe caching -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/sobjects/Lead/describe", "/sobjects"])
def test_describe_caching_headers_and_304(api: Api, path: str) -> None:
    first = api.get(path)
    assert first.status_code == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and etag.endswith('"')
    moment = parsedate_to_datetime(modified)
    assert modified.endswith(" GMT")

    by_date = api.get(path, headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304 and by_date.content == b""
    assert by_date.headers["etag"] == etag
    later = format_datetime(moment + timedelta(days=1), usegmt=True)
    assert api.get(path, headers={"If-Modified-Since": later}).status_code == 304
    earlier = format_datetime(moment - timedelta(seconds=1), usegmt=True)
    assert api.get(path, headers={"If-Modified-Since": earlier}).status_code == 200
    assert api.get(path, headers={"If-Modified-Since": "garbage"}).status_code == 200

    by_tag = api.get(path, headers={"If-None-Match": etag})
    assert by_tag.status_code == 304 and by_tag.content == b""
    assert api.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    # If-None-Match takes precedence over If-Modified-Since (RFC 9110 §13.1.3).
    both = api.get(path, headers={"If-None-Match": '"other"', "If-Modified-Since": later})
    assert both.status_code == 200


def test_custom_field_appears_in_describe_and_invalidates_the_cache(api: Api, org: Org) -> None:
    first = describe(api, "Lead")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    global_first = api.get("/sobjects")
    assert "Visitor_Id__c" not in fields_by_name(first.json())

    org.clock.advance(timedelta(seconds=2))
    org.add_custom_field(
        "Lead",
        FieldDef(name="Visitor_Id__c", label="Visitor Id", type=FieldType.STRING, length=64,
                 external_id=True, unique=True, custom=True),
    )  # fmt: skip
    by_date = describe(api, "Lead", **{"If-Modified-Since": modified})
    assert by_date.status_code == 200
    field = fields_by_name(by_date.json())["Visitor_Id__c"]
    assert field["custom"] is True and field["externalId"] is True and field["unique"] is True
    assert (field["type"], field["length"], field["byteLength"]) == ("string", 64, 192)
    assert field["nillable"] and field["createable"] and field["updateable"]
    assert field["idLookup"] is True
    assert by_date.headers["etag"] != etag
    assert parsedate_to_datetime(by_date.headers["last-modified"]) > parsedate_to_datetime(modified)
    by_tag = describe(api, "Lead", **{"If-None-Match": etag})
    assert by_tag.status_code == 200
    assert "Visitor_Id__c" in fields_by_name(by_tag.json())
    refreshed = describe(api, "Lead", **{"If-None-Match": by_date.headers["etag"]})
    assert refreshed.status_code == 304
    stale_global = api.get("/sobjects", headers={"If-None-Match": global_first.headers["etag"]})
    assert stale_global.status_code == 200


def test_a_custom_field_invalidates_the_etag_within_the_same_second(api: Api, org: Org) -> None:
    etag = describe(api, "Contact").headers["etag"]
    org.add_custom_field(
        "Contact", FieldDef(name="Score__c", label="Score", type=FieldType.DOUBLE, precision=18,
                            custom=True),
    )  # fmt: skip
    response = describe(api, "Contact", **{"If-None-Match": etag})
    assert response.status_code == 200
    field = fields_by_name(response.json())["Score__c"]
    assert (field["type"], field["precision"], field["custom"]) == ("double", 18, True)


# -- limits ---------------------------------------------------------------------------------------


def test_limits_daily_api_requests_decrements(api: Api) -> None:
    first = api.get("/limits")
    assert first.status_code == 200
    assert first.headers["content-type"] == JSON_TYPE
    body = first.json()
    for name in (
        "DailyApiRequests",
        "DailyBulkApiBatches",
        "DailyBulkV2QueryJobs",
        "DataStorageMB",
    ):
        assert set(body[name]) >= {"Max", "Remaining"}
        assert isinstance(body[name]["Max"], int) and isinstance(body[name]["Remaining"], int)
    daily = body["DailyApiRequests"]
    used, limit = usage(first)
    assert daily["Max"] == limit
    assert daily["Remaining"] == limit - used
    api.get("/sobjects")
    api.create("Account", Name="A")
    second = api.get("/limits/").json()["DailyApiRequests"]
    assert second["Remaining"] == daily["Remaining"] - 3
    assert second["Max"] == daily["Max"]


def test_limit_info_header_on_every_response(api: Api) -> None:
    record_id = api.create("Account", Name="A")
    calls = [
        lambda: api.get("/"),
        lambda: api.get("/sobjects"),
        lambda: api.get("/sobjects/Account/describe"),
        lambda: api.get(f"/sobjects/Account/{record_id}"),
        lambda: api.patch(f"/sobjects/Account/{record_id}", json={"Phone": "1"}),
        lambda: api.post("/sobjects/Account", json={}),
        lambda: api.post("/sobjects/Account", content=b"{nope"),
        lambda: api.get("/sobjects/Nope__c/describe"),
        lambda: api.query("SELECT Id FROM Account"),
        lambda: api.query("SELECT FROM"),
        lambda: api.get("/composite/sobjects/Account", params={"ids": record_id, "fields": "Name"}),
        lambda: api.get("/sobjects/Account/describe", headers={"If-None-Match": "*"}),
        lambda: api.get("/limits"),
        lambda: api.delete(f"/sobjects/Account/{record_id}"),
        lambda: api.get(f"/sobjects/Account/{record_id}"),
    ]
    previous = None
    for call in calls:
        response = call()
        used, limit = usage(response)
        assert limit == 100_000
        if previous is not None:
            assert used == previous + 1, response.request.url
        previous = used


@pytest.fixture
def small_org() -> Iterator[tuple[Org, Credentials, TestClient]]:
    org = Org.open(None, config=OrgConfig(daily_api_limit=5))
    creds = bootstrap(org)
    assert creds is not None
    with TestClient(create_app(org)) as client:
        yield org, creds, client
    org.close()


def test_request_limit_exceeded(small_org: tuple[Org, Credentials, TestClient]) -> None:
    org, creds, client = small_org
    api = Api(client, oauth.issue_session(org, creds.user_id, creds.app.client_id))
    for expected in range(1, 6):
        response = api.get("/limits")
        assert response.status_code == 200
        assert usage(response) == (expected, 5)
        assert response.json()["DailyApiRequests"] == {"Max": 5, "Remaining": 5 - expected}
    for attempt in (api.get("/limits"), api.post("/sobjects/Account", json={"Name": "A"})):
        assert attempt.status_code == 403
        assert attempt.json() == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]
        assert "retry-after" not in attempt.headers
        assert usage(attempt)[1] == 5
    # Nothing was written by the refused call.
    assert org.conn.execute('SELECT count(*) FROM "Account"').fetchone()[0] == 0
    # The allowance is a rolling 24 hours.
    org.clock.advance(timedelta(hours=25))
    fresh = Api(client, oauth.issue_session(org, creds.user_id, creds.app.client_id))
    response = fresh.get("/limits")
    assert response.status_code == 200
    assert usage(response) == (1, 5)
