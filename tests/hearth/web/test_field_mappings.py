"""An admin adds an Account custom field in Settings; the re-sync reads it for every record;
when the field disappears from Salesforce, its mapping is disabled with a visible warning."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hearth.mirror.tables import mirror_accounts
from localforce.schema import FieldDef, FieldType

from .conftest import Site, form_value, round_of_work

pytestmark = pytest.mark.anyio


def _tiers(site: Site) -> set[object]:
    with Session(site.engine) as session:
        return {c.get("Tier__c") for c in session.scalars(select(mirror_accounts.c.custom))}


@pytest.fixture
def with_tier(connected: Site) -> Site:
    connected.org.add_custom_field(
        "Account",
        FieldDef(
            name="Tier__c", label="Customer Tier", type=FieldType.STRING, length=20, custom=True
        ),
    )
    with connected.org.lock, connected.org.transaction():
        connected.org.conn.execute('UPDATE "Account" SET "Tier__c" = \'Gold\'')
    return connected


async def test_adding_a_field_resyncs_it_into_every_record(with_tier: Site) -> None:
    site = with_tier
    assert (await round_of_work(site)).outcome == "synced"
    assert _tiers(site) == {None}

    page = site.hearth.get("/settings/salesforce/fields/Account", params={"q": "tier"})
    assert page.status_code == 200
    assert "Customer Tier" in page.text and "Tier__c" in page.text
    added = site.hearth.post(
        "/settings/salesforce/fields/Account",
        data={
            "field": "Tier__c",
            "default": "Bronze",
            "csrf_token": form_value(page, "csrf_token"),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    listed = site.hearth.get("/api/v1/salesforce/fields/Account").json()
    assert [(m["field"], m["default"], m["enabled"]) for m in listed["mapped"]] == [
        ("Tier__c", "Bronze", True)
    ]
    assert all(f["name"] != "Tier__c" for f in listed["available"])

    assert (await round_of_work(site)).outcome == "synced"

    assert _tiers(site) == {"Gold"}
    segments = site.hearth.get("/api/v1/crm/segment-fields").json()
    assert [m["field"] for m in segments["CRM Company"]] == ["Tier__c"]
    assert segments["CRM Contact"] == []


async def test_a_field_that_is_not_there_is_refused_with_the_reason(connected: Site) -> None:
    response = connected.hearth.post(
        "/api/v1/salesforce/fields/Account",
        json={"field": "Nope__c"},
        headers={"X-CSRF-Token": connected.csrf()},
    )
    wrong_object = connected.hearth.get("/api/v1/salesforce/fields/Case")

    assert response.status_code == 400
    assert "does not exist" in response.json()["detail"]
    assert wrong_object.status_code == 404


async def test_a_field_deleted_in_salesforce_disables_only_its_mapping(with_tier: Site) -> None:
    site = with_tier
    response = site.hearth.post(
        "/api/v1/salesforce/fields/Account",
        json={"field": "Tier__c"},
        headers={"X-CSRF-Token": site.csrf()},
    )
    assert response.status_code == 201
    assert (await round_of_work(site)).outcome == "synced"
    account = site.org.schema.get("Account")
    assert account is not None
    site.org.schema.replace_object(account.without_field("Tier__c"))

    outcome = await round_of_work(site)

    assert outcome.outcome == "synced"
    assert outcome.sync is not None and outcome.sync.warnings
    page = site.hearth.get("/settings/salesforce")
    assert "Account.Tier__c was deleted in Salesforce" in page.text
    state = site.hearth.get("/api/v1/salesforce/connection").json()
    assert state["mapping_warnings"] == list(outcome.sync.warnings)
    fields = site.hearth.get("/api/v1/salesforce/fields/Account").json()
    assert [(m["field"], m["enabled"]) for m in fields["mapped"]] == [("Tier__c", False)]


def test_removing_a_field_that_is_not_mapped_is_a_404(connected: Site) -> None:
    response = connected.hearth.delete(
        "/api/v1/salesforce/fields/Account/Tier__c", headers={"X-CSRF-Token": connected.csrf()}
    )

    assert response.status_code == 404
    assert "Account.Tier__c" in response.json()["detail"]
