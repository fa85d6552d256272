"""An admin-API client for the automation tests: rules in, lead conversions out."""

from __future__ import annotations

from typing import Any

import httpx

from localforce.admin_api import admin_token
from localforce.org import Org

from .conftest import Api


class Admin:
    """Calls `/_localforce/...` with the org's admin token through the test client."""

    def __init__(self, api: Api, org: Org) -> None:
        self.client = api.client
        self.headers = {"Authorization": f"Bearer {admin_token(org)}"}

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.client.request(method, "/_localforce" + path, headers=self.headers, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def delete(self, path: str) -> httpx.Response:
        return self.request("DELETE", path)

    def rule(self, kind: str, **definition: Any) -> dict[str, Any]:
        """Create a rule (`kind` is validation, duplicate or assignment); returns its JSON."""
        response = self.post(f"/automation/{kind}-rules", json=definition)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def convert(self, lead_id: str, **options: Any) -> httpx.Response:
        return self.post(f"/leads/{lead_id}/convert", json=options)
