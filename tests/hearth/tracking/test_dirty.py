"""Which Salesforce fields an aggregate change touches."""

from hearth.provisioning.catalogue import fields_for
from hearth.tracking import (
    COMPANY_FIELDS,
    VISITOR_FIELDS,
    CompanyAggregate,
    VisitorAggregate,
    combine,
    company_changes,
    recompute,
    visitor_changes,
)
from tests.hearth.tracking.builders import active, at, page


def test_the_field_names_are_the_catalogue_ones() -> None:
    for obj in ("Lead", "Contact"):
        names = {spec.api_name for spec in fields_for(obj)}
        assert set(VISITOR_FIELDS) <= names
    assert set(COMPANY_FIELDS) <= {spec.api_name for spec in fields_for("Account")}
    assert set(COMPANY_FIELDS) - set(VISITOR_FIELDS) == {"Hearth_Visitor_Count__c"}
    assert len(VISITOR_FIELDS) == 9


def test_no_change_no_fields() -> None:
    aggregate = recompute([page("p1", at(0), query="utm_source=g"), active("a1", at(1))])
    assert visitor_changes(aggregate, aggregate) == frozenset()
    company = combine([("v", aggregate)])
    assert company_changes(company, company) == frozenset()


def test_an_activity_event_changes_active_time_and_last_seen() -> None:
    events = [page("p1", at(0)), active("a1", at(1), 10)]
    old = recompute(events)
    new = recompute([*events, active("a2", at(2), 20)])
    assert visitor_changes(old, new) == {"Hearth_Total_Active_Time__c", "Hearth_Last_Seen__c"}


def test_last_seen_is_compared_to_the_second() -> None:
    old = recompute([page("p1", at(0, 1.2))])
    new = recompute([page("p1", at(0, 1.2)), active("a1", at(0, 1.7))])
    assert visitor_changes(old, new) == {"Hearth_Total_Active_Time__c"}


def test_a_new_page_and_a_new_session() -> None:
    old = recompute([page("p1", at(0), "/")])
    same_session = recompute([page("p1", at(0), "/"), page("p2", at(1), "/pricing")])
    assert visitor_changes(old, same_session) == {
        "Hearth_Last_Seen__c",
        "Hearth_Last_Pages_Visited__c",
        "Hearth_Total_Pages_Viewed__c",
    }
    new_session = recompute([page("p1", at(0), "/"), page("p2", at(30), "/")])
    assert visitor_changes(old, new_session) == {
        "Hearth_Last_Seen__c",
        "Hearth_Total_Pages_Viewed__c",
        "Hearth_Total_Sessions__c",
    }


def test_utm_lists_compare_values_not_first_sight_times() -> None:
    late = recompute([page("p1", at(5), query="utm_source=g")])
    early = recompute([page("p1", at(5), query="utm_source=g"), page("p0", at(1))])
    assert "Hearth_UTM_Sources__c" not in visitor_changes(late, early)
    more = recompute(
        [
            page("p1", at(5), query="utm_source=g"),
            page("p2", at(6), query="utm_source=b&utm_medium=m"),
        ]
    )
    assert visitor_changes(late, more) >= {"Hearth_UTM_Sources__c", "Hearth_UTM_Mediums__c"}


def test_never_written_means_every_field_with_a_value() -> None:
    aggregate = recompute([page("p1", at(0), query="utm_campaign=c")])
    assert visitor_changes(None, aggregate) == set(VISITOR_FIELDS) - {
        "Hearth_UTM_Contents__c",
        "Hearth_UTM_Mediums__c",
        "Hearth_UTM_Sources__c",
    }
    assert visitor_changes(None, VisitorAggregate()) == {
        "Hearth_Total_Active_Time__c",
        "Hearth_Total_Pages_Viewed__c",
        "Hearth_Total_Sessions__c",
    }


def test_company_visitor_count() -> None:
    ann = recompute([page("p1", at(0))])
    bob = recompute([page("q1", at(0), anon="b")])
    one = combine([("ann", ann)])
    two = combine([("ann", ann), ("bob", bob)])
    assert company_changes(one, two) == {
        "Hearth_Visitor_Count__c",
        "Hearth_Total_Pages_Viewed__c",
        "Hearth_Total_Sessions__c",
    }
    assert "Hearth_Visitor_Count__c" in company_changes(None, CompanyAggregate())
