"""Bulk API 2.0 jobs in the org database: the job table, per-row results, and JobInfo bodies.

Jobs live in `_lf_bulk_jobs`, so a restart loses nothing. An ingest job's upload is a file in the
org's data directory (`bulk/<job id>.csv`); its per-row outcomes are rows of `_lf_bulk_results`,
written in the same transaction as the records they describe. A query job keeps the highest
record counter that existed when it ran (`snapshot_max`), or, when it has ORDER BY or LIMIT, its
ordered record keys in `_lf_bulk_query_rows`.

Every state change goes through `transition`, which checks it against the table in `_state`.
Deleted jobs keep a stub row (`deleted = 1`) for a day's quota count; jobs older than seven days
are purged, as Salesforce deletes them.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..ids import BASE62, InvalidId, make_id, normalize_id
from ..org import Org
from ..values import format_datetime
from ._csv import CsvDialect
from ._state import Action, JobState, JobType, next_state

__all__ = [
    "JOB_KEY_PREFIX",
    "Job",
    "bulk_dir",
    "count_created_since",
    "ensure_tables",
    "info_created",
    "info_full",
    "info_listed",
    "info_state_change",
    "job_counter",
    "list_jobs",
    "load_job",
    "new_job",
    "pending_jobs",
    "purge_expired",
    "transition",
    "update_job",
    "upload_path",
]

JOB_KEY_PREFIX = "750"
JOB_LIFESPAN = timedelta(days=7)
_COUNTER_KEY = "bulk_job_counter"

_COLUMNS = (
    "id", "seq", "job_type", "operation", "object", "state", "created_by", "created_date",
    "system_modstamp", "api_version", "column_delimiter", "line_ending", "external_id_field",
    "assignment_rule_id", "query", "error_message", "processed", "failed", "next_row", "total",
    "snapshot_max", "materialized", "upload_bytes", "processing_ms", "active_ms",
)  # fmt: skip


def ensure_tables(org: Org) -> None:
    with org.transaction():
        org.conn.execute(
            "CREATE TABLE IF NOT EXISTS _lf_bulk_jobs ("
            " id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, job_type TEXT NOT NULL,"
            " operation TEXT NOT NULL, object TEXT NOT NULL, state TEXT NOT NULL,"
            " created_by TEXT NOT NULL, created_date TEXT NOT NULL,"
            " system_modstamp TEXT NOT NULL, api_version TEXT NOT NULL,"
            " column_delimiter TEXT NOT NULL, line_ending TEXT NOT NULL,"
            " external_id_field TEXT, assignment_rule_id TEXT, query TEXT, error_message TEXT,"
            " processed INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,"
            # Ingest: input rows consumed so far; rows below it have a result row.
            " next_row INTEGER NOT NULL DEFAULT 0,"
            " total INTEGER, snapshot_max INTEGER, materialized INTEGER NOT NULL DEFAULT 0,"
            " upload_bytes INTEGER NOT NULL DEFAULT 0,"
            " processing_ms INTEGER NOT NULL DEFAULT 0, active_ms INTEGER NOT NULL DEFAULT 0,"
            " deleted INTEGER NOT NULL DEFAULT 0)"
        )
        org.conn.execute(
            "CREATE INDEX IF NOT EXISTS _lf_bulk_jobs_state ON _lf_bulk_jobs (state, seq)"
        )
        # One row per processed input row: its record ID, whether it created the record, and
        # the error (`CODE:message:fields`) when it failed.
        org.conn.execute(
            "CREATE TABLE IF NOT EXISTS _lf_bulk_results ("
            " job TEXT NOT NULL, row INTEGER NOT NULL, record_id TEXT,"
            " created INTEGER NOT NULL, error TEXT, PRIMARY KEY (job, row)) WITHOUT ROWID"
        )
        org.conn.execute(
            "CREATE TABLE IF NOT EXISTS _lf_bulk_query_rows ("
            " job TEXT NOT NULL, seq INTEGER NOT NULL, rid INTEGER NOT NULL,"
            " PRIMARY KEY (job, seq)) WITHOUT ROWID"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    id: str
    seq: int
    job_type: JobType
    operation: str
    object: str
    state: JobState
    created_by: str
    created_date: str
    system_modstamp: str
    api_version: str
    column_delimiter: str
    line_ending: str
    external_id_field: str | None
    assignment_rule_id: str | None
    query: str | None
    error_message: str | None
    processed: int
    failed: int
    next_row: int
    total: int | None
    snapshot_max: int | None
    materialized: bool
    upload_bytes: int
    processing_ms: int
    active_ms: int

    @property
    def dialect(self) -> CsvDialect:
        return CsvDialect(self.column_delimiter, self.line_ending)

    @property
    def terminal(self) -> bool:
        return self.state in (JobState.JOB_COMPLETE, JobState.FAILED, JobState.ABORTED)


def _from_row(row: tuple[Any, ...]) -> Job:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["job_type"] = JobType(values["job_type"])
    values["state"] = JobState(values["state"])
    values["materialized"] = bool(values["materialized"])
    return Job(**values)


_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM _lf_bulk_jobs"


def bulk_dir(org: Org) -> Path:
    """Where uploads live: `DIR/bulk`, or a temporary directory for an in-memory org."""
    if org.data_dir is not None:
        path = org.data_dir / "bulk"
    else:
        with org.transaction():
            known = org.meta("bulk_temp_dir")
            if known is None:
                known = tempfile.mkdtemp(prefix="localforce-bulk-")
                org.set_meta("bulk_temp_dir", known)
        path = Path(known)
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_path(org: Org, job_id: str) -> Path:
    return bulk_dir(org) / f"{job_id}.csv"


def new_job(
    org: Org,
    *,
    job_type: JobType,
    operation: str,
    object_name: str,
    state: JobState,
    created_by: str,
    api_version: str,
    dialect: CsvDialect,
    external_id_field: str | None = None,
    assignment_rule_id: str | None = None,
    query: str | None = None,
) -> Job:
    with org.transaction():
        # A counter of its own, so that IDs of purged jobs are never given out again.
        seq = int(org.meta(_COUNTER_KEY) or 0) + 1
        org.set_meta(_COUNTER_KEY, str(seq))
        job_id = make_id(JOB_KEY_PREFIX, org.pod, seq)
        now = org.now()
        org.conn.execute(
            "INSERT INTO _lf_bulk_jobs (id, seq, job_type, operation, object, state, created_by,"
            " created_date, system_modstamp, api_version, column_delimiter, line_ending,"
            " external_id_field, assignment_rule_id, query)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (job_id, seq, job_type.value, operation, object_name, state.value, created_by, now,
             now, api_version, dialect.column_delimiter, dialect.line_ending, external_id_field,
             assignment_rule_id, query),
        )  # fmt: skip
        job = load_job(org, job_id, job_type)
    assert job is not None
    return job


def load_job(org: Org, job_id: str, job_type: JobType) -> Job | None:
    """The live job of that type with that ID (15 or 18 characters), or None."""
    try:
        canonical = normalize_id(job_id)
    except InvalidId:
        return None
    with org.lock:
        row = org.conn.execute(
            f"{_SELECT} WHERE id = ? AND job_type = ? AND deleted = 0",
            (canonical, job_type.value),
        ).fetchone()
    return None if row is None else _from_row(row)


def update_job(org: Org, job_id: str, **changes: Any) -> None:
    """Write job columns (and `systemModstamp`); call inside a transaction."""
    names = list(changes)
    assert set(names) <= set(_COLUMNS) - {"id", "seq"}
    values = [v.value if isinstance(v, JobState) else v for v in changes.values()]
    assignments = ", ".join(f"{name} = ?" for name in [*names, "system_modstamp"])
    org.conn.execute(
        f"UPDATE _lf_bulk_jobs SET {assignments} WHERE id = ?", (*values, org.now(), job_id)
    )


def transition(org: Org, job: Job, action: Action, **changes: Any) -> Job | None:
    """Apply `action` to the job as it is stored now; None once the job is deleted.

    Raises `JobStateError` when the job's current state does not allow the action.
    """
    with org.transaction():
        current = load_job(org, job.id, job.job_type)
        if current is None:
            return None
        new_state = next_state(current.job_type, current.state, action)
        if new_state is None:
            _delete(org, current.id)
            return None
        if new_state is not current.state or changes:
            update_job(org, current.id, state=new_state, **changes)
        return load_job(org, current.id, current.job_type)


def _delete(org: Org, job_id: str) -> None:
    """Delete a job's data, keeping a stub row that still counts against the daily quota."""
    org.conn.execute("DELETE FROM _lf_bulk_results WHERE job = ?", (job_id,))
    org.conn.execute("DELETE FROM _lf_bulk_query_rows WHERE job = ?", (job_id,))
    org.conn.execute("UPDATE _lf_bulk_jobs SET deleted = 1 WHERE id = ?", (job_id,))
    upload_path(org, job_id).unlink(missing_ok=True)


def purge_expired(org: Org) -> None:
    """Delete every job created more than seven days ago, as Salesforce does."""
    cutoff = format_datetime(org.clock.now() - JOB_LIFESPAN)
    with org.transaction():
        expired = [
            r[0]
            for r in org.conn.execute(
                "SELECT id FROM _lf_bulk_jobs WHERE created_date < ?", (cutoff,)
            ).fetchall()
        ]
        for job_id in expired:
            _delete(org, job_id)
            org.conn.execute("DELETE FROM _lf_bulk_jobs WHERE id = ?", (job_id,))


def count_created_since(org: Org, job_type: JobType, since: timedelta) -> int:
    """Jobs of a type created in the last `since`, deleted ones included."""
    cutoff = format_datetime(org.clock.now() - since)
    with org.lock:
        row = org.conn.execute(
            "SELECT count(*) FROM _lf_bulk_jobs WHERE job_type = ? AND created_date >= ?",
            (job_type.value, cutoff),
        ).fetchone()
    return int(row[0])


def list_jobs(org: Org, job_type: JobType, after_seq: int, limit: int) -> list[Job]:
    with org.lock:
        rows = org.conn.execute(
            f"{_SELECT} WHERE job_type = ? AND deleted = 0 AND seq > ? ORDER BY seq LIMIT ?",
            (job_type.value, after_seq, limit),
        ).fetchall()
    return [_from_row(r) for r in rows]


def pending_jobs(org: Org) -> list[Job]:
    """Jobs waiting for the runner or cut short by a restart, oldest first."""
    with org.lock:
        rows = org.conn.execute(
            f"{_SELECT} WHERE state IN (?, ?) AND deleted = 0 ORDER BY seq",
            (JobState.UPLOAD_COMPLETE.value, JobState.IN_PROGRESS.value),
        ).fetchall()
    return [_from_row(r) for r in rows]


def job_counter(job_id: str) -> int:
    """The creation counter inside a job ID (its list position); -1 when it is not one."""
    try:
        canonical = normalize_id(job_id)
    except InvalidId:
        return -1
    value = 0
    for ch in canonical[6:15]:
        value = value * 62 + BASE62.index(ch)
    return value


# -- JobInfo ------------------------------------------------------------------------------


def _base(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "operation": job.operation,
        "object": job.object,
        "createdById": job.created_by,
        "createdDate": job.created_date,
        "systemModstamp": job.system_modstamp,
        "state": job.state.value,
    }


def _ingest_keys(job: Job) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    if job.external_id_field:
        keys["externalIdFieldName"] = job.external_id_field
    if job.assignment_rule_id:
        keys["assignmentRuleId"] = job.assignment_rule_id
    return keys


def _common(job: Job) -> dict[str, Any]:
    return {
        "concurrencyMode": "Parallel",
        "contentType": "CSV",
        "apiVersion": float(job.api_version),
    }


def _content_url(job: Job) -> dict[str, str]:
    """`contentUrl`, "only valid if the job is in Open state", so only shown then."""
    if job.job_type is JobType.INGEST and job.state is JobState.OPEN:
        return {"contentUrl": f"services/data/v{job.api_version}/jobs/ingest/{job.id}/batches"}
    return {}


def _dialect(job: Job) -> dict[str, str]:
    return {"lineEnding": job.line_ending, "columnDelimiter": job.column_delimiter}


def info_created(job: Job) -> dict[str, Any]:
    """The answer to creating a job (the guide's create examples)."""
    return {
        **_base(job), **_ingest_keys(job), **_common(job), **_content_url(job), **_dialect(job),
    }  # fmt: skip


def info_state_change(job: Job) -> dict[str, Any]:
    """The answer to `PATCH {"state": ...}` (the guide's UploadComplete and abort examples)."""
    return {**_base(job), **_ingest_keys(job), **_common(job)}


def info_listed(job: Job) -> dict[str, Any]:
    """One job in `GET /jobs/ingest` or `GET /jobs/query`."""
    return {
        **_base(job), **_common(job), "jobType": job.job_type.value, **_content_url(job),
        **_dialect(job),
    }  # fmt: skip


def info_full(job: Job) -> dict[str, Any]:
    """`GET /jobs/{ingest|query}/{id}`: the job with its counters."""
    body = {
        **_base(job), **_ingest_keys(job), **_common(job), "jobType": job.job_type.value,
        **_content_url(job), **_dialect(job), "numberRecordsProcessed": job.processed,
    }  # fmt: skip
    if job.job_type is JobType.INGEST:
        body["numberRecordsFailed"] = job.failed
    body["retries"] = 0
    body["totalProcessingTime"] = job.processing_ms
    if job.job_type is JobType.INGEST:
        body["apiActiveProcessingTime"] = job.active_ms
        body["apexProcessingTime"] = 0
    else:
        body["isPkChunkingSupported"] = True
    if job.error_message:
        body["errorMessage"] = job.error_message
    return body
