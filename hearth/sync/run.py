"""`run_sync`: one read-sync cycle of a workspace's org into its CRM mirror.

A cycle first describes every object of `SYNCED_OBJECTS` in one `/composite` call (the client
asks conditionally, so an unchanged schema answers 304 inside it), then for each object reads
its state and mappings, taking up a pending re-sync request (`hearth.sync.state.begin_pass`),
and disables the mappings whose field is gone or changed type (`hearth.sync.drift`). It
fetches the first page of every incremental pass's queries five to a `/composite` call (one
call however many queries it holds), so an org where nothing changed costs three API calls a
cycle. Then, for each object in order, it:

3. runs one pass, chosen by the object's phase:
   - a full pass (`initial`, or `resync` after a mapping changed) reads every live record in Id
     order, through the REST API or, above `bulk_threshold` records, Bulk API 2.0; the size
     comes from one count query, asked with the others' when the cycle starts;
   - an incremental pass reads the records changed since the watermark, then (for objects
     that can be deleted) the records deleted since the deletion watermark,
     through `queryAll`; a deleted record is marked deleted in the mirror, and a merge's loser
     has the mirror's references to it re-pointed to its master (`hearth.sync.merges`).

Records go to the mirror in batches of `batch_size`, never the whole object at once, and each
batch commits together with the state that covers it (cursor, watermark, counters): a sync
killed at any point resumes after its last committed batch, refetching only what was not
committed and missing nothing.

A watermark is the SystemModstamp from which the next incremental pass reads. It trails what
was read by `look_back`: a finished initial pass sets it to the moment the pass started less
the look-back, a batch moves it to its newest record less the look-back, and a finished
incremental pass to the moment the cycle asked less the look-back. So a record saved in a
transaction that committed late, or stamped by a clock a little behind Hearth's, is still read;
a quiet org is re-read for at most one look-back's changes, once.

In an incremental pass, converted Leads name the Contact and Account they became; those missing
from the mirror (made after their own object's pass ran) are fetched by Id in the Lead's batch,
so matching does not see a converted Lead pointing nowhere until the next cycle.

Failures: `RequestLimitExceeded` (the org's daily allowance is spent) ends the cycle cleanly,
keeps every committed watermark and says so in the report. Any other `SalesforceError` is
stored as the object's `last_error` and raised to the caller; for `ReauthorizationRequired` (the
refresh token is revoked or expired) the caller must stop working for the org until a person
connects it again. An expired access token is refreshed by the client, transparently.

The database is synchronous SQLAlchemy: each batch runs in a worker thread
(`anyio.to_thread.run_sync`), in its own transaction, so the event loop is never blocked on it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import anyio
from sqlalchemy import Engine, Table, select
from sqlalchemy.orm import Session

from hearth.mirror.repository import MirrorRepository, Synced
from hearth.mirror.tables import mirror_accounts, mirror_contacts
from hearth.salesforce.client import Json, SalesforceClient
from hearth.salesforce.errors import RequestLimitExceeded, SalesforceError
from hearth.salesforce.soql import in_list_chunks
from hearth.sync.drift import detect_drift
from hearth.sync.mappings import disable_mapping, list_mappings
from hearth.sync.merges import repoint_merged
from hearth.sync.objects import (
    SYNCED_OBJECTS,
    CustomField,
    ObjectPlan,
    by_ids_soql,
    changes_soql,
    converted_targets,
    count_soql,
    deletions_soql,
    flatten,
    full_pass_soql,
    plan_object,
    system_modstamp,
    to_synced,
)
from hearth.sync.plan import DEFAULT_BULK_THRESHOLD, Mode, Phase, choose_mode
from hearth.sync.progress import ProgressCallback
from hearth.sync.state import ObjectState, begin_pass, load_states, save_state

__all__ = ["ObjectReport", "SyncOptions", "SyncReport", "run_sync"]

_T = TypeVar("_T")
Clock = Callable[[], datetime]


@dataclass(frozen=True, kw_only=True)
class SyncOptions:
    """How a cycle reads.

    `look_back` is how far each watermark trails what was read (see the module docstring): a
    record saved in a transaction that committed late, or stamped by a server whose clock is a
    little behind Hearth's, is still read. `opportunity_active_date_field` is
    the Opportunity field read as the spec's "Active Date". `bulk_page_size` caps the rows of
    one Bulk result page, which the client reads whole: it bounds the memory a pass uses.
    """

    bulk_threshold: int = DEFAULT_BULK_THRESHOLD
    batch_size: int = 2_000
    look_back: timedelta = timedelta(minutes=5)
    opportunity_active_date_field: str = "LastActivityDate"
    bulk_page_size: int | None = 50_000


@dataclass(frozen=True, kw_only=True)
class ObjectReport:
    """What a cycle did to one object: records written, marked deleted, and followed (fetched
    because a converted Lead named them); `mode` is the API of a full pass."""

    sobject: str
    phase: Phase
    mode: Mode | None = None
    upserted: int = 0
    deleted: int = 0
    followed: int = 0


@dataclass(frozen=True, kw_only=True)
class SyncReport:
    """A cycle's outcome: per object, the drift warnings raised, and why it stopped early
    (None when every object was visited)."""

    objects: tuple[ObjectReport, ...]
    warnings: tuple[str, ...] = ()
    stopped: str | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def run_sync(
    client: SalesforceClient,
    engine: Engine,
    workspace_id: int,
    *,
    progress: ProgressCallback | None = None,
    clock: Clock = _utc_now,
    options: SyncOptions = SyncOptions(),
) -> SyncReport:
    """Run one cycle for the workspace: initial, re-sync or incremental pass per object.

    `progress` is called after every committed batch. `clock` reads the time that becomes an
    initial pass's watermark; Salesforce's SystemModstamp is compared with it, so it should
    follow the org's time (the real clock, for a real org). Raises the `SalesforceError`s
    described in the module docstring, except `RequestLimitExceeded`.
    """
    cycle = _Cycle(client, engine, workspace_id, progress, clock, options)
    return await cycle.run()


async def _batches(rows: AsyncIterator[_T], size: int) -> AsyncGenerator[list[_T], None]:
    batch: list[_T] = []
    async for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _later(current: datetime | None, candidate: datetime) -> datetime:
    """A watermark only moves forward."""
    return candidate if current is None else max(current, candidate)


async def _prefetched(items: AsyncGenerator[_T, None]) -> AsyncGenerator[_T, None]:
    """`items`, with the next one fetched while the caller works on the current one.

    The sync's loop is fetch-and-parse, then write: overlapping the two lets the network and
    Salesforce work while the database writes (in its worker thread). One item of read-ahead
    keeps memory bounded by two batches. Use it under `contextlib.aclosing`, so a caller that
    stops early also stops the read-ahead at once rather than when the generator is collected.
    """
    ahead: asyncio.Future[_T] = asyncio.ensure_future(anext(items))
    try:
        while True:
            try:
                item = await ahead
            except StopAsyncIteration:
                return
            ahead = asyncio.ensure_future(anext(items))
            yield item
    finally:
        if not ahead.done():
            ahead.cancel()
            with contextlib.suppress(BaseException):
                await ahead
        await items.aclose()


_UPSERTS: Mapping[str, Callable[[MirrorRepository, Sequence[Synced[Any]]], int]] = {
    "User": MirrorRepository.upsert_users,
    "Account": MirrorRepository.upsert_accounts,
    "Contact": MirrorRepository.upsert_contacts,
    "Lead": MirrorRepository.upsert_leads,
    "Opportunity": MirrorRepository.upsert_opportunities,
}


def _absent(session: Session, workspace_id: int, table: Table, ids: Iterable[str]) -> list[str]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    held = set(
        session.scalars(
            select(table.c.salesforce_id).where(
                table.c.workspace_id == workspace_id, table.c.salesforce_id.in_(wanted)
            )
        )
    )
    return [i for i in wanted if i not in held]


@dataclass(frozen=True, kw_only=True)
class _Asked:
    """What a cycle asked up front, by object, and when it asked (see `_Cycle._first_pages`)."""

    asked_at: datetime
    counts: Mapping[str, int]
    changes: Mapping[str, Json]
    deletions: Mapping[str, Json]


class _Cycle:
    def __init__(
        self,
        client: SalesforceClient,
        engine: Engine,
        workspace_id: int,
        progress: ProgressCallback | None,
        clock: Clock,
        options: SyncOptions,
    ) -> None:
        self._client = client
        self._engine = engine
        self._workspace_id = workspace_id
        self._progress = progress
        self._clock = clock
        self._options = options
        self._plans: dict[str, ObjectPlan] = {}
        self._reports: list[ObjectReport] = []
        self._warnings: list[str] = []

    async def _db(self, work: Callable[[Session], _T]) -> _T:
        """Run `work` in a worker thread, in one transaction committed when it returns."""

        def in_transaction() -> _T:
            with Session(self._engine) as session, session.begin():
                return work(session)

        return await anyio.to_thread.run_sync(in_transaction)

    def _report(self, stopped: str | None = None) -> SyncReport:
        return SyncReport(
            objects=tuple(self._reports), warnings=tuple(self._warnings), stopped=stopped
        )

    async def run(self) -> SyncReport:
        sobject = SYNCED_OBJECTS[0]
        try:
            # Every object's describe in one call, then the counts of new full passes and the
            # first page of every incremental query, five to a call: an org with nothing new
            # costs three calls.
            described = await self._client.describe_many(SYNCED_OBJECTS)
            prepared: list[tuple[ObjectPlan, ObjectState]] = []
            for sobject in SYNCED_OBJECTS:
                describe = described.get(sobject) or await self._client.describe(sobject)
                prepared.append(await self._prepare(sobject, describe))
            first = await self._first_pages(prepared)
            for plan, state in prepared:
                sobject = plan.sobject
                if state.phase is Phase.INCREMENTAL:
                    report = await self._incremental(plan, state, first)
                else:
                    report = await self._full_pass(plan, state, first.counts.get(sobject))
                self._reports.append(report)
        except RequestLimitExceeded as exc:
            await self._failed(sobject, exc)
            return self._report(stopped=f"the org's daily API limit is reached ({exc.message})")
        except SalesforceError as exc:
            await self._failed(sobject, exc)
            raise
        return self._report()

    async def _failed(self, sobject: str, error: SalesforceError) -> None:
        now = self._clock()

        def record(session: Session) -> None:
            state = load_states(session, self._workspace_id).get(sobject)
            state = state or ObjectState(sobject=sobject)
            failed = replace(state, last_run_at=now, last_error=f"{type(error).__name__}: {error}")
            save_state(session, self._workspace_id, failed)

        await self._db(record)

    async def _prepare(
        self, sobject: str, describe: Mapping[str, Any]
    ) -> tuple[ObjectPlan, ObjectState]:
        """The object's plan and the state its pass starts from; drifted mappings disabled."""
        ws = self._workspace_id
        # One transaction: a mapping saved after it leaves a re-sync request for the next cycle.
        state, mappings = await self._db(
            lambda s: (begin_pass(s, ws, sobject), list_mappings(s, ws, sobject))
        )
        drifts = detect_drift(mappings, describe, self._clock())
        if drifts:

            def disable(session: Session) -> None:
                for d in drifts:
                    field = d.mapping.field
                    disable_mapping(session, self._workspace_id, sobject, field, d.warning)

            await self._db(disable)
            self._warnings += [d.warning for d in drifts]
        gone = {d.mapping.field for d in drifts}
        custom = [
            CustomField(name=m.field, type=m.type)
            for m in mappings
            if m.enabled and m.field not in gone
        ]
        plan = plan_object(
            sobject,
            describe,
            custom,
            active_date_field=self._options.opportunity_active_date_field,
        )
        self._plans[sobject] = plan
        return plan, state

    def _incremental_queries(self, plan: ObjectPlan, state: ObjectState) -> tuple[str, str | None]:
        """An incremental pass's changes query, and its deletions query if the object has one."""
        watermark = state.watermark or self._clock() - self._options.look_back
        changes = changes_soql(plan, watermark)
        if not plan.tracks_deletions:
            return changes, None
        return changes, deletions_soql(plan, state.deleted_watermark or watermark)

    async def _first_pages(self, prepared: Sequence[tuple[ObjectPlan, ObjectState]]) -> _Asked:
        """Ask every object's opening question at once: a new full pass's count, an
        incremental pass's first page of changes and of deletions."""
        queries: list[tuple[str, bool]] = []
        keys: list[tuple[str, str]] = []
        for plan, state in prepared:
            if state.phase is Phase.INCREMENTAL:
                changes, deletions = self._incremental_queries(plan, state)
                queries.append((changes, False))
                keys.append(("changes", plan.sobject))
                if deletions is not None:
                    queries.append((deletions, True))
                    keys.append(("deletions", plan.sobject))
            elif state.mode is None:
                queries.append((count_soql(plan), False))
                keys.append(("count", plan.sobject))
        asked_at = self._clock()
        pages = await self._client.first_pages(queries) if queries else []
        answers: dict[str, dict[str, Json]] = {"changes": {}, "deletions": {}, "count": {}}
        for (kind, sobject), page in zip(keys, pages, strict=True):
            answers[kind][sobject] = page
        return _Asked(
            asked_at=asked_at,
            counts={o: int(page["records"][0]["total"]) for o, page in answers["count"].items()},
            changes=answers["changes"],
            deletions=answers["deletions"],
        )

    def _tell(self, state: ObjectState) -> None:
        if self._progress is not None:
            self._progress(state.progress(self._clock()))

    # -- full passes -----------------------------------------------------------------------

    async def _full_pass(
        self, plan: ObjectPlan, state: ObjectState, total: int | None
    ) -> ObjectReport:
        if state.mode is None:
            # Decided once per pass and stored: a resumed pass neither counts nor switches API.
            assert total is not None  # counted up front for every pass without a mode
            now = self._clock()
            state = replace(
                state,
                mode=choose_mode(total, self._options.bulk_threshold),
                cursor_id=None,
                records_done=0,
                records_total=total,
                progress_started_at=now,
                pass_started_at=state.pass_started_at or now,
            )
            started = state
            await self._db(lambda s: save_state(s, self._workspace_id, started))
            self._tell(started)
        soql = full_pass_soql(plan, state.cursor_id)
        if state.mode is Mode.BULK:
            rows = self._client.bulk_query(soql, page_size=self._options.bulk_page_size)
        else:
            rows = self._client.query(soql)
        upserted = 0
        batches = _prefetched(_batches(rows, self._options.batch_size))
        async with contextlib.aclosing(batches) as ahead:
            async for batch in ahead:
                synced = [to_synced(plan, flatten(r)) for r in batch]
                state = replace(
                    state,
                    cursor_id=synced[-1].record.id,
                    records_done=state.records_done + len(synced),
                )
                await self._store(plan, synced, state, follow=False)
                upserted += len(synced)
                self._tell(state)
        # An initial pass hands over at the moment it started, less the look-back (a record
        # saved just before may have committed after the pass read past it); a re-sync keeps
        # the watermarks the object already had. The changes made meanwhile are read either way.
        began = state.pass_started_at
        watermark = state.watermark or (
            began - self._options.look_back if began is not None else None
        )
        finished = replace(
            state,
            phase=Phase.INCREMENTAL,
            mode=None,
            cursor_id=None,
            pass_started_at=None,
            watermark=watermark,
            deleted_watermark=state.deleted_watermark or watermark,
            last_run_at=self._clock(),
            last_error=None,
        )
        await self._db(lambda s: save_state(s, self._workspace_id, finished))
        return ObjectReport(
            sobject=plan.sobject, phase=state.phase, mode=state.mode, upserted=upserted
        )

    async def _store(
        self, plan: ObjectPlan, synced: list[Synced[Any]], state: ObjectState, *, follow: bool
    ) -> int:
        """Write a batch and the state that covers it in one transaction; returns how many
        Contacts and Accounts were fetched because converted Leads named them.

        Only incremental passes `follow`: in a full pass, a Contact or Account that a
        conversion made after its own pass read is newer than that pass's watermark, so the
        next incremental pass reads it without a call per batch of Leads.
        """
        ws = self._workspace_id
        followed: dict[str, list[Synced[Any]]] = {}
        if follow and plan.sobject == "Lead":
            followed = await self._follow_conversions(synced)

        def write(session: Session) -> None:
            repository = MirrorRepository(session, ws)
            for sobject, records in followed.items():
                _UPSERTS[sobject](repository, records)
            _UPSERTS[plan.sobject](repository, synced)
            save_state(session, ws, state)

        await self._db(write)
        return sum(len(records) for records in followed.values())

    async def _follow_conversions(self, leads: list[Synced[Any]]) -> dict[str, list[Synced[Any]]]:
        contacts, accounts = converted_targets(leads)
        if not contacts and not accounts:
            return {}
        ws = self._workspace_id
        missing = await self._db(
            lambda s: {
                "Contact": _absent(s, ws, mirror_contacts, contacts),
                "Account": _absent(s, ws, mirror_accounts, accounts),
            }
        )
        fetched: dict[str, list[Synced[Any]]] = {}
        for sobject, ids in missing.items():
            plan = self._plans.get(sobject)
            if not ids or plan is None:
                continue
            fetched[sobject] = [
                to_synced(plan, flatten(row))
                for soql in in_list_chunks("Id", ids, query=by_ids_soql(plan))
                async for row in self._client.query(soql)
            ]
        return fetched

    # -- incremental passes ----------------------------------------------------------------

    async def _incremental(
        self, plan: ObjectPlan, state: ObjectState, asked: _Asked
    ) -> ObjectReport:
        ws = self._workspace_id
        look_back = self._options.look_back
        state = replace(
            state, records_done=0, records_total=None, progress_started_at=self._clock()
        )
        rows = self._client.records_from(asked.changes[plan.sobject])
        upserted = followed = deleted = 0
        batches = _prefetched(_batches(rows, self._options.batch_size))
        async with contextlib.aclosing(batches) as ahead:
            async for batch in ahead:
                synced = [to_synced(plan, flatten(r)) for r in batch]
                newest = max(s.system_modstamp for s in synced if s.system_modstamp is not None)
                state = replace(
                    state,
                    watermark=_later(state.watermark, newest - look_back),
                    records_done=state.records_done + len(synced),
                )
                followed += await self._store(plan, synced, state, follow=True)
                upserted += len(synced)
                self._tell(state)
        if plan.sobject in asked.deletions:
            gone = self._client.records_from(asked.deletions[plan.sobject])
            async for raw in _batches(gone, self._options.batch_size):
                flat = [flatten(r) for r in raw]
                newest = max(system_modstamp(r) for r in flat)
                state = replace(
                    state, deleted_watermark=_later(state.deleted_watermark, newest - look_back)
                )
                masters = {
                    str(r["Id"]): str(r["MasterRecordId"]) for r in flat if r.get("MasterRecordId")
                }
                deleted += await self._store_deletions(
                    plan, [str(r["Id"]) for r in flat], masters, state
                )
        # Everything saved before `asked_at - look_back` had committed when the cycle asked, so
        # the next cycle starts there: a quiet org re-reads at most one look-back's changes once.
        safe = asked.asked_at - look_back
        finished = replace(
            state,
            watermark=_later(state.watermark, safe),
            deleted_watermark=_later(state.deleted_watermark, safe)
            if plan.tracks_deletions
            else state.deleted_watermark,
            last_run_at=self._clock(),
            last_error=None,
        )
        await self._db(lambda s: save_state(s, ws, finished))
        return ObjectReport(
            sobject=plan.sobject,
            phase=Phase.INCREMENTAL,
            upserted=upserted,
            deleted=deleted,
            followed=followed,
        )

    async def _store_deletions(
        self, plan: ObjectPlan, ids: list[str], masters: dict[str, str], state: ObjectState
    ) -> int:
        """Mark a batch of deleted records and re-point merges, with the state that covers them,
        in one transaction; returns how many mirror rows became deleted."""
        ws = self._workspace_id

        def mark(session: Session) -> int:
            changed = MirrorRepository(session, ws).mark_deleted(ids)
            repoint_merged(session, ws, plan.sobject, masters)
            save_state(session, ws, state)
            return changed

        return await self._db(mark)
