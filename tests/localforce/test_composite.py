"""Composite and composite batch through HTTP: references, allOrNone with a real rollback, the
25/5 limits, envelope errors, nested collections, version rules and API-call accounting
(reference §3.3, §3.5)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from localforce.org import Org, OrgConfig

from .conftest import BASE, Api

ROLLED_BACK = [
    {
        "message": "The transaction was rolled back since another operation in the same "
        "transaction failed.",
        "errorCode": "PROCESSING_HALTED",
    }
]
BATCH_HALTED = [
    {"message": "Batch processing halted per request", "errorCode": "BATCH_PROCESSING_HALTED"}
]


def sub(method: str, path: str, ref: str, body: Any = None, **extra: Any) -> dict[str, Any]:
    """A composite subrequest; `path` is relative to the v62.0 data URL unless absolute."""
    url = path if path.startswith("/services") else BASE + path
    item: dict[str, Any] = {"method": method, "url": url, "referenceId": ref, **extra}
    if body is not None:
        item["body"] = body
    return item


def create_account(ref: str, name: str) -> dict[str, Any]:
    return sub("POST", "/sobjects/Account", ref, {"Name": name})


def composite(api: Api, subrequests: list[dict[str, Any]], **flags: Any) -> httpx.Response:
    return api.post("/composite", json={"compositeRequest": subrequests, **flags})


def responses(response: httpx.Response) -> dict[str, dict[str, Any]]:
    """The subresponses of a 200 composite answer, by referenceId, in order."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["compositeResponse"]
    out: dict[str, dict[str, Any]] = {}
    for entry in body["compositeResponse"]:
        assert set(entry) == {"body", "httpHeaders", "httpStatusCode", "referenceId"}, entry
        assert "Content-Length" not in entry["httpHeaders"]
        out[entry["referenceId"]] = entry
    return out


def assert_top_level_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1 and body[0]["errorCode"] == code, body
    return str(body[0]["message"])


def account_names(api: Api) -> list[str]:
    return sorted(r["Name"] for r in api.query_all_records("SELECT Name FROM Account"))


def usage(response: httpx.Response) -> int:
    used, _, _ = response.headers["Sforce-Limit-Info"].removeprefix("api-usage=").partition("/")
    return int(used)


# -- /composite: success paths --------------------------------------------------------------


def test_dependent_creates_resolve_references_and_carry_location(api: Api) -> None:
    result = responses(
        composite(
            api,
            [
                create_account("refAccount", "Acme"),
                sub(
                    "POST",
                    "/sobjects/Contact",
                    "refContact",
                    {"LastName": "Doe", "AccountId": "@{refAccount.id}"},
                ),
            ],
            allOrNone=True,
        )
    )
    account, contact = result["refAccount"], result["refContact"]
    assert account["httpStatusCode"] == 201 and contact["httpStatusCode"] == 201
    account_id = account["body"]["id"]
    assert account["body"] == {"id": account_id, "success": True, "errors": []}
    assert account["httpHeaders"] == {"Location": f"{BASE}/sobjects/Account/{account_id}"}
    contact_id = contact["body"]["id"]
    read = api.get(f"/sobjects/Contact/{contact_id}", params={"fields": "AccountId"})
    assert read.json()["AccountId"] == account_id


def test_whole_composite_counts_as_one_api_call(api: Api) -> None:
    before = usage(api.get("/limits"))
    response = composite(api, [create_account(f"a{i}", f"Account {i}") for i in range(10)])
    assert all(r["httpStatusCode"] == 201 for r in responses(response).values())
    assert usage(response) == before + 1
    assert usage(api.get("/limits")) == before + 2


def test_get_subrequests_and_references_into_query_results(api: Api) -> None:
    api.create("Account", Name="Acme & Sons", Phone="555-0100")
    result = responses(
        composite(
            api,
            [
                sub("GET", "/query/?q=SELECT+Id,Name+FROM+Account", "q"),
                sub("GET", "/sobjects/Account/@{q.records[0].Id}?fields=Name,Phone", "read"),
                # A referenced value with `&` and spaces stays one query-string value.
                sub(
                    "GET", "/query?q=SELECT+Phone+FROM+Account+WHERE+Name='@{read.Name}'", "byName"
                ),
                sub(
                    "PATCH",
                    "/sobjects/Account/@{q.records[0].Id}",
                    "rename",
                    {"Name": "@{read.Name} Ltd", "NumberOfEmployees": 12},
                ),
            ],
        )
    )
    account_id = result["q"]["body"]["records"][0]["Id"]
    assert result["read"]["httpStatusCode"] == 200
    assert result["read"]["body"]["Phone"] == "555-0100"
    assert result["byName"]["body"]["records"][0]["Phone"] == "555-0100"
    assert result["rename"] == {
        "body": None,
        "httpHeaders": {},
        "httpStatusCode": 204,
        "referenceId": "rename",
    }
    read = api.get(f"/sobjects/Account/{account_id}", params={"fields": "Name"})
    assert read.json()["Name"] == "Acme & Sons Ltd"


def test_reference_to_a_whole_value_keeps_its_json_type(api: Api) -> None:
    api.create("Account", Name="Acme", NumberOfEmployees=42)
    result = responses(
        composite(
            api,
            [
                sub("GET", "/query?q=SELECT+NumberOfEmployees+FROM+Account", "q"),
                sub(
                    "POST",
                    "/sobjects/Account",
                    "copy",
                    {"Name": "Copy", "NumberOfEmployees": "@{q.records[0].NumberOfEmployees}"},
                ),
            ],
        )
    )
    copy_id = result["copy"]["body"]["id"]
    read = api.get(f"/sobjects/Account/{copy_id}", params={"fields": "NumberOfEmployees"})
    assert read.json()["NumberOfEmployees"] == 42


def test_subrequest_errors_read_exactly_as_direct_calls(api: Api) -> None:
    missing = "/sobjects/Account/001000000000000AAA"
    direct = api.get(missing)
    result = responses(composite(api, [sub("GET", missing, "read")]))
    assert result["read"]["httpStatusCode"] == direct.status_code == 404
    assert result["read"]["body"] == direct.json()
    invalid = {"LastName": "Doe", "Email": "not-an-email"}
    direct = api.post("/sobjects/Contact", json=invalid)
    result = responses(composite(api, [sub("POST", "/sobjects/Contact", "bad", invalid)]))
    assert result["bad"]["httpStatusCode"] == direct.status_code == 400
    assert result["bad"]["body"] == direct.json()


def test_upsert_delete_and_describe_subrequests(api: Api) -> None:
    account_id = api.create("Account", Name="Doomed")
    result = responses(
        composite(
            api,
            [
                sub("PATCH", f"/sobjects/Account/Id/{account_id}", "upsert", {"Name": "Fresh"}),
                sub("DELETE", f"/sobjects/Account/{account_id}", "delete"),
                sub(
                    "GET",
                    "/sobjects/Account/describe",
                    "describe",
                    httpHeaders={"If-Modified-Since": "Fri, 31 Dec 2100 00:00:00 GMT"},
                ),
            ],
        )
    )
    assert result["upsert"]["httpStatusCode"] == 200
    assert result["upsert"]["body"] == {
        "id": account_id,
        "success": True,
        "errors": [],
        "created": False,
    }
    assert result["delete"]["httpStatusCode"] == 204 and result["delete"]["body"] is None
    # The subrequest's own header reached the handler: a describe not modified since 2100.
    assert result["describe"]["httpStatusCode"] == 304
    assert result["describe"]["body"] is None
    assert "ETag" in result["describe"]["httpHeaders"]
    assert account_names(api) == []


def test_subrequest_urls_carry_their_own_api_version(api: Api) -> None:
    result = responses(
        composite(
            api,
            [
                sub("POST", "/services/data/v55.0/sobjects/Account/", "old", {"Name": "Old"}),
                sub("GET", "/services/data/v20.0/sobjects/Account/@{old.id}", "retired"),
                sub("GET", "/services/data/v62.0/limits", "limits"),
                sub("POST", "/services/data/v62.0/composite/batch", "nested", {}),
            ],
        )
    )
    new_id = result["old"]["body"]["id"]
    assert (
        result["old"]["httpHeaders"]["Location"]
        == f"/services/data/v55.0/sobjects/Account/{new_id}"
    )
    # An unsupported version, and resources composite does not serve, are not found.
    for ref in ("retired", "limits", "nested"):
        assert result[ref]["httpStatusCode"] == 404
        assert result[ref]["body"][0]["errorCode"] == "NOT_FOUND"


def test_collate_subrequests_is_accepted_and_order_kept(api: Api) -> None:
    result = responses(
        composite(
            api,
            [create_account("first", "First"), create_account("second", "Second")],
            collateSubrequests=True,
        )
    )
    assert list(result) == ["first", "second"]
    assert result["first"]["body"]["id"] < result["second"]["body"]["id"]


def test_get_lists_composite_resources_and_other_methods_are_refused(api: Api) -> None:
    listed = api.get("/composite")
    assert listed.status_code == 200
    assert listed.json()["batch"] == f"{BASE}/composite/batch"
    assert listed.json()["sobjects"] == f"{BASE}/composite/sobjects"
    assert_top_level_error(api.patch("/composite", json={}), 405, "METHOD_NOT_ALLOWED")


# -- /composite: allOrNone -------------------------------------------------------------------


def test_all_or_none_failure_rolls_everything_back(api: Api) -> None:
    response = composite(
        api,
        [
            create_account("before", "Before"),
            sub("GET", "/sobjects/Account/@{before.id}", "read"),
            sub("POST", "/sobjects/Contact", "bad", {"FirstName": "No last name"}),
            create_account("after", "After"),
        ],
        allOrNone=True,
    )
    result = responses(response)
    assert result["bad"]["httpStatusCode"] == 400
    assert result["bad"]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    for ref in ("before", "read", "after"):
        assert result[ref] == {
            "body": ROLLED_BACK,
            "httpHeaders": {},
            "httpStatusCode": 400,
            "referenceId": ref,
        }
    assert account_names(api) == []


def test_without_all_or_none_only_dependents_of_a_failure_are_skipped(api: Api) -> None:
    result = responses(
        composite(
            api,
            [
                create_account("good", "Good"),
                sub("POST", "/sobjects/Account", "bad", {"Name": None}),
                sub(
                    "POST",
                    "/sobjects/Contact",
                    "dependent",
                    {"LastName": "Doe", "AccountId": "@{bad.id}"},
                ),
                sub(
                    "POST",
                    "/sobjects/Contact",
                    "independent",
                    {"LastName": "Roe", "AccountId": "@{good.id}"},
                ),
            ],
            allOrNone=False,
        )
    )
    assert result["good"]["httpStatusCode"] == 201
    assert result["bad"]["httpStatusCode"] == 400
    assert result["dependent"]["httpStatusCode"] == 400
    assert result["dependent"]["body"] == [
        {
            "message": "Invalid reference specified. No value for bad.id found in bad. Provided "
            "referenceId ('bad.id') must start with a letter or a number, and it can contain "
            "only letters, numbers and underscores ('_').",
            "errorCode": "PROCESSING_HALTED",
        }
    ]
    assert result["independent"]["httpStatusCode"] == 201
    assert account_names(api) == ["Good"]
    contacts = api.query_all_records("SELECT LastName FROM Contact")
    assert [c["LastName"] for c in contacts] == ["Roe"]


def test_reference_to_a_field_the_parent_did_not_select(api: Api) -> None:
    account_id = api.create("Account", Name="Acme")
    api.create("Contact", LastName="Doe", AccountId=account_id)
    result = responses(
        composite(
            api,
            [
                sub("GET", "/query?q=SELECT+Id,Account.Name+FROM+Contact", "refContact"),
                sub(
                    "GET",
                    "/query?q=SELECT+Name+FROM+Account+WHERE+Id='@{refContact.records[0]."
                    "AccountId}'",
                    "refAccount",
                ),
                sub("GET", "/sobjects/Account/@{refContact.records[5].Id}", "outOfRange"),
                sub("GET", "/sobjects/Account/@{nobody.id}", "unknown"),
                sub("GET", "/sobjects/Account/@{refContact}", "whole"),
            ],
        )
    )
    message = result["refAccount"]["body"][0]["message"]
    assert message == (
        "Invalid reference specified. No value for refContact.records[0].AccountId found in "
        "refContact. Provided referenceId ('refContact.records[0].AccountId') must start with a "
        "letter or a number, and it can contain only letters, numbers and underscores ('_')."
    )
    for ref in ("refAccount", "outOfRange", "unknown", "whole"):
        assert result[ref]["httpStatusCode"] == 400
        assert result[ref]["body"][0]["errorCode"] == "PROCESSING_HALTED"


def test_a_failed_reference_fails_an_all_or_none_request(api: Api) -> None:
    result = responses(
        composite(
            api,
            [create_account("acc", "Acme"), sub("GET", "/sobjects/Account/@{acc.Id}", "wrongCase")],
            allOrNone=True,
        )
    )
    assert result["wrongCase"]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert result["acc"]["body"] == ROLLED_BACK
    assert account_names(api) == []


def test_references_to_null_fields_by_api_version(api: Api, org: Org) -> None:
    account_id = api.create("Account", Name="No phone")
    subrequests = [
        sub("GET", f"/sobjects/Account/{account_id}?fields=Name,Phone", "acc"),
        sub("POST", "/sobjects/Contact", "con", {"LastName": "Doe", "Phone": "@{acc.Phone}"}),
    ]
    # From v52.0 a null substitutes null.
    assert responses(composite(api, subrequests))["con"]["httpStatusCode"] == 201
    # Up to v51.0 it fails the dependent subrequest.
    old = Api(api.client, api.token, "51.0")
    result = responses(composite(old, subrequests))
    assert result["con"]["httpStatusCode"] == 400
    assert result["con"]["body"][0]["errorCode"] == "PROCESSING_HALTED"


def test_illegal_reference_ids_by_api_version(api: Api) -> None:
    subrequests = [
        create_account("refNewAccount[1]", "Cloudy"),
        sub(
            "POST",
            "/sobjects/Contact",
            "refNewContact",
            {"LastName": "Smith", "AccountId": "@{refNewAccount[1].id}"},
        ),
        create_account("refNewAccount2", "Easy Spaces"),
    ]
    message = assert_top_level_error(composite(api, subrequests), 400, "JSON_PARSER_ERROR")
    assert message == (
        "Provided referenceId ('refNewAccount[1]') must start with a letter or a number, and it "
        "can contain only letters, numbers and underscores ('_')."
    )
    assert account_names(api) == []
    old = Api(api.client, api.token, "51.0")
    result = responses(composite(old, subrequests, allOrNone=False))
    assert result["refNewAccount[1]"]["httpStatusCode"] == 201
    assert result["refNewContact"]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert result["refNewContact"]["body"][0]["message"].startswith(
        "Invalid reference specified. No value for refNewAccount[1].id found in refNewAccount."
    )
    assert result["refNewAccount2"]["httpStatusCode"] == 201
    assert account_names(api) == ["Cloudy", "Easy Spaces"]


# -- /composite: nested sObject Collections ------------------------------------------------------


def nested(outer: bool, inner: bool) -> dict[str, Any]:
    records = [
        {"attributes": {"type": "Account"}, "Name": "Northern Trail"},
        {"attributes": {"type": "Account"}, "Name": None},
    ]
    return {
        "allOrNone": outer,
        "collateSubrequests": False,
        "compositeRequest": [
            sub(
                "POST",
                "/composite/sobjects",
                "newAccounts",
                {"allOrNone": inner, "records": records},
            ),
            sub("POST", "/sobjects/Contact", "newContact", {"FirstName": "J", "LastName": "Smith"}),
        ],
    }


def test_outer_all_or_none_overrides_a_lenient_collection(api: Api) -> None:
    result = responses(api.post("/composite", json=nested(outer=True, inner=False)))
    collection = result["newAccounts"]
    assert collection["httpStatusCode"] == 200
    # The collection reports what it did; the composite rollback then undoes it.
    assert collection["body"][0]["success"] is True
    assert collection["body"][1]["success"] is False
    assert result["newContact"]["body"] == ROLLED_BACK
    assert account_names(api) == []
    assert api.query_all_records("SELECT Id FROM Contact") == []


@pytest.mark.parametrize(
    ("inner", "accounts"), [(False, ["Northern Trail"]), (True, [])], ids=["lenient", "strict"]
)
def test_without_outer_all_or_none_the_collection_decides(
    api: Api, inner: bool, accounts: list[str]
) -> None:
    result = responses(api.post("/composite", json=nested(outer=False, inner=inner)))
    assert result["newAccounts"]["httpStatusCode"] == 200
    assert result["newContact"]["httpStatusCode"] == 201
    assert account_names(api) == accounts


# -- /composite: envelope errors and limits -------------------------------------------------------


def test_twenty_five_subrequests_run_and_twenty_six_are_refused(api: Api) -> None:
    many = [create_account(f"a{i}", f"A{i:02d}") for i in range(26)]
    assert_top_level_error(composite(api, many), 400, "LIMIT_EXCEEDED")
    assert account_names(api) == []
    assert len(responses(composite(api, many[:25]))) == 25
    assert len(account_names(api)) == 25


def test_at_most_five_collections_or_queries(api: Api) -> None:
    heavy = [
        sub("GET", "/query?q=SELECT+Id+FROM+Account", "q1"),
        sub("GET", "/queryAll?q=SELECT+Id+FROM+Account", "q2"),
        sub("GET", "/composite/sobjects/Account?ids=001000000000000AAA&fields=Name", "c1"),
        sub(
            "POST",
            "/composite/sobjects",
            "c2",
            {"records": [{"attributes": {"type": "Account"}, "Name": "Five"}]},
        ),
        sub("GET", "/query/?q=SELECT+Id+FROM+Contact", "q3"),
    ]
    sixth = sub("PATCH", "/composite/sobjects", "c3", {"records": []})
    message = assert_top_level_error(composite(api, [*heavy, sixth]), 400, "LIMIT_EXCEEDED")
    assert "5" in message
    assert account_names(api) == []
    # Five are fine, alongside any number of other subrequests.
    result = responses(composite(api, [*heavy, create_account("plain", "Plain")]))
    assert len(result) == 6
    assert account_names(api) == ["Five", "Plain"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"referenceId": None}, "'referenceId' is a required field."),
        ({"method": "get"}, None),
        ({"method": "HEAD"}, None),
        ({"method": None}, "'method' is a required field."),
        ({"url": "/sobjects/Account"}, None),
        ({"url": "https://example.com/services/data/v62.0/sobjects/Account"}, None),
        ({"url": 42}, None),
        ({"httpHeaders": {"Authorization": "Bearer other"}}, None),
        ({"httpHeaders": {"Sforce-Auto-Assign": 1}}, None),
    ],
)
def test_a_malformed_subrequest_fails_the_whole_request(
    api: Api, change: dict[str, Any], message: str | None
) -> None:
    bad = {**create_account("bad", "Bad"), **change}
    bad = {k: v for k, v in bad.items() if v is not None}
    response = composite(api, [create_account("good", "Good"), bad])
    got = assert_top_level_error(response, 400, "JSON_PARSER_ERROR")
    if message is not None:
        assert got == message
    assert account_names(api) == []


@pytest.mark.parametrize(
    "body",
    [
        {"allOrNone": "true", "compositeRequest": [create_account("a", "A")]},
        {"collateSubrequests": 1, "compositeRequest": [create_account("a", "A")]},
        {"compositeRequest": []},
        {"compositeRequest": [create_account("a", "A"), "not an object"]},
        {"compositeRequest": [create_account("a", "A"), create_account("a", "B")]},
        {},
    ],
    ids=["allOrNone", "collate", "empty", "not-object", "duplicate-ref", "missing"],
)
def test_a_malformed_envelope_runs_nothing(api: Api, body: dict[str, Any]) -> None:
    assert_top_level_error(api.post("/composite", json=body), 400, "JSON_PARSER_ERROR")
    assert account_names(api) == []


def test_a_body_that_is_not_json_is_refused(api: Api) -> None:
    response = api.post("/composite", content=b"{not json")
    assert_top_level_error(response, 400, "JSON_PARSER_ERROR")


# -- /composite/batch ---------------------------------------------------------------------------


def batch(api: Api, requests: list[dict[str, Any]], **flags: Any) -> httpx.Response:
    return api.post("/composite/batch", json={"batchRequests": requests, **flags})


def batch_results(response: httpx.Response) -> tuple[bool, list[dict[str, Any]]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["hasErrors", "results"]
    assert all(set(r) == {"statusCode", "result"} for r in body["results"])
    return body["hasErrors"], body["results"]


def test_batch_update_then_read(api: Api) -> None:
    account_id = api.create("Account", Name="Old", BillingPostalCode="94105")
    has_errors, results = batch_results(
        batch(
            api,
            [
                {
                    "method": "PATCH",
                    "url": f"v62.0/sobjects/account/{account_id}",
                    "richInput": {"Name": "NewName"},
                },
                {
                    "method": "GET",
                    "url": f"v62.0/sobjects/account/{account_id}?fields=Name,BillingPostalCode",
                },
                {"method": "POST", "url": "v62.0/sobjects/Account/", "richInput": {"Name": "New"}},
                {"method": "GET", "url": "v62.0/query/?q=SELECT+COUNT()+FROM+Account"},
                {"method": "GET", "url": "v55.0/limits"},
            ],
        )
    )
    assert has_errors is False
    assert results[0] == {"statusCode": 204, "result": None}
    assert results[1]["statusCode"] == 200
    assert results[1]["result"] == {
        "attributes": {"type": "Account", "url": f"{BASE}/sobjects/Account/{account_id}"},
        "Name": "NewName",
        "BillingPostalCode": "94105",
        "Id": account_id,
    }
    assert results[2]["statusCode"] == 201 and results[2]["result"]["success"] is True
    assert results[3]["result"]["totalSize"] == 2
    assert "DailyApiRequests" in results[4]["result"]


def test_batch_subrequests_are_independent(api: Api) -> None:
    has_errors, results = batch_results(
        batch(
            api,
            [
                {"method": "POST", "url": "v62.0/sobjects/Account", "richInput": {"Name": "Kept"}},
                {"method": "POST", "url": "v62.0/sobjects/Account", "richInput": {}},
                {"method": "GET", "url": "v62.0/sobjects/Account/001000000000000AAA"},
                {"method": "POST", "url": "v62.0/sobjects/Account", "richInput": {"Name": "Too"}},
            ],
        )
    )
    assert has_errors is True
    assert [r["statusCode"] for r in results] == [201, 400, 404, 201]
    assert results[1]["result"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert account_names(api) == ["Kept", "Too"]


def test_halt_on_error_stops_after_the_first_failure(api: Api) -> None:
    has_errors, results = batch_results(
        batch(
            api,
            [
                {"method": "POST", "url": "v62.0/sobjects/Account", "richInput": {"Name": "Kept"}},
                {"method": "GET", "url": "v62.0/sobjects/Account/001000000000000AAA"},
                {"method": "POST", "url": "v62.0/sobjects/Account", "richInput": {"Name": "No"}},
                {"method": "GET", "url": "v62.0/limits"},
            ],
            haltOnError=True,
        )
    )
    assert has_errors is True
    assert [r["statusCode"] for r in results] == [201, 404, 412, 412]
    assert results[2]["result"] == results[3]["result"] == BATCH_HALTED
    assert account_names(api) == ["Kept"]


def test_batch_serves_no_collections_or_nested_composites(api: Api) -> None:
    _, results = batch_results(
        batch(
            api,
            [
                {"method": "GET", "url": "v62.0/composite/sobjects/Account?ids=x&fields=Name"},
                {"method": "POST", "url": "v62.0/composite", "richInput": {}},
            ],
        )
    )
    assert [r["statusCode"] for r in results] == [404, 404]


def test_each_executed_batch_subrequest_is_one_api_call(api: Api) -> None:
    before = usage(api.get("/limits"))
    reads = [{"method": "GET", "url": "v62.0/limits"}] * 3
    batch_results(batch(api, reads))
    after_three = usage(api.get("/limits"))
    assert after_three == before + 1 + 3
    failing = [{"method": "GET", "url": "v62.0/sobjects/Account/001000000000000AAA"}, *reads]
    batch_results(batch(api, failing, haltOnError=True))
    # Halted subrequests never ran and are not counted.
    assert usage(api.get("/limits")) == after_three + 1 + 1


def test_batch_subrequests_over_the_daily_limit_are_refused(api: Api, org: Org) -> None:
    used = usage(api.get("/limits"))
    org.config = OrgConfig(daily_api_limit=used + 2)
    # The batch request itself (and with it the first subrequest) is call used+1.
    _, results = batch_results(batch(api, [{"method": "GET", "url": "v62.0/limits"}] * 4))
    assert [r["statusCode"] for r in results] == [200, 200, 403, 403]
    assert results[2]["result"][0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


@pytest.mark.parametrize(
    "request_item",
    [
        {"method": "GET", "url": "/services/data/v62.0/limits"},
        {"method": "GET", "url": "v63.0/limits"},
        {"method": "GET", "url": "v33.0/limits"},
        {"method": "get", "url": "v62.0/limits"},
        {"method": "GET"},
        {"method": "GET", "url": "v62.0/limits", "binaryPartName": "file"},
    ],
    ids=["absolute-url", "newer-than-batch", "before-34", "lowercase-method", "no-url", "binary"],
)
def test_a_malformed_batch_runs_nothing(api: Api, request_item: dict[str, Any]) -> None:
    create = {"method": "POST", "url": "v62.0/sobjects/Account", "richInput": {"Name": "No"}}
    response = batch(api, [create, request_item])
    assert_top_level_error(response, 400, "JSON_PARSER_ERROR")
    assert account_names(api) == []


def test_batch_limits_and_flags(api: Api) -> None:
    read = {"method": "GET", "url": "v62.0/limits"}
    assert_top_level_error(batch(api, [read] * 26), 400, "LIMIT_EXCEEDED")
    assert_top_level_error(batch(api, [read], haltOnError="yes"), 400, "JSON_PARSER_ERROR")
    assert_top_level_error(batch(api, []), 400, "JSON_PARSER_ERROR")
    assert len(batch_results(batch(api, [read] * 25))[1]) == 25
    assert_top_level_error(api.get("/composite/batch"), 405, "METHOD_NOT_ALLOWED")
