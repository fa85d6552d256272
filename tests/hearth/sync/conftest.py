"""Fixtures for the read sync's tests: a localforce org (the shared harness), a migrated
database with a workspace, and `Sync`, which runs cycles and reads back what they did."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, Table, func, select
from sqlalchemy.orm import Session

from hearth.salesforce import SalesforceClient, Tokens
from hearth.sync import ObjectState, SyncOptions, SyncProgress, SyncReport, load_states, run_sync
from hearth.sync.progress import ProgressCallback
from tests.hearth.localforce_harness import (  # noqa: F401
    Harness,
    anyio_backend,
    harness,
    org,
    rotation,
    tokens,
)
from tests.hearth.mirror.conftest import add_workspace


@dataclass
class Sync:
    """Runs read-sync cycles for one workspace against the harness's org."""

    harness: Harness
    client: SalesforceClient
    engine: Engine
    workspace_id: int
    options: SyncOptions = field(default_factory=lambda: SyncOptions(batch_size=500))
    seen: list[SyncProgress] = field(default_factory=list)

    def now(self) -> datetime:
        return self.harness.org.clock.now()

    async def run(self, *, progress: ProgressCallback | None = None, **options: Any) -> SyncReport:
        def record(step: SyncProgress) -> None:
            self.seen.append(step)
            if progress is not None:
                progress(step)

        return await run_sync(
            self.client,
            self.engine,
            self.workspace_id,
            progress=record,
            clock=self.now,
            options=replace(self.options, **options),
        )

    def mark(self) -> int:
        """Where the API calls made from now on start, for `api_calls`."""
        return len(self.harness.transport.requests)

    def api_calls(self, since: int = 0) -> list[str]:
        """The REST and Bulk calls made since `since`, as `METHOD path?query` (OAuth left out);
        a `/composite` call is one entry, naming its subrequests after it."""
        return [
            f"{r.method} {r.url.path}"
            + (f"?{r.url.params.get('q')}" if "q" in r.url.params else "")
            + "".join(f" [{sub}]" for sub in _subrequests(r))
            for r in self.harness.transport.requests[since:]
            if r.url.path.startswith("/services/data/")
        ]

    def states(self) -> dict[str, ObjectState]:
        with Session(self.engine) as session:
            return load_states(session, self.workspace_id)

    def rows(self, table: Table, **where: Any) -> list[Any]:
        with Session(self.engine) as session:
            query = select(table).where(table.c.workspace_id == self.workspace_id)
            for name, value in where.items():
                query = query.where(table.c[name] == value)
            return list(session.execute(query).all())

    def count(self, table: Table, *, deleted: bool = False) -> int:
        with Session(self.engine) as session:
            return int(
                session.scalar(
                    select(func.count()).where(
                        table.c.workspace_id == self.workspace_id,
                        table.c.is_deleted.is_(deleted),
                    )
                )
                or 0
            )

    def org_count(self, sobject: str) -> int:
        """Live records of `sobject` in the org, read from its database directly."""
        row = self.harness.org.conn.execute(
            f'SELECT count(*) FROM "{sobject}" WHERE "IsDeleted" = 0'
        ).fetchone()
        return int(row[0])


@pytest.fixture
def workspace_id(engine: Engine) -> int:
    with Session(engine) as session:
        workspace_id = add_workspace(session, "acme")
        session.commit()
    return workspace_id


@pytest.fixture
async def sync(
    harness: Harness,  # noqa: F811 - the imported fixture, requested by name
    tokens: Tokens,  # noqa: F811
    engine: Engine,
    workspace_id: int,
) -> AsyncIterator[Sync]:
    async with harness.client(tokens) as client:
        yield Sync(harness, client, engine, workspace_id)


def _subrequests(request: httpx.Request) -> list[str]:
    """A `/composite` request's subrequests as `METHOD path?query`, the query decoded."""
    if not request.url.path.endswith("/composite"):
        return []
    subrequests = json.loads(request.content)["compositeRequest"]
    return [
        f"{sub['method']} {httpx.URL(sub['url']).path}"
        + (f"?{httpx.URL(sub['url']).params['q']}" if "q" in httpx.URL(sub["url"]).params else "")
        for sub in subrequests
    ]
