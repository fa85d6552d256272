"""API request limits: the daily allowance, and the cap on concurrent long-running requests.

Every counted call is recorded per minute, client and endpoint. The daily allowance is a rolling
24 hours, as in a real org. Counts live in the org database so a restart loses nothing, and the
admin API (and benchmarks) read them back. A call refused because the allowance is spent is not
counted: Salesforce blocks calls "until usage for the preceding 24 hours drops below the limit",
which only ever happens if refusals do not add to usage. (Real allowances are soft and a busy org
can overshoot a little before the block; localforce blocks exactly at the maximum.)

Long-running requests are counted in memory by `LongRequests`: they are live requests of this
process, which no database row would describe better.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from .errors import ApiError
from .org import Org

__all__ = [
    "ApiUsage",
    "LongRequests",
    "concurrent_limit_exceeded",
    "daily_usage",
    "ensure_tables",
    "record_call",
    "reset_usage",
    "total_requests_exceeded",
    "usage_by",
]


@dataclass(frozen=True, slots=True)
class ApiUsage:
    used: int
    limit: int

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def header(self) -> str:
        return f"api-usage={self.used}/{self.limit}"


def total_requests_exceeded(usage: ApiUsage) -> ApiError:
    """The daily allowance is spent. Not retryable until the 24-hour window moves on."""
    return ApiError(
        status=403,
        error_code="REQUEST_LIMIT_EXCEEDED",
        message="TotalRequests Limit exceeded.",
        headers={"Sforce-Limit-Info": usage.header()},
    )


def concurrent_limit_exceeded() -> ApiError:
    """Too many long-running requests in flight. Retryable once some of them finish."""
    return ApiError(
        status=403,
        error_code="REQUEST_LIMIT_EXCEEDED",
        message="ConcurrentPerOrgLongTxn Limit exceeded.",
    )


def ensure_tables(org: Org) -> None:
    with org.transaction():
        org.conn.execute(
            "CREATE TABLE IF NOT EXISTS _lf_api_calls ("
            " minute TEXT NOT NULL, client TEXT NOT NULL, endpoint TEXT NOT NULL,"
            " calls INTEGER NOT NULL, PRIMARY KEY (minute, client, endpoint))"
        )


def _minute(org: Org, delta: timedelta = timedelta(0)) -> str:
    return (org.clock.now() - delta).strftime("%Y-%m-%dT%H:%M")


def record_call(org: Org, client: str, endpoint: str) -> ApiUsage:
    """Count one call and return the usage including it.

    A call the spent allowance refuses is not stored: its usage is then over the limit
    (`exceeded`), while the stored count stays where it was.
    """
    with org.transaction():
        usage = daily_usage(org)
        if usage.used < usage.limit:
            org.conn.execute(
                "INSERT INTO _lf_api_calls VALUES (?, ?, ?, 1)"
                " ON CONFLICT (minute, client, endpoint) DO UPDATE SET calls = calls + 1",
                (_minute(org), client, endpoint),
            )
    return ApiUsage(usage.used + 1, usage.limit)


def daily_usage(org: Org) -> ApiUsage:
    with org.lock:
        row = org.conn.execute(
            "SELECT coalesce(sum(calls), 0) FROM _lf_api_calls WHERE minute > ?",
            (_minute(org, timedelta(hours=24)),),
        ).fetchone()
    return ApiUsage(int(row[0]), org.config.daily_api_limit)


def usage_by(org: Org, column: str) -> dict[str, int]:
    """Calls in the last 24 hours grouped by `client` or `endpoint`."""
    if column not in ("client", "endpoint"):
        raise ValueError(column)
    with org.lock:
        rows = org.conn.execute(
            f"SELECT {column}, sum(calls) FROM _lf_api_calls WHERE minute > ? GROUP BY {column}",
            (_minute(org, timedelta(hours=24)),),
        ).fetchall()
    return {str(k): int(v) for k, v in rows}


def reset_usage(org: Org) -> None:
    """Forget every counted call, as if the org had made none for a day."""
    with org.transaction():
        org.conn.execute("DELETE FROM _lf_api_calls")


class LongRequests:
    """The requests in flight, to count those that have run longer than a threshold.

    Salesforce refuses any new request while the org has `limit` or more requests that have been
    running for at least the threshold (20 s; 25 of them in production, 5 in a Developer
    Edition). Short requests never count, however many there are.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._started: dict[int, float] = {}
        self._tickets = itertools.count()
        self._lock = threading.Lock()

    def admit(self, *, threshold: float, limit: int) -> int | None:
        """A ticket for a new request, or None when `limit` long-running requests are in flight."""
        with self._lock:
            now = self._monotonic()
            if sum(1 for t in self._started.values() if now - t >= threshold) >= limit:
                return None
            ticket = next(self._tickets)
            self._started[ticket] = now
            return ticket

    def release(self, ticket: int) -> None:
        with self._lock:
            self._started.pop(ticket, None)
