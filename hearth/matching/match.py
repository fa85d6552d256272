"""Matching a visitor to the CRM mirror, and the dashboard roll-ups. Pure: zero API calls.

`match_visitor(domain, email, view)` does what the spec's "How Warmly Matches Salesforce
Records" describes, against the mirror rather than the API:

- **Accounts by domain.** Every Account whose Website has the visitor's registrable domain
  (`normalize_domain` on both sides). When there are several, `choose_account` picks one by a
  fixed waterfall and says which rule decided.
- **Contacts and Leads by email.** Every Contact and Lead whose Email is the visitor's address
  (`normalize_email` on both sides). A converted Lead is followed to the Contact it became, and
  the Lead itself is dropped: the Contact is that person now.
- **Roll-ups** ("CRM Data Displayed in Warm Dashboards"): the number of Accounts with the domain,
  the owner of the chosen Account and of the matched person, the Contacts and open Leads of the
  company, its Opportunities counted per stage, and the latest close date.

The mirror is reached only through `MirrorView`, a handful of indexed look-ups, so a SQL-backed
mirror implements it and tests pass an in-memory one. The rules and the reasons for them are in
``docs/matching.md``.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from hearth.matching.domains import company_domain_for_email, normalize_domain, normalize_email
from hearth.mirror.records import CrmAccount, CrmContact, CrmLead, CrmOpportunity, CrmUser

__all__ = [
    "AccountChoice",
    "AccountFacts",
    "AccountRule",
    "MatchResult",
    "MirrorView",
    "Owner",
    "Rollups",
    "StageCount",
    "TraceStep",
    "choose_account",
    "match_visitor",
]


class MirrorView(Protocol):
    """The look-ups matching needs from the CRM mirror; each is one indexed query.

    Keys are already normalised: the mirror indexes Accounts by `normalize_domain(Website)`,
    Contacts and Leads by `normalize_email(Email)`, and Leads also by
    `company_domain_for_email(Email)`. Results may come in any order and include converted Leads;
    matching sorts and filters them itself.
    """

    def accounts_by_domain(self, domain: str) -> Sequence[CrmAccount]:
        """The Accounts whose Website's registrable domain is `domain`."""
        ...

    def contacts_by_email(self, email: str) -> Sequence[CrmContact]:
        """The Contacts whose Email is `email`."""
        ...

    def leads_by_email(self, email: str) -> Sequence[CrmLead]:
        """The Leads, converted or not, whose Email is `email`."""
        ...

    def leads_by_company_domain(self, domain: str) -> Sequence[CrmLead]:
        """The Leads, converted or not, whose Email is at a company whose domain is `domain`."""
        ...

    def contact(self, contact_id: str) -> CrmContact | None:
        """The Contact with this Id, if the mirror has it."""
        ...

    def contacts_of_account(self, account_id: str) -> Sequence[CrmContact]:
        """The Contacts whose AccountId is `account_id`."""
        ...

    def opportunities_of_account(self, account_id: str) -> Sequence[CrmOpportunity]:
        """The Opportunities whose AccountId is `account_id`."""
        ...

    def user(self, user_id: str) -> CrmUser | None:
        """The User with this Id, if the mirror has it."""
        ...


class AccountRule(StrEnum):
    """The rule that chose an Account among those sharing a domain, in waterfall order.

    `ONLY_MATCH` means there was nothing to choose. Otherwise each rule keeps the candidates
    that do best on it, and the first rule that leaves exactly one decides.
    """

    ONLY_MATCH = "only_match"
    CONTACT_ACCOUNT = "contact_account"
    OPEN_OPPORTUNITIES = "open_opportunities"
    CUSTOMER = "customer"
    TOP_OF_HIERARCHY = "top_of_hierarchy"
    MOST_OPPORTUNITIES = "most_opportunities"
    MOST_CONTACTS = "most_contacts"
    LATEST_ACTIVITY = "latest_activity"
    OLDEST = "oldest"
    LOWEST_ID = "lowest_id"


@dataclass(frozen=True, kw_only=True, slots=True)
class AccountFacts:
    """What the waterfall knows about one candidate Account."""

    account: CrmAccount
    open_opportunities: int
    opportunities: int
    contacts: int
    is_customer: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class TraceStep:
    """One rule of the waterfall and the candidate Ids it kept, in Id order."""

    rule: AccountRule
    kept: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class AccountChoice:
    """The chosen Account, the rule that decided, and every step up to it (for the UI)."""

    account: CrmAccount
    rule: AccountRule
    trace: tuple[TraceStep, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Owner:
    """A record's owner; `name` is None when the User is not in the mirror."""

    user_id: str
    name: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class StageCount:
    """How many of the company's Opportunities are at one stage."""

    stage_name: str
    count: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Rollups:
    """The CRM data the Warm dashboards show for a visitor or company.

    Counts cover every Account with the domain, not only the chosen one: duplicates split a
    company's Contacts and Opportunities between them, and the dashboard is about the company.
    """

    account_count: int
    account_owner: Owner | None
    person_owner: Owner | None
    contact_count: int
    lead_count: int
    opportunity_count: int
    opportunity_stages: tuple[StageCount, ...]
    latest_close_date: date | None


@dataclass(frozen=True, kw_only=True, slots=True)
class MatchResult:
    """Everything the mirror knows about one visitor or company.

    `domain` and `email` are the normalised keys that were looked up (None if there was no
    usable one). `accounts`, `contacts` and `leads` are in Id order; `leads` holds only Leads
    that are not converted. `person` is the Contact or Lead the visitor is: a Contact when there
    is one.
    """

    domain: str | None
    email: str | None
    accounts: tuple[CrmAccount, ...]
    account: AccountChoice | None
    contacts: tuple[CrmContact, ...]
    leads: tuple[CrmLead, ...]
    person: CrmContact | CrmLead | None
    rollups: Rollups


def match_visitor(domain: str | None, email: str | None, view: MirrorView) -> MatchResult:
    """Match a visitor (or a company, with `email` None) against the mirror behind `view`.

    `domain` is the visitor's company domain in any form `normalize_domain` accepts; when it has
    none, the domain of a non-free-mail `email` stands in.
    """
    address = normalize_email(email)
    company_domain = normalize_domain(domain) or company_domain_for_email(address)

    contacts, leads = _people(address, view)
    accounts = _by_id(view.accounts_by_domain(company_domain)) if company_domain else ()
    opportunities = {a.id: _by_id(view.opportunities_of_account(a.id)) for a in accounts}
    account_contacts = {a.id: _by_id(view.contacts_of_account(a.id)) for a in accounts}
    choice = choose_account(
        (_facts(a, opportunities[a.id], account_contacts[a.id]) for a in accounts),
        contact_account_ids=frozenset(c.account_id for c in contacts if c.account_id),
    )
    person = _choose_person(contacts, leads, choice, accounts)

    company_opportunities = [o for a in accounts for o in opportunities[a.id]]
    company_contact_ids = {c.id for a in accounts for c in account_contacts[a.id]}
    company_leads = (
        [lead for lead in view.leads_by_company_domain(company_domain) if not lead.is_converted]
        if company_domain
        else []
    )
    stages = Counter(o.stage_name for o in company_opportunities)
    rollups = Rollups(
        account_count=len(accounts),
        account_owner=_owner(choice.account.owner_id if choice else None, view),
        person_owner=_owner(person.owner_id if person else None, view),
        contact_count=len(company_contact_ids),
        lead_count=len({lead.id for lead in company_leads}),
        opportunity_count=len(company_opportunities),
        opportunity_stages=tuple(
            StageCount(stage_name=stage, count=count) for stage, count in sorted(stages.items())
        ),
        latest_close_date=max((o.close_date for o in company_opportunities), default=None),
    )
    return MatchResult(
        domain=company_domain,
        email=address,
        accounts=accounts,
        account=choice,
        contacts=contacts,
        leads=leads,
        person=person,
        rollups=rollups,
    )


_R = TypeVar("_R", CrmAccount, CrmContact, CrmLead, CrmOpportunity)

# A rule's score for one candidate; the highest score wins. Rules that prefer the lowest value
# (the oldest CreatedDate) negate it, so every step is "keep the maximum".
_Score = Callable[[AccountFacts], float]


def choose_account(
    candidates: Iterable[AccountFacts], *, contact_account_ids: frozenset[str] = frozenset()
) -> AccountChoice | None:
    """Choose one Account among `candidates` (all sharing a domain) by a fixed waterfall.

    The rules, in order; each keeps the candidates that do best on it, and the first to leave
    exactly one decides:

    1. CONTACT_ACCOUNT: the Account of a Contact whose Email matched the visitor.
    2. OPEN_OPPORTUNITIES: most open Opportunities: where a deal is being worked.
    3. CUSTOMER: a customer (Type starts with "Customer", or a won Opportunity).
    4. TOP_OF_HIERARCHY: not a child of another candidate (the parent of a hierarchy).
    5. MOST_OPPORTUNITIES: most Opportunities of any stage.
    6. MOST_CONTACTS: most Contacts.
    7. LATEST_ACTIVITY: latest LastActivityDate (no activity counts as oldest).
    8. OLDEST: earliest CreatedDate: the original, of which later ones are duplicates.
    9. LOWEST_ID: lowest Id, which always leaves one.

    The choice depends only on the candidates, never on their order. None if there are none.
    """
    facts = {f.account.id: f for f in candidates}  # one entry per Id, whatever the input
    remaining = [facts[account_id] for account_id in sorted(facts)]
    if not remaining:
        return None
    if len(remaining) == 1:
        return AccountChoice(account=remaining[0].account, rule=AccountRule.ONLY_MATCH, trace=())
    candidate_ids = frozenset(facts)
    waterfall: tuple[tuple[AccountRule, _Score], ...] = (
        (AccountRule.CONTACT_ACCOUNT, lambda f: f.account.id in contact_account_ids),
        (AccountRule.OPEN_OPPORTUNITIES, lambda f: f.open_opportunities),
        (AccountRule.CUSTOMER, lambda f: f.is_customer),
        (AccountRule.TOP_OF_HIERARCHY, lambda f: f.account.parent_id not in candidate_ids),
        (AccountRule.MOST_OPPORTUNITIES, lambda f: f.opportunities),
        (AccountRule.MOST_CONTACTS, lambda f: f.contacts),
        (AccountRule.LATEST_ACTIVITY, lambda f: _day(f.account.last_activity_date)),
        (AccountRule.OLDEST, lambda f: -_utc(f.account.created_date).timestamp()),
    )
    trace: list[TraceStep] = []
    for rule, score in waterfall:
        winning = max(score(f) for f in remaining)
        remaining = [f for f in remaining if score(f) == winning]
        trace.append(TraceStep(rule=rule, kept=tuple(f.account.id for f in remaining)))
        if len(remaining) == 1:
            return AccountChoice(account=remaining[0].account, rule=rule, trace=tuple(trace))
    # `remaining` is still in Id order, so the first is the lowest Id.
    lowest = remaining[0].account
    trace.append(TraceStep(rule=AccountRule.LOWEST_ID, kept=(lowest.id,)))
    return AccountChoice(account=lowest, rule=AccountRule.LOWEST_ID, trace=tuple(trace))


def _facts(
    account: CrmAccount,
    opportunities: Sequence[CrmOpportunity],
    contacts: Sequence[CrmContact],
) -> AccountFacts:
    return AccountFacts(
        account=account,
        open_opportunities=sum(1 for o in opportunities if not o.is_closed),
        opportunities=len(opportunities),
        contacts=len(contacts),
        is_customer=(account.type or "").casefold().startswith("customer")
        or any(o.is_won for o in opportunities),
    )


def _people(
    email: str | None, view: MirrorView
) -> tuple[tuple[CrmContact, ...], tuple[CrmLead, ...]]:
    """The Contacts and the unconverted Leads with `email`; converted Leads become Contacts."""
    if email is None:
        return (), ()
    contacts = list(view.contacts_by_email(email))
    leads: list[CrmLead] = []
    for lead in view.leads_by_email(email):
        if not lead.is_converted:
            leads.append(lead)
        elif lead.converted_contact_id and (contact := view.contact(lead.converted_contact_id)):
            contacts.append(contact)
    return _by_id(contacts), _by_id(leads)


def _choose_person(
    contacts: Sequence[CrmContact],
    leads: Sequence[CrmLead],
    choice: AccountChoice | None,
    accounts: Sequence[CrmAccount],
) -> CrmContact | CrmLead | None:
    """The Contact (else the Lead) the visitor is: on the chosen Account, then on one of the
    domain's Accounts, then any; the lowest Id among equals. Inputs are in Id order."""
    if contacts:
        chosen_id = choice.account.id if choice else None
        domain_ids = {a.id for a in accounts}
        return min(
            contacts,
            key=lambda c: (c.account_id != chosen_id, c.account_id not in domain_ids, c.id),
        )
    return leads[0] if leads else None


def _owner(user_id: str | None, view: MirrorView) -> Owner | None:
    if user_id is None:
        return None
    user = view.user(user_id)
    return Owner(user_id=user_id, name=user.name if user else None)


def _by_id(records: Iterable[_R]) -> tuple[_R, ...]:
    """`records` without repeats, in Id order, so results never depend on the mirror's order."""
    return tuple(sorted({r.id: r for r in records}.values(), key=lambda r: r.id))


def _day(value: date | None) -> float:
    return value.toordinal() if value else 0


def _utc(value: datetime) -> datetime:
    """`value` as an aware datetime; a naive one is taken to be UTC, as Salesforce's are."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
