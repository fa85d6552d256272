"""A workspace's Salesforce connection: the OAuth web-server flow, tokens at rest, its states.

Connecting is two requests. `start_authorization` records a random `state` (its hash) and a
PKCE verifier against the browser session that asked, and returns the org's authorize URL.
The callback hands `state` and `code` to `claim_authorization`, which accepts a state only
once, only from the same session and only for ten minutes, then `complete_authorization`
trades the code for tokens and asks the identity URL who connected which org, and
`save_connection` stores it all with the tokens encrypted.

A connection is CONNECTED, NEEDS_RECONNECT (a refresh was refused, or the stored tokens
cannot be decrypted: nothing runs for the org until someone connects again) or DISCONNECTED
(a person disconnected it; the token was revoked). `open_client` hands out a client only for a
CONNECTED org. Functions taking a `Session` flush, never commit: the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
import httpx
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from hearth.crypto import SecretBox, UnreadableSecret
from hearth.errors import HearthError, InvalidInputError
from hearth.salesforce import SalesforceClient, Tokens, authorize_url, exchange_code, pkce_pair
from hearth.salesforce import revoke as revoke_token
from hearth.salesforce.errors import SalesforceError, TransportFailure, UnexpectedResponse
from hearth.settings import Settings
from hearth.storage.models import (
    ConnectionStatus,
    Plan,
    SalesforceAuthorization,
    SalesforceConnection,
    Workspace,
    utc_now,
)

__all__ = [
    "AUTHORIZATION_TTL",
    "CALLBACK_PATH",
    "AuthorizationFailed",
    "ConnectedApp",
    "ConnectedOrg",
    "NeedsReconnect",
    "NotConnected",
    "PlanNotEligible",
    "StoredTokens",
    "claim_authorization",
    "complete_authorization",
    "crm_available",
    "disconnect",
    "get_connection",
    "mark_needs_reconnect",
    "open_client",
    "save_connection",
    "start_authorization",
    "token_box",
]

CALLBACK_PATH = "/settings/salesforce/callback"
AUTHORIZATION_TTL = timedelta(minutes=10)
_TOKEN_PURPOSE = "hearth/salesforce-tokens"


class NotConnected(HearthError):
    """The workspace has no usable Salesforce connection."""


class NeedsReconnect(NotConnected):
    """The org refused the stored credentials for good; a person must connect again."""


class PlanNotEligible(HearthError):
    """The workspace's plan does not include CRM integrations."""


class AuthorizationFailed(HearthError):
    """An OAuth callback that cannot complete: unknown, reused, expired or foreign state."""


@dataclass(frozen=True, kw_only=True)
class ConnectedApp:
    """The Salesforce connected app Hearth connects through, and where it sends people back."""

    login_url: str
    client_id: str
    client_secret: str
    redirect_uri: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectedApp | None:
        """The app configured in `settings`, or None when Salesforce is not configured."""
        if not (
            settings.salesforce_login_url
            and settings.salesforce_client_id
            and settings.salesforce_client_secret
        ):
            return None
        return cls(
            login_url=settings.salesforce_login_url,
            client_id=settings.salesforce_client_id,
            client_secret=settings.salesforce_client_secret.get_secret_value(),
            redirect_uri=settings.base_url + CALLBACK_PATH,
        )


@dataclass(frozen=True, kw_only=True)
class ConnectedOrg:
    """What a completed authorization learned: tokens, and who connected which org."""

    tokens: Tokens
    org_id: str
    user_id: str
    username: str


def token_box(secret_key: str) -> SecretBox:
    """The box that encrypts stored Salesforce tokens."""
    return SecretBox(secret_key, purpose=_TOKEN_PURPOSE)


def crm_available(plan: Plan) -> bool:
    """True when `plan` includes CRM integrations (every paid plan; not Free)."""
    return plan is not Plan.FREE


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def start_authorization(
    session: Session,
    *,
    app: ConnectedApp,
    workspace: Workspace,
    session_token_hash: str,
    now: datetime,
) -> str:
    """Record a new authorization attempt; returns the URL to send the browser to."""
    if not crm_available(workspace.plan):
        raise PlanNotEligible(
            f"CRM integrations are not available on the {workspace.plan.value.title()} plan"
        )
    session.execute(
        delete(SalesforceAuthorization).where(
            SalesforceAuthorization.created_at < now - AUTHORIZATION_TTL
        )
    )
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    session.add(
        SalesforceAuthorization(
            state_hash=_digest(state),
            session_token_hash=session_token_hash,
            workspace_id=workspace.id,
            code_verifier=verifier,
            created_at=now,
        )
    )
    session.flush()
    return authorize_url(
        app.login_url,
        client_id=app.client_id,
        redirect_uri=app.redirect_uri,
        state=state,
        code_challenge=challenge,
    )


def claim_authorization(
    session: Session, *, state: str, session_token_hash: str, now: datetime
) -> tuple[int, str]:
    """Consume the attempt `state` names: (workspace id, PKCE verifier).

    A state is usable once, by the session that started it, within `AUTHORIZATION_TTL`;
    anything else raises `AuthorizationFailed` (and still consumes the state).
    """
    attempt = session.get(SalesforceAuthorization, _digest(state)) if state else None
    if attempt is None:
        raise AuthorizationFailed(
            "this Salesforce sign-in link is unknown or was already used; start again"
        )
    session.delete(attempt)
    session.flush()
    if not secrets.compare_digest(attempt.session_token_hash, session_token_hash):
        raise AuthorizationFailed("this Salesforce sign-in was started in another browser session")
    if attempt.created_at < now - AUTHORIZATION_TTL:
        raise AuthorizationFailed("this Salesforce sign-in took too long; start again")
    return attempt.workspace_id, attempt.code_verifier


async def complete_authorization(
    http: httpx.AsyncClient, app: ConnectedApp, *, code: str, code_verifier: str
) -> ConnectedOrg:
    """Trade the callback's `code` for tokens and learn the org and user from the identity URL.

    Two calls, neither counted against the org's daily API limit.
    """
    tokens = await exchange_code(
        http,
        app.login_url,
        client_id=app.client_id,
        client_secret=app.client_secret,
        code=code,
        code_verifier=code_verifier,
        redirect_uri=app.redirect_uri,
    )
    try:
        response = await http.get(
            tokens.id_url,
            headers={
                "Authorization": f"Bearer {tokens.access_token}",
                "Accept": "application/json",
            },
        )
    except httpx.TransportError as exc:
        raise TransportFailure(f"GET {tokens.id_url}: {exc!r}") from exc
    try:
        identity = response.json()
        return ConnectedOrg(
            tokens=tokens,
            org_id=str(identity["organization_id"]),
            user_id=str(identity["user_id"]),
            username=str(identity["username"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise UnexpectedResponse(
            f"identity URL answered HTTP {response.status_code} without an identity"
        ) from exc


def _serialize(tokens: Tokens) -> str:
    return json.dumps(
        {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "instance_url": tokens.instance_url,
            "id_url": tokens.id_url,
            "issued_at": tokens.issued_at.isoformat(),
        }
    )


def _deserialize(text: str) -> Tokens:
    data: dict[str, Any] = json.loads(text)
    return Tokens(
        access_token=data["access_token"],
        refresh_token=data["refresh_token"],
        instance_url=data["instance_url"],
        id_url=data["id_url"],
        issued_at=datetime.fromisoformat(data["issued_at"]),
    )


def get_connection(session: Session, workspace_id: int) -> SalesforceConnection | None:
    """The workspace's connection row in any state, or None if it never connected."""
    return session.scalars(
        select(SalesforceConnection).where(SalesforceConnection.workspace_id == workspace_id)
    ).one_or_none()


def save_connection(
    session: Session,
    *,
    workspace_id: int,
    org: ConnectedOrg,
    app: ConnectedApp,
    box: SecretBox,
    connected_by: int,
    now: datetime,
) -> SalesforceConnection:
    """Store a completed authorization as the workspace's CONNECTED connection.

    Reconnecting replaces the previous connection's tokens and who/when; connecting a different
    org than before is refused, because the mirror and every link Hearth wrote belong to the
    first org: disconnect, and an operator resets the workspace's CRM data, to switch orgs.
    """
    connection = get_connection(session, workspace_id)
    if connection is None:
        connection = SalesforceConnection(workspace_id=workspace_id)
        session.add(connection)
    elif connection.org_id != org.org_id:
        raise InvalidInputError(
            f"this workspace is linked to Salesforce org {connection.org_id}; signing in to org "
            f"{org.org_id} would mix two orgs' records. Sign in to {connection.org_id}, or ask "
            "an operator to reset the workspace's CRM data first"
        )
    connection.status = ConnectionStatus.CONNECTED
    connection.status_detail = None
    connection.status_changed_at = now
    connection.login_url = app.login_url
    connection.instance_url = org.tokens.instance_url
    connection.org_id = org.org_id
    connection.salesforce_user_id = org.user_id
    connection.salesforce_username = org.username
    connection.connected_by_user_id = connected_by
    connection.connected_at = now
    connection.tokens = box.encrypt(_serialize(org.tokens))
    connection.preflight = None
    connection.provisioning = None
    session.flush()
    return connection


def mark_needs_reconnect(
    session: Session, workspace_id: int, reason: str, *, now: datetime
) -> None:
    """Stop work for the workspace's org until someone connects again, saying why."""
    connection = get_connection(session, workspace_id)
    if connection is None or connection.status is not ConnectionStatus.CONNECTED:
        return
    connection.status = ConnectionStatus.NEEDS_RECONNECT
    connection.status_detail = reason
    connection.status_changed_at = now
    session.flush()


async def disconnect(
    engine: Engine, workspace_id: int, *, box: SecretBox, http: httpx.AsyncClient
) -> str | None:
    """Revoke the org's token and forget it. Returns a warning when revoking failed.

    The local disconnect happens either way: a person who disconnects expects Hearth to stop
    using the org even when the org cannot be reached to revoke.
    """

    def forget() -> tuple[str, str] | None:
        with Session(engine) as session, session.begin():
            connection = get_connection(session, workspace_id)
            if connection is None or connection.status is ConnectionStatus.DISCONNECTED:
                return None
            stored = connection.tokens
            connection.status = ConnectionStatus.DISCONNECTED
            connection.status_detail = None
            connection.status_changed_at = utc_now()
            connection.tokens = None
            if stored is None:
                return None
            try:
                tokens = _deserialize(box.decrypt(stored))
            except UnreadableSecret:
                return None
            # Revoking the refresh token revokes its access tokens too.
            return connection.login_url, tokens.refresh_token or tokens.access_token

    revocation = await anyio.to_thread.run_sync(forget)
    if revocation is None:
        return None
    login_url, token = revocation
    try:
        await revoke_token(http, login_url, token)
    except SalesforceError as exc:
        return (
            f"Salesforce did not confirm revoking the token ({exc}); revoke it in Salesforce "
            "under Setup → Connected Apps OAuth Usage"
        )
    return None


class StoredTokens:
    """The `TokenStore` of one workspace's connection: tokens encrypted in the database.

    Shared by every worker of the workspace, so a refresh (and a rotated refresh token) one
    worker makes is the one the others load.
    """

    def __init__(self, engine: Engine, workspace_id: int, box: SecretBox) -> None:
        self._engine = engine
        self._workspace_id = workspace_id
        self._box = box

    def _load(self) -> Tokens | None:
        with Session(self._engine) as session:
            connection = get_connection(session, self._workspace_id)
            if connection is None or connection.tokens is None:
                return None
            return _deserialize(self._box.decrypt(connection.tokens))

    def _save(self, tokens: Tokens) -> None:
        with Session(self._engine) as session, session.begin():
            connection = get_connection(session, self._workspace_id)
            if connection is not None and connection.status is ConnectionStatus.CONNECTED:
                connection.tokens = self._box.encrypt(_serialize(tokens))

    async def load(self) -> Tokens | None:
        return await anyio.to_thread.run_sync(self._load)

    async def save(self, tokens: Tokens) -> None:
        await anyio.to_thread.run_sync(self._save, tokens)


def open_client(
    engine: Engine,
    workspace_id: int,
    *,
    app: ConnectedApp,
    box: SecretBox,
    **options: Any,
) -> SalesforceClient:
    """A client for the workspace's org; raises `NotConnected` / `NeedsReconnect`.

    Stored tokens that no longer decrypt (the secret key changed) put the connection in
    NEEDS_RECONNECT rather than failing on every later attempt. `options` go to
    `SalesforceClient` (a transport for tests, a retry policy).
    """
    unreadable = "the stored Salesforce tokens cannot be read (was HEARTH_SECRET_KEY changed?)"
    with Session(engine) as session, session.begin():
        connection = get_connection(session, workspace_id)
        if connection is None or connection.status is ConnectionStatus.DISCONNECTED:
            raise NotConnected("Salesforce is not connected")
        if connection.status is ConnectionStatus.NEEDS_RECONNECT:
            raise NeedsReconnect(connection.status_detail or "Salesforce needs to be reconnected")
        try:
            tokens: Tokens | None = _deserialize(box.decrypt(connection.tokens or ""))
        except UnreadableSecret:
            tokens = None
            # Committed when the block ends, so the next attempt fails fast with the reason.
            mark_needs_reconnect(session, workspace_id, unreadable, now=utc_now())
        login_url = connection.login_url
    if tokens is None:
        raise NeedsReconnect(unreadable)
    return SalesforceClient(
        tokens,
        token_store=StoredTokens(engine, workspace_id, box),
        client_id=app.client_id,
        client_secret=app.client_secret,
        login_url=login_url,
        **options,
    )
