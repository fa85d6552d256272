"""Properties over random valid rules: the JSON form round-trips and evaluates identically."""

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any as JsonAny

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hearth.segments import (
    MAX_DEPTH,
    OPERATORS,
    All,
    Any,
    Facts,
    Field,
    FieldType,
    Not,
    Operator,
    Rule,
    TimeUnit,
    ValueKind,
    Window,
    evaluate,
    explain,
    holds,
    parse_rule,
    to_json,
)
from hearth.segments import Condition as Cond

from .conftest import NOW, custom_catalogue

CATALOGUE = custom_catalogue()
FIELDS = [
    CATALOGUE[key]
    for key in (
        "visitor.email",
        "visitor.page_views",
        "visitor.identified",
        "visitor.last_seen",
        "visitor.utm_sources",
        "visitor.identification_source",
        "crm_company.last_activity_date",
        "crm_company.type",
        "crm_company.custom.Tier__c",
        "crm_company.custom.Revenue__c",
        "crm_contact.custom.Persona__c",
    )
]
assert {f.type for f in FIELDS} == set(FieldType)

WORDS = st.sampled_from(["acme", "ACME", "Acme Inc", "globex", "a", "inc", "Gold", "gold"])
NUMBERS = st.one_of(
    st.integers(-3, 12),
    st.floats(-3, 12, allow_nan=False).map(lambda x: round(x, 1)),
)
TIMES = st.datetimes(
    min_value=datetime(2025, 11, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
DATES = st.dates(min_value=date(2025, 11, 1), max_value=date(2026, 12, 31))


def values(kind: ValueKind, field: Field) -> st.SearchStrategy[JsonAny]:
    if kind is ValueKind.TEXT:
        return WORDS
    if kind is ValueKind.TEXT_LIST:
        return st.lists(WORDS, min_size=1, max_size=3)
    if kind is ValueKind.PICKLIST_VALUES:
        choices = st.sampled_from(field.values) if field.values else WORDS
        return st.lists(choices, min_size=1, max_size=3)
    if kind is ValueKind.NUMBER:
        return NUMBERS
    if kind is ValueKind.NUMBER_RANGE:
        return st.lists(NUMBERS, min_size=2, max_size=2).map(sorted)
    if kind is ValueKind.DATETIME:
        return TIMES.map(lambda t: t.isoformat())
    if kind is ValueKind.DATE:
        return DATES.map(date.isoformat)
    units = list(TimeUnit) if kind is ValueKind.WINDOW else [u for u in TimeUnit if u != "hours"]
    return st.fixed_dictionaries({"amount": st.integers(1, 60), "unit": st.sampled_from(units)})


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, JsonAny]:
    field = draw(st.sampled_from(FIELDS))
    op, kind = draw(st.sampled_from(sorted(OPERATORS[field.type].items())))
    data: dict[str, JsonAny] = {"field": field.key, "op": op.value}
    if kind is not ValueKind.NONE:
        data["value"] = draw(values(kind, field))
    return data


rules_json = st.recursive(
    conditions(),
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=4).map(lambda rules: {"all": rules}),
        st.lists(children, min_size=1, max_size=4).map(lambda rules: {"any": rules}),
        children.map(lambda rule: {"not": rule}),
    ),
    max_leaves=24,
)


def facts_of(field: Field) -> st.SearchStrategy[JsonAny]:
    known: st.SearchStrategy[JsonAny] = {
        FieldType.TEXT: WORDS,
        FieldType.PICKLIST: st.sampled_from([*field.values, "acme"]) if field.values else WORDS,
        FieldType.NUMBER: NUMBERS,
        FieldType.BOOLEAN: st.booleans(),
        FieldType.DATETIME: TIMES,
        FieldType.DATE: DATES,
        FieldType.TEXT_LIST: st.lists(WORDS, max_size=3).map(tuple),
    }[field.type]
    return st.one_of(st.none(), known)


facts_strategy = st.fixed_dictionaries({f.key: facts_of(f) for f in FIELDS})
nows = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


def depth(data: JsonAny) -> int:
    if "field" in data:
        return 0
    if "not" in data:
        return 1 + depth(data["not"])
    return 1 + max(depth(child) for child in next(iter(data.values())))


@settings(max_examples=400, deadline=None)
@given(rules_json, facts_strategy, nows)
def test_random_rules_round_trip_and_evaluate_identically(
    data: dict[str, JsonAny], facts: Facts, now: datetime
) -> None:
    assume(depth(data) <= MAX_DEPTH)
    rule = parse_rule(data, CATALOGUE)
    stored = json.loads(json.dumps(to_json(rule)))
    again = parse_rule(stored, CATALOGUE)
    assert again == rule
    assert to_json(again) == stored
    result = evaluate(rule, facts, now=now)
    assert evaluate(again, facts, now=now) == result
    assert explain(rule, facts, now).matched == result
    assert evaluate(Not(rule), facts, now=now) is not result


@settings(max_examples=200, deadline=None)
@given(st.lists(rules_json, min_size=1, max_size=3), facts_strategy)
def test_de_morgan(datas: list[dict[str, JsonAny]], facts: Facts) -> None:
    assume(all(depth(data) < MAX_DEPTH for data in datas))
    rules: tuple[Rule, ...] = tuple(parse_rule(data, CATALOGUE) for data in datas)
    negated = tuple(Not(rule) for rule in rules)
    assert evaluate(Not(All(rules)), facts, now=NOW) == evaluate(Any(negated), facts, now=NOW)
    assert evaluate(Not(Any(rules)), facts, now=NOW) == evaluate(All(negated), facts, now=NOW)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 60),
    st.sampled_from(list(TimeUnit)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2000)),
)
def test_a_past_time_is_in_exactly_one_of_within_last_and_more_than_ago(
    amount: int, unit: TimeUnit, age: timedelta
) -> None:
    window = Window(amount, unit)
    fact = NOW - age
    within = holds(Cond("f", Operator.WITHIN_LAST, window), fact, now=NOW)
    older = holds(Cond("f", Operator.MORE_THAN_AGO, window), fact, now=NOW)
    assert within != older
    day = fact.date()
    if unit is not TimeUnit.HOURS:
        within_day = holds(Cond("f", Operator.WITHIN_LAST, window), day, now=NOW)
        older_day = holds(Cond("f", Operator.MORE_THAN_AGO, window), day, now=NOW)
        assert within_day != older_day


@settings(max_examples=200, deadline=None)
@given(conditions())
def test_only_missing_value_questions_hold_on_unknown_values(data: dict[str, JsonAny]) -> None:
    rule = parse_rule(data, CATALOGUE)
    assert isinstance(rule, Cond)
    expected = rule.operator in (Operator.IS_NOT_SET, Operator.IS_EMPTY)
    assert evaluate(rule, {}, now=NOW) is expected
