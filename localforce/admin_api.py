"""The org's admin API under `/_localforce/`: what Setup pages and test harnesses do to an org.

Every admin call carries the org's admin token (`Authorization: Bearer <token>` or
`X-Localforce-Admin-Token: <token>`), printed by `localforce serve` and kept in connection.json.
Admin calls are not Salesforce API calls: they are never counted against the org's limits.
Handlers are plain functions of an `AdminRequest` returning JSON-able data (or a Response).
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .dml import Dml
from .org import Org

__all__ = [
    "ADMIN_PREFIX",
    "AdminError",
    "AdminRequest",
    "AdminRoute",
    "admin_routes",
    "admin_token",
]

ADMIN_PREFIX = "/_localforce"


class AdminError(Exception):
    """A refused admin call: HTTP status and a sentence saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, kw_only=True)
class AdminRequest:
    org: Org
    dml: Dml
    method: str
    path_params: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError as exc:
            raise AdminError(400, f"the body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise AdminError(400, "the body must be a JSON object")
        return data


@dataclass(frozen=True, slots=True)
class AdminRoute:
    path: str  # below /_localforce
    methods: tuple[str, ...]
    handler: Callable[[AdminRequest], Any]


def admin_token(org: Org) -> str:
    """The org's admin token, made on first use."""
    with org.transaction():
        token = org.meta("admin_token")
        if token is None:
            token = secrets.token_urlsafe(24)
            org.set_meta("admin_token", token)
    return token


def _authorized(org: Org, request: Request) -> bool:
    expected = admin_token(org)
    header = request.headers.get("x-localforce-admin-token") or ""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        header = header or value
    return bool(header) and hmac.compare_digest(header.encode(), expected.encode())


def _endpoint(org: Org, dml: Dml, route: AdminRoute) -> Callable[[Request], Any]:
    async def run(request: Request) -> Response:
        if not _authorized(org, request):
            return JSONResponse({"error": "a valid admin token is required"}, status_code=401)
        body = await request.body()
        admin_request = AdminRequest(
            org=org,
            dml=dml,
            method=request.method,
            path_params={k: str(v) for k, v in request.path_params.items()},
            query=dict(request.query_params),
            body=body,
        )
        try:
            result = await run_in_threadpool(route.handler, admin_request)
        except AdminError as err:
            return JSONResponse({"error": err.message}, status_code=err.status)
        if isinstance(result, Response):
            return result
        return JSONResponse(result)

    return run


def admin_routes(org: Org, dml: Dml, table: Sequence[AdminRoute]) -> list[Route]:
    return [
        Route(ADMIN_PREFIX + r.path, _endpoint(org, dml, r), methods=list(r.methods)) for r in table
    ]
