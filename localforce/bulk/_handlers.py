"""Bulk API 2.0 over HTTP: `/jobs/ingest` and `/jobs/query`, as REST pipeline handlers."""

from __future__ import annotations

import email.parser
import email.policy
import gzip
import json
from datetime import timedelta
from email.message import EmailMessage, MIMEPart
from typing import Any

from ..api import ApiRequest, ApiResponse, json_response
from ..dispatch import ApiRoute
from ..errors import ApiError, RecordError
from ..ids import InvalidId, normalize_id
from ..rest import method_not_allowed, not_found
from ._csv import DELIMITERS, LINE_ENDINGS, CsvDialect
from ._ingest import ResultKind, result_csv
from ._jobs import (
    Job,
    count_created_since,
    info_created,
    info_full,
    info_listed,
    info_state_change,
    job_counter,
    list_jobs,
    load_job,
    new_job,
    purge_expired,
    transition,
    update_job,
    upload_path,
)
from ._query import check_query, decode_locator, result_page
from ._runner import runner_for
from ._state import (
    CLIENT_TARGETS,
    Action,
    JobState,
    JobStateError,
    JobType,
    forbidden_target,
    next_state,
)
from ._upload import over_limit, spooled_upload, too_large

__all__ = ["BATCHES_ROUTE", "ROUTES"]

INGEST_SINCE = 41  # API version that introduced each half of Bulk API 2.0
QUERY_SINCE = 47
OPERATIONS = {
    JobType.INGEST: ("insert", "update", "upsert", "delete", "hardDelete"),
    JobType.QUERY: ("query", "queryAll"),
}
DAILY_QUERY_JOBS = 10_000
LIST_PAGE = 1000
# Failed results carry `sf__Id` from API version 53.0.
FAILED_ID_SINCE = 53
CSV_TYPE = "text/csv; charset=UTF-8"


def _api_error(err: JobStateError) -> ApiError:
    return ApiError(status=err.status, error_code=err.error_code, message=err.message)


def _available(req: ApiRequest, job_type: JobType) -> None:
    since = INGEST_SINCE if job_type is JobType.INGEST else QUERY_SINCE
    if req.api_major < since:
        raise not_found()


def _job(req: ApiRequest, job_type: JobType) -> Job:
    _available(req, job_type)
    job = load_job(req.org, req.path_params["job_id"], job_type)
    if job is None:
        raise not_found()
    return job


def _wake(req: ApiRequest) -> None:
    runner_for(req.org, req.dml).wake()


def _parser_error(message: str) -> ApiError:
    return ApiError(status=400, error_code="JSON_PARSER_ERROR", message=message)


def _choice(body: dict[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(key, default)
    if value not in allowed:
        raise _parser_error(
            f"Cannot deserialize value of {key} from String {json.dumps(value)}: "
            f"not one of the values accepted: {list(allowed)}"
        )
    return str(value)


def _required(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(status=400, error_code="INVALIDJOB", message=f"{key} is required")
    return value


def _dialect(body: dict[str, Any]) -> CsvDialect:
    if body.get("contentType", "CSV") != "CSV":
        raise _parser_error(
            f"Cannot deserialize value of contentType from String "
            f"{json.dumps(body['contentType'])}: only CSV is supported"
        )
    return CsvDialect(
        _choice(body, "columnDelimiter", tuple(DELIMITERS), "COMMA"),
        _choice(body, "lineEnding", tuple(LINE_ENDINGS), "LF"),
    )


def _csv_response(req: ApiRequest, data: bytes, **headers: str) -> ApiResponse:
    """A CSV body, gzip-compressed when the client accepts it (Salesforce compresses Bulk
    results for clients that send `Accept-Encoding: gzip`)."""
    if "gzip" in req.headers.get("accept-encoding", "").lower():
        data = gzip.compress(data, compresslevel=1, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return ApiResponse(raw=data, media_type=CSV_TYPE, headers=headers)


def _listing(req: ApiRequest, job_type: JobType) -> ApiResponse:
    """`GET /jobs/ingest` or `/jobs/query`: 1,000 jobs a page, `nextRecordsUrl` for more."""
    purge_expired(req.org)
    wanted = req.query.get("jobType")
    mode = req.query.get("concurrencyMode", "parallel").lower()
    # Only Bulk API (1.0) jobs have PK chunking, and only parallel jobs exist.
    if (
        (wanted and wanted != job_type.value)
        or mode != "parallel"
        or req.query.get("isPkChunkingEnabled", "").lower() == "true"
    ):
        return json_response({"done": True, "records": [], "nextRecordsUrl": None})
    locator = req.query.get("queryLocator", "")
    last_id, _, seen_text = locator.partition("-")
    after = job_counter(last_id) if locator else 0
    seen = int(seen_text) if seen_text.isdigit() else 0
    if after < 0:
        raise ApiError(
            status=400, error_code="INVALID_QUERY_LOCATOR", message="invalid query locator"
        )
    jobs = list_jobs(req.org, job_type, after, LIST_PAGE + 1)
    page = jobs[:LIST_PAGE]
    more = len(jobs) > LIST_PAGE
    kind = "ingest" if job_type is JobType.INGEST else "query"
    next_url = (
        f"{req.prefix}/jobs/{kind}?queryLocator={page[-1].id}-{seen + len(page)}" if more else None
    )
    return json_response(
        {"done": not more, "records": [info_listed(j) for j in page], "nextRecordsUrl": next_url}
    )


def _set_state(req: ApiRequest, job: Job) -> ApiResponse:
    """`PATCH {"state": "UploadComplete" | "Aborted"}`."""
    target = req.json_object().get("state")
    if target not in tuple(JobState):
        raise _parser_error(
            f"Cannot deserialize value of state from String {json.dumps(target)}: "
            f"not one of the values accepted: {[s.value for s in JobState]}"
        )
    action = CLIENT_TARGETS.get(JobState(target))
    try:
        if action is None:
            raise forbidden_target(job.state, str(target))
        changed = transition(req.org, job, action)
    except JobStateError as err:
        raise _api_error(err) from None
    if changed is None:
        raise not_found()
    if action is Action.CLOSE:
        _wake(req)
    return json_response(info_state_change(changed))


def _one_job(req: ApiRequest, job_type: JobType) -> ApiResponse:
    job = _job(req, job_type)
    if req.method == "GET":
        return json_response(info_full(job))
    if req.method == "PATCH":
        return _set_state(req, job)
    if req.method == "DELETE":
        try:
            transition(req.org, job, Action.DELETE)
        except JobStateError as err:
            raise _api_error(err) from None
        return ApiResponse(status=204)
    raise method_not_allowed(req, "GET, HEAD, PATCH, DELETE")


# -- ingest ---------------------------------------------------------------------------------


def _ingest_job(req: ApiRequest, body: dict[str, Any], state: JobState) -> Job:
    operation = _choice(body, "operation", OPERATIONS[JobType.INGEST], "")
    name = _required(body, "object")
    obj = req.schema.get(name)
    if obj is None:
        raise ApiError(
            status=400,
            error_code="INVALIDENTITY",
            message=f"sObject type '{name}' is not supported",
        )
    dialect = _dialect(body)
    external_id = body.get("externalIdFieldName")
    if operation == "upsert":
        if not isinstance(external_id, str) or not external_id:
            raise ApiError(
                status=400,
                error_code="INVALIDJOB",
                message="externalIdFieldName is required for upsert",
            )
        try:
            external_id = req.dml.external_id_field(obj, external_id).name
        except RecordError as err:
            raise ApiError(status=400, error_code="INVALIDJOB", message=err.message) from None
    else:
        external_id = None
    rule = body.get("assignmentRuleId")
    if rule is not None:
        try:
            rule = normalize_id(str(rule))
        except InvalidId:
            raise ApiError(
                status=400, error_code="INVALIDJOB", message=f"Invalid assignmentRuleId: {rule}"
            ) from None
    purge_expired(req.org)
    return new_job(
        req.org, job_type=JobType.INGEST, operation=operation, object_name=obj.name,
        state=state, created_by=req.session.user_id, api_version=req.version, dialect=dialect,
        external_id_field=external_id, assignment_rule_id=rule,
    )  # fmt: skip


def _payload(part: MIMEPart) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _multipart(req: ApiRequest) -> tuple[dict[str, Any], bytes]:
    """The `job` JSON part and `content` CSV part of a multipart create request."""
    head = f"Content-Type: {req.headers.get('content-type', '')}\r\n\r\n".encode()
    parser = email.parser.BytesParser(EmailMessage, policy=email.policy.HTTP)
    message = parser.parsebytes(head + req.body)
    parts = {
        part.get_param("name", header="content-disposition"): part
        for part in (message.iter_parts() if message.is_multipart() else ())
    }
    job_part, content_part = parts.get("job"), parts.get("content")
    if job_part is None or content_part is None:
        raise ApiError(
            status=400,
            error_code="INVALIDJOB",
            message="A multipart request needs a 'job' part and a 'content' part",
        )
    try:
        job = json.loads(_payload(job_part))
    except ValueError as exc:
        raise _parser_error(f"Unexpected character in JSON: {exc}") from None
    if not isinstance(job, dict):
        raise _parser_error("The 'job' part must be a JSON object")
    return job, _payload(content_part)


def ingest_jobs_handler(req: ApiRequest) -> ApiResponse:
    """`/jobs/ingest`: POST creates a job (with its data when multipart), GET lists jobs."""
    _available(req, JobType.INGEST)
    if req.method == "GET":
        return _listing(req, JobType.INGEST)
    if req.method != "POST":
        raise method_not_allowed(req, "GET, HEAD, POST")
    if req.headers.get("content-type", "").lower().startswith("multipart/"):
        body, content = _multipart(req)
        if over_limit(len(content)):
            raise too_large()
        job = _ingest_job(req, body, JobState.UPLOAD_COMPLETE)
        path = upload_path(req.org, job.id)
        path.write_bytes(content)
        with req.org.transaction():
            update_job(req.org, job.id, upload_bytes=len(content))
        _wake(req)
        return json_response(info_created(job))
    return json_response(info_created(_ingest_job(req, req.json_object(), JobState.OPEN)))


def ingest_job_handler(req: ApiRequest) -> ApiResponse:
    """`/jobs/ingest/{id}`: GET job info, PATCH close or abort, DELETE."""
    return _one_job(req, JobType.INGEST)


def upload_handler(req: ApiRequest) -> ApiResponse:
    """`PUT /jobs/ingest/{id}/batches`: the job's CSV data; 201 with no body."""
    job = _job(req, JobType.INGEST)
    if req.method != "PUT":
        raise method_not_allowed(req, "PUT")
    content_type = req.headers.get("content-type", "")
    if not content_type.lower().startswith("text/csv"):
        raise ApiError(
            status=415,
            error_code="UNSUPPORTED_MEDIA_TYPE",
            message=f"Content type '{content_type}' is not supported; job data is text/csv",
        )
    upload = spooled_upload(req)
    try:
        with req.org.transaction():
            current = load_job(req.org, job.id, job.job_type)
            if current is None:
                raise not_found()
            next_state(current.job_type, current.state, Action.UPLOAD)
            size = current.upload_bytes + upload.size
            if over_limit(size):
                raise too_large()
            dest = upload_path(req.org, job.id)
            if not current.upload_bytes:
                upload.move_to(dest)
            elif not upload.append_to(dest, current.dialect):
                raise ApiError(
                    status=400,
                    error_code="INVALIDBATCH",
                    message="The header row of this upload differs from the job's first upload",
                )
            update_job(req.org, job.id, upload_bytes=size)
    except JobStateError as err:
        raise _api_error(err) from None
    finally:
        upload.discard()
    return ApiResponse(status=201)


_RESULT_KINDS = {kind.value.lower(): kind for kind in ResultKind}


def ingest_results_handler(req: ApiRequest) -> ApiResponse:
    """`GET /jobs/ingest/{id}/successfulResults|failedResults|unprocessedrecords`."""
    kind = _RESULT_KINDS.get(req.path_params["result"].lower())
    if kind is None:
        raise not_found()
    job = _job(req, JobType.INGEST)
    if req.method != "GET":
        raise method_not_allowed(req, "GET, HEAD")
    data = result_csv(req.org, job, kind, with_failed_id=req.api_major >= FAILED_ID_SINCE)
    return _csv_response(req, data)


# -- query ----------------------------------------------------------------------------------


def query_jobs_handler(req: ApiRequest) -> ApiResponse:
    """`/jobs/query`: POST creates a query job, GET lists them."""
    _available(req, JobType.QUERY)
    if req.method == "GET":
        return _listing(req, JobType.QUERY)
    if req.method != "POST":
        raise method_not_allowed(req, "GET, HEAD, POST")
    body = req.json_object()
    operation = _choice(body, "operation", OPERATIONS[JobType.QUERY], "")
    text = _required(body, "query")
    dialect = _dialect(body)
    compiled = check_query(req.org, text, operation, req.schema)
    purge_expired(req.org)
    if count_created_since(req.org, JobType.QUERY, timedelta(hours=24)) >= DAILY_QUERY_JOBS:
        raise ApiError(
            status=400,
            error_code="LIMIT_EXCEEDED",
            message=f"Max bulk v2 query jobs ({DAILY_QUERY_JOBS}) per 24 hrs has been reached",
        )
    job = new_job(
        req.org, job_type=JobType.QUERY, operation=operation, object_name=compiled.obj.name,
        state=JobState.UPLOAD_COMPLETE, created_by=req.session.user_id,
        api_version=req.version, dialect=dialect, query=text,
    )  # fmt: skip
    _wake(req)
    return json_response(info_created(job))


def query_job_handler(req: ApiRequest) -> ApiResponse:
    """`/jobs/query/{id}`: GET job info, PATCH abort, DELETE."""
    return _one_job(req, JobType.QUERY)


def query_results_handler(req: ApiRequest) -> ApiResponse:
    """`GET /jobs/query/{id}/results?locator=&maxRecords=`: one CSV page of the results."""
    job = _job(req, JobType.QUERY)
    if req.method != "GET":
        raise method_not_allowed(req, "GET, HEAD")
    try:
        next_state(job.job_type, job.state, Action.READ_RESULTS)
    except JobStateError as err:
        raise _api_error(err) from None
    if req.version != job.api_version:
        raise ApiError(
            status=409,
            error_code="API_VERSION_MISMATCH",
            message=f"Get the results with the API version that created the job "
            f"({job.api_version})",
        )
    locator = req.query.get("locator") or ""
    position = decode_locator(locator) if locator else 0
    if position is None:
        raise ApiError(
            status=400, error_code="INVALID_QUERY_LOCATOR", message="invalid query locator"
        )
    max_text = req.query.get("maxRecords")
    if max_text is not None and (not max_text.isdigit() or int(max_text) < 1):
        raise ApiError(
            status=400,
            error_code="INVALID_FIELD",
            message=f"maxRecords must be a positive integer, not {max_text}",
        )
    page = result_page(req.org, job, position, int(max_text) if max_text else None)
    return _csv_response(
        req,
        page.csv,
        **{"Sforce-Locator": page.locator, "Sforce-NumberOfRecords": str(page.records)},
    )


BATCHES_ROUTE = ApiRoute("/jobs/ingest/{job_id}/batches", upload_handler, "jobsIngest")
ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute("/jobs/ingest", ingest_jobs_handler, "jobsIngest"),
    ApiRoute("/jobs/ingest/{job_id}", ingest_job_handler, "jobsIngest"),
    BATCHES_ROUTE,
    ApiRoute("/jobs/ingest/{job_id}/{result}", ingest_results_handler, "jobsIngest"),
    ApiRoute("/jobs/query", query_jobs_handler, "jobsQuery"),
    ApiRoute("/jobs/query/{job_id}", query_job_handler, "jobsQuery"),
    ApiRoute("/jobs/query/{job_id}/results", query_results_handler, "jobsQuery"),
)
