"""Engines for Hearth's two databases: SQLite (the embedded default) and PostgreSQL."""

from pathlib import Path

from sqlalchemy import URL, Engine, Table, create_engine, event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry

from hearth.errors import ConfigError

__all__ = [
    "create_engine_for",
    "database_failure_reason",
    "insert_for",
    "parse_database_url",
]

_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}
# Hearth speaks psycopg 3 only; the bare spellings are what people copy from their hosting panel.
_POSTGRESQL_DRIVERS = {"postgresql", "postgres", "postgresql+psycopg"}

_SQLITE_PRAGMAS = (
    # Readers no longer block the writer, and the writer no longer blocks readers.
    "PRAGMA journal_mode=WAL",
    # SQLite ignores FOREIGN KEY clauses unless each connection turns them on.
    "PRAGMA foreign_keys=ON",
    # Durable under WAL except on power loss, and far fewer fsyncs than FULL.
    "PRAGMA synchronous=NORMAL",
)


def parse_database_url(url: str) -> URL:
    """The SQLAlchemy URL Hearth connects with: SQLite as given, PostgreSQL through psycopg 3.

    Raises `ConfigError` for anything else. Messages never repeat the URL: it may hold a password.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError("the database URL cannot be parsed") from exc
    if parsed.drivername in _SQLITE_DRIVERS:
        return parsed
    if parsed.drivername in _POSTGRESQL_DRIVERS:
        return parsed.set(drivername="postgresql+psycopg")
    raise ConfigError(
        f"unsupported database driver {parsed.drivername!r}: "
        "use sqlite:///path/to/file.db or postgresql://user@host/database"
    )


def create_engine_for(url: str) -> Engine:
    """An engine for `url`; for a SQLite file, its directory is created if missing."""
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "postgresql":
        # Pre-ping: pooled connections survive a database restart instead of failing once each.
        # The pool covers the request threads (40 by default) so that busy moments reuse
        # connections instead of opening and closing overflow ones.
        return create_engine(parsed, pool_pre_ping=True, pool_size=20, max_overflow=20)
    _create_sqlite_directory(parsed)
    engine = create_engine(parsed)
    event.listen(engine, "connect", _apply_sqlite_pragmas)
    return engine


def insert_for(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` in the session's dialect, which knows ON CONFLICT (both
    databases Hearth runs on speak it)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no INSERT … ON CONFLICT for {dialect}")  # pragma: no cover


def _create_sqlite_directory(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _apply_sqlite_pragmas(
    dbapi_connection: DBAPIConnection, _connection_record: ConnectionPoolEntry
) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def database_failure_reason(exc: SQLAlchemyError) -> str:
    """One line saying why a database call failed, fit for logs and operators.

    The driver's first line (connection refused, no such table, ...) without the SQL and
    parameters SQLAlchemy appends; drivers never put the password in it.
    """
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]
