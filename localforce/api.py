"""The REST request pipeline: authenticate, count, run the handler, render errors.

Every `/services/data/vXX.X/...` endpoint is a plain synchronous function of an `ApiRequest`
returning an `ApiResponse`; `endpoint()` turns it into a Starlette endpoint that does the shared
work once: version check, URI and body limits, authentication, API-call accounting, the
`Sforce-Limit-Info` header, and Salesforce-shaped error bodies. Handlers run in a worker thread
because the org's storage is synchronous SQLite.

The pipeline also applies the org's fault plan (`faults.py` decides, this module acts): each
fault at its stage, from an HTML 503 at the door to a connection dropped after the commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from . import _tokens, limits, permissions
from .dispatch import Dispatcher
from .dml import Dml, UpsertResult, WriteOptions
from .errors import ApiError, RecordError
from .faults import (
    NO_FAULT,
    PLAN_KEY,
    SERVICE_UNAVAILABLE_HTML,
    Call,
    Decision,
    FaultKind,
    FaultPlan,
    lock_error,
    session_expired_error,
)
from .ids import InvalidId, normalize_id
from .oauth import Session, authenticate
from .org import Org
from .permissions import UserAccess
from .schema import FieldType, ObjectDef, Schema
from .versions import is_supported, major

__all__ = [
    "ApiRequest",
    "ApiResponse",
    "ConnectionDropped",
    "OrgApplication",
    "endpoint",
    "error_as_response",
    "error_response",
    "json_response",
    "public_json",
]

JSON_TYPE = "application/json;charset=UTF-8"
MAX_URI_BYTES = 16_384
MAX_BODY_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class ApiResponse:
    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    media_type: str = JSON_TYPE


def json_response(body: Any, status: int = 200, **headers: str) -> ApiResponse:
    return ApiResponse(status=status, body=body, headers=headers)


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON; Salesforce's parser refuses them."""
    raise ValueError(f"Unrecognized token '{name}'")


@dataclass(frozen=True, kw_only=True)
class ApiRequest:
    org: Org
    dml: Dml
    session: Session
    # The session user's permissions; `schema` is the org as that user sees it.
    access: UserAccess
    version: str
    method: str
    path_params: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    # The path as sent, still percent-encoded (ASGI `raw_path`); "" when the server gave none.
    raw_path: str = ""
    # Composite resources run subrequests through the same route table.
    dispatcher: Dispatcher | None = None

    @property
    def schema(self) -> Schema:
        """The org's schema without what the user may not see (objects, custom fields)."""
        return self.access.schema

    @property
    def api_major(self) -> int:
        return major(self.version)

    @property
    def prefix(self) -> str:
        return f"/services/data/v{self.version}"

    def json(self) -> Any:
        if not self.body.strip():
            raise ApiError(
                status=400,
                error_code="JSON_PARSER_ERROR",
                message="The request body is empty; a JSON document was expected.",
            )
        try:
            return json.loads(self.body, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(
                status=400,
                error_code="JSON_PARSER_ERROR",
                message=f"Unexpected character in JSON: {exc}",
            ) from None

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise ApiError(
                status=400,
                error_code="JSON_PARSER_ERROR",
                message="Cannot deserialize instance of sObject from a non-object JSON value",
            )
        return data

    def write_options(self) -> WriteOptions:
        assign = self.headers.get("sforce-auto-assign", "TRUE").strip()
        duplicate = self.headers.get("sforce-duplicate-rule-header", "")
        # The header is TRUE/FALSE, or the ID of the assignment rule to run (01Q…).
        rule_id = assign if assign[:3] == "01Q" else None
        return WriteOptions(
            user_id=self.session.user_id,
            auto_assign=assign.upper() not in ("FALSE", "F", "0"),
            allow_save_on_duplicates="allowsave=true" in duplicate.replace(" ", "").lower(),
            api_version=self.version,
            assignment_rule_id=rule_id,
            access=self.access,
        )


Handler = Callable[[ApiRequest], ApiResponse]


def _render(resp: ApiResponse, usage: limits.ApiUsage | None, *, pretty: bool = False) -> Response:
    headers = dict(resp.headers)
    if usage is not None:
        headers["Sforce-Limit-Info"] = usage.header()
    if resp.raw is not None:
        content = resp.raw
    elif resp.body is None:
        content = b""
    elif pretty:
        content = json.dumps(resp.body, indent=2).encode()
    else:
        content = json.dumps(resp.body, separators=(",", ":")).encode()
    if resp.status in (204, 304):
        return Response(status_code=resp.status, headers=headers)
    return Response(content, status_code=resp.status, headers=headers, media_type=resp.media_type)


def public_json(body: Any) -> Response:
    """A JSON answer outside the authenticated pipeline (the versions list)."""
    return _render(ApiResponse(body=body), None)


def error_as_response(err: ApiError | RecordError) -> ApiResponse:
    """An error as the pipeline answers it: status, headers and Salesforce's JSON array body.

    Composite subrequests use it too, so an error reads the same inside a composite response.
    """
    if isinstance(err, RecordError):
        return ApiResponse(status=err.http_status, body=err.rest_body())
    return ApiResponse(status=err.status, body=err.rest_body(), headers=err.headers)


def error_response(err: ApiError | RecordError, usage: limits.ApiUsage | None = None) -> Response:
    return _render(error_as_response(err), usage)


# -- faults ---------------------------------------------------------------------------------------

# Where OrgApplication keeps the server's own `send` in the scope.
_SERVER_SEND = "localforce.server_send"


class OrgApplication(Starlette):
    """Starlette, keeping the server's own `send` callable in the scope.

    ASGI has no message for "close the connection without answering", and Starlette's error
    middleware answers 500 for any exception, so a dropped-connection fault needs the server's
    connection itself; this is the one place that can reach it.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_SERVER_SEND] = send
        await super().__call__(scope, receive, send)


class ConnectionDropped(Exception):
    """A fault dropped the connection, under a server whose connection localforce cannot reach
    (in-process transports such as Starlette's TestClient and httpx's ASGITransport, which hand
    the exception to their caller)."""


class _DroppedConnection(Response):
    """No answer at all: the connection closes, as when a network or a proxy fails."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # uvicorn's request cycle (httptools and h11 alike) holds the connection as `transport`:
        # an asyncio or a uvloop transport, which share the method but not a base class.
        cycle = getattr(scope.get(_SERVER_SEND), "__self__", None)
        abort = getattr(getattr(cycle, "transport", None), "abort", None)
        if not callable(abort):
            raise ConnectionDropped("a fault dropped the connection")
        abort()
        # uvicorn answers 500 for an app that returns without responding, unless it has already
        # seen the connection go: wait until it reports the disconnect.
        while (await receive())["type"] != "http.disconnect":
            pass


class _RowLocked(Dml):
    """The org's DML as one faulted request sees it: every write waits for a row lock held by
    another transaction, and gives up. Validation that comes first (a malformed or unknown ID)
    still wins, and inside sObject Collections or composite requests each record fails on its own,
    with `statusCode` UNABLE_TO_LOCK_ROW, as in a real org."""

    def _locked_parent(self, obj: ObjectDef, body: Mapping[str, Any], opts: WriteOptions) -> str:
        """The row a new record waits for: the first parent it names, else its owner."""
        for name, value in body.items():
            ref = obj.field(name)
            if ref is not None and ref.type is FieldType.REFERENCE and isinstance(value, str):
                try:
                    return normalize_id(value)
                except InvalidId:
                    continue
        return opts.user_id

    def insert(self, obj: ObjectDef, body: Mapping[str, Any], opts: WriteOptions) -> str:
        raise lock_error(self._locked_parent(obj, body, opts))

    def update(
        self, obj: ObjectDef, record_id: str, body: Mapping[str, Any], opts: WriteOptions
    ) -> None:
        raise lock_error(self._live_row(obj, self.canonical_id(obj, record_id))["Id"])

    def upsert(
        self,
        obj: ObjectDef,
        field_name: str,
        value: str,
        body: Mapping[str, Any],
        opts: WriteOptions,
        *,
        value_in_body: bool = False,
    ) -> UpsertResult:
        self.external_id_field(obj, field_name)
        raise lock_error(self._locked_parent(obj, body, opts))

    def delete(self, obj: ObjectDef, record_id: str, opts: WriteOptions) -> None:
        raise lock_error(self._live_row(obj, self.canonical_id(obj, record_id))["Id"])


def api_disabled() -> ApiError:
    """The answer to a user whose profile lacks "API Enabled" (the org-wide wording is
    Salesforce's own)."""
    return ApiError(
        status=403,
        error_code="API_DISABLED_FOR_ORG",
        message="The REST API is not enabled for this Organization.",
    )


def _decide_faults(org: Org, call: Call) -> Decision:
    """Consult the org's fault plan about one call, and store how far the plan has advanced."""
    with org.lock:
        stored = org.meta(PLAN_KEY)
        if stored is None:
            return NO_FAULT
        plan = FaultPlan.loads(stored)
        decision, advanced = plan.decide(call)
        if advanced is not plan:
            with org.transaction():
                org.set_meta(PLAN_KEY, advanced.dumps())
    return decision


def _expire_session(org: Org, authorization: str) -> None:
    """Revoke the access token a request presented: an expired session stays expired, so only a
    client that refreshes its token gets through again."""
    token = authorization.split()[-1]
    now_ms = int(org.clock.now().timestamp() * 1000)
    _tokens.revoke_access_token(org, token, now=now_ms)


@dataclass(frozen=True, kw_only=True)
class _Admitted:
    """A call past authentication and the limits, on its way to the handler."""

    method: str
    session: Session
    access: UserAccess
    usage: limits.ApiUsage
    decision: Decision
    ticket: int


def endpoint(
    org: Org,
    dml: Dml,
    handler: Handler,
    name: str,
    dispatcher: Dispatcher,
    long_requests: limits.LongRequests,
) -> Callable[[Request], Any]:
    """A Starlette endpoint running `handler` inside the REST pipeline; `name` labels its calls.

    `long_requests` tracks the org's requests in flight, shared by all of the org's endpoints.
    """

    async def run(request: Request) -> Response:
        version = request.path_params.get("version", "")
        if not is_supported(version):
            return error_response(
                ApiError(
                    status=404,
                    error_code="NOT_FOUND",
                    message="The requested resource does not exist",
                )
            )
        # The URI as sent (still percent-encoded), as Salesforce measures it.
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query_string = request.scope.get("query_string", b"")
        if len(raw_path) + (len(query_string) + 1 if query_string else 0) > MAX_URI_BYTES:
            return error_response(
                ApiError(status=414, error_code="URI_TOO_LONG", message="Request-URI Too Large")
            )
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return error_response(
                ApiError(
                    status=413,
                    error_code="REQUEST_ENTITY_TOO_LARGE",
                    message=f"The request body exceeds {MAX_BODY_BYTES} bytes",
                )
            )
        outcome = await run_in_threadpool(_start, request, version, body)
        if isinstance(outcome, Response):
            return outcome
        # A slow fault: wait on the event loop, not in a worker thread, still counted in flight.
        try:
            await anyio.sleep(outcome.decision.delay_ms / 1000)
            return await run_in_threadpool(_respond, request, version, body, outcome)
        finally:
            long_requests.release(outcome.ticket)

    def _start(request: Request, version: str, body: bytes) -> Response | _Admitted:
        """Admit the call and, unless a fault delays it, answer it in the same worker thread."""
        admitted = _admit(request)
        if isinstance(admitted, Response) or admitted.decision.delay_ms:
            return admitted
        try:
            return _respond(request, version, body, admitted)
        finally:
            long_requests.release(admitted.ticket)

    def _admit(request: Request) -> Response | _Admitted:
        # `?_HttpMethod=PATCH` on a POST: Salesforce's escape hatch for clients without PATCH.
        override = request.query_params.get("_HttpMethod", "").upper()
        method = override if request.method == "POST" and override else request.method
        decision = _decide_faults(org, Call(method=method, path=request.url.path))
        fault = decision.fault
        if fault is FaultKind.SERVER_UNAVAILABLE:
            return Response(SERVICE_UNAVAILABLE_HTML, status_code=503, media_type="text/html")
        if fault is FaultKind.DROP_CONNECTION:
            return _DroppedConnection()
        authorization = request.headers.get("authorization")
        try:
            session = authenticate(org, authorization)
            if fault is FaultKind.SESSION_EXPIRED:
                _expire_session(org, authorization or "")
                raise session_expired_error()
            # Long-running requests are counted before the call is: a refused call costs nothing.
            ticket = long_requests.admit(
                threshold=org.config.long_request_seconds, limit=org.config.long_request_limit
            )
            if ticket is None:
                raise limits.concurrent_limit_exceeded()
        except ApiError as err:
            return error_response(err)
        # A valid token is not enough: the user's profile may have lost "API Enabled" since.
        access = permissions.access_for(org, session.user_id)
        if not access.api_enabled:
            long_requests.release(ticket)
            return error_response(api_disabled())
        if fault is not FaultKind.REQUEST_LIMIT:
            usage = limits.record_call(org, session.client_id, name)
            if not usage.exceeded:
                return _Admitted(
                    method=method,
                    session=session,
                    access=access,
                    usage=usage,
                    decision=decision,
                    ticket=ticket,
                )
        # Refused for the daily allowance: not counted, so the header shows the stored usage.
        long_requests.release(ticket)
        return error_response(limits.total_requests_exceeded(limits.daily_usage(org)))

    def _respond(request: Request, version: str, body: bytes, admitted: _Admitted) -> Response:
        method, usage, fault = admitted.method, admitted.usage, admitted.decision.fault
        api_request = ApiRequest(
            org=org,
            dml=_RowLocked(org=org) if fault is FaultKind.UNABLE_TO_LOCK_ROW else dml,
            session=admitted.session,
            access=admitted.access,
            version=version,
            method="GET" if method == "HEAD" else method,
            path_params={k: str(v) for k, v in request.path_params.items()},
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            raw_path=(request.scope.get("raw_path") or b"").decode("latin-1"),
            dispatcher=dispatcher,
        )
        pretty = request.headers.get("x-prettyprint", "") == "1"
        try:
            response = _render(handler(api_request), usage, pretty=pretty)
        except (ApiError, RecordError) as err:
            response = error_response(err, usage)
        if fault is FaultKind.LOST_AFTER_COMMIT:
            return _DroppedConnection()
        if method == "HEAD":
            return Response(status_code=response.status_code, headers=response.headers)
        return response

    return run
