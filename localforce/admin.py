"""The core admin endpoints under `/_localforce/`, and the read-only record browser.

JSON endpoints (admin token in `Authorization: Bearer <token>` or `X-Localforce-Admin-Token`;
errors are `{"error": "<why>"}` with a 4xx status):

    GET    /usage                      calls in the rolling 24 hours, by endpoint and by client
    POST   /usage/reset                forget every counted call
    GET    /faults                     the fault plan: seed, rules and how far each has got
    PUT    /faults                     replace the plan: {"seed": n, "rules": [...]}
    DELETE /faults                     clear every rule
    POST   /users/{id}/revoke-tokens   revoke a user's refresh and access tokens
    GET    /clock                      the org's time
    POST   /clock                      {"advance_seconds": n} or {"now": "<ISO 8601>"}
    GET    /limits                     the daily allowance and the long-running request limit
    PUT    /limits                     change any of them (kept for this process's lifetime)

The record browser (`/browse`, `/browse/{object}`, `/browse/{object}/{id}`) is for a person with
a web browser, who cannot set headers: it also takes the token once as `?token=` (which the URL
`localforce serve` prints carries), trades it for an HttpOnly cookie scoped to the browser's
pages, and redirects to the same page without the token, so it does not linger in the address bar
or in history. Without a token it answers a small form asking for one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .admin_api import ADMIN_PREFIX, AdminError, AdminRequest, AdminRoute, admin_token
from .faults import PLAN_KEY, FaultPlan, FaultRuleError
from .ids import InvalidId, normalize_id
from .limits import daily_usage, reset_usage, usage_by
from .oauth import revoke_user_tokens
from .org import Org, OrgConfig, quote_ident
from .schema import FieldDef, FieldType, ObjectDef
from .values import parse_datetime, to_json

__all__ = ["ADMIN_ROUTES", "browser_routes"]

# Far enough for any test scenario, near enough that datetime arithmetic cannot overflow.
_MAX_ADVANCE = timedelta(days=365 * 100)


# -- usage -----------------------------------------------------------------------------------------


def _usage(req: AdminRequest) -> dict[str, Any]:
    usage = daily_usage(req.org)
    return {
        "window_hours": 24,
        "used": usage.used,
        "limit": usage.limit,
        "remaining": usage.remaining,
        "by_endpoint": usage_by(req.org, "endpoint"),
        "by_client": usage_by(req.org, "client"),
    }


def _reset_usage(req: AdminRequest) -> dict[str, Any]:
    reset_usage(req.org)
    return _usage(req)


# -- faults ----------------------------------------------------------------------------------------


def _stored_plan(org: Org) -> FaultPlan | None:
    with org.lock:
        stored = org.meta(PLAN_KEY)
    return None if stored is None else FaultPlan.loads(stored)


def _store_plan(org: Org, plan: FaultPlan) -> dict[str, Any]:
    with org.transaction():
        org.set_meta(PLAN_KEY, plan.dumps())
    return plan.to_json()


def _get_faults(req: AdminRequest) -> dict[str, Any]:
    plan = _stored_plan(req.org)
    return {"seed": None, "rules": []} if plan is None else plan.to_json()


def _put_faults(req: AdminRequest) -> dict[str, Any]:
    try:
        # Without a seed the run is still replayable: the answer says which seed was drawn.
        plan = FaultPlan.from_json(req.json(), default_seed=secrets.randbelow(2**31))
    except FaultRuleError as exc:
        raise AdminError(400, str(exc)) from None
    return _store_plan(req.org, plan)


def _clear_faults(req: AdminRequest) -> dict[str, Any]:
    plan = _stored_plan(req.org)
    return _store_plan(req.org, FaultPlan(seed=0 if plan is None else plan.seed))


# -- users -----------------------------------------------------------------------------------------


def _revoke_tokens(req: AdminRequest) -> dict[str, Any]:
    raw = req.path_params["user_id"]
    try:
        user_id = normalize_id(raw)
    except InvalidId:
        raise AdminError(400, f"{raw!r} is not a user ID") from None
    with req.org.lock:
        found = req.org.conn.execute('SELECT 1 FROM "User" WHERE "Id" = ?', (user_id,)).fetchone()
    if found is None:
        raise AdminError(404, f"no user has the ID {user_id}")
    return {"user_id": user_id, "revoked": revoke_user_tokens(req.org, user_id)}


# -- clock -----------------------------------------------------------------------------------------


def _get_clock(req: AdminRequest) -> dict[str, Any]:
    return {"now": req.org.now()}


def _set_clock(req: AdminRequest) -> dict[str, Any]:
    """Move the org's clock forward, by an amount or to a moment.

    The clock never goes backwards (record timestamps and SystemModstamp watermarks rely on it),
    so an earlier moment is refused with 409 rather than silently ignored.
    """
    data = req.json()
    given = set(data) & {"advance_seconds", "now"}
    if len(given) != 1 or set(data) - given:
        raise AdminError(400, 'give exactly one of "advance_seconds" and "now"')
    clock = req.org.clock
    if "advance_seconds" in data:
        seconds = data["advance_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise AdminError(400, "advance_seconds must be a number")
        if seconds < 0:
            raise AdminError(400, "advance_seconds must not be negative: the clock never goes back")
        if seconds > _MAX_ADVANCE.total_seconds():
            raise AdminError(400, "advance_seconds may be at most 100 years")
        req.org.advance_clock(timedelta(seconds=seconds))
    else:
        text = data["now"]
        target = parse_datetime(text) if isinstance(text, str) else None
        if target is None:
            raise AdminError(400, 'now must be an ISO 8601 date-time, e.g. "2030-01-31T10:00:00Z"')
        delta = target - clock.now()
        if delta < timedelta(0):
            raise AdminError(
                409, f"the org's clock reads {req.org.now()} and never goes back to {text}"
            )
        if delta > _MAX_ADVANCE:
            raise AdminError(400, "now may be at most 100 years ahead")
        req.org.advance_clock(delta)
    return _get_clock(req)


# -- limits ----------------------------------------------------------------------------------------


def _limits_of(config: OrgConfig) -> dict[str, Any]:
    return {
        "daily_api_limit": config.daily_api_limit,
        "long_request_seconds": config.long_request_seconds,
        "long_request_limit": config.long_request_limit,
    }


def _get_limits(req: AdminRequest) -> dict[str, Any]:
    return _limits_of(req.org.config)


def _number(data: dict[str, Any], key: str, *, integer: bool, minimum: float) -> int | float:
    value = data[key]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (integer and not isinstance(value, int))
        or value < minimum
    ):
        kind = "an integer" if integer else "a number"
        raise AdminError(400, f"{key} must be {kind} of at least {minimum:g}")
    return value if integer else float(value)


def _put_limits(req: AdminRequest) -> dict[str, Any]:
    """Change limits for the life of this process; `localforce serve --api-limit` sets the
    allowance at start, so a stored value would only contradict it."""
    data = req.json()
    rules: dict[str, tuple[bool, float]] = {
        "daily_api_limit": (True, 0),
        "long_request_seconds": (False, 0),
        "long_request_limit": (True, 1),
    }
    unknown = set(data) - set(rules)
    if unknown:
        raise AdminError(400, f"unknown limits: {', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {
        key: _number(data, key, integer=integer, minimum=minimum)
        for key, (integer, minimum) in rules.items()
        if key in data
    }
    req.org.config = replace(req.org.config, **changes)
    return _limits_of(req.org.config)


ADMIN_ROUTES: tuple[AdminRoute, ...] = (
    AdminRoute("/usage", ("GET",), _usage),
    AdminRoute("/usage/reset", ("POST",), _reset_usage),
    AdminRoute("/faults", ("GET",), _get_faults),
    AdminRoute("/faults", ("PUT",), _put_faults),
    AdminRoute("/faults", ("DELETE",), _clear_faults),
    AdminRoute("/users/{user_id}/revoke-tokens", ("POST",), _revoke_tokens),
    AdminRoute("/clock", ("GET",), _get_clock),
    AdminRoute("/clock", ("POST",), _set_clock),
    AdminRoute("/limits", ("GET",), _get_limits),
    AdminRoute("/limits", ("PUT",), _put_limits),
)


# -- record browser --------------------------------------------------------------------------------

BROWSE = ADMIN_PREFIX + "/browse"
PAGE_SIZE = 50
_COOKIE = "localforce_browser"
# Columns worth a glance in a record list, after the name field, when the object has them.
_KEY_COLUMNS = (
    "Subject",
    "MasterLabel",
    "Username",
    "Email",
    "Company",
    "Website",
    "Status",
    "StageName",
    "Amount",
    "AccountId",
    "CampaignId",
    "LeadId",
    "ContactId",
    "WhoId",
    "WhatId",
)
_LIST_COLUMNS = 5


def _cookie_value(token: str) -> str:
    """What the browser cookie holds: derived from the admin token, so that the cookie opens the
    browser's read-only pages and nothing else."""
    return hmac.new(token.encode(), b"localforce record browser", hashlib.sha256).hexdigest()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _display(field: FieldDef, stored: Any) -> str:
    value = to_json(field, stored)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _list_columns(obj: ObjectDef) -> list[FieldDef]:
    chosen = [f for f in obj.fields if f.name_field]
    for name in _KEY_COLUMNS:
        found = obj.field(name)
        if found is not None and found not in chosen:
            chosen.append(found)
    modified = obj.field("LastModifiedDate")
    return [*chosen[:_LIST_COLUMNS], *([modified] if modified is not None else [])]


class _Browser:
    def __init__(self, org: Org, pages: jinja2.Environment) -> None:
        self.org = org
        self.pages = pages

    def _html(self, request: Request, template: str, status: int = 200, **context: Any) -> Response:
        base = request.scope.get("root_path", "") + BROWSE
        html = self.pages.get_template(template).render(base=base, **context)
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        return HTMLResponse(html, status_code=status, headers=headers)

    def _missing(self, request: Request, message: str) -> Response:
        return self._html(request, "browser_missing.html", 404, message=message)

    def _authorized(self, request: Request, token: str) -> bool:
        cookie = request.cookies.get(_COOKIE)
        if cookie is not None and _same(cookie, _cookie_value(token)):
            return True
        header = request.headers.get("x-localforce-admin-token") or ""
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if not header and scheme.lower() == "bearer":
            header = value
        return bool(header) and _same(header, token)

    def _guarded(self, request: Request, page: Callable[[Request], Response]) -> Response:
        token = admin_token(self.org)
        offered = request.query_params.get("token")
        if offered is not None:
            if not _same(offered, token):
                error = "That is not this org's admin token."
                return self._html(request, "browser_login.html", 401, error=error)
            kept = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + (f"?{urlencode(kept)}" if kept else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(
                _COOKIE, _cookie_value(token), path=BROWSE, httponly=True, samesite="strict"
            )
            return response
        if not self._authorized(request, token):
            return self._html(request, "browser_login.html", 401, error=None)
        return page(request)

    async def objects(self, request: Request) -> Response:
        return await run_in_threadpool(self._guarded, request, self._objects)

    async def records(self, request: Request) -> Response:
        return await run_in_threadpool(self._guarded, request, self._records)

    async def record(self, request: Request) -> Response:
        return await run_in_threadpool(self._guarded, request, self._record)

    def _objects(self, request: Request) -> Response:
        rows = []
        with self.org.lock:
            for obj in sorted(self.org.schema, key=lambda o: o.name):
                total, deleted = self.org.conn.execute(
                    f'SELECT count(*), coalesce(sum("IsDeleted"), 0) FROM {quote_ident(obj.name)}'
                ).fetchone()
                rows.append({"obj": obj, "live": total - deleted, "deleted": deleted})
        return self._html(request, "browser_objects.html", objects=rows)

    def _records(self, request: Request) -> Response:
        obj = self.org.object(request.path_params["object"])
        if obj is None:
            return self._missing(request, f"No object is called {request.path_params['object']}.")
        try:
            page = max(int(request.query_params.get("page", "1")), 1)
        except ValueError:
            page = 1
        columns = _list_columns(obj)
        names = ", ".join(['"Id"', *(quote_ident(f.name) for f in columns)])
        table = quote_ident(obj.name)
        with self.org.lock:
            (total,) = self.org.conn.execute(
                f'SELECT count(*) FROM {table} WHERE "IsDeleted" = 0'
            ).fetchone()
            rows = self.org.conn.execute(
                f'SELECT {names} FROM {table} WHERE "IsDeleted" = 0 '
                "ORDER BY _rid DESC LIMIT ? OFFSET ?",
                (PAGE_SIZE, (page - 1) * PAGE_SIZE),
            ).fetchall()
        records = [
            {"id": row[0], "cells": [_display(f, v) for f, v in zip(columns, row[1:], strict=True)]}
            for row in rows
        ]
        return self._html(
            request,
            "browser_records.html",
            obj=obj,
            columns=columns,
            records=records,
            total=total,
            page=page,
            pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        )

    def _record(self, request: Request) -> Response:
        obj = self.org.object(request.path_params["object"])
        if obj is None:
            return self._missing(request, f"No object is called {request.path_params['object']}.")
        raw = request.path_params["record_id"]
        try:
            record_id = normalize_id(raw)
        except InvalidId:
            return self._missing(request, f"{raw} is not a record ID.")
        with self.org.lock:
            row = self.org.fetch_row(obj, record_id)
        if row is None:
            return self._missing(request, f"No {obj.name} has the ID {record_id}.")
        fields = []
        for f in obj.fields:
            value = row.get(f.name)
            target = None
            if f.type is FieldType.REFERENCE and isinstance(value, str):
                parent = self.org.schema.by_prefix(value[:3])
                target = None if parent is None else f"{parent.name}/{value}"
            fields.append({"field": f, "value": _display(f, value), "link": target})
        return self._html(
            request, "browser_record.html", obj=obj, record_id=record_id, row=row, fields=fields
        )


def browser_routes(org: Org) -> list[BaseRoute]:
    pages = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True
    )
    browser = _Browser(org, pages)
    return [
        Route(BROWSE, browser.objects, methods=["GET"]),
        Route(BROWSE + "/{object}", browser.records, methods=["GET"]),
        Route(BROWSE + "/{object}/{record_id}", browser.record, methods=["GET"]),
    ]
