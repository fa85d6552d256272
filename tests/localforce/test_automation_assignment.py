"""Lead assignment rules over HTTP, and the Sforce-Auto-Assign header."""

from __future__ import annotations

import pytest

from localforce.automation import hooks
from localforce.automation.rules import AssignmentEntry, AssignmentRule
from localforce.automation.store import create_rule
from localforce.bootstrap import Credentials, create_user
from localforce.dml import Dml, WriteOptions
from localforce.org import Org

from .automation_support import Admin
from .conftest import Api

NO_ASSIGN = {"Sforce-Auto-Assign": "FALSE"}


@pytest.fixture
def reps(org: Org, creds: Credentials) -> dict[str, str]:
    return {
        name: create_user(org, username=f"{name}@localforce.test", last_name=name.title())
        for name in ("emea", "us", "fallback")
    }


def _owner(api: Api, lead_id: str) -> str:
    return str(api.get(f"/sobjects/Lead/{lead_id}").json()["OwnerId"])


def _routing_rule(admin: Admin, reps: dict[str, str], **extra: object) -> dict[str, object]:
    return admin.rule(
        "assignment",
        name="Lead_Routing",
        entries=[
            {"criteria": "Country = 'Germany' || Country = 'France'", "ownerId": reps["emea"]},
            {"criteria": "Country = 'USA'", "ownerId": reps["us"]},
            {"criteria": None, "ownerId": reps["fallback"]},
        ],
        **extra,
    )


def test_the_first_matching_entry_owns_a_new_lead(
    api: Api, org: Org, creds: Credentials, reps: dict[str, str]
) -> None:
    _routing_rule(Admin(api, org), reps)
    germany = api.create("Lead", LastName="A", Company="X", Country="Germany")
    usa = api.create("Lead", LastName="B", Company="X", Country="USA")
    elsewhere = api.create("Lead", LastName="C", Company="X", Country="Chile")
    assert _owner(api, germany) == reps["emea"]
    assert _owner(api, usa) == reps["us"]
    assert _owner(api, elsewhere) == reps["fallback"]


def test_assignment_overrides_a_given_owner_unless_the_header_says_false(
    api: Api, org: Org, creds: Credentials, reps: dict[str, str]
) -> None:
    _routing_rule(Admin(api, org), reps)
    given = {"LastName": "A", "Company": "X", "Country": "USA", "OwnerId": creds.user_id}
    assigned = api.post("/sobjects/Lead", json=given).json()["id"]
    assert _owner(api, assigned) == reps["us"]
    kept = api.post("/sobjects/Lead", json=given, headers=NO_ASSIGN).json()["id"]
    assert _owner(api, kept) == creds.user_id
    defaulted = api.post(
        "/sobjects/Lead",
        json={"LastName": "B", "Company": "X"},
        headers={"Sforce-Auto-Assign": "false"},
    ).json()["id"]
    assert _owner(api, defaulted) == creds.user_id


def test_updates_are_reassigned_too(
    api: Api, org: Org, creds: Credentials, reps: dict[str, str]
) -> None:
    _routing_rule(Admin(api, org), reps)
    lead = api.create("Lead", LastName="A", Company="X", Country="USA")
    assert api.patch(f"/sobjects/Lead/{lead}", json={"Country": "France"}).status_code == 204
    assert _owner(api, lead) == reps["emea"]
    api.patch(f"/sobjects/Lead/{lead}", json={"Country": "USA"}, headers=NO_ASSIGN)
    assert _owner(api, lead) == reps["emea"]


def test_without_a_matching_entry_the_owner_stays(
    api: Api, org: Org, creds: Credentials, reps: dict[str, str]
) -> None:
    Admin(api, org).rule(
        "assignment",
        name="Only_Germany",
        entries=[{"criteria": "Country = 'Germany'", "ownerId": reps["emea"]}],
    )
    lead = api.create("Lead", LastName="A", Company="X", Country="Chile", OwnerId=reps["us"])
    assert _owner(api, lead) == reps["us"]


def test_one_assignment_rule_is_active_at_a_time(
    api: Api, org: Org, creds: Credentials, reps: dict[str, str]
) -> None:
    admin = Admin(api, org)
    first = _routing_rule(admin, reps)
    second = admin.rule(
        "assignment", name="Everything_To_Us", entries=[{"criteria": None, "ownerId": reps["us"]}]
    )
    rules = {
        r["name"]: r["active"] for r in admin.get("/automation/assignment-rules").json()["rules"]
    }
    assert rules == {"Lead_Routing": False, "Everything_To_Us": True}
    assert (
        _owner(api, api.create("Lead", LastName="A", Company="X", Country="Germany")) == reps["us"]
    )
    admin.post(f"/automation/assignment-rules/{first['id']}/activate")
    rules = {
        r["name"]: r["active"] for r in admin.get("/automation/assignment-rules").json()["rules"]
    }
    assert rules == {"Lead_Routing": True, "Everything_To_Us": False}
    admin.post(f"/automation/assignment-rules/{first['id']}/deactivate")
    lead = api.create("Lead", LastName="B", Company="X", Country="Germany")
    assert _owner(api, lead) == creds.user_id
    assert second["object"] == "Lead"


def test_assignment_applies_to_collections(
    api: Api, org: Org, creds: Credentials, reps: dict[str, str]
) -> None:
    _routing_rule(Admin(api, org), reps)
    response = api.post(
        "/composite/sobjects",
        json={"records": [{"attributes": {"type": "Lead"}, "LastName": "A", "Company": "X",
                           "Country": "USA"}]},
    )  # fmt: skip
    assert _owner(api, response.json()[0]["id"]) == reps["us"]


def test_entries_need_active_users_and_lead_criteria(
    api: Api, org: Org, creds: Credentials, reps: dict[str, str]
) -> None:
    admin = Admin(api, org)
    bad_owner = admin.post(
        "/automation/assignment-rules",
        json={"name": "X", "entries": [{"ownerId": "005000000000000AAA"}]},
    )
    assert bad_owner.status_code == 400
    assert bad_owner.json()["error"].startswith("entries[0].ownerId")
    bad_criteria = admin.post(
        "/automation/assignment-rules",
        json={"name": "X", "entries": [{"criteria": "Country = ", "ownerId": reps["us"]}]},
    )
    assert bad_criteria.status_code == 400
    assert bad_criteria.json() == {
        "error": "entries[0].criteria: expected a value but found the end of the formula",
        "position": 10,
    }
    account_rule = admin.post(
        "/automation/assignment-rules",
        json={"object": "Account", "name": "X", "entries": [{"ownerId": reps["us"]}]},
    )
    assert account_rule.status_code == 400


def test_a_write_can_name_an_inactive_rule(
    org: Org, creds: Credentials, reps: dict[str, str]
) -> None:
    """`WriteOptions.assignment_rule_id` (Sforce-Auto-Assign: <id>, Bulk `assignmentRuleId`)."""
    active = create_rule(org, AssignmentRule(name="Active", entries=(
        AssignmentEntry(criteria=None, owner_id=reps["us"]),)))  # fmt: skip
    named = create_rule(org, AssignmentRule(name="Named", active=False, entries=(
        AssignmentEntry(criteria=None, owner_id=reps["emea"]),)))  # fmt: skip
    dml = Dml(org, before_save=hooks(org))
    lead = org.object("Lead")
    assert lead is not None
    body = {"LastName": "Doe", "Company": "Acme"}
    for opts, owner in (
        (WriteOptions(user_id=creds.user_id), reps["us"]),
        (WriteOptions(user_id=creds.user_id, auto_assign=False), creds.user_id),
        (WriteOptions(user_id=creds.user_id, auto_assign=False, assignment_rule_id=named.id),
         reps["emea"]),
        (WriteOptions(user_id=creds.user_id, assignment_rule_id=active.id[:15]), reps["us"]),
        (WriteOptions(user_id=creds.user_id, assignment_rule_id="01Q000000000000AAA"),
         creds.user_id),
    ):  # fmt: skip
        with org.transaction():
            lead_id = dml.insert(lead, body, opts)
        row = org.fetch_row(lead, lead_id, ["OwnerId"])
        assert row is not None and row["OwnerId"] == owner, opts
