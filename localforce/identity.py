"""Users' passwords and connected apps: the org-side records OAuth authenticates against."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from .org import Org

__all__ = [
    "ConnectedApp",
    "check_password",
    "create_connected_app",
    "ensure_tables",
    "get_connected_app",
    "list_connected_apps",
    "set_password",
]


@dataclass(frozen=True, kw_only=True)
class ConnectedApp:
    name: str
    client_id: str
    client_secret: str
    callback_urls: tuple[str, ...]
    scopes: tuple[str, ...]
    require_secret_for_web_server_flow: bool = True
    refresh_token_rotation: bool = False


def ensure_tables(org: Org) -> None:
    with org.transaction():
        org.conn.execute(
            "CREATE TABLE IF NOT EXISTS _lf_credentials ("
            " user_id TEXT PRIMARY KEY, salt BLOB NOT NULL, hash BLOB NOT NULL)"
        )
        org.conn.execute(
            "CREATE TABLE IF NOT EXISTS _lf_connected_apps ("
            " client_id TEXT PRIMARY KEY, name TEXT NOT NULL, definition TEXT NOT NULL)"
        )


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)


def set_password(org: Org, user_id: str, password: str) -> None:
    salt = secrets.token_bytes(16)
    with org.transaction():
        org.conn.execute(
            "INSERT INTO _lf_credentials VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE "
            "SET salt = excluded.salt, hash = excluded.hash",
            (user_id, salt, _hash(password, salt)),
        )


def check_password(org: Org, user_id: str, password: str) -> bool:
    with org.lock:
        row = org.conn.execute(
            "SELECT salt, hash FROM _lf_credentials WHERE user_id = ?", (user_id,)
        ).fetchone()
    return row is not None and hmac.compare_digest(_hash(password, row[0]), row[1])


def create_connected_app(
    org: Org,
    name: str,
    callback_urls: tuple[str, ...],
    *,
    scopes: tuple[str, ...] = ("api", "refresh_token", "id", "openid", "web", "full"),
    refresh_token_rotation: bool = False,
) -> ConnectedApp:
    app = ConnectedApp(
        name=name,
        # Consumer keys are long opaque strings starting "3MVG9" in real orgs.
        client_id="3MVG9" + secrets.token_urlsafe(60).replace("-", "A").replace("_", "z")[:80],
        client_secret=secrets.token_hex(32).upper(),
        callback_urls=callback_urls,
        scopes=scopes,
        refresh_token_rotation=refresh_token_rotation,
    )
    definition = {
        "client_secret": app.client_secret,
        "callback_urls": list(callback_urls),
        "scopes": list(scopes),
        "require_secret_for_web_server_flow": app.require_secret_for_web_server_flow,
        "refresh_token_rotation": refresh_token_rotation,
    }
    with org.transaction():
        org.conn.execute(
            "INSERT INTO _lf_connected_apps VALUES (?, ?, ?)",
            (app.client_id, name, json.dumps(definition)),
        )
    return app


def _app_from_row(client_id: str, name: str, definition: str) -> ConnectedApp:
    data = json.loads(definition)
    return ConnectedApp(
        name=name,
        client_id=client_id,
        client_secret=data["client_secret"],
        callback_urls=tuple(data["callback_urls"]),
        scopes=tuple(data["scopes"]),
        require_secret_for_web_server_flow=data["require_secret_for_web_server_flow"],
        refresh_token_rotation=data["refresh_token_rotation"],
    )


def get_connected_app(org: Org, client_id: str) -> ConnectedApp | None:
    with org.lock:
        row = org.conn.execute(
            "SELECT client_id, name, definition FROM _lf_connected_apps WHERE client_id = ?",
            (client_id,),
        ).fetchone()
    return None if row is None else _app_from_row(*row)


def list_connected_apps(org: Org) -> list[ConnectedApp]:
    with org.lock:
        rows = org.conn.execute(
            "SELECT client_id, name, definition FROM _lf_connected_apps ORDER BY rowid"
        ).fetchall()
    return [_app_from_row(*row) for row in rows]
