"""Bad input of every kind through HTTP: authentication failures, malformed bodies, wrong types,
unknown objects and paths, oversize requests, unsupported methods. Always Salesforce's error
body, never a stack trace, never a half-written record (reference §2.7, §8)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localforce import oauth
from localforce.api import MAX_BODY_BYTES
from localforce.bootstrap import Credentials
from localforce.org import Org
from localforce.schema import FieldDef, FieldType

from .conftest import BASE, Api

JSON_TYPE = "application/json;charset=UTF-8"
SESSION_BODY = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Salesforce's error body: a JSON array of {message, errorCode[, fields]}; no traceback."""
    assert response.status_code == status, response.text[:500]
    assert "Traceback" not in response.text and 'File "' not in response.text
    assert response.headers["content-type"] == JSON_TYPE
    body = response.json()
    assert isinstance(body, list) and body, body
    for error in body:
        assert isinstance(error["errorCode"], str) and error["errorCode"]
        assert isinstance(error["message"], str)
        assert set(error) <= {"message", "errorCode", "fields"}
    if code is not None:
        assert body[0]["errorCode"] == code, body
    return dict(body[0])


def snapshot(org: Org, sobject: str) -> list[tuple[Any, ...]]:
    """Every row of a table, deleted ones included: to prove nothing was written."""
    with org.lock:
        return list(org.conn.execute(f'SELECT * FROM "{sobject}" ORDER BY _rid').fetchall())


# -- authentication -------------------------------------------------------------------------------


AUTHENTICATED_PATHS = [
    "/",
    "/sobjects",
    "/sobjects/Account/describe",
    "/limits",
    "/query?q=SELECT+Id+FROM+Account",
    "/composite/sobjects/Account?ids=001000000000000AAA&fields=Name",
]


@pytest.mark.parametrize("path", AUTHENTICATED_PATHS)
@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer garbage", "Bearer ", "OAuth nope", "Bearer 00D000000000000!AQ0Ab"],
)
def test_missing_or_garbage_token_is_401(client: Any, path: str, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get(BASE + path, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Token"
    assert response.headers["content-type"] == JSON_TYPE
    if authorization not in ("Bearer ",):
        assert response.json() == SESSION_BODY
    else:
        assert_error(response, 401)


def test_malformed_authorization_header_is_401(client: Any, api: Api) -> None:
    for header in ("Basic dXNlcjpwYXNz", f"{api.token}", f"Bearer {api.token} extra"):
        response = client.get(f"{BASE}/limits", headers={"Authorization": header})
        assert_error(response, 401)
        assert response.headers["www-authenticate"] == "Token"


def test_expired_token_is_401(api: Api, org: Org) -> None:
    assert api.get("/limits").status_code == 200
    org.clock.advance(org.config.access_token_ttl + timedelta(seconds=1))
    for method in ("GET", "POST", "PATCH", "DELETE"):
        response = api.request(method, "/sobjects/Account", json={"Name": "late"})
        assert response.status_code == 401
        assert response.json() == SESSION_BODY
        assert response.headers["www-authenticate"] == "Token"
        assert "sforce-limit-info" not in response.headers
    assert org.conn.execute('SELECT count(*) FROM "Account"').fetchone()[0] == 0


def test_token_just_before_expiry_still_works(api: Api, org: Org) -> None:
    org.clock.advance(org.config.access_token_ttl - timedelta(minutes=1))
    assert api.get("/limits").status_code == 200


def test_revoked_token_is_401(api: Api, org: Org, creds: Credentials) -> None:
    oauth.revoke_user_tokens(org, creds.user_id)
    assert api.get("/limits").json() == SESSION_BODY


def test_oauth_scheme_is_accepted(client: Any, api: Api) -> None:
    response = client.get(f"{BASE}/limits", headers={"Authorization": f"OAuth {api.token}"})
    assert response.status_code == 200


# -- malformed bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"   ", b"{", b"{nope}", b"{'Name': 'x'}", b"\xff\xfe\x00", b"Name=x", b"null",
     b'"a string"', b"42", b"[]", b'[{"Name": "x"}]', b"{\"Name\": \"x\"} trailing", b"NaN",
     b'{"Name": NaN}', b'{"Name": "x", "AnnualRevenue": Infinity}'],
)  # fmt: skip
def test_create_with_malformed_json(api: Api, org: Org, content: bytes) -> None:
    response = api.post(
        "/sobjects/Account", content=content, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "JSON_PARSER_ERROR")
    assert snapshot(org, "Account") == []


@pytest.mark.parametrize("content", [b"{", b"[]", b"[1]", b"true", b""])
def test_update_and_upsert_with_malformed_json(api: Api, org: Org, content: bytes) -> None:
    record_id = api.create("Account", Name="Keep")
    before = snapshot(org, "Account")
    for path in (f"/sobjects/Account/{record_id}", f"/sobjects/Account/Id/{record_id}"):
        response = api.patch(path, content=content)
        assert_error(response, 400, "JSON_PARSER_ERROR")
    assert snapshot(org, "Account") == before


def test_failed_update_changes_nothing(api: Api, org: Org) -> None:
    record_id = api.create("Account", Name="Keep", Phone="1", NumberOfEmployees=5)
    before = snapshot(org, "Account")
    bad_bodies: list[dict[str, Any]] = [
        {"Name": "Changed", "NumberOfEmployees": "many"},
        {"Phone": "2", "Website": "w" * 256},
        {"Name": "Changed", "Bogus": 1},
        {"Name": "Changed", "CreatedDate": "2024-01-01T00:00:00Z"},
        {"Name": None, "Phone": "3"},
        {"Phone": "4", "ParentId": "garbage"},
        {"Phone": "5", "Industry": {"nested": True}},
        {"Phone": "6", "NumberOfEmployees": 10**12},
    ]
    for body in bad_bodies:
        assert_error(api.patch(f"/sobjects/Account/{record_id}", json=body), 400)
    assert snapshot(org, "Account") == before


def test_failed_create_writes_nothing_anywhere(api: Api, org: Org) -> None:
    campaign = api.create("Campaign", Name="C")
    lead = api.create("Lead", LastName="L", Company="Co")
    api.create("CampaignMember", CampaignId=campaign, LeadId=lead)
    tables = ("Account", "Lead", "Campaign", "CampaignMember", "CampaignMemberStatus", "Task")
    before = {t: snapshot(org, t) for t in tables}
    attempts: list[tuple[str, Any]] = [
        ("Lead", {"LastName": "x", "Company": "y", "Status": "Nope"}),
        ("Lead", {"LastName": "x", "Company": "y", "Email": "@"}),
        ("CampaignMember", {"CampaignId": campaign, "LeadId": lead}),
        ("CampaignMember", {"CampaignId": campaign, "LeadId": lead[:15], "Status": "Sent"}),
        ("Campaign", {"Name": "x" * 81}),
        ("Task", {"Subject": "s", "WhoId": lead, "WhatId": campaign}),
        ("Task", {"Subject": "s", "Status": "Done"}),
        ("Account", {"Name": "n", "OwnerId": lead}),
    ]
    for sobject, body in attempts:
        assert_error(api.post(f"/sobjects/{sobject}", json=body), 400)
    assert {t: snapshot(org, t) for t in tables} == before


# -- unknown objects, paths and methods -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sobjects/Nope__c/describe"),
        ("GET", "/sobjects/Nope__c"),
        ("POST", "/sobjects/Nope__c"),
        ("GET", "/sobjects/Nope__c/001000000000000AAA"),
        ("PATCH", "/sobjects/Nope__c/001000000000000AAA"),
        ("DELETE", "/sobjects/Nope__c/001000000000000AAA"),
        ("PATCH", "/sobjects/Nope__c/Ext__c/1"),
        ("GET", "/composite/sobjects/Nope__c?ids=001000000000000AAA&fields=Name"),
        ("GET", "/nope"),
        ("GET", "/sobjects/Account/describe/nope/deeper"),
        ("GET", "/services/nope"),
        ("GET", "/services/data/v62.0/%00"),
        ("GET", "/nothing-here"),
        ("POST", "/"),
        ("GET", "/services/data/v62.0/sobjects/Account/001000000000000AAA/Name/extra/x"),
    ],
)
def test_unknown_objects_and_paths_are_404(api: Api, method: str, path: str) -> None:
    body = {"Name": "x"} if method in ("POST", "PATCH") else None
    response = api.request(method, path, json=body)
    if path == "/" and method == "POST":
        assert_error(response, 405, "METHOD_NOT_ALLOWED")
        return
    assert_error(response, 404, "NOT_FOUND")


def test_garbage_paths_outside_the_api(client: Any) -> None:
    for path in (
        "/",
        "/favicon.ico",
        "/services/data/v62.0/../../etc/passwd",
        "/%ff%fe",
        "/a" * 100,
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Traceback" not in response.text
        assert response.json()[0]["errorCode"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/sobjects/Account/{id}"),
        ("POST", "/sobjects/Account/{id}"),
        ("PUT", "/sobjects/Account"),
        ("DELETE", "/sobjects/Account"),
        ("PATCH", "/sobjects/Account"),
        ("POST", "/sobjects/Account/describe"),
        ("DELETE", "/sobjects/Account/describe"),
        ("POST", "/sobjects"),
        ("DELETE", "/limits"),
        ("POST", "/limits"),
        ("PUT", "/composite/sobjects"),
        ("GET", "/composite/sobjects"),
        ("DELETE", "/composite/sobjects/Account"),
        ("POST", "/query?q=SELECT+Id+FROM+Account"),
        ("PUT", "/sobjects/Account/Id/{id}"),
    ],
)
def test_unsupported_method_is_405_json(api: Api, org: Org, method: str, path: str) -> None:
    record_id = api.create("Account", Name="Keep")
    before = snapshot(org, "Account")
    response = api.request(method, path.format(id=record_id), json={"Name": "x"})
    error = assert_error(response, 405, "METHOD_NOT_ALLOWED")
    if not path.startswith("/query"):  # query.py words it differently
        assert method in error["message"]
    assert snapshot(org, "Account") == before


def test_other_http_methods_get_a_json_error(api: Api) -> None:
    for method in ("OPTIONS", "TRACE", "CONNECT", "FOO"):
        response = api.request(method, "/sobjects/Account")
        assert response.status_code in (404, 405), method
        assert_error(response, response.status_code)


# -- oversize requests ----------------------------------------------------------------------------


def test_uri_over_16384_bytes_is_414(api: Api) -> None:
    padding = "x" * 16_400
    for path in (f"/sobjects/Account/describe?pad={padding}", f"/query?q={padding}"):
        assert_error(api.get(path), 414)
    ids = ",".join(["001000000000000AAA"] * 900)
    response = api.get(f"/composite/sobjects/Account?ids={ids}&fields=Name")
    assert_error(response, 414)
    # Right at the limit, the request goes through to the handler.
    path = f"{BASE}/limits?pad="
    response = api.get(path + "x" * (16_384 - len(path)))
    assert response.status_code == 200


def test_uri_length_counts_the_encoded_bytes(api: Api) -> None:
    # 6,000 spaces decode to 6,000 bytes but travel as 18,000.
    response = api.get(f"/sobjects/Account/Name/{'%20' * 6000}")
    assert_error(response, 414)


def test_oversize_body_is_413(api: Api, org: Org) -> None:
    body = b'{"Name": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = api.post("/sobjects/Account", content=body)
    assert_error(response, 413)
    assert snapshot(org, "Account") == []


def test_large_but_allowed_body_is_validated(api: Api, org: Org) -> None:
    response = api.post("/sobjects/Account", json={"Name": "n", "Description": "d" * 1_000_000})
    assert_error(response, 400, "STRING_TOO_LONG")
    assert snapshot(org, "Account") == []


# -- wrong types everywhere -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [None, True, 1, 1.5, "text", [], [1, "a"], {}, {"a": {"b": []}}, "2024-01-01", -1e308]
)
def test_any_json_value_in_any_lead_field_is_handled(api: Api, org: Org, value: Any) -> None:
    described = api.get("/sobjects/Lead/describe").json()
    for field in described["fields"]:
        response = api.post(
            "/sobjects/Lead", json={"LastName": "L", "Company": "C", field["name"]: value}
        )
        assert response.status_code in (201, 400), (field["name"], value, response.text)
        assert "Traceback" not in response.text
        if response.status_code == 400:
            assert_error(response, 400)


# -- properties -----------------------------------------------------------------------------------


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
lead_keys = st.sampled_from(
    ["LastName", "Company", "Email", "Status", "NumberOfEmployees", "AnnualRevenue", "lastname",
     "IsConverted", "OwnerId", "Description", "attributes", "Id", "ConvertedDate", "Bogus__c",
     "Owner", "Title", "DoNotCall", "RecordTypeId"]
)  # fmt: skip
lead_bodies = st.one_of(
    json_values,
    st.dictionaries(st.one_of(lead_keys, st.text(max_size=12)), json_values, max_size=6),
)
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_arbitrary_json_bodies_never_fail_with_500(api: Api, org: Org) -> None:
    record_id = api.create("Lead", LastName="Keep", Company="Co")

    @given(body=lead_bodies)
    @SETTINGS
    def check(body: Any) -> None:
        content = json.dumps(body).encode()
        for method, path in (
            ("POST", "/sobjects/Lead"),
            ("PATCH", f"/sobjects/Lead/{record_id}"),
            ("POST", "/composite/sobjects"),
            ("PATCH", "/sobjects/Lead/Id/" + record_id),
        ):
            response = api.request(method, path, content=content)
            assert response.status_code < 500, (method, path, body, response.text)
            assert "Traceback" not in response.text
            if response.status_code >= 400:
                assert_error(response, response.status_code)
            elif path == "/sobjects/Lead":
                assert response.json()["success"] is True

    check()


def test_arbitrary_collection_records_never_fail_with_500(api: Api) -> None:
    records = st.lists(
        st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "attributes": st.one_of(
                        json_values,
                        st.fixed_dictionaries(
                            {"type": st.sampled_from(["Lead", "Account", "x", ""])}
                        ),
                    )
                },
                optional={
                    "Name": json_values,
                    "LastName": json_values,
                    "Company": json_values,
                    "id": json_values,
                },
            ),
        ),
        max_size=5,
    )

    @given(records=records, all_or_none=json_values)
    @SETTINGS
    def check(records: Any, all_or_none: Any) -> None:
        for method in ("POST", "PATCH"):
            response = api.request(
                method, "/composite/sobjects", json={"records": records, "allOrNone": all_or_none}
            )
            assert response.status_code in (200, 400), response.text
            assert "Traceback" not in response.text
            body = response.json()
            if response.status_code == 200:
                assert len(body) == len(records)
                for result in body:
                    assert isinstance(result["success"], bool) and isinstance(
                        result["errors"], list
                    )
            else:
                assert_error(response, 400)

    check()


def test_arbitrary_raw_bytes_never_fail_with_500(api: Api) -> None:
    @given(content=st.binary(max_size=200))
    @SETTINGS
    def check(content: bytes) -> None:
        for method, path in (("POST", "/sobjects/Account"), ("POST", "/composite/sobjects")):
            response = api.request(method, path, content=content)
            assert response.status_code in (201, 400), response.text
            assert "Traceback" not in response.text

    check()


ids = st.one_of(
    st.text(max_size=30),
    st.text(
        alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        min_size=15,
        max_size=18,
    ),
    st.builds(lambda s: "001" + s, st.text(alphabet="0123456789AZaz", min_size=12, max_size=15)),
)


def test_arbitrary_ids_never_fail_with_500(api: Api) -> None:
    existing = api.create("Account", Name="A")

    @given(record_id=ids)
    @SETTINGS
    def check(record_id: str) -> None:
        quoted = quote(record_id, safe="")
        update = {"attributes": {"type": "Account"}, "id": record_id, "Phone": "2"}
        soql = f"SELECT Id FROM Account WHERE Id = '{record_id}'"
        requests: list[tuple[str, str, dict[str, Any]]] = [
            ("GET", f"/sobjects/Account/{quoted}", {}),
            ("PATCH", f"/sobjects/Account/{quoted}", {"json": {"Phone": "1"}}),
            ("DELETE", f"/sobjects/Lead/{quoted}", {}),
            ("POST", "/sobjects/Contact", {"json": {"LastName": "C", "AccountId": record_id}}),
            ("GET", "/composite/sobjects/Account", {"params": {"ids": record_id, "fields": "Id"}}),
            ("DELETE", "/composite/sobjects", {"params": {"ids": record_id}}),
            ("PATCH", "/composite/sobjects", {"json": {"records": [update]}}),
            ("GET", "/query", {"params": {"q": soql}}),
        ]
        for method, path, kw in requests:
            response = api.request(method, path, **kw)
            assert response.status_code < 500, (method, path, record_id, response.text)
            assert "Traceback" not in response.text
            if response.status_code >= 400:
                assert_error(response, response.status_code)
        assert api.get(f"/sobjects/Account/{existing}").status_code == 200

    check()


def test_arbitrary_external_id_values_never_fail_with_500(api: Api, org: Org) -> None:
    org.add_custom_field(
        "Account",
        FieldDef(name="Ext__c", label="Ext", type=FieldType.STRING, length=64, external_id=True,
                 unique=True, custom=True),
    )  # fmt: skip

    @given(value=st.text(min_size=1, max_size=80))
    @SETTINGS
    def check(value: str) -> None:
        url = f"/sobjects/Account/Ext__c/{quote(value, safe='')}"
        first = api.patch(url, json={"Name": "n"})
        assert first.status_code in (200, 201, 400, 404), (value, first.text)
        assert "Traceback" not in first.text
        if first.status_code >= 400:
            assert_error(first, first.status_code)
            return
        again = api.patch(url, json={"Phone": "1"})
        assert again.status_code == 200, (value, again.text)
        assert again.json()["id"] == first.json()["id"]
        assert api.get(url).json()["Id"] == first.json()["id"]

    check()
