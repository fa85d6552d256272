"""What a site key stands for, as the collect endpoint needs it on every batch: the workspace,
its tracking settings, and since when its activity is for Salesforce.

Three queries a batch otherwise, for values that change a few times a year. `SiteCache` keeps
them per process for `ttl` seconds (10 by default), so a change made in another process (a
revoked key, new settings, a new Salesforce connection) takes effect within that time; this
process's own changes clear it at once (`clear`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearth.collect.settings import TrackingSettings, load_tracking_settings
from hearth.connections import get_connection
from hearth.storage.models import ConnectionStatus, SiteKey

__all__ = ["Site", "SiteCache", "load_site", "sync_since"]


@dataclass(frozen=True, kw_only=True)
class Site:
    workspace_id: int
    settings: TrackingSettings
    # When the workspace connected Salesforce: activity from before is never synced.
    sync_since: datetime | None


def sync_since(session: Session, workspace_id: int) -> datetime | None:
    """When the workspace connected Salesforce (None: not connected now)."""
    connection = get_connection(session, workspace_id)
    if connection is None or connection.status is not ConnectionStatus.CONNECTED:
        return None
    return connection.connected_at


def load_site(session: Session, public_key: str) -> Site | None:
    """The live site `public_key` names, or None (unknown or revoked)."""
    key = session.scalars(select(SiteKey).where(SiteKey.public_key == public_key)).one_or_none()
    if key is None or key.revoked_at is not None:
        return None
    return Site(
        workspace_id=key.workspace_id,
        settings=load_tracking_settings(session, key.workspace_id),
        sync_since=sync_since(session, key.workspace_id),
    )


class SiteCache:
    """`load_site` answers, kept for `ttl` seconds of `clock` (monotonic seconds)."""

    def __init__(self, *, ttl: float = 10.0, clock: Callable[[], float], size: int = 10_000):
        self._ttl = ttl
        self._clock = clock
        self._size = size
        self._sites: dict[str, tuple[float, Site | None]] = {}

    def get(self, session: Session, public_key: str) -> Site | None:
        if self._ttl <= 0:
            return load_site(session, public_key)
        now = self._clock()
        cached = self._sites.get(public_key)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        site = load_site(session, public_key)
        if len(self._sites) >= self._size:
            self._sites.clear()  # unknown keys sent by a flood must not grow it without bound
        self._sites[public_key] = (now, site)
        return site

    def clear(self) -> None:
        self._sites.clear()
