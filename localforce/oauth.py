"""OAuth 2.0 as a Salesforce org serves it: authorize (login and consent pages), token, revoke,
userinfo and the identity URL, plus `authenticate`, the check every REST request makes.

    GET|POST /services/oauth2/authorize          login page (a POST with no form token is an
                                                 authorization request sent as a form)
    POST     /services/oauth2/authorize          login form -> consent page
    POST     /services/oauth2/authorize/consent  Allow / Deny -> 302 to the app's callback
    POST     /services/oauth2/token              authorization_code, refresh_token, password,
                                                 client_credentials
    GET|POST /services/oauth2/revoke             revoke an access or refresh token
    GET|POST /services/oauth2/userinfo           OpenID Connect user info
    GET|POST /id/{orgId}/{userId}                the identity URL returned as `id`

The login and consent pages keep no server-side state: each form carries the authorization
request sealed with an HMAC key kept in the org's metadata, with the stage it is for and an
expiry. A forged or stale form is refused; the client and callback are checked again on every
step, so an app edited meanwhile cannot be authorized through an old page.

Token endpoint errors are `OAuthError`s rendered as `{"error", "error_description"}`; REST
authentication failures are `ApiError`s the REST layer renders as Salesforce's JSON array.
Database work runs in the thread pool: password hashing and SQLite would stall the event loop.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import _tokens as store
from .errors import ApiError, OAuthError
from .identity import ConnectedApp, check_password, get_connected_app
from .ids import InvalidId, normalize_id
from .org import Org
from .values import parse_datetime

__all__ = [
    "CODE_TTL",
    "Session",
    "authenticate",
    "ensure_tables",
    "issue_session",
    "oauth_routes",
    "revoke_user_tokens",
]

CODE_TTL = timedelta(minutes=15)
# How long a login or consent page stays usable; as long as a code lives.
_FORM_TTL = timedelta(minutes=15)

_FORM_KEY_META = "oauth_form_key"
_JSON_TYPE = "application/json;charset=UTF-8"
_TEXT_TYPE = "text/plain;charset=UTF-8"
_NO_STORE = {"Cache-Control": "no-store"}
# Login and consent pages must not be framed (clickjacking) nor cached.
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_REFRESH_SCOPES = frozenset({"refresh_token", "offline_access"})
# Scopes that let a token read other users' identity URLs (Salesforce help, "Identity URLs").
_IDENTITY_ADMIN_SCOPES = frozenset({"api", "full"})

_EXPIRED_CODE = OAuthError(error="invalid_grant", description="expired authorization code")
_EXPIRED_TOKEN = OAuthError(error="invalid_grant", description="expired access/refresh token")
_AUTH_FAILURE = OAuthError(error="invalid_grant", description="authentication failure")
_INACTIVE_USER = OAuthError(error="invalid_grant", description="inactive user")
_BAD_CLIENT_ID = OAuthError(error="invalid_client_id", description="client identifier invalid")
_BAD_SECRET = OAuthError(error="invalid_client", description="invalid client credentials")
_BAD_REDIRECT = OAuthError(
    error="redirect_uri_mismatch", description="redirect_uri must match configuration"
)

# What the consent page lists for each scope, in Salesforce's words.
_SCOPE_DESCRIPTIONS = {
    "api": "Manage user data via APIs (api)",
    "chatter_api": "Access Connect REST API resources (chatter_api)",
    "full": "Full access (full)",
    "id": "Access the identity URL service (id, profile, email, address, phone)",
    "openid": "Access unique user identifiers (openid)",
    "refresh_token": "Perform requests at any time (refresh_token, offline_access)",
    "offline_access": "Perform requests at any time (refresh_token, offline_access)",
    "web": "Manage user data via Web browsers (web)",
}
_BAD_LOGIN = (
    "Please check your username and password. If you still can't log in, "
    "contact your Salesforce administrator."
)


@dataclass(frozen=True, kw_only=True)
class Session:
    """Who a REST request runs as, from its access token."""

    user_id: str
    org_id: str
    client_id: str
    token_hash: str  # SHA-256 hex of the access token: identifies it without holding it
    issued_at: datetime
    scopes: tuple[str, ...]


def ensure_tables(org: Org) -> None:
    """Create the token tables and the form-signing key; safe to call on every start."""
    store.ensure_tables(org)
    with org.transaction():
        if org.meta(_FORM_KEY_META) is None:
            org.set_meta(_FORM_KEY_META, secrets.token_hex(32))


# -- time, ids and scopes -------------------------------------------------------------------------


def _epoch_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _ms(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


def _org_id(org: Org) -> str:
    with org.lock:
        org_id = org.meta("organization_id")
    if org_id is None:
        raise RuntimeError("the org has no Organization record; run bootstrap(org) first")
    return org_id


def _without_refresh(scopes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(s for s in scopes if s not in _REFRESH_SCOPES)


def _granted_scopes(app: ConnectedApp, requested: str | None) -> tuple[str, ...]:
    """The scopes an authorization grants: the request's, each allowed by the app.

    With no `scope` parameter the app's configured scopes are granted [U].
    """
    names = tuple(dict.fromkeys((requested or "").split()))
    if not names:
        return app.scopes
    allowed = set(app.scopes)
    if allowed & _REFRESH_SCOPES:
        allowed |= _REFRESH_SCOPES  # offline_access is refresh_token's other name
    if not allowed.issuperset(names):
        raise OAuthError(error="invalid_scope", description="the requested scope is invalid")
    return names


# -- users ----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _User:
    user_id: str
    username: str
    active: bool
    api_enabled: bool


def _find_user(org: Org, column: str, value: str) -> _User | None:
    if not value:
        return None
    with org.lock:
        row = org.conn.execute(
            'SELECT u."Id", u."Username", u."IsActive", p."PermissionsApiEnabled" FROM "User" u'
            ' LEFT JOIN "Profile" p ON p."Id" = u."ProfileId"'
            f' WHERE u."{column}" = ? AND u."IsDeleted" = 0',
            (value,),
        ).fetchone()
    if row is None:
        return None
    return _User(user_id=row[0], username=row[1], active=bool(row[2]), api_enabled=bool(row[3]))


def _user_by_id(org: Org, user_id: str) -> _User | None:
    return _find_user(org, "Id", user_id)


def _user_by_username(org: Org, username: str) -> _User | None:
    return _find_user(org, "Username", username.strip())


def _refusal(user: _User) -> str | None:
    """Why a user may not authorize an app, or None when they may."""
    if not user.active:
        return "Your user account is inactive. Contact your Salesforce administrator."
    if not user.api_enabled:
        return (
            "Your profile doesn't have the API Enabled permission, so you can't authorize "
            "this app. Contact your Salesforce administrator."
        )
    return None


# -- minting and checking access tokens -----------------------------------------------------------


def _mint_access_token(
    org: Org, client_id: str, user_id: str, scopes: tuple[str, ...], grant_id: int | None
) -> tuple[str, int]:
    """Store a new access token; returns it with its issue time (epoch ms)."""
    token = store.new_access_token(_org_id(org))
    issued_at = _epoch_ms(org.clock.now())
    store.store_access_token(
        org,
        token,
        client_id=client_id,
        user_id=user_id,
        scopes=scopes,
        grant_id=grant_id,
        issued_at=issued_at,
        expired_before=issued_at - _ms(org.config.access_token_ttl),
    )
    return token, issued_at


def _session_for_token(org: Org, token: str) -> Session | None:
    """The live session an access token opens, or None (unknown, revoked, expired, inactive)."""
    org_id = _org_id(org)
    if not token.startswith(org_id[:15] + "!"):
        return None  # not one of ours: no need to hash and look it up
    row = store.find_access_token(org, token)
    if row is None or row.revoked or not row.user_active:
        return None
    if _epoch_ms(org.clock.now()) - row.issued_at >= _ms(org.config.access_token_ttl):
        return None
    return Session(
        user_id=row.user_id,
        org_id=org_id,
        client_id=row.client_id,
        token_hash=row.token_hash,
        issued_at=_EPOCH + timedelta(milliseconds=row.issued_at),
        scopes=row.scopes,
    )


def _header_token(header: str) -> str | None:
    """The token of `Bearer <t>` or `OAuth <t>`; None when the header has another shape."""
    parts = header.split()
    if len(parts) == 2 and parts[0].lower() in ("bearer", "oauth"):
        return parts[1]
    return None


def authenticate(org: Org, authorization_header: str | None) -> Session:
    """The session of a REST request's `Authorization` header; raises ApiError (401) otherwise."""
    if authorization_header is None or not authorization_header.strip():
        raise _invalid_session()
    token = _header_token(authorization_header)
    if token is None:
        raise ApiError(
            status=401,
            error_code="INVALID_AUTH_HEADER",
            message="INVALID_AUTH_HEADER",
            headers={"WWW-Authenticate": "Token"},
        )
    session = _session_for_token(org, token)
    if session is None:
        raise _invalid_session()
    return session


def _invalid_session() -> ApiError:
    return ApiError(
        status=401,
        error_code="INVALID_SESSION_ID",
        message="Session expired or invalid",
        headers={"WWW-Authenticate": "Token"},
    )


def issue_session(org: Org, user_id: str, client_id: str) -> str:
    """Mint an access token for a user of a connected app, without the browser dance."""
    app = get_connected_app(org, client_id)
    if app is None:
        raise ValueError(f"no connected app has the client id {client_id!r}")
    token, _ = _mint_access_token(org, client_id, user_id, _without_refresh(app.scopes), None)
    return token


def revoke_user_tokens(org: Org, user_id: str) -> int:
    """Revoke every refresh and access token of a user; returns how many were revoked."""
    return store.revoke_user(org, user_id, now=_epoch_ms(org.clock.now()))


# -- sealed forms ---------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, kw_only=True)
class _AuthRequest:
    """A validated authorization request, carried from page to page in a sealed form field."""

    client_id: str
    redirect_uri: str
    state: str | None
    code_challenge: str | None
    scopes: tuple[str, ...]
    login_hint: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _AuthRequest:
        return cls(**{**data, "scopes": tuple(data["scopes"])})


class _Stage(Enum):
    LOGIN = "login"
    CONSENT = "consent"


@dataclass(frozen=True, kw_only=True)
class _Form:
    """What a sealed form field carries besides its stage and expiry."""

    request: _AuthRequest
    user_id: str | None = None


class _Sealer:
    """HMAC-SHA256 over the form's JSON: pages need no server-side state, and cannot be forged."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def seal(self, stage: _Stage, form: _Form, *, expires: int) -> str:
        payload = {"stage": stage.value, "exp": expires, **asdict(form)}
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}"

    def open(self, stage: _Stage, token: str, *, now: int) -> _Form | None:
        body, _, mac = token.partition(".")
        if not hmac.compare_digest(mac.encode(), self._mac(body).encode()):
            return None
        payload = json.loads(_unb64(body))
        if payload["stage"] != stage.value or payload["exp"] <= now:
            return None
        return _Form(request=_AuthRequest.from_json(payload["request"]), user_id=payload["user_id"])


# -- HTTP helpers ---------------------------------------------------------------------------------


def _json(body: Mapping[str, Any], status: int = 200) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        headers={"Content-Type": _JSON_TYPE, **_NO_STORE},
    )


def _text(body: str, status: int) -> Response:
    return Response(body, status_code=status, headers={"Content-Type": _TEXT_TYPE, **_NO_STORE})


def _redirect(uri: str, params: Mapping[str, str | None]) -> Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    # 302, not Starlette's default 307: the browser must GET the callback, not re-POST the form.
    return RedirectResponse(
        f"{uri}{'&' if '?' in uri else '?'}{query}", status_code=302, headers=_NO_STORE
    )


def _base_url(request: Request) -> str:
    """Scheme, host and port the request came in on: the org's instance URL."""
    return str(request.base_url).rstrip("/")


async def _params(request: Request) -> dict[str, str]:
    """Query parameters overlaid with form fields: Salesforce reads OAuth parameters from both."""
    params = dict(request.query_params)
    if request.method == "POST":
        async with request.form() as form:
            params.update((k, v) for k, v in form.items() if isinstance(v, str))
    return params


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """Client ID and secret from HTTP Basic authentication, when the request used it."""
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = (
            base64.b64decode(value.strip(), validate=True).decode().partition(":")
        )
    except ValueError as exc:
        raise _BAD_SECRET from exc
    return client_id, secret


def _s256(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode()).digest())


def _resolve_client(org: Org, client_id: str, redirect_uri: str) -> ConnectedApp:
    """The app an authorization is for. Its errors are shown, never redirected (RFC 6749 4.1.2.1):
    the callback is not trusted until it is known to be the app's."""
    app = get_connected_app(org, client_id) if client_id else None
    if app is None:
        raise _BAD_CLIENT_ID
    if redirect_uri not in app.callback_urls:
        raise _BAD_REDIRECT
    return app


def _parse_authorization(app: ConnectedApp, params: Mapping[str, str]) -> _AuthRequest:
    """An authorization request's remaining checks; their errors go back to the callback."""
    if params.get("response_type") != "code":
        raise OAuthError(
            error="unsupported_response_type", description="response type not supported"
        )
    # Salesforce only knows S256 and defines no method parameter; refusing "plain" up front beats
    # a verifier mismatch at the token endpoint [U].
    if params.get("code_challenge_method", "S256") != "S256":
        raise OAuthError(error="invalid_request", description="unsupported code_challenge_method")
    return _AuthRequest(
        client_id=app.client_id,
        redirect_uri=params["redirect_uri"],
        state=params.get("state"),
        code_challenge=params.get("code_challenge") or None,
        scopes=_granted_scopes(app, params.get("scope")),
        login_hint=params.get("login_hint", ""),
    )


class _Secret(Enum):
    """When the token endpoint requires the consumer secret."""

    ALWAYS = "always"
    APP_SETTING = "app setting"  # "Require Secret for Web Server Flow" (also the password flow)
    IF_SENT = "if sent"  # refresh flow: checked only when the client sends one [U]


# -- endpoints ------------------------------------------------------------------------------------


class _Endpoints:
    def __init__(self, org: Org, pages: jinja2.Environment, sealer: _Sealer) -> None:
        self.org = org
        self.pages = pages
        self.sealer = sealer
        self.grants: dict[str, Callable[[dict[str, str], str | None, str], dict[str, str]]] = {
            "authorization_code": self._grant_authorization_code,
            "refresh_token": self._grant_refresh_token,
            "password": self._grant_password,
            "client_credentials": self._grant_client_credentials,
        }

    def _now(self) -> int:
        return _epoch_ms(self.org.clock.now())

    # -- pages ------------------------------------------------------------------------------

    def _page(self, template: str, status: int = 200, **context: Any) -> Response:
        html = self.pages.get_template(template).render(**context)
        return HTMLResponse(html, status_code=status, headers=_PAGE_HEADERS)

    def _error_page(self, err: OAuthError) -> Response:
        return self._page(
            "oauth_error.html",
            err.status,
            description=err.description,
            # Salesforce's error page shows the pair as a %20-encoded query string.
            query=urlencode(
                {"error": err.error, "error_description": err.description}, quote_via=quote
            ),
        )

    def _expired_page(self) -> Response:
        return self._error_page(
            OAuthError(error="invalid_request", description="this page expired; start again")
        )

    def _login_page(
        self, app: ConnectedApp, token: str, username: str, error: str | None
    ) -> Response:
        return self._page(
            "login.html", app_name=app.name, request_token=token, username=username, error=error
        )

    def _consent_page(self, app: ConnectedApp, request: _AuthRequest, user: _User) -> Response:
        token = self.sealer.seal(
            _Stage.CONSENT,
            _Form(request=request, user_id=user.user_id),
            expires=self._now() + _ms(_FORM_TTL),
        )
        return self._page(
            "consent.html",
            app_name=app.name,
            request_token=token,
            username=user.username,
            scope_lines=list(dict.fromkeys(_SCOPE_DESCRIPTIONS.get(s, s) for s in request.scopes)),
        )

    # -- authorize --------------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        params = await _params(request)
        # Only a POST logs in: a password never travels in a URL.
        if request.method == "POST" and "request_token" in params:
            return await run_in_threadpool(self._login, params)
        return await run_in_threadpool(self._start, params)

    def _start(self, params: dict[str, str]) -> Response:
        try:
            app = _resolve_client(
                self.org, params.get("client_id", ""), params.get("redirect_uri", "")
            )
        except OAuthError as err:
            return self._error_page(err)
        try:
            auth = _parse_authorization(app, params)
        except OAuthError as err:
            return _redirect(
                params["redirect_uri"],
                {
                    "error": err.error,
                    "error_description": err.description,
                    "state": params.get("state"),
                },
            )
        token = self.sealer.seal(
            _Stage.LOGIN, _Form(request=auth), expires=self._now() + _ms(_FORM_TTL)
        )
        return self._login_page(app, token, auth.login_hint, None)

    def _login(self, params: dict[str, str]) -> Response:
        token = params["request_token"]
        form = self.sealer.open(_Stage.LOGIN, token, now=self._now())
        if form is None:
            return self._expired_page()
        try:
            app = _resolve_client(self.org, form.request.client_id, form.request.redirect_uri)
        except OAuthError as err:
            return self._error_page(err)
        username = params.get("username", "")
        user = _user_by_username(self.org, username)
        if user is None or not check_password(self.org, user.user_id, params.get("password", "")):
            return self._login_page(app, token, username, _BAD_LOGIN)
        refusal = _refusal(user)
        if refusal is not None:
            return self._login_page(app, token, username, refusal)
        return self._consent_page(app, form.request, user)

    async def consent(self, request: Request) -> Response:
        return await run_in_threadpool(self._consent, await _params(request))

    def _consent(self, params: dict[str, str]) -> Response:
        form = self.sealer.open(_Stage.CONSENT, params.get("request_token", ""), now=self._now())
        if form is None or form.user_id is None:
            return self._expired_page()
        auth = form.request
        try:
            _resolve_client(self.org, auth.client_id, auth.redirect_uri)
        except OAuthError as err:
            return self._error_page(err)
        if params.get("decision") != "allow":
            return _redirect(
                auth.redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "end-user denied authorization",
                    "state": auth.state,
                },
            )
        user = _user_by_id(self.org, form.user_id)
        refusal = "Your user no longer exists." if user is None else _refusal(user)
        if refusal is not None:
            return self._error_page(OAuthError(error="access_denied", description=refusal))
        code = store.new_code()
        now = self._now()
        store.store_code(
            self.org,
            code,
            client_id=auth.client_id,
            user_id=form.user_id,
            redirect_uri=auth.redirect_uri,
            code_challenge=auth.code_challenge,
            scopes=auth.scopes,
            issued_at=now,
            expired_before=now - _ms(CODE_TTL),
        )
        return _redirect(auth.redirect_uri, {"code": code, "state": auth.state})

    # -- token ------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        params = await _params(request)
        try:
            body = await run_in_threadpool(
                self._token, params, request.headers.get("authorization"), _base_url(request)
            )
        except OAuthError as err:
            return _json(err.body(), err.status)
        return _json(body)

    def _token(
        self, params: dict[str, str], authorization: str | None, base: str
    ) -> dict[str, str]:
        # A JSON body parses to no parameters at all; Salesforce then answers exactly this.
        grant = self.grants.get(params.get("grant_type", ""))
        if grant is None:
            raise OAuthError(error="unsupported_grant_type", description="grant type not supported")
        return grant(params, authorization, base)

    def _client(
        self, params: dict[str, str], authorization: str | None, rule: _Secret
    ) -> ConnectedApp:
        basic = _basic_credentials(authorization)
        client_id, secret = basic or (params.get("client_id", ""), params.get("client_secret", ""))
        app = get_connected_app(self.org, client_id) if client_id else None
        if app is None:
            raise _BAD_CLIENT_ID
        required = rule is _Secret.ALWAYS or (
            rule is _Secret.APP_SETTING and app.require_secret_for_web_server_flow
        )
        if (secret or required) and not hmac.compare_digest(
            secret.encode(), app.client_secret.encode()
        ):
            raise _BAD_SECRET
        return app

    def _token_response(
        self,
        app: ConnectedApp,
        base: str,
        user_id: str,
        scopes: tuple[str, ...],
        *,
        grant_id: int | None,
        refresh_token: str | None,
        show_scope: bool,
    ) -> dict[str, str]:
        """Mint an access token and answer in Salesforce's shape and key order (no expires_in)."""
        access_token, issued_at = _mint_access_token(
            self.org, app.client_id, user_id, scopes, grant_id
        )
        identity = f"{base}/id/{_org_id(self.org)}/{user_id}"
        signed = hmac.new(
            app.client_secret.encode(), f"{identity}{issued_at}".encode(), hashlib.sha256
        )
        body = {"access_token": access_token}
        if refresh_token is not None:
            body["refresh_token"] = refresh_token
        body["signature"] = base64.b64encode(signed.digest()).decode()
        if show_scope:
            body["scope"] = " ".join(scopes)
        body.update(instance_url=base, id=identity, token_type="Bearer", issued_at=str(issued_at))
        return body

    def _grant_authorization_code(
        self, params: dict[str, str], authorization: str | None, base: str
    ) -> dict[str, str]:
        app = self._client(params, authorization, _Secret.APP_SETTING)
        code = params.get("code", "")
        now = self._now()
        row = store.find_code(self.org, code) if code else None
        if (
            row is None
            or row.used
            or row.client_id != app.client_id
            or now - row.issued_at >= _ms(CODE_TTL)
        ):
            raise _EXPIRED_CODE
        if params.get("redirect_uri") != row.redirect_uri:
            raise _BAD_REDIRECT
        if row.code_challenge is not None:
            verifier = params.get("code_verifier", "")
            # The two failures differ on purpose: Salesforce documents invalid_grant for a missing
            # verifier and invalid_request for a wrong one.
            if not verifier:
                raise OAuthError(error="invalid_grant", description="invalid code verifier")
            if not hmac.compare_digest(_s256(verifier).encode(), row.code_challenge.encode()):
                raise OAuthError(error="invalid_request", description="invalid code verifier")
        user = _user_by_id(self.org, row.user_id)
        if user is None or not user.active:
            raise _INACTIVE_USER
        # One transaction: a code is spent only if its tokens are stored.
        with self.org.transaction():
            if not store.consume_code(self.org, code, now=now):
                raise _EXPIRED_CODE  # another request spent it since the check above
            refresh_token = None
            grant_id = None
            if _REFRESH_SCOPES & set(row.scopes):
                refresh_token = store.new_refresh_token()
                grant_id = store.create_grant(
                    self.org,
                    refresh_token,
                    client_id=app.client_id,
                    user_id=row.user_id,
                    scopes=row.scopes,
                    now=now,
                )
            return self._token_response(
                app,
                base,
                row.user_id,
                row.scopes,
                grant_id=grant_id,
                refresh_token=refresh_token,
                show_scope=True,
            )

    def _grant_refresh_token(
        self, params: dict[str, str], authorization: str | None, base: str
    ) -> dict[str, str]:
        app = self._client(params, authorization, _Secret.IF_SENT)
        old = params.get("refresh_token", "")
        grant = store.find_grant(self.org, old) if old else None
        if grant is None or grant.revoked or grant.client_id != app.client_id:
            raise _EXPIRED_TOKEN
        user = _user_by_id(self.org, grant.user_id)
        if user is None or not user.active:
            raise _INACTIVE_USER
        # One transaction: the old refresh token dies only if the new one is handed out.
        with self.org.transaction():
            rotated = None
            if app.refresh_token_rotation or self.org.config.refresh_token_rotation:
                rotated = store.new_refresh_token()
                if not store.rotate_grant(self.org, grant.grant_id, old, rotated):
                    raise _EXPIRED_TOKEN  # a concurrent refresh rotated this token first
            return self._token_response(
                app,
                base,
                grant.user_id,
                grant.scopes,
                grant_id=grant.grant_id,
                refresh_token=rotated,
                show_scope=True,
            )

    def _grant_password(
        self, params: dict[str, str], authorization: str | None, base: str
    ) -> dict[str, str]:
        app = self._client(params, authorization, _Secret.APP_SETTING)
        user = _user_by_username(self.org, params.get("username", ""))
        if (
            user is None
            or not check_password(self.org, user.user_id, params.get("password", ""))
            or _refusal(user) is not None
        ):
            raise _AUTH_FAILURE
        # "Refresh tokens and scopes are not supported in this flow": no refresh_token, no scope.
        return self._token_response(
            app,
            base,
            user.user_id,
            _without_refresh(app.scopes),
            grant_id=None,
            refresh_token=None,
            show_scope=False,
        )

    def _grant_client_credentials(
        self, params: dict[str, str], authorization: str | None, base: str
    ) -> dict[str, str]:
        app = self._client(params, authorization, _Secret.ALWAYS)
        # A real app names a "Run As" user; localforce's apps run as the org's administrator.
        with self.org.lock:
            admin_id = self.org.meta("admin_user_id") or ""
        user = _user_by_id(self.org, admin_id)
        if user is None or not user.active:
            raise OAuthError(
                error="invalid_grant", description="no client credentials user enabled"
            )
        return self._token_response(
            app,
            base,
            user.user_id,
            _without_refresh(app.scopes),
            grant_id=None,
            refresh_token=None,
            show_scope=True,
        )

    # -- revoke -----------------------------------------------------------------------------

    async def revoke(self, request: Request) -> Response:
        params = await _params(request)
        return await run_in_threadpool(self._revoke, params.get("token", ""))

    def _revoke(self, token: str) -> Response:
        now = self._now()
        grant = store.find_grant(self.org, token) if token else None
        if grant is not None:
            store.revoke_grant(self.org, grant.grant_id, now=now)
            return Response(status_code=200, headers=_NO_STORE)
        if token and store.find_access_token(self.org, token) is not None:
            store.revoke_access_token(self.org, token, now=now)
            return Response(status_code=200, headers=_NO_STORE)
        return _json({"error": "invalid_token", "error_description": "invalid token"}, 400)

    # -- userinfo and identity URL ----------------------------------------------------------

    def _caller(self, request: Request) -> Session | Response:
        """The session of an identity request: from the header, or `oauth_token`/`access_token`."""
        header = request.headers.get("authorization")
        query = request.query_params
        if header:
            token = _header_token(header) or ""
        else:
            token = query.get("oauth_token") or query.get("access_token") or ""
            if not token:
                return _text("Missing_OAuth_Token", 403)
        session = _session_for_token(self.org, token) if token else None
        # The identity service answers 403 with one word of plain text where REST answers 401.
        return _text("Bad_OAuth_Token", 403) if session is None else session

    async def userinfo(self, request: Request) -> Response:
        return await run_in_threadpool(self._userinfo, request)

    def _userinfo(self, request: Request) -> Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        info = _identity_info(self.org, _base_url(request), caller.user_id)
        if info is None:
            return _text("Bad_OAuth_Token", 403)
        return _json(_userinfo_body(info))

    async def identity(self, request: Request) -> Response:
        return await run_in_threadpool(self._identity, request)

    def _identity(self, request: Request) -> Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        try:
            org_id = normalize_id(request.path_params["org_id"])
            user_id = normalize_id(request.path_params["user_id"])
        except InvalidId:
            return _text("Bad_Id", 404)
        if org_id != caller.org_id:
            return _text("Bad_Id", 404)
        if user_id != caller.user_id and not _IDENTITY_ADMIN_SCOPES & set(caller.scopes):
            return _text("Bad_Id", 403)
        info = _identity_info(self.org, _base_url(request), user_id)
        if info is None:
            return _text("Bad_Id", 404)
        return _json(_identity_body(info, asserted=user_id == caller.user_id))


# -- identity documents ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _IdentityInfo:
    base: str
    org_id: str
    user: dict[str, Any]
    utc_offset: int
    modified: str

    @property
    def identity_url(self) -> str:
        return f"{self.base}/id/{self.org_id}/{self.user['Id']}"

    def urls(self) -> dict[str, str]:
        """API endpoints with the literal `{version}` Salesforce leaves for the client to fill."""
        base, org15 = self.base, self.org_id[:15]
        rest = f"{base}/services/data/v{{version}}"
        return {
            "enterprise": f"{base}/services/Soap/c/{{version}}/{org15}",
            "metadata": f"{base}/services/Soap/m/{{version}}/{org15}",
            "partner": f"{base}/services/Soap/u/{{version}}/{org15}",
            "rest": f"{rest}/",
            "sobjects": f"{rest}/sobjects/",
            "search": f"{rest}/search/",
            "query": f"{rest}/query/",
            "recent": f"{rest}/recent/",
            "tooling_soap": f"{base}/services/Soap/T/{{version}}/{org15}",
            "tooling_rest": f"{rest}/tooling/",
            "profile": f"{base}/{self.user['Id']}",
            "feeds": f"{rest}/chatter/feeds",
            "groups": f"{rest}/chatter/groups",
            "users": f"{rest}/chatter/users",
            "feed_items": f"{rest}/chatter/feed-items",
            "feed_elements": f"{rest}/chatter/feed-elements",
            "custom_domain": base,
        }

    def photos(self) -> dict[str, str]:
        return {
            "picture": f"{self.base}/profilephoto/005/F",
            "thumbnail": f"{self.base}/profilephoto/005/T",
        }


_IDENTITY_COLUMNS = (
    "Id",
    "Username",
    "CommunityNickname",
    "Name",
    "FirstName",
    "LastName",
    "Email",
    "TimeZoneSidKey",
    "LocaleSidKey",
    "LanguageLocaleKey",
    "UserType",
    "IsActive",
    "LastModifiedDate",
)


def _standard_offset_ms(zone: str, moment: datetime) -> int:
    # Salesforce reports the zone's standard offset all year (Los Angeles is -28800000 in August).
    try:
        local = moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    return _ms((local.utcoffset() or timedelta()) - (local.dst() or timedelta()))


def _identity_info(org: Org, base: str, user_id: str) -> _IdentityInfo | None:
    user_obj = org.object("User")
    assert user_obj is not None
    with org.lock:
        row = org.fetch_row(user_obj, user_id, _IDENTITY_COLUMNS)
    if row is None or row["IsDeleted"]:
        return None
    now = org.clock.now()
    modified = parse_datetime(row["LastModifiedDate"] or "") or now
    return _IdentityInfo(
        base=base,
        org_id=_org_id(org),
        user=row,
        utc_offset=_standard_offset_ms(row["TimeZoneSidKey"] or "", now),
        modified=modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _identity_body(info: _IdentityInfo, *, asserted: bool) -> dict[str, Any]:
    """The identity URL's document, in the field order of captured real responses."""
    user = info.user
    return {
        "id": info.identity_url,
        "asserted_user": asserted,
        "user_id": user["Id"],
        "organization_id": info.org_id,
        "username": user["Username"],
        "nick_name": user["CommunityNickname"],
        "display_name": user["Name"],
        "email": user["Email"],
        "email_verified": True,
        "first_name": user["FirstName"],
        "last_name": user["LastName"],
        "timezone": user["TimeZoneSidKey"],
        "photos": info.photos(),
        "addr_street": None,
        "addr_city": None,
        "addr_state": None,
        "addr_country": None,
        "addr_zip": None,
        "mobile_phone": None,
        "mobile_phone_verified": False,
        "is_lightning_login_user": False,
        "status": {"created_date": None, "body": None},
        "urls": info.urls(),
        "active": bool(user["IsActive"]),
        "user_type": (user["UserType"] or "Standard").upper(),
        "language": user["LanguageLocaleKey"],
        "locale": user["LocaleSidKey"],
        "utcOffset": info.utc_offset,
        "last_modified_date": info.modified,
        "is_app_installed": True,
    }


def _userinfo_body(info: _IdentityInfo) -> dict[str, Any]:
    """The OpenID Connect UserInfo document, in Salesforce's field order."""
    user = info.user
    photos = info.photos()
    return {
        "sub": info.identity_url,
        "user_id": user["Id"],
        "organization_id": info.org_id,
        "preferred_username": user["Username"],
        "nickname": user["CommunityNickname"],
        "name": user["Name"],
        "email": user["Email"],
        "email_verified": True,
        "given_name": user["FirstName"],
        "family_name": user["LastName"],
        "zoneinfo": user["TimeZoneSidKey"],
        "photos": photos,
        "profile": f"{info.base}/{user['Id']}",
        "picture": photos["picture"],
        "address": {},
        "is_salesforce_integration_user": False,
        "urls": info.urls(),
        "active": bool(user["IsActive"]),
        "user_type": (user["UserType"] or "Standard").upper(),
        "language": user["LanguageLocaleKey"],
        "locale": user["LocaleSidKey"],
        "utcOffset": info.utc_offset,
        "updated_at": info.modified,
        "is_app_installed": True,
    }


# -- routes ---------------------------------------------------------------------------------------


def oauth_routes(org: Org) -> list[BaseRoute]:
    """The OAuth and identity endpoints of `org`; creates the token tables if needed."""
    ensure_tables(org)
    with org.lock:
        key = bytes.fromhex(org.meta(_FORM_KEY_META) or "")
    pages = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True
    )
    endpoints = _Endpoints(org, pages, _Sealer(key))
    return [
        Route("/services/oauth2/authorize", endpoints.authorize, methods=["GET", "POST"]),
        Route("/services/oauth2/authorize/consent", endpoints.consent, methods=["POST"]),
        Route("/services/oauth2/token", endpoints.token, methods=["POST"]),
        Route("/services/oauth2/revoke", endpoints.revoke, methods=["GET", "POST"]),
        Route("/services/oauth2/userinfo", endpoints.userinfo, methods=["GET", "POST"]),
        Route("/id/{org_id}/{user_id}", endpoints.identity, methods=["GET", "POST"]),
    ]
