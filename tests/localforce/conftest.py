"""Fixtures for localforce's conformance tests: an org, its HTTP API, and a signed-in client.

Every test talks HTTP to `create_app(org)` through Starlette's TestClient: the production code
path, without a network.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient nudges towards httpx2
    from starlette.testclient import TestClient

from localforce import oauth
from localforce.app import create_app
from localforce.bootstrap import Credentials, bootstrap
from localforce.org import Org

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
