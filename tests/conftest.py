"""Fixtures shared by every test suite: the databases storage tests run against.

`database_url` runs a test once on SQLite and once on PostgreSQL, each time on an empty
database of its own, so tests may run in parallel (pytest-xdist) without sharing tables.
PostgreSQL comes from HEARTH_TEST_POSTGRES_URL; when it is unreachable the test fails, unless
HEARTH_TEST_SKIP_POSTGRES=1 says to skip it.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
    else:
        yield from _postgresql_schema()


def _postgresql_schema() -> Iterator[str]:
    if os.environ.get("HEARTH_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("HEARTH_TEST_SKIP_POSTGRES=1")
    server_url = sa.make_url(os.environ.get("HEARTH_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL))
    server_url = server_url.set(drivername="postgresql+psycopg")
    schema = f"test_{uuid.uuid4().hex}"
    admin = sa.create_engine(server_url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    unreachable_because = _create_schema(admin, schema)
    if unreachable_because:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL at {server_url.render_as_string(hide_password=True)} is unreachable: "
            f"{unreachable_because}\nStart it, point HEARTH_TEST_POSTGRES_URL at another "
            "server, or set HEARTH_TEST_SKIP_POSTGRES=1 to skip the PostgreSQL tests.",
            pytrace=False,
        )
    try:
        # search_path makes the schema the default for every connection opened with this URL.
        test_url = server_url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield test_url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _create_schema(admin: sa.Engine, schema: str) -> str | None:
    """Create `schema`; return why the server could not be reached, or None."""
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        return str(exc.orig).strip()
    return None
