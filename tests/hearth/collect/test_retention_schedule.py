"""Retention runs by itself: `prune_all` over every workspace, and `prune_daily` in the app."""

from datetime import UTC, datetime, timedelta

import anyio
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hearth.collect.privacy import prune_all, prune_daily
from hearth.collect.settings import TrackingSettings, save_tracking_settings
from hearth.collect.tables import visitors
from tests.hearth.wire import MINUTE, ms, page

from .conftest import add_workspace, ingest_at


def _stale_and_fresh(engine: Engine, now: datetime) -> None:
    acme, _ = add_workspace(engine, "Acme")
    globex, _ = add_workspace(engine, "Globex")
    with Session(engine) as session, session.begin():
        for workspace_id in (acme, globex):
            save_tracking_settings(session, workspace_id, TrackingSettings(retention_days=30))
            old = now - timedelta(days=60)
            ingest_at(session, workspace_id, old, [page(ms(old) - MINUTE)], anon="stale")
            ingest_at(session, workspace_id, now, [page(ms(now) - MINUTE)], anon="fresh")


def _visitors(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(visitors)) or 0)


def test_prune_all_applies_each_workspace_retention(engine: Engine) -> None:
    now = datetime.now(UTC)
    _stale_and_fresh(engine, now)

    pruned = prune_all(engine, now=now)

    assert [p.visitors_erased for p in pruned] == [1, 1]
    assert _visitors(engine) == 2


@pytest.mark.anyio
async def test_the_daily_prune_runs_at_once_then_waits(engine: Engine) -> None:
    now = datetime.now(UTC)
    _stale_and_fresh(engine, now)

    with anyio.move_on_after(2):
        await prune_daily(engine, clock=lambda: now)

    assert _visitors(engine) == 2
