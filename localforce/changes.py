"""Replication: `GET /sobjects/X/updated` and `/sobjects/X/deleted` (getUpdated, getDeleted).

Both take a `start`/`end` window (ISO 8601 with an offset; seconds ignored) and answer the IDs
changed in it: updated reads `SystemModstamp` of live records, deleted reads the recycle bin
(`IsDeleted` with the hidden `_deleted_at` column). The window is half-open, `[start, covered)`,
where `latestDateCovered` is the end clamped to the current minute of the org clock: a record
written later in the current minute is then reported by the next window, which starts at
`latestDateCovered`, so a client that resumes from it neither misses nor repeats anything.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from .api import ApiRequest, ApiResponse, json_response
from .dispatch import ApiRoute
from .errors import ApiError
from .org import quote_ident
from .rest import read_only, sobject
from .schema import ObjectDef
from .values import format_datetime, parse_datetime

__all__ = ["MAX_IDS", "ROUTES", "deleted_handler", "updated_handler"]

UPDATED_RETENTION = timedelta(days=30)
DELETED_RETENTION = timedelta(days=15)
MAX_IDS = 600_000
_MINUTE = timedelta(minutes=1)
_ZONE = re.compile(r"T.*(?:[Zz]|[+-]\d{2}:?\d{2})$")


def _replication_error(message: str) -> ApiError:
    return ApiError(status=400, error_code="INVALID_REPLICATION_DATE", message=message)


def _minute(moment: datetime) -> datetime:
    """Salesforce ignores the seconds of both bounds (12:30:15 is read as 12:30:00)."""
    return moment.replace(second=0, microsecond=0)


def _bound(req: ApiRequest, name: str) -> datetime:
    text = req.query.get(name)
    if not text:
        raise ApiError(
            status=400,
            error_code="MISSING_ARGUMENT",
            message=f"Missing required parameter: {name}",
        )
    moment = parse_datetime(text)
    # An explicit zone is required; an unencoded `+` arrives as a space and fails here, as it
    # does against a real org.
    if moment is None or _ZONE.search(text) is None:
        raise _replication_error(
            f"Unable to parse {name}: '{text}'. Expected an ISO 8601 date-time with a time zone "
            "offset, such as 2024-01-31T10:00:00+00:00"
        )
    return _minute(moment)


def _enabled(req: ApiRequest) -> datetime | None:
    """When replication became possible: the org's creation."""
    stamp = req.org.meta("bootstrapped")
    moment = parse_datetime(stamp) if stamp else None
    return None if moment is None else _minute(moment)


def _window(req: ApiRequest, obj: ObjectDef, retention: timedelta) -> tuple[datetime, datetime]:
    """The validated `[start, covered)` window of a replication call."""
    read_only(req)
    if not obj.replicateable:
        raise ApiError(
            status=400,
            error_code="INVALID_TYPE_FOR_OPERATION",
            message=f"entity type {obj.name} does not support replication",
        )
    start, end = _bound(req, "start"), _bound(req, "end")
    if end - start < _MINUTE:
        # Salesforce's own wording, which swaps the two dates.
        raise _replication_error("startDate must be at least one minute greater than endDate")
    now = req.org.clock.now()
    if start < _minute(now - retention):
        raise _replication_error(
            f"startDate cannot be more than {retention.days} days before the current date"
        )
    enabled = _enabled(req)
    if enabled is not None and start < enabled:
        raise _replication_error("startDate before org replication enabled date")
    return start, max(start, min(end, _minute(now)))


def _limited(rows: list[Any]) -> list[Any]:
    if len(rows) > MAX_IDS:
        raise ApiError(
            status=400,
            error_code="EXCEEDED_ID_LIMIT",
            message=f"More than {MAX_IDS} ids found; use a shorter date range",
        )
    return rows


def updated_handler(req: ApiRequest) -> ApiResponse:
    """`GET /sobjects/X/updated/?start=&end=`: IDs of live records modified in the window."""
    obj = sobject(req)
    start, covered = _window(req, obj, UPDATED_RETENTION)
    with req.org.lock:
        rows = req.org.conn.execute(
            f'SELECT "Id" FROM {quote_ident(obj.name)} '
            'WHERE "SystemModstamp" >= ? AND "SystemModstamp" < ? AND "IsDeleted" = 0 '
            'ORDER BY "SystemModstamp", _rid LIMIT ?',
            (format_datetime(start), format_datetime(covered), MAX_IDS + 1),
        ).fetchall()
    return json_response(
        {"ids": [r[0] for r in _limited(rows)], "latestDateCovered": format_datetime(covered)}
    )


def deleted_handler(req: ApiRequest) -> ApiResponse:
    """`GET /sobjects/X/deleted/?start=&end=`: records moved to the recycle bin in the window."""
    obj = sobject(req)
    start, covered = _window(req, obj, DELETED_RETENTION)
    # A delete stamps `_deleted_at` and `SystemModstamp` alike and SystemModstamp never goes
    # back, so `SystemModstamp >= start` holds for every row in the window: that bound lets the
    # SystemModstamp index do the range scan instead of reading the whole table.
    with req.org.lock:
        rows = req.org.conn.execute(
            f'SELECT "Id", _deleted_at FROM {quote_ident(obj.name)} '
            'WHERE "SystemModstamp" >= ? AND "IsDeleted" = 1 '
            "AND _deleted_at >= ? AND _deleted_at < ? ORDER BY _deleted_at, _rid LIMIT ?",
            (format_datetime(start), format_datetime(start), format_datetime(covered), MAX_IDS + 1),
        ).fetchall()
    # The recycle bin keeps a record for the retention period; older deletions count as purged.
    earliest = _minute(req.org.clock.now() - DELETED_RETENTION)
    enabled = _enabled(req)
    if enabled is not None:
        earliest = max(earliest, enabled)
    return json_response(
        {
            "deletedRecords": [
                {"id": record_id, "deletedDate": deleted} for record_id, deleted in _limited(rows)
            ],
            "earliestDateAvailable": format_datetime(earliest),
            "latestDateCovered": format_datetime(covered),
        }
    )


# Before the generic `/sobjects/{sobject}/{record_id}` and external-ID routes, which would
# otherwise take `updated` and `deleted` for a record ID or a field name.
ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute("/sobjects/{sobject}/updated", updated_handler, "getUpdated"),
    ApiRoute("/sobjects/{sobject}/deleted", deleted_handler, "getDeleted"),
)
