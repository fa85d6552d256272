"""OAuth 2.0 against a Salesforce org: the web-server flow with PKCE, refresh, revoke.

Salesforce's token answer has no `expires_in`: a client learns that a token expired from a
401 INVALID_SESSION_ID, refreshes once and replays once. `TokenKeeper` does that single-flight:
however many requests fail together, one refresh runs and the others reuse its result. Rotated
refresh tokens go to the caller's `TokenStore` at once, since the old one is then dead.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from .errors import (
    OAuthError,
    ReauthorizationRequired,
    TransportFailure,
    UnexpectedResponse,
    oauth_error,
)

__all__ = [
    "TokenKeeper",
    "TokenStore",
    "Tokens",
    "authorize_url",
    "exchange_code",
    "pkce_pair",
    "refresh_tokens",
    "revoke",
]

TOKEN_PATH = "/services/oauth2/token"
AUTHORIZE_PATH = "/services/oauth2/authorize"
REVOKE_PATH = "/services/oauth2/revoke"


@dataclass(frozen=True, kw_only=True)
class Tokens:
    """One connection's credentials; `refresh_token` is None for flows that issue none."""

    access_token: str
    refresh_token: str | None
    instance_url: str
    id_url: str
    issued_at: datetime

    def __repr__(self) -> str:
        # Tokens end up in logs through reprs of whatever holds them: never show the secrets.
        return f"Tokens(instance_url={self.instance_url!r}, issued_at={self.issued_at!r})"


class TokenStore(Protocol):
    """Where the caller keeps a connection's tokens (encrypted at rest, shared by workers)."""

    async def load(self) -> Tokens | None: ...

    async def save(self, tokens: Tokens) -> None: ...


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, code_challenge) pair: S256, the only method Salesforce knows."""
    verifier = secrets.token_urlsafe(64)  # 86 characters, inside RFC 7636's 43-128
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def authorize_url(
    login_url: str,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    scope: str = "api refresh_token",
) -> str:
    """Where to send the user's browser to start the web-server flow."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": code_challenge,
            "scope": scope,
        }
    )
    return f"{login_url.rstrip('/')}{AUTHORIZE_PATH}?{query}"


def _tokens(body: Any, *, previous_refresh_token: str | None) -> Tokens:
    try:
        return Tokens(
            access_token=str(body["access_token"]),
            # A refresh answer carries a refresh token only when the app rotates them.
            refresh_token=str(body.get("refresh_token") or previous_refresh_token or "") or None,
            instance_url=str(body["instance_url"]).rstrip("/"),
            id_url=str(body["id"]),
            issued_at=datetime.fromtimestamp(int(body["issued_at"]) / 1000, UTC),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UnexpectedResponse(f"not a token response: {exc}") from exc


async def _post_form(http: httpx.AsyncClient, url: str, form: dict[str, str]) -> httpx.Response:
    try:
        return await http.post(url, data=form, headers={"Accept": "application/json"})
    except httpx.TransportError as exc:
        raise TransportFailure(f"POST {url}: {exc!r}") from exc


async def _token_request(
    http: httpx.AsyncClient,
    login_url: str,
    form: dict[str, str],
    *,
    previous_refresh_token: str | None = None,
) -> Tokens:
    response = await _post_form(http, login_url.rstrip("/") + TOKEN_PATH, form)
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200:
        if isinstance(body, dict) and "error" in body:
            raise oauth_error(body, status_code=response.status_code)
        raise OAuthError(f"HTTP {response.status_code}", status_code=response.status_code)
    return _tokens(body, previous_refresh_token=previous_refresh_token)


async def exchange_code(
    http: httpx.AsyncClient,
    login_url: str,
    *,
    client_id: str,
    client_secret: str,
    code: str,
    code_verifier: str,
    redirect_uri: str,
) -> Tokens:
    """Trade the callback's code for tokens; `redirect_uri` must be the authorize request's."""
    return await _token_request(
        http,
        login_url,
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        },
    )


async def refresh_tokens(
    http: httpx.AsyncClient,
    login_url: str,
    *,
    client_id: str,
    client_secret: str,
    refresh_token: str,
) -> Tokens:
    """New tokens from a refresh token; keeps `refresh_token` unless the org rotated it."""
    return await _token_request(
        http,
        login_url,
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        },
        previous_refresh_token=refresh_token,
    )


async def revoke(http: httpx.AsyncClient, login_url: str, token: str) -> None:
    """Revoke a token; a refresh token takes its access tokens with it."""
    response = await _post_form(http, login_url.rstrip("/") + REVOKE_PATH, {"token": token})
    if response.status_code != 200:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and "error" in body:
            raise oauth_error(body, status_code=response.status_code)
        raise OAuthError(f"HTTP {response.status_code}", status_code=response.status_code)


class TokenKeeper:
    """A connection's current tokens, refreshed at most once per expired access token."""

    def __init__(
        self,
        tokens: Tokens,
        *,
        store: TokenStore,
        http: httpx.AsyncClient,
        login_url: str,
        client_id: str,
        client_secret: str,
    ) -> None:
        self._tokens = tokens
        self._store = store
        self._http = http
        self._login_url = login_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._lock = asyncio.Lock()
        # Set once a refresh is refused for good: later calls fail without asking again.
        self._terminal: str | None = None

    @property
    def tokens(self) -> Tokens:
        return self._tokens

    async def refreshed_after(self, expired_access_token: str) -> Tokens:
        """Tokens newer than `expired_access_token`, refreshing only if no one else has.

        Raises `ReauthorizationRequired` (then on every later call, without asking again).
        """
        async with self._lock:
            if self._terminal is not None:
                raise ReauthorizationRequired(self._terminal, error_code="invalid_grant")
            if self._tokens.access_token != expired_access_token:
                return self._tokens  # a concurrent caller refreshed while we waited
            # Another worker sharing the store may have refreshed (and, with rotation, killed
            # our refresh token): adopt its tokens rather than spend a dead refresh token.
            stored = await self._store.load()
            if stored is not None and stored.access_token != expired_access_token:
                self._tokens = stored
                return stored
            if self._tokens.refresh_token is None:
                self._terminal = "no refresh token was issued"
                raise ReauthorizationRequired(self._terminal)
            try:
                fresh = await refresh_tokens(
                    self._http,
                    self._login_url,
                    client_id=self._client_id,
                    client_secret=self._client_secret,
                    refresh_token=self._tokens.refresh_token,
                )
            except ReauthorizationRequired as exc:
                self._terminal = exc.message
                raise
            await self._store.save(fresh)
            self._tokens = fresh
            return fresh
