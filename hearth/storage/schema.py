"""The database schema, kept current by the Alembic migrations in hearth/migrations.

No alembic.ini is read: the configuration is built here, so `migrate()` works from any working
directory and from an installed wheel. To write the next revision, on a migrated database::

    config = alembic_config()
    with create_engine_for(url).begin() as connection:
        config.attributes["connection"] = connection
        alembic.command.revision(config, message="...", autogenerate=True, rev_id="0002")
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from hearth.errors import DatabaseError
from hearth.storage.engine import create_engine_for, database_failure_reason

__all__ = ["MIGRATIONS_DIRECTORY", "alembic_config", "migrate", "require_current_schema"]

MIGRATIONS_DIRECTORY = Path(__file__).resolve().parent.parent / "migrations"

# Any constant works as long as nothing else in the database takes the same advisory lock.
_MIGRATION_LOCK_KEY = 0x4845415254480001  # "HEARTH" + 1


def alembic_config() -> Config:
    """An Alembic configuration pointing at Hearth's migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIRECTORY))
    return config


def migrate(database_url: str) -> str:
    """Upgrade the database at `database_url` to the newest revision and return that revision.

    Safe to run from several processes at once: on PostgreSQL one migrates while the others
    wait on an advisory lock, then find nothing left to do. Raises `DatabaseError`.
    """
    engine = create_engine_for(database_url)
    config = alembic_config()
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            return _current_revision(connection) or ""
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot migrate: {database_failure_reason(exc)}") from exc
    finally:
        engine.dispose()


def require_current_schema(engine: Engine) -> None:
    """Raise `DatabaseError` unless the database is migrated to this version's newest revision."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    try:
        with engine.connect() as connection:
            current = _current_revision(connection)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot read the schema: {database_failure_reason(exc)}") from exc
    if current != head:
        raise DatabaseError(
            f"the database schema is at revision {current or 'none'}, this version of Hearth "
            f"needs {head}: run `hearth migrate`"
        )


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
