from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from hearth.errors import DatabaseError
from hearth.storage import Base, create_engine_for, migrate, require_current_schema
from hearth.storage.schema import alembic_config

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrated_schema_matches_the_models(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Migrations are found through the package, not the working directory.
    monkeypatch.chdir(tmp_path)

    assert migrate(database_url) == HEAD

    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        engine.dispose()


def test_migrating_again_changes_nothing(database_url: str) -> None:
    migrate(database_url)

    assert migrate(database_url) == HEAD


def test_current_schema_is_required(database_url: str) -> None:
    engine = create_engine_for(database_url)
    try:
        with pytest.raises(DatabaseError, match=r"revision none.*run `hearth migrate`"):
            require_current_schema(engine)
        migrate(database_url)
        require_current_schema(engine)
    finally:
        engine.dispose()


def test_downgrade_removes_every_table(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}


def test_unreachable_database_is_a_database_error() -> None:
    with pytest.raises(DatabaseError, match=r"cannot migrate: .*refused"):
        migrate("postgresql://postgres:hunter2@127.0.0.1:1/hearth?connect_timeout=2")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_migrations_take_turns(database_url: str) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        revisions = list(pool.map(migrate, [database_url] * 4))

    assert revisions == [HEAD] * 4
