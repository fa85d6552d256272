"""The automation admin API: rule CRUD, activation, clear 4xx answers, persistence."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from localforce import oauth
from localforce.app import create_app
from localforce.automation import register_predicate
from localforce.automation.rules import RuleKind
from localforce.bootstrap import Credentials
from localforce.org import Org

from .automation_support import Admin
from .conftest import Api

KINDS = {
    "validation": {
        "object": "Lead",
        "name": "Needs_Email",
        "errorConditionFormula": "ISBLANK(Email)",
        "errorMessage": "Email is required",
    },
    "duplicate": {"object": "Lead", "name": "Lead_Email", "matchFields": ["Email"]},
    "assignment": {"name": "Everything", "entries": [{"criteria": None, "ownerId": ""}]},
}


@pytest.fixture
def definitions(api: Api, creds: object) -> dict[str, dict[str, object]]:
    user = api.query_all_records("SELECT Id FROM User")[0]["Id"]
    assignment = {**KINDS["assignment"], "entries": [{"criteria": None, "ownerId": user}]}
    return {**KINDS, "assignment": assignment}


@pytest.mark.parametrize("kind", list(KINDS))
def test_rule_lifecycle(
    api: Api, org: Org, kind: str, definitions: dict[str, dict[str, object]]
) -> None:
    admin = Admin(api, org)
    base = f"/automation/{kind}-rules"
    created = admin.rule(kind, **definitions[kind])
    assert created["active"] is True
    assert created["id"].startswith(RuleKind(kind).key_prefix)
    assert len(created["id"]) == 18
    assert admin.get(f"{base}/{created['id']}").json() == created
    assert admin.get(base).json() == {"rules": [created]}
    assert admin.get(base, params={"object": "lead"}).json() == {"rules": [created]}
    assert admin.get(base, params={"object": "Account"}).json() == {"rules": []}
    deactivated = admin.post(f"{base}/{created['id']}/deactivate").json()
    assert deactivated == {**created, "active": False}
    assert admin.post(f"{base}/{created['id']}/activate").json() == created
    clash = admin.post(base, json={**definitions[kind], "name": str(created["name"]).lower()})
    assert clash.status_code == 409
    assert admin.delete(f"{base}/{created['id']}").status_code == 204
    for response in (
        admin.get(f"{base}/{created['id']}"),
        admin.delete(f"{base}/{created['id']}"),
        admin.post(f"{base}/{created['id']}/activate"),
        admin.get(f"{base}/garbage"),
    ):
        assert response.status_code == 404
        assert response.json()["error"].startswith(f"no {kind} rule")


def test_rule_names_are_canonicalised(api: Api, org: Org) -> None:
    rule = Admin(api, org).rule(
        "duplicate", object="account", name="Domain", matchFields=["WEBSITE", "name"]
    )
    assert (rule["object"], rule["matchFields"], rule["matchObjects"]) == (
        "Account", ["Website", "Name"], ["Account"]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "body", "error"),
    [
        ("validation", {"object": "Lead", "name": "X", "errorMessage": "m"},
         "give exactly one of errorConditionFormula and predicate"),
        ("validation", {"object": "Nope", "name": "X", "errorMessage": "m",
                        "errorConditionFormula": "TRUE"}, "no sObject named Nope"),
        ("validation", {"object": "Lead", "name": "X", "errorMessage": "m",
                        "errorConditionFormula": "TRUE", "errorDisplayField": "Nope"},
         "errorDisplayField: Lead has no field Nope"),
        ("validation", {"object": "Lead", "name": "X", "errorConditionFormula": "TRUE"},
         "errorMessage is required"),
        ("validation", {"object": "Lead", "name": " ", "errorMessage": "m",
                        "errorConditionFormula": "TRUE"}, "name must not be empty"),
        ("validation", {"object": "Lead", "name": "X", "errorMessage": "m",
                        "errorConditionFormula": "TRUE", "activ": True}, "unknown field activ"),
        ("validation", {"object": "Lead", "name": "X", "errorMessage": "m",
                        "errorConditionFormula": "TRUE", "active": "yes"},
         "active must be true or false"),
        ("duplicate", {"object": "Opportunity", "name": "X", "matchFields": ["Name"]},
         "duplicate rules apply to Account, Contact, Lead, not Opportunity"),
        ("duplicate", {"object": "Account", "name": "X", "matchFields": ["Phone"]},
         "matchFields: Account matches on Website, Name, not Phone"),
        ("duplicate", {"object": "Account", "name": "X", "matchFields": []},
         "matchFields must name at least one field"),
        ("duplicate", {"object": "Lead", "name": "X", "matchFields": ["Email"],
                       "matchObjects": ["Account"]},
         "matchObjects: Account cannot be matched on Email"),
        ("duplicate", {"object": "Lead", "name": "X", "matchFields": ["Email"],
                       "matchingRules": {"Contact": "R"}},
         "matchingRules: Contact is not one of matchObjects"),
        ("duplicate", {"object": "Lead", "name": "X", "matchFields": ["Email"],
                       "action": "warn"}, "action must be 'block' or 'alert'"),
        ("duplicate", {"object": "Lead", "name": "X", "matchFields": ["Email"],
                       "onCreate": False}, "must run on create, on update or both"),
        ("assignment", {"name": "X", "entries": []}, "needs at least one entry"),
        ("assignment", {"name": "X", "entries": ["x"]}, "entries[0] must be an object"),
        ("assignment", {"name": "X", "entries": [{"owner": "x"}]},
         "unknown field entries[0].owner"),
    ],
)  # fmt: skip
def test_bad_rules_get_a_400_that_says_why(
    api: Api, org: Org, kind: str, body: dict[str, object], error: str
) -> None:
    response = Admin(api, org).post(f"/automation/{kind}-rules", json=body)
    assert response.status_code == 400, response.text
    assert error in response.json()["error"]


def test_formula_errors_carry_their_position(api: Api, org: Org) -> None:
    response = Admin(api, org).post(
        "/automation/validation-rules",
        json={"object": "Lead", "name": "X", "errorMessage": "m",
              "errorConditionFormula": "ISBLANK(Email) && LEN(Nope) > 1"},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {
        "error": "errorConditionFormula: field Nope does not exist on Lead",
        "position": 22,
    }
    duplicate = Admin(api, org).post(
        "/automation/duplicate-rules",
        json={"object": "Lead", "name": "X", "matchFields": ["Email"], "condition": "(("},
    )
    assert duplicate.json()["position"] == 2


def test_bodies_must_be_json_objects_without_ids(api: Api, org: Org) -> None:
    admin = Admin(api, org)
    assert admin.post("/automation/validation-rules", content=b"{").status_code == 400
    assert admin.post("/automation/validation-rules", json=[]).status_code == 400
    with_id = admin.post("/automation/duplicate-rules", json={**KINDS["duplicate"], "id": "x"})
    assert with_id.status_code == 400
    assert "id is assigned by the org" in with_id.json()["error"]


def test_automation_admin_needs_the_admin_token(api: Api, org: Org) -> None:
    assert api.client.get("/_localforce/automation/validation-rules").status_code == 401
    response = api.client.post(
        "/_localforce/leads/00Q000000000000EAA/convert", headers=api.headers(), json={}
    )
    assert response.status_code == 401


def test_rules_persist_but_predicates_are_per_process(
    api: Api, org: Org, creds: Credentials, tmp_path: Path
) -> None:
    register_predicate(org, "Lead", "always", lambda record, old: True)
    rule = Admin(api, org).rule(
        "validation", object="Lead", name="Always", predicate="always", errorMessage="no"
    )
    assert rule["predicateRegistered"] is True
    assert api.post("/sobjects/Lead", json={"LastName": "A", "Company": "B"}).status_code == 400
    # Another process opening the same org sees the rule, but not the Python predicate: the
    # rule does not fire there, and its admin API says so.
    other = Org.open(tmp_path / "org")
    try:
        with TestClient(create_app(other)) as client:
            other_api = Api(client, oauth.issue_session(other, creds.user_id, creds.app.client_id))
            [listed] = Admin(other_api, other).get("/automation/validation-rules").json()["rules"]
            assert listed == {**rule, "predicateRegistered": False}
            other_api.create("Lead", LastName="A", Company="B")
    finally:
        other.close()
