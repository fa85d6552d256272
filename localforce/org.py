"""An org: its SQLite database, schema, clock and configuration.

One table per object, one column per field (named by the field's API name), plus the hidden
columns `_rid` (the record counter the ID is built from, so ID order is creation order) and
`_deleted_at` (recycle bin). Text columns compare case-insensitively (`COLLATE NOCASE`), as SOQL
does; IDs are stored in their canonical 18-character form and compare exactly.

All access goes through one connection guarded by `lock`: localforce favours being correct and
simple over concurrent writes, which a single SQLite file cannot offer anyway.
"""

from __future__ import annotations

import functools
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from .clock import Clock
from .ids import make_id
from .permissions import grant_to_profiles
from .schema import FieldDef, FieldType, ObjectDef, PicklistValue, Schema
from .standard_objects import standard_objects
from .values import Stored, format_datetime

__all__ = ["SUBSTRING_INDEXED", "Org", "OrgConfig", "quote_ident", "substring_index_name"]

DB_FILE = "org.sqlite3"

# Lookups that joins, child subqueries and cascades walk; indexing every lookup would slow loads.
_INDEXED_FIELDS: dict[str, tuple[str, ...]] = {
    "Account": ("Name", "Website", "ParentId"),
    "Contact": ("AccountId", "Email"),
    "Lead": ("Email", "Website", "ConvertedContactId"),
    "Opportunity": ("AccountId",),
    "CampaignMember": ("CampaignId", "LeadId", "ContactId"),
    "CampaignMemberStatus": ("CampaignId",),
    "Task": ("WhoId", "WhatId"),
    "User": ("Username", "Email"),
}


# Fields searched by substring (`Website LIKE '%acme.com%'`): a trigram index answers those
# without a table scan. Website is how accounts are found by domain.
SUBSTRING_INDEXED: frozenset[tuple[str, str]] = frozenset(
    {("Account", "Website"), ("Lead", "Website")}
)


def substring_index_name(object_name: str, field_name: str) -> str:
    return f"_lf_trigram_{object_name}_{field_name}"


@dataclass(frozen=True, kw_only=True)
class OrgConfig:
    """Behaviour an admin of a real org would configure."""

    access_token_ttl: timedelta = timedelta(hours=2)
    daily_api_limit: int = 100_000
    # A request running this long counts towards the concurrent long-running limit.
    long_request_seconds: float = 20.0
    # New requests are refused while this many long-running requests are in flight.
    long_request_limit: int = 25
    refresh_token_rotation: bool = False


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@functools.lru_cache(maxsize=1024)
def _select_by_id(table: str, columns: tuple[str, ...]) -> str:
    """The statement reading one row by ID (cached: every write reads the row it changes)."""
    return f'SELECT {", ".join(map(quote_ident, columns))} FROM {quote_ident(table)} WHERE "Id" = ?'


def _column_type(field: FieldDef) -> str:
    kind = field.type
    if kind in (FieldType.ID, FieldType.REFERENCE):
        return "TEXT"
    if kind.is_text:
        return "TEXT" if field.case_sensitive else "TEXT COLLATE NOCASE"
    if kind in (FieldType.BOOLEAN, FieldType.INT):
        return "INTEGER"
    if kind.is_number:
        return "REAL"
    return "TEXT"  # dates and datetimes


def _field_to_json(field: FieldDef) -> str:
    data = asdict(field)
    data["type"] = field.type.value
    return json.dumps(data)


def _field_from_json(text: str) -> FieldDef:
    data = json.loads(text)
    data["type"] = FieldType(data["type"])
    data["picklist"] = tuple(PicklistValue(**p) for p in data["picklist"])
    data["reference_to"] = tuple(data["reference_to"])
    return FieldDef(**data)


class Org:
    """A Salesforce org stored in `DIR/org.sqlite3`."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        data_dir: Path | None,
        clock: Clock,
        config: OrgConfig,
    ) -> None:
        self.conn = conn
        self.data_dir = data_dir
        self.clock = clock
        self.config = config
        self.lock = threading.RLock()
        self.schema = Schema(standard_objects())
        self._counters: dict[str, int] = {}
        self._tx_depth = 0
        self._pod = "5e"
        self._init_database()
        stored_offset = self.meta("clock_offset_ms")
        if stored_offset:
            self.clock.advance(timedelta(milliseconds=int(stored_offset)))

    @classmethod
    def open(
        cls,
        data_dir: Path | str | None,
        *,
        clock: Clock | None = None,
        config: OrgConfig | None = None,
    ) -> Org:
        """Open (creating when new) the org stored in `data_dir`; None keeps it in memory."""
        if data_dir is None:
            conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            path = None
        else:
            path = Path(data_dir)
            path.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                path / DB_FILE, check_same_thread=False, isolation_level=None, timeout=30
            )
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
        return cls(conn, data_dir=path, clock=clock or Clock(), config=config or OrgConfig())

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # -- schema and tables ---------------------------------------------------------------

    def _init_database(self) -> None:
        with self.transaction():
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS _lf_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS _lf_custom_fields ("
                " object TEXT NOT NULL, name TEXT NOT NULL, definition TEXT NOT NULL,"
                " created_date TEXT NOT NULL, PRIMARY KEY (object, name))"
            )
            if self.meta("pod") is None:
                self.set_meta("pod", secrets.choice("123456789") + secrets.choice("abcdefghjk"))
            self._pod = self.meta("pod") or "5e"
            for name, definition in self.conn.execute(
                "SELECT object, definition FROM _lf_custom_fields ORDER BY created_date, name"
            ).fetchall():
                obj = self.schema.get(name)
                if obj is not None:
                    self.schema.replace_object(obj.with_field(_field_from_json(definition)))
            for obj in self.schema:
                self.ensure_table(obj)

    def ensure_table(self, obj: ObjectDef) -> None:
        """Create the table of `obj`, or add the columns it lacks (call inside a transaction).

        Also builds the tables of objects outside the schema: the Tooling API catalogues."""
        table = quote_ident(obj.name)
        existing = {row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")}
        if not existing:
            columns = ["_rid INTEGER PRIMARY KEY", '"Id" TEXT NOT NULL UNIQUE', "_deleted_at TEXT"]
            columns += [
                f"{quote_ident(f.name)} {_column_type(f)}" for f in obj.fields if f.name != "Id"
            ]
            self.conn.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
            self.conn.execute(
                f"CREATE INDEX {quote_ident('ix_' + obj.name + '_SystemModstamp')} "
                f'ON {table} ("SystemModstamp")'
            )
            for name in _INDEXED_FIELDS.get(obj.name, ()):
                self._create_index(obj, name, unique=False)
        else:
            for f in obj.fields:
                if f.name not in existing:
                    self.conn.execute(
                        f"ALTER TABLE {table} ADD COLUMN {quote_ident(f.name)} {_column_type(f)}"
                    )
        for object_name, field_name in SUBSTRING_INDEXED:
            if object_name == obj.name:
                self._ensure_substring_index(obj, field_name)
        row = self.conn.execute(f"SELECT max(_rid) FROM {table}").fetchone()
        self._counters[obj.name] = row[0] or 0

    def _ensure_substring_index(self, obj: ObjectDef, field_name: str) -> None:
        """An FTS5 trigram index over one text column, kept current by triggers."""
        index = substring_index_name(obj.name, field_name)
        if self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (index,)).fetchone():
            return
        table, column, fts = quote_ident(obj.name), quote_ident(field_name), quote_ident(index)
        self.conn.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content={table}, "
            "content_rowid=_rid, tokenize='trigram')"
        )
        insert = f"INSERT INTO {fts} (rowid, {column}) VALUES (new._rid, new.{column});"
        delete = (
            f"INSERT INTO {fts} ({fts}, rowid, {column}) VALUES ('delete', old._rid, old.{column});"
        )
        triggers = {
            "ai": f"AFTER INSERT ON {table} BEGIN {insert} END",
            "ad": f"AFTER DELETE ON {table} BEGIN {delete} END",
            "au": f"AFTER UPDATE OF {column} ON {table} BEGIN {delete} {insert} END",
        }
        for suffix, body in triggers.items():
            self.conn.execute(f"CREATE TRIGGER {quote_ident(index + '_' + suffix)} {body}")
        self.conn.execute(f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')")

    def _create_index(self, obj: ObjectDef, field_name: str, *, unique: bool) -> None:
        kind = "UNIQUE INDEX" if unique else "INDEX"
        self.conn.execute(
            f"CREATE {kind} IF NOT EXISTS {quote_ident('ix_' + obj.name + '_' + field_name)} "
            f"ON {quote_ident(obj.name)} ({quote_ident(field_name)})"
        )

    def object(self, name: str) -> ObjectDef | None:
        return self.schema.get(name)

    def add_custom_field(
        self, object_name: str, field: FieldDef, *, grant_access: bool = True
    ) -> FieldDef:
        """Add a custom field to an object: schema, column and (for unique/external IDs) index.

        `grant_access` grants field-level security on it to every profile, as Setup's field
        wizard does by default: read to all, edit where the profile may edit the object. Fields
        created through the Tooling API pass False: there, as in a real org, nobody sees the
        field until a FieldPermissions record grants it.
        """
        with self.transaction():
            obj = self.schema.get(object_name)
            if obj is None:
                raise KeyError(object_name)
            self.conn.execute(
                f"ALTER TABLE {quote_ident(obj.name)} "
                f"ADD COLUMN {quote_ident(field.name)} {_column_type(field)}"
            )
            if field.unique or field.external_id:
                self._create_index(obj, field.name, unique=False)
            self.conn.execute(
                "INSERT INTO _lf_custom_fields VALUES (?, ?, ?, ?)",
                (obj.name, field.name, _field_to_json(field), self.now()),
            )
            self.schema.replace_object(obj.with_field(field))
            self.set_meta("schema_modified", self.now())
            if grant_access:
                grant_to_profiles(self, obj.name, field.name)
        return field

    def custom_field_rowid(self, object_name: str, field_name: str) -> int | None:
        """The stored definition's row number: what a custom field's `00N` ID is built from."""
        row = self.conn.execute(
            "SELECT rowid FROM _lf_custom_fields WHERE object = ? AND name = ?",
            (object_name, field_name),
        ).fetchone()
        return None if row is None else int(row[0])

    # -- metadata -------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM _lf_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO _lf_meta VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def advance_clock(self, delta: timedelta) -> None:
        """Move the org's time forward and remember it, so a restart keeps the org's time."""
        with self.transaction():
            self.clock.advance(delta)
            offset_ms = int(self.clock.offset / timedelta(milliseconds=1))
            self.set_meta("clock_offset_ms", str(offset_ms))

    def now(self) -> str:
        return format_datetime(self.clock.now())

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A transaction, or a savepoint when one is already open; rolls back on any exception."""
        with self.lock:
            depth = self._tx_depth
            name = f"sp{depth}"
            self.conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT {name}")
            self._tx_depth += 1
            try:
                yield
            except BaseException:
                if depth == 0:
                    self.conn.execute("ROLLBACK")
                else:
                    self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                raise
            else:
                self.conn.execute("COMMIT" if depth == 0 else f"RELEASE {name}")
            finally:
                self._tx_depth -= 1

    # -- rows -------------------------------------------------------------------------------

    @property
    def pod(self) -> str:
        """The two characters after the key prefix in this org's IDs."""
        return self._pod

    def reserve_ids(self, obj: ObjectDef, count: int) -> int:
        """Reserve `count` consecutive record counters of `obj`; returns the first.

        Call inside a transaction. The table's own maximum is consulted as well as this
        process's counter, so records written by another process (a CLI seed) are never reused.
        """
        row = self.conn.execute(f"SELECT max(_rid) FROM {quote_ident(obj.name)}").fetchone()
        first = max(self._counters[obj.name], row[0] or 0) + 1
        self._counters[obj.name] = first + count - 1
        return first

    def new_id(self, obj: ObjectDef) -> tuple[int, str]:
        """Allocate the next record counter and ID of `obj` (call inside a transaction)."""
        rid = self.reserve_ids(obj, 1)
        return rid, make_id(obj.key_prefix, self._pod, rid)

    def insert_row(self, obj: ObjectDef, rid: int, values: Mapping[str, Stored]) -> None:
        names = ["_rid", *values]
        self.conn.execute(
            f"INSERT INTO {quote_ident(obj.name)} ({', '.join(map(quote_ident, names))}) "
            f"VALUES ({', '.join('?' * len(names))})",
            (rid, *values.values()),
        )

    def insert_system_record(self, object_name: str, values: Mapping[str, Stored]) -> str:
        """Insert a record the org itself creates (bootstrap, default permissions), with audit
        fields naming the bootstrap administrator, bypassing validation; returns its ID.

        Call inside a transaction; `values` may name the audit fields to override them.
        """
        obj = self.schema.get(object_name)
        if obj is None:
            raise KeyError(object_name)
        now = self.now()
        admin = self.meta("admin_user_id") or ""
        rid, record_id = self.new_id(obj)
        row: dict[str, Stored] = {
            "Id": record_id,
            "IsDeleted": 0,
            "CreatedDate": now,
            "CreatedById": admin,
            "LastModifiedDate": now,
            "LastModifiedById": admin,
            "SystemModstamp": now,
            **values,
        }
        self.insert_row(obj, rid, row)
        return record_id

    def insert_rows(
        self, obj: ObjectDef, columns: Sequence[str], rows: Sequence[Sequence[Stored]]
    ) -> None:
        """Bulk insert of prepared rows whose first column is `_rid` (seeding, Bulk API)."""
        self.conn.executemany(
            f"INSERT INTO {quote_ident(obj.name)} ({', '.join(map(quote_ident, columns))}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            rows,
        )
        highest = max(int(r[0] or 0) for r in rows)
        self._counters[obj.name] = max(self._counters[obj.name], highest)

    def update_row(self, obj: ObjectDef, record_id: str, values: Mapping[str, Stored]) -> None:
        if not values:
            return
        assignments = ", ".join(f"{quote_ident(name)} = ?" for name in values)
        self.conn.execute(
            f'UPDATE {quote_ident(obj.name)} SET {assignments} WHERE "Id" = ?',
            (*values.values(), record_id),
        )

    def fetch_row(
        self, obj: ObjectDef, record_id: str, columns: Sequence[str] | None = None
    ) -> dict[str, Any] | None:
        """One row by canonical ID, including deleted ones (check `IsDeleted`)."""
        names = tuple(columns) if columns is not None else tuple(f.name for f in obj.fields)
        if "IsDeleted" not in names:
            names = (*names, "IsDeleted")
        row = self.conn.execute(_select_by_id(obj.name, names), (record_id,)).fetchone()
        return None if row is None else dict(zip(names, row, strict=True))

    def find_ids(
        self, obj: ObjectDef, field_name: str, value: Stored, *, limit: int = 2
    ) -> list[str]:
        """IDs of live records whose field equals `value` (case-insensitively for text)."""
        rows = self.conn.execute(
            f'SELECT "Id" FROM {quote_ident(obj.name)} '
            f'WHERE {quote_ident(field_name)} = ? AND "IsDeleted" = 0 LIMIT ?',
            (value, limit),
        ).fetchall()
        return [r[0] for r in rows]
