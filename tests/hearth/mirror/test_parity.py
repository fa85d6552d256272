"""The SQL mirror answers matching exactly as the in-memory reference mirror does."""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from hearth.matching import AccountRule, match_visitor
from hearth.mirror import CrmAccount, CrmContact, CrmLead, CrmOpportunity, CrmUser
from hearth.mirror.repository import MirrorRepository, SqlMirrorView
from tests.hearth.matching.memory_mirror import MemoryMirror

# Few companies and few people, written many ways, so keys collide often: duplicate Accounts,
# people who are both Contact and Lead, converted Leads, free-mail and unusable addresses.
_WEBSITES = [
    "acme.com",
    "https://www.ACME.com/about",
    "shop.acme.com",
    "globex.co.uk",
    "http://eu.globex.co.uk:8080",
    "initech.io",
    "gmail.com",
    "n/a",
    "10.0.0.1",
    None,
]
_EMAIL_DOMAINS = ["acme.com", "Mail.Acme.com", "globex.co.uk", "initech.io", "gmail.com"]
_LOCAL_PARTS = ["ann", "bob", "Carol.Diaz", "dan+crm"]
_LEAD_ONLY_LOCAL_PARTS = ["erin", "Frank.Ng"]  # people who are Leads but never Contacts
_STAGES = ["Prospecting", "Negotiation", "Closed Won", "Closed Lost"]
_TYPES = ["Customer - Direct", "Prospect", None]
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def _sf_id(prefix: str, n: int) -> str:
    return f"{prefix}{n:012d}AAA"


def _email(rng: random.Random, local_parts: list[str] = _LOCAL_PARTS) -> str | None:
    if rng.random() < 0.1:
        return rng.choice([None, "not an address", "x@localhost"])
    address = f"{rng.choice(local_parts)}@{rng.choice(_EMAIL_DOMAINS)}"
    return f" {address.upper()} " if rng.random() < 0.2 else address


def _mirror_data(
    rng: random.Random,
) -> tuple[list[CrmAccount], list[CrmContact], list[CrmLead], list[CrmOpportunity], list[CrmUser]]:
    users = [CrmUser(id=_sf_id("005", n), name=f"User {n}") for n in range(4)]
    owner_ids = [*(u.id for u in users), _sf_id("005", 99)]  # one owner not in the mirror
    account_ids = [_sf_id("001", n) for n in range(40)]
    accounts = [
        CrmAccount(
            id=account_id,
            name=f"Account {n}",
            website=rng.choice(_WEBSITES),
            owner_id=rng.choice([*owner_ids, None]),
            type=rng.choice(_TYPES),
            parent_id=rng.choice([None, None, rng.choice(account_ids)]),
            created_date=_EPOCH + timedelta(days=rng.randrange(3), microseconds=rng.randrange(2)),
            last_modified_date=_EPOCH + timedelta(days=10),
            last_activity_date=rng.choice([None, date(2024, 2, rng.randrange(1, 3))]),
        )
        for n, account_id in enumerate(account_ids)
    ]
    contacts = [
        CrmContact(
            id=_sf_id("003", n),
            account_id=rng.choice([None, *account_ids]),
            email=_email(rng),
            name=f"Contact {n}",
            owner_id=rng.choice([*owner_ids, None]),
        )
        for n in range(60)
    ]
    leads = []
    for n in range(60):
        converted = rng.random() < 0.3
        leads.append(
            CrmLead(
                id=_sf_id("00Q", n),
                email=_email(rng, [*_LOCAL_PARTS, *_LEAD_ONLY_LOCAL_PARTS]),
                name=f"Lead {n}",
                owner_id=rng.choice([*owner_ids, None]),
                is_converted=converted,
                converted_contact_id=(
                    rng.choice([_sf_id("003", 404), *(c.id for c in contacts)])
                    if converted
                    else None
                ),
            )
        )
    opportunities = []
    for n in range(80):
        stage = rng.choice(_STAGES)
        opportunities.append(
            CrmOpportunity(
                id=_sf_id("006", n),
                account_id=rng.choice([None, *account_ids]),
                name=f"Deal {n}",
                stage_name=stage,
                amount=rng.choice([None, Decimal(rng.randrange(10**6)) / 100]),
                close_date=date(2024, rng.randrange(1, 13), 1),
                is_closed=stage.startswith("Closed"),
                is_won=stage == "Closed Won",
            )
        )
    return accounts, contacts, leads, opportunities, users


def test_sql_mirror_matches_like_the_memory_mirror(session: Session, workspace_id: int) -> None:
    rng = random.Random(20261124)
    accounts, contacts, leads, opportunities, users = _mirror_data(rng)
    memory = MemoryMirror(
        accounts=accounts, contacts=contacts, leads=leads, opportunities=opportunities, users=users
    )
    repository = MirrorRepository(session, workspace_id)
    repository.upsert_accounts(accounts)
    repository.upsert_contacts(contacts)
    repository.upsert_leads(leads)
    repository.upsert_opportunities(opportunities)
    repository.upsert_users(users)
    # Records deleted in Salesforce are in the SQL mirror's tables but must never be matched.
    ghosts = [
        CrmAccount(
            id=_sf_id("001", 500),
            name="Gone",
            website="acme.com",
            created_date=_EPOCH,
            last_modified_date=_EPOCH,
        )
    ]
    ghost_contact = CrmContact(
        id=_sf_id("003", 500), account_id=accounts[0].id, email="ann@acme.com", name="Gone"
    )
    repository.upsert_accounts(ghosts)
    repository.upsert_contacts([ghost_contact])
    repository.mark_deleted([ghosts[0].id, ghost_contact.id])
    session.commit()
    view = SqlMirrorView(session, workspace_id)

    visitor_domains = [*_WEBSITES, "unknown.com"]
    results = []
    for _ in range(150):
        domain = rng.choice(visitor_domains)
        email = rng.choice(
            [
                None,
                _email(rng, [*_LOCAL_PARTS, *_LEAD_ONLY_LOCAL_PARTS]),
                f"nobody@{rng.choice(_EMAIL_DOMAINS)}",
            ]
        )
        result = match_visitor(domain, email, view)

        assert result == match_visitor(domain, email, memory), (domain, email)
        results.append(result)

    # The data exercised what matters: the waterfall beyond one candidate, both kinds of person.
    assert {r.account.rule for r in results if r.account} - {AccountRule.ONLY_MATCH}
    assert any(isinstance(r.person, CrmContact) for r in results)
    assert any(isinstance(r.person, CrmLead) for r in results)
    assert any(r.rollups.lead_count and r.rollups.opportunity_count for r in results)
