"""An admin in a real browser signs in to Hearth, connects a Salesforce org through its login
and consent pages, sees the connection, and disconnects it. Both servers run for real."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from hearth import Settings, create_app
from hearth.storage import Plan, Role, create_engine_for, migrate
from hearth.workspaces import create_user, create_workspace
from localforce import Org, bootstrap
from localforce import create_app as create_org_app
from localforce.bootstrap import Credentials
from localforce.identity import create_connected_app
from localforce.seed import seed
from localforce.server import Listener, free_port, serving_in_thread

ADMIN = "ada@example.com"
PASSWORD = "correct horse battery"


@dataclass
class Servers:
    hearth: str
    org: Org
    creds: Credentials


@pytest.fixture
def servers(tmp_path: Path, database_url: str) -> Iterator[Servers]:
    org = Org.open(tmp_path / "org")
    creds = bootstrap(org)
    assert creds is not None
    seed(org, accounts=20, contacts=30, leads=30, opportunities=5, seed=2)
    hearth_port = free_port()
    hearth_url = f"http://127.0.0.1:{hearth_port}"
    app = create_connected_app(org, "Hearth", (f"{hearth_url}/settings/salesforce/callback",))
    migrate(database_url)
    engine = create_engine_for(database_url)
    with Session(engine) as session, session.begin():
        workspace = create_workspace(session, "Acme Marketing", Plan.BUSINESS)
        create_user(session, workspace, ADMIN, PASSWORD, Role.ADMIN)
    engine.dispose()
    with serving_in_thread(
        Listener(app=create_org_app(org), host="127.0.0.1", port=free_port())
    ) as org_url:
        settings = Settings(
            database_url=database_url,
            base_url=hearth_url,
            secret_key="browser-test-secret-key",
            salesforce_login_url=org_url,
            salesforce_client_id=app.client_id,
            salesforce_client_secret=app.client_secret,
        )
        hearth = Listener(app=create_app(settings), host="127.0.0.1", port=hearth_port)
        with serving_in_thread(hearth) as base:
            yield Servers(hearth=base, org=org, creds=creds)
    org.close()


def test_an_admin_connects_and_disconnects_salesforce(browser: Browser, servers: Servers) -> None:
    page = browser.new_page()
    page.goto(f"{servers.hearth}/settings/salesforce")
    # Not signed in: the sign-in page, which returns to the settings afterwards.
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click("#get-started")
    # Salesforce's login, then its consent page.
    page.fill("#username", servers.creds.username)
    page.fill("#password", servers.creds.password)
    page.click("#Login")
    page.click("#oaapprove_allow")

    page.wait_for_url(f"{servers.hearth}/settings/salesforce?notice=connected")
    expect(page.locator("#status")).to_have_text("Connected")
    expect(page.locator("#connection")).to_contain_text(servers.creds.username)
    expect(page.locator("#connection")).to_contain_text(ADMIN)
    # The worker checks permissions, creates Hearth's fields and copies the CRM meanwhile.
    for _ in range(60):
        if page.locator("#sync-status").count():
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(page.locator("#provisioning")).to_contain_text("53 created")
    expect(page.locator("#sync-status")).to_contain_text("Lead")

    page.click("text=Disconnect")
    page.wait_for_url(f"{servers.hearth}/settings/salesforce?notice=disconnected")
    expect(page.locator("#get-started")).to_be_visible()


def test_denying_access_in_salesforce_says_so(browser: Browser, servers: Servers) -> None:
    page = browser.new_page()
    page.goto(f"{servers.hearth}/signin")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{servers.hearth}/settings/salesforce")
    page.click("#get-started")
    page.fill("#username", servers.creds.username)
    page.fill("#password", servers.creds.password)
    page.click("#Login")
    page.click("#oaapprove_deny")

    expect(page.get_by_role("alert")).to_contain_text("Salesforce did not grant access")
