"""Bulk API 2.0: ingest jobs (`/jobs/ingest`) and query jobs (`/jobs/query`).

    _state.py     job states and the moves between them, as a table (pure)
    _csv.py       the job's CSV dialect, reading uploads, Salesforce's value rendering (pure)
    _jobs.py      jobs and per-row results in the org database; JobInfo bodies
    _ingest.py    an upload run row by row through Dml; the result files
    _query.py     query jobs: the Bulk SOQL rules, running, CSV pages by locator
    _runner.py    the background thread that processes an org's jobs
    _upload.py    uploads streamed to disk before the REST pipeline runs
    _handlers.py  the HTTP resources

Every resource is an `ApiRoute` in `ROUTES`, so Bulk calls are authenticated, counted and
rendered by the REST pipeline like any other. `create_app` adds `upload_routes` (the streaming
upload) and calls `start_runner` (the app's `Dml` writes Bulk records; interrupted jobs resume).

Wire behaviour follows the Bulk API 2.0 developer guide (v66): JobInfo fields per call, states,
`Sforce-Locator` (`null` after the last page) and `Sforce-NumberOfRecords`, `sf__Id`/`sf__Created`/
`sf__Error` result columns, `#N/A` for null, 150 MB per job, 10,000 query jobs a day, seven-day
job lifespan, and the documented or captured error texts (404 NOT_FOUND, "Aborting already
Completed Job not allowed", "Error encountered when deleting the job because the job is not
terminated", "InvalidBatch : Field name not found : X", "ClientInputError : LineEnding is invalid
on user data. Current LineEnding setting is LF", "Aggregate Relationships not supported in Bulk
Query"). Texts the guide does not give are localforce's wording, marked where they are made:
refused uploads, closes and result reads, create-request validation, the 409 for another API
version, oversize uploads, per-field and per-record size limits.
"""

from starlette.routing import BaseRoute

from ..dispatch import Dispatcher
from ..dml import Dml
from ..limits import LongRequests
from ..org import Org
from ._handlers import BATCHES_ROUTE, ROUTES
from ._jobs import ensure_tables
from ._runner import start_runner
from ._upload import upload_routes as _upload_routes

__all__ = ["ROUTES", "ensure_tables", "start_runner", "upload_routes"]


def upload_routes(
    org: Org, dml: Dml, dispatcher: Dispatcher, long_requests: LongRequests
) -> list[BaseRoute]:
    """Routes that stream `PUT .../batches` bodies to disk; list them before `ROUTES`' routes."""
    return _upload_routes(org, dml, dispatcher, long_requests, BATCHES_ROUTE)
