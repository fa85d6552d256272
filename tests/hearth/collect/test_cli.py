"""`hearth erase-visitor`, `hearth prune` and `hearth recompute`, through typer's runner."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from hearth.cli import app
from hearth.collect.tables import companies, visitors
from tests.hearth.wire import MINUTE, identify, ms, page

from .conftest import add_workspace, ingest_at

runner = CliRunner()


def invoke(database_url: str, *args: str) -> Result:
    return runner.invoke(app, list(args), env={"HEARTH_DATABASE_URL": database_url})


def assert_failed_cleanly(result: Result, exit_code: int, message: str) -> None:
    assert result.exit_code == exit_code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def add_people(engine: Engine, workspace_id: int, *, at: datetime | None = None) -> None:
    """Jane and Bob at acme.com, seen at `at` (default: now)."""
    at = at or datetime.now(UTC)
    with Session(engine) as session, session.begin():
        for anon, email in (("jane", "jane@acme.com"), ("bob", "bob@acme.com")):
            ingest_at(
                session,
                workspace_id,
                at,
                [
                    page(ms(at) - 2 * MINUTE, "/"),
                    page(ms(at) - MINUTE, "/pricing"),
                    identify(ms(at), email),
                ],
                anon=anon,
            )


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("erase-visitor", "Erase a visitor (GDPR)"),
        ("prune", "Apply data retention"),
        ("recompute", "Check that the stored visitor and company aggregates"),
    ],
)
def test_help_explains_each_command(command: str, says: str) -> None:
    result = runner.invoke(app, [command, "--help"])

    assert result.exit_code == 0
    assert says in result.output


def test_erase_visitor_by_email_or_id(engine: Engine, database_url: str) -> None:
    workspace_id, slug = add_workspace(engine, "Acme")
    add_people(engine, workspace_id)
    with Session(engine) as session:
        bob = session.scalars(select(visitors.c.id).where(visitors.c.email == "bob@acme.com")).one()

    by_email = invoke(
        database_url, "erase-visitor", "--workspace", slug, "--email", "Jane@Acme.com"
    )

    assert by_email.exit_code == 0, by_email.output
    assert "Events deleted" in by_email.output and "3" in by_email.output
    assert "acme.com (recombined)" in by_email.output
    by_id = invoke(database_url, "erase-visitor", "--workspace", slug, "--visitor-id", str(bob))
    assert by_id.exit_code == 0, by_id.output
    assert "no visitors left" in by_id.output
    with Session(engine) as session:
        assert session.execute(select(visitors)).all() == []
        assert session.execute(select(companies)).all() == []


@pytest.mark.parametrize(
    ("arguments", "exit_code", "message"),
    [
        (["--workspace", "nope", "--email", "jane@acme.com"], 1,
         "Error: workspace 'nope' does not exist"),
        (["--workspace", "acme", "--email", "who@acme.com"], 1,
         "Error: visitor with email 'who@acme.com' does not exist"),
        (["--workspace", "acme", "--visitor-id", "999"], 1, "Error: visitor '999' does not exist"),
        (["--workspace", "acme"], 2, "'--email' / '--visitor-id': give exactly one"),
        (["--workspace", "acme", "--email", "jane@acme.com", "--visitor-id", "1"], 2,
         "'--email' / '--visitor-id': give exactly one"),
        (["--workspace", "acme", "--visitor-id", "one"], 2, "Invalid value for '--visitor-id'"),
    ],
)  # fmt: skip
def test_erase_visitor_rejects_bad_input(
    engine: Engine, database_url: str, arguments: list[str], exit_code: int, message: str
) -> None:
    workspace_id, _ = add_workspace(engine, "Acme")
    add_people(engine, workspace_id)

    assert_failed_cleanly(invoke(database_url, "erase-visitor", *arguments), exit_code, message)
    with Session(engine) as session:
        assert len(session.execute(select(visitors)).all()) == 2


def test_prune_every_workspace_or_one(engine: Engine, database_url: str) -> None:
    acme, _ = add_workspace(engine, "Acme")
    globex, _ = add_workspace(engine, "Globex")
    add_people(engine, acme, at=datetime.now(UTC) - timedelta(days=400))
    add_people(engine, globex)

    one = invoke(database_url, "prune", "--workspace", "globex")
    assert one.exit_code == 0, one.output
    assert "globex: 0 visitors" in one.output and "acme" not in one.output

    every = invoke(database_url, "prune")

    assert every.exit_code == 0, every.output
    assert "acme: 2 visitors" in every.output
    assert "(6 events), 0 companies recombined, 1 removed" in every.output
    assert "globex: 0 visitors" in every.output
    with Session(engine) as session:
        assert set(session.scalars(select(visitors.c.workspace_id))) == {globex}
    assert_failed_cleanly(
        invoke(database_url, "prune", "--workspace", "nope"), 1, "workspace 'nope' does not exist"
    )


def test_recompute_lists_differences_and_fixes_them(engine: Engine, database_url: str) -> None:
    workspace_id, slug = add_workspace(engine, "Acme")
    add_people(engine, workspace_id)
    clean = invoke(database_url, "recompute", "--workspace", slug)
    assert clean.exit_code == 0, clean.output
    assert "Checked 2 visitors and 1 companies: 0 differences." in clean.output
    with Session(engine) as session, session.begin():
        session.execute(text("UPDATE visitors SET page_views = 7 WHERE email = 'jane@acme.com'"))

    found = invoke(database_url, "recompute", "--workspace", slug)

    assert found.exit_code == 1, found.output
    assert "page_views: stored 7, recomputed 2" in found.output
    assert "1 differences (run with --fix" in found.output
    fixed = invoke(database_url, "recompute", "--workspace", slug, "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert "1 differences, fixed." in fixed.output
    assert invoke(database_url, "recompute", "--workspace", slug).exit_code == 0
    assert_failed_cleanly(
        invoke(database_url, "recompute", "--workspace", "nope"),
        1,
        "Error: workspace 'nope' does not exist",
    )
