"""Fixtures for Hearth's tests: a migrated database and a session on it."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hearth.storage import create_engine_for, migrate


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a freshly migrated database (each backend in turn)."""
    migrate(database_url)
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the migrated database; whatever the test leaves uncommitted is rolled back."""
    with Session(engine) as session:
        yield session
