"""``/signin`` and ``/signout``: email and password for workspace users.

Sign-in answers the same way, and takes as long, for an unknown email as for a wrong password,
so the form does not tell who has an account. Repeated failures for one address are slowed to a
stop for a quarter of an hour (`_Throttle`), which bounds password guessing per account.
"""

import secrets
import time
from collections import deque
from typing import Annotated
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from hearth.errors import InvalidInputError
from hearth.passwords import hash_password, verify_password
from hearth.storage.models import User
from hearth.web.context import WebContext
from hearth.web.sessions import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SignedIn,
    check_csrf,
    check_origin,
    end_session,
    set_session_cookie,
    start_session,
)
from hearth.workspaces import normalize_email

__all__ = ["signin_router"]

_FORM_COOKIE = "hearth_signin_csrf"
_MAX_FAILURES = 10
_FAILURE_WINDOW_SECONDS = 15 * 60
# Verified against when the email is unknown, so both paths cost one scrypt.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


class _Throttle:
    """Failed sign-ins per email in a sliding window, in this process's memory."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, email: str, now: float) -> bool:
        recent = self._failures.get(email)
        if not recent:
            return False
        while recent and recent[0] < now - _FAILURE_WINDOW_SECONDS:
            recent.popleft()
        return len(recent) >= _MAX_FAILURES

    def fail(self, email: str, now: float) -> None:
        self._failures.setdefault(email, deque()).append(now)

    def forget(self, email: str) -> None:
        self._failures.pop(email, None)


def _safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else the home page (no open redirects)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def signin_router(ctx: WebContext) -> APIRouter:
    router = APIRouter()
    throttle = _Throttle()

    def form(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
        token = request.cookies.get(_FORM_COOKIE) or secrets.token_urlsafe(32)
        response = ctx.render(
            request,
            "signin.html",
            {
                "csrf_token": token,
                "next": _safe_next(request.query_params.get("next")),
                "error": error,
                "email": request.query_params.get("email", ""),
            },
            status_code,
        )
        response.set_cookie(
            _FORM_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=ctx.secure_cookies,
            path="/signin",
        )
        return response

    @router.get("/signin", include_in_schema=False)
    async def signin_page(request: Request) -> Response:
        return form(request)

    @router.post("/signin", include_in_schema=False)
    async def signin(
        request: Request,
        email: Annotated[str, Form(max_length=254)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        next_path: Annotated[str, Form(alias="next")] = "/",
        csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    ) -> Response:
        check_origin(request, ctx.settings.base_url)
        check_csrf(request.cookies.get(_FORM_COOKIE) or "", csrf_token)
        key = email.strip().lower()
        if throttle.blocked(key, time.monotonic()):
            return form(
                request,
                error="Too many failed attempts for this email; try again in 15 minutes.",
                status_code=429,
            )
        token = await anyio.to_thread.run_sync(_authenticate, ctx, email, password)
        if token is None:
            throttle.fail(key, time.monotonic())
            return form(request, error="Wrong email or password.", status_code=401)
        throttle.forget(key)
        response = RedirectResponse(_safe_next(next_path), status_code=303)
        set_session_cookie(response, token, secure=ctx.secure_cookies)
        response.delete_cookie(_FORM_COOKIE, path="/signin")
        return response

    @router.post("/signout", include_in_schema=False)
    async def signout(
        request: Request,
        user: Annotated[SignedIn, Depends(ctx.current_user)],
        csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    ) -> Response:
        check_origin(request, ctx.settings.base_url)
        check_csrf(user.csrf_token, csrf_token)

        def forget() -> None:
            with Session(ctx.engine) as session, session.begin():
                end_session(session, user.token_hash)

        await anyio.to_thread.run_sync(forget)
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/api/v1/session", tags=["session"])
    async def current_session(user: Annotated[SignedIn, Depends(ctx.current_user)]) -> SessionInfo:
        """Who is signed in, and the CSRF token state-changing API calls send as X-CSRF-Token."""
        return SessionInfo(
            email=user.email,
            role=user.role.value,
            workspace=user.workspace_name,
            plan=user.plan.value,
            csrf_token=user.csrf_token,
        )

    return router


class SessionInfo(BaseModel):
    email: str
    role: str
    workspace: str
    plan: str
    csrf_token: str


def _authenticate(ctx: WebContext, email: str, password: str) -> str | None:
    """A new session token when `email` and `password` match a user, else None."""
    try:
        address: str | None = normalize_email(email)
    except InvalidInputError:
        address = None  # not an address, so no such user
    with Session(ctx.engine) as session, session.begin():
        user = (
            session.scalars(select(User).where(User.email == address)).one_or_none()
            if address
            else None
        )
        if user is None:
            verify_password(password, _DUMMY_HASH)
            return None
        if not verify_password(password, user.password_hash):
            return None
        return start_session(session, user, now=ctx.clock())
