"""Rules: the JSON form, the checks of `parse_rule` (with the bad node's path), `to_json`."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any as JsonAny

import pytest

from hearth.errors import InvalidInputError
from hearth.segments import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    All,
    Any,
    Condition,
    FieldCatalogue,
    InvalidSegment,
    Not,
    NumberRange,
    Operator,
    TimeUnit,
    Window,
    conditions,
    fields_of,
    parse_rule,
    to_json,
)


def cond(field: str, op: str, value: JsonAny = None) -> dict[str, JsonAny]:
    data: dict[str, JsonAny] = {"field": field, "op": op}
    if value is not None:
        data["value"] = value
    return data


EXAMPLE = {
    "all": [
        cond("visitor.last_seen", "within_last", {"amount": 7, "unit": "days"}),
        {
            "any": [
                cond("company.visitor_count", "gte", 3),
                cond("crm_company.type", "in", ["Customer - Direct"]),
            ]
        },
    ]
}


def test_the_docs_example_parses_to_the_tree(cat: FieldCatalogue) -> None:
    assert parse_rule(EXAMPLE, cat) == All(
        (
            Condition("visitor.last_seen", Operator.WITHIN_LAST, Window(7, TimeUnit.DAYS)),
            Any(
                (
                    Condition("company.visitor_count", Operator.GTE, 3),
                    Condition("crm_company.type", Operator.IN, ("Customer - Direct",)),
                )
            ),
        )
    )
    assert to_json(parse_rule(EXAMPLE, cat)) == EXAMPLE


@pytest.mark.parametrize(
    ("data", "value"),
    [
        (cond("visitor.email", "equals", "Ann@Acme.com"), "Ann@Acme.com"),
        (cond("visitor.email", "not_equals", "x"), "x"),
        (cond("visitor.email", "contains", "acme"), "acme"),
        (cond("visitor.email", "not_contains", "acme"), "acme"),
        (cond("visitor.email", "starts_with", "ann"), "ann"),
        (cond("visitor.email", "ends_with", ".com"), ".com"),
        (cond("visitor.email", "in", ["a", "b", "a"]), ("a", "b")),
        (cond("visitor.email", "is_set"), None),
        (cond("visitor.email", "is_not_set"), None),
        (cond("visitor.page_views", "eq", 5), 5),
        (cond("visitor.page_views", "ne", 5.5), 5.5),
        (cond("visitor.page_views", "gt", -1), -1),
        (cond("visitor.page_views", "gte", 0), 0),
        (cond("visitor.page_views", "lt", 10), 10),
        (cond("visitor.page_views", "lte", 10), 10),
        (cond("visitor.page_views", "between", [1, 1]), NumberRange(1, 1)),
        (cond("visitor.page_views", "is_set"), None),
        (cond("visitor.page_views", "is_not_set"), None),
        (cond("visitor.identified", "is_true"), None),
        (cond("visitor.identified", "is_false"), None),
        (
            cond("visitor.last_seen", "before", "2026-11-01T10:00:00+02:00"),
            datetime(2026, 11, 1, 8, tzinfo=UTC),
        ),
        (
            cond("visitor.last_seen", "after", "2026-11-01T10:00:00Z"),
            datetime(2026, 11, 1, 10, tzinfo=UTC),
        ),
        (cond("visitor.last_seen", "on", "2026-11-01"), date(2026, 11, 1)),
        (
            cond("visitor.last_seen", "within_last", {"amount": 2, "unit": "hours"}),
            Window(2, TimeUnit.HOURS),
        ),
        (
            cond("visitor.last_seen", "more_than_ago", {"amount": 1, "unit": "months"}),
            Window(1, TimeUnit.MONTHS),
        ),
        (cond("visitor.last_seen", "is_set"), None),
        (cond("crm_company.last_activity_date", "before", "2026-01-31"), date(2026, 1, 31)),
        (cond("crm_company.last_activity_date", "after", "2026-01-31"), date(2026, 1, 31)),
        (cond("crm_company.last_activity_date", "on", "2026-01-31"), date(2026, 1, 31)),
        (
            cond("crm_company.last_activity_date", "within_last", {"amount": 3, "unit": "weeks"}),
            Window(3, TimeUnit.WEEKS),
        ),
        (
            cond("crm_company.last_activity_date", "more_than_ago", {"amount": 30, "unit": "days"}),
            Window(30, TimeUnit.DAYS),
        ),
        (cond("crm_company.last_activity_date", "is_not_set"), None),
        (cond("visitor.utm_sources", "contains_any", ["google"]), ("google",)),
        (cond("visitor.utm_sources", "contains_all", ["a", "b"]), ("a", "b")),
        (cond("visitor.utm_sources", "contains_none", ["a"]), ("a",)),
        (cond("visitor.utm_sources", "is_empty"), None),
        (cond("visitor.utm_sources", "is_not_empty"), None),
        (cond("crm_company.custom.Tier__c", "in", ["gold", "SILVER"]), ("Gold", "Silver")),
        (cond("crm_company.custom.Tier__c", "not_in", ["Bronze"]), ("Bronze",)),
        (cond("crm_company.custom.Tier__c", "is_set"), None),
        (cond("crm_company.type", "in", ["customer - direct"]), ("Customer - Direct",)),
        (cond("visitor.identification_source", "in", ["Form"]), ("form",)),
        (cond("crm_company.custom.Industries__c", "contains_any", ["Retail"]), ("Retail",)),
        (cond("crm_company.custom.Revenue__c", "gt", 1_000_000), 1_000_000),
        (cond("crm_company.custom.Strategic__c", "is_true"), None),
        (cond("crm_contact.custom.Persona__c", "equals", "Buyer"), "Buyer"),
    ],
)
def test_each_operator_parses_its_value(
    cat: FieldCatalogue, data: dict[str, JsonAny], value: object
) -> None:
    rule = parse_rule(data, cat)
    assert isinstance(rule, Condition)
    assert rule.operator == data["op"]
    assert rule.value == value
    assert parse_rule(to_json(rule), cat) == rule


def test_a_picklist_without_known_values_takes_any_value() -> None:
    from hearth.segments import catalogue

    rule = parse_rule(cond("crm_company.type", "in", ["Anything"]), catalogue())
    assert isinstance(rule, Condition)
    assert rule.value == ("Anything",)


def test_custom_field_keys_take_the_catalogue_spelling(cat: FieldCatalogue) -> None:
    rule = parse_rule(cond("crm_company.custom.tier__C", "is_set"), cat)
    assert rule == Condition("crm_company.custom.Tier__c", Operator.IS_SET)


def test_datetimes_are_stored_in_utc_and_written_with_z(cat: FieldCatalogue) -> None:
    rule = parse_rule(cond("visitor.last_seen", "before", "2026-11-01T10:00:00+02:00"), cat)
    assert to_json(rule)["value"] == "2026-11-01T08:00:00Z"


def test_a_value_is_optional_or_null_for_operators_without_one(cat: FieldCatalogue) -> None:
    assert parse_rule({"field": "visitor.email", "op": "is_set", "value": None}, cat) == Condition(
        "visitor.email", Operator.IS_SET
    )
    assert to_json(Condition("visitor.email", Operator.IS_SET)) == {
        "field": "visitor.email",
        "op": "is_set",
    }


def test_not_and_nested_groups_round_trip(cat: FieldCatalogue) -> None:
    data = {
        "any": [
            {"not": cond("visitor.page_views", "gt", 5)},
            {
                "all": [
                    cond("visitor.email", "is_set"),
                    {"not": {"any": [cond("visitor.identified", "is_true")]}},
                ]
            },
        ]
    }
    rule = parse_rule(data, cat)
    assert to_json(rule) == data
    assert [path for path, _ in conditions(rule)] == [
        "any[0].not",
        "any[1].all[0]",
        "any[1].all[1].not.any[0]",
    ]
    assert fields_of(rule) == {"visitor.page_views", "visitor.email", "visitor.identified"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "rule: expected an object with one of 'all', 'any', 'not' or 'field'"),
        ({}, "rule: expected exactly one of 'all', 'any', 'not' or 'field', found none"),
        (
            {"all": [], "any": []},
            "rule: expected exactly one of 'all', 'any', 'not' or 'field', found 'all' and 'any'",
        ),
        ({"all": []}, "rule: 'all' needs at least one rule"),
        ({"any": {}}, "rule: 'any' needs a list of rules"),
        ({"all": [cond("visitor.email", "is_set")], "extra": 1}, "rule: unexpected key 'extra'"),
        ({"not": "x"}, "not: expected an object with one of 'all', 'any', 'not' or 'field'"),
        (
            {"all": [cond("visitor.email", "is_set"), {"any": [cond("visitor.nope", "is_set")]}]},
            "all[1].any[0]: unknown field 'visitor.nope'",
        ),
        (
            {"field": 3, "op": "is_set"},
            "rule: 'field' needs a field key, such as 'visitor.page_views'",
        ),
        (
            {"field": "visitor.email", "op": "is_set", "values": 1},
            "rule: unexpected key 'values'",
        ),
        (
            {
                "all": [
                    cond("visitor.email", "is_set"),
                    cond("visitor.email", "is_set"),
                    {"any": [cond("visitor.page_views", "gte", "5")]},
                ]
            },
            "all[2].any[0]: 'gte' needs a number for visitor.page_views",
        ),
        (
            cond("visitor.page_views", "gte", True),
            "rule: 'gte' needs a number for visitor.page_views",
        ),
        (
            cond("visitor.page_views", "gte", float("nan")),
            "rule: 'gte' needs a number for visitor.page_views",
        ),
        (cond("visitor.page_views", "gte"), "rule: 'gte' needs a number for visitor.page_views"),
        (
            cond("visitor.page_views", "between", [5, 1]),
            "rule: 'between' needs [low, high], two numbers with low <= high for "
            "visitor.page_views",
        ),
        (
            cond("visitor.page_views", "contains", "x"),
            "rule: 'contains' is not an operator for visitor.page_views (a number field; use one "
            "of eq, ne, gt, gte, lt, lte, between, is_set, is_not_set)",
        ),
        (
            {"field": "visitor.page_views"},
            "rule: no operator is not an operator for visitor.page_views (a number field; use one "
            "of eq, ne, gt, gte, lt, lte, between, is_set, is_not_set)",
        ),
        (
            cond("visitor.utm_sources", "is_set"),
            "rule: 'is_set' is not an operator for visitor.utm_sources (a list of text field; use "
            "one of contains_any, contains_all, contains_none, is_empty, is_not_empty)",
        ),
        (
            cond("visitor.email", "equals", " "),
            "rule: 'equals' needs a non-blank text of at most 1000 characters for visitor.email",
        ),
        (
            cond("visitor.email", "equals", 5),
            "rule: 'equals' needs a non-blank text of at most 1000 characters for visitor.email",
        ),
        (
            cond("visitor.email", "equals", "x" * 1001),
            "rule: 'equals' needs a non-blank text of at most 1000 characters for visitor.email",
        ),
        (
            cond("visitor.email", "in", []),
            "rule: 'in' needs a list of 1 to 500 non-blank texts of at most 1000 characters "
            "for visitor.email",
        ),
        (
            cond("visitor.email", "in", ["a", 1]),
            "rule: 'in' needs a list of 1 to 500 non-blank texts of at most 1000 characters "
            "for visitor.email",
        ),
        ({"field": "visitor.email", "op": "is_set", "value": "x"}, "rule: 'is_set' takes no value"),
        (
            cond("crm_company.custom.Tier__c", "in", ["Gold", "Platinum"]),
            "rule: 'Platinum' is not a value of crm_company.custom.Tier__c "
            "(one of Gold, Silver, Bronze)",
        ),
        (
            cond("visitor.last_seen", "before", "2026-11-01T10:00:00"),
            "rule: 'before' needs a date and time with a UTC offset, such as "
            "'2026-11-24T09:00:00Z' for visitor.last_seen",
        ),
        (
            cond("visitor.last_seen", "before", "2026-11-01"),
            "rule: 'before' needs a date and time with a UTC offset, such as "
            "'2026-11-24T09:00:00Z' for visitor.last_seen",
        ),
        (
            cond("crm_company.last_activity_date", "before", "2026-11-01T00:00:00Z"),
            "rule: 'before' needs a date, such as '2026-11-24' for crm_company.last_activity_date",
        ),
        (
            cond("visitor.last_seen", "on", "2026-02-30"),
            "rule: 'on' needs a date, such as '2026-11-24' for visitor.last_seen",
        ),
        (
            cond("crm_company.last_activity_date", "within_last", {"amount": 2, "unit": "hours"}),
            'rule: \'within_last\' needs a window, such as {"amount": 7, "unit": "days"} '
            "(amount 1 to 10000; unit days, weeks or months) for crm_company.last_activity_date",
        ),
        (
            cond("visitor.last_seen", "within_last", {"amount": 0, "unit": "days"}),
            'rule: \'within_last\' needs a window, such as {"amount": 7, "unit": "days"} '
            "(amount 1 to 10000; unit hours, days, weeks or months) for visitor.last_seen",
        ),
        (
            cond("visitor.last_seen", "within_last", {"amount": 7, "unit": "years"}),
            'rule: \'within_last\' needs a window, such as {"amount": 7, "unit": "days"} '
            "(amount 1 to 10000; unit hours, days, weeks or months) for visitor.last_seen",
        ),
        (
            cond("visitor.last_seen", "within_last", {"amount": 7.0, "unit": "days"}),
            'rule: \'within_last\' needs a window, such as {"amount": 7, "unit": "days"} '
            "(amount 1 to 10000; unit hours, days, weeks or months) for visitor.last_seen",
        ),
        (
            cond("visitor.last_seen", "within_last", {"amount": 7, "unit": "days", "x": 1}),
            'rule: \'within_last\' needs a window, such as {"amount": 7, "unit": "days"} '
            "(amount 1 to 10000; unit hours, days, weeks or months) for visitor.last_seen",
        ),
        (cond("visitor.email", "bogus", "x"), "rule: 'bogus' is not an operator for visitor.email"),
    ],
)
def test_bad_input_names_the_node_and_the_reason(
    cat: FieldCatalogue, data: object, message: str
) -> None:
    with pytest.raises(InvalidSegment) as raised:
        parse_rule(data, cat)
    assert str(raised.value).startswith(message)
    assert isinstance(raised.value, InvalidInputError)


def test_the_error_carries_its_path_and_reason(cat: FieldCatalogue) -> None:
    with pytest.raises(InvalidSegment) as raised:
        parse_rule({"not": {"all": [cond("visitor.nope", "is_set")]}}, cat)
    assert raised.value.path == "not.all[0]"
    assert raised.value.reason == "unknown field 'visitor.nope'"


def nested(depth: int) -> dict[str, JsonAny]:
    data: dict[str, JsonAny] = cond("visitor.email", "is_set")
    for level in range(depth):
        data = {("all", "any", "not")[level % 3]: data if level % 3 == 2 else [data]}
    return data


def test_groups_nest_at_most_max_depth_deep(cat: FieldCatalogue) -> None:
    assert parse_rule(nested(MAX_DEPTH), cat)
    with pytest.raises(InvalidSegment, match=f"groups nest at most {MAX_DEPTH} deep"):
        parse_rule(nested(MAX_DEPTH + 1), cat)


def test_very_deep_input_is_refused_without_recursing_through_it(cat: FieldCatalogue) -> None:
    with pytest.raises(InvalidSegment, match="nest at most"):
        parse_rule(nested(100_000), cat)


def test_a_rule_has_at_most_max_conditions(cat: FieldCatalogue) -> None:
    many = [cond("visitor.email", "is_set")] * MAX_CONDITIONS
    assert parse_rule({"any": many}, cat)
    with pytest.raises(InvalidSegment) as raised:
        parse_rule({"any": [*many, cond("visitor.email", "is_set")]}, cat)
    assert str(raised.value) == f"any[{MAX_CONDITIONS}]: a rule has at most 200 conditions"


def test_groups_need_rules_when_built_in_code_too() -> None:
    with pytest.raises(InvalidSegment, match="'all' needs at least one rule"):
        All(())
    with pytest.raises(InvalidSegment, match="'any' needs at least one rule"):
        Any(())
    built = All([Condition("visitor.email", "is_set")])  # type: ignore[arg-type]
    assert built.rules == (Condition("visitor.email", Operator.IS_SET),)
    assert isinstance(built.rules, tuple)
    with pytest.raises(ValueError):
        Condition("visitor.email", "bogus")  # type: ignore[arg-type]


def test_a_timezone_other_than_utc_is_the_same_instant(cat: FieldCatalogue) -> None:
    tokyo = timezone(timedelta(hours=9))
    rule = Condition("visitor.last_seen", Operator.AFTER, datetime(2026, 11, 1, 9, tzinfo=tokyo))
    assert parse_rule(to_json(rule), cat) == rule
    assert not isinstance(Not(rule).rule, All)
