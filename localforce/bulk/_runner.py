"""The Bulk job runner: a background thread per org that processes jobs in creation order.

Salesforce processes a job after it is queued, while the client polls; so does localforce. Closing
an ingest job or creating a query job wakes the org's runner; it takes every waiting job oldest
first (`UploadComplete` → `InProgress` → `JobComplete` or `Failed`) and exits when none is left,
so an idle org has no thread. `start_runner`, called when the app is built, also resumes jobs that
a restart left `InProgress`: they continue at the first row without a result.

The runner writes through the app's `Dml`, so Bulk writes get the same rules as REST. It holds
the org and the `Dml` weakly: the app owns them, and the thread ends with them.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import weakref

from ..dml import Dml
from ..errors import ApiError, RecordError
from ..org import Org
from ._csv import CsvFormatError
from ._ingest import IngestError, process_ingest
from ._jobs import Job, pending_jobs, transition
from ._query import run_query
from ._state import Action, JobState, JobStateError, JobType

__all__ = ["JobRunner", "runner_for", "start_runner"]


class JobRunner:
    def __init__(self, org: Org, dml: Dml) -> None:
        self._org = weakref.ref(org)
        self._dml = weakref.ref(dml)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pending = False

    def use(self, dml: Dml) -> None:
        """Write through this `Dml` from the next job on (the most recently built app's)."""
        self._dml = weakref.ref(dml)

    def wake(self) -> None:
        """There is work: make sure the thread runs and looks for it once more."""
        with self._lock:
            self._pending = True
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="localforce-bulk", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                org, dml = self._org(), self._dml()
                if not self._pending or org is None or dml is None:
                    self._thread = None
                    return
                self._pending = False
            try:
                for job in pending_jobs(org):
                    _run(org, dml, job)
            except sqlite3.ProgrammingError:  # the org was closed under us
                with self._lock:
                    self._thread = None
                return


def _run(org: Org, dml: Dml, job: Job) -> None:
    started = time.perf_counter()
    try:
        if job.state is JobState.UPLOAD_COMPLETE:
            started_job = transition(org, job, Action.START)
            if started_job is None:
                return
            job = started_job
        if job.job_type is JobType.QUERY:
            run = run_query(org, job)
            changes = {
                "processed": run.total, "total": run.total, "snapshot_max": run.snapshot_max,
                "materialized": int(run.materialized),
            }  # fmt: skip
        else:
            ended = process_ingest(org, dml, job)
            if ended is None or ended.state is not JobState.IN_PROGRESS:
                return  # aborted or deleted meanwhile
            changes = {}
        elapsed = int((time.perf_counter() - started) * 1000)
        transition(org, job, Action.FINISH, processing_ms=job.processing_ms + elapsed, **changes)
    except JobStateError:
        return  # aborted while it ran: the abort decided the state
    except (IngestError, CsvFormatError) as exc:
        _fail(org, job, str(exc))
    except RecordError as err:
        _fail(org, job, f"InvalidBatch : {err.message}")
    except ApiError as err:  # the query no longer compiles (a field was removed)
        _fail(org, job, f"{err.error_code} : {err.message}")
    except sqlite3.ProgrammingError:
        raise
    except Exception as exc:  # a bug must fail one job, not stop the org's runner
        _fail(org, job, f"InternalServerError : {type(exc).__name__}: {exc}")


def _fail(org: Org, job: Job, message: str) -> None:
    with contextlib.suppress(JobStateError):  # aborted meanwhile: the abort decided the state
        transition(org, job, Action.FAIL, error_message=message)


_RUNNERS: weakref.WeakKeyDictionary[Org, JobRunner] = weakref.WeakKeyDictionary()
_RUNNERS_LOCK = threading.Lock()


def runner_for(org: Org, dml: Dml) -> JobRunner:
    """The org's runner; one per org, since an org's data belongs to one process."""
    with _RUNNERS_LOCK:
        runner = _RUNNERS.get(org)
        if runner is None:
            runner = _RUNNERS[org] = JobRunner(org, dml)
        return runner


def start_runner(org: Org, dml: Dml) -> None:
    """Make `dml` the org's Bulk writer and resume the jobs a restart cut short."""
    runner = runner_for(org, dml)
    runner.use(dml)
    if pending_jobs(org):
        runner.wake()
