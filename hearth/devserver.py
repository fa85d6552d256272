"""`make run`: Hearth and a seeded localforce org side by side, on SQLite, in one process.

Everything lives under `./var/` (override with HEARTH_DEV_DIR): Hearth's database, the org, its
certificate, and the demo workspace's sign-in. A second run reuses them. Ctrl-C stops both servers.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
from pathlib import Path

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from hearth.app import create_app
from hearth.connections import CALLBACK_PATH
from hearth.errors import AlreadyExistsError
from hearth.settings import Settings
from hearth.storage import create_engine_for, migrate
from hearth.storage.models import Plan, Role, SiteKey, Workspace
from hearth.workspaces import create_site_key, create_user, create_workspace
from localforce import Org, bootstrap
from localforce import create_app as create_org_app
from localforce.admin_api import admin_token
from localforce.bootstrap import admin_credentials, write_connection_file
from localforce.identity import ConnectedApp, create_connected_app, list_connected_apps
from localforce.seed import seed
from localforce.server import Listener, serve
from localforce.tls import ensure_certificate

__all__ = ["main"]

console = Console()
DEMO_EMAIL = "admin@demo.hearth.test"


def _org(data: Path, host: str, port: int, tls_port: int) -> tuple[Org, dict[str, str]]:
    org = Org.open(data)
    created = bootstrap(org)
    if created is not None:
        with console.status("Seeding the localforce org…"):
            seed(org, accounts=300, contacts=600, leads=600, opportunities=150, seed=1)
    creds = created or admin_credentials(org)
    write_connection_file(data, f"http://{host}:{port}", creds, admin_token=admin_token(org))
    cert, _ = ensure_certificate(data)
    return org, {
        "http": f"http://{host}:{port}",
        "https": f"https://{host}:{tls_port}",
        "certificate": str(cert),
        "username": creds.username,
        "password": creds.password,
        "client_id": creds.app.client_id,
        "client_secret": creds.app.client_secret,
    }


def _demo_admin(settings: Settings, root: Path) -> tuple[str, str]:
    """The demo workspace's admin, created on the first run; its password is kept in var/."""
    path = root / "demo-admin.json"
    if path.exists():
        saved = json.loads(path.read_text())
        return str(saved["email"]), str(saved["password"])
    password = secrets.token_urlsafe(12)
    engine = create_engine_for(settings.database_url)
    try:
        with Session(engine) as session:
            workspace = create_workspace(session, "Demo", Plan.BUSINESS)
            create_user(session, workspace, DEMO_EMAIL, password, Role.ADMIN)
            session.commit()
    except AlreadyExistsError:
        password = "(set on an earlier run)"
    finally:
        engine.dispose()
    path.write_text(json.dumps({"email": DEMO_EMAIL, "password": password}) + "\n")
    path.chmod(0o600)
    return DEMO_EMAIL, password


def _app_for_callback(org: Org, callback: str) -> ConnectedApp:
    """The org's connected app that accepts Hearth's callback URL, made when Hearth runs on a
    port the bootstrap app does not list (HEARTH_PORT or HEARTH_BASE_URL set)."""
    for app in list_connected_apps(org):
        if callback in app.callback_urls:
            return app
    return create_connected_app(org, f"Hearth ({callback})", (callback,))


def _demo_site_key(settings: Settings) -> str | None:
    """The demo workspace's site key for the demo website, made on the first run."""
    engine = create_engine_for(settings.database_url)
    try:
        with Session(engine) as session, session.begin():
            workspace = session.scalars(select(Workspace).where(Workspace.slug == "demo")).first()
            if workspace is None:
                return None
            key = session.scalars(
                select(SiteKey.public_key)
                .where(SiteKey.workspace_id == workspace.id, SiteKey.revoked_at.is_(None))
                .order_by(SiteKey.id)
            ).first()
            return key if key is not None else create_site_key(session, workspace).public_key
    finally:
        engine.dispose()


def _secret_key(root: Path) -> str:
    """The demo instance's secret key, made once, so stored tokens survive restarts."""
    path = root / "secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def _ports_taken(host: str, ports: list[int]) -> list[int]:
    taken = []
    for port in ports:
        with socket.socket() as sock:
            # As uvicorn binds: connections of a stopped run lingering in TIME_WAIT don't count.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                taken.append(port)
    return taken


def main() -> None:
    root = Path(os.environ.get("HEARTH_DEV_DIR", "var")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    host = "127.0.0.1"
    org_port = int(os.environ.get("LOCALFORCE_PORT", "8440"))
    org_tls_port = int(os.environ.get("LOCALFORCE_TLS_PORT", "8443"))
    hearth_port = int(os.environ.get("HEARTH_PORT", "8000"))
    taken = _ports_taken(host, [hearth_port, org_port, org_tls_port])
    if taken:
        console.print(
            f"[bold red]Error:[/] port {', '.join(map(str, taken))} is in use (another "
            "`make run`?). Stop it, or choose others with HEARTH_PORT, LOCALFORCE_PORT and "
            "LOCALFORCE_TLS_PORT."
        )
        raise SystemExit(1)
    org, org_info = _org(root / "localforce", host, org_port, org_tls_port)
    creds = json.loads((root / "localforce" / "connection.json").read_text())
    environ = {
        "HEARTH_DATABASE_URL": f"sqlite:///{root / 'hearth.db'}",
        "HEARTH_DEMO_MODE": "true",
        "HEARTH_SECRET_KEY": _secret_key(root),
        "HEARTH_SALESFORCE_LOGIN_URL": org_info["http"],
        "HEARTH_SALESFORCE_CLIENT_ID": creds["client_id"],
        "HEARTH_SALESFORCE_CLIENT_SECRET": creds["client_secret"],
        **{k: v for k, v in os.environ.items() if k.startswith("HEARTH_")},
    }
    settings = Settings.from_environ(environ)
    app = _app_for_callback(org, settings.base_url + CALLBACK_PATH)
    if app.client_id != creds["client_id"] and "HEARTH_SALESFORCE_CLIENT_ID" not in os.environ:
        environ["HEARTH_SALESFORCE_CLIENT_ID"] = app.client_id
        environ["HEARTH_SALESFORCE_CLIENT_SECRET"] = app.client_secret
        settings = Settings.from_environ(environ)
    migrate(settings.database_url)
    email, password = _demo_admin(settings, root)
    site_key = _demo_site_key(settings)

    console.print("\n[bold]Hearth is starting[/bold] (Ctrl-C stops everything)\n")
    console.print(f"  Hearth        {settings.base_url}")
    console.print(f"                demo sign-in: {email} / {password}")
    console.print(f"  Demo website  {settings.base_url}/demo/  (browse it, then see /visitors)")
    console.print(f"  localforce    {org_info['http']}  and  {org_info['https']}")
    console.print(f"                certificate:  {org_info['certificate']}")
    console.print(f"                org sign-in:  {org_info['username']} / {org_info['password']}")
    console.print(f"                connected app: {root / 'localforce' / 'connection.json'}\n")
    sys.stdout.flush()
    org_app = create_org_app(org)
    cert, key = ensure_certificate(root / "localforce")
    serve(
        [
            Listener(
                app=create_app(settings, demo_site_key=lambda: site_key),
                host=settings.host,
                port=settings.port,
            ),
            Listener(app=org_app, host=host, port=org_port),
            Listener(app=org_app, host=host, port=org_tls_port, certfile=cert, keyfile=key),
        ],
        log_level="warning",
    )
    org.close()
    console.print("Stopped.")


if __name__ == "__main__":
    main()
