"""simple-salesforce, unchanged, against the org's HTTPS port.

simple-salesforce hard-codes `https://` and verifies certificates with `requests`, so this runs a
real uvicorn server with the org's self-signed certificate, and hands the client a
`requests.Session` that trusts it. The access token comes from the OAuth password grant, as any
integration would obtain it.
"""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from .conftest import HttpsOrg, trusting_session


def test_create_read_update_delete(sf: Salesforce) -> None:
    created = sf.Account.create({"Name": "Simple Co", "Website": "https://simple.example"})
    assert created["success"] is True and created["id"].startswith("001")
    record = sf.Account.get(created["id"])
    assert record["Name"] == "Simple Co" and record["attributes"]["type"] == "Account"
    assert sf.Account.update(created["id"], {"Industry": "Technology"}) == 204
    assert sf.Account.get(created["id"])["Industry"] == "Technology"
    assert sf.Account.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as deleted:
        sf.Account.get(created["id"])
    assert deleted.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_upsert_and_get_by_custom_id(sf: Salesforce) -> None:
    lead = sf.Lead.create({"LastName": "Upsert", "Company": "U", "Email": "u@simple.example"})
    assert sf.Lead.upsert("Email/u@simple.example", {"Title": "CTO"}) == 200
    assert sf.Lead.get(lead["id"])["Title"] == "CTO"


def test_describe(sf: Salesforce) -> None:
    described = sf.Lead.describe()
    fields = {f["name"]: f for f in described["fields"]}
    assert fields["Company"]["nillable"] is False and fields["Email"]["type"] == "email"
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Account", "Contact", "Lead", "Opportunity", "Task", "Campaign"} <= names


def test_query_all_follows_next_records_url(sf: Salesforce) -> None:
    for start in range(0, 2300, 200):
        records = [
            {"attributes": {"type": "Contact"}, "LastName": f"Page {i}"}
            for i in range(start, min(start + 200, 2300))
        ]
        results = sf.restful("composite/sobjects", method="POST", json={"records": records})
        assert all(r["success"] for r in results)
    first = sf.query("SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Page %'")
    assert first["done"] is False and len(first["records"]) == 2000
    everything = sf.query_all("SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Page %'")
    assert everything["totalSize"] == 2300 and len(everything["records"]) == 2300
    assert len({r["Id"] for r in everything["records"]}) == 2300


def test_required_field_missing_maps_to_malformed_request(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Lead.create({"LastName": "No company"})
    assert raised.value.status == 400
    assert raised.value.content == [
        {
            "message": "Required fields are missing: [Company]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["Company"],
        }
    ]


def test_bad_query_maps_to_malformed_request(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Nope FROM Lead")
    assert raised.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_expired_session(https_org: HttpsOrg) -> None:
    with trusting_session(https_org.cert) as session:
        stale = Salesforce(
            instance_url=https_org.base,
            session_id="00Dbogus!token",
            session=session,
            version="62.0",
        )
        with pytest.raises(SalesforceExpiredSession):
            stale.Lead.describe()


def test_api_usage_is_parsed(sf: Salesforce) -> None:
    sf.query("SELECT Id FROM Lead LIMIT 1")
    used, limit = sf.api_usage["api-usage"]
    assert 0 < used <= limit
