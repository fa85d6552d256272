"""simple-salesforce, unchanged, against the org's HTTPS port.

simple-salesforce hard-codes `https://` and verifies certificates with `requests`, so this runs a
real uvicorn server with the org's self-signed certificate, and hands the client a
`requests.Session` that trusts it. The access token comes from the OAuth password grant, as any
integration would obtain it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from localforce import Org, bootstrap, create_app
from localforce.server import Listener, free_port, serving_in_thread
from localforce.tls import ensure_certificate


@dataclass(frozen=True)
class Running:
    base: str
    cert: Path
    org: Org
    token: str


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data = tmp_path_factory.mktemp("org")
    cert, key = ensure_certificate(data)
    org = Org.open(data)
    creds = bootstrap(org)
    assert creds is not None
    listener = Listener(
        app=create_app(org), host="127.0.0.1", port=free_port(), certfile=cert, keyfile=key
    )
    with serving_in_thread(listener) as base:
        token = requests.post(
            f"{base}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": creds.app.client_id,
                "client_secret": creds.app.client_secret,
                "username": creds.username,
                "password": creds.password,
            },
            verify=str(cert),
            timeout=10,
        ).json()
        try:
            yield Running(base, cert, org, token["access_token"])
        finally:
            org.close()


def _trusting_session(cert: Path) -> requests.Session:
    session = requests.Session()
    # requests lets REQUESTS_CA_BUNDLE override `session.verify`; ignore the environment.
    session.trust_env = False
    session.verify = str(cert)
    return session


@pytest.fixture
def sf(running: Running) -> Iterator[Salesforce]:
    # Closed sessions let uvicorn shut down without waiting on idle keep-alive connections.
    with _trusting_session(running.cert) as session:
        yield Salesforce(
            instance_url=running.base, session_id=running.token, session=session, version="62.0"
        )


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


def test_expired_session(running: Running) -> None:
    with _trusting_session(running.cert) as session:
        stale = Salesforce(
            instance_url=running.base, session_id="00Dbogus!token", session=session, version="62.0"
        )
        with pytest.raises(SalesforceExpiredSession):
            stale.Lead.describe()


def test_api_usage_is_parsed(sf: Salesforce) -> None:
    sf.query("SELECT Id FROM Lead LIMIT 1")
    used, limit = sf.api_usage["api-usage"]
    assert 0 < used <= limit
