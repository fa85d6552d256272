"""Fixtures for Hearth's pages: the app on a migrated database, a signed-in browser, and a
localforce org reached in-process through the same transport Hearth's client uses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from hearth import Settings, create_app
from hearth.connections import ConnectedApp, token_box
from hearth.storage.models import Plan, Role
from hearth.worker import WorkspaceRound, run_workspace
from hearth.workspaces import create_user, create_workspace
from localforce import Org, bootstrap
from localforce import create_app as create_org_app
from localforce.admin_api import admin_token
from localforce.bootstrap import Credentials
from localforce.seed import seed

ORG_URL = "http://testserver"
HEARTH_URL = "http://127.0.0.1:8000"
PASSWORD = "correct horse battery"
SECRET_KEY = "test-secret-key-0123456789"


@dataclass
class Site:
    """Hearth and a localforce org, with a browser for each (sharing nothing but URLs)."""

    hearth: TestClient
    org: Org
    creds: Credentials
    org_browser: TestClient
    engine: Engine

    def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        page = self.hearth.get("/signin")
        return self.hearth.post(
            "/signin",
            data={
                "email": email,
                "password": password,
                "csrf_token": form_value(page, "csrf_token"),
            },
            follow_redirects=False,
        )

    def csrf(self) -> str:
        return str(self.hearth.get("/api/v1/session").json()["csrf_token"])

    def approve_in_salesforce(self, authorize_url: str, *, decision: str = "allow") -> str:
        """Play the admin's part on the org's login and consent pages; returns the callback."""
        page = self.org_browser.get(authorize_url)
        consent = self.org_browser.post(
            "/services/oauth2/authorize",
            data={
                "request_token": form_value(page, "request_token"),
                "username": self.creds.username,
                "password": self.creds.password,
            },
        )
        answer = self.org_browser.post(
            "/services/oauth2/authorize/consent",
            data={"request_token": form_value(consent, "request_token"), "decision": decision},
            follow_redirects=False,
        )
        assert answer.status_code == 302, answer.text
        location = answer.headers["location"]
        assert location.startswith(HEARTH_URL + "/settings/salesforce/callback"), location
        return location.removeprefix(HEARTH_URL)

    def get_started(self) -> str:
        """Settings → Get started: the org's authorize URL Hearth sends the browser to."""
        page = self.hearth.get("/settings/salesforce")
        start = self.hearth.post(
            "/settings/salesforce/connect",
            data={"csrf_token": form_value(page, "csrf_token")},
            follow_redirects=False,
        )
        assert start.status_code == 303, start.text
        return str(start.headers["location"])

    def connect(self) -> httpx.Response:
        """Settings → Get started → Salesforce login and consent → callback."""
        return self.hearth.get(self.approve_in_salesforce(self.get_started()))


def form_value(page: httpx.Response, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page.text)
    assert match is not None, page.text
    return match.group(1)


def add_user(
    engine: Engine, email: str, *, plan: Plan = Plan.BUSINESS, role: Role = Role.ADMIN
) -> None:
    with Session(engine) as session, session.begin():
        workspace = create_workspace(session, f"Workspace of {email}", plan)
        create_user(session, workspace, email, PASSWORD, role)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def org(tmp_path: Path) -> Iterator[Org]:
    org = Org.open(tmp_path / "org")
    yield org
    org.close()


@pytest.fixture
def site(engine: Engine, database_url: str, org: Org) -> Iterator[Site]:
    creds = bootstrap(org)
    assert creds is not None
    org_app = create_org_app(org)
    settings = Settings(
        database_url=database_url,
        base_url=HEARTH_URL,
        secret_key=SECRET_KEY,
        # Rounds of Salesforce work run when a test calls them (tests/hearth/web/test_worker.py).
        sync_worker=False,
        # Tests change settings in the database and expect the next batch to see them.
        collect_cache_seconds=0,
        salesforce_login_url=ORG_URL,
        salesforce_client_id=creds.app.client_id,
        salesforce_client_secret=creds.app.client_secret,
    )
    app = create_app(settings, salesforce_transport=httpx.ASGITransport(app=org_app))
    with (
        TestClient(app, raise_server_exceptions=False) as hearth,
        TestClient(org_app, base_url=ORG_URL) as org_browser,
    ):
        yield Site(hearth=hearth, org=org, creds=creds, org_browser=org_browser, engine=engine)


@pytest.fixture
def connected(site: Site) -> Site:
    seed(site.org, accounts=30, contacts=40, leads=40, opportunities=10, seed=3)
    add_user(site.engine, "ada@example.com")
    site.sign_in("ada@example.com")
    site.connect()
    return site


async def round_of_work(site: Site) -> WorkspaceRound:
    return await run_workspace(
        site.engine,
        1,
        app=ConnectedApp(
            login_url=ORG_URL,
            client_id=site.creds.app.client_id,
            client_secret=site.creds.app.client_secret,
            redirect_uri=HEARTH_URL + "/settings/salesforce/callback",
        ),
        box=token_box(SECRET_KEY),
        client_options={"transport": httpx.ASGITransport(app=site.org_browser.app)},
    )


def admin_call(site: Site, method: str, path: str, body: Any = None) -> Any:
    response = site.org_browser.request(
        method,
        "/_localforce" + path,
        json=body,
        headers={"Authorization": f"Bearer {admin_token(site.org)}"},
    )
    assert response.is_success, response.text
    return response.json() if response.content else None
