"""Facts from plain inputs: aggregates, the mirror's match, custom values."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from hearth.matching import match_visitor
from hearth.mirror import CrmAccount, CrmContact, CrmLead, CrmOpportunity, CrmUser
from hearth.segments import (
    FactValue,
    FieldCatalogue,
    FieldType,
    company_facts,
    custom_fact,
    evaluate,
    parse_rule,
    visitor_facts,
)
from hearth.tracking import CompanyAggregate, UtmFirstSeen, VisitorAggregate
from tests.hearth.matching.memory_mirror import MemoryMirror

from .conftest import NOW

CREATED = datetime(2020, 1, 1, tzinfo=UTC)
ACME = CrmAccount(
    id="001000000000001AAA",
    name="Acme",
    website="https://www.acme.com",
    owner_id="005000000000001AAA",
    type="Customer - Direct",
    created_date=CREATED,
    last_modified_date=CREATED,
    last_activity_date=date(2026, 11, 20),
)
ANN = CrmContact(
    id="003000000000001AAA",
    account_id=ACME.id,
    email="ann@acme.com",
    name="Ann Lee",
    title="VP Sales",
    owner_id="005000000000002AAA",
)
BOB = CrmLead(id="00Q000000000001AAA", email="bob@acme.com", name="Bob Day", title="CTO")
OPEN = CrmOpportunity(
    id="006000000000001AAA",
    account_id=ACME.id,
    name="Renewal",
    stage_name="Negotiation",
    close_date=date(2026, 12, 31),
)
WON = CrmOpportunity(
    id="006000000000002AAA",
    account_id=ACME.id,
    name="First deal",
    stage_name="Closed Won",
    close_date=date(2025, 6, 30),
    is_closed=True,
    is_won=True,
    amount=Decimal("50000"),
)
MIRROR = MemoryMirror(
    accounts=[ACME],
    contacts=[ANN],
    leads=[BOB],
    opportunities=[OPEN, WON],
    users=[
        CrmUser(id="005000000000001AAA", name="Olive Owner"),
        CrmUser(id="005000000000002AAA", name="Rita Rep"),
    ],
)
SEEN = datetime(2026, 11, 22, 9, tzinfo=UTC)
VISITOR_AGGREGATE = VisitorAggregate(
    last_seen=SEEN,
    last_session_started_at=SEEN,
    last_session_pages=("/", "/pricing"),
    active_seconds=120,
    page_views=7,
    sessions=2,
    utm=UtmFirstSeen(source=(("google", SEEN),), campaign=(("q4", SEEN),)),
)
COMPANY_AGGREGATE = CompanyAggregate(
    last_seen=SEEN,
    last_session_started_at=SEEN,
    last_session_pages=("/pricing",),
    active_seconds=600,
    page_views=30,
    sessions=6,
    utm=UtmFirstSeen(source=(("google", SEEN), ("linkedin", SEEN))),
    visitor_count=4,
)
ACCOUNT_CUSTOM = {
    "Tier__c": "Gold",
    "Industries__c": "Retail;Software",
    "Revenue__c": 1_200_000.0,
    "Strategic__c": True,
    "Renewal__c": "2027-01-31",
    "Scored_At__c": "2026-11-01T10:00:00.000+0000",
}


def ann_facts(cat: FieldCatalogue) -> dict[str, FactValue]:
    return visitor_facts(
        catalogue=cat,
        email="ann@acme.com",
        name="Ann",
        title="VP Sales",
        identification_source="form",
        first_seen=datetime(2026, 10, 1, tzinfo=UTC),
        aggregate=VISITOR_AGGREGATE,
        company_domain="acme.com",
        company_name="Acme Inc",
        company_aggregate=COMPANY_AGGREGATE,
        match=match_visitor("acme.com", "ann@acme.com", MIRROR),
        opportunities=[OPEN, WON],
        account_custom=ACCOUNT_CUSTOM,
        person_custom={"persona__c": "Economic buyer", "Score__c": 87},
    )


def test_a_matched_visitor(cat: FieldCatalogue) -> None:
    facts = ann_facts(cat)
    assert facts == {
        "visitor.email": "ann@acme.com",
        "visitor.identified": True,
        "visitor.identification_source": "form",
        "visitor.name": "Ann",
        "visitor.title": "VP Sales",
        "visitor.first_seen": datetime(2026, 10, 1, tzinfo=UTC),
        "visitor.last_seen": SEEN,
        "visitor.page_views": 7,
        "visitor.sessions": 2,
        "visitor.active_seconds": 120,
        "visitor.last_session_pages": ("/", "/pricing"),
        "visitor.utm_campaigns": ("q4",),
        "visitor.utm_contents": (),
        "visitor.utm_mediums": (),
        "visitor.utm_sources": ("google",),
        "company.domain": "acme.com",
        "company.name": "Acme Inc",
        "company.visitor_count": 4,
        "company.last_seen": SEEN,
        "company.page_views": 30,
        "company.sessions": 6,
        "company.active_seconds": 600,
        "company.last_session_pages": ("/pricing",),
        "company.utm_campaigns": (),
        "company.utm_contents": (),
        "company.utm_mediums": (),
        "company.utm_sources": ("google", "linkedin"),
        "crm_company.exists": True,
        "crm_company.name": "Acme",
        "crm_company.website": "https://www.acme.com",
        "crm_company.type": "Customer - Direct",
        "crm_company.owner_name": "Olive Owner",
        "crm_company.is_customer": True,
        "crm_company.created_date": CREATED,
        "crm_company.last_activity_date": date(2026, 11, 20),
        "crm_company.account_count": 1,
        "crm_company.contact_count": 1,
        "crm_company.lead_count": 1,
        "crm_company.opportunity_count": 2,
        "crm_company.open_opportunity_count": 1,
        "crm_company.has_open_opportunity": True,
        "crm_company.has_won_opportunity": True,
        "crm_company.opportunity_stages": ("Closed Won", "Negotiation"),
        "crm_company.latest_close_date": date(2026, 12, 31),
        "crm_company.custom.Tier__c": "Gold",
        "crm_company.custom.Industries__c": ("Retail", "Software"),
        "crm_company.custom.Revenue__c": 1_200_000.0,
        "crm_company.custom.Strategic__c": True,
        "crm_company.custom.Renewal__c": date(2027, 1, 31),
        "crm_company.custom.Scored_At__c": datetime(2026, 11, 1, 10, tzinfo=UTC),
        "crm_contact.exists": True,
        "crm_contact.object": "Contact",
        "crm_contact.name": "Ann Lee",
        "crm_contact.email": "ann@acme.com",
        "crm_contact.title": "VP Sales",
        "crm_contact.owner_name": "Rita Rep",
        "crm_contact.custom.Persona__c": "Economic buyer",
        "crm_contact.custom.Score__c": 87,
    }


def test_every_fact_key_is_a_catalogue_field(cat: FieldCatalogue) -> None:
    assert set(ann_facts(cat)) == {f.key for f in cat}


def test_the_docs_example_over_built_facts(cat: FieldCatalogue) -> None:
    rule = parse_rule(
        {
            "all": [
                {
                    "field": "visitor.last_seen",
                    "op": "within_last",
                    "value": {"amount": 7, "unit": "days"},
                },
                {
                    "any": [
                        {"field": "company.visitor_count", "op": "gte", "value": 3},
                        {"field": "crm_company.type", "op": "in", "value": ["Customer - Direct"]},
                    ]
                },
                {"field": "crm_company.custom.Tier__c", "op": "in", "value": ["gold"]},
                {"field": "crm_company.custom.Renewal__c", "op": "after", "value": "2027-01-01"},
            ]
        },
        cat,
    )
    assert evaluate(rule, ann_facts(cat), now=NOW) is True


def test_a_lead_is_the_person_when_there_is_no_contact(cat: FieldCatalogue) -> None:
    facts = visitor_facts(
        catalogue=cat,
        email="bob@acme.com",
        match=match_visitor("acme.com", "bob@acme.com", MIRROR),
        person_custom={"Persona__c": "Champion", "Score__c": "not a number"},
    )
    assert facts["crm_contact.object"] == "Lead"
    assert facts["crm_contact.name"] == "Bob Day"
    assert facts["crm_contact.owner_name"] is None
    assert facts["crm_contact.custom.Persona__c"] == "Champion"
    assert facts["crm_contact.custom.Score__c"] is None


def test_a_match_that_found_nothing_is_knowledge(cat: FieldCatalogue) -> None:
    facts = visitor_facts(
        catalogue=cat,
        email="zed@globex.com",
        match=match_visitor("globex.com", "zed@globex.com", MIRROR),
        account_custom={"Tier__c": "Gold"},
    )
    assert facts["crm_company.exists"] is False
    assert facts["crm_company.is_customer"] is False
    assert facts["crm_company.has_open_opportunity"] is False
    assert facts["crm_company.open_opportunity_count"] == 0
    assert facts["crm_company.account_count"] == 0
    assert facts["crm_company.opportunity_stages"] == ()
    assert facts["crm_company.name"] is None
    assert facts["crm_company.custom.Tier__c"] is None
    assert facts["crm_contact.exists"] is False
    assert facts["crm_contact.title"] is None


def test_without_a_match_the_crm_is_unknown(cat: FieldCatalogue) -> None:
    facts = visitor_facts(catalogue=cat)
    assert all(facts[f.key] is None for f in cat if f.key.startswith("crm_"))
    assert facts["visitor.identified"] is False
    assert facts["visitor.page_views"] is None
    assert facts["company.visitor_count"] is None


def test_without_opportunities_their_facts_are_unknown(cat: FieldCatalogue) -> None:
    prospect = CrmAccount(
        id="001000000000009AAA",
        name="Initech",
        website="initech.com",
        type="Prospect",
        created_date=CREATED,
        last_modified_date=CREATED,
    )
    match = match_visitor("initech.com", None, MemoryMirror(accounts=[prospect]))
    facts = company_facts(catalogue=cat, domain="initech.com", match=match)
    assert facts["crm_company.exists"] is True
    assert facts["crm_company.has_open_opportunity"] is None
    assert facts["crm_company.has_won_opportunity"] is None
    assert facts["crm_company.is_customer"] is None
    assert facts["crm_company.owner_name"] is None
    customer = company_facts(
        catalogue=cat, domain="acme.com", match=match_visitor("acme.com", None, MIRROR)
    )
    assert customer["crm_company.is_customer"] is True  # its Type says so


def test_company_facts_have_no_visitor_or_person(cat: FieldCatalogue) -> None:
    facts = company_facts(
        catalogue=cat,
        domain="acme.com",
        name="Acme Inc",
        aggregate=COMPANY_AGGREGATE,
        match=match_visitor("acme.com", None, MIRROR),
        opportunities=[OPEN],
        account_custom=ACCOUNT_CUSTOM,
    )
    assert not any(key.startswith(("visitor.", "crm_contact.")) for key in facts)
    assert facts["company.visitor_count"] == 4
    assert facts["crm_company.has_won_opportunity"] is False
    assert facts["crm_company.is_customer"] is True
    assert facts["crm_company.custom.Industries__c"] == ("Retail", "Software")
    visitor_rule = parse_rule({"field": "visitor.page_views", "op": "gt", "value": 1}, cat)
    assert evaluate(visitor_rule, facts, now=NOW) is False


@pytest.mark.parametrize(
    ("field_type", "raw", "expected"),
    [
        (FieldType.TEXT, "Gold", "Gold"),
        (FieldType.TEXT, 42, "42"),
        (FieldType.TEXT, "  ", None),
        (FieldType.TEXT, True, None),
        (FieldType.PICKLIST, "Gold", "Gold"),
        (FieldType.TEXT_LIST, "a; b;;c", ("a", "b", "c")),
        (FieldType.TEXT_LIST, ["a", "b"], ("a", "b")),
        (FieldType.TEXT_LIST, 5, None),
        (FieldType.NUMBER, 5, 5),
        (FieldType.NUMBER, 2.5, 2.5),
        (FieldType.NUMBER, "2.5", Decimal("2.5")),
        (FieldType.NUMBER, "abc", None),
        (FieldType.NUMBER, "NaN", None),
        (FieldType.NUMBER, False, None),
        (FieldType.BOOLEAN, True, True),
        (FieldType.BOOLEAN, "false", False),
        (FieldType.BOOLEAN, "yes", None),
        (FieldType.DATE, "2026-11-24", date(2026, 11, 24)),
        (FieldType.DATE, date(2026, 11, 24), date(2026, 11, 24)),
        (FieldType.DATE, datetime(2026, 11, 24, 23, tzinfo=UTC), date(2026, 11, 24)),
        (FieldType.DATE, "24/11/2026", None),
        (FieldType.DATETIME, "2026-11-24T09:00:00.000+0000", datetime(2026, 11, 24, 9, tzinfo=UTC)),
        (FieldType.DATETIME, "2026-11-24T09:00:00", datetime(2026, 11, 24, 9, tzinfo=UTC)),
        (FieldType.DATETIME, date(2026, 11, 24), datetime(2026, 11, 24, tzinfo=UTC)),
        (FieldType.DATETIME, "soon", None),
        (FieldType.DATETIME, 3, None),
        (FieldType.DATE, None, None),
    ],
)
def test_custom_values_take_their_fields_type(
    field_type: FieldType, raw: object, expected: object
) -> None:
    assert custom_fact(field_type, raw) == expected


def test_custom_conditions_over_converted_values(cat: FieldCatalogue) -> None:
    facts = ann_facts(cat)
    for data, expected in [
        ({"field": "crm_company.custom.Revenue__c", "op": "gte", "value": 1_200_000}, True),
        ({"field": "crm_company.custom.Strategic__c", "op": "is_true"}, True),
        (
            {
                "field": "crm_company.custom.Industries__c",
                "op": "contains_all",
                "value": ["software", "RETAIL"],
            },
            True,
        ),
        (
            {
                "field": "crm_company.custom.Scored_At__c",
                "op": "within_last",
                "value": {"amount": 4, "unit": "weeks"},
            },
            True,
        ),
        ({"field": "crm_contact.custom.Score__c", "op": "between", "value": [80, 90]}, True),
        ({"field": "crm_contact.custom.Persona__c", "op": "contains", "value": "BUYER"}, True),
    ]:
        rule = parse_rule(data, cat)
        assert evaluate(rule, facts, now=NOW) is expected, data
