"""The `hearth` command: serve the application, migrate the database, administer workspaces.

This module is a composition root: each command builds `Settings` from the environment, and
every `HearthError` becomes a one-line message on stderr and exit code 1 (usage errors exit 2),
never a traceback.
"""

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hearth.app import create_app, secret_key_of
from hearth.collect.privacy import erase_by_email, erase_visitor, prune
from hearth.collect.recompute import check
from hearth.connections import ConnectedApp, token_box
from hearth.crypto import SecretBox
from hearth.errors import ConfigError, HearthError
from hearth.settings import ENV_PREFIX, Settings
from hearth.storage import (
    Plan,
    Role,
    create_engine_for,
    migrate,
    parse_database_url,
    require_current_schema,
)
from hearth.storage.models import Workspace
from hearth.sync import SyncProgress
from hearth.worker import Worker, run_workspace, sync_options
from hearth.workspaces import create_site_key, create_user, create_workspace, get_workspace

__all__ = ["app", "main"]

app = typer.Typer(
    name="hearth",
    help=(
        "Hearth: open-source website-visitor identification with a two-way Salesforce "
        "integration. Configured through HEARTH_* environment variables "
        "(see docs/configuration.md)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface (default: HEARTH_HOST, else 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default: HEARTH_PORT, else 8000).")
    ] = None,
) -> None:
    """Migrate the database, then serve Hearth's web application."""
    with _errors_reported():
        settings = _load_settings(host=host, port=port)
        migrate(settings.database_url)
        # uvicorn configures its own loggers only; this gives Hearth's a handler and a level.
        logging.basicConfig(level=settings.log_level.upper())
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
        )


@app.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date. Safe to repeat; on PostgreSQL, to run in parallel."""
    with _errors_reported():
        settings = _load_settings()
        revision = migrate(settings.database_url)
        database = parse_database_url(settings.database_url).render_as_string(hide_password=True)
    Console().print(f"Database {escape(database)} is at revision {revision}.")


@app.command("create-workspace")
def create_workspace_command(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The workspace's display name, e.g. 'Acme Inc'.")
    ],
    plan: Annotated[Plan, typer.Option(help="The plan the workspace is on.")] = Plan.FREE,
    slug: Annotated[
        str | None,
        typer.Option(help="Short name used in URLs and commands (default: derived from NAME)."),
    ] = None,
) -> None:
    """Create a workspace (a tenant) with a site key for its tracking snippet."""
    with (
        _errors_reported(),
        _migrated_database() as engine,
        Session(engine) as session,
        session.begin(),
    ):
        workspace = create_workspace(session, name, plan, slug=slug)
        site_key = create_site_key(session, workspace)
        table = _record_table(
            ("Workspace", workspace.name),
            ("Slug", workspace.slug),
            ("Plan", workspace.plan.value),
            ("Site key", site_key.public_key),
        )
    Console().print(table)


@app.command("create-admin")
def create_admin_command(
    workspace: Annotated[
        str, typer.Option("--workspace", help="Slug of the workspace the admin belongs to.")
    ],
    email: Annotated[str, typer.Option(help="The address the admin signs in with.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            confirmation_prompt=True,
            hide_input=True,
            help="Prompted for, hidden and twice, when omitted (keeps it out of shell history).",
        ),
    ],
) -> None:
    """Create an admin user of a workspace."""
    with (
        _errors_reported(),
        _migrated_database() as engine,
        Session(engine) as session,
        session.begin(),
    ):
        user = create_user(session, get_workspace(session, workspace), email, password, Role.ADMIN)
        table = _record_table(
            ("Workspace", workspace), ("Email", user.email), ("Role", user.role.value)
        )
    Console().print(table)


def _salesforce(settings: Settings) -> tuple[ConnectedApp, SecretBox]:
    app_ = ConnectedApp.from_settings(settings)
    if app_ is None:
        raise ConfigError(
            "Salesforce is not configured: set HEARTH_SALESFORCE_LOGIN_URL, "
            "HEARTH_SALESFORCE_CLIENT_ID and HEARTH_SALESFORCE_CLIENT_SECRET"
        )
    return app_, token_box(secret_key_of(settings))


@app.command("sync")
def sync_command(
    workspace: Annotated[
        str, typer.Option("--workspace", help="Slug of the workspace whose org to read.")
    ],
) -> None:
    """Run one round of Salesforce work for a workspace now, showing progress.

    The first round after connecting checks permissions, creates Hearth's fields and copies
    the CRM; later rounds read only what changed. Exits 1 when the round could not finish.
    """
    with _errors_reported(), _migrated_database() as engine:
        settings = _load_settings()
        salesforce_app, box = _salesforce(settings)
        with Session(engine) as session:
            workspace_id = get_workspace(session, workspace).id
        console = Console()
        with Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            tasks: dict[str, TaskID] = {}

            def show(update: SyncProgress) -> None:
                if update.sobject not in tasks:
                    tasks[update.sobject] = progress.add_task(update.sobject, rate="")
                progress.update(
                    tasks[update.sobject],
                    completed=update.done,
                    total=update.total,
                    rate=f"{update.rate:,.0f}/s" if update.rate else "",
                )

            outcome = asyncio.run(
                run_workspace(
                    engine,
                    workspace_id,
                    app=salesforce_app,
                    box=box,
                    options=sync_options(settings),
                    progress=show,
                )
            )
        if outcome.sync is not None:
            for report in outcome.sync.objects:
                console.print(
                    f"{report.sobject:<12} {report.phase.value:<12} {report.upserted:>9,} read"
                    f" {report.deleted:>7,} deleted"
                )
            for warning in outcome.sync.warnings:
                console.print(f"[yellow]Warning:[/] {escape(warning)}")
        if outcome.outcome != "synced":
            raise HearthError(f"{outcome.outcome.replace('_', ' ')}: {outcome.detail}")
        console.print("Done.")


@app.command("worker")
def worker_command() -> None:
    """Run rounds of Salesforce work for every connected workspace until stopped (Ctrl-C).

    For deployments that serve the web app with HEARTH_SYNC_WORKER=false.
    """
    with _errors_reported(), _migrated_database() as engine:
        settings = _load_settings()
        logging.basicConfig(level=settings.log_level.upper())
        salesforce_app, box = _salesforce(settings)
        worker = Worker(
            engine,
            app=salesforce_app,
            box=box,
            interval=timedelta(seconds=settings.sync_interval_seconds),
            options=sync_options(settings),
        )
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(worker.run())


@app.command("erase-visitor")
def erase_visitor_command(
    workspace: Annotated[
        str, typer.Option("--workspace", help="Slug of the workspace the visitor belongs to.")
    ],
    email: Annotated[
        str | None, typer.Option(help="The visitor's email address.", show_default=False)
    ] = None,
    visitor_id: Annotated[
        int | None,
        typer.Option("--visitor-id", help="The visitor's id.", show_default=False),
    ] = None,
) -> None:
    """Erase a visitor (GDPR): their events, aliases, visits and personal data.

    Give --email or --visitor-id. Their company's numbers are recombined from the visitors it
    has left, and marked for Salesforce when the workspace is connected.
    """
    if (email is None) == (visitor_id is None):
        raise typer.BadParameter("give exactly one", param_hint="'--email' / '--visitor-id'")
    with (
        _errors_reported(),
        _migrated_database() as engine,
        Session(engine) as session,
        session.begin(),
    ):
        workspace_id = get_workspace(session, workspace).id
        if email is not None:
            erasure = erase_by_email(session, workspace_id, email)
        else:
            assert visitor_id is not None
            erasure = erase_visitor(session, workspace_id, visitor_id)
    company = "none"
    if erasure.company_domain is not None:
        outcome = "removed, no visitors left" if erasure.company_removed else "recombined"
        company = f"{erasure.company_domain} ({outcome})"
    Console().print(
        _record_table(
            ("Visitor erased", "none" if erasure.visitor_id is None else str(erasure.visitor_id)),
            ("Events deleted", f"{erasure.events_deleted:,}"),
            ("Anonymous ids removed", f"{erasure.aliases_removed:,}"),
            ("Company", company),
        )
    )


@app.command("prune")
def prune_command(
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace", help="Slug of the workspace to prune (default: every workspace)."
        ),
    ] = None,
) -> None:
    """Apply data retention: erase visitors not seen for longer than the workspace keeps data.

    Each workspace's retention is its tracking setting (395 days unless changed). A visitor
    goes as a whole, with all of their events, once their latest event is older than that.
    """
    now = datetime.now(UTC)
    with _errors_reported(), _migrated_database() as engine:
        with Session(engine) as session:
            if workspace is not None:
                targets = [(get_workspace(session, workspace).id, workspace)]
            else:
                targets = [
                    (int(row.id), str(row.slug))
                    for row in session.execute(
                        select(Workspace.id, Workspace.slug).order_by(Workspace.id)
                    )
                ]
        console = Console(soft_wrap=True)
        for workspace_id, slug in targets:
            with Session(engine) as session, session.begin():
                pruned = prune(session, workspace_id, now=now)
            console.print(
                f"{escape(slug)}: {pruned.visitors_erased:,} visitors not seen since "
                f"{pruned.cutoff:%Y-%m-%d %H:%M} UTC erased ({pruned.events_deleted:,} events), "
                f"{len(pruned.companies_recombined):,} companies recombined, "
                f"{len(pruned.companies_removed):,} removed, "
                f"{pruned.counts_deleted:,} daily counts deleted"
            )


@app.command("recompute")
def recompute_command(
    workspace: Annotated[str, typer.Option("--workspace", help="Slug of the workspace to check.")],
    fix: Annotated[
        bool, typer.Option("--fix", help="Write the recomputed values over the stored ones.")
    ] = False,
) -> None:
    """Check that the stored visitor and company aggregates equal a recompute from events.

    Lists every difference; exits 1 when there are some and --fix was not given.
    """
    with (
        _errors_reported(),
        _migrated_database() as engine,
        Session(engine) as session,
        session.begin(),
    ):
        report = check(session, get_workspace(session, workspace).id, fix=fix)
    console = Console(soft_wrap=True)
    for difference in report.differences:
        changes = "; ".join(
            f"{f.name}: stored {f.stored!r}, recomputed {f.recomputed!r}" for f in difference.fields
        )
        console.print(f"{difference.kind} {escape(difference.key)}: {escape(changes)}")
    summary = (
        f"Checked {report.visitors_checked:,} visitors and {report.companies_checked:,} "
        f"companies: {len(report.differences):,} differences"
    )
    if not report.differences:
        console.print(summary + ".")
    elif report.fixed:
        console.print(summary + ", fixed.")
    else:
        console.print(summary + " (run with --fix to write the recomputed values).")
        raise typer.Exit(code=1)


def main() -> None:
    """Entry point of the `hearth` script."""
    app()


def _load_settings(**overrides: str | int | None) -> Settings:
    # Options override the environment by becoming environment variables, so derived
    # settings (base_url from host and port) follow them.
    environ = dict(os.environ)
    environ.update(
        {
            ENV_PREFIX + name.upper(): str(value)
            for name, value in overrides.items()
            if value is not None
        }
    )
    return Settings.from_environ(environ)


@contextmanager
def _errors_reported() -> Iterator[None]:
    try:
        yield
    except HearthError as exc:
        # soft_wrap: one line per error, however narrow the terminal, so logs can be grepped.
        Console(stderr=True, soft_wrap=True).print(f"[bold red]Error:[/] {escape(str(exc))}")
        raise typer.Exit(code=1) from None


@contextmanager
def _migrated_database() -> Iterator[Engine]:
    engine = create_engine_for(_load_settings().database_url)
    try:
        require_current_schema(engine)
        yield engine
    finally:
        engine.dispose()


def _record_table(*rows: tuple[str, str]) -> Table:
    table = Table(show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(label, escape(value))
    return table
