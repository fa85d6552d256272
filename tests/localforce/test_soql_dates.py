"""Date literal ranges for fixed `today`s, plus properties tying the literals to each other."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localforce.soql import DateLiteral, DateLiteralKind, Position, resolve_date_literal

K = DateLiteralKind
P = Position(offset=0, row=1, column=1)
WEDNESDAY = date(2024, 5, 15)


def resolve(
    kind: DateLiteralKind,
    n: int | None = None,
    today: date = WEDNESDAY,
    **options: int,
) -> tuple[date, date]:
    return resolve_date_literal(DateLiteral(pos=P, kind=kind, n=n), today, **options)


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("kind", "n", "start", "end"),
    [
        (K.TODAY, None, "2024-05-15", "2024-05-16"),
        (K.YESTERDAY, None, "2024-05-14", "2024-05-15"),
        (K.TOMORROW, None, "2024-05-16", "2024-05-17"),
        (K.LAST_WEEK, None, "2024-05-05", "2024-05-12"),
        (K.THIS_WEEK, None, "2024-05-12", "2024-05-19"),
        (K.NEXT_WEEK, None, "2024-05-19", "2024-05-26"),
        (K.LAST_MONTH, None, "2024-04-01", "2024-05-01"),
        (K.THIS_MONTH, None, "2024-05-01", "2024-06-01"),
        (K.NEXT_MONTH, None, "2024-06-01", "2024-07-01"),
        # LAST_90_DAYS includes today: 91 days in all.
        (K.LAST_90_DAYS, None, "2024-02-15", "2024-05-16"),
        # NEXT_90_DAYS starts tomorrow.
        (K.NEXT_90_DAYS, None, "2024-05-16", "2024-08-14"),
        # LAST_N_DAYS:1 is yesterday and today.
        (K.LAST_N_DAYS, 1, "2024-05-14", "2024-05-16"),
        (K.LAST_N_DAYS, 7, "2024-05-08", "2024-05-16"),
        (K.LAST_N_DAYS, 0, "2024-05-15", "2024-05-16"),
        # NEXT_N_DAYS:1 is tomorrow.
        (K.NEXT_N_DAYS, 1, "2024-05-16", "2024-05-17"),
        (K.NEXT_N_DAYS, 7, "2024-05-16", "2024-05-23"),
        (K.N_DAYS_AGO, 3, "2024-05-12", "2024-05-13"),
        (K.N_DAYS_AGO, 0, "2024-05-15", "2024-05-16"),
        (K.LAST_N_WEEKS, 2, "2024-04-28", "2024-05-12"),
        (K.NEXT_N_WEEKS, 2, "2024-05-19", "2024-06-02"),
        (K.N_WEEKS_AGO, 2, "2024-04-28", "2024-05-05"),
        (K.LAST_N_MONTHS, 3, "2024-02-01", "2024-05-01"),
        (K.NEXT_N_MONTHS, 2, "2024-06-01", "2024-08-01"),
        (K.N_MONTHS_AGO, 1, "2024-04-01", "2024-05-01"),
        (K.N_MONTHS_AGO, 5, "2023-12-01", "2024-01-01"),
        (K.THIS_QUARTER, None, "2024-04-01", "2024-07-01"),
        (K.LAST_QUARTER, None, "2024-01-01", "2024-04-01"),
        (K.NEXT_QUARTER, None, "2024-07-01", "2024-10-01"),
        (K.LAST_N_QUARTERS, 2, "2023-10-01", "2024-04-01"),
        (K.NEXT_N_QUARTERS, 2, "2024-07-01", "2025-01-01"),
        (K.N_QUARTERS_AGO, 4, "2023-04-01", "2023-07-01"),
        (K.THIS_YEAR, None, "2024-01-01", "2025-01-01"),
        (K.LAST_YEAR, None, "2023-01-01", "2024-01-01"),
        (K.NEXT_YEAR, None, "2025-01-01", "2026-01-01"),
        (K.LAST_N_YEARS, 2, "2022-01-01", "2024-01-01"),
        (K.NEXT_N_YEARS, 2, "2025-01-01", "2027-01-01"),
        (K.N_YEARS_AGO, 3, "2021-01-01", "2022-01-01"),
        # With the default fiscal year (January), fiscal periods are calendar periods.
        (K.THIS_FISCAL_QUARTER, None, "2024-04-01", "2024-07-01"),
        (K.THIS_FISCAL_YEAR, None, "2024-01-01", "2025-01-01"),
    ],
)
def test_ranges_on_a_wednesday_in_may(
    kind: DateLiteralKind, n: int | None, start: str, end: str
) -> None:
    assert resolve(kind, n) == (d(start), d(end))


@pytest.mark.parametrize(
    ("today", "kind", "start", "end"),
    [
        # New Year's Day, a Monday.
        ("2024-01-01", K.YESTERDAY, "2023-12-31", "2024-01-01"),
        ("2024-01-01", K.LAST_MONTH, "2023-12-01", "2024-01-01"),
        ("2024-01-01", K.LAST_QUARTER, "2023-10-01", "2024-01-01"),
        ("2024-01-01", K.THIS_WEEK, "2023-12-31", "2024-01-07"),
        ("2024-01-01", K.LAST_WEEK, "2023-12-24", "2023-12-31"),
        # New Year's Eve.
        ("2024-12-31", K.TOMORROW, "2025-01-01", "2025-01-02"),
        ("2024-12-31", K.NEXT_MONTH, "2025-01-01", "2025-02-01"),
        ("2024-12-31", K.NEXT_QUARTER, "2025-01-01", "2025-04-01"),
        ("2024-12-31", K.THIS_QUARTER, "2024-10-01", "2025-01-01"),
        ("2024-12-31", K.NEXT_WEEK, "2025-01-05", "2025-01-12"),
        # Leap years and month ends.
        ("2024-03-31", K.LAST_MONTH, "2024-02-01", "2024-03-01"),
        ("2024-02-29", K.THIS_MONTH, "2024-02-01", "2024-03-01"),
        ("2024-02-29", K.TOMORROW, "2024-03-01", "2024-03-02"),
        ("2023-02-28", K.TOMORROW, "2023-03-01", "2023-03-02"),
        # Quarter edges.
        ("2024-03-31", K.THIS_QUARTER, "2024-01-01", "2024-04-01"),
        ("2024-04-01", K.THIS_QUARTER, "2024-04-01", "2024-07-01"),
        ("2024-06-30", K.THIS_QUARTER, "2024-04-01", "2024-07-01"),
        ("2024-07-01", K.LAST_QUARTER, "2024-04-01", "2024-07-01"),
        # Week edges with Sunday as the first day.
        ("2024-05-12", K.THIS_WEEK, "2024-05-12", "2024-05-19"),  # a Sunday
        ("2024-05-18", K.THIS_WEEK, "2024-05-12", "2024-05-19"),  # a Saturday
        ("2024-05-19", K.LAST_WEEK, "2024-05-12", "2024-05-19"),
    ],
)
def test_ranges_at_boundaries(today: str, kind: DateLiteralKind, start: str, end: str) -> None:
    assert resolve(kind, today=d(today)) == (d(start), d(end))


@pytest.mark.parametrize(
    ("today", "start"),
    [
        ("2024-05-12", "2024-05-06"),  # Sunday: the week began the Monday before
        ("2024-05-13", "2024-05-13"),  # Monday
        ("2024-05-15", "2024-05-13"),  # Wednesday
        ("2024-05-19", "2024-05-13"),  # Sunday
    ],
)
def test_weeks_starting_on_monday(today: str, start: str) -> None:
    first = d(start)
    assert resolve(K.THIS_WEEK, today=d(today), week_start=calendar.MONDAY) == (
        first,
        first + timedelta(days=7),
    )


@pytest.mark.parametrize(
    ("today", "kind", "n", "start", "end"),
    [
        # Fiscal year starting in April: FY runs April to March.
        ("2024-02-10", K.THIS_FISCAL_YEAR, None, "2023-04-01", "2024-04-01"),
        ("2024-02-10", K.LAST_FISCAL_YEAR, None, "2022-04-01", "2023-04-01"),
        ("2024-02-10", K.NEXT_FISCAL_YEAR, None, "2024-04-01", "2025-04-01"),
        ("2024-02-10", K.THIS_FISCAL_QUARTER, None, "2024-01-01", "2024-04-01"),
        ("2024-02-10", K.NEXT_FISCAL_QUARTER, None, "2024-04-01", "2024-07-01"),
        ("2024-02-10", K.LAST_FISCAL_QUARTER, None, "2023-10-01", "2024-01-01"),
        ("2024-04-01", K.THIS_FISCAL_YEAR, None, "2024-04-01", "2025-04-01"),
        ("2024-02-10", K.LAST_N_FISCAL_QUARTERS, 2, "2023-07-01", "2024-01-01"),
        ("2024-02-10", K.NEXT_N_FISCAL_QUARTERS, 2, "2024-04-01", "2024-10-01"),
        ("2024-02-10", K.N_FISCAL_QUARTERS_AGO, 1, "2023-10-01", "2024-01-01"),
        ("2024-02-10", K.LAST_N_FISCAL_YEARS, 2, "2021-04-01", "2023-04-01"),
        ("2024-02-10", K.NEXT_N_FISCAL_YEARS, 1, "2024-04-01", "2025-04-01"),
        ("2024-02-10", K.N_FISCAL_YEARS_AGO, 1, "2022-04-01", "2023-04-01"),
    ],
)
def test_fiscal_year_starting_in_april(
    today: str, kind: DateLiteralKind, n: int | None, start: str, end: str
) -> None:
    assert resolve(kind, n, today=d(today), fiscal_year_start_month=4) == (d(start), d(end))


def test_fiscal_quarter_spanning_new_year() -> None:
    # A February fiscal year has a November-January quarter.
    assert resolve(K.THIS_FISCAL_QUARTER, today=d("2024-01-15"), fiscal_year_start_month=2) == (
        d("2023-11-01"),
        d("2024-02-01"),
    )


def test_ranges_are_clamped_to_representable_dates() -> None:
    assert resolve(K.LAST_N_YEARS, 2**31 - 1)[0] == date.min
    assert resolve(K.NEXT_N_DAYS, 2**31 - 1)[1] == date.max
    assert resolve(K.N_WEEKS_AGO, 2**31 - 1) == (date.min, date.min)
    assert resolve(K.TOMORROW, today=date.max) == (date.max, date.max)
    assert resolve(K.YESTERDAY, today=date.min) == (date.min, date.min)
    assert resolve(K.NEXT_YEAR, today=date(9999, 6, 1)) == (date.max, date.max)


@pytest.mark.parametrize("week_start", [7, -1])
def test_invalid_week_start(week_start: int) -> None:
    with pytest.raises(ValueError) as info:
        resolve(K.TODAY, week_start=week_start)
    assert "week_start" in str(info.value)


@pytest.mark.parametrize("month", [0, 13])
def test_invalid_fiscal_start(month: int) -> None:
    with pytest.raises(ValueError) as info:
        resolve(K.TODAY, fiscal_year_start_month=month)
    assert "fiscal_year_start_month" in str(info.value)


# --- properties --------------------------------------------------------------------------------

todays = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
week_starts = st.integers(min_value=0, max_value=6)
fiscal_starts = st.integers(min_value=1, max_value=12)
ns = st.integers(min_value=1, max_value=400)

_UNITS = {
    "WEEK": "WEEKS",
    "MONTH": "MONTHS",
    "QUARTER": "QUARTERS",
    "YEAR": "YEARS",
    "FISCAL_QUARTER": "FISCAL_QUARTERS",
    "FISCAL_YEAR": "FISCAL_YEARS",
}


@given(
    today=todays, week_start=week_starts, fiscal=fiscal_starts, unit=st.sampled_from(list(_UNITS))
)
def test_last_this_and_next_periods_tile(
    today: date, week_start: int, fiscal: int, unit: str
) -> None:
    def r(name: str, n: int | None = None) -> tuple[date, date]:
        return resolve(
            DateLiteralKind[name],
            n,
            today=today,
            week_start=week_start,
            fiscal_year_start_month=fiscal,
        )

    plural = _UNITS[unit]
    last, this, nxt = r(f"LAST_{unit}"), r(f"THIS_{unit}"), r(f"NEXT_{unit}")
    assert last[0] < last[1] == this[0] <= today < this[1] == nxt[0] < nxt[1]
    assert r(f"LAST_N_{plural}", 1) == last == r(f"N_{plural}_AGO", 1)
    assert r(f"NEXT_N_{plural}", 1) == nxt


@given(today=todays, week_start=week_starts)
def test_weeks_are_seven_days_from_the_first_day(today: date, week_start: int) -> None:
    start, end = resolve(K.THIS_WEEK, today=today, week_start=week_start)
    assert start.weekday() == week_start
    assert end - start == timedelta(days=7)


@given(today=todays, n=ns, week_start=week_starts)
def test_n_week_spans(today: date, n: int, week_start: int) -> None:
    this = resolve(K.THIS_WEEK, today=today, week_start=week_start)
    week = timedelta(days=7)
    assert resolve(K.LAST_N_WEEKS, n, today=today, week_start=week_start) == (
        this[0] - n * week,
        this[0],
    )
    assert resolve(K.NEXT_N_WEEKS, n, today=today, week_start=week_start) == (
        this[1],
        this[1] + n * week,
    )


@given(today=todays, n=st.integers(min_value=0, max_value=5000))
def test_day_spans(today: date, n: int) -> None:
    day = timedelta(days=1)
    assert resolve(K.LAST_N_DAYS, n, today=today) == (today - n * day, today + day)
    assert resolve(K.NEXT_N_DAYS, n, today=today) == (today + day, today + (n + 1) * day)
    assert resolve(K.N_DAYS_AGO, n, today=today) == (today - n * day, today - (n - 1) * day)


@given(today=todays, n=ns, fiscal=fiscal_starts)
def test_month_based_ranges_start_on_the_first(today: date, n: int, fiscal: int) -> None:
    for kind in K:
        if "WEEK" in kind.value or "DAY" in kind.value or kind is K.TOMORROW:
            continue
        start, end = resolve(
            kind, n if kind.takes_n else None, today=today, fiscal_year_start_month=fiscal
        )
        assert start.day == end.day == 1
        assert start <= end


@given(today=todays, fiscal=fiscal_starts)
def test_fiscal_years_start_in_the_fiscal_month(today: date, fiscal: int) -> None:
    start, end = resolve(K.THIS_FISCAL_YEAR, today=today, fiscal_year_start_month=fiscal)
    assert start.month == fiscal == end.month
    assert end.year == start.year + 1
    assert start <= today < end
