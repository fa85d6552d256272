"""Evaluation: every operator of every type, unknown values, boundaries, windows, explanations."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from hearth.segments import (
    All,
    Any,
    Condition,
    FactValue,
    Not,
    NumberRange,
    Operator,
    TimeUnit,
    Value,
    Window,
    evaluate,
    explain,
    holds,
)

from .conftest import NOW

Op = Operator


def check(op: Operator, value: Value, fact: FactValue, *, now: datetime = NOW) -> bool:
    rule = Condition("f", op, value)
    result = evaluate(rule, {"f": fact}, now=now)
    assert result == holds(rule, fact, now=now)
    assert result == explain(rule, {"f": fact}, now).matched
    return result


# -- text -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "fact", "expected"),
    [
        (Op.EQUALS, "ann@acme.com", "ANN@Acme.com", True),
        (Op.EQUALS, "ann@acme.com", "ann@acme.co", False),
        (Op.EQUALS, "straße", "STRASSE", True),  # casefold, not lower
        (Op.NOT_EQUALS, "ann@acme.com", "bob@acme.com", True),
        (Op.NOT_EQUALS, "ann@acme.com", "Ann@ACME.com", False),
        (Op.CONTAINS, "ACME", "ann@acme.com", True),
        (Op.CONTAINS, "globex", "ann@acme.com", False),
        (Op.NOT_CONTAINS, "globex", "ann@acme.com", True),
        (Op.NOT_CONTAINS, "Acme", "ann@acme.com", False),
        (Op.STARTS_WITH, "ANN", "ann@acme.com", True),
        (Op.STARTS_WITH, "acme", "ann@acme.com", False),
        (Op.ENDS_WITH, ".COM", "ann@acme.com", True),
        (Op.ENDS_WITH, ".de", "ann@acme.com", False),
        (Op.IN, ("x", "Ann@Acme.com"), "ann@acme.com", True),
        (Op.IN, ("x", "y"), "ann@acme.com", False),
        (Op.NOT_IN, ("x", "y"), "ann", True),
        (Op.NOT_IN, ("x", "ANN"), "ann", False),
        (Op.IS_SET, None, "ann", True),
        (Op.IS_NOT_SET, None, "ann", False),
    ],
)
def test_text(op: Operator, value: Value, fact: str, expected: bool) -> None:
    assert check(op, value, fact) is expected


@pytest.mark.parametrize(
    "op",
    [Op.EQUALS, Op.NOT_EQUALS, Op.CONTAINS, Op.NOT_CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH],
)
@pytest.mark.parametrize("fact", [None, "", "   ", 5])
def test_text_comparisons_on_unknown_values_are_false(op: Operator, fact: FactValue) -> None:
    assert check(op, "x", fact) is False
    assert evaluate(Not(Condition("f", op, "x")), {"f": fact}, now=NOW) is True


@pytest.mark.parametrize("fact", [None, "", "  "])
def test_unknown_text_is_not_set(fact: FactValue) -> None:
    assert check(Op.IS_SET, None, fact) is False
    assert check(Op.IS_NOT_SET, None, fact) is True
    assert check(Op.IN, ("x",), fact) is False
    assert check(Op.NOT_IN, ("x",), fact) is False


def test_a_missing_key_is_an_unknown_value() -> None:
    assert evaluate(Condition("f", Op.IS_NOT_SET), {}, now=NOW) is True
    assert evaluate(Condition("f", Op.NOT_EQUALS, "x"), {}, now=NOW) is False


# -- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "fact", "expected"),
    [
        (Op.EQ, 5, 5, True),
        (Op.EQ, 5, 5.0, True),
        (Op.EQ, 5, 6, False),
        (Op.EQ, 1.1, Decimal("1.1"), True),
        (Op.EQ, 0.1, 0.1, True),
        (Op.NE, 5, 6, True),
        (Op.NE, 5, 5, False),
        (Op.GT, 5, 6, True),
        (Op.GT, 5, 5, False),
        (Op.GTE, 5, 5, True),
        (Op.GTE, 5, 4.999, False),
        (Op.LT, 5, 4, True),
        (Op.LT, 5, 5, False),
        (Op.LTE, 5, 5, True),
        (Op.LTE, 5, Decimal("5.01"), False),
        (Op.BETWEEN, NumberRange(1, 3), 1, True),
        (Op.BETWEEN, NumberRange(1, 3), 3, True),
        (Op.BETWEEN, NumberRange(1, 3), 2.5, True),
        (Op.BETWEEN, NumberRange(1, 3), 0.999, False),
        (Op.BETWEEN, NumberRange(1, 3), 3.001, False),
        (Op.IS_SET, None, 0, True),
        (Op.IS_NOT_SET, None, 0, False),
    ],
)
def test_numbers(op: Operator, value: Value, fact: FactValue, expected: bool) -> None:
    assert check(op, value, fact) is expected


@pytest.mark.parametrize("op", [Op.EQ, Op.NE, Op.GT, Op.GTE, Op.LT, Op.LTE])
@pytest.mark.parametrize("fact", [None, float("nan"), True, "5", Decimal("NaN")])
def test_number_comparisons_on_unknown_values_are_false(op: Operator, fact: FactValue) -> None:
    assert check(op, 5, fact) is False
    assert check(Op.BETWEEN, NumberRange(0, 10), fact) is False


def test_not_gt_includes_unknown_page_views_but_lte_does_not() -> None:
    not_gt = Not(Condition("visitor.page_views", Op.GT, 5))
    lte = Condition("visitor.page_views", Op.LTE, 5)
    assert evaluate(not_gt, {}, now=NOW) is True
    assert evaluate(lte, {}, now=NOW) is False
    assert evaluate(not_gt, {"visitor.page_views": 3}, now=NOW) is True
    assert evaluate(not_gt, {"visitor.page_views": 6}, now=NOW) is False


def test_nan_is_not_set() -> None:
    assert check(Op.IS_SET, None, float("nan")) is False
    assert check(Op.IS_NOT_SET, None, float("nan")) is True


# -- booleans -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fact", "is_true", "is_false"),
    [(True, True, False), (False, False, True), (None, False, False), (1, False, False)],
)
def test_booleans(fact: FactValue, is_true: bool, is_false: bool) -> None:
    assert check(Op.IS_TRUE, None, fact) is is_true
    assert check(Op.IS_FALSE, None, fact) is is_false


# -- datetimes ------------------------------------------------------------------------------------

T = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
SEC = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("op", "value", "fact", "expected"),
    [
        (Op.BEFORE, T, T - SEC, True),
        (Op.BEFORE, T, T, False),
        (Op.AFTER, T, T + SEC, True),
        (Op.AFTER, T, T, False),
        (Op.BEFORE, T, datetime(2026, 11, 1, 11, 0, tzinfo=timezone(timedelta(hours=2))), True),
        (Op.BEFORE, T, datetime(2026, 11, 1, 9, 59), True),  # naive: UTC
        (Op.ON, date(2026, 11, 1), datetime(2026, 11, 1, 23, 59, 59, tzinfo=UTC), True),
        (Op.ON, date(2026, 11, 1), datetime(2026, 11, 2, 0, 0, tzinfo=UTC), False),
        (
            Op.ON,
            date(2026, 11, 1),
            datetime(2026, 11, 2, 0, 30, tzinfo=timezone(timedelta(hours=1))),
            True,
        ),
        (Op.IS_SET, None, T, True),
        (Op.IS_NOT_SET, None, T, False),
    ],
)
def test_datetimes(op: Operator, value: Value, fact: FactValue, expected: bool) -> None:
    assert check(op, value, fact) is expected


@pytest.mark.parametrize(
    ("fact", "within", "more_than"),
    [
        (NOW, True, False),
        (NOW - timedelta(days=7), True, False),  # exactly 7 days ago: inside
        (NOW - timedelta(days=7) + SEC, True, False),
        (NOW - timedelta(days=7) - SEC, False, True),
        (NOW - timedelta(days=300), False, True),
        (NOW + SEC, False, False),  # the future is in neither
    ],
)
def test_within_last_7_days_and_more_than_7_days_ago(
    fact: datetime, within: bool, more_than: bool
) -> None:
    window = Window(7, TimeUnit.DAYS)
    assert check(Op.WITHIN_LAST, window, fact) is within
    assert check(Op.MORE_THAN_AGO, window, fact) is more_than


@pytest.mark.parametrize(
    ("window", "boundary"),
    [
        (Window(2, TimeUnit.HOURS), NOW - timedelta(hours=2)),
        (Window(3, TimeUnit.DAYS), NOW - timedelta(days=3)),
        (Window(2, TimeUnit.WEEKS), NOW - timedelta(days=14)),
        (Window(1, TimeUnit.MONTHS), datetime(2026, 10, 24, 12, tzinfo=UTC)),
        (Window(14, TimeUnit.MONTHS), datetime(2025, 9, 24, 12, tzinfo=UTC)),
    ],
)
def test_each_unit_at_its_boundary(window: Window, boundary: datetime) -> None:
    assert check(Op.WITHIN_LAST, window, boundary) is True
    assert check(Op.WITHIN_LAST, window, boundary - SEC) is False
    assert check(Op.MORE_THAN_AGO, window, boundary) is False
    assert check(Op.MORE_THAN_AGO, window, boundary - SEC) is True


def test_a_month_before_the_31st_is_the_end_of_the_shorter_month() -> None:
    now = datetime(2028, 3, 31, 8, tzinfo=UTC)
    window = Window(1, TimeUnit.MONTHS)
    assert check(Op.WITHIN_LAST, window, datetime(2028, 2, 29, 8, tzinfo=UTC), now=now) is True
    assert check(Op.WITHIN_LAST, window, datetime(2028, 2, 29, 7, 59, tzinfo=UTC), now=now) is False


def test_the_window_moves_with_now() -> None:
    window = Window(7, TimeUnit.DAYS)
    seen = datetime(2026, 11, 20, tzinfo=UTC)
    assert check(Op.WITHIN_LAST, window, seen, now=datetime(2026, 11, 27, tzinfo=UTC)) is True
    assert (
        check(Op.WITHIN_LAST, window, seen, now=datetime(2026, 11, 27, 0, 0, 1, tzinfo=UTC))
        is False
    )


def test_a_window_reaching_before_year_one_has_no_start() -> None:
    now = datetime(3, 1, 1, tzinfo=UTC)
    fact = datetime(1, 1, 1, tzinfo=UTC)
    assert check(Op.WITHIN_LAST, Window(10_000, TimeUnit.DAYS), fact, now=now) is True
    assert check(Op.MORE_THAN_AGO, Window(10_000, TimeUnit.MONTHS), fact, now=now) is False
    assert check(Op.WITHIN_LAST, Window(10_000, TimeUnit.MONTHS), fact, now=now) is True


@pytest.mark.parametrize("op", [Op.BEFORE, Op.AFTER])
@pytest.mark.parametrize("fact", [None, "2026-11-01", 5])
def test_time_comparisons_on_unknown_values_are_false(op: Operator, fact: FactValue) -> None:
    assert check(op, T, fact) is False
    assert check(Op.ON, date(2026, 11, 1), fact) is False
    assert check(Op.WITHIN_LAST, Window(7, TimeUnit.DAYS), fact) is False
    assert check(Op.MORE_THAN_AGO, Window(7, TimeUnit.DAYS), fact) is False


def test_evaluate_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        evaluate(Condition("f", Op.IS_SET), {}, now=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="aware"):
        explain(Condition("f", Op.IS_SET), {}, datetime(2026, 1, 1))


# -- dates ----------------------------------------------------------------------------------------

D = date(2026, 11, 1)
TODAY = NOW.date()


@pytest.mark.parametrize(
    ("op", "value", "fact", "expected"),
    [
        (Op.BEFORE, D, date(2026, 10, 31), True),
        (Op.BEFORE, D, D, False),
        (Op.AFTER, D, date(2026, 11, 2), True),
        (Op.AFTER, D, D, False),
        (Op.ON, D, D, True),
        (Op.ON, D, date(2026, 11, 2), False),
        (Op.BEFORE, D, datetime(2026, 10, 31, 23, 59, tzinfo=UTC), True),  # a datetime's UTC day
        (Op.WITHIN_LAST, Window(7, TimeUnit.DAYS), TODAY, True),
        (Op.WITHIN_LAST, Window(7, TimeUnit.DAYS), TODAY - timedelta(days=7), True),
        (Op.WITHIN_LAST, Window(7, TimeUnit.DAYS), TODAY - timedelta(days=8), False),
        (Op.WITHIN_LAST, Window(7, TimeUnit.DAYS), TODAY + timedelta(days=1), False),
        (Op.MORE_THAN_AGO, Window(7, TimeUnit.DAYS), TODAY - timedelta(days=7), False),
        (Op.MORE_THAN_AGO, Window(7, TimeUnit.DAYS), TODAY - timedelta(days=8), True),
        (Op.WITHIN_LAST, Window(1, TimeUnit.MONTHS), date(2026, 10, 24), True),
        (Op.WITHIN_LAST, Window(1, TimeUnit.MONTHS), date(2026, 10, 23), False),
        (Op.MORE_THAN_AGO, Window(1, TimeUnit.WEEKS), date(2026, 11, 16), True),
        (Op.IS_SET, None, D, True),
        (Op.IS_NOT_SET, None, None, True),
    ],
)
def test_dates(op: Operator, value: Value, fact: FactValue, expected: bool) -> None:
    assert check(op, value, fact) is expected


def test_today_is_nows_utc_date() -> None:
    late = datetime(2026, 11, 24, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # 25th in UTC
    window = Window(1, TimeUnit.DAYS)
    assert check(Op.WITHIN_LAST, window, date(2026, 11, 24), now=late) is True
    assert check(Op.WITHIN_LAST, window, date(2026, 11, 23), now=late) is False


def test_an_hours_window_on_a_date_compares_its_midnight() -> None:
    assert check(Op.WITHIN_LAST, Window(12, TimeUnit.HOURS), TODAY) is True
    assert check(Op.WITHIN_LAST, Window(11, TimeUnit.HOURS), TODAY) is False


# -- lists ----------------------------------------------------------------------------------------

UTM = ("google", "LinkedIn", "newsletter")


@pytest.mark.parametrize(
    ("op", "value", "fact", "expected"),
    [
        (Op.CONTAINS_ANY, ("linkedin", "bing"), UTM, True),
        (Op.CONTAINS_ANY, ("bing",), UTM, False),
        (Op.CONTAINS_ANY, ("bing",), (), False),
        (Op.CONTAINS_ALL, ("GOOGLE", "linkedin"), UTM, True),
        (Op.CONTAINS_ALL, ("google", "bing"), UTM, False),
        (Op.CONTAINS_NONE, ("bing", "yahoo"), UTM, True),
        (Op.CONTAINS_NONE, ("bing", "Google"), UTM, False),
        (Op.CONTAINS_NONE, ("bing",), (), True),
        (Op.IS_EMPTY, None, (), True),
        (Op.IS_EMPTY, None, UTM, False),
        (Op.IS_NOT_EMPTY, None, UTM, True),
        (Op.IS_NOT_EMPTY, None, (), False),
    ],
)
def test_lists(op: Operator, value: Value, fact: FactValue, expected: bool) -> None:
    assert check(op, value, fact) is expected


def test_an_unknown_list_is_empty_and_contains_nothing() -> None:
    for op in (Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE):
        assert check(op, ("x",), None) is False
    assert check(Op.IS_EMPTY, None, None) is True
    assert check(Op.IS_NOT_EMPTY, None, None) is False


# -- picklists ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "fact", "expected"),
    [
        (Op.IN, "gold", True),
        (Op.IN, "Bronze", False),
        (Op.IN, None, False),
        (Op.NOT_IN, "Bronze", True),
        (Op.NOT_IN, "SILVER", False),
        (Op.NOT_IN, None, False),
    ],
)
def test_picklists(op: Operator, fact: FactValue, expected: bool) -> None:
    assert check(op, ("Gold", "Silver"), fact) is expected


# -- groups and explanations ----------------------------------------------------------------------


def test_all_any_not() -> None:
    yes, no = Condition("a", Op.IS_SET), Condition("b", Op.IS_SET)
    facts = {"a": "x"}
    assert evaluate(All((yes, yes)), facts, now=NOW) is True
    assert evaluate(All((yes, no)), facts, now=NOW) is False
    assert evaluate(Any((no, yes)), facts, now=NOW) is True
    assert evaluate(Any((no, no)), facts, now=NOW) is False
    assert evaluate(Not(no), facts, now=NOW) is True
    assert evaluate(Not(Not(yes)), facts, now=NOW) is True


EXAMPLE = All(
    (
        Condition("visitor.last_seen", Op.WITHIN_LAST, Window(7, TimeUnit.DAYS)),
        Any(
            (
                Condition("company.visitor_count", Op.GTE, 3),
                Condition("crm_company.type", Op.IN, ("Customer - Direct",)),
            )
        ),
        Not(Condition("visitor.email", Op.ENDS_WITH, "@competitor.com")),
    )
)


def test_explain_lists_every_condition_with_its_fact() -> None:
    facts: dict[str, FactValue] = {
        "visitor.last_seen": NOW - timedelta(days=2),
        "company.visitor_count": 1,
        "crm_company.type": "Customer - Direct",
        "visitor.email": "ann@acme.com",
    }
    explanation = explain(EXAMPLE, facts, NOW)
    assert explanation.matched is True
    assert [(c.path, c.held, c.negated, c.satisfied) for c in explanation.conditions] == [
        ("all[0]", True, False, True),
        ("all[1].any[0]", False, False, False),
        ("all[1].any[1]", True, False, True),
        ("all[2].not", False, True, True),
    ]
    assert [c.path for c in explanation.satisfied] == ["all[0]", "all[1].any[1]", "all[2].not"]
    assert [c.path for c in explanation.unsatisfied] == ["all[1].any[0]"]
    assert explanation.conditions[1].fact == 1
    assert explanation.to_json()["conditions"][0] == {
        "path": "all[0]",
        "condition": {
            "field": "visitor.last_seen",
            "op": "within_last",
            "value": {"amount": 7, "unit": "days"},
        },
        "fact": "2026-11-22T12:00:00+00:00",
        "held": True,
        "negated": False,
    }


def test_explain_does_not_short_circuit() -> None:
    explanation = explain(EXAMPLE, {}, NOW)
    assert explanation.matched is False
    assert len(explanation.conditions) == 4
    assert [c.fact for c in explanation.conditions] == [None, None, None, None]
    assert explanation.conditions[3].satisfied  # not (unknown email ends with ...) holds


def test_explain_a_single_condition_and_json_facts() -> None:
    rule = Condition("crm_company.custom.Revenue__c", Op.GT, 10)
    explanation = explain(rule, {"crm_company.custom.Revenue__c": Decimal("12.5")}, NOW)
    assert explanation.conditions[0].path == ""
    assert explanation.to_json() == {
        "matched": True,
        "conditions": [
            {
                "path": "",
                "condition": {"field": "crm_company.custom.Revenue__c", "op": "gt", "value": 10},
                "fact": "12.5",
                "held": True,
                "negated": False,
            }
        ],
    }
    listed = explain(Condition("l", Op.IS_EMPTY), {"l": ("a",)}, NOW).to_json()
    assert listed["conditions"][0]["fact"] == ["a"]
