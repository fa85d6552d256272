"""The SOQL syntax tree.

Every node is a frozen, keyword-only dataclass carrying `pos`, the `Position` of its first
character, so a later stage (the SQL compiler) can point a caret at the exact spot when a field or
object does not exist. `pos` is excluded from equality: two queries that differ only in layout or
keyword case compare equal.

The tree is purely syntactic. Names are kept as written (`account.NAME` stays as typed); resolving
them against a schema, checking types, and deciding what `FROM Contacts` in a subquery refers to
is the compiler's job.

    Query
    ├── select: SelectExpr | CountAll | FieldsFunction | SubQuery
    │     SelectExpr.expr: FieldPath | Aggregate | DateFunctionCall
    ├── from_: From
    ├── where / having: Condition
    │     And | Or | Not | Comparison | Like | InValues | InSubquery | Includes
    │     left operands: FieldPath | DateFunctionCall | Aggregate (HAVING only)
    │     values: StringValue | NumberValue | BooleanValue | NullValue | DateValue
    │             | DateTimeValue | DateLiteral
    ├── group_by: FieldPath | DateFunctionCall
    └── order_by: OrderItem (expr: FieldPath | Aggregate | DateFunctionCall)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

__all__ = [
    "Aggregate",
    "AggregateFunction",
    "And",
    "BooleanValue",
    "Comparison",
    "ComparisonOperator",
    "Condition",
    "CountAll",
    "DateFunction",
    "DateFunctionCall",
    "DateLiteral",
    "DateLiteralKind",
    "DateTimeValue",
    "DateValue",
    "FieldPath",
    "FieldsCategory",
    "FieldsFunction",
    "ForOption",
    "From",
    "GroupItem",
    "InSubquery",
    "InValues",
    "Includes",
    "Like",
    "Node",
    "Not",
    "NullValue",
    "NumberValue",
    "Operand",
    "Or",
    "OrderExpr",
    "OrderItem",
    "Position",
    "Query",
    "SelectExpr",
    "SelectItem",
    "StringValue",
    "SubQuery",
    "Value",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class Position:
    """A place in the query text: 0-based `offset`, 1-based `row` and `column`."""

    offset: int
    row: int
    column: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Node:
    pos: Position = field(compare=False)


# --- enums -----------------------------------------------------------------------------------


class AggregateFunction(enum.Enum):
    COUNT = "COUNT"
    COUNT_DISTINCT = "COUNT_DISTINCT"
    SUM = "SUM"
    AVG = "AVG"
    MIN = "MIN"
    MAX = "MAX"


class DateFunction(enum.Enum):
    CALENDAR_MONTH = "CALENDAR_MONTH"
    CALENDAR_QUARTER = "CALENDAR_QUARTER"
    CALENDAR_YEAR = "CALENDAR_YEAR"
    DAY_IN_MONTH = "DAY_IN_MONTH"
    DAY_IN_WEEK = "DAY_IN_WEEK"
    DAY_IN_YEAR = "DAY_IN_YEAR"
    DAY_ONLY = "DAY_ONLY"
    FISCAL_MONTH = "FISCAL_MONTH"
    FISCAL_QUARTER = "FISCAL_QUARTER"
    FISCAL_YEAR = "FISCAL_YEAR"
    HOUR_IN_DAY = "HOUR_IN_DAY"
    WEEK_IN_MONTH = "WEEK_IN_MONTH"
    WEEK_IN_YEAR = "WEEK_IN_YEAR"


class FieldsCategory(enum.Enum):
    ALL = "ALL"
    STANDARD = "STANDARD"
    CUSTOM = "CUSTOM"


class ComparisonOperator(enum.Enum):
    EQ = "="
    NE = "!="  # `<>` is parsed to this too
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


class ForOption(enum.Enum):
    VIEW = "VIEW"
    REFERENCE = "REFERENCE"
    UPDATE = "UPDATE"


class DateLiteralKind(enum.Enum):
    """Relative date ranges; `dates.resolve_date_literal` turns one into concrete dates."""

    YESTERDAY = "YESTERDAY"
    TODAY = "TODAY"
    TOMORROW = "TOMORROW"
    LAST_WEEK = "LAST_WEEK"
    THIS_WEEK = "THIS_WEEK"
    NEXT_WEEK = "NEXT_WEEK"
    LAST_MONTH = "LAST_MONTH"
    THIS_MONTH = "THIS_MONTH"
    NEXT_MONTH = "NEXT_MONTH"
    LAST_90_DAYS = "LAST_90_DAYS"
    NEXT_90_DAYS = "NEXT_90_DAYS"
    LAST_N_DAYS = "LAST_N_DAYS"
    NEXT_N_DAYS = "NEXT_N_DAYS"
    N_DAYS_AGO = "N_DAYS_AGO"
    NEXT_N_WEEKS = "NEXT_N_WEEKS"
    LAST_N_WEEKS = "LAST_N_WEEKS"
    N_WEEKS_AGO = "N_WEEKS_AGO"
    NEXT_N_MONTHS = "NEXT_N_MONTHS"
    LAST_N_MONTHS = "LAST_N_MONTHS"
    N_MONTHS_AGO = "N_MONTHS_AGO"
    THIS_QUARTER = "THIS_QUARTER"
    LAST_QUARTER = "LAST_QUARTER"
    NEXT_QUARTER = "NEXT_QUARTER"
    NEXT_N_QUARTERS = "NEXT_N_QUARTERS"
    LAST_N_QUARTERS = "LAST_N_QUARTERS"
    N_QUARTERS_AGO = "N_QUARTERS_AGO"
    THIS_YEAR = "THIS_YEAR"
    LAST_YEAR = "LAST_YEAR"
    NEXT_YEAR = "NEXT_YEAR"
    NEXT_N_YEARS = "NEXT_N_YEARS"
    LAST_N_YEARS = "LAST_N_YEARS"
    N_YEARS_AGO = "N_YEARS_AGO"
    THIS_FISCAL_QUARTER = "THIS_FISCAL_QUARTER"
    LAST_FISCAL_QUARTER = "LAST_FISCAL_QUARTER"
    NEXT_FISCAL_QUARTER = "NEXT_FISCAL_QUARTER"
    NEXT_N_FISCAL_QUARTERS = "NEXT_N_FISCAL_QUARTERS"
    LAST_N_FISCAL_QUARTERS = "LAST_N_FISCAL_QUARTERS"
    N_FISCAL_QUARTERS_AGO = "N_FISCAL_QUARTERS_AGO"
    THIS_FISCAL_YEAR = "THIS_FISCAL_YEAR"
    LAST_FISCAL_YEAR = "LAST_FISCAL_YEAR"
    NEXT_FISCAL_YEAR = "NEXT_FISCAL_YEAR"
    NEXT_N_FISCAL_YEARS = "NEXT_N_FISCAL_YEARS"
    LAST_N_FISCAL_YEARS = "LAST_N_FISCAL_YEARS"
    N_FISCAL_YEARS_AGO = "N_FISCAL_YEARS_AGO"

    @property
    def takes_n(self) -> bool:
        """Whether the literal is written `NAME:n` (`LAST_N_DAYS:7`, `N_YEARS_AGO:2`)."""
        return "_N_" in self.value or self.value.startswith("N_")


# --- expressions -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldPath(Node):
    """`Name`, `Account.Owner.Email`, `Rel__r.Field__c`: the parts as written, unresolved."""

    parts: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.parts or not all(self.parts):
            raise ValueError(f"a field path needs non-empty parts, got {self.parts!r}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Aggregate(Node):
    """`COUNT(Id)`, `SUM(Amount)`; `COUNT()` with no argument is `CountAll`."""

    function: AggregateFunction
    field: FieldPath


@dataclass(frozen=True, kw_only=True, slots=True)
class DateFunctionCall(Node):
    """`CALENDAR_YEAR(CreatedDate)`, `DAY_ONLY(CreatedDate)`."""

    function: DateFunction
    field: FieldPath


Operand = FieldPath | DateFunctionCall | Aggregate
GroupItem = FieldPath | DateFunctionCall
OrderExpr = FieldPath | Aggregate | DateFunctionCall


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class StringValue(Node):
    """A quoted string with escapes decoded.

    Outside LIKE the LIKE-only escapes `\\%` and `\\_` decode to plain `%` and `_`; inside LIKE
    the parser builds a `Like` node instead, whose pattern keeps them apart from wildcards.
    """

    value: str


@dataclass(frozen=True, kw_only=True, slots=True)
class NumberValue(Node):
    """`42`, `-3.50`: kept as `Decimal` so no precision is lost and `5` vs `5.0` stays visible."""

    value: Decimal

    @property
    def is_integer(self) -> bool:
        """True when written without a fractional part."""
        return self.value.as_tuple().exponent == 0


@dataclass(frozen=True, kw_only=True, slots=True)
class BooleanValue(Node):
    value: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class NullValue(Node):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class DateValue(Node):
    """`2024-01-31`."""

    value: date


@dataclass(frozen=True, kw_only=True, slots=True)
class DateTimeValue(Node):
    """`2024-01-31T10:00:00+02:00`, normalised to an aware UTC datetime."""

    value: datetime

    def __post_init__(self) -> None:
        if self.value.utcoffset() != timedelta(0):
            raise ValueError(f"datetime values must be aware and in UTC, got {self.value!r}")


@dataclass(frozen=True, kw_only=True, slots=True)
class DateLiteral(Node):
    """`TODAY`, `LAST_N_DAYS:30`: `n` is set exactly when `kind.takes_n`."""

    kind: DateLiteralKind
    n: int | None = None

    def __post_init__(self) -> None:
        if self.kind.takes_n != (self.n is not None):
            raise ValueError(f"{self.kind.value} {'needs' if self.kind.takes_n else 'takes no'} n")
        if self.n is not None and self.n < 0:
            raise ValueError(f"{self.kind.value} needs a non-negative n, got {self.n}")


Value = (
    StringValue | NumberValue | BooleanValue | NullValue | DateValue | DateTimeValue | DateLiteral
)


# --- conditions ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Comparison(Node):
    left: Operand
    operator: ComparisonOperator
    value: Value


@dataclass(frozen=True, kw_only=True, slots=True)
class Like(Node):
    r"""`Name LIKE 'Acme\%%'`.

    `pattern` uses backslash as its escape character, exactly like SQL's `LIKE ? ESCAPE '\'`:
    a bare `%` or `_` is a wildcard, `\%` and `\_` are literal, and a literal backslash is `\\`.
    """

    left: Operand
    pattern: str


@dataclass(frozen=True, kw_only=True, slots=True)
class InValues(Node):
    """`Status IN ('Open', 'New')`, or `NOT IN` when `negated`."""

    left: Operand
    negated: bool
    values: tuple[Value, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("IN needs at least one value")


@dataclass(frozen=True, kw_only=True, slots=True)
class InSubquery(Node):
    """A semi-join `Id IN (SELECT AccountId FROM Contact)`, or an anti-join when `negated`."""

    left: FieldPath
    negated: bool
    query: Query


@dataclass(frozen=True, kw_only=True, slots=True)
class Includes(Node):
    """`Tags__c INCLUDES ('a;b', 'c')` on a multi-select picklist; `EXCLUDES` when `excludes`.

    Each value is kept whole: `'a;b'` means "has both a and b", so splitting on `;` belongs to
    the evaluator.
    """

    left: FieldPath
    excludes: bool
    values: tuple[StringValue, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class And(Node):
    operands: tuple[Condition, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Or(Node):
    operands: tuple[Condition, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Not(Node):
    operand: Condition


Condition = Comparison | Like | InValues | InSubquery | Includes | And | Or | Not


# --- select list and clauses -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class SelectExpr(Node):
    """A selected field or function; `alias` only appears in aggregate queries (`COUNT(Id) n`)."""

    expr: FieldPath | Aggregate | DateFunctionCall
    alias: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CountAll(Node):
    """`SELECT COUNT() FROM ...`: only the row count is returned."""


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldsFunction(Node):
    """`FIELDS(ALL)`, `FIELDS(STANDARD)`, `FIELDS(CUSTOM)`."""

    category: FieldsCategory


@dataclass(frozen=True, kw_only=True, slots=True)
class SubQuery(Node):
    """A parent-to-child subquery; `query.from_.name` is a child relationship name."""

    query: Query


SelectItem = SelectExpr | CountAll | FieldsFunction | SubQuery


@dataclass(frozen=True, kw_only=True, slots=True)
class From(Node):
    """`FROM Account a`: an sObject (or child relationship, in a subquery) and its alias."""

    name: str
    alias: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderItem(Node):
    """One ORDER BY key. Salesforce documents nulls as sorted first unless NULLS LAST is given."""

    expr: OrderExpr
    descending: bool = False
    nulls_last: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Query(Node):
    """A SELECT statement: the top-level query, a child subquery, or a semi-join subquery."""

    select: tuple[SelectItem, ...]
    from_: From
    using_scope: str | None = None  # lower-cased: "mine", "everything", ...
    where: Condition | None = None
    with_security_enforced: bool = False
    group_by: tuple[GroupItem, ...] = ()
    having: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
    for_options: tuple[ForOption, ...] = ()
    all_rows: bool = False

    def __post_init__(self) -> None:
        if not self.select:
            raise ValueError("a query selects at least one item")

    @property
    def is_aggregate(self) -> bool:
        """Grouped or aggregated: rows come back as AggregateResult (`expr0`, aliases)."""
        return bool(self.group_by) or any(
            isinstance(item, SelectExpr) and isinstance(item.expr, Aggregate)
            for item in self.select
        )
