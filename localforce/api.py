"""The REST request pipeline: authenticate, count, run the handler, render errors.

Every `/services/data/vXX.X/...` endpoint is a plain synchronous function of an `ApiRequest`
returning an `ApiResponse`; `endpoint()` turns it into a Starlette endpoint that does the shared
work once: version check, URI and body limits, authentication, API-call accounting, the
`Sforce-Limit-Info` header, and Salesforce-shaped error bodies. Handlers run in a worker thread
because the org's storage is synchronous SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from . import limits
from .dispatch import Dispatcher
from .dml import Dml, WriteOptions
from .errors import ApiError, RecordError
from .oauth import Session, authenticate
from .org import Org
from .versions import is_supported, major

__all__ = [
    "ApiRequest",
    "ApiResponse",
    "endpoint",
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
        assign = self.headers.get("sforce-auto-assign", "TRUE").strip().upper()
        duplicate = self.headers.get("sforce-duplicate-rule-header", "")
        return WriteOptions(
            user_id=self.session.user_id,
            auto_assign=assign not in ("FALSE", "F", "0"),
            allow_save_on_duplicates="allowsave=true" in duplicate.replace(" ", "").lower(),
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


def error_response(err: ApiError | RecordError, usage: limits.ApiUsage | None = None) -> Response:
    if isinstance(err, RecordError):
        return _render(ApiResponse(status=err.http_status, body=err.rest_body()), usage)
    return _render(ApiResponse(status=err.status, body=err.rest_body(), headers=err.headers), usage)


def endpoint(
    org: Org, dml: Dml, handler: Handler, name: str, dispatcher: Dispatcher
) -> Callable[[Request], Any]:
    """A Starlette endpoint running `handler` inside the REST pipeline; `name` labels its calls."""

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
        return await run_in_threadpool(_handle, request, version, body)

    def _handle(request: Request, version: str, body: bytes) -> Response:
        try:
            session = authenticate(org, request.headers.get("authorization"))
        except ApiError as err:
            return error_response(err)
        usage = limits.record_call(org, session.client_id, name)
        if usage.used > usage.limit:
            return error_response(
                ApiError(
                    status=403,
                    error_code="REQUEST_LIMIT_EXCEEDED",
                    message="TotalRequests Limit exceeded.",
                ),
                usage,
            )
        # `?_HttpMethod=PATCH` on a POST: Salesforce's escape hatch for clients without PATCH.
        override = request.query_params.get("_HttpMethod", "").upper()
        method = override if request.method == "POST" and override else request.method
        api_request = ApiRequest(
            org=org,
            dml=dml,
            session=session,
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
            return error_response(err, usage)
        if method == "HEAD":
            return Response(status_code=response.status_code, headers=response.headers)
        return response

    return run
