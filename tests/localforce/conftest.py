"""Fixtures for localforce's conformance tests: an org, its HTTP API, and a signed-in client.

Every test talks HTTP to `create_app(org)` through Starlette's TestClient: the production code
path, without a network.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from simple_salesforce import Salesforce

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient nudges towards httpx2
    from starlette.testclient import TestClient

from localforce import oauth
from localforce.app import create_app
from localforce.bootstrap import Credentials, bootstrap
from localforce.org import Org
from localforce.server import Listener, free_port, serving_in_thread
from localforce.tls import ensure_certificate

API_VERSION = "62.0"
BASE = f"/services/data/v{API_VERSION}"


class Api:
    """A TestClient bound to an access token and an API version, with short helpers."""

    def __init__(self, client: TestClient, token: str, version: str = API_VERSION) -> None:
        self.client = client
        self.token = token
        self.base = f"/services/data/v{version}"

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        url = path if path.startswith("/services") else self.base + path
        return self.client.request(method, url, headers=self.headers(kw.pop("headers", None)), **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)

    def create(self, sobject: str, **fields: Any) -> str:
        response = self.post(f"/sobjects/{sobject}", json=fields)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def query(self, soql: str, **kw: Any) -> httpx.Response:
        return self.get("/query", params={"q": soql}, **kw)

    def query_all_records(self, soql: str) -> list[dict[str, Any]]:
        response = self.query(soql)
        assert response.status_code == 200, response.text
        body = response.json()
        records = list(body["records"])
        while not body["done"]:
            response = self.get(body["nextRecordsUrl"])
            assert response.status_code == 200, response.text
            body = response.json()
            records += body["records"]
        return records


@dataclass(frozen=True)
class HttpsOrg:
    """An org served by a real uvicorn server over HTTPS, and a token for its admin."""

    base: str
    cert: Path
    org: Org
    token: str


def trusting_session(cert: Path) -> requests.Session:
    """A requests session that trusts the org's self-signed certificate."""
    session = requests.Session()
    # requests lets REQUESTS_CA_BUNDLE override `session.verify`; ignore the environment.
    session.trust_env = False
    session.verify = str(cert)
    return session


@pytest.fixture(scope="module")
def https_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsOrg]:
    """For stock clients, which hard-code https: one server per test module."""
    data = tmp_path_factory.mktemp("org")
    cert, key = ensure_certificate(data)
    org = Org.open(data)
    creds = bootstrap(org)
    assert creds is not None
    listener = Listener(
        app=create_app(org), host="127.0.0.1", port=free_port(), certfile=cert, keyfile=key
    )
    with serving_in_thread(listener) as base, trusting_session(cert) as session:
        token = session.post(
            f"{base}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": creds.app.client_id,
                "client_secret": creds.app.client_secret,
                "username": creds.username,
                "password": creds.password,
            },
            timeout=10,
        ).json()
        try:
            yield HttpsOrg(base, cert, org, token["access_token"])
        finally:
            org.close()


@pytest.fixture
def sf(https_org: HttpsOrg) -> Iterator[Salesforce]:
    """simple-salesforce, unchanged, signed in to the HTTPS org."""
    # Closed afterwards: uvicorn's shutdown waits for idle keep-alive connections.
    with trusting_session(https_org.cert) as session:
        yield Salesforce(
            instance_url=https_org.base, session_id=https_org.token, session=session,
            version="62.0",
        )  # fmt: skip


@pytest.fixture
def org(tmp_path: Path) -> Iterator[Org]:
    org = Org.open(tmp_path / "org")
    yield org
    org.close()


@pytest.fixture
def creds(org: Org) -> Credentials:
    created = bootstrap(org)
    assert created is not None
    return created


@pytest.fixture
def client(org: Org, creds: Credentials) -> Iterator[TestClient]:
    with TestClient(create_app(org)) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient, org: Org, creds: Credentials) -> Api:
    return Api(client, oauth.issue_session(org, creds.user_id, creds.app.client_id))


@pytest.fixture
def grant_admin(api: Api, org: Org, creds: Credentials) -> Callable[[str], None]:
    """Grant read and edit on `Object.Field__c` to the System Administrator profile, over REST."""
    profile_set = org.conn.execute(
        'SELECT ps."Id" FROM "PermissionSet" ps JOIN "Profile" p ON p."Id" = ps."ProfileId" '
        "WHERE p.\"Name\" = 'System Administrator'"
    ).fetchone()[0]

    def grant(qualified: str) -> None:
        response = api.post("/sobjects/FieldPermissions", json={
            "ParentId": profile_set, "SobjectType": qualified.partition(".")[0],
            "Field": qualified, "PermissionsRead": True, "PermissionsEdit": True,
        })  # fmt: skip
        assert response.status_code == 201, response.text

    return grant
