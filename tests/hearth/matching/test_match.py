"""Matching a visitor to the mirror: literal scenarios, the waterfall, roll-ups, purity."""

import ast
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hearth.matching
from hearth.matching import (
    AccountFacts,
    AccountRule,
    MatchResult,
    Owner,
    StageCount,
    TraceStep,
    choose_account,
    match_visitor,
)
from hearth.mirror import CrmAccount, CrmContact, CrmLead, CrmOpportunity, CrmUser
from tests.hearth.matching.memory_mirror import MemoryMirror

_CREATED = datetime(2024, 1, 1, tzinfo=UTC)


def _account(account_id: str, website: str | None = "acme.com", **fields: Any) -> CrmAccount:
    base = CrmAccount(
        id=account_id,
        name=f"Acme {account_id}",
        website=website,
        owner_id="005A",
        created_date=_CREATED,
        last_modified_date=_CREATED,
    )
    return replace(base, **fields)


def _opportunity(opp_id: str, account_id: str, stage: str, **fields: Any) -> CrmOpportunity:
    base = CrmOpportunity(
        id=opp_id,
        account_id=account_id,
        name=f"Deal {opp_id}",
        stage_name=stage,
        amount=Decimal("1000"),
        close_date=date(2026, 1, 1),
    )
    return replace(base, **fields)


_USERS = [CrmUser(id="005A", name="Alice Owner"), CrmUser(id="005B", name="Bob Rep")]


def test_no_keys_match_nothing() -> None:
    result = match_visitor(None, None, MemoryMirror(accounts=[_account("001A")]))
    assert result == MatchResult(
        domain=None,
        email=None,
        accounts=(),
        account=None,
        contacts=(),
        leads=(),
        person=None,
        rollups=hearth.matching.Rollups(
            account_count=0,
            account_owner=None,
            person_owner=None,
            contact_count=0,
            lead_count=0,
            opportunity_count=0,
            opportunity_stages=(),
            latest_close_date=None,
        ),
    )


def test_a_full_match_with_roll_ups() -> None:
    mirror = MemoryMirror(
        accounts=[
            _account("001A", "https://www.acme.com/about", owner_id="005B"),
            _account("001B", "http://acme.com", created_date=datetime(2025, 1, 1, tzinfo=UTC)),
            _account("001C", "other.com"),
        ],
        contacts=[
            CrmContact(
                id="003A", account_id="001A", email="Ann@Acme.com", name="Ann", owner_id="005A"
            ),
            CrmContact(id="003B", account_id="001B", email="bo@acme.com", name="Bo"),
            CrmContact(id="003C", account_id="001C", email="cy@other.com", name="Cy"),
        ],
        leads=[
            CrmLead(id="00QA", email="dee@acme.com", name="Dee"),
            CrmLead(id="00QB", email="eve@sub.acme.com", name="Eve"),
            CrmLead(
                id="00QC",
                email="bo@acme.com",
                name="Bo",
                is_converted=True,
                converted_contact_id="003B",
                converted_account_id="001B",
            ),
        ],
        opportunities=[
            _opportunity("006A", "001A", "Prospecting", close_date=date(2026, 3, 1)),
            _opportunity("006B", "001A", "Closed Won", is_closed=True, is_won=True),
            _opportunity("006C", "001B", "Prospecting", close_date=date(2026, 5, 1)),
            _opportunity("006D", "001C", "Negotiation", close_date=date(2027, 1, 1)),
        ],
        users=_USERS,
    )

    result = match_visitor("WWW.ACME.COM", " ann@acme.com ", mirror)

    assert result.domain == "acme.com"
    assert result.email == "ann@acme.com"
    assert [a.id for a in result.accounts] == ["001A", "001B"]
    assert result.account is not None
    assert result.account.account.id == "001A"
    assert result.account.rule is AccountRule.CONTACT_ACCOUNT
    assert result.account.trace == (TraceStep(rule=AccountRule.CONTACT_ACCOUNT, kept=("001A",)),)
    assert [c.id for c in result.contacts] == ["003A"]
    assert result.leads == ()
    assert result.person is not None and result.person.id == "003A"
    assert result.rollups == hearth.matching.Rollups(
        account_count=2,
        account_owner=Owner(user_id="005B", name="Bob Rep"),
        person_owner=Owner(user_id="005A", name="Alice Owner"),
        contact_count=2,
        lead_count=2,
        opportunity_count=3,
        opportunity_stages=(
            StageCount(stage_name="Closed Won", count=1),
            StageCount(stage_name="Prospecting", count=2),
        ),
        latest_close_date=date(2026, 5, 1),
    )


def test_a_converted_lead_is_followed_to_its_contact() -> None:
    contact = CrmContact(id="003B", account_id="001A", email="bo@new-acme.com", name="Bo")
    converted = CrmLead(
        id="00QC", email="bo@acme.com", name="Bo", is_converted=True, converted_contact_id="003B"
    )
    open_lead = CrmLead(id="00QD", email="bo@acme.com", name="Bo again", owner_id="005B")
    orphan = CrmLead(
        id="00QE", email="bo@acme.com", name="Bo", is_converted=True, converted_contact_id="003Z"
    )
    mirror = MemoryMirror(
        accounts=[_account("001A")], contacts=[contact], leads=[converted, open_lead, orphan]
    )

    result = match_visitor(None, "bo@acme.com", mirror)

    assert result.domain == "acme.com"  # from the email, which is not free mail
    assert result.contacts == (contact,)
    assert result.leads == (open_lead,)
    assert result.person == contact


def test_a_lead_is_the_person_when_there_is_no_contact() -> None:
    lead = CrmLead(id="00QA", email="ann@gmail.com", name="Ann", owner_id="005B")
    mirror = MemoryMirror(accounts=[_account("001A", "gmail.com")], leads=[lead], users=_USERS)

    result = match_visitor(None, "ann@gmail.com", mirror)

    assert result.domain is None  # free mail identifies no company
    assert result.accounts == ()
    assert result.person == lead
    assert result.rollups.person_owner == Owner(user_id="005B", name="Bob Rep")


def test_an_explicit_domain_is_used_even_if_it_is_a_mail_provider() -> None:
    # A visitor from Yahoo's own network is from the company Yahoo.
    mirror = MemoryMirror(accounts=[_account("001A", "https://www.yahoo.com")])
    result = match_visitor("yahoo.com", None, mirror)
    assert result.account is not None
    assert result.account.rule is AccountRule.ONLY_MATCH


def test_an_owner_missing_from_the_mirror_keeps_its_id() -> None:
    mirror = MemoryMirror(accounts=[_account("001A", owner_id="005Z")])
    assert match_visitor("acme.com", None, mirror).rollups.account_owner == Owner(
        user_id="005Z", name=None
    )


def _facts(account: CrmAccount, **fields: Any) -> AccountFacts:
    base = AccountFacts(
        account=account, open_opportunities=0, opportunities=0, contacts=0, is_customer=False
    )
    return replace(base, **fields)


@pytest.mark.parametrize(
    ("candidates", "contact_accounts", "chosen", "rule"),
    [
        ([_facts(_account("001A"))], frozenset(), "001A", AccountRule.ONLY_MATCH),
        (
            [_facts(_account("001A")), _facts(_account("001B"))],
            frozenset({"001B"}),
            "001B",
            AccountRule.CONTACT_ACCOUNT,
        ),
        (
            [
                _facts(_account("001A"), opportunities=5),
                _facts(_account("001B"), open_opportunities=1),
            ],
            frozenset(),
            "001B",
            AccountRule.OPEN_OPPORTUNITIES,
        ),
        (
            [_facts(_account("001A")), _facts(_account("001B"), is_customer=True)],
            frozenset(),
            "001B",
            AccountRule.CUSTOMER,
        ),
        (
            [_facts(_account("001A", parent_id="001B")), _facts(_account("001B"))],
            frozenset(),
            "001B",
            AccountRule.TOP_OF_HIERARCHY,
        ),
        (
            # A parent outside the candidates does not make an Account a child here.
            [_facts(_account("001A", parent_id="001Z"), opportunities=2), _facts(_account("001B"))],
            frozenset(),
            "001A",
            AccountRule.MOST_OPPORTUNITIES,
        ),
        (
            [_facts(_account("001A")), _facts(_account("001B"), contacts=3)],
            frozenset(),
            "001B",
            AccountRule.MOST_CONTACTS,
        ),
        (
            [
                _facts(_account("001A")),
                _facts(_account("001B", last_activity_date=date(2026, 1, 1))),
            ],
            frozenset(),
            "001B",
            AccountRule.LATEST_ACTIVITY,
        ),
        (
            [
                _facts(_account("001A", created_date=datetime(2025, 1, 1, tzinfo=UTC))),
                # A naive datetime is UTC: this one is older.
                _facts(_account("001B", created_date=datetime(2024, 12, 31, 23))),
            ],
            frozenset(),
            "001B",
            AccountRule.OLDEST,
        ),
        (
            [_facts(_account("001B")), _facts(_account("001A"))],
            frozenset(),
            "001A",
            AccountRule.LOWEST_ID,
        ),
    ],
)
def test_each_rule_of_the_waterfall(
    candidates: list[AccountFacts], contact_accounts: frozenset[str], chosen: str, rule: AccountRule
) -> None:
    choice = choose_account(candidates, contact_account_ids=contact_accounts)
    assert choice is not None
    assert (choice.account.id, choice.rule) == (chosen, rule)


def test_the_trace_lists_every_step_until_the_decision() -> None:
    candidates = [
        _facts(_account("001A"), open_opportunities=1),
        _facts(_account("001B"), open_opportunities=1, contacts=2),
        _facts(_account("001C")),
    ]
    choice = choose_account(candidates)
    assert choice is not None
    assert choice.trace == (
        TraceStep(rule=AccountRule.CONTACT_ACCOUNT, kept=("001A", "001B", "001C")),
        TraceStep(rule=AccountRule.OPEN_OPPORTUNITIES, kept=("001A", "001B")),
        TraceStep(rule=AccountRule.CUSTOMER, kept=("001A", "001B")),
        TraceStep(rule=AccountRule.TOP_OF_HIERARCHY, kept=("001A", "001B")),
        TraceStep(rule=AccountRule.MOST_OPPORTUNITIES, kept=("001A", "001B")),
        TraceStep(rule=AccountRule.MOST_CONTACTS, kept=("001B",)),
    )


def test_no_candidates_no_choice() -> None:
    assert choose_account([]) is None


_FACTS = st.builds(
    lambda n, open_opps, opps, contacts, customer, day, parent: _facts(
        _account(
            f"001{n:03d}",
            parent_id=f"001{parent:03d}" if parent is not None else None,
            last_activity_date=date(2026, 1, 1 + day) if day is not None else None,
            created_date=datetime(2024, 1, 1 + (n % 3), tzinfo=UTC),
        ),
        open_opportunities=open_opps,
        opportunities=opps,
        contacts=contacts,
        is_customer=customer,
    ),
    st.integers(0, 30),
    st.integers(0, 2),
    st.integers(0, 3),
    st.integers(0, 3),
    st.booleans(),
    st.none() | st.integers(0, 2),
    st.none() | st.integers(0, 30),
)


@given(st.lists(_FACTS, min_size=1, max_size=8, unique_by=lambda f: f.account.id), st.randoms())
def test_the_choice_does_not_depend_on_input_order(
    candidates: list[AccountFacts], random: Random
) -> None:
    shuffled = list(candidates)
    random.shuffle(shuffled)
    contact_accounts = frozenset(f.account.id for f in candidates[:1])
    assert choose_account(candidates, contact_account_ids=contact_accounts) == choose_account(
        shuffled, contact_account_ids=contact_accounts
    )


@given(st.permutations(range(6)))
def test_match_visitor_does_not_depend_on_the_mirrors_order(order: list[int]) -> None:
    accounts = [_account(f"001{i}", f"https://www.acme.com/{i}") for i in range(6)]
    contacts = [
        CrmContact(id=f"003{i}", account_id=f"001{i % 3}", email="ann@acme.com", name="Ann")
        for i in range(6)
    ]
    in_order = match_visitor(
        "acme.com", "ann@acme.com", MemoryMirror(accounts=accounts, contacts=contacts)
    )
    permuted = match_visitor(
        "acme.com",
        "ann@acme.com",
        MemoryMirror(accounts=[accounts[i] for i in order], contacts=[contacts[i] for i in order]),
    )
    assert permuted == in_order


def test_many_lookups_against_a_large_mirror_stay_pure() -> None:
    """10,000 matches against 100,000 Accounts: each makes only indexed look-ups, a bounded
    number of them, and the same question always gets the same answer."""
    accounts = [
        _account(f"001{i:06d}", f"https://www.company{i % 50_000}.com/") for i in range(100_000)
    ]
    mirror = MemoryMirror(accounts=accounts, users=_USERS)
    first = [match_visitor(f"company{i * 5}.com", None, mirror) for i in range(10_000)]
    assert mirror.calls["accounts_by_domain"] == 10_000
    # Two Accounts per domain: one look-up each for Opportunities and Contacts, per Account.
    assert mirror.calls["opportunities_of_account"] == 20_000
    assert mirror.calls["contacts_of_account"] == 20_000
    assert all(r.rollups.account_count == 2 for r in first)
    assert all(r.account is not None and r.account.rule is AccountRule.LOWEST_ID for r in first)
    again = [match_visitor(f"company{i * 5}.com", None, mirror) for i in range(10_000)]
    assert again == first


_FORBIDDEN = {"httpx", "sqlalchemy", "fastapi", "starlette", "hearth.storage", "hearth.salesforce"}


_MATCHING = Path(hearth.matching.__file__).parent


@pytest.mark.parametrize(
    "module",
    sorted([*_MATCHING.glob("*.py"), _MATCHING.parent / "mirror" / "records.py"]),
    ids=lambda path: path.name,
)
def test_matching_imports_no_infrastructure(module: Path) -> None:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert not {
        name for name in imported if any(name == f or name.startswith(f"{f}.") for f in _FORBIDDEN)
    }
