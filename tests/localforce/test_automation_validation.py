"""Validation rules over HTTP: FIELD_CUSTOM_VALIDATION_EXCEPTION on every write path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localforce.automation import register_predicate
from localforce.org import Org
from localforce.values import Stored

from .automation_support import Admin
from .conftest import Api


def test_a_formula_rule_rejects_a_create_with_its_message_and_field(api: Api, org: Org) -> None:
    Admin(api, org).rule(
        "validation",
        object="Lead",
        name="Company_Too_Short",
        errorConditionFormula="LEN(Company) < 3",
        errorMessage="Company needs three letters",
        errorDisplayField="company",
    )
    response = api.post("/sobjects/Lead", json={"LastName": "Doe", "Company": "AB"})
    assert response.status_code == 400
    assert response.json() == [
        {
            "message": "Company needs three letters",
            "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "fields": ["Company"],
        }
    ]
    api.create("Lead", LastName="Doe", Company="ABC")
    # Other objects are not concerned.
    api.create("Account", Name="AB")


def test_a_rule_without_display_field_is_a_top_of_page_error(api: Api, org: Org) -> None:
    Admin(api, org).rule(
        "validation",
        object="Account",
        name="No_Test_Accounts",
        errorConditionFormula="BEGINS(Name, 'Test')",
        errorMessage="No test accounts here",
    )
    response = api.post("/sobjects/Account", json={"Name": "Test Co"})
    assert response.json() == [
        {
            "message": "No test accounts here",
            "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "fields": [],
        }
    ]


def test_inactive_rules_do_not_fire_and_can_be_switched(api: Api, org: Org) -> None:
    admin = Admin(api, org)
    rule = admin.rule(
        "validation",
        object="Lead",
        name="Needs_Email",
        active=False,
        errorConditionFormula="ISBLANK(Email)",
        errorMessage="Email is required",
    )
    api.create("Lead", LastName="A", Company="Acme")
    assert admin.post(f"/automation/validation-rules/{rule['id']}/activate").json()["active"]
    response = api.post("/sobjects/Lead", json={"LastName": "B", "Company": "Acme"})
    assert response.json()[0]["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    admin.post(f"/automation/validation-rules/{rule['id']}/deactivate")
    api.create("Lead", LastName="C", Company="Acme")


def test_rules_see_the_update_and_the_stored_row(api: Api, org: Org) -> None:
    Admin(api, org).rule(
        "validation",
        object="Lead",
        name="Company_Is_Locked",
        errorConditionFormula="NOT(ISNEW()) && ISCHANGED(Company) && "
        "PRIORVALUE(Company) = 'Locked Inc'",
        errorMessage="This company cannot be renamed",
        errorDisplayField="Company",
    )
    locked = api.create("Lead", LastName="Doe", Company="Locked Inc")
    free = api.create("Lead", LastName="Roe", Company="Free Inc")
    assert api.patch(f"/sobjects/Lead/{locked}", json={"Title": "CTO"}).status_code == 204
    refused = api.patch(f"/sobjects/Lead/{locked}", json={"Company": "New Inc"})
    assert refused.status_code == 400
    assert refused.json()[0]["fields"] == ["Company"]
    assert api.patch(f"/sobjects/Lead/{free}", json={"Company": "New Inc"}).status_code == 204
    record = api.get(f"/sobjects/Lead/{locked}").json()
    assert record["Company"] == "Locked Inc"


def test_collections_report_the_rule_per_record(api: Api, org: Org) -> None:
    Admin(api, org).rule(
        "validation",
        object="Account",
        name="Positive_Employees",
        errorConditionFormula="NumberOfEmployees < 0",
        errorMessage="Employees cannot be negative",
        errorDisplayField="NumberOfEmployees",
    )
    response = api.post(
        "/composite/sobjects",
        json={
            "records": [
                {"attributes": {"type": "Account"}, "Name": "Good", "NumberOfEmployees": 5},
                {"attributes": {"type": "Account"}, "Name": "Bad", "NumberOfEmployees": -5},
            ]
        },
    )
    assert response.status_code == 200
    good, bad = response.json()
    assert good["success"] is True
    assert bad == {
        "success": False,
        "errors": [
            {
                "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                "message": "Employees cannot be negative",
                "fields": ["NumberOfEmployees"],
            }
        ],
    }


def test_a_registered_python_predicate_is_a_rule(api: Api, org: Org) -> None:
    seen: list[tuple[Mapping[str, Stored], Mapping[str, Any] | None]] = []

    def free_mail(record: Mapping[str, Stored], old: Mapping[str, Any] | None) -> bool:
        seen.append((record, old))
        return str(record.get("Email") or "").endswith("@gmail.com")

    register_predicate(org, "Lead", "free_mail", free_mail)
    rule = Admin(api, org).rule(
        "validation",
        object="Lead",
        name="No_Free_Mail",
        predicate="free_mail",
        errorMessage="Use a business address",
        errorDisplayField="Email",
    )
    assert rule["predicateRegistered"] is True
    response = api.post(
        "/sobjects/Lead", json={"LastName": "Doe", "Company": "Acme", "Email": "j@gmail.com"}
    )
    assert response.json()[0]["message"] == "Use a business address"
    lead = api.create("Lead", LastName="Doe", Company="Acme", Email="j@acme.com")
    api.patch(f"/sobjects/Lead/{lead}", json={"Title": "CEO"})
    # The predicate sees the record as it will be stored, and the stored row on update.
    assert seen[-1][0]["Title"] == "CEO"
    assert seen[-1][1] is not None and seen[-1][1]["Title"] is None


def test_a_predicate_must_be_registered_before_a_rule_names_it(api: Api, org: Org) -> None:
    response = Admin(api, org).post(
        "/automation/validation-rules",
        json={"object": "Lead", "name": "X", "predicate": "missing", "errorMessage": "x"},
    )
    assert response.status_code == 400
    assert "no predicate named missing" in response.json()["error"]


def test_the_first_failing_rule_in_name_order_is_reported(api: Api, org: Org) -> None:
    admin = Admin(api, org)
    for name, message in (("B_Rule", "second"), ("A_Rule", "first")):
        admin.rule(
            "validation",
            object="Lead",
            name=name,
            errorConditionFormula="TRUE",
            errorMessage=message,
        )
    response = api.post("/sobjects/Lead", json={"LastName": "Doe", "Company": "Acme"})
    assert [e["message"] for e in response.json()] == ["first"]
