"""Each object's sync state, read and written in the caller's transaction.

`ObjectState` is the plain value; `load_states` and `save_state` move it to and from the
`sync_state` table. Neither commits: the sync saves a state in the same transaction as the
batch of records it describes, which is what makes a killed sync resume exactly where it
stopped. `sync_status` is what a status page reads.

A re-sync is asked for with a flag, `resync_requested`, that only `request_resync` sets and only
`begin_pass` clears: the settings page may ask while a cycle is running, and the cycle's own
saves never write the flag, so the request cannot be lost. `begin_pass` reads the flag together
with the object's mappings, in one transaction, so the pass it starts reads every field mapped
before that moment, and a field mapped later leaves the flag set for the next cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.orm import Session

from hearth.sync.plan import Mode, Phase
from hearth.sync.progress import SyncProgress, measure
from hearth.sync.tables import sync_state

__all__ = [
    "ObjectState",
    "begin_pass",
    "load_states",
    "request_resync",
    "save_state",
    "sync_status",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class ObjectState:
    """Where one object's sync stands (see `hearth.sync.tables` for each field's meaning)."""

    sobject: str
    phase: Phase = Phase.INITIAL
    mode: Mode | None = None
    cursor_id: str | None = None
    pass_started_at: datetime | None = None
    watermark: datetime | None = None
    deleted_watermark: datetime | None = None
    records_done: int = 0
    records_total: int | None = None
    progress_started_at: datetime | None = None
    last_run_at: datetime | None = None
    last_error: str | None = None
    resync_requested: bool = False

    def progress(self, now: datetime) -> SyncProgress:
        """The stored counters as a progress value, as the sync last reported them."""
        return measure(
            sobject=self.sobject,
            phase=self.phase,
            done=self.records_done,
            total=self.records_total,
            started_at=self.progress_started_at,
            now=now,
        )


_COLUMNS = tuple(f.name for f in fields(ObjectState))
# What the sync's own saves write: everything but the key and the re-sync request.
_SAVED = tuple(name for name in _COLUMNS if name not in ("sobject", "resync_requested"))


def _state(row: Any) -> ObjectState:
    values = dict(row._mapping)
    values["phase"] = Phase(values["phase"])
    values["mode"] = Mode(values["mode"]) if values["mode"] else None
    return ObjectState(**values)


def load_states(session: Session, workspace_id: int) -> dict[str, ObjectState]:
    """The workspace's states by object API name; objects never synced are absent."""
    rows = session.execute(
        select(*(sync_state.c[name] for name in _COLUMNS)).where(
            sync_state.c.workspace_id == workspace_id
        )
    ).all()
    return {state.sobject: state for state in map(_state, rows)}


def _key(workspace_id: int, sobject: str) -> tuple[Any, ...]:
    return (sync_state.c.workspace_id == workspace_id, sync_state.c.sobject == sobject)


def save_state(session: Session, workspace_id: int, state: ObjectState) -> None:
    """Store `state` as the object's state, leaving a pending re-sync request in place."""
    values = {name: getattr(state, name) for name in _SAVED}
    values["phase"] = state.phase.value
    values["mode"] = state.mode.value if state.mode else None
    result = session.execute(
        update(sync_state).where(*_key(workspace_id, state.sobject)).values(**values)
    )
    if not isinstance(result, CursorResult) or result.rowcount == 0:
        session.execute(
            insert(sync_state).values(
                workspace_id=workspace_id,
                sobject=state.sobject,
                resync_requested=state.resync_requested,
                **values,
            )
        )


def request_resync(session: Session, workspace_id: int, sobject: str) -> None:
    """Have the next pass of `sobject` read every record again, with the mappings of then."""
    result = session.execute(
        update(sync_state).where(*_key(workspace_id, sobject)).values(resync_requested=True)
    )
    if not isinstance(result, CursorResult) or result.rowcount == 0:
        save_state(session, workspace_id, ObjectState(sobject=sobject, resync_requested=True))


def begin_pass(session: Session, workspace_id: int, sobject: str) -> ObjectState:
    """The state a pass of `sobject` starts from, taking up a pending re-sync request.

    A requested re-sync turns an incremental object into a full `RESYNC` pass and starts a
    full pass under way over, since the records it has read lack the new fields; the
    watermarks stay, so no change made meanwhile is missed. Call in the transaction that reads
    the object's mappings.
    """
    state = load_states(session, workspace_id).get(sobject) or ObjectState(sobject=sobject)
    if not state.resync_requested:
        return state
    restarted = replace(
        state,
        phase=Phase.INITIAL if state.phase is Phase.INITIAL else Phase.RESYNC,
        mode=None,
        cursor_id=None,
        records_done=0,
        records_total=None,
        progress_started_at=None,
        resync_requested=False,
    )
    save_state(session, workspace_id, restarted)
    session.execute(
        update(sync_state).where(*_key(workspace_id, sobject)).values(resync_requested=False)
    )
    return restarted


def sync_status(session: Session, workspace_id: int, now: datetime) -> list[SyncProgress]:
    """Every synced object's progress, as a page shows it."""
    return [state.progress(now) for state in load_states(session, workspace_id).values()]
