"""Signed-in browsers: session cookies, the signed-in user, and CSRF checks.

The cookie holds a random 256-bit token; the database keeps only its SHA-256 (`WebSession`),
so sessions can be listed and ended server-side and a database leak hands out none. Cookies are
HttpOnly and SameSite=Lax, and Secure whenever Hearth is served over https.

CSRF: every state-changing form carries the session's `csrf_token`, and JSON calls send it as
`X-CSRF-Token`; both are compared in constant time. The sign-in form, which has no session yet,
uses a double-submit cookie. Unsafe requests whose `Origin` names another site are refused
outright, whatever they carry.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hearth.storage.models import Plan, Role, User, WebSession, Workspace

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "SESSION_LIFETIME",
    "CsrfRejected",
    "SignInRequired",
    "SignedIn",
    "check_csrf",
    "check_origin",
    "end_session",
    "hash_token",
    "load_session",
    "set_session_cookie",
    "start_session",
]

SESSION_COOKIE = "hearth_session"
SESSION_LIFETIME = timedelta(days=14)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class SignInRequired(Exception):
    """The request needs a signed-in user and has none (or not one with the right role)."""

    def __init__(self, *, forbidden: bool = False) -> None:
        super().__init__("sign in required" if not forbidden else "admins only")
        self.forbidden = forbidden


class CsrfRejected(Exception):
    """A state-changing request without proof that it came from Hearth's own page."""


@dataclass(frozen=True, kw_only=True)
class SignedIn:
    """The user behind a request, and what pages need to know about them."""

    user_id: int
    email: str
    role: Role
    workspace_id: int
    workspace_name: str
    plan: Plan
    csrf_token: str
    token_hash: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, *, now: datetime) -> str:
    """A new session for `user`; returns the token for the cookie. Flushes, never commits."""
    token = secrets.token_urlsafe(32)
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.add(
        WebSession(
            token_hash=hash_token(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return token


def load_session(session: Session, token: str | None, *, now: datetime) -> SignedIn | None:
    """Who `token` signs in, or None for a missing, unknown or expired one."""
    if not token:
        return None
    row = session.execute(
        select(WebSession, User, Workspace)
        .join(User, User.id == WebSession.user_id)
        .join(Workspace, Workspace.id == User.workspace_id)
        .where(WebSession.token_hash == hash_token(token))
    ).one_or_none()
    if row is None:
        return None
    web_session, user, workspace = row
    if web_session.expires_at <= now:
        return None
    return SignedIn(
        user_id=user.id,
        email=user.email,
        role=user.role,
        workspace_id=workspace.id,
        workspace_name=workspace.name,
        plan=workspace.plan,
        csrf_token=web_session.csrf_token,
        token_hash=web_session.token_hash,
    )


def end_session(session: Session, token_hash: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def check_csrf(expected: str, given: str | None) -> None:
    """Raise `CsrfRejected` unless `given` is the session's token."""
    if not given or not secrets.compare_digest(expected.encode(), given.encode()):
        raise CsrfRejected("the form expired or did not come from Hearth; reload and try again")


def check_origin(request: Request, base_url: str) -> None:
    """Refuse an unsafe request a browser says came from another site."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin.rstrip("/") != _origin_of(base_url):
        raise CsrfRejected(f"requests from {origin} are not accepted")


def _origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
