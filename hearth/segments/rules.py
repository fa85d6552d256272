"""A segment's rule: a tree of conditions, its JSON form, and the parser that checks it. Pure.

The tree is frozen dataclasses: `All(rules)`, `Any(rules)`, `Not(rule)` and
`Condition(field, operator, value)`. The JSON form is what the API and the UI send and store::

    {"all": [rule, ...]}      every rule holds (at least one rule)
    {"any": [rule, ...]}      at least one rule holds (at least one rule)
    {"not": rule}             the rule does not hold
    {"field": "visitor.page_views", "op": "gte", "value": 5}

`parse_rule(data, catalogue)` turns JSON into a tree, checking everything against the
`FieldCatalogue` and `OPERATORS`; what it rejects raises `InvalidSegment`, whose message starts
with the path of the bad node (``all[2].any[0]: 'gte' needs a number for visitor.page_views``).
`to_json(rule)` is the inverse: ``parse_rule(to_json(rule), catalogue) == rule``.

Values in the tree are typed: text is `str`; text lists and picklist values are tuples of `str`;
numbers are `int` or `float`; ``between`` is a `NumberRange`; datetimes are aware `datetime`s
in UTC; dates are `date`s; time windows are `Window`s; operators without a value have None.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any as _Json
from typing import Final, TypeAlias

from hearth.errors import InvalidInputError
from hearth.segments.fields import Field, FieldCatalogue
from hearth.segments.operators import OPERATORS, FieldType, Operator, TimeUnit, ValueKind

__all__ = [
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "MAX_LIST_VALUES",
    "MAX_TEXT_LENGTH",
    "MAX_WINDOW_AMOUNT",
    "All",
    "Any",
    "Condition",
    "InvalidSegment",
    "Not",
    "NumberRange",
    "Rule",
    "Value",
    "Window",
    "conditions",
    "fields_of",
    "parse_rule",
    "to_json",
]

MAX_DEPTH: Final = 8
"""At most this many groups (all, any, not) nested in one another."""
MAX_CONDITIONS: Final = 200
"""At most this many conditions in one rule."""
MAX_LIST_VALUES: Final = 500
"""At most this many values in one list value (``in``, ``contains_any``, ...)."""
MAX_TEXT_LENGTH: Final = 1000
"""At most this many characters in one text value."""
MAX_WINDOW_AMOUNT: Final = 10_000
"""The largest ``amount`` of a time window."""


class InvalidSegment(InvalidInputError):
    """A segment rule breaks the grammar; `path` names the bad node ("" for the root)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path or 'rule'}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Window:
    """A time window: the last `amount` `unit`s before now (months are calendar months)."""

    amount: int
    unit: TimeUnit


@dataclass(frozen=True, slots=True)
class NumberRange:
    """The value of ``between``: from `low` to `high`, both included."""

    low: int | float
    high: int | float


Value: TypeAlias = (
    str | tuple[str, ...] | int | float | NumberRange | datetime | date | Window | None
)


@dataclass(frozen=True, slots=True)
class Condition:
    """One comparison of a field's value; `value` is typed as the module docstring says."""

    field: str
    operator: Operator
    value: Value = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "operator", Operator(self.operator))


@dataclass(frozen=True, slots=True)
class All:
    """Holds when every one of `rules` holds."""

    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", _group_rules("all", self.rules))


@dataclass(frozen=True, slots=True)
class Any:
    """Holds when at least one of `rules` holds."""

    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", _group_rules("any", self.rules))


@dataclass(frozen=True, slots=True)
class Not:
    """Holds when `rule` does not."""

    rule: Rule


Rule: TypeAlias = All | Any | Not | Condition


def _group_rules(kind: str, rules: Sequence[Rule]) -> tuple[Rule, ...]:
    as_tuple = tuple(rules)
    if not as_tuple:
        raise InvalidSegment("", f"'{kind}' needs at least one rule")
    return as_tuple


# -- walking --------------------------------------------------------------------------------------


def child_path(path: str, step: str) -> str:
    """The path of a child node: ``all[2]``, ``all[2].any[0]``, ``not``."""
    return f"{path}.{step}" if path else step


def conditions(rule: Rule, path: str = "") -> Iterator[tuple[str, Condition]]:
    """Every condition of `rule` with its path, in order."""
    if isinstance(rule, Condition):
        yield path, rule
    elif isinstance(rule, Not):
        yield from conditions(rule.rule, child_path(path, "not"))
    else:
        kind = "all" if isinstance(rule, All) else "any"
        for index, child in enumerate(rule.rules):
            yield from conditions(child, child_path(path, f"{kind}[{index}]"))


def fields_of(rule: Rule) -> frozenset[str]:
    """The keys of the fields `rule` reads."""
    return frozenset(condition.field for _, condition in conditions(rule))


# -- JSON -----------------------------------------------------------------------------------------


def to_json(rule: Rule) -> dict[str, _Json]:
    """The JSON form of `rule` (see the module docstring)."""
    if isinstance(rule, All):
        return {"all": [to_json(r) for r in rule.rules]}
    if isinstance(rule, Any):
        return {"any": [to_json(r) for r in rule.rules]}
    if isinstance(rule, Not):
        return {"not": to_json(rule.rule)}
    data: dict[str, _Json] = {"field": rule.field, "op": rule.operator.value}
    if rule.value is not None:
        data["value"] = _value_json(rule.value)
    return data


def _value_json(value: Value) -> _Json:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, NumberRange):
        return [value.low, value.high]
    if isinstance(value, Window):
        return {"amount": value.amount, "unit": value.unit.value}
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


_GROUP_KEYS: Final = ("all", "any", "not")
_CONDITION_KEYS: Final = frozenset({"field", "op", "value"})


def parse_rule(data: object, catalogue: FieldCatalogue) -> Rule:
    """The rule of a JSON form, checked against `catalogue`; `InvalidSegment` says what is wrong.

    Field keys are taken in the catalogue's spelling, and picklist values in the field's.
    """
    return _Parser(catalogue).parse(data, "", 0)


class _Parser:
    def __init__(self, catalogue: FieldCatalogue) -> None:
        self.catalogue = catalogue
        self.conditions = 0

    def parse(self, data: object, path: str, depth: int) -> Rule:
        if not isinstance(data, Mapping):
            raise InvalidSegment(
                path, "expected an object with one of 'all', 'any', 'not' or 'field'"
            )
        kinds = [key for key in (*_GROUP_KEYS, "field") if key in data]
        if len(kinds) != 1:
            found = " and ".join(f"'{k}'" for k in kinds) or "none"
            raise InvalidSegment(
                path, f"expected exactly one of 'all', 'any', 'not' or 'field', found {found}"
            )
        kind = kinds[0]
        allowed = _CONDITION_KEYS if kind == "field" else {kind}
        extra = sorted(str(key) for key in data if key not in allowed)
        if extra:
            raise InvalidSegment(path, f"unexpected key '{extra[0]}'")
        if kind == "field":
            self.conditions += 1
            if self.conditions > MAX_CONDITIONS:
                raise InvalidSegment(path, f"a rule has at most {MAX_CONDITIONS} conditions")
            return self.condition(data, path)
        if depth >= MAX_DEPTH:
            raise InvalidSegment(path, f"groups nest at most {MAX_DEPTH} deep")
        if kind == "not":
            return Not(self.parse(data["not"], child_path(path, "not"), depth + 1))
        items = data[kind]
        if not isinstance(items, list):
            raise InvalidSegment(path, f"'{kind}' needs a list of rules")
        if not items:
            raise InvalidSegment(path, f"'{kind}' needs at least one rule")
        rules = tuple(
            self.parse(item, child_path(path, f"{kind}[{index}]"), depth + 1)
            for index, item in enumerate(items)
        )
        return All(rules) if kind == "all" else Any(rules)

    def condition(self, data: Mapping[str, object], path: str) -> Condition:
        key = data["field"]
        if not isinstance(key, str):
            raise InvalidSegment(path, "'field' needs a field key, such as 'visitor.page_views'")
        found = self.catalogue.get(key)
        if found is None:
            raise InvalidSegment(path, f"unknown field '{key}'")
        op = data.get("op")
        allowed = OPERATORS[found.type]
        try:
            operator = Operator(op) if isinstance(op, str) else None
        except ValueError:
            operator = None
        if operator is None or operator not in allowed:
            choices = ", ".join(allowed)
            shown = f"'{op}'" if isinstance(op, str) else "no operator"
            raise InvalidSegment(
                path,
                f"{shown} is not an operator for {found.key} (a {_type_name(found.type)} field;"
                f" use one of {choices})",
            )
        value = _value(allowed[operator], data.get("value"), found, operator, path)
        return Condition(found.key, operator, value)


def _type_name(field_type: FieldType) -> str:
    return "list of text" if field_type is FieldType.TEXT_LIST else field_type.value


_NEEDS: Final[Mapping[ValueKind, str]] = {
    ValueKind.TEXT: f"a non-blank text of at most {MAX_TEXT_LENGTH} characters",
    ValueKind.TEXT_LIST: (
        f"a list of 1 to {MAX_LIST_VALUES} non-blank texts of at most {MAX_TEXT_LENGTH} characters"
    ),
    ValueKind.PICKLIST_VALUES: f"a list of 1 to {MAX_LIST_VALUES} picklist values",
    ValueKind.NUMBER: "a number",
    ValueKind.NUMBER_RANGE: "[low, high], two numbers with low <= high",
    ValueKind.DATETIME: "a date and time with a UTC offset, such as '2026-11-24T09:00:00Z'",
    ValueKind.DATE: "a date, such as '2026-11-24'",
    ValueKind.WINDOW: (
        f'a window, such as {{"amount": 7, "unit": "days"}} (amount 1 to '
        f"{MAX_WINDOW_AMOUNT}; unit hours, days, weeks or months)"
    ),
    ValueKind.DATE_WINDOW: (
        f'a window, such as {{"amount": 7, "unit": "days"}} (amount 1 to '
        f"{MAX_WINDOW_AMOUNT}; unit days, weeks or months)"
    ),
}


def _value(kind: ValueKind, raw: object, found: Field, operator: Operator, path: str) -> Value:
    if kind is ValueKind.NONE:
        if raw is not None:
            raise InvalidSegment(path, f"'{operator}' takes no value")
        return None
    value = _convert(kind, raw, found)
    if value is None:
        raise InvalidSegment(path, f"'{operator}' needs {_NEEDS[kind]} for {found.key}")
    if isinstance(value, _NotAValue):
        raise InvalidSegment(path, value.reason)
    return value


@dataclass(frozen=True, slots=True)
class _NotAValue:
    reason: str


def _convert(kind: ValueKind, raw: object, found: Field) -> Value | _NotAValue:
    """`raw` as a value of `kind`, None if it has the wrong shape, or why it is refused."""
    if kind is ValueKind.TEXT:
        return _text(raw)
    if kind in (ValueKind.TEXT_LIST, ValueKind.PICKLIST_VALUES):
        if not isinstance(raw, list) or not raw or len(raw) > MAX_LIST_VALUES:
            return None
        texts = [_text(item) for item in raw]
        if any(text is None for text in texts):
            return None
        checked = tuple(dict.fromkeys(t for t in texts if t is not None))
        if kind is ValueKind.PICKLIST_VALUES and found.values:
            return _picklist(checked, found)
        return checked
    if kind is ValueKind.NUMBER:
        return _number(raw)
    if kind is ValueKind.NUMBER_RANGE:
        if not isinstance(raw, list) or len(raw) != 2:
            return None
        low, high = _number(raw[0]), _number(raw[1])
        if low is None or high is None or low > high:
            return None
        return NumberRange(low, high)
    if kind is ValueKind.DATETIME:
        return _datetime(raw)
    if kind is ValueKind.DATE:
        return _date(raw)
    return _window(raw, allow_hours=kind is ValueKind.WINDOW)


def _text(raw: object) -> str | None:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_TEXT_LENGTH:
        return None
    return raw


def _picklist(values: tuple[str, ...], found: Field) -> tuple[str, ...] | _NotAValue:
    spelled = {value.casefold(): value for value in found.values}
    canonical: list[str] = []
    for value in values:
        known = spelled.get(value.casefold())
        if known is None:
            choices = ", ".join(found.values)
            return _NotAValue(f"'{value}' is not a value of {found.key} (one of {choices})")
        canonical.append(known)
    return tuple(dict.fromkeys(canonical))


def _number(raw: object) -> int | float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    if isinstance(raw, float) and not math.isfinite(raw):
        return None
    return raw


def _datetime(raw: object) -> datetime | None:
    if not isinstance(raw, str) or "T" not in raw.upper():
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return None


def _date(raw: object) -> date | None:
    if not isinstance(raw, str) or len(raw) != 10:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _window(raw: object, *, allow_hours: bool) -> Window | None:
    if not isinstance(raw, Mapping) or set(raw) != {"amount", "unit"}:
        return None
    amount, unit = raw["amount"], raw["unit"]
    if isinstance(amount, bool) or not isinstance(amount, int):
        return None
    if not 1 <= amount <= MAX_WINDOW_AMOUNT or not isinstance(unit, str):
        return None
    try:
        time_unit = TimeUnit(unit)
    except ValueError:
        return None
    if time_unit is TimeUnit.HOURS and not allow_hours:
        return None
    return Window(amount, time_unit)
