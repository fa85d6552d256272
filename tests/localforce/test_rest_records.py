"""sObject REST through HTTP: create/read/update/delete, IDs, upsert by external ID, validation,
defaults and derived fields, the recycle bin, cascades, converted leads, campaign members and
custom fields. Status codes and bodies are Salesforce's (shared/reference/salesforce-api.md §2, §8,
§9)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from localforce import oauth
from localforce.bootstrap import Credentials, create_user
from localforce.org import Org
from localforce.schema import FieldDef, FieldType

from .conftest import BASE, Api

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
ID18 = re.compile(r"^[0-9A-Za-z]{18}$")
JSON_TYPE = "application/json;charset=UTF-8"
SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


# -- helpers ------------------------------------------------------------------------------------


def assert_error(
    response: httpx.Response, status: int, code: str, fields: list[str] | None = None
) -> dict[str, Any]:
    """A Salesforce error body: a one-element array of {message, errorCode[, fields]}."""
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    assert response.headers["content-type"] == JSON_TYPE
    body = response.json()
    assert isinstance(body, list) and len(body) == 1, body
    error = body[0]
    assert error["errorCode"] == code, body
    assert isinstance(error["message"], str) and error["message"]
    assert set(error) <= {"message", "errorCode", "fields"}
    if fields is not None:
        assert sorted(error["fields"]) == sorted(fields), body
    return dict(error)


def checksum(id15: str) -> str:
    """The 18-character suffix, computed independently of localforce.ids."""
    out = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(id15[chunk * 5 : chunk * 5 + 5]) if "A" <= c <= "Z")
        out += SUFFIX[bits]
    return out


def read(api: Api, sobject: str, record_id: str, **params: str) -> dict[str, Any]:
    response = api.get(f"/sobjects/{sobject}/{record_id}", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def count(api: Api, sobject: str) -> int:
    response = api.query(f"SELECT COUNT() FROM {sobject}")
    assert response.status_code == 200, response.text
    return int(response.json()["totalSize"])


def lead(api: Api, **fields: Any) -> str:
    return api.create("Lead", **{"LastName": "Doe", "Company": "Acme", **fields})


def custom_field(org: Org, sobject: str, name: str, type_: FieldType, **kw: Any) -> FieldDef:
    kw.setdefault("label", name.removesuffix("__c").replace("_", " "))
    if type_.is_text:
        kw.setdefault("length", 64)
    return org.add_custom_field(sobject, FieldDef(name=name, type=type_, custom=True, **kw))


# -- create ---------------------------------------------------------------------------------------


def test_create_returns_201_with_save_result_and_location(api: Api) -> None:
    response = api.post("/sobjects/Account", json={"Name": "Express Logistics"})
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == JSON_TYPE
    body = response.json()
    assert set(body) == {"id", "success", "errors"}
    assert body["success"] is True and body["errors"] == []
    assert response.headers["location"] == f"{BASE}/sobjects/Account/{body['id']}"
    assert read(api, "Account", body["id"])["Name"] == "Express Logistics"


def test_create_with_trailing_slash_and_object_name_in_any_case(api: Api) -> None:
    response = api.post("/sobjects/account/", json={"Name": "Slash"})
    assert response.status_code == 201, response.text
    assert read(api, "Account", response.json()["id"])["attributes"]["type"] == "Account"


@pytest.mark.parametrize(
    ("sobject", "prefix", "fields"),
    [
        ("Account", "001", {"Name": "A"}),
        ("Contact", "003", {"LastName": "C"}),
        ("Lead", "00Q", {"LastName": "L", "Company": "Co"}),
        (
            "Opportunity",
            "006",
            {"Name": "O", "StageName": "Prospecting", "CloseDate": "2024-06-30"},
        ),
        ("Task", "00T", {"Subject": "Call"}),
        ("Campaign", "701", {"Name": "Spring"}),
    ],
)
def test_ids_have_key_prefix_and_valid_checksum(
    api: Api, sobject: str, prefix: str, fields: dict[str, Any]
) -> None:
    ids = [api.create(sobject, **fields) for _ in range(3)]
    assert len(set(ids)) == 3
    for record_id in ids:
        assert ID18.match(record_id), record_id
        assert record_id.startswith(prefix)
        assert record_id[15:] == checksum(record_id[:15])
        assert read(api, sobject, record_id)["Id"] == record_id


def test_campaign_member_and_user_ids(api: Api, creds: Credentials) -> None:
    campaign = api.create("Campaign", Name="C")
    member = api.create("CampaignMember", CampaignId=campaign, LeadId=lead(api))
    for record_id, prefix in ((member, "00v"), (creds.user_id, "005")):
        assert record_id.startswith(prefix) and ID18.match(record_id)
        assert record_id[15:] == checksum(record_id[:15])
    user = read(api, "User", creds.user_id)
    assert user["Id"] == creds.user_id and user["Username"] == creds.username


# -- read -----------------------------------------------------------------------------------------


def test_read_returns_every_field_typed_and_in_canonical_casing(
    api: Api, creds: Credentials
) -> None:
    record_id = api.create(
        "Account",
        name="Typed",
        NUMBEROFEMPLOYEES=42,
        annualRevenue=1000,
        website="example.com",
    )
    record = read(api, "Account", record_id)
    described = api.get("/sobjects/Account/describe").json()
    assert list(record) == ["attributes", *(f["name"] for f in described["fields"])]
    assert record["attributes"] == {
        "type": "Account",
        "url": f"{BASE}/sobjects/Account/{record_id}",
    }
    assert record["Id"] == record_id
    assert record["Name"] == "Typed"
    assert record["NumberOfEmployees"] == 42 and isinstance(record["NumberOfEmployees"], int)
    assert record["AnnualRevenue"] == 1000.0 and isinstance(record["AnnualRevenue"], float)
    assert record["IsDeleted"] is False
    assert record["Website"] == "example.com"
    assert record["Phone"] is None and record["LastActivityDate"] is None
    for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        assert DATETIME.match(record[name]), record[name]
    assert record["OwnerId"] == record["CreatedById"] == creds.user_id


def test_read_with_fields_parameter(api: Api) -> None:
    record_id = api.create("Account", Name="Some", Website="some.example")
    record = read(api, "Account", record_id, fields="name,WEBSITE")
    assert record == {
        "attributes": {"type": "Account", "url": f"{BASE}/sobjects/Account/{record_id}"},
        "Name": "Some",
        "Website": "some.example",
        "Id": record_id,
    }
    bad = api.get(f"/sobjects/Account/{record_id}", params={"fields": "Name,Nope__c"})
    assert_error(bad, 400, "INVALID_FIELD")


def test_datetime_and_date_values_round_trip_in_salesforce_format(api: Api) -> None:
    record_id = api.create(
        "Opportunity", Name="Dates", StageName="Prospecting", CloseDate="2024-01-31"
    )
    task = api.create("Task", Subject="T", ActivityDate="2024-02-29", Status="Completed")
    assert read(api, "Opportunity", record_id)["CloseDate"] == "2024-01-31"
    completed = read(api, "Task", task)
    assert completed["ActivityDate"] == "2024-02-29"
    assert DATETIME.match(completed["CompletedDateTime"])


def test_created_date_uses_the_org_clock(api: Api, org: Org) -> None:
    org.clock.advance(timedelta(minutes=90))
    expected = org.clock.now()
    record = read(api, "Account", api.create("Account", Name="Clocked"))
    created = datetime.strptime(record["CreatedDate"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert abs(created - expected) < timedelta(seconds=30)
    assert record["CreatedDate"] == record["LastModifiedDate"] == record["SystemModstamp"]


# -- update and delete ----------------------------------------------------------------------------


def test_update_returns_204_and_changes_only_given_fields(api: Api) -> None:
    record_id = api.create("Account", Name="Before", Phone="123", Website="a.example")
    response = api.patch(f"/sobjects/Account/{record_id}", json={"Name": "After", "Phone": None})
    assert response.status_code == 204
    assert response.content == b""
    record = read(api, "Account", record_id)
    assert (record["Name"], record["Phone"], record["Website"]) == ("After", None, "a.example")


def test_update_with_empty_body_is_a_no_op_204(api: Api) -> None:
    record_id = api.create("Account", Name="Same")
    assert api.patch(f"/sobjects/Account/{record_id}", json={}).status_code == 204
    assert read(api, "Account", record_id)["Name"] == "Same"


def test_delete_then_every_method_says_entity_is_deleted(api: Api) -> None:
    record_id = api.create("Account", Name="Gone")
    response = api.delete(f"/sobjects/Account/{record_id}")
    assert response.status_code == 204 and response.content == b""
    for method, kw in (("GET", {}), ("PATCH", {"json": {"Name": "x"}}), ("DELETE", {})):
        response = api.request(method, f"/sobjects/Account/{record_id}", **kw)
        error = assert_error(response, 404, "ENTITY_IS_DELETED", [])
        assert error["message"] == "entity is deleted"


def test_unknown_id_is_404_not_found(api: Api) -> None:
    missing = "001" + "5e0" + "000000ZZZ"
    missing += checksum(missing)
    for method, kw in (("GET", {}), ("PATCH", {"json": {"Name": "x"}}), ("DELETE", {})):
        response = api.request(method, f"/sobjects/Account/{missing}", **kw)
        error = assert_error(response, 404, "NOT_FOUND")
        assert error["message"] == "The requested resource does not exist"


@pytest.mark.parametrize(
    "bad_id",
    [
        "001",
        "001xx000003DGb2AAZ",
        "00100000000000!",
        "0015e000000AbCdEfGhIjK",
        "001+++++++++++++++",
    ],
)
def test_malformed_id_is_400(api: Api, bad_id: str) -> None:
    for method, kw in (("GET", {}), ("PATCH", {"json": {"Name": "x"}}), ("DELETE", {})):
        response = api.request(method, f"/sobjects/Account/{quote(bad_id)}", **kw)
        assert_error(response, 400, "MALFORMED_ID", ["Id"])


def test_id_of_another_object_is_rejected(api: Api) -> None:
    contact = api.create("Contact", LastName="C")
    response = api.get(f"/sobjects/Account/{contact}")
    assert response.status_code in (400, 404)
    assert response.json()[0]["errorCode"] in ("MALFORMED_ID", "NOT_FOUND")


def test_15_character_and_any_case_18_character_ids_are_accepted(api: Api) -> None:
    account = api.create("Account", Name="Ids")
    for variant in (
        account[:15],
        account.lower(),
        account.upper(),
        account[:15] + account[15:].lower(),
    ):
        record = read(api, "Account", variant)
        assert record["Id"] == account
        assert record["attributes"]["url"].endswith(account)
    assert (
        api.patch(f"/sobjects/Account/{account[:15]}", json={"Name": "Fifteen"}).status_code == 204
    )
    assert api.patch(f"/sobjects/Account/{account.lower()}", json={"Phone": "1"}).status_code == 204
    assert read(api, "Account", account)["Name"] == "Fifteen"
    # References take the short and the case-insensitive forms too, and store the canonical ID.
    c1 = api.create("Contact", LastName="A", AccountId=account[:15])
    c2 = api.create("Contact", LastName="B", AccountId=account.lower())
    assert read(api, "Contact", c1)["AccountId"] == account
    assert read(api, "Contact", c2)["AccountId"] == account
    # A 15-character id is case-sensitive: changing its case makes another (unknown) record.
    swapped = account[:15].swapcase()
    response = api.get(f"/sobjects/Account/{swapped}")
    assert response.status_code in (400, 404)
    assert api.delete(f"/sobjects/Account/{account.upper()}").status_code == 204


def test_soql_accepts_15_character_ids(api: Api) -> None:
    account = api.create("Account", Name="Soql15")
    for variant in (account, account[:15]):
        records = api.query_all_records(f"SELECT Id FROM Account WHERE Id = '{variant}'")
        assert [r["Id"] for r in records] == [account]


# -- upsert by external ID ------------------------------------------------------------------------


@pytest.fixture
def ext_account(org: Org) -> str:
    custom_field(org, "Account", "Ext_Id__c", FieldType.STRING, external_id=True, unique=True)
    return "Ext_Id__c"


def test_upsert_creates_201_then_updates_200(api: Api, ext_account: str) -> None:
    url = f"/sobjects/Account/{ext_account}/ext-1"
    created = api.patch(url, json={"Name": "First"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body == {"id": body["id"], "success": True, "errors": [], "created": True}
    assert body["id"].startswith("001")
    record = read(api, "Account", body["id"])
    assert (record["Name"], record[ext_account]) == ("First", "ext-1")

    updated = api.patch(url, json={"Name": "Second"})
    assert updated.status_code == 200, updated.text
    assert updated.json() == {"id": body["id"], "success": True, "errors": [], "created": False}
    assert read(api, "Account", body["id"])["Name"] == "Second"
    assert count(api, "Account") == 1


def test_upsert_update_is_204_before_api_46(api: Api, client: Any, ext_account: str) -> None:
    record_id = api.patch(f"/sobjects/Account/{ext_account}/old", json={"Name": "A"}).json()["id"]
    old = Api(client, api.token, version="45.0")
    response = old.patch(f"/sobjects/Account/{ext_account}/old", json={"Name": "B"})
    assert response.status_code == 204 and response.content == b""
    assert read(api, "Account", record_id)["Name"] == "B"
    new = Api(client, api.token, version="46.0")
    assert new.patch(f"/sobjects/Account/{ext_account}/old", json={"Name": "C"}).status_code == 200


def test_upsert_with_several_matches_is_300_with_urls(api: Api, org: Org) -> None:
    custom_field(org, "Account", "Code__c", FieldType.STRING, external_id=True)
    a = api.create("Account", Name="A", Code__c="dup")
    b = api.create("Account", Name="B", Code__c="dup")
    response = api.patch("/sobjects/Account/Code__c/dup", json={"Name": "C"})
    assert response.status_code == 300, response.text
    assert sorted(response.json()) == sorted(f"{BASE}/sobjects/Account/{i}" for i in (a, b))
    assert {read(api, "Account", i)["Name"] for i in (a, b)} == {"A", "B"}
    assert api.get("/sobjects/Account/Code__c/dup").status_code == 300


def test_upsert_on_missing_field_is_404(api: Api) -> None:
    response = api.patch("/sobjects/Account/Nope__c/1", json={"Name": "x"})
    assert_error(response, 404, "NOT_FOUND")
    assert count(api, "Account") == 0


def test_upsert_on_a_field_that_is_not_an_external_id_is_400(api: Api) -> None:
    response = api.patch("/sobjects/Account/Phone/555", json={"Name": "x"})
    assert response.status_code == 400
    assert_error(response, 400, response.json()[0]["errorCode"])
    assert count(api, "Account") == 0


def test_upsert_with_the_key_in_the_body_is_400(api: Api, ext_account: str) -> None:
    response = api.patch(
        f"/sobjects/Account/{ext_account}/k1", json={"Name": "x", "ext_id__c": "k1"}
    )
    assert response.status_code == 400
    assert_error(response, 400, response.json()[0]["errorCode"])
    assert count(api, "Account") == 0


def test_upsert_key_is_url_decoded_and_case_insensitive(api: Api, ext_account: str) -> None:
    value = "a b/ü&c"
    created = api.patch(
        f"/sobjects/Account/{ext_account}/{quote(value, safe='')}", json={"Name": "N"}
    )
    assert created.status_code == 201, created.text
    record_id = created.json()["id"]
    assert read(api, "Account", record_id)[ext_account] == value
    upper = "A B/ü&C"
    again = api.patch(f"/sobjects/Account/ext_id__c/{quote(upper, safe='')}", json={})
    assert again.status_code == 200 and again.json()["id"] == record_id
    by_key = api.get(f"/sobjects/Account/{ext_account}/{quote(value, safe='')}")
    assert by_key.status_code == 200 and by_key.json()["Id"] == record_id


@pytest.mark.parametrize("value", ["a%41", "50%", "100%25", "x+y", "a/b/c", "dot.inc"])
def test_upsert_key_is_decoded_exactly_once(api: Api, ext_account: str, value: str) -> None:
    url = f"/sobjects/Account/{ext_account}/{quote(value, safe='')}"
    created = api.patch(url, json={"Name": "N"})
    assert created.status_code == 201, created.text
    assert read(api, "Account", created.json()["id"])[ext_account] == value
    assert api.get(url).json()["Id"] == created.json()["id"]


def test_upsert_validation_failure_writes_nothing(api: Api, ext_account: str) -> None:
    response = api.patch(f"/sobjects/Account/{ext_account}/v1", json={"Phone": "1"})
    assert_error(response, 400, "REQUIRED_FIELD_MISSING", ["Name"])
    assert count(api, "Account") == 0


def test_upsert_by_id_updates(api: Api) -> None:
    record_id = api.create("Account", Name="ById")
    response = api.patch(f"/sobjects/Account/Id/{record_id}", json={"Name": "Changed"})
    assert response.status_code == 200, response.text
    assert response.json()["created"] is False
    assert read(api, "Account", record_id)["Name"] == "Changed"


def test_upsert_by_id_of_a_missing_or_deleted_record_creates_nothing(api: Api) -> None:
    missing = "0015e0000000ZZZ"
    missing += checksum(missing)
    response = api.patch(f"/sobjects/Account/Id/{missing}", json={"Name": "New"})
    assert_error(response, 404, "NOT_FOUND")
    gone = api.create("Account", Name="Gone")
    assert api.delete(f"/sobjects/Account/{gone}").status_code == 204
    assert_error(
        api.patch(f"/sobjects/Account/Id/{gone}", json={"Name": "x"}), 404, "ENTITY_IS_DELETED"
    )
    assert_error(api.patch("/sobjects/Account/Id/nope", json={"Name": "x"}), 400, "MALFORMED_ID")
    assert count(api, "Account") == 0


def test_upsert_and_read_by_id_take_15_character_ids(api: Api) -> None:
    record_id = api.create("Account", Name="Short")
    response = api.patch(f"/sobjects/Account/Id/{record_id[:15]}", json={"Phone": "1"})
    assert response.status_code == 200 and response.json()["id"] == record_id
    assert api.get(f"/sobjects/Account/Id/{record_id[:15]}").json()["Phone"] == "1"
    assert api.get(f"/sobjects/Account/id/{record_id.lower()}").json()["Id"] == record_id


def test_insert_through_the_id_upsert_resource(api: Api) -> None:
    response = api.post("/sobjects/Account/Id", json={"Name": "Via upsert"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {"id": body["id"], "success": True, "errors": [], "created": True}
    assert read(api, "Account", body["id"])["Name"] == "Via upsert"


def test_id_in_an_update_body_is_refused(api: Api) -> None:
    record_id = api.create("Account", Name="Keep")
    response = api.patch(f"/sobjects/Account/{record_id}", json={"Id": record_id, "Name": "x"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"]
    assert read(api, "Account", record_id)["Name"] == "Keep"


def test_parent_by_external_id_in_the_body(api: Api, ext_account: str) -> None:
    account = api.patch(f"/sobjects/Account/{ext_account}/p-1", json={"Name": "P"}).json()["id"]
    contact = api.create("Contact", LastName="C", account={"Ext_Id__c": "P-1"})
    assert read(api, "Contact", contact)["AccountId"] == account
    response = api.post(
        "/sobjects/Contact", json={"LastName": "C", "Account": {ext_account: "none"}}
    )
    assert response.status_code == 400 and response.json()[0]["errorCode"]
    assert count(api, "Contact") == 1


def test_read_and_delete_by_external_id(api: Api, ext_account: str) -> None:
    record_id = api.patch(f"/sobjects/Account/{ext_account}/r1", json={"Name": "R"}).json()["id"]
    assert api.get(f"/sobjects/Account/{ext_account}/r1").json()["Id"] == record_id
    assert_error(api.get(f"/sobjects/Account/{ext_account}/none"), 404, "NOT_FOUND")
    assert api.delete(f"/sobjects/Account/{ext_account}/r1").status_code == 204
    assert_error(api.get(f"/sobjects/Account/{record_id}"), 404, "ENTITY_IS_DELETED")


# -- schema and validation ----------------------------------------------------------------------


def test_field_names_match_case_insensitively(api: Api) -> None:
    record_id = api.create("Lead", lastname="Lower", COMPANY="Upper", eMaIl="x@example.com")
    record = read(api, "Lead", record_id, fields="LASTNAME,company,EMAIL")
    assert (record["LastName"], record["Company"], record["Email"]) == (
        "Lower",
        "Upper",
        "x@example.com",
    )
    assert api.patch(f"/sobjects/Lead/{record_id}", json={"firstNAME": "F"}).status_code == 204
    assert read(api, "Lead", record_id)["Name"] == "F Lower"


@pytest.mark.parametrize(
    ("sobject", "body", "missing"),
    [
        ("Lead", {}, ["LastName", "Company"]),
        ("Lead", {"LastName": "L"}, ["Company"]),
        ("Lead", {"Company": "C", "LastName": ""}, ["LastName"]),
        ("Lead", {"Company": "C", "LastName": None}, ["LastName"]),
        ("Opportunity", {}, ["Name", "StageName", "CloseDate"]),
        ("Opportunity", {"Name": "O", "StageName": "Prospecting"}, ["CloseDate"]),
        ("Account", {"Phone": "1"}, ["Name"]),
        ("Contact", {"FirstName": "F"}, ["LastName"]),
        ("Campaign", {}, ["Name"]),
    ],
)
def test_required_fields_missing(
    api: Api, sobject: str, body: dict[str, Any], missing: list[str]
) -> None:
    error = assert_error(api.post(f"/sobjects/{sobject}", json=body), 400,
                         "REQUIRED_FIELD_MISSING", missing)  # fmt: skip
    assert error["message"].startswith("Required fields are missing: [")
    assert count(api, sobject) == 0


def test_clearing_a_required_field_on_update_is_refused(api: Api) -> None:
    record_id = lead(api)
    response = api.patch(f"/sobjects/Lead/{record_id}", json={"Company": None, "Title": "T"})
    assert_error(response, 400, "REQUIRED_FIELD_MISSING", ["Company"])
    record = read(api, "Lead", record_id)
    assert (record["Company"], record["Title"]) == ("Acme", None)


def test_string_too_long(api: Api) -> None:
    response = api.post("/sobjects/Lead", json={"LastName": "x" * 81, "Company": "C"})
    error = assert_error(response, 400, "STRING_TOO_LONG", ["LastName"])
    assert error["message"].startswith("Last Name: data value too large: ")
    assert error["message"].endswith("(max length=80)")
    assert (
        api.post("/sobjects/Lead", json={"LastName": "x" * 80, "Company": "C"}).status_code == 201
    )
    record_id = lead(api)
    response = api.patch(f"/sobjects/Lead/{record_id}", json={"Title": "t" * 129})
    assert_error(response, 400, "STRING_TOO_LONG", ["Title"])
    assert read(api, "Lead", record_id)["Title"] is None
    # Long text areas hold 32,000 characters.
    assert (
        api.patch(f"/sobjects/Lead/{record_id}", json={"Description": "d" * 32000}).status_code
        == 204
    )
    response = api.patch(f"/sobjects/Lead/{record_id}", json={"Description": "d" * 32001})
    assert_error(response, 400, "STRING_TOO_LONG", ["Description"])


@pytest.mark.parametrize("email", ["foo@", "@example.com", "no-at-sign", "a@b", "a b@example.com"])
def test_invalid_email_address(api: Api, email: str) -> None:
    response = api.post("/sobjects/Lead", json={"LastName": "L", "Company": "C", "Email": email})
    assert_error(response, 400, "INVALID_EMAIL_ADDRESS", ["Email"])
    assert count(api, "Lead") == 0


def test_restricted_picklists(api: Api) -> None:
    response = api.post("/sobjects/Lead", json={"LastName": "L", "Company": "C", "Status": "Foo"})
    error = assert_error(response, 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["Status"])
    assert "bad value for restricted picklist field: Foo" in error["message"]
    response = api.post(
        "/sobjects/Opportunity",
        json={"Name": "O", "StageName": "Almost There", "CloseDate": "2024-01-01"},
    )
    assert_error(response, 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["StageName"])
    record_id = lead(api)
    response = api.patch(f"/sobjects/Lead/{record_id}", json={"Status": "Nope"})
    assert_error(response, 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["Status"])
    # Values match case-insensitively and are stored in their canonical form.
    assert (
        api.patch(f"/sobjects/Lead/{record_id}", json={"Status": "working - contacted"}).status_code
        == 204
    )
    assert read(api, "Lead", record_id)["Status"] == "Working - Contacted"
    # An unrestricted picklist takes any value.
    assert api.patch(f"/sobjects/Lead/{record_id}", json={"LeadSource": "Chat"}).status_code == 204


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("CreatedDate", "2024-01-01T00:00:00.000+0000"),
        ("IsConverted", True),
        ("Name", "Full Name"),
        ("Id", "00Q000000000000AAA"),
        ("SystemModstamp", "2024-01-01T00:00:00.000+0000"),
        ("LastModifiedById", "005000000000000AAA"),
        ("IsDeleted", False),
    ],
)
def test_read_only_fields_on_insert(api: Api, field: str, value: Any) -> None:
    response = api.post("/sobjects/Lead", json={"LastName": "L", "Company": "C", field: value})
    assert response.status_code == 400
    if field != "Id":
        assert_error(response, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", [field])
    assert count(api, "Lead") == 0


def test_read_only_fields_on_update(api: Api) -> None:
    record_id = lead(api)
    for field, value in (
        ("CreatedDate", "2024-01-01T00:00:00Z"),
        ("IsConverted", True),
        ("Name", "X"),
    ):
        response = api.patch(
            f"/sobjects/Lead/{record_id}", json={"LastName": "Changed", field: value}
        )
        assert_error(response, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", [field])
    assert read(api, "Lead", record_id)["LastName"] == "Doe"


def test_unknown_field_is_invalid_field(api: Api) -> None:
    response = api.post("/sobjects/Lead", json={"LastName": "L", "Company": "C", "Bogus__c": 1})
    error = assert_error(response, 400, "INVALID_FIELD")
    assert "Bogus__c" in error["message"]
    record_id = lead(api)
    response = api.patch(f"/sobjects/Lead/{record_id}", json={"LastName": "X", "Nope": 1})
    assert_error(response, 400, "INVALID_FIELD")
    assert read(api, "Lead", record_id)["LastName"] == "Doe"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("NumberOfEmployees", "many"),
        ("NumberOfEmployees", 1.5),
        ("NumberOfEmployees", True),
        ("NumberOfEmployees", "1_000"),
        ("AnnualRevenue", "Infinity"),
        ("AnnualRevenue", "0x10"),
        ("AnnualRevenue", [1]),
        ("AnnualRevenue", {"amount": 1}),
        ("IsUnreadByOwner", "yes"),
        ("IsUnreadByOwner", 1),
        ("LastName", {"first": "x"}),
        ("LastName", ["x"]),
        ("LastName", True),
        ("ConvertedDate", 20240101),
    ],
)
def test_wrong_json_types_are_json_parser_errors(api: Api, field: str, value: Any) -> None:
    body = {"LastName": "L", "Company": "C", field: value}
    response = api.post("/sobjects/Lead", json=body)
    assert response.status_code == 400
    if field != "ConvertedDate":
        assert_error(response, 400, "JSON_PARSER_ERROR")
    assert count(api, "Lead") == 0


def test_wrong_date_types(api: Api) -> None:
    base = {"Name": "O", "StageName": "Prospecting"}
    for bad in (20240101, "31/01/2024", "2024-02-30", True, ["2024-01-01"]):
        response = api.post("/sobjects/Opportunity", json={**base, "CloseDate": bad})
        assert_error(response, 400, "JSON_PARSER_ERROR")
    task = api.create("Task", Subject="T")
    response = api.patch(f"/sobjects/Task/{task}", json={"ActivityDate": "tomorrow"})
    assert_error(response, 400, "JSON_PARSER_ERROR")


def test_numbers_accept_numeric_strings(api: Api) -> None:
    record = read(api, "Account", api.create("Account", Name="N", NumberOfEmployees="12"))
    assert record["NumberOfEmployees"] == 12


@pytest.mark.parametrize(
    ("sobject", "base", "field", "value"),
    [
        ("Account", {"Name": "A"}, "NumberOfEmployees", 123456789),
        ("Account", {"Name": "A"}, "AnnualRevenue", 1e19),
        ("Opportunity", {"Name": "O", "StageName": "Prospecting", "CloseDate": "2024-01-01"},
         "Amount", 12345678901234567.0),
        ("Opportunity", {"Name": "O", "StageName": "Prospecting", "CloseDate": "2024-01-01"},
         "Probability", 1000),
        ("Account", {"Name": "A"}, "NumberOfEmployees", "1e999999999"),
        ("Account", {"Name": "A"}, "AnnualRevenue", "-1e999999999"),
        ("Account", {"Name": "A"}, "AnnualRevenue", -1e308),
    ],
)  # fmt: skip
def test_number_outside_valid_range(
    api: Api, sobject: str, base: dict[str, Any], field: str, value: Any
) -> None:
    response = api.post(f"/sobjects/{sobject}", json={**base, field: value})
    assert_error(response, 400, "NUMBER_OUTSIDE_VALID_RANGE", [field])
    assert count(api, sobject) == 0


def test_bad_references(api: Api, org: Org) -> None:
    missing_account = "0015e0000000ZZZ"
    missing_account += checksum(missing_account)
    response = api.post("/sobjects/Contact", json={"LastName": "C", "AccountId": missing_account})
    assert_error(response, 400, "INVALID_CROSS_REFERENCE_KEY", ["AccountId"])
    a_lead = lead(api)
    response = api.post("/sobjects/Contact", json={"LastName": "C", "AccountId": a_lead})
    assert_error(response, 400, "FIELD_INTEGRITY_EXCEPTION", ["AccountId"])
    response = api.post("/sobjects/Contact", json={"LastName": "C", "AccountId": "not-an-id"})
    assert_error(response, 400, "MALFORMED_ID", ["AccountId"])
    missing_user = "0055e0000000ZZZ"
    missing_user += checksum(missing_user)
    response = api.post("/sobjects/Account", json={"Name": "A", "OwnerId": missing_user})
    assert_error(response, 400, "INVALID_CROSS_REFERENCE_KEY", ["OwnerId"])
    assert count(api, "Contact") == 0 and count(api, "Account") == 0
    # A Task whose Who is a Lead cannot have a What.
    account = api.create("Account", Name="A")
    response = api.post("/sobjects/Task", json={"Subject": "S", "WhoId": a_lead, "WhatId": account})
    assert_error(response, 400, "FIELD_INTEGRITY_EXCEPTION")
    # A deleted parent is not a valid reference either.
    assert api.delete(f"/sobjects/Account/{account}").status_code == 204
    response = api.post("/sobjects/Contact", json={"LastName": "C", "AccountId": account})
    assert response.status_code == 400
    assert count(api, "Contact") == 0


def test_system_fields_on_create_and_update(
    api: Api, org: Org, creds: Credentials, client: Any
) -> None:
    record_id = api.create("Account", Name="Audit")
    created = read(api, "Account", record_id)
    assert created["CreatedById"] == created["LastModifiedById"] == creds.user_id
    assert created["OwnerId"] == creds.user_id
    assert created["CreatedDate"] == created["LastModifiedDate"] == created["SystemModstamp"]

    other = create_user(org, username="other@localforce.test", last_name="Other")
    other_api = Api(client, oauth.issue_session(org, other, creds.app.client_id))
    org.clock.advance(timedelta(minutes=5))
    assert other_api.patch(f"/sobjects/Account/{record_id}", json={"Phone": "1"}).status_code == 204
    updated = read(api, "Account", record_id)
    assert updated["CreatedById"] == creds.user_id
    assert updated["LastModifiedById"] == other
    assert updated["OwnerId"] == creds.user_id
    assert updated["CreatedDate"] == created["CreatedDate"]
    assert updated["SystemModstamp"] > created["SystemModstamp"]
    assert updated["LastModifiedDate"] > created["LastModifiedDate"]
    assert updated["SystemModstamp"] == updated["LastModifiedDate"]
    # Records created by the other user default to that user as owner.
    theirs = read(api, "Lead", lead(other_api))
    assert theirs["OwnerId"] == theirs["CreatedById"] == other
    # OwnerId may be set to another active user.
    mine = read(api, "Lead", lead(api, OwnerId=other))
    assert mine["OwnerId"] == other and mine["CreatedById"] == creds.user_id


def test_lead_status_default(api: Api) -> None:
    record = read(api, "Lead", lead(api))
    assert record["Status"] == "Open - Not Contacted"
    assert record["IsConverted"] is False
    assert record["Name"] == "Doe"
    chosen = read(api, "Lead", lead(api, Status="Working - Contacted", FirstName="Jane"))
    assert chosen["Status"] == "Working - Contacted"
    assert chosen["Name"] == "Jane Doe"


@pytest.mark.parametrize(
    ("stage", "probability", "closed", "won", "forecast"),
    [
        ("Prospecting", 10.0, False, False, "Pipeline"),
        ("Negotiation/Review", 90.0, False, False, "Pipeline"),
        ("Closed Won", 100.0, True, True, "Closed"),
        ("Closed Lost", 0.0, True, False, "Omitted"),
    ],
)
def test_opportunity_fields_follow_the_stage(
    api: Api, stage: str, probability: float, closed: bool, won: bool, forecast: str
) -> None:
    record_id = api.create("Opportunity", Name="O", StageName=stage, CloseDate="2024-03-01")
    record = read(api, "Opportunity", record_id)
    assert record["Probability"] == probability
    assert (record["IsClosed"], record["IsWon"]) == (closed, won)
    assert record["ForecastCategoryName"] == forecast


def test_opportunity_stage_change_updates_derived_fields(api: Api) -> None:
    record_id = api.create("Opportunity", Name="O", StageName="Prospecting", CloseDate="2024-03-01")
    assert (
        api.patch(
            f"/sobjects/Opportunity/{record_id}", json={"StageName": "Closed Won"}
        ).status_code
        == 204
    )
    record = read(api, "Opportunity", record_id)
    assert (record["Probability"], record["IsClosed"], record["IsWon"]) == (100.0, True, True)
    # An explicit probability wins over the stage's default.
    explicit = api.create(
        "Opportunity", Name="P", StageName="Prospecting", CloseDate="2024-03-01", Probability=35
    )
    assert read(api, "Opportunity", explicit)["Probability"] == 35.0
    for field in ("IsClosed", "IsWon", "ForecastCategory"):
        response = api.patch(f"/sobjects/Opportunity/{record_id}", json={field: "x"})
        assert_error(response, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", [field])


def test_task_defaults_and_is_closed(api: Api, creds: Credentials) -> None:
    task = read(api, "Task", api.create("Task", Subject="Chat"))
    assert (task["Status"], task["Priority"], task["IsClosed"]) == ("Not Started", "Normal", False)
    assert task["OwnerId"] == creds.user_id
    assert task["CompletedDateTime"] is None
    done = read(api, "Task", api.create("Task", Subject="Chat", Status="Completed"))
    assert done["IsClosed"] is True
    assert (
        api.patch(f"/sobjects/Task/{task['Id']}", json={"Status": "Completed"}).status_code == 204
    )
    assert read(api, "Task", task["Id"])["IsClosed"] is True
    response = api.patch(f"/sobjects/Task/{task['Id']}", json={"Priority": "Urgent"})
    assert_error(response, 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["Priority"])
    response = api.patch(f"/sobjects/Task/{task['Id']}", json={"IsClosed": False})
    assert_error(response, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsClosed"])


def test_task_account_is_derived_from_what_and_who(api: Api) -> None:
    account = api.create("Account", Name="A")
    contact = api.create("Contact", LastName="C", AccountId=account)
    by_who = read(api, "Task", api.create("Task", Subject="S", WhoId=contact))
    assert by_who["AccountId"] == account
    by_what = read(api, "Task", api.create("Task", Subject="S", WhatId=account))
    assert by_what["AccountId"] == account


def test_recycle_bin(api: Api) -> None:
    record_id = lead(api, LastName="Binned")
    keep = lead(api, LastName="Kept")
    assert api.delete(f"/sobjects/Lead/{record_id}").status_code == 204
    live = api.query_all_records("SELECT Id FROM Lead")
    assert [r["Id"] for r in live] == [keep]
    response = api.get("/queryAll", params={"q": "SELECT Id, IsDeleted FROM Lead ORDER BY Id"})
    assert response.status_code == 200, response.text
    rows = {r["Id"]: r["IsDeleted"] for r in response.json()["records"]}
    assert rows == {record_id: True, keep: False}
    response = api.get(
        "/queryAll",
        params={"q": f"SELECT Id FROM Lead WHERE IsDeleted = true AND Id = '{record_id}'"},
    )
    assert response.json()["totalSize"] == 1
    assert count(api, "Lead") == 1


def test_deleting_an_account_cascades_to_its_contacts(api: Api) -> None:
    account = api.create("Account", Name="Parent")
    other = api.create("Account", Name="Other")
    contacts = [api.create("Contact", LastName=f"C{i}", AccountId=account) for i in range(3)]
    survivor = api.create("Contact", LastName="S", AccountId=other)
    orphan = api.create("Contact", LastName="O")
    opportunity = api.create(
        "Opportunity", Name="O", StageName="Prospecting", CloseDate="2024-01-01", AccountId=account
    )
    assert api.delete(f"/sobjects/Account/{account}").status_code == 204
    for contact in contacts:
        assert_error(api.get(f"/sobjects/Contact/{contact}"), 404, "ENTITY_IS_DELETED")
    assert_error(api.get(f"/sobjects/Opportunity/{opportunity}"), 404, "ENTITY_IS_DELETED")
    assert {r["Id"] for r in api.query_all_records("SELECT Id FROM Contact")} == {survivor, orphan}
    response = api.get("/queryAll", params={"q": "SELECT Id FROM Contact WHERE IsDeleted = true"})
    assert {r["Id"] for r in response.json()["records"]} == set(contacts)


def test_converted_leads_are_read_only(api: Api, org: Org) -> None:
    record_id = lead(api)
    lead_obj = org.object("Lead")
    assert lead_obj is not None
    with org.transaction():
        org.update_row(lead_obj, record_id, {"IsConverted": 1, "Status": "Closed - Converted"})
    response = api.patch(f"/sobjects/Lead/{record_id}", json={"Title": "CEO"})
    assert_error(response, 400, "CANNOT_UPDATE_CONVERTED_LEAD")
    record = read(api, "Lead", record_id)
    assert (record["Title"], record["IsConverted"]) == (None, True)


# -- campaign members -----------------------------------------------------------------------------


def campaign_counts(api: Api, campaign: str) -> tuple[int, int, int]:
    c = read(api, "Campaign", campaign)
    return c["NumberOfLeads"], c["NumberOfContacts"], c["NumberOfResponses"]


def test_campaign_member_default_status_and_counters(api: Api) -> None:
    campaign = api.create("Campaign", Name="Spring")
    assert campaign_counts(api, campaign) == (0, 0, 0)
    a_lead, a_contact = lead(api), api.create("Contact", LastName="C")
    sent = read(
        api, "CampaignMember", api.create("CampaignMember", CampaignId=campaign, LeadId=a_lead)
    )
    assert (sent["Status"], sent["HasResponded"]) == ("Sent", False)
    assert sent["FirstRespondedDate"] is None
    responded_id = api.create(
        "CampaignMember", CampaignId=campaign, ContactId=a_contact, Status="responded"
    )
    responded = read(api, "CampaignMember", responded_id)
    assert (responded["Status"], responded["HasResponded"]) == ("Responded", True)
    assert responded["FirstRespondedDate"] is not None
    assert campaign_counts(api, campaign) == (1, 1, 1)
    # Responding later counts as a response too.
    assert (
        api.patch(
            f"/sobjects/CampaignMember/{sent['Id']}", json={"Status": "Responded"}
        ).status_code
        == 204
    )
    assert read(api, "CampaignMember", sent["Id"])["HasResponded"] is True
    assert campaign_counts(api, campaign) == (1, 1, 2)
    assert api.delete(f"/sobjects/CampaignMember/{responded_id}").status_code == 204
    assert campaign_counts(api, campaign) == (1, 0, 1)
    # Deleting the person deletes the membership, and the counters follow.
    assert api.delete(f"/sobjects/Lead/{a_lead}").status_code == 204
    assert_error(api.get(f"/sobjects/CampaignMember/{sent['Id']}"), 404, "ENTITY_IS_DELETED")
    assert campaign_counts(api, campaign) == (0, 0, 0)


def test_campaign_member_status_must_be_one_of_the_campaigns(api: Api) -> None:
    campaign = api.create("Campaign", Name="C")
    response = api.post(
        "/sobjects/CampaignMember",
        json={"CampaignId": campaign, "LeadId": lead(api), "Status": "Attended"},
    )
    assert response.status_code == 400
    assert_error(response, 400, response.json()[0]["errorCode"])
    assert count(api, "CampaignMember") == 0
    assert campaign_counts(api, campaign) == (0, 0, 0)
    # A status the campaign has once it is added.
    status = api.create("CampaignMemberStatus", CampaignId=campaign, Label="Attended",
                        HasResponded=True, SortOrder=3)  # fmt: skip
    assert status.startswith("01Y")
    member = api.create("CampaignMember", CampaignId=campaign, LeadId=lead(api), Status="Attended")
    assert read(api, "CampaignMember", member)["HasResponded"] is True


def test_campaign_member_duplicate(api: Api) -> None:
    campaign = api.create("Campaign", Name="C")
    other_campaign = api.create("Campaign", Name="D")
    a_lead, a_contact = lead(api), api.create("Contact", LastName="C")
    api.create("CampaignMember", CampaignId=campaign, LeadId=a_lead)
    api.create("CampaignMember", CampaignId=campaign, ContactId=a_contact)
    for person in ({"LeadId": a_lead}, {"ContactId": a_contact}, {"LeadId": a_lead[:15]}):
        response = api.post("/sobjects/CampaignMember", json={"CampaignId": campaign, **person})
        error = assert_error(response, 400, "DUPLICATE_VALUE")
        assert error["message"] == "Already a campaign member."
    assert campaign_counts(api, campaign) == (1, 1, 0)
    api.create("CampaignMember", CampaignId=other_campaign, LeadId=a_lead)


def test_campaign_member_needs_a_campaign_and_a_person(api: Api) -> None:
    campaign = api.create("Campaign", Name="C")
    response = api.post("/sobjects/CampaignMember", json={"CampaignId": campaign})
    assert_error(response, 400, "REQUIRED_FIELD_MISSING")
    response = api.post("/sobjects/CampaignMember", json={"LeadId": lead(api)})
    assert_error(response, 400, "REQUIRED_FIELD_MISSING", ["CampaignId"])
    assert count(api, "CampaignMember") == 0


# -- custom fields ------------------------------------------------------------------------------


def test_custom_fields_in_create_read_query_and_upsert(api: Api, org: Org) -> None:
    custom_field(org, "Lead", "Visitor_Id__c", FieldType.STRING, external_id=True, unique=True)
    custom_field(org, "Lead", "Visitor_Score__c", FieldType.DOUBLE, precision=18, scale=0)
    custom_field(org, "Lead", "Seen_At__c", FieldType.DATETIME)
    custom_field(org, "Lead", "Opted_In__c", FieldType.BOOLEAN, nillable=False,
                 defaulted_on_create=True, default_value=False)  # fmt: skip

    record_id = lead(
        api, visitor_id__c="v-1", Visitor_Score__c=42, Seen_At__c="2024-01-31T11:00:00+01:00"
    )
    record = read(api, "Lead", record_id)
    assert record["Visitor_Id__c"] == "v-1"
    assert record["Visitor_Score__c"] == 42.0
    assert record["Seen_At__c"] == "2024-01-31T10:00:00.000+0000"
    assert record["Opted_In__c"] is False
    assert read(api, "Lead", record_id, fields="visitor_score__c") == {
        "attributes": {"type": "Lead", "url": f"{BASE}/sobjects/Lead/{record_id}"},
        "Visitor_Score__c": 42.0,
        "Id": record_id,
    }

    rows = api.query_all_records(
        "SELECT Id, Visitor_Id__c, Visitor_Score__c FROM Lead WHERE Visitor_Id__c = 'v-1'"
    )
    assert [(r["Id"], r["Visitor_Id__c"], r["Visitor_Score__c"]) for r in rows] == [
        (record_id, "v-1", 42.0)
    ]

    updated = api.patch("/sobjects/Lead/Visitor_Id__c/V-1", json={"Visitor_Score__c": 7})
    assert updated.status_code == 200 and updated.json()["id"] == record_id
    created = api.patch("/sobjects/Lead/Visitor_Id__c/v-2", json={"LastName": "N", "Company": "C"})
    assert created.status_code == 201 and created.json()["created"] is True
    assert read(api, "Lead", record_id)["Visitor_Score__c"] == 7.0

    duplicate = api.post(
        "/sobjects/Lead", json={"LastName": "D", "Company": "C", "Visitor_Id__c": "V-2"}
    )
    assert_error(duplicate, 400, "DUPLICATE_VALUE", ["Visitor_Id__c"])
    assert count(api, "Lead") == 2
    too_long = api.post(
        "/sobjects/Lead", json={"LastName": "D", "Company": "C", "Visitor_Id__c": "x" * 65}
    )
    assert_error(too_long, 400, "STRING_TOO_LONG", ["Visitor_Id__c"])
