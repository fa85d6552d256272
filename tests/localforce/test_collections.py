"""sObject Collections through HTTP: create, update, upsert, retrieve and delete up to 200 records
a call; allOrNone with a real rollback; partial success; results in order (reference §3.1, §3.2)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from localforce.org import Org
from localforce.schema import FieldDef, FieldType

from .conftest import BASE, Api

JSON_TYPE = "application/json;charset=UTF-8"
SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1, body
    assert body[0]["errorCode"] == code, body
    assert isinstance(body[0]["message"], str)
    return dict(body[0])


def results(response: httpx.Response) -> list[dict[str, Any]]:
    """The SaveResult array of a 200 collections answer."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSON_TYPE
    body = response.json()
    assert isinstance(body, list)
    return body


def assert_ok(result: dict[str, Any], prefix: str | None = None) -> str:
    assert result["success"] is True, result
    assert result["errors"] == []
    assert isinstance(result["id"], str) and len(result["id"]) == 18
    if prefix is not None:
        assert result["id"].startswith(prefix)
    return str(result["id"])


def assert_failed(result: dict[str, Any], code: str, fields: list[str] | None = None) -> None:
    assert result["success"] is False, result
    assert len(result["errors"]) == 1, result
    error = result["errors"][0]
    assert set(error) == {"statusCode", "message", "fields"}, error
    assert error["statusCode"] == code, result
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], list)
    if fields is not None:
        assert sorted(error["fields"]) == sorted(fields)


def rec(sobject: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": sobject}, **fields}


def account(name: str, **fields: Any) -> dict[str, Any]:
    return rec("Account", Name=name, **fields)


def names(api: Api, sobject: str = "Account") -> list[str]:
    return sorted(r["Name"] for r in api.query_all_records(f"SELECT Name FROM {sobject}"))


def create(
    api: Api, records: list[dict[str, Any]], all_or_none: bool | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"records": records}
    if all_or_none is not None:
        body["allOrNone"] = all_or_none
    return api.post("/composite/sobjects", json=body)


def fake_id(prefix: str) -> str:
    id15 = prefix + "5e0ZZZZZZZZZ"
    out = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(id15[chunk * 5 : chunk * 5 + 5]) if "A" <= c <= "Z")
        out += SUFFIX[bits]
    return id15 + out


# -- create ---------------------------------------------------------------------------------------


def test_create_mixed_types_in_order(api: Api) -> None:
    records = [
        account("acc1", BillingCity="San Francisco"),
        account("acc2"),
        rec("Contact", LastName="Johnson", FirstName="Erica"),
        account("acc3"),
        rec("Lead", LastName="L", Company="C"),
    ]
    out = results(create(api, records))
    assert len(out) == 5
    for result in out:
        assert set(result) == {"id", "success", "errors"}
    ids = [assert_ok(r, p) for r, p in zip(out, ["001", "001", "003", "001", "00Q"], strict=True)]
    assert ids[0] < ids[1] < ids[3]
    assert api.get(f"/sobjects/Account/{ids[0]}").json()["BillingCity"] == "San Francisco"
    assert api.get(f"/sobjects/Contact/{ids[2]}").json()["Name"] == "Erica Johnson"
    assert names(api) == ["acc1", "acc2", "acc3"]


def test_create_200_records(api: Api) -> None:
    out = results(create(api, [account(f"a{i:03d}") for i in range(200)]))
    assert len(out) == 200 and all(r["success"] for r in out)
    assert len(names(api)) == 200


def test_create_201_records_is_exceeded_id_limit_and_writes_nothing(api: Api) -> None:
    response = create(api, [account(f"a{i}") for i in range(201)])
    assert_error(response, 400, "EXCEEDED_ID_LIMIT")
    assert names(api) == []


def test_create_partial_success_by_default(api: Api) -> None:
    records = [
        account("good1"),
        account(""),
        rec("Lead", LastName="L"),
        account("good2"),
        rec("Contact", LastName="C", Email="bad@"),
    ]
    for all_or_none in (None, False):
        out = results(create(api, records, all_or_none))
        assert len(out) == 5
        assert_ok(out[0], "001")
        assert_failed(out[1], "REQUIRED_FIELD_MISSING", ["Name"])
        assert_failed(out[2], "REQUIRED_FIELD_MISSING", ["Company"])
        assert_ok(out[3], "001")
        assert_failed(out[4], "INVALID_EMAIL_ADDRESS", ["Email"])
        for failed in (out[1], out[2], out[4]):
            assert failed.get("id") is None
    assert names(api) == ["good1", "good1", "good2", "good2"]
    assert api.query_all_records("SELECT Id FROM Lead") == []
    assert api.query_all_records("SELECT Id FROM Contact") == []


def test_create_all_or_none_rolls_everything_back(api: Api) -> None:
    records = [account("first"), rec("Contact", LastName="C"), account("x" * 256), account("last")]
    out = results(create(api, records, True))
    assert len(out) == 4
    assert_failed(out[0], ROLLED_BACK)
    assert_failed(out[1], ROLLED_BACK)
    assert_failed(out[2], "STRING_TOO_LONG", ["Name"])
    assert_failed(out[3], ROLLED_BACK)
    assert out[0]["errors"][0]["fields"] == []
    assert names(api) == []
    assert api.query_all_records("SELECT Id FROM Contact") == []
    # Nothing was committed, not even to the recycle bin; the next request works normally.
    response = api.get("/queryAll", params={"q": "SELECT Id FROM Account"})
    assert response.json()["totalSize"] == 0
    assert_ok(results(create(api, [account("after")], True))[0], "001")
    assert names(api) == ["after"]


def test_create_all_or_none_rolls_back_side_effects(api: Api) -> None:
    campaign = api.create("Campaign", Name="C")
    lead = api.create("Lead", LastName="L", Company="C")
    records = [
        rec("CampaignMember", CampaignId=campaign, LeadId=lead, Status="Responded"),
        rec("Campaign", Name="New"),
        rec("Lead", LastName="No company"),
    ]
    out = results(create(api, records, True))
    assert [r["success"] for r in out] == [False, False, False]
    campaign_row = api.get(f"/sobjects/Campaign/{campaign}").json()
    assert (campaign_row["NumberOfLeads"], campaign_row["NumberOfResponses"]) == (0, 0)
    assert api.query_all_records("SELECT Id FROM CampaignMember") == []
    statuses = api.query_all_records("SELECT Id, CampaignId FROM CampaignMemberStatus")
    assert {s["CampaignId"] for s in statuses} == {campaign}
    assert names(api, "Campaign") == ["C"]


def test_create_refuses_an_id_or_a_missing_type_per_record(api: Api) -> None:
    existing = api.create("Account", Name="E")
    records: list[dict[str, Any]] = [
        {"attributes": {"type": "Account"}, "Id": existing, "Name": "dup"},
        {"Name": "no attributes"},
        {"attributes": {"type": "Nope__c"}, "Name": "unknown type"},
        account("ok"),
    ]
    out = results(create(api, records))
    assert [r["success"] for r in out] == [False, False, False, True]
    for result in out[:3]:
        assert result["errors"][0]["statusCode"] in (
            "INVALID_FIELD",
            "INVALID_TYPE",
            "MALFORMED_ID",
        )
    assert names(api) == ["E", "ok"]


def test_create_more_than_ten_type_chunks_is_refused(api: Api) -> None:
    records = [account(f"a{i}") if i % 2 else rec("Contact", LastName=f"c{i}") for i in range(11)]
    response = create(api, records)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"]
    assert names(api) == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"records": {}},
        {"records": "x"},
        {"records": [1, 2]},
        {"records": [], "allOrNone": "yes"},
        [],
    ],
)
def test_create_with_a_malformed_body(api: Api, body: Any) -> None:
    response = api.post("/composite/sobjects", json=body)
    assert response.status_code == 400, response.text
    assert "Traceback" not in response.text
    assert response.json()[0]["errorCode"]
    assert names(api) == []


def test_create_empty_records_list(api: Api) -> None:
    response = api.post("/composite/sobjects", json={"records": []})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json() == []


# -- update ---------------------------------------------------------------------------------------


def test_update_partial_success_in_order(api: Api) -> None:
    a = api.create("Account", Name="A")
    b = api.create("Account", Name="B")
    c = api.create("Contact", LastName="C")
    deleted = api.create("Account", Name="D")
    assert api.delete(f"/sobjects/Account/{deleted}").status_code == 204
    records = [
        rec("Account", id=a, NumberOfEmployees=27000),
        rec("Account", id=b, Name=None),
        rec("Contact", id=c[:15], Title="CTO"),
        rec("Account", id=fake_id("001"), Name="ghost"),
        rec("Account", id=deleted, Name="zombie"),
        rec("Account", Name="no id"),
        rec("Account", id="garbage", Name="x"),
    ]
    out = results(api.patch("/composite/sobjects", json={"records": records}))
    assert len(out) == 7
    assert out[0] == {"id": a, "success": True, "errors": []}
    assert_failed(out[1], "REQUIRED_FIELD_MISSING", ["Name"])
    assert out[1]["id"] == b
    assert out[2] == {"id": c, "success": True, "errors": []}
    assert out[3]["success"] is False
    assert out[3]["errors"][0]["statusCode"] in (
        "ENTITY_IS_DELETED",
        "INVALID_CROSS_REFERENCE_KEY",
        "NOT_FOUND",
    )
    assert_failed(out[4], "ENTITY_IS_DELETED")
    assert out[5]["success"] is False and out[6]["success"] is False
    assert out[6]["errors"][0]["statusCode"] == "MALFORMED_ID"
    assert api.get(f"/sobjects/Account/{a}").json()["NumberOfEmployees"] == 27000
    assert api.get(f"/sobjects/Account/{b}").json()["Name"] == "B"
    assert api.get(f"/sobjects/Contact/{c}").json()["Title"] == "CTO"


def test_update_all_or_none_rolls_back(api: Api) -> None:
    a = api.create("Account", Name="A", Phone="1")
    b = api.create("Account", Name="B", Phone="2")
    before = [api.get(f"/sobjects/Account/{i}").json() for i in (a, b)]
    records = [
        rec("Account", id=a, Name="A2", Phone="11"),
        rec("Account", id=b, Industry="Banking", NumberOfEmployees="lots"),
    ]
    out = results(api.patch("/composite/sobjects", json={"allOrNone": True, "records": records}))
    assert out[0] == {
        "id": a,
        "success": False,
        "errors": [
            {"statusCode": ROLLED_BACK, "message": out[0]["errors"][0]["message"], "fields": []}
        ],
    }
    assert_failed(out[1], "JSON_PARSER_ERROR")
    after = [api.get(f"/sobjects/Account/{i}").json() for i in (a, b)]
    assert after == before


def test_update_200_and_201_records(api: Api) -> None:
    ids = [assert_ok(r) for r in results(create(api, [account(f"a{i}") for i in range(200)]))]
    out = results(
        api.patch(
            "/composite/sobjects", json={"records": [rec("Account", id=i, Phone="9") for i in ids]}
        )
    )
    assert [r["id"] for r in out] == ids and all(r["success"] for r in out)
    too_many = [rec("Account", id=i, Phone="0") for i in [*ids, ids[0]]]
    response = api.patch("/composite/sobjects", json={"records": too_many})
    assert_error(response, 400, "EXCEEDED_ID_LIMIT")
    assert {r["Phone"] for r in api.query_all_records("SELECT Phone FROM Account")} == {"9"}


# -- delete ---------------------------------------------------------------------------------------


def test_delete_mixed_types_partial_success(api: Api) -> None:
    a = api.create("Account", Name="A")
    c = api.create("Contact", LastName="C")
    gone = api.create("Lead", LastName="L", Company="Co")
    assert api.delete(f"/sobjects/Lead/{gone}").status_code == 204
    ids = [a, c[:15], gone, fake_id("001"), "bogus"]
    out = results(api.delete("/composite/sobjects", params={"ids": ",".join(ids)}))
    assert len(out) == 5
    assert out[0] == {"id": a, "success": True, "errors": []}
    assert out[1] == {"id": c, "success": True, "errors": []}
    assert_failed(out[2], "ENTITY_IS_DELETED")
    assert out[3]["success"] is False and out[4]["success"] is False
    assert out[4]["errors"][0]["statusCode"] == "MALFORMED_ID"
    response = api.get(
        "/queryAll", params={"q": f"SELECT Id, IsDeleted FROM Account WHERE Id = '{a}'"}
    )
    assert response.json()["records"][0]["IsDeleted"] is True


def test_delete_all_or_none_rolls_back(api: Api) -> None:
    a = api.create("Account", Name="A")
    contact = api.create("Contact", LastName="C", AccountId=a)
    b = api.create("Account", Name="B")
    ids = f"{a},{b},{fake_id('001')}"
    out = results(api.delete("/composite/sobjects", params={"ids": ids, "allOrNone": "true"}))
    assert [r["success"] for r in out] == [False, False, False]
    assert out[0]["id"] == a
    assert out[0]["errors"][0]["statusCode"] == ROLLED_BACK
    assert out[1]["errors"][0]["statusCode"] == ROLLED_BACK
    assert names(api) == ["A", "B"]
    # The cascade was rolled back with its parent.
    assert api.get(f"/sobjects/Contact/{contact}").status_code == 200


def test_delete_limits_and_missing_ids(api: Api) -> None:
    assert_error(
        api.delete("/composite/sobjects"),
        400,
        api.delete("/composite/sobjects").json()[0]["errorCode"],
    )
    ids = ",".join(fake_id("001") for _ in range(201))
    assert_error(api.delete("/composite/sobjects", params={"ids": ids}), 400, "EXCEEDED_ID_LIMIT")


# -- retrieve -------------------------------------------------------------------------------------


def test_retrieve_with_null_for_unknown_ids(api: Api) -> None:
    a = api.create("Account", Name="A", Website="a.example")
    b = api.create("Account", Name="B")
    deleted = api.create("Account", Name="D")
    assert api.delete(f"/sobjects/Account/{deleted}").status_code == 204
    ids = [b, fake_id("001"), a[:15], deleted]
    response = api.get(
        "/composite/sobjects/Account", params={"ids": ",".join(ids), "fields": "name,Website"}
    )
    out = results(response)
    assert out == [
        {"attributes": {"type": "Account", "url": f"{BASE}/sobjects/Account/{b}"},
         "Name": "B", "Website": None, "Id": b},
        None,
        {"attributes": {"type": "Account", "url": f"{BASE}/sobjects/Account/{a}"},
         "Name": "A", "Website": "a.example", "Id": a},
        None,
    ]  # fmt: skip


def test_retrieve_by_post(api: Api) -> None:
    a = api.create("Account", Name="A")
    response = api.post(
        "/composite/sobjects/Account", json={"ids": [a, fake_id("001")], "fields": ["Name"]}
    )
    out = results(response)
    assert out[0]["Name"] == "A" and out[0]["Id"] == a and out[1] is None


def test_retrieve_errors(api: Api) -> None:
    a = api.create("Account", Name="A")
    response = api.get("/composite/sobjects/Account", params={"ids": a, "fields": "Nope"})
    assert_error(response, 400, "INVALID_FIELD")
    response = api.get("/composite/sobjects/Nope__c", params={"ids": a, "fields": "Name"})
    assert_error(response, 404, "NOT_FOUND")
    response = api.get("/composite/sobjects/Account", params={"ids": "garbage", "fields": "Name"})
    assert response.status_code in (200, 400)
    assert "Traceback" not in response.text
    if response.status_code == 200:
        assert response.json() == [None]
    response = api.get("/composite/sobjects/Account", params={"fields": "Name"})
    assert response.status_code == 400
    response = api.post("/composite/sobjects/Account", json={"ids": "x", "fields": ["Name"]})
    assert response.status_code == 400 and "Traceback" not in response.text
    contact = api.create("Contact", LastName="C")
    response = api.get("/composite/sobjects/Account", params={"ids": contact, "fields": "Name"})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json() == [None]


# -- upsert ---------------------------------------------------------------------------------------


@pytest.fixture
def visitor_id(org: Org) -> str:
    org.add_custom_field(
        "Lead",
        FieldDef(name="Visitor_Id__c", label="Visitor Id", type=FieldType.STRING, length=64,
                 external_id=True, unique=True, custom=True),
    )  # fmt: skip
    return "Visitor_Id__c"


def lead(visitor: str | None, **fields: Any) -> dict[str, Any]:
    body = rec("Lead", **{"LastName": "Doe", "Company": "Acme", **fields})
    if visitor is not None:
        body["Visitor_Id__c"] = visitor
    return body


def test_upsert_creates_and_updates(api: Api, visitor_id: str) -> None:
    existing = api.create("Lead", LastName="Old", Company="C", Visitor_Id__c="v-1")
    records = [lead("v-1", LastName="Updated"), lead("v-2"), lead("v-3", Email="x@example.com")]
    out = results(api.patch(f"/composite/sobjects/Lead/{visitor_id}", json={"records": records}))
    assert out[0] == {"id": existing, "success": True, "errors": [], "created": False}
    assert out[1]["created"] is True and assert_ok(out[1], "00Q")
    assert out[2]["created"] is True and assert_ok(out[2], "00Q")
    assert api.get(f"/sobjects/Lead/{existing}").json()["LastName"] == "Updated"
    rows = api.query_all_records("SELECT Visitor_Id__c FROM Lead ORDER BY Visitor_Id__c")
    assert [r["Visitor_Id__c"] for r in rows] == ["v-1", "v-2", "v-3"]


def test_upsert_partial_success_and_per_record_errors(api: Api, visitor_id: str) -> None:
    records = [
        lead("ok"),
        lead("same"),
        lead("same", LastName="Twin"),
        lead(None),
        lead("bad", Email="bad@"),
        rec("Contact", LastName="wrong type", Visitor_Id__c="c"),
    ]
    out = results(api.patch(f"/composite/sobjects/Lead/{visitor_id}", json={"records": records}))
    assert len(out) == 6
    assert_ok(out[0], "00Q")
    assert out[1]["success"] is False and out[2]["success"] is False
    assert out[1]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    assert out[3]["success"] is False
    assert_failed(out[4], "INVALID_EMAIL_ADDRESS", ["Email"])
    assert out[5]["success"] is False
    rows = api.query_all_records("SELECT Visitor_Id__c FROM Lead")
    assert [r["Visitor_Id__c"] for r in rows] == ["ok"]


def test_upsert_all_or_none_rolls_back(api: Api, visitor_id: str) -> None:
    existing = api.create("Lead", LastName="Old", Company="C", Visitor_Id__c="v-1")
    records = [lead("v-1", LastName="Changed"), lead("v-2"), lead("v-3", Company=None)]
    out = results(
        api.patch(
            f"/composite/sobjects/Lead/{visitor_id}", json={"allOrNone": True, "records": records}
        )
    )
    assert [r["success"] for r in out] == [False, False, False]
    assert out[0]["errors"][0]["statusCode"] == ROLLED_BACK
    assert out[1]["errors"][0]["statusCode"] == ROLLED_BACK
    assert_failed(out[2], "REQUIRED_FIELD_MISSING", ["Company"])
    assert api.get(f"/sobjects/Lead/{existing}").json()["LastName"] == "Old"
    assert [r["Id"] for r in api.query_all_records("SELECT Id FROM Lead")] == [existing]


def test_upsert_request_errors(api: Api, visitor_id: str) -> None:
    body = {"records": [lead("x")]}
    assert_error(api.patch("/composite/sobjects/Lead/Nope__c", json=body), 404, "NOT_FOUND")
    response = api.patch("/composite/sobjects/Lead/LastName", json=body)
    assert response.status_code == 400 and response.json()[0]["errorCode"]
    assert_error(api.patch("/composite/sobjects/Nope/Visitor_Id__c", json=body), 404, "NOT_FOUND")
    too_many = {"records": [lead(f"v{i}") for i in range(201)]}
    assert_error(
        api.patch(f"/composite/sobjects/Lead/{visitor_id}", json=too_many), 400, "EXCEEDED_ID_LIMIT"
    )
    assert api.query_all_records("SELECT Id FROM Lead") == []
    response = api.post(f"/composite/sobjects/Lead/{visitor_id}", json=body)
    assert response.status_code == 405 and response.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_upsert_200_records(api: Api, visitor_id: str) -> None:
    records = [lead(f"v{i:03d}") for i in range(200)]
    out = results(api.patch(f"/composite/sobjects/Lead/{visitor_id}", json={"records": records}))
    assert all(r["success"] and r["created"] for r in out)
    again = results(api.patch(f"/composite/sobjects/Lead/{visitor_id}", json={"records": records}))
    assert [r["id"] for r in again] == [r["id"] for r in out]
    assert not any(r["created"] for r in again)
