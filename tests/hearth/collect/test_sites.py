"""The collect endpoint's view of a site key, cached per process for a few seconds."""

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from hearth.collect.settings import TrackingSettings, save_tracking_settings
from hearth.collect.sites import SiteCache, load_site
from hearth.storage.models import SiteKey, Workspace, utc_now
from hearth.workspaces import create_site_key

from .conftest import add_workspace


def _site_key(engine: Engine) -> tuple[int, str]:
    workspace_id, _ = add_workspace(engine, "Acme")
    with Session(engine) as session, session.begin():
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        return workspace_id, create_site_key(session, workspace).public_key


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_site_is_cached_for_its_ttl_then_read_again(engine: Engine) -> None:
    workspace_id, key = _site_key(engine)
    ticks = Ticks()
    cache = SiteCache(ttl=10, clock=ticks)

    with Session(engine) as session, session.begin():
        first = cache.get(session, key)
        save_tracking_settings(session, workspace_id, TrackingSettings(allow_automation=True))
    with Session(engine) as session:
        cached = cache.get(session, key)
        ticks.now += 10
        fresh = cache.get(session, key)

    assert first is not None and cached == first
    assert fresh is not None and fresh.settings.allow_automation


def test_a_revoked_key_stops_within_the_ttl_or_at_once_when_cleared(engine: Engine) -> None:
    _, key = _site_key(engine)
    cache = SiteCache(ttl=10, clock=Ticks())
    with Session(engine) as session, session.begin():
        assert cache.get(session, key) is not None
        session.execute(update(SiteKey).values(revoked_at=utc_now()))
    with Session(engine) as session:
        assert cache.get(session, key) is not None
        cache.clear()
        assert cache.get(session, key) is None
        assert load_site(session, "site_unknown") is None
