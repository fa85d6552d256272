"""Does a visitor or company belong to a segment? `evaluate` says; `explain` says why. Pure.

`Facts` maps field keys to values (`hearth.segments.facts` builds them); a key that is missing
and a value that is None are the same: **unknown**. Blank text and a NaN number count as
unknown too.

**Unknown values.** A condition on an unknown value holds only when it asks whether the value is
missing: ``is_not_set`` and, for lists, ``is_empty``. Every other condition on it is false,
including the negative ones (``not_equals``, ``not_contains``, ``ne``, ``not_in``,
``contains_none``, ``is_false``): "Tier is not Gold" is a statement about a known Tier.
`Not` is plain logical negation of what it wraps, so ``{"not": {"field": "visitor.page_views",
"op": "gt", "value": 5}}`` includes the visitors whose page views are unknown, while
``{"field": ..., "op": "lte", "value": 5}`` does not.

**Comparisons.** Text, picklist and list comparisons ignore case (`str.casefold`). Numbers compare
exactly as decimals (a fact ``Decimal("1.1")`` equals a value ``1.1``). Datetimes are instants;
a naive one is taken as UTC. ``on`` compares the UTC calendar date. For date fields, ``now``'s
UTC date is "today".

**Time windows.** ``within_last`` {amount, unit} holds for values from ``now - window`` to
``now``, both included: "active in the last 7 days" includes a visitor last seen exactly 7 days
ago, and excludes a value in the future. ``more_than_ago`` holds for values strictly before
``now - window``; so for a known value not in the future exactly one of them holds. A month is a
calendar month (one month before 31 March is the last day of February); a week is 7 days. On a
date field the window counts whole days back from today.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any as _Json
from typing import Final, TypeAlias

from hearth.segments.operators import Operator, TimeUnit
from hearth.segments.rules import (
    All,
    Condition,
    Not,
    NumberRange,
    Rule,
    Value,
    Window,
    child_path,
    to_json,
)

__all__ = [
    "ConditionResult",
    "Explanation",
    "FactValue",
    "Facts",
    "evaluate",
    "explain",
    "holds",
]

FactValue: TypeAlias = str | int | float | Decimal | bool | date | datetime | tuple[str, ...] | None
"""A field's value for one visitor or company; None means unknown."""

Facts: TypeAlias = Mapping[str, FactValue]
"""Field key → value; a missing key is an unknown value."""


def evaluate(rule: Rule, facts: Facts, *, now: datetime) -> bool:
    """Whether `facts` satisfy `rule` at the time `now` (an aware datetime)."""
    _check_now(now)
    return _evaluate(rule, facts, now)


def _evaluate(rule: Rule, facts: Facts, now: datetime) -> bool:
    if isinstance(rule, Condition):
        return holds(rule, facts.get(rule.field), now=now)
    if isinstance(rule, Not):
        return not _evaluate(rule.rule, facts, now)
    if isinstance(rule, All):
        return all(_evaluate(r, facts, now) for r in rule.rules)
    return any(_evaluate(r, facts, now) for r in rule.rules)


def holds(condition: Condition, fact: FactValue, *, now: datetime) -> bool:
    """Whether one condition holds for a field whose value is `fact`."""
    return _TESTS[condition.operator](fact, condition.value, now)


# -- explanations ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class ConditionResult:
    """One condition of a rule, the fact it looked at, and whether it held.

    `negated` is true under an odd number of ``not``s: there the segment wants the condition
    not to hold.
    """

    path: str
    condition: Condition
    fact: FactValue
    held: bool
    negated: bool

    @property
    def satisfied(self) -> bool:
        """Whether the condition went the way the segment wants (`held`, unless `negated`)."""
        return self.held != self.negated

    def to_json(self) -> dict[str, _Json]:
        return {
            "path": self.path,
            "condition": to_json(self.condition),
            "fact": _fact_json(self.fact),
            "held": self.held,
            "negated": self.negated,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Explanation:
    """Whether the rule matched, and every condition's result in the rule's order."""

    matched: bool
    conditions: tuple[ConditionResult, ...]

    @property
    def satisfied(self) -> tuple[ConditionResult, ...]:
        """The conditions that went the segment's way: "why is this visitor in the segment"."""
        return tuple(c for c in self.conditions if c.satisfied)

    @property
    def unsatisfied(self) -> tuple[ConditionResult, ...]:
        """The conditions that did not: "what keeps this visitor out"."""
        return tuple(c for c in self.conditions if not c.satisfied)

    def to_json(self) -> dict[str, _Json]:
        return {"matched": self.matched, "conditions": [c.to_json() for c in self.conditions]}


def explain(rule: Rule, facts: Facts, now: datetime) -> Explanation:
    """`evaluate`'s answer with every condition's result (none is skipped by short-circuit)."""
    _check_now(now)
    results: list[ConditionResult] = []
    matched = _explain(rule, facts, now, "", False, results)
    return Explanation(matched=matched, conditions=tuple(results))


def _explain(
    rule: Rule,
    facts: Facts,
    now: datetime,
    path: str,
    negated: bool,
    out: list[ConditionResult],
) -> bool:
    if isinstance(rule, Condition):
        fact = facts.get(rule.field)
        held = holds(rule, fact, now=now)
        out.append(
            ConditionResult(path=path, condition=rule, fact=fact, held=held, negated=negated)
        )
        return held
    if isinstance(rule, Not):
        return not _explain(rule.rule, facts, now, child_path(path, "not"), not negated, out)
    kind = "all" if isinstance(rule, All) else "any"
    results = [
        _explain(child, facts, now, child_path(path, f"{kind}[{index}]"), negated, out)
        for index, child in enumerate(rule.rules)
    ]
    return all(results) if kind == "all" else any(results)


def _fact_json(fact: FactValue) -> _Json:
    if isinstance(fact, datetime | date):
        return fact.isoformat()
    if isinstance(fact, Decimal):
        return str(fact)
    if isinstance(fact, tuple):
        return list(fact)
    return fact


def _check_now(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")


# -- the operators --------------------------------------------------------------------------------


def _known(fact: FactValue) -> FactValue:
    """`fact`, or None if it is unknown (None, blank text, NaN)."""
    if isinstance(fact, str) and not fact.strip():
        return None
    if isinstance(fact, float) and math.isnan(fact):
        return None
    return fact


def _folded(fact: FactValue) -> str | None:
    fact = _known(fact)
    return fact.casefold() if isinstance(fact, str) else None


def _texts(value: Value) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value.casefold()})
    if isinstance(value, tuple):
        return frozenset(v.casefold() for v in value)
    return frozenset()


def _text_test(compare: Callable[[str, str], bool]) -> _Test:
    def test(fact: FactValue, value: Value, now: datetime) -> bool:
        text = _folded(fact)
        return text is not None and isinstance(value, str) and compare(text, value.casefold())

    return test


def _in(fact: FactValue, value: Value, now: datetime) -> bool:
    text = _folded(fact)
    return text is not None and text in _texts(value)


def _not_in(fact: FactValue, value: Value, now: datetime) -> bool:
    text = _folded(fact)
    return text is not None and text not in _texts(value)


def _is_set(fact: FactValue, value: Value, now: datetime) -> bool:
    return _known(fact) is not None


def _is_not_set(fact: FactValue, value: Value, now: datetime) -> bool:
    return _known(fact) is None


def _decimal(number: object) -> Decimal | None:
    if isinstance(number, bool):
        return None
    if isinstance(number, int):
        return Decimal(number)
    if isinstance(number, float):
        return Decimal(repr(number)) if math.isfinite(number) else None
    if isinstance(number, Decimal):
        return number if number.is_finite() else None
    return None


def _number_test(compare: Callable[[Decimal, Decimal], bool]) -> _Test:
    def test(fact: FactValue, value: Value, now: datetime) -> bool:
        number, bound = _decimal(fact), _decimal(value)
        return number is not None and bound is not None and compare(number, bound)

    return test


def _between(fact: FactValue, value: Value, now: datetime) -> bool:
    number = _decimal(fact)
    if number is None or not isinstance(value, NumberRange):
        return False
    low, high = _decimal(value.low), _decimal(value.high)
    return low is not None and high is not None and low <= number <= high


def _is_true(fact: FactValue, value: Value, now: datetime) -> bool:
    return fact is True


def _is_false(fact: FactValue, value: Value, now: datetime) -> bool:
    return fact is False


def _instant(moment: date) -> datetime:
    """A datetime as an aware one (naive: UTC); a date as its midnight in UTC."""
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def _day(moment: date) -> date:
    """A date as is; a datetime as its UTC calendar date."""
    return _instant(moment).astimezone(UTC).date() if isinstance(moment, datetime) else moment


def _time_test(compare: Callable[[int], bool]) -> _Test:
    """A test comparing the fact with a datetime or date value; `compare` gets -1, 0 or 1."""

    def test(fact: FactValue, value: Value, now: datetime) -> bool:
        if not isinstance(fact, date) or not isinstance(value, date):
            return False
        if isinstance(value, datetime):
            left, right = _instant(fact), _instant(value)
            return compare((left > right) - (left < right))
        day = _day(fact)
        return compare((day > value) - (day < value))

    return test


def _on(fact: FactValue, value: Value, now: datetime) -> bool:
    return isinstance(fact, date) and isinstance(value, date) and _day(fact) == _day(value)


def _months_back(moment: date, months: int) -> date | None:
    """`moment` minus calendar months, the day clamped to the month's end; None before year 1."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    if year < 1:
        return None
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _cutoff(moment: date, window: Window) -> date | None:
    """`moment` minus `window`; None when that is before the calendar's start."""
    if window.unit is TimeUnit.MONTHS:
        return _months_back(moment, window.amount)
    step = {
        TimeUnit.HOURS: timedelta(hours=window.amount),
        TimeUnit.DAYS: timedelta(days=window.amount),
        TimeUnit.WEEKS: timedelta(weeks=window.amount),
    }[window.unit]
    try:
        return moment - step
    except OverflowError:
        return None


def _window_bounds(fact: date, window: Window, now: datetime) -> tuple[date, date, date | None]:
    """The fact, now and the window's start, all as dates (date facts) or all as instants."""
    if isinstance(fact, datetime) or window.unit is TimeUnit.HOURS:
        return _instant(fact), now, _cutoff(now, window)
    today = now.astimezone(UTC).date()
    return fact, today, _cutoff(today, window)


def _within_last(fact: FactValue, value: Value, now: datetime) -> bool:
    if not isinstance(fact, date) or not isinstance(value, Window):
        return False
    moment, end, start = _window_bounds(fact, value, now)
    return (start is None or start <= moment) and moment <= end


def _more_than_ago(fact: FactValue, value: Value, now: datetime) -> bool:
    if not isinstance(fact, date) or not isinstance(value, Window):
        return False
    moment, _, start = _window_bounds(fact, value, now)
    return start is not None and moment < start


def _items(fact: FactValue) -> frozenset[str] | None:
    if not isinstance(fact, tuple | list | frozenset | set):
        return None
    return frozenset(str(item).casefold() for item in fact)


def _list_test(compare: Callable[[frozenset[str], frozenset[str]], bool]) -> _Test:
    def test(fact: FactValue, value: Value, now: datetime) -> bool:
        items = _items(fact)
        return items is not None and compare(items, _texts(value))

    return test


def _is_empty(fact: FactValue, value: Value, now: datetime) -> bool:
    items = _items(fact)
    return not items


def _is_not_empty(fact: FactValue, value: Value, now: datetime) -> bool:
    return bool(_items(fact))


_Test: TypeAlias = Callable[[FactValue, Value, datetime], bool]

_O = Operator
_TESTS: Final[Mapping[Operator, _Test]] = {
    _O.EQUALS: _text_test(lambda fact, value: fact == value),
    _O.NOT_EQUALS: _text_test(lambda fact, value: fact != value),
    _O.CONTAINS: _text_test(lambda fact, value: value in fact),
    _O.NOT_CONTAINS: _text_test(lambda fact, value: value not in fact),
    _O.STARTS_WITH: _text_test(lambda fact, value: fact.startswith(value)),
    _O.ENDS_WITH: _text_test(lambda fact, value: fact.endswith(value)),
    _O.IN: _in,
    _O.NOT_IN: _not_in,
    _O.IS_SET: _is_set,
    _O.IS_NOT_SET: _is_not_set,
    _O.EQ: _number_test(lambda fact, value: fact == value),
    _O.NE: _number_test(lambda fact, value: fact != value),
    _O.GT: _number_test(lambda fact, value: fact > value),
    _O.GTE: _number_test(lambda fact, value: fact >= value),
    _O.LT: _number_test(lambda fact, value: fact < value),
    _O.LTE: _number_test(lambda fact, value: fact <= value),
    _O.BETWEEN: _between,
    _O.IS_TRUE: _is_true,
    _O.IS_FALSE: _is_false,
    _O.BEFORE: _time_test(lambda order: order < 0),
    _O.AFTER: _time_test(lambda order: order > 0),
    _O.ON: _on,
    _O.WITHIN_LAST: _within_last,
    _O.MORE_THAN_AGO: _more_than_ago,
    _O.CONTAINS_ANY: _list_test(lambda fact, value: bool(fact & value)),
    _O.CONTAINS_ALL: _list_test(lambda fact, value: value <= fact),
    _O.CONTAINS_NONE: _list_test(lambda fact, value: not fact & value),
    _O.IS_EMPTY: _is_empty,
    _O.IS_NOT_EMPTY: _is_not_empty,
}
"""How each operator tests a fact against a condition's value (unknown facts: see above)."""
