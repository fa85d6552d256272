"""Bulk API 2.0 query jobs: check the SOQL, run it, and serve its results as CSV pages.

A query job compiles with the same compiler and errors as `/query`, plus the Bulk restrictions
(no child subqueries, aggregates, GROUP BY, OFFSET or FIELDS()). Running it records the number of
records and the highest record counter at that moment. Pages are read by keyset on the record
counter (`_rid`) up to that snapshot, so each page is an index range scan and nothing is held in
memory between pages; a query with ORDER BY or LIMIT stores its ordered record keys once, as
`/query` does. The locator is the page's start position, base64-encoded as Salesforce's are
(`MTAwMDA` is 10000): it is stateless and stays valid as long as the job exists.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError
from ..org import Org, quote_ident
from ..permissions import access_for
from ..query import compile_soql
from ..schema import Schema
from ..soql import FieldsFunction, parse
from ..soql.compiler import CompiledQuery
from ..values import Stored
from ._csv import formatter
from ._jobs import Job

__all__ = ["MAX_PAGE_BYTES", "Page", "QueryRun", "check_query", "result_page", "run_query"]

# A page stops early at this size, whatever maxRecords says: Salesforce's pages are "still
# subject to the size limits", and it keeps a page's memory bounded.
MAX_PAGE_BYTES = 32 * 1024 * 1024
_FETCH = 2000


def _unsupported(message: str) -> ApiError:
    return ApiError(status=400, error_code="API_ERROR", message=message)


def check_query(org: Org, text: str, operation: str, schema: Schema) -> CompiledQuery:
    """The compiled query over `schema` (the org as the job's user sees it), or the error
    creating a query job with it answers."""
    compiled = compile_soql(org, text, all_rows=operation == "queryAll", schema=schema)
    parsed = parse(text)  # compile_soql parsed it already; this cannot fail
    if compiled.children:
        raise _unsupported("Aggregate Relationships not supported in Bulk Query")
    if compiled.count_only or parsed.is_aggregate:
        raise _unsupported("Aggregate queries are not supported in Bulk Query")
    if parsed.offset is not None:
        raise _unsupported("OFFSET is not supported in Bulk Query")
    if any(isinstance(item, FieldsFunction) for item in parsed.select):
        raise _unsupported("FIELDS() is not supported in Bulk Query")
    return compiled


@dataclass(frozen=True, slots=True)
class QueryRun:
    total: int
    snapshot_max: int
    materialized: bool


def run_query(org: Org, job: Job) -> QueryRun:
    """Run a query job: count its records and fix the set its pages walk through."""
    assert job.query is not None
    compiled = check_query(org, job.query, job.operation, access_for(org, job.created_by).schema)
    where = f" WHERE {compiled.where_sql}" if compiled.where_sql else ""
    rid = compiled.select_sql[1]
    with org.transaction():
        snapshot_max = org.conn.execute(
            f"SELECT coalesce(max(_rid), 0) FROM {quote_ident(compiled.obj.name)}"
        ).fetchone()[0]
        if compiled.has_order_by or compiled.limit is not None:
            limit = "" if compiled.limit is None else f" LIMIT {int(compiled.limit)}"
            inserted = org.conn.execute(
                "INSERT INTO _lf_bulk_query_rows (job, seq, rid) "
                f"SELECT ?, row_number() OVER (ORDER BY {compiled.order_sql}), {rid} "
                f"FROM {compiled.from_sql}{where} ORDER BY {compiled.order_sql}{limit}",
                [job.id, *compiled.params],
            )
            return QueryRun(inserted.rowcount, snapshot_max, materialized=True)
        bounded = f"{where} AND {rid} <= ?" if where else f" WHERE {rid} <= ?"
        total = org.conn.execute(
            f"SELECT count(*) FROM {compiled.from_sql}{bounded}", [*compiled.params, snapshot_max]
        ).fetchone()[0]
    return QueryRun(total, snapshot_max, materialized=False)


def encode_locator(position: int) -> str:
    return base64.b64encode(str(position).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int | None:
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(text) if text.isdigit() else None


@dataclass(frozen=True, slots=True)
class Page:
    csv: bytes
    records: int
    locator: str  # the next page's locator, or "null" after the last page


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    index: int
    render: Callable[[Stored], str]


def _columns(compiled: CompiledQuery) -> list[_Column]:
    """The CSV columns: selected fields, relationship paths dotted (`Account.Name`)."""
    return [
        _Column(".".join((*c.path, c.field.name)), c.index, formatter(c.field))
        for c in compiled.columns
        if not c.hidden
    ]


def result_page(org: Org, job: Job, position: int, max_records: int | None) -> Page:
    """The page starting at `position`: after record counter `position` when walking by keyset,
    after the `position`-th stored key when the job stored its order."""
    assert job.query is not None and job.snapshot_max is not None and job.total is not None
    compiled = check_query(org, job.query, job.operation, access_for(org, job.created_by).schema)
    columns = _columns(compiled)
    dialect = job.dialect
    buffer = io.StringIO()
    writer = dialect.writer(buffer)
    writer.writerow([c.name for c in columns])
    want = max_records if max_records is not None else job.total + 1
    rid = compiled.select_sql[1]
    if job.materialized:
        sql = (
            f"SELECT {', '.join(compiled.select_sql)}, qr.seq FROM {compiled.from_sql} "
            f"JOIN _lf_bulk_query_rows qr ON qr.rid = {rid} "
            "WHERE qr.job = ? AND qr.seq > ? ORDER BY qr.seq LIMIT ?"
        )
        params: list[Any] = [job.id, position, want + 1]
    else:
        sql = compiled.sql(f"{rid} > ? AND {rid} <= ?") + " LIMIT ?"
        params = [*compiled.params, position, job.snapshot_max, want + 1]
    written, last, more = 0, position, False
    with org.lock:
        cursor = org.conn.execute(sql, params)
        while not more:
            rows = cursor.fetchmany(_FETCH)
            if not rows:
                break
            take = rows[: want - written]
            writer.writerows([c.render(row[c.index]) for c in columns] for row in take)
            written += len(take)
            if take:
                last = take[-1][-1] if job.materialized else take[-1][1]
            more = len(take) < len(rows) or (
                buffer.tell() >= MAX_PAGE_BYTES and cursor.fetchone() is not None
            )
    return Page(buffer.getvalue().encode(), written, encode_locator(last) if more else "null")
