"""SOQL over REST: `/query`, `/queryAll` and their `nextRecordsUrl` pages.

Paging keeps working while other writes happen. A query without ORDER BY walks the table in ID
order (the `_rid` key) up to the highest record that existed when it started, so each page is an
index range scan and new records never shift later pages. A query with ORDER BY that spans more
than one page materialises its ordered record keys once, as Salesforce's server-side cursor does.
Every issued `nextRecordsUrl` stays valid (for two days), so a client may retry a page.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .api import ApiRequest, ApiResponse, json_response
from .errors import ApiError
from .ids import BASE62, to18
from .org import SUBSTRING_INDEXED, Org, substring_index_name
from .records import attributes
from .rest import method_not_allowed
from .schema import Schema
from .soql import SoqlSyntaxError, parse
from .soql.compiler import CompiledQuery, OutputColumn, QueryError, compile_query
from .values import format_datetime, to_json

__all__ = [
    "answer_query",
    "answer_query_more",
    "compile_soql",
    "ensure_tables",
    "query_all_handler",
    "query_handler",
    "query_more_handler",
]

DEFAULT_BATCH = 2000
MIN_BATCH = 200
CURSOR_LIFETIME = timedelta(days=2)
_CHILD_CHUNK = 500


def ensure_tables(org: Org) -> None:
    with org.transaction():
        org.conn.execute(
            "CREATE TABLE IF NOT EXISTS _lf_query_cursors ("
            " id TEXT PRIMARY KEY, query TEXT NOT NULL, all_rows INTEGER NOT NULL,"
            " materialized INTEGER NOT NULL, snapshot_max INTEGER NOT NULL,"
            " total INTEGER NOT NULL, batch INTEGER NOT NULL, created TEXT NOT NULL)"
        )
        # Keyset checkpoints: the `_rid` after which the page at `position` starts.
        org.conn.execute(
            "CREATE TABLE IF NOT EXISTS _lf_cursor_pages ("
            " cursor TEXT NOT NULL, position INTEGER NOT NULL, after_rid INTEGER NOT NULL,"
            " PRIMARY KEY (cursor, position))"
        )
        org.conn.execute(
            "CREATE TABLE IF NOT EXISTS _lf_cursor_rows ("
            " cursor TEXT NOT NULL, seq INTEGER NOT NULL, rid INTEGER NOT NULL,"
            " PRIMARY KEY (cursor, seq)) WITHOUT ROWID"
        )


@dataclass(frozen=True, slots=True)
class _Cursor:
    id: str
    query: str
    all_rows: bool
    materialized: bool
    snapshot_max: int
    total: int
    batch: int


def _batch_size(req: ApiRequest) -> int:
    options = req.headers.get("sforce-query-options", "")
    for part in options.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            return min(max(int(value), MIN_BATCH), DEFAULT_BATCH)
    return DEFAULT_BATCH


def compile_soql(org: Org, text: str, *, all_rows: bool, schema: Schema) -> CompiledQuery:
    """SOQL text compiled against `schema` (the org as the querying user sees it, or the Tooling
    API's objects), failing with the REST API's errors (Bulk query jobs too)."""
    try:
        parsed = parse(text)
        return compile_query(
            parsed,
            schema,
            text=text,
            today=org.clock.now().date(),
            include_deleted=all_rows,
            substring_indexed=SUBSTRING_INDEXED,
            index_name=substring_index_name,
        )
    except SoqlSyntaxError as err:
        raise ApiError(
            status=400, error_code=err.kind.value, message=err.salesforce_message()
        ) from None
    except QueryError as err:
        raise ApiError(status=400, error_code=err.error_code, message=err.message) from None


def query_handler(req: ApiRequest) -> ApiResponse:
    """`GET /query?q=`: the first page of a query over live records."""
    return answer_query(req, req.schema, all_rows=False)


def query_all_handler(req: ApiRequest) -> ApiResponse:
    """`GET /queryAll?q=`: the same, including deleted records in the recycle bin."""
    return answer_query(req, req.schema, all_rows=True)


def query_more_handler(req: ApiRequest) -> ApiResponse:
    """`GET /query/{locator}-{position}`: a later page."""
    return answer_query_more(req, req.schema)


def answer_query(req: ApiRequest, schema: Schema, *, all_rows: bool, base: str = "") -> ApiResponse:
    """The first page of the request's query over `schema`; `base` is the API under the version
    prefix ("" for data, "/tooling"), which record and next-page URLs start with."""
    if req.method not in ("GET", "HEAD"):
        raise method_not_allowed(req, "GET, HEAD")
    text = req.query.get("q")
    if not text:
        raise ApiError(
            status=400, error_code="MALFORMED_QUERY", message="A query string (q=) is required"
        )
    compiled = compile_soql(req.org, text, all_rows=all_rows, schema=schema)
    with req.org.lock:
        return json_response(_first_page(req, compiled, text, all_rows, base))


def answer_query_more(req: ApiRequest, schema: Schema, base: str = "") -> ApiResponse:
    """A later page of a query over `schema` (see `answer_query`)."""
    locator, _, position_text = req.path_params["locator"].partition("-")
    with req.org.lock:
        row = req.org.conn.execute(
            "SELECT id, query, all_rows, materialized, snapshot_max, total, batch, created "
            "FROM _lf_query_cursors WHERE id = ?",
            (locator,),
        ).fetchone()
        if row is None or not position_text.isdigit() or row[7] < _expiry(req.org):
            raise ApiError(
                status=400,
                error_code="INVALID_QUERY_LOCATOR",
                message="invalid query locator",
            )
        cursor = _Cursor(row[0], row[1], bool(row[2]), bool(row[3]), row[4], row[5], row[6])
        compiled = compile_soql(req.org, cursor.query, all_rows=cursor.all_rows, schema=schema)
        return json_response(_page(req, compiled, cursor, int(position_text), base))


def _expiry(org: Org) -> str:
    return format_datetime(org.clock.now() - CURSOR_LIFETIME)


def _first_page(
    req: ApiRequest, compiled: CompiledQuery, text: str, all_rows: bool, base: str
) -> dict[str, Any]:
    org = req.org
    limit, offset = compiled.limit, compiled.offset or 0
    if compiled.count_only:
        count = org.conn.execute(_bounded_count_sql(compiled), compiled.params).fetchone()
        return {"totalSize": count[0], "done": True, "records": []}
    if compiled.aggregate:
        sql = compiled.sql() + _limit_clause(limit, offset)
        rows = org.conn.execute(sql, compiled.params).fetchall()
        return {
            "totalSize": len(rows),
            "done": True,
            "records": [_aggregate_record(compiled, r) for r in rows],
        }
    total = org.conn.execute(_bounded_count_sql(compiled), compiled.params).fetchone()[0]
    batch = _batch_size(req)
    if total <= batch:
        sql = compiled.sql() + _limit_clause(limit, offset)
        rows = org.conn.execute(sql, compiled.params).fetchall()
        return {"totalSize": total, "done": True, "records": _records(req, compiled, rows, base)}
    _expire_cursors(org)
    cursor_id = _new_locator()
    materialized = compiled.has_order_by
    snapshot_max = org.conn.execute(
        f'SELECT coalesce(max(_rid), 0) FROM "{compiled.obj.name}"'
    ).fetchone()[0]
    cursor = _Cursor(cursor_id, text, all_rows, materialized, snapshot_max, total, batch)
    with org.transaction():
        org.conn.execute(
            "INSERT INTO _lf_query_cursors VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (cursor_id, text, int(all_rows), int(materialized), snapshot_max, total, batch,
             org.now()),
        )  # fmt: skip
        if materialized:
            rid = compiled.select_sql[1]
            org.conn.execute(
                "INSERT INTO _lf_cursor_rows (cursor, seq, rid) "
                f"SELECT ?, row_number() OVER (ORDER BY {compiled.order_sql}), {rid} "
                f"FROM {compiled.from_sql}"
                + (f" WHERE {compiled.where_sql}" if compiled.where_sql else "")
                + f" ORDER BY {compiled.order_sql}"
                + _limit_clause(limit, offset),
                [cursor_id, *compiled.params],
            )
        elif offset:
            # The keyset walk starts after the skipped rows.
            skipped = org.conn.execute(
                f"SELECT {compiled.select_sql[1]} FROM {compiled.from_sql}"
                + (f" WHERE {compiled.where_sql}" if compiled.where_sql else "")
                + f" ORDER BY {compiled.order_sql} LIMIT 1 OFFSET ?",
                [*compiled.params, offset - 1],
            ).fetchone()
            org.conn.execute(
                "INSERT INTO _lf_cursor_pages VALUES (?, 0, ?)", (cursor_id, skipped[0])
            )
        if not materialized and not offset:
            org.conn.execute("INSERT INTO _lf_cursor_pages VALUES (?, 0, 0)", (cursor_id,))
    return _page(req, compiled, cursor, 0, base)


def _page(
    req: ApiRequest, compiled: CompiledQuery, cursor: _Cursor, position: int, base: str
) -> dict[str, Any]:
    org = req.org
    if position >= cursor.total and position != 0:
        raise ApiError(
            status=400, error_code="INVALID_QUERY_LOCATOR", message="invalid query locator"
        )
    size = min(cursor.batch, cursor.total - position)
    if cursor.materialized:
        sql = (
            f"SELECT {', '.join(compiled.select_sql)} FROM {compiled.from_sql} "
            f"JOIN _lf_cursor_rows cr ON cr.rid = {compiled.select_sql[1]} "
            "WHERE cr.cursor = ? AND cr.seq > ? ORDER BY cr.seq LIMIT ?"
        )
        rows = org.conn.execute(sql, (cursor.id, position, size)).fetchall()
    else:
        checkpoint = org.conn.execute(
            "SELECT after_rid FROM _lf_cursor_pages WHERE cursor = ? AND position = ?",
            (cursor.id, position),
        ).fetchone()
        if checkpoint is None:
            raise ApiError(
                status=400, error_code="INVALID_QUERY_LOCATOR", message="invalid query locator"
            )
        rid = compiled.select_sql[1]
        sql = compiled.sql(f"{rid} > ? AND {rid} <= ?") + " LIMIT ?"
        rows = org.conn.execute(
            sql, [*compiled.params, checkpoint[0], cursor.snapshot_max, size]
        ).fetchall()
    next_position = position + len(rows)
    body: dict[str, Any] = {"totalSize": cursor.total, "done": True}
    if rows and next_position < cursor.total:
        if not cursor.materialized:
            with org.transaction():
                org.conn.execute(
                    "INSERT OR IGNORE INTO _lf_cursor_pages VALUES (?, ?, ?)",
                    (cursor.id, next_position, rows[-1][1]),
                )
        body["done"] = False
        body["nextRecordsUrl"] = f"{req.prefix}{base}/query/{cursor.id}-{next_position}"
    body["records"] = _records(req, compiled, rows, base)
    return body


def _bounded_count_sql(compiled: CompiledQuery) -> str:
    if compiled.limit is None and not compiled.offset:
        return compiled.count_sql()
    inner = f"SELECT 1 FROM {compiled.from_sql}"
    if compiled.where_sql:
        inner += f" WHERE {compiled.where_sql}"
    return f"SELECT count(*) FROM ({inner}{_limit_clause(compiled.limit, compiled.offset)})"


def _limit_clause(limit: int | None, offset: int | None) -> str:
    if limit is None and not offset:
        return ""
    return f" LIMIT {-1 if limit is None else int(limit)} OFFSET {int(offset or 0)}"


def _new_locator() -> str:
    return to18("0r8" + "".join(secrets.choice(BASE62) for _ in range(12)))


def _expire_cursors(org: Org) -> None:
    expired = [
        r[0]
        for r in org.conn.execute(
            "SELECT id FROM _lf_query_cursors WHERE created < ?", (_expiry(org),)
        ).fetchall()
    ]
    if not expired:
        return
    with org.transaction():
        for cursor_id in expired:
            for table, column in (
                ("_lf_cursor_rows", "cursor"),
                ("_lf_cursor_pages", "cursor"),
                ("_lf_query_cursors", "id"),
            ):
                org.conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (cursor_id,))


# -- records ------------------------------------------------------------------------------


def _build(
    obj_name: str, columns: list[OutputColumn], row: tuple[Any, ...], prefix: str
) -> dict[str, Any]:
    record: dict[str, Any] = {"attributes": attributes(obj_name, row[0], prefix)}
    parents: dict[tuple[str, ...], dict[str, Any] | None] = {(): record}
    for col in columns:
        if not col.path:
            if not col.hidden:
                record[col.field.name] = to_json(col.field, row[col.index])
            continue
        if col.hidden and col.field.name == "Id":
            holder = parents.get(col.path[:-1])
            value = row[col.index]
            if holder is None:
                parents[col.path] = None
                continue
            if value is None:
                holder[col.path[-1]] = None
                parents[col.path] = None
            else:
                parent = {"attributes": attributes(col.object_types[0], value, prefix)}
                holder[col.path[-1]] = parent
                parents[col.path] = parent
            continue
        target = parents.get(col.path)
        if target is None:
            continue
        if col.hidden:  # the concrete type of a polymorphic parent
            parent_id = target["attributes"]["url"].rsplit("/", 1)[-1]
            target["attributes"] = attributes(row[col.index], parent_id, prefix)
            continue
        target[col.field.name] = to_json(col.field, row[col.index])
    return record


def _records(
    req: ApiRequest, compiled: CompiledQuery, rows: list[tuple[Any, ...]], base: str
) -> list[dict[str, Any]]:
    prefix = req.prefix + base
    records = [_build(compiled.obj.name, compiled.columns, r, prefix) for r in rows]
    for child in compiled.children:
        _attach_children(req, child.name, child.query, records, base)
    return records


def _attach_children(
    req: ApiRequest,
    name: str,
    compiled: CompiledQuery,
    parents: list[dict[str, Any]],
    base: str,
) -> None:
    ids = [p["attributes"]["url"].rsplit("/", 1)[-1] for p in parents]
    by_parent: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    fk = compiled.select_sql[-1]
    for start in range(0, len(ids), _CHILD_CHUNK):
        chunk = ids[start : start + _CHILD_CHUNK]
        marks = ", ".join("?" * len(chunk))
        sql = compiled.sql(f"{fk} IN ({marks})")
        for row in req.org.conn.execute(sql, [*compiled.params, *chunk]):
            by_parent[row[-1]].append(row)
    for parent, parent_id in zip(parents, ids, strict=True):
        rows = by_parent.get(parent_id, [])
        if compiled.offset:
            rows = rows[compiled.offset :]
        if compiled.limit is not None:
            rows = rows[: compiled.limit]
        if not rows:
            parent[name] = None
            continue
        children = _records(req, compiled, rows, base)
        parent[name] = {"totalSize": len(children), "done": True, "records": children}


def _aggregate_record(compiled: CompiledQuery, row: tuple[Any, ...]) -> dict[str, Any]:
    record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
    for col, name in zip(compiled.columns, compiled.aggregate_names, strict=True):
        record[name] = to_json(col.field, row[col.index])
    return record
