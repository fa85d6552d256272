"""Duplicate rules over HTTP: DUPLICATES_DETECTED bodies, block and alert, the allowSave header."""

from __future__ import annotations

import sqlite3

import pytest

from localforce.automation import DuplicatesDetected, hooks
from localforce.automation.duplicates import normalize_domain
from localforce.automation.rules import DuplicateRule
from localforce.automation.store import create_rule
from localforce.bootstrap import Credentials
from localforce.dml import Dml, WriteOptions
from localforce.org import Org

from .automation_support import Admin
from .conftest import Api

ALLOW_SAVE = {"Sforce-Duplicate-Rule-Header": "allowSave=true; includeRecordDetails=true"}


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("acme.com", "acme.com"),
        ("https://www.Acme.com/about?x=1#top", "acme.com"),
        ("http://WWW.ACME.COM:8080", "acme.com"),
        ("//www.acme.com/", "acme.com"),
        ("  https://user:pw@shop.acme.co.uk/path  ", "shop.acme.co.uk"),
        ("acme.com.", "acme.com"),
        ("www2.acme.com", "www2.acme.com"),
        ("https://", None),
        ("", None),
    ],
)
def test_normalize_domain(website: str, domain: str | None) -> None:
    assert normalize_domain(website) == domain


def test_a_block_rule_answers_with_the_captured_duplicate_result(api: Api, org: Org) -> None:
    Admin(api, org).rule(
        "duplicate",
        object="Account",
        name="Account_Domain",
        matchFields=["Website"],
        errorMessage="An account with this website exists.",
    )
    first = api.create("Account", Name="Acme", Website="https://www.acme.com/")
    response = api.post("/sobjects/Account", json={"Name": "Acme 2", "Website": "ACME.com"})
    assert response.status_code == 400
    body = response.json()
    record = body[0]["duplicateResult"]["matchResults"][0]["matchRecords"][0]["record"]
    # The URL's version is the request's once the REST pipeline passes it to the write
    # (WriteOptions.api_version); the org's latest otherwise.
    url = record["attributes"].pop("url")
    assert url.startswith("/services/data/v") and url.endswith(f".0/sobjects/Account/{first}")
    assert body == [
        {
            "duplicateResult": {
                "allowSave": False,
                "duplicateRule": "Account_Domain",
                "duplicateRuleEntityType": "Account",
                "errorMessage": "An account with this website exists.",
                "matchResults": [
                    {
                        "entityType": "Account",
                        "errors": [],
                        "matchEngine": "FuzzyMatchEngine",
                        "matchRecords": [
                            {
                                "additionalInformation": [],
                                "fieldDiffs": [],
                                "matchConfidence": 100.0,
                                "record": {"attributes": {"type": "Account"}, "Id": first},
                            }
                        ],
                        "rule": "Standard_Account_Match_Rule_v1_0",
                        "size": 1,
                        "success": True,
                    }
                ],
            },
            "errorCode": "DUPLICATES_DETECTED",
            "message": "An account with this website exists.",
        }
    ]
    # A block rule ignores allowSave, and only the domain counts.
    blocked = api.post(
        "/sobjects/Account", json={"Name": "X", "Website": "acme.com/shop"}, headers=ALLOW_SAVE
    )
    assert blocked.json()[0]["errorCode"] == "DUPLICATES_DETECTED"
    api.create("Account", Name="Acme Labs", Website="acmelabs.com")
    api.create("Account", Name="Shop", Website="shop.acme.com")
    api.create("Account", Name="No site")


def test_an_alert_rule_is_bypassed_with_allow_save(api: Api, org: Org) -> None:
    Admin(api, org).rule(
        "duplicate", object="Contact", name="Contact_Email", action="alert",
        matchFields=["Email"],
    )  # fmt: skip
    first = api.create("Contact", LastName="Doe", Email="Jane.Doe@Example.com")
    response = api.post(
        "/sobjects/Contact", json={"LastName": "Doe", "Email": "jane.doe@example.com"}
    )
    assert response.status_code == 400
    body = response.json()[0]
    assert body["errorCode"] == "DUPLICATES_DETECTED"
    assert body["message"] == "Use one of these records?"
    result = body["duplicateResult"]
    assert result["allowSave"] is True
    assert result["matchResults"][0]["matchEngine"] == "ExactMatchEngine"
    assert result["matchResults"][0]["rule"] == "Standard_Contact_Match_Rule_v1_1"
    assert [m["record"]["Id"] for m in result["matchResults"][0]["matchRecords"]] == [first]
    second = api.post(
        "/sobjects/Contact",
        json={"LastName": "Doe", "Email": "jane.doe@example.com"},
        headers=ALLOW_SAVE,
    )
    assert second.status_code == 201
    records = api.query_all_records("SELECT Id FROM Contact WHERE Email = 'jane.doe@example.com'")
    assert len(records) == 2


def test_collections_carry_only_status_message_and_fields(api: Api, org: Org) -> None:
    Admin(api, org).rule("duplicate", object="Lead", name="Lead_Email", matchFields=["Email"])
    api.create("Lead", LastName="Doe", Company="Acme", Email="doe@acme.com")
    response = api.post(
        "/composite/sobjects",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Lead"}, "LastName": "A", "Company": "B",
                 "Email": "DOE@acme.com"},
                {"attributes": {"type": "Lead"}, "LastName": "C", "Company": "D",
                 "Email": "other@acme.com"},
            ],
        },
    )  # fmt: skip
    duplicate, fresh = response.json()
    assert duplicate == {
        "success": False,
        "errors": [
            {"statusCode": "DUPLICATES_DETECTED", "message": "Use one of these records?",
             "fields": []}
        ],
    }  # fmt: skip
    assert fresh["success"] is True


def test_name_and_website_must_both_match(api: Api, org: Org) -> None:
    Admin(api, org).rule(
        "duplicate", object="Account", name="Name_And_Site", matchFields=["Name", "Website"]
    )
    api.create("Account", Name="Acme", Website="acme.com")
    api.create("Account", Name="Acme", Website="acme.org")
    api.create("Account", Name="Other", Website="acme.com")
    response = api.post("/sobjects/Account", json={"Name": " ACME ", "Website": "www.acme.com"})
    assert response.json()[0]["errorCode"] == "DUPLICATES_DETECTED"


def test_lead_rules_can_search_contacts_too(api: Api, org: Org) -> None:
    Admin(api, org).rule(
        "duplicate",
        object="Lead",
        name="Lead_Email_Everywhere",
        matchFields=["Email"],
        matchObjects=["Lead", "Contact"],
        matchingRules={"contact": "Contact_By_Email"},
    )
    contact = api.create("Contact", LastName="Doe", Email="doe@acme.com")
    response = api.post(
        "/sobjects/Lead", json={"LastName": "Doe", "Company": "Acme", "Email": "doe@acme.com"}
    )
    [match] = response.json()[0]["duplicateResult"]["matchResults"]
    assert match["entityType"] == "Contact"
    assert match["rule"] == "Contact_By_Email"
    assert match["matchRecords"][0]["record"]["attributes"]["type"] == "Contact"
    assert match["matchRecords"][0]["record"]["Id"] == contact


def test_update_rules_exclude_the_record_itself(api: Api, org: Org) -> None:
    Admin(api, org).rule(
        "duplicate", object="Contact", name="Email_On_Edit", matchFields=["Email"],
        onCreate=False, onUpdate=True,
    )  # fmt: skip
    first = api.create("Contact", LastName="A", Email="a@acme.com")
    second = api.create("Contact", LastName="B", Email="a@acme.com")  # create is not checked
    assert api.patch(f"/sobjects/Contact/{first}", json={"Title": "x"}).status_code == 400
    api.delete(f"/sobjects/Contact/{second}")
    # Deleted records do not match, and the record never matches itself.
    assert api.patch(f"/sobjects/Contact/{first}", json={"Title": "x"}).status_code == 204


def test_a_condition_limits_when_the_rule_runs(api: Api, org: Org) -> None:
    Admin(api, org).rule(
        "duplicate", object="Lead", name="Web_Leads_Only", matchFields=["Email"],
        condition="ISPICKVAL(LeadSource, 'Web')",
    )  # fmt: skip
    api.create("Lead", LastName="A", Company="Acme", Email="a@acme.com")
    api.create("Lead", LastName="B", Company="Acme", Email="a@acme.com", LeadSource="Phone Inquiry")
    response = api.post(
        "/sobjects/Lead",
        json={"LastName": "C", "Company": "Acme", "Email": "a@acme.com", "LeadSource": "Web"},
    )
    assert response.json()[0]["errorCode"] == "DUPLICATES_DETECTED"


def test_domain_matching_uses_an_index_not_a_scan(api: Api, org: Org) -> None:
    Admin(api, org).rule("duplicate", object="Account", name="Domain", matchFields=["Website"])
    api.create("Account", Name="Acme", Website="acme.com")
    statements: list[str] = []
    org.conn.set_trace_callback(statements.append)
    try:
        api.post("/sobjects/Account", json={"Name": "Acme 2", "Website": "www.acme.com"})
    finally:
        org.conn.set_trace_callback(None)
    searches = [s for s in statements if s.startswith('SELECT t."Id"')]
    assert searches
    plan = " | ".join(str(row[3]) for s in searches for row in _explain(org.conn, s))
    assert "SCAN t" not in plan
    assert "_lf_trigram_Account_Website" in plan


def _explain(conn: sqlite3.Connection, statement: str) -> list[tuple[object, ...]]:
    return list(conn.execute("EXPLAIN QUERY PLAN " + statement).fetchall())


def test_email_matching_uses_the_email_index(api: Api, org: Org) -> None:
    Admin(api, org).rule("duplicate", object="Lead", name="Email", matchFields=["Email"])
    statements: list[str] = []
    org.conn.set_trace_callback(statements.append)
    try:
        api.post("/sobjects/Lead", json={"LastName": "A", "Company": "B", "Email": "a@b.com"})
    finally:
        org.conn.set_trace_callback(None)
    [search] = [s for s in statements if s.startswith('SELECT t."Id"')]
    plan = " | ".join(str(row[3]) for row in _explain(org.conn, search))
    assert "USING INDEX ix_Lead_Email" in plan


def test_match_record_urls_carry_the_write_api_version(org: Org, creds: Credentials) -> None:
    rule = DuplicateRule(object="Account", name="Domain", match_fields=("Website",))
    create_rule(org, rule)
    dml = Dml(org, before_save=hooks(org))
    account = org.object("Account")
    assert account is not None
    first = dml.insert(account, {"Name": "Acme", "Website": "acme.com"},
                       WriteOptions(user_id=creds.user_id))  # fmt: skip
    with pytest.raises(DuplicatesDetected) as caught:
        dml.insert(account, {"Name": "Acme", "Website": "acme.com"},
                   WriteOptions(user_id=creds.user_id, api_version="58.0"))  # fmt: skip
    [match] = caught.value.extra["duplicateResult"]["matchResults"]
    url = match["matchRecords"][0]["record"]["attributes"]["url"]
    assert url == f"/services/data/v58.0/sobjects/Account/{first}"
