"""API request accounting: every counted call is recorded per minute, client and endpoint.

The daily allowance is a rolling 24 hours, as in a real org. Counts live in the org database so a
restart loses nothing, and the admin API (and benchmarks) read them back.
"""

from __future__ import annotations

from datetime import timedelta

from .org import Org

__all__ = ["ApiUsage", "daily_usage", "ensure_tables", "record_call", "usage_by"]


class ApiUsage:
    __slots__ = ("limit", "used")

    def __init__(self, used: int, limit: int) -> None:
        self.used = used
        self.limit = limit

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def header(self) -> str:
        return f"api-usage={self.used}/{self.limit}"


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
    """Count one call and return the usage including it."""
    with org.transaction():
        org.conn.execute(
            "INSERT INTO _lf_api_calls VALUES (?, ?, ?, 1) ON CONFLICT (minute, client, endpoint)"
            " DO UPDATE SET calls = calls + 1",
            (_minute(org), client, endpoint),
        )
        return daily_usage(org)


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
