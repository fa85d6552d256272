"""Rounds of Salesforce work after connecting: preflight, provisioning, sync, and the states
that stop them. The org is localforce over HTTP (in-process), connected through the web flow."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hearth.connections import get_connection
from hearth.mirror.tables import mirror_accounts
from hearth.storage.models import ConnectionStatus

from .conftest import Site, admin_call, round_of_work

pytestmark = pytest.mark.anyio


def _accounts(site: Site) -> int:
    with Session(site.engine) as session:
        return int(session.scalar(select(func.count()).select_from(mirror_accounts)) or 0)


async def test_the_first_round_checks_provisions_and_syncs(connected: Site) -> None:
    outcome = await round_of_work(connected)

    assert outcome.outcome == "synced", outcome.detail
    assert _accounts(connected) == 30
    with Session(connected.engine) as session:
        connection = get_connection(session, 1)
        assert connection is not None
        assert connection.preflight == {"findings": []} or all(
            f["severity"] != "blocking" for f in connection.preflight["findings"]
        )
        assert connection.provisioning is not None
        assert "Account.Hearth_Last_Seen__c" in connection.provisioning["created"]
    page = connected.hearth.get("/settings/salesforce")
    assert 'id="sync-status"' in page.text
    assert 'id="provisioning"' in page.text
    # A second round neither re-checks nor re-provisions: it only reads what changed.
    again = await round_of_work(connected)
    assert again.outcome == "synced"
    assert again.preflight is None


async def test_a_refused_refresh_stops_work_until_reconnected(connected: Site) -> None:
    user_id = connected.org.conn.execute(
        'SELECT "Id" FROM "User" WHERE "Username" = ?', (connected.creds.username,)
    ).fetchone()[0]
    admin_call(connected, "POST", f"/users/{user_id}/revoke-tokens")

    outcome = await round_of_work(connected)

    assert outcome.outcome == "needs_reconnect"
    assert "Reconnect" in (outcome.detail or "")
    state = connected.hearth.get("/api/v1/salesforce/connection").json()
    assert state["status"] == "needs_reconnect"
    assert 'id="needs-reconnect"' in connected.hearth.get("/settings/salesforce").text
    # No looping: the next round does not even ask the org.
    before = admin_call(connected, "GET", "/usage")
    assert (await round_of_work(connected)).outcome == "not_connected"
    assert admin_call(connected, "GET", "/usage") == before
    # Reconnecting resumes.
    connected.connect()
    assert (await round_of_work(connected)).outcome == "synced"


async def test_an_expired_session_mid_round_is_refreshed(connected: Site) -> None:
    admin_call(
        connected,
        "PUT",
        "/faults",
        {"seed": 1, "rules": [{"kind": "session_expired", "path": "/query", "times": 1}]},
    )

    outcome = await round_of_work(connected)

    assert outcome.outcome == "synced", outcome.detail
    assert _accounts(connected) == 30
    with Session(connected.engine) as session:
        connection = get_connection(session, 1)
        assert connection is not None and connection.status is ConnectionStatus.CONNECTED


async def test_the_daily_limit_ends_the_round_and_keeps_the_connection(connected: Site) -> None:
    admin_call(
        connected,
        "PUT",
        "/faults",
        {"seed": 1, "rules": [{"kind": "request_limit", "path": "/query", "times": 50}]},
    )

    outcome = await round_of_work(connected)

    assert outcome.outcome == "limit_reached"
    with Session(connected.engine) as session:
        connection = get_connection(session, 1)
        assert connection is not None and connection.status is ConnectionStatus.CONNECTED
    admin_call(connected, "PUT", "/faults", {"seed": 1, "rules": []})
    assert (await round_of_work(connected)).outcome == "synced"
    assert _accounts(connected) == 30


async def test_two_workers_take_turns_on_postgresql(connected: Site, database_url: str) -> None:
    if connected.engine.dialect.name != "postgresql":
        pytest.skip("SQLite is served by one process: there is no other worker to exclude")
    with connected.engine.connect() as other_worker:
        key = "1213355080, hashtext(current_schema() || ':' || CAST(:workspace AS text))"
        other_worker.execute(text(f"SELECT pg_advisory_lock({key})"), {"workspace": 1})

        outcome = await round_of_work(connected)

        assert outcome.outcome == "busy"
        other_worker.execute(text(f"SELECT pg_advisory_unlock({key})"), {"workspace": 1})
    assert (await round_of_work(connected)).outcome == "synced"
