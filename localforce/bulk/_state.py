"""Bulk API 2.0 job states and the moves between them. Pure: no I/O.

Everything that decides whether a job may do something lives in this file, as data:
`TRANSITIONS[job type][state][action]` is the state the action leads to. An action missing from
the table is refused with the error Salesforce answers (`refusal`). Clients ask for `UPLOAD`,
`CLOSE` (`{"state": "UploadComplete"}`), `ABORT` (`{"state": "Aborted"}`), `DELETE` and
`READ_RESULTS`; the job runner drives `START`, `FINISH` and `FAIL`.

    Open ──CLOSE──▶ UploadComplete ──START──▶ InProgress ──FINISH──▶ JobComplete
      │                  │                        └───────FAIL────▶ Failed
      └──ABORT───────────┴────────ABORT───────────────────────────▶ Aborted

Query jobs are born `UploadComplete`; they have no `Open` state and no `CLOSE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

__all__ = [
    "CLIENT_TARGETS",
    "TRANSITIONS",
    "Action",
    "JobState",
    "JobStateError",
    "JobType",
    "forbidden_target",
    "next_state",
    "refusal",
]


class JobState(StrEnum):
    OPEN = "Open"
    UPLOAD_COMPLETE = "UploadComplete"
    IN_PROGRESS = "InProgress"
    JOB_COMPLETE = "JobComplete"
    FAILED = "Failed"
    ABORTED = "Aborted"


class JobType(StrEnum):
    INGEST = "V2Ingest"
    QUERY = "V2Query"


class Action(StrEnum):
    UPLOAD = "upload"
    CLOSE = "UploadComplete"
    ABORT = "Aborted"
    DELETE = "delete"
    READ_RESULTS = "results"
    START = "start"
    FINISH = "finish"
    FAIL = "fail"


class JobStateError(Exception):
    """An action the job's state does not allow: HTTP status, errorCode and message."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message


S, A = JobState, Action

# `None` means the job is gone (DELETE). Uploading and reading results keep the state. Ingest
# result files can be read in every state: they show what has been processed so far.
_R = A.READ_RESULTS
TRANSITIONS: Mapping[JobType, Mapping[JobState, Mapping[Action, JobState | None]]] = {
    JobType.INGEST: {
        S.OPEN: {A.UPLOAD: S.OPEN, A.CLOSE: S.UPLOAD_COMPLETE, A.ABORT: S.ABORTED, _R: S.OPEN},
        S.UPLOAD_COMPLETE: {
            A.START: S.IN_PROGRESS, A.ABORT: S.ABORTED, A.DELETE: None, _R: S.UPLOAD_COMPLETE,
        },
        S.IN_PROGRESS: {
            A.FINISH: S.JOB_COMPLETE, A.FAIL: S.FAILED, A.ABORT: S.ABORTED, _R: S.IN_PROGRESS,
        },
        S.JOB_COMPLETE: {A.DELETE: None, _R: S.JOB_COMPLETE},
        S.FAILED: {A.DELETE: None, _R: S.FAILED},
        S.ABORTED: {A.DELETE: None, _R: S.ABORTED},
    },
    JobType.QUERY: {
        S.UPLOAD_COMPLETE: {A.START: S.IN_PROGRESS, A.ABORT: S.ABORTED},
        S.IN_PROGRESS: {A.FINISH: S.JOB_COMPLETE, A.FAIL: S.FAILED, A.ABORT: S.ABORTED},
        S.JOB_COMPLETE: {_R: S.JOB_COMPLETE, A.DELETE: None},
        S.FAILED: {A.DELETE: None},
        S.ABORTED: {A.DELETE: None},
    },
}  # fmt: skip

# The states a client may ask for with `PATCH {"state": ...}`, and the action each one is.
CLIENT_TARGETS: Mapping[JobState, Action] = {
    JobState.UPLOAD_COMPLETE: Action.CLOSE,
    JobState.ABORTED: Action.ABORT,
}

_PAST = {S.JOB_COMPLETE: "Completed", S.FAILED: "Failed", S.ABORTED: "Aborted"}


def next_state(job_type: JobType, state: JobState, action: Action) -> JobState | None:
    """The state after `action`, or the refusal Salesforce answers (`JobStateError`)."""
    moves = TRANSITIONS[job_type].get(state, {})
    if action not in moves:
        raise refusal(state, action)
    return moves[action]


def refusal(state: JobState, action: Action) -> JobStateError:
    """Salesforce's answer to an action the state does not allow."""
    if action is A.ABORT:
        # Documented ("Abort a Query Job"), and captured for ingest jobs too.
        return JobStateError(
            400, "INVALIDJOBSTATE", f"Aborting already {_PAST.get(state, state)} Job not allowed"
        )
    if action is A.DELETE:
        # Documented ("Delete a Query Job").
        return JobStateError(
            400,
            "API_ERROR",
            "Error encountered when deleting the job because the job is not terminated",
        )
    # The guide gives no text for the refusals below: the wording is localforce's.
    if action is A.UPLOAD:
        return JobStateError(
            400, "INVALIDJOBSTATE", f"Data can only be uploaded to an Open job; this job is {state}"
        )
    if action is A.READ_RESULTS:
        return JobStateError(
            400,
            "INVALIDJOBSTATE",
            f"Failed to retrieve query results: the job is {state}, not JobComplete",
        )
    return forbidden_target(state, action.value)


def forbidden_target(state: JobState, target: str) -> JobStateError:
    """The answer to asking for a state a client cannot set, or cannot set from this one."""
    return JobStateError(
        400, "INVALIDJOBSTATE", f"Changing the job state from {state} to {target} is not allowed"
    )
