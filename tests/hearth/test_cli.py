from typing import Any

import pytest
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from sqlalchemy import make_url, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from hearth.cli import app
from hearth.passwords import verify_password
from hearth.storage import Role, User, create_engine_for, migrate, require_current_schema
from hearth.storage.schema import alembic_config

runner = CliRunner()


def invoke(database_url: str, *args: str, input: str | None = None, **env: str) -> Result:
    return runner.invoke(
        app, list(args), input=input, env={"HEARTH_DATABASE_URL": database_url, **env}
    )


def assert_failed_cleanly(result: Result, exit_code: int, message: str) -> None:
    assert result.exit_code == exit_code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ([], "website-visitor identification"),
        (["serve"], "Migrate the database, then serve"),
        (["migrate"], "Bring the database schema up to date"),
        (["create-workspace"], "Create a workspace"),
        (["create-admin"], "Create an admin user"),
    ],
)
def test_help_explains_each_command(command: list[str], says: str) -> None:
    result = runner.invoke(app, [*command, "--help"])

    assert result.exit_code == 0
    assert says in result.output


def test_migrate_names_the_database_but_not_its_password(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(password="db-s3cret")  # the test server trusts, so any password works

    result = invoke(url.render_as_string(hide_password=False), "migrate")

    assert result.exit_code == 0, result.output
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert f"is at revision {head}" in result.output
    assert "db-s3cret" not in result.output


def test_create_workspace_then_its_admin(database_url: str) -> None:
    migrate(database_url)

    created = invoke(database_url, "create-workspace", "Acme Inc", "--plan", "business")
    assert created.exit_code == 0, created.output
    assert "acme-inc" in created.output
    assert "business" in created.output
    assert "site_" in created.output

    password = "correct horse"
    result = invoke(
        database_url,
        "create-admin",
        "--workspace",
        "acme-inc",
        "--email",
        "Ada@Example.com",
        input=f"{password}\n{password}\n",
    )

    assert result.exit_code == 0, result.output
    assert "ada@example.com" in result.output
    engine = create_engine_for(database_url)
    try:
        with Session(engine) as session:
            admin = session.scalars(select(User)).one()
    finally:
        engine.dispose()
    assert (admin.email, admin.role) == ("ada@example.com", Role.ADMIN)
    assert verify_password(password, admin.password_hash)
    assert password not in result.output


@pytest.mark.parametrize(
    ("arguments", "exit_code", "message"),
    [
        (["--workspace", "nope", "--email", "a@b.c", "--password", "long enough"], 1,
         "Error: workspace 'nope' does not exist"),
        (["--workspace", "acme", "--email", "a@b.c", "--password", "short"], 1,
         "Error: a password must have at least 8 characters"),
        (["--workspace", "acme", "--email", "not-an-email", "--password", "long enough"], 1,
         "Error: 'not-an-email' is not an email address"),
        (["--workspace", "acme", "--password", "long enough"], 2, "Missing option"),
    ],
)  # fmt: skip
def test_create_admin_rejects_bad_input(
    database_url: str, arguments: list[str], exit_code: int, message: str
) -> None:
    migrate(database_url)
    assert invoke(database_url, "create-workspace", "Acme").exit_code == 0

    assert_failed_cleanly(invoke(database_url, "create-admin", *arguments), exit_code, message)


def test_create_admin_password_confirmation_must_match(database_url: str) -> None:
    migrate(database_url)
    invoke(database_url, "create-workspace", "Acme")

    result = invoke(
        database_url,
        "create-admin",
        "--workspace",
        "acme",
        "--email",
        "ada@example.com",
        input="first password\nsecond password\nfirst password\nfirst password\n",
    )

    assert result.exit_code == 0, result.output
    assert "do not match" in result.output


def test_create_workspace_twice_is_a_clean_error(database_url: str) -> None:
    migrate(database_url)
    invoke(database_url, "create-workspace", "Acme")

    result = invoke(database_url, "create-workspace", "Acme")

    assert_failed_cleanly(result, 1, "Error: workspace 'acme' already exists")


def test_create_workspace_rejects_an_unknown_plan(database_url: str) -> None:
    result = invoke(database_url, "create-workspace", "Acme", "--plan", "gold")

    assert_failed_cleanly(result, 2, "'gold' is not one of")


def test_commands_need_a_migrated_database(database_url: str) -> None:
    result = invoke(database_url, "create-workspace", "Acme")

    assert_failed_cleanly(result, 1, "run `hearth migrate`")


def test_invalid_settings_are_a_clean_error(database_url: str) -> None:
    result = invoke(database_url, "migrate", HEARTH_PORT="eighty")

    assert_failed_cleanly(result, 1, "Error: invalid settings: HEARTH_PORT")


def test_serve_migrates_then_runs_the_app_on_the_given_address(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(
        "hearth.cli.uvicorn.run", lambda app, **options: served.update(options, app=app)
    )

    result = invoke(
        database_url,
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "9001",
        HEARTH_SECRET_KEY="cli-test-secret-key-123",
    )

    assert result.exit_code == 0, result.output
    assert isinstance(served["app"], FastAPI)
    assert (served["host"], served["port"], served["log_level"]) == ("0.0.0.0", 9001, "info")
    engine = create_engine_for(database_url)
    try:
        require_current_schema(engine)
    finally:
        engine.dispose()


def test_serve_refuses_to_start_without_a_secret_key(database_url: str) -> None:
    result = invoke(database_url, "serve")

    assert_failed_cleanly(result, 1, "Error: HEARTH_SECRET_KEY is not set")
