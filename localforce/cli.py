"""The `localforce` command: run a local Salesforce org, and fill it with data."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from .admin_api import admin_token
from .app import create_app
from .bootstrap import admin_credentials, bootstrap, write_connection_file
from .faults import PLAN_KEY, FaultPlan
from .org import Org, OrgConfig
from .server import Listener, serve

app = typer.Typer(
    help="localforce: a local Salesforce org that Salesforce clients talk to unchanged.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

DataOption = Annotated[
    Path, typer.Option("--data", help="Directory holding the org's database (created if new).")
]


def _open(data: Path, *, api_limit: int | None = None) -> Org:
    config = OrgConfig() if api_limit is None else OrgConfig(daily_api_limit=api_limit)
    try:
        return Org.open(data, config=config)
    except OSError as exc:
        console.print(f"[red]cannot open org in {data}: {exc}[/red]")
        raise typer.Exit(2) from None


@app.command("serve")
def serve_command(
    data: DataOption = Path("var/localforce"),
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8440,
    tls_port: Annotated[
        int | None,
        typer.Option(help="Also serve HTTPS on this port (self-signed certificate, made once)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    api_limit: Annotated[
        int, typer.Option(help="Daily API request allowance (rolling 24 hours).")
    ] = 100_000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve the org in DATA over HTTP (and HTTPS with --tls-port).

    A new org gets a System Administrator and a connected app; their credentials are printed and
    written to DATA/connection.json.
    """
    org = _open(data, api_limit=api_limit)
    creds = bootstrap(org) or admin_credentials(org)
    app = create_app(org)
    listeners = [Listener(app=app, host=host, port=port)]
    http_url = f"http://{host}:{port}"
    instance_url = http_url
    cert_path = None
    if tls_port is not None:
        from .tls import ensure_certificate

        cert_path, key_path = ensure_certificate(data)
        listeners.append(
            Listener(app=app, host=host, port=tls_port, certfile=cert_path, keyfile=key_path)
        )
        instance_url = f"https://{host}:{tls_port}"
    token = admin_token(org)
    path = write_connection_file(data, instance_url, creds, admin_token=token)
    console.print(f"[bold]localforce[/bold] org in {data}")
    console.print(f"  HTTP   {http_url}")
    if cert_path is not None:
        console.print(f"  HTTPS  {instance_url}  (certificate: {cert_path})")
    console.print(f"  username       {creds.username}")
    console.print(f"  password       {creds.password}")
    console.print(f"  client_id      {creds.app.client_id}")
    console.print(f"  client_secret  {creds.app.client_secret}")
    console.print(f"  admin token    {token}  (for {http_url}/_localforce/)")
    # soft_wrap: a terminal-wide fold would break the URL for copying.
    console.print(f"  records        {http_url}/_localforce/browse?token={token}", soft_wrap=True)
    console.print(f"  written to     {path}")
    faults = org.meta(PLAN_KEY)
    if faults is not None and FaultPlan.loads(faults).rules:
        # Fault rules live in the org database: say so, lest a forgotten one look like a bug.
        console.print(
            f"  [yellow]fault rules are active: GET {http_url}/_localforce/faults[/yellow]"
        )
    sys.stderr.flush()
    serve(listeners, log_level=log_level)


@app.command("seed")
def seed_command(
    data: DataOption = Path("var/localforce"),
    accounts: Annotated[int, typer.Option(min=0, help="Accounts to create.")] = 100,
    contacts: Annotated[int, typer.Option(min=0, help="Contacts to create.")] = 200,
    leads: Annotated[int, typer.Option(min=0, help="Leads to create.")] = 200,
    opportunities: Annotated[int, typer.Option(min=0, help="Opportunities to create.")] = 50,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 0,
) -> None:
    """Fill the org in DATA with a realistic, deterministic data set of any size."""
    from .seed import seed as run_seed

    org = _open(data)
    bootstrap(org)
    with Progress(
        TextColumn("{task.description:>14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=total)
            progress.update(tasks[name], completed=done)

        try:
            result = run_seed(
                org,
                accounts=accounts,
                contacts=contacts,
                leads=leads,
                opportunities=opportunities,
                seed=seed,
                progress=report,
                as_of=org.clock.now(),
            )
        except ValueError as exc:
            progress.stop()
            console.print(f"[red]cannot seed: {exc}[/red]")
            raise typer.Exit(2) from None
    org.close()
    console.print(
        f"seeded {result.records:,} records in {result.seconds:.1f} s "
        f"({result.records / max(result.seconds, 1e-9):,.0f} records/s)"
    )
    typer.echo(json.dumps(dataclasses.asdict(result)))


def main() -> None:
    app()
