"""Date literals as concrete date ranges.

`resolve_date_literal(literal, today)` returns a half-open `[start, end)` range of dates. Salesforce
evaluates literals in the user's time zone; localforce is UTC throughout, so the caller passes
today's UTC date and a DateTime field matches when `start <= value < end` at midnight UTC.

Semantics, from Salesforce's "Date Formats and Date Literals" table:

- TODAY, YESTERDAY, TOMORROW: that one day.
- THIS_/LAST_/NEXT_ WEEK, MONTH, QUARTER, YEAR: the whole calendar period containing today, or
  the one before or after it. Weeks start on `week_start` (the locale's first day; Sunday in
  en_US).
- LAST_N_DAYS:n and LAST_90_DAYS *include today*: n previous days plus today, so LAST_N_DAYS:1
  is yesterday and today.
- NEXT_N_DAYS:n and NEXT_90_DAYS start tomorrow and run n days; today is excluded.
- LAST_N_{WEEKS,MONTHS,QUARTERS,YEARS}:n: the n whole periods before the current one.
- NEXT_N_{WEEKS,MONTHS,QUARTERS,YEARS}:n: the n whole periods after the current one.
- N_{DAYS,WEEKS,MONTHS,QUARTERS,YEARS}_AGO:n: the single period n periods before the current one.
- *_FISCAL_QUARTER and *_FISCAL_YEAR: as the calendar ones, but periods are aligned to
  `fiscal_year_start_month` (the org's standard fiscal year; custom fiscal years are not modelled).

The rules are data (`_RULES`); one function maps any of them to dates, so every unit follows the
same arithmetic. Ranges reaching past year 1 or 9999 are clamped to `date.min` / `date.max`.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Callable
from datetime import date

from localforce.soql.ast import DateLiteral, DateLiteralKind

__all__ = ["resolve_date_literal"]


class _Unit(enum.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    FISCAL_QUARTER = "fiscal_quarter"
    FISCAL_YEAR = "fiscal_year"


class _Span(enum.Enum):
    """Which periods, relative to the current one (index p), a literal covers."""

    THIS = "this"  # [p, p+1)
    LAST = "last"  # [p-1, p)
    NEXT = "next"  # [p+1, p+2)
    LAST_N = "last_n"  # [p-n, p)
    LAST_N_AND_THIS = "last_n_and_this"  # [p-n, p+1): only LAST_N_DAYS behaves like this
    NEXT_N = "next_n"  # [p+1, p+1+n)
    N_AGO = "n_ago"  # [p-n, p-n+1)


_K = DateLiteralKind
# kind -> (unit, span, n for literals with a fixed n such as LAST_90_DAYS)
_RULES: dict[DateLiteralKind, tuple[_Unit, _Span, int]] = {
    _K.YESTERDAY: (_Unit.DAY, _Span.LAST, 0),
    _K.TODAY: (_Unit.DAY, _Span.THIS, 0),
    _K.TOMORROW: (_Unit.DAY, _Span.NEXT, 0),
    _K.LAST_90_DAYS: (_Unit.DAY, _Span.LAST_N_AND_THIS, 90),
    _K.NEXT_90_DAYS: (_Unit.DAY, _Span.NEXT_N, 90),
    _K.LAST_N_DAYS: (_Unit.DAY, _Span.LAST_N_AND_THIS, 0),
    _K.NEXT_N_DAYS: (_Unit.DAY, _Span.NEXT_N, 0),
    _K.N_DAYS_AGO: (_Unit.DAY, _Span.N_AGO, 0),
    _K.LAST_WEEK: (_Unit.WEEK, _Span.LAST, 0),
    _K.THIS_WEEK: (_Unit.WEEK, _Span.THIS, 0),
    _K.NEXT_WEEK: (_Unit.WEEK, _Span.NEXT, 0),
    _K.LAST_N_WEEKS: (_Unit.WEEK, _Span.LAST_N, 0),
    _K.NEXT_N_WEEKS: (_Unit.WEEK, _Span.NEXT_N, 0),
    _K.N_WEEKS_AGO: (_Unit.WEEK, _Span.N_AGO, 0),
    _K.LAST_MONTH: (_Unit.MONTH, _Span.LAST, 0),
    _K.THIS_MONTH: (_Unit.MONTH, _Span.THIS, 0),
    _K.NEXT_MONTH: (_Unit.MONTH, _Span.NEXT, 0),
    _K.LAST_N_MONTHS: (_Unit.MONTH, _Span.LAST_N, 0),
    _K.NEXT_N_MONTHS: (_Unit.MONTH, _Span.NEXT_N, 0),
    _K.N_MONTHS_AGO: (_Unit.MONTH, _Span.N_AGO, 0),
    _K.LAST_QUARTER: (_Unit.QUARTER, _Span.LAST, 0),
    _K.THIS_QUARTER: (_Unit.QUARTER, _Span.THIS, 0),
    _K.NEXT_QUARTER: (_Unit.QUARTER, _Span.NEXT, 0),
    _K.LAST_N_QUARTERS: (_Unit.QUARTER, _Span.LAST_N, 0),
    _K.NEXT_N_QUARTERS: (_Unit.QUARTER, _Span.NEXT_N, 0),
    _K.N_QUARTERS_AGO: (_Unit.QUARTER, _Span.N_AGO, 0),
    _K.LAST_YEAR: (_Unit.YEAR, _Span.LAST, 0),
    _K.THIS_YEAR: (_Unit.YEAR, _Span.THIS, 0),
    _K.NEXT_YEAR: (_Unit.YEAR, _Span.NEXT, 0),
    _K.LAST_N_YEARS: (_Unit.YEAR, _Span.LAST_N, 0),
    _K.NEXT_N_YEARS: (_Unit.YEAR, _Span.NEXT_N, 0),
    _K.N_YEARS_AGO: (_Unit.YEAR, _Span.N_AGO, 0),
    _K.LAST_FISCAL_QUARTER: (_Unit.FISCAL_QUARTER, _Span.LAST, 0),
    _K.THIS_FISCAL_QUARTER: (_Unit.FISCAL_QUARTER, _Span.THIS, 0),
    _K.NEXT_FISCAL_QUARTER: (_Unit.FISCAL_QUARTER, _Span.NEXT, 0),
    _K.LAST_N_FISCAL_QUARTERS: (_Unit.FISCAL_QUARTER, _Span.LAST_N, 0),
    _K.NEXT_N_FISCAL_QUARTERS: (_Unit.FISCAL_QUARTER, _Span.NEXT_N, 0),
    _K.N_FISCAL_QUARTERS_AGO: (_Unit.FISCAL_QUARTER, _Span.N_AGO, 0),
    _K.LAST_FISCAL_YEAR: (_Unit.FISCAL_YEAR, _Span.LAST, 0),
    _K.THIS_FISCAL_YEAR: (_Unit.FISCAL_YEAR, _Span.THIS, 0),
    _K.NEXT_FISCAL_YEAR: (_Unit.FISCAL_YEAR, _Span.NEXT, 0),
    _K.LAST_N_FISCAL_YEARS: (_Unit.FISCAL_YEAR, _Span.LAST_N, 0),
    _K.NEXT_N_FISCAL_YEARS: (_Unit.FISCAL_YEAR, _Span.NEXT_N, 0),
    _K.N_FISCAL_YEARS_AGO: (_Unit.FISCAL_YEAR, _Span.N_AGO, 0),
}

# span -> the period indexes [first, last) it covers, given the current index p and n.
_SPANS: dict[_Span, Callable[[int, int], tuple[int, int]]] = {
    _Span.THIS: lambda p, n: (p, p + 1),
    _Span.LAST: lambda p, n: (p - 1, p),
    _Span.NEXT: lambda p, n: (p + 1, p + 2),
    _Span.LAST_N: lambda p, n: (p - n, p),
    _Span.LAST_N_AND_THIS: lambda p, n: (p - n, p + 1),
    _Span.NEXT_N: lambda p, n: (p + 1, p + 1 + n),
    _Span.N_AGO: lambda p, n: (p - n, p - n + 1),
}
# month-based unit -> (length in months, whether periods align to the fiscal year's first month)
_MONTH_UNITS = {
    _Unit.MONTH: (1, False),
    _Unit.QUARTER: (3, False),
    _Unit.YEAR: (12, False),
    _Unit.FISCAL_QUARTER: (3, True),
    _Unit.FISCAL_YEAR: (12, True),
}

_MIN_ORDINAL = date.min.toordinal()
_MAX_ORDINAL = date.max.toordinal()


def resolve_date_literal(
    literal: DateLiteral,
    today: date,
    *,
    week_start: int = calendar.SUNDAY,
    fiscal_year_start_month: int = 1,
) -> tuple[date, date]:
    """The half-open range `[start, end)` of dates `literal` covers when it is `today`.

    `week_start` uses `calendar`'s numbering (`calendar.MONDAY` is 0, `calendar.SUNDAY` is 6).
    """
    if not 0 <= week_start <= 6:
        raise ValueError(f"week_start must be 0 (Monday) to 6 (Sunday), got {week_start}")
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1-12, got {fiscal_year_start_month}")
    unit, span, fixed_n = _RULES[literal.kind]
    n = literal.n if literal.n is not None else fixed_n
    if unit is _Unit.DAY or unit is _Unit.WEEK:
        # Periods are counted in days from the first day of a period (Python ordinals).
        length = 1 if unit is _Unit.DAY else 7
        # Ordinal 1 (0001-01-01) is a Monday, so weekday(o) == (o - 1) % 7.
        anchor = 1 + (week_start if unit is _Unit.WEEK else 0)
        current = (today.toordinal() - anchor) // length
        first, last = _SPANS[span](current, n)
        return _day(first * length + anchor), _day(last * length + anchor)
    # Periods are counted in months since year 0: index = year * 12 + month - 1.
    length, fiscal = _MONTH_UNITS[unit]
    anchor = fiscal_year_start_month - 1 if fiscal else 0
    current = (today.year * 12 + today.month - 1 - anchor) // length
    first, last = _SPANS[span](current, n)
    return _month(first * length + anchor), _month(last * length + anchor)


def _day(ordinal: int) -> date:
    return date.fromordinal(min(max(ordinal, _MIN_ORDINAL), _MAX_ORDINAL))


def _month(index: int) -> date:
    year, month = divmod(index, 12)
    if year < date.min.year:
        return date.min
    if year > date.max.year:
        return date.max
    return date(year, month + 1, 1)
