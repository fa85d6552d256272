"""Behaviour every REST resource shares: method override, HEAD, pretty printing, content type."""

from __future__ import annotations

from .conftest import Api


def test_http_method_override_on_post(api: Api) -> None:
    lead = api.create("Lead", LastName="Doe", Company="Acme")
    response = api.post(f"/sobjects/Lead/{lead}?_HttpMethod=PATCH", json={"Title": "CTO"})
    assert response.status_code == 204
    assert api.get(f"/sobjects/Lead/{lead}").json()["Title"] == "CTO"


def test_head_answers_without_a_body(api: Api) -> None:
    lead = api.create("Lead", LastName="Doe", Company="Acme")
    response = api.request("HEAD", f"/sobjects/Lead/{lead}")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["sforce-limit-info"].startswith("api-usage=")


def test_pretty_print_is_cosmetic(api: Api) -> None:
    plain = api.get("/limits")
    pretty = api.get("/limits", headers={"X-PrettyPrint": "1"})
    assert b"\n" in pretty.content and b"\n" not in plain.content
    assert pretty.json()["DailyApiRequests"]["Max"] == plain.json()["DailyApiRequests"]["Max"]


def test_versions_list_content_type(api: Api) -> None:
    response = api.client.get("/services/data/")
    assert response.headers["content-type"] == "application/json;charset=UTF-8"


def test_query_rejects_other_methods_like_salesforce(api: Api) -> None:
    response = api.post("/query", params={"q": "SELECT Id FROM Lead"})
    assert response.status_code == 405
    assert response.json()[0]["message"].startswith("HTTP Method 'POST' not allowed.")
