"""The admin API's gate: the org's admin token, and calls that are not API calls."""

from __future__ import annotations

from localforce.admin_api import admin_token
from localforce.org import Org

from .conftest import Api


def test_admin_calls_need_the_admin_token(api: Api, org: Org) -> None:
    assert api.client.get("/_localforce/org").status_code == 401
    wrong = api.client.get("/_localforce/org", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    # An org access token is not an admin token.
    assert api.client.get("/_localforce/org", headers=api.headers()).status_code == 401
    token = admin_token(org)
    for headers in ({"Authorization": f"Bearer {token}"}, {"X-Localforce-Admin-Token": token}):
        response = api.client.get("/_localforce/org", headers=headers)
        assert response.status_code == 200
        assert response.json()["organization_id"].startswith("00D")


def test_admin_calls_are_not_counted_as_api_calls(api: Api, org: Org) -> None:
    headers = {"Authorization": f"Bearer {admin_token(org)}"}
    before = api.client.get("/_localforce/org", headers=headers).json()["api_usage"]
    api.client.get("/_localforce/org", headers=headers)
    assert api.client.get("/_localforce/org", headers=headers).json()["api_usage"] == before
