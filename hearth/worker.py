"""Salesforce work for connected workspaces: preflight, provisioning, then the read sync.

`run_workspace` does one round for one workspace:

1. **Preflight**, once after connecting (and again each round while it found something
   blocking, so a fixed permission is noticed without reconnecting). Blocking findings stop
   the round: nothing is created or read in an org Hearth cannot use.
2. **Provisioning**, once after connecting: Hearth's fields and their permission set. Fields
   it could not create are reported with the manual path and do not stop reading.
3. **A sync cycle** (`hearth.sync.run_sync`): the initial copy, a re-sync, or an incremental pass.

A refused refresh (`invalid_grant`) marks the connection NEEDS_RECONNECT and nothing more runs
for the org until an admin connects again; the daily API limit ends the round and the next
round starts where it stopped. `Worker` runs rounds for every connected workspace on an
interval, and at once when `wake` is called (after a connection is made).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal

import anyio.to_thread
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from hearth.connections import (
    ConnectedApp,
    NotConnected,
    get_connection,
    mark_needs_reconnect,
    open_client,
)
from hearth.crypto import SecretBox
from hearth.provisioning.executor import provision
from hearth.provisioning.preflight import (
    PreflightReport,
    evaluate_preflight,
    gather_preflight_facts,
)
from hearth.salesforce import SalesforceClient
from hearth.salesforce.errors import (
    ReauthorizationRequired,
    RequestLimitExceeded,
    SalesforceError,
)
from hearth.settings import Settings
from hearth.storage.models import ConnectionStatus, SalesforceConnection, utc_now
from hearth.sync import ProgressCallback, SyncOptions, SyncReport, run_sync

__all__ = [
    "Outcome",
    "Worker",
    "WorkspaceRound",
    "connected_workspaces",
    "run_workspace",
    "sync_options",
]

_logger = logging.getLogger(__name__)

Outcome = Literal[
    "synced", "blocked", "needs_reconnect", "limit_reached", "not_connected", "failed", "busy"
]
# The advisory-lock key space of workspace rounds: (this, workspace id). Migrations lock a
# single bigint whose high half differs.
_ROUND_LOCK_SPACE = 0x48525448  # "HRTH"
# Advisory locks are per database, not per schema: the key names the schema too, so Hearth
# instances sharing a database in separate schemas never wait on each other. Two workspaces
# whose keys collide only take turns.
_LOCK_KEY = "hashtext(current_schema() || ':' || CAST(:workspace AS text))"
_DEFAULT_OPTIONS = SyncOptions()


@dataclass(frozen=True, kw_only=True)
class WorkspaceRound:
    """What one round did for a workspace, and why it stopped if it did."""

    workspace_id: int
    outcome: Outcome
    detail: str | None = None
    preflight: PreflightReport | None = None
    sync: SyncReport | None = None


def _store(engine: Engine, workspace_id: int, **columns: Any) -> None:
    with Session(engine) as session, session.begin():
        connection = get_connection(session, workspace_id)
        if connection is not None:
            for name, value in columns.items():
                setattr(connection, name, value)


def _pending(engine: Engine, workspace_id: int) -> tuple[bool, bool]:
    """(needs preflight, needs provisioning) for the workspace's connection."""
    with Session(engine) as session:
        connection = get_connection(session, workspace_id)
        if connection is None:
            return False, False
        preflight = connection.preflight
        blocked = preflight is not None and not PreflightReport.from_data(preflight).ok
        return preflight is None or blocked, connection.provisioning is None


async def _round(
    client: SalesforceClient,
    engine: Engine,
    workspace_id: int,
    *,
    options: SyncOptions,
    progress: ProgressCallback | None,
    clock: Callable[[], datetime],
) -> WorkspaceRound:
    needs_preflight, needs_provisioning = await anyio.to_thread.run_sync(
        _pending, engine, workspace_id
    )
    report: PreflightReport | None = None
    if needs_preflight:
        report = evaluate_preflight(await gather_preflight_facts(client))
        await anyio.to_thread.run_sync(
            partial(_store, engine, workspace_id, preflight=json.loads(report.to_json()))
        )
        if not report.ok:
            return WorkspaceRound(
                workspace_id=workspace_id,
                outcome="blocked",
                detail="; ".join(f.what for f in report.blocking),
                preflight=report,
            )
    if needs_provisioning:
        provisioned = await provision(client)
        await anyio.to_thread.run_sync(
            partial(_store, engine, workspace_id, provisioning=json.loads(provisioned.to_json()))
        )
    sync = await run_sync(
        client, engine, workspace_id, progress=progress, clock=clock, options=options
    )
    if sync.stopped is not None:
        return WorkspaceRound(
            workspace_id=workspace_id, outcome="limit_reached", detail=sync.stopped, sync=sync
        )
    return WorkspaceRound(workspace_id=workspace_id, outcome="synced", preflight=report, sync=sync)


@asynccontextmanager
async def _exclusive_round(engine: Engine, workspace_id: int) -> AsyncIterator[bool]:
    """Whether this process may run the workspace's round now (and holds it until the end).

    On PostgreSQL, several processes (web workers, `hearth worker`s) may share one database:
    a session advisory lock makes them take turns instead of reading the org twice. SQLite is
    one machine's file, served by one process, so there is nothing to exclude.
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    connection = await anyio.to_thread.run_sync(engine.connect)
    try:
        acquired = await anyio.to_thread.run_sync(
            lambda: bool(
                connection.execute(
                    text(f"SELECT pg_try_advisory_lock(:space, {_LOCK_KEY})"),
                    {"space": _ROUND_LOCK_SPACE, "workspace": workspace_id},
                ).scalar()
            )
        )
        yield acquired
        if acquired:
            await anyio.to_thread.run_sync(
                lambda: connection.execute(
                    text(f"SELECT pg_advisory_unlock(:space, {_LOCK_KEY})"),
                    {"space": _ROUND_LOCK_SPACE, "workspace": workspace_id},
                )
            )
    finally:
        await anyio.to_thread.run_sync(connection.close)


async def run_workspace(
    engine: Engine,
    workspace_id: int,
    *,
    app: ConnectedApp,
    box: SecretBox,
    options: SyncOptions = _DEFAULT_OPTIONS,
    progress: ProgressCallback | None = None,
    clock: Callable[[], datetime] = utc_now,
    client_options: dict[str, Any] | None = None,
) -> WorkspaceRound:
    """One round of Salesforce work for the workspace (see the module docstring).

    "busy" when another process is running the workspace's round right now.
    """
    async with _exclusive_round(engine, workspace_id) as acquired:
        if not acquired:
            return WorkspaceRound(
                workspace_id=workspace_id, outcome="busy", detail="another worker is on it"
            )
        opener = partial(
            open_client, engine, workspace_id, app=app, box=box, **(client_options or {})
        )
        return await _locked_round(
            engine, workspace_id, opener, options=options, progress=progress, clock=clock
        )


async def _locked_round(
    engine: Engine,
    workspace_id: int,
    opener: Callable[[], SalesforceClient],
    *,
    options: SyncOptions,
    progress: ProgressCallback | None,
    clock: Callable[[], datetime],
) -> WorkspaceRound:
    try:
        client = await anyio.to_thread.run_sync(opener)
    except NotConnected as exc:
        return WorkspaceRound(workspace_id=workspace_id, outcome="not_connected", detail=str(exc))
    async with client:
        try:
            return await _round(
                client, engine, workspace_id, options=options, progress=progress, clock=clock
            )
        except ReauthorizationRequired as exc:
            reason = (
                f"Salesforce refused Hearth's access ({exc.message}): the connected user may "
                "have revoked it, been deactivated, or had their password reset. Reconnect to "
                "resume."
            )

            def stop() -> None:
                with Session(engine) as session, session.begin():
                    mark_needs_reconnect(session, workspace_id, reason, now=utc_now())

            await anyio.to_thread.run_sync(stop)
            return WorkspaceRound(
                workspace_id=workspace_id, outcome="needs_reconnect", detail=reason
            )
        except RequestLimitExceeded as exc:
            return WorkspaceRound(
                workspace_id=workspace_id, outcome="limit_reached", detail=str(exc)
            )
        except SalesforceError as exc:
            _logger.warning("Salesforce work for workspace %s failed: %s", workspace_id, exc)
            return WorkspaceRound(workspace_id=workspace_id, outcome="failed", detail=str(exc))


def sync_options(settings: Settings) -> SyncOptions:
    """The sync's options as `settings` configure them."""
    return SyncOptions(opportunity_active_date_field=settings.opportunity_active_date_field)


def connected_workspaces(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(SalesforceConnection.workspace_id)
                .where(SalesforceConnection.status == ConnectionStatus.CONNECTED)
                .order_by(SalesforceConnection.workspace_id)
            )
        )


class Worker:
    """Rounds for every connected workspace, every `interval`, and at once on `wake`.

    One round at a time per process: each workspace's org has its own API limits, but this
    process's database connections and memory are shared, and a round is mostly waiting on
    Salesforce. Run one worker per deployment (`hearth serve` runs one unless told not to).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        app: ConnectedApp,
        box: SecretBox,
        interval: timedelta,
        options: SyncOptions = _DEFAULT_OPTIONS,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        self._engine = engine
        self._app = app
        self._box = box
        self._interval = interval
        self._options = options
        self._client_options = client_options
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self, _workspace_id: int | None = None) -> None:
        """Start a round now (thread-safe: the web app calls it from request threads)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Run rounds until cancelled."""
        self._loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            for workspace_id in await anyio.to_thread.run_sync(connected_workspaces, self._engine):
                outcome = await run_workspace(
                    self._engine,
                    workspace_id,
                    app=self._app,
                    box=self._box,
                    options=self._options,
                    client_options=self._client_options,
                )
                _logger.info(
                    "workspace %s: %s %s", workspace_id, outcome.outcome, outcome.detail or ""
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval.total_seconds())
