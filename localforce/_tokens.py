"""OAuth authorization codes, grants and access tokens, stored as SHA-256 hashes.

    _lf_oauth_codes          one row per authorization code: single use, short-lived
    _lf_oauth_grants         one row per refresh token: an app's standing access for a user
    _lf_oauth_access_tokens  one row per access token, pointing at its grant when it has one

Only hashes are stored, so a copied database file hands out no live session. A grant outlives
refresh-token rotation: rotating replaces the grant's refresh-token hash, so the access tokens
minted before the rotation keep working, and revoking the grant revokes every one of them.

This module stores and finds; it decides nothing. Times are epoch milliseconds passed in by the
caller, who reads them from the org's clock.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from .org import Org

__all__ = [
    "AccessTokenRow",
    "CodeRow",
    "GrantRow",
    "consume_code",
    "create_grant",
    "digest",
    "ensure_tables",
    "find_access_token",
    "find_code",
    "find_grant",
    "new_access_token",
    "new_code",
    "new_refresh_token",
    "revoke_access_token",
    "revoke_grant",
    "revoke_user",
    "rotate_grant",
    "store_access_token",
    "store_code",
]


@dataclass(frozen=True, kw_only=True)
class CodeRow:
    client_id: str
    user_id: str
    redirect_uri: str
    code_challenge: str | None
    scopes: tuple[str, ...]
    issued_at: int
    used: bool


@dataclass(frozen=True, kw_only=True)
class GrantRow:
    grant_id: int
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    revoked: bool


@dataclass(frozen=True, kw_only=True)
class AccessTokenRow:
    token_hash: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    issued_at: int
    revoked: bool
    user_active: bool


def ensure_tables(org: Org) -> None:
    with org.transaction():
        org.conn.execute(
            "CREATE TABLE IF NOT EXISTS _lf_oauth_codes ("
            " hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL,"
            " redirect_uri TEXT NOT NULL, code_challenge TEXT, scope TEXT NOT NULL,"
            " issued_at INTEGER NOT NULL, used_at INTEGER)"
        )
        org.conn.execute(
            "CREATE TABLE IF NOT EXISTS _lf_oauth_grants ("
            " id INTEGER PRIMARY KEY, refresh_hash TEXT NOT NULL UNIQUE,"
            " client_id TEXT NOT NULL, user_id TEXT NOT NULL, scope TEXT NOT NULL,"
            " created_at INTEGER NOT NULL, revoked_at INTEGER)"
        )
        org.conn.execute(
            "CREATE TABLE IF NOT EXISTS _lf_oauth_access_tokens ("
            " hash TEXT PRIMARY KEY, grant_id INTEGER REFERENCES _lf_oauth_grants (id),"
            " client_id TEXT NOT NULL, user_id TEXT NOT NULL, scope TEXT NOT NULL,"
            " issued_at INTEGER NOT NULL, revoked_at INTEGER)"
        )
        for table, column in (
            ("_lf_oauth_codes", "issued_at"),
            ("_lf_oauth_grants", "user_id"),
            ("_lf_oauth_access_tokens", "issued_at"),
            ("_lf_oauth_access_tokens", "grant_id"),
            ("_lf_oauth_access_tokens", "user_id"),
        ):
            org.conn.execute(f"CREATE INDEX IF NOT EXISTS ix{table}_{column} ON {table} ({column})")


# -- token text --------------------------------------------------------------------------------


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _opaque(n_bytes: int) -> str:
    # Salesforce's opaque tokens use letters, digits, "." and "_"; token_urlsafe's "-" becomes ".".
    return secrets.token_urlsafe(n_bytes).replace("-", ".")


def new_access_token(org_id: str) -> str:
    """`00D...!AQ...`: the org's 15-character ID, "!", then opaque text (112 characters)."""
    return f"{org_id[:15]}!AQ{_opaque(82)}"


def new_refresh_token() -> str:
    return "5Aep861" + _opaque(60)


def new_code() -> str:
    # Real codes end in "==", so the callback carries them URL-encoded ("%3D%3D"); a client that
    # forgets to decode the query string fails here as it would against a real org.
    return "aPrx" + _opaque(54) + "=="


def _scope_text(scopes: tuple[str, ...]) -> str:
    return " ".join(scopes)


def _scopes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# -- authorization codes -----------------------------------------------------------------------


def store_code(
    org: Org,
    code: str,
    *,
    client_id: str,
    user_id: str,
    redirect_uri: str,
    code_challenge: str | None,
    scopes: tuple[str, ...],
    issued_at: int,
    expired_before: int,
) -> None:
    with org.transaction():
        # Codes die young; clearing dead ones here keeps the table at a few rows.
        org.conn.execute("DELETE FROM _lf_oauth_codes WHERE issued_at < ?", (expired_before,))
        org.conn.execute(
            "INSERT INTO _lf_oauth_codes VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            (
                digest(code),
                client_id,
                user_id,
                redirect_uri,
                code_challenge,
                _scope_text(scopes),
                issued_at,
            ),
        )


def find_code(org: Org, code: str) -> CodeRow | None:
    with org.lock:
        row = org.conn.execute(
            "SELECT client_id, user_id, redirect_uri, code_challenge, scope, issued_at, used_at"
            " FROM _lf_oauth_codes WHERE hash = ?",
            (digest(code),),
        ).fetchone()
    if row is None:
        return None
    return CodeRow(
        client_id=row[0],
        user_id=row[1],
        redirect_uri=row[2],
        code_challenge=row[3],
        scopes=_scopes(row[4]),
        issued_at=row[5],
        used=row[6] is not None,
    )


def consume_code(org: Org, code: str, *, now: int) -> bool:
    """Mark a code used; False when another request used it first."""
    with org.transaction():
        cursor = org.conn.execute(
            "UPDATE _lf_oauth_codes SET used_at = ? WHERE hash = ? AND used_at IS NULL",
            (now, digest(code)),
        )
    return cursor.rowcount == 1


# -- grants (refresh tokens) -------------------------------------------------------------------


def create_grant(
    org: Org,
    refresh_token: str,
    *,
    client_id: str,
    user_id: str,
    scopes: tuple[str, ...],
    now: int,
) -> int:
    with org.transaction():
        cursor = org.conn.execute(
            "INSERT INTO _lf_oauth_grants (refresh_hash, client_id, user_id, scope, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (digest(refresh_token), client_id, user_id, _scope_text(scopes), now),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def find_grant(org: Org, refresh_token: str) -> GrantRow | None:
    with org.lock:
        row = org.conn.execute(
            "SELECT id, client_id, user_id, scope, revoked_at FROM _lf_oauth_grants"
            " WHERE refresh_hash = ?",
            (digest(refresh_token),),
        ).fetchone()
    if row is None:
        return None
    return GrantRow(
        grant_id=row[0],
        client_id=row[1],
        user_id=row[2],
        scopes=_scopes(row[3]),
        revoked=row[4] is not None,
    )


def rotate_grant(org: Org, grant_id: int, old_refresh_token: str, new_refresh_token: str) -> bool:
    """Swap a grant's refresh token; False when a concurrent refresh rotated it first."""
    with org.transaction():
        cursor = org.conn.execute(
            "UPDATE _lf_oauth_grants SET refresh_hash = ?"
            " WHERE id = ? AND refresh_hash = ? AND revoked_at IS NULL",
            (digest(new_refresh_token), grant_id, digest(old_refresh_token)),
        )
    return cursor.rowcount == 1


def revoke_grant(org: Org, grant_id: int, *, now: int) -> None:
    with org.transaction():
        org.conn.execute(
            "UPDATE _lf_oauth_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (now, grant_id),
        )
        org.conn.execute(
            "UPDATE _lf_oauth_access_tokens SET revoked_at = ?"
            " WHERE grant_id = ? AND revoked_at IS NULL",
            (now, grant_id),
        )


# -- access tokens -----------------------------------------------------------------------------


def store_access_token(
    org: Org,
    token: str,
    *,
    client_id: str,
    user_id: str,
    scopes: tuple[str, ...],
    grant_id: int | None,
    issued_at: int,
    expired_before: int,
) -> None:
    with org.transaction():
        # An expired token can never be valid again (the clock only moves forward), so its row
        # is dead weight; dropping it here bounds the table by the tokens live at once.
        org.conn.execute(
            "DELETE FROM _lf_oauth_access_tokens WHERE issued_at < ?", (expired_before,)
        )
        org.conn.execute(
            "INSERT INTO _lf_oauth_access_tokens VALUES (?, ?, ?, ?, ?, ?, NULL)",
            (digest(token), grant_id, client_id, user_id, _scope_text(scopes), issued_at),
        )


def find_access_token(org: Org, token: str) -> AccessTokenRow | None:
    with org.lock:
        row = org.conn.execute(
            "SELECT t.hash, t.client_id, t.user_id, t.scope, t.issued_at, t.revoked_at,"
            ' u."IsActive" FROM _lf_oauth_access_tokens t'
            ' LEFT JOIN "User" u ON u."Id" = t.user_id WHERE t.hash = ?',
            (digest(token),),
        ).fetchone()
    if row is None:
        return None
    return AccessTokenRow(
        token_hash=row[0],
        client_id=row[1],
        user_id=row[2],
        scopes=_scopes(row[3]),
        issued_at=row[4],
        revoked=row[5] is not None,
        user_active=bool(row[6]),
    )


def revoke_access_token(org: Org, token: str, *, now: int) -> None:
    with org.transaction():
        org.conn.execute(
            "UPDATE _lf_oauth_access_tokens SET revoked_at = ?"
            " WHERE hash = ? AND revoked_at IS NULL",
            (now, digest(token)),
        )


def revoke_user(org: Org, user_id: str, *, now: int) -> int:
    """Revoke every live grant and access token of a user; returns how many were revoked."""
    with org.transaction():
        grants = org.conn.execute(
            "UPDATE _lf_oauth_grants SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            (now, user_id),
        ).rowcount
        tokens = org.conn.execute(
            "UPDATE _lf_oauth_access_tokens SET revoked_at = ?"
            " WHERE user_id = ? AND revoked_at IS NULL",
            (now, user_id),
        ).rowcount
    return grants + tokens
