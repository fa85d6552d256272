from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from hearth.mirror.records import CrmAccount, CrmContact, CrmLead, CrmOpportunity, CrmUser
from hearth.mirror.repository import MirrorRepository

from .conftest import Site, add_user

CREATED = datetime(2024, 1, 1, tzinfo=UTC)
OWNER = "005000000000001AAA"


def _mirror(site: Site) -> None:
    with Session(site.engine) as session, session.begin():
        mirror = MirrorRepository(session, 1)
        mirror.upsert_users([CrmUser(id=OWNER, name="Olivia Owner", email="olivia@hearth.test")])
        mirror.upsert_accounts(
            [
                CrmAccount(
                    id=f"001000000000000AA{suffix}",
                    name=f"Acme {suffix}",
                    website=website,
                    owner_id=OWNER,
                    created_date=CREATED,
                    last_modified_date=CREATED,
                )
                for suffix, website in (("A", "https://www.acme.com/"), ("B", "acme.com"))
            ]
        )
        mirror.upsert_contacts(
            [
                CrmContact(
                    id="003000000000000AAA",
                    account_id="001000000000000AAB",
                    email="Jane@Acme.com",
                    name="Jane Doe",
                    owner_id=OWNER,
                )
            ]
        )
        mirror.upsert_leads(
            [CrmLead(id="00Q000000000000AAA", email="joe@acme.com", name="Joe", company="Acme")]
        )
        mirror.upsert_opportunities(
            [
                CrmOpportunity(
                    id="006000000000000AAA",
                    account_id="001000000000000AAB",
                    name="Acme renewal",
                    stage_name="Prospecting",
                    close_date=date(2026, 12, 1),
                )
            ]
        )


def test_matches_answer_from_the_mirror_with_the_deciding_rule(site: Site) -> None:
    add_user(site.engine, "ada@example.com")
    site.sign_in("ada@example.com")
    _mirror(site)

    response = site.hearth.get(
        "/api/v1/crm/matches",
        params={"domain": "http://WWW.acme.com:443/pricing", "email": " jane@acme.com"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["domain"] == "acme.com"
    assert body["email"] == "jane@acme.com"
    assert [a["id"] for a in body["accounts"]] == ["001000000000000AAA", "001000000000000AAB"]
    assert body["account"]["account"]["id"] == "001000000000000AAB"
    assert body["account"]["rule"]
    assert body["person_type"] == "contact"
    assert body["person"]["name"] == "Jane Doe"
    rollups = body["rollups"]
    assert rollups["account_count"] == 2
    assert rollups["account_owner"] == {"user_id": OWNER, "name": "Olivia Owner"}
    assert rollups["lead_count"] == 1
    assert rollups["opportunity_stages"] == [{"stage_name": "Prospecting", "count": 1}]
    assert rollups["latest_close_date"] == "2026-12-01"


def test_matches_need_a_usable_key_and_a_session(site: Site) -> None:
    assert site.hearth.get("/api/v1/crm/matches", params={"domain": "acme.com"}).status_code == 401
    add_user(site.engine, "ada@example.com")
    site.sign_in("ada@example.com")

    response = site.hearth.get("/api/v1/crm/matches", params={"domain": "10.0.0.1"})

    assert response.status_code == 422
    assert "usable domain" in response.json()["detail"]


def test_workspaces_see_only_their_own_mirror(site: Site) -> None:
    add_user(site.engine, "ada@example.com")
    add_user(site.engine, "bob@example.com")
    _mirror(site)  # workspace 1's
    site.sign_in("bob@example.com")

    body = site.hearth.get("/api/v1/crm/matches", params={"domain": "acme.com"}).json()

    assert body["accounts"] == [] and body["account"] is None


def test_the_api_is_in_the_openapi_document(site: Site) -> None:
    document = site.hearth.get("/openapi.json").json()

    assert "/api/v1/crm/matches" in document["paths"]
    assert "/api/v1/salesforce/connection" in document["paths"]
    assert "/settings/salesforce" not in document["paths"]
    assert "MatchResponse" in document["components"]["schemas"]
