"""`hearth sync`: one round for a workspace from the command line, against a served org."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from typer.testing import CliRunner

from hearth import Settings, create_app
from hearth.cli import app as cli
from hearth.mirror.tables import mirror_leads
from localforce import Org, bootstrap
from localforce import create_app as create_org_app
from localforce.seed import seed
from localforce.server import Listener, free_port, serving_in_thread

from .conftest import HEARTH_URL, SECRET_KEY, Site, add_user

runner = CliRunner()


@pytest.fixture
def served(engine: Engine, database_url: str, org: Org) -> Iterator[tuple[Site, dict[str, str]]]:
    creds = bootstrap(org)
    assert creds is not None
    seed(org, accounts=20, contacts=20, leads=25, opportunities=5, seed=5)
    org_app = create_org_app(org)
    with serving_in_thread(Listener(app=org_app, host="127.0.0.1", port=free_port())) as url:
        env = {
            "HEARTH_DATABASE_URL": database_url,
            "HEARTH_BASE_URL": HEARTH_URL,
            "HEARTH_SECRET_KEY": SECRET_KEY,
            "HEARTH_SALESFORCE_LOGIN_URL": url,
            "HEARTH_SALESFORCE_CLIENT_ID": creds.app.client_id,
            "HEARTH_SALESFORCE_CLIENT_SECRET": creds.app.client_secret,
        }
        settings = Settings.from_environ({**env, "HEARTH_SYNC_WORKER": "false"})
        with (
            TestClient(create_app(settings), raise_server_exceptions=False) as hearth,
            TestClient(org_app, base_url=url) as org_browser,
        ):
            yield Site(hearth, org, creds, org_browser, engine), env


def test_sync_reads_the_org_and_reports_each_object(
    served: tuple[Site, dict[str, str]],
) -> None:
    site, env = served
    add_user(site.engine, "ada@example.com")
    site.sign_in("ada@example.com")
    site.connect()

    result = runner.invoke(cli, ["sync", "--workspace", "workspace-of-ada-example-com"], env=env)

    assert result.exit_code == 0, result.output
    assert "Lead" in result.output and "Done." in result.output
    with Session(site.engine) as session:
        assert session.scalar(select(func.count()).select_from(mirror_leads)) == 25


def test_sync_of_a_workspace_that_never_connected_fails_cleanly(
    served: tuple[Site, dict[str, str]],
) -> None:
    site, env = served
    add_user(site.engine, "ada@example.com")

    result = runner.invoke(cli, ["sync", "--workspace", "workspace-of-ada-example-com"], env=env)

    assert result.exit_code == 1
    assert "not connected: Salesforce is not connected" in result.output
    assert "Traceback" not in result.output
