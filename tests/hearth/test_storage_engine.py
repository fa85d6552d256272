from pathlib import Path

import pytest
from sqlalchemy import text

from hearth.errors import ConfigError
from hearth.storage import create_engine_for, parse_database_url


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://hearth@db:5432/hearth",
        "postgres://hearth@db:5432/hearth",
        "postgresql+psycopg://hearth@db:5432/hearth",
    ],
)
def test_postgresql_urls_use_psycopg_3(url: str) -> None:
    parsed = parse_database_url(url)

    assert parsed.drivername == "postgresql+psycopg"
    assert (parsed.host, parsed.port, parsed.database) == ("db", 5432, "hearth")
    assert create_engine_for(url).dialect.driver == "psycopg"


def test_sqlite_url_is_kept() -> None:
    assert parse_database_url("sqlite:///./var/hearth.db").render_as_string() == (
        "sqlite:///./var/hearth.db"
    )


@pytest.mark.parametrize(
    "url", ["mysql://root:hunter2@db/hearth", "postgresql+psycopg2://root:hunter2@db/hearth"]
)
def test_unsupported_database_is_a_config_error_without_the_password(url: str) -> None:
    with pytest.raises(ConfigError, match="unsupported database driver") as raised:
        parse_database_url(url)

    assert "hunter2" not in str(raised.value)


def test_unparsable_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cannot be parsed"):
        parse_database_url("not a url")


def test_sqlite_file_gets_its_directory_and_pragmas(tmp_path: Path) -> None:
    database = tmp_path / "var" / "nested" / "hearth.db"
    engine = create_engine_for(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            journal_mode = connection.execute(text("PRAGMA journal_mode")).scalar()
            foreign_keys = connection.execute(text("PRAGMA foreign_keys")).scalar()
            synchronous = connection.execute(text("PRAGMA synchronous")).scalar()
    finally:
        engine.dispose()

    assert database.exists()
    assert (journal_mode, foreign_keys, synchronous) == ("wal", 1, 1)  # 1 is NORMAL
