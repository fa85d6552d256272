"""A workspace's tracking settings: what its collect endpoint accepts and what it keeps.

Defaults (no row in `tracking_settings`): any page origin, privacy signals not enforced by the
server, automation not counted, IPs stored truncated, 395 days of events kept (13 months, so a
year-on-year comparison has its whole year).
"""

from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearth.collect.tables import tracking_settings
from hearth.errors import InvalidInputError

__all__ = ["TrackingSettings", "load_tracking_settings", "save_tracking_settings"]

_MIN_RETENTION_DAYS = 1
_MAX_RETENTION_DAYS = 3650


@dataclass(frozen=True, kw_only=True)
class TrackingSettings:
    """`allowed_origins`: the page origins (``https://www.acme.com``) the snippet may send from;
    empty means any. `respect_privacy_signals`: drop batches sent with Do Not Track or Global
    Privacy Control. `allow_automation`: count headless and driven browsers (browser tests,
    synthetic monitoring). `keep_full_ips`: store visitors' IPs whole, not truncated."""

    allowed_origins: tuple[str, ...] = ()
    respect_privacy_signals: bool = False
    allow_automation: bool = False
    keep_full_ips: bool = False
    retention_days: int = 395

    def __post_init__(self) -> None:
        if not _MIN_RETENTION_DAYS <= self.retention_days <= _MAX_RETENTION_DAYS:
            raise InvalidInputError(
                f"retention must be {_MIN_RETENTION_DAYS} to {_MAX_RETENTION_DAYS} days"
            )
        for origin in self.allowed_origins:
            if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
                raise InvalidInputError(
                    f"{origin!r} is not an origin: scheme and host only, "
                    "such as https://www.acme.com"
                )


def load_tracking_settings(session: Session, workspace_id: int) -> TrackingSettings:
    row = session.execute(
        select(tracking_settings).where(tracking_settings.c.workspace_id == workspace_id)
    ).one_or_none()
    if row is None:
        return TrackingSettings()
    return TrackingSettings(
        allowed_origins=tuple(row.allowed_origins),
        respect_privacy_signals=row.respect_privacy_signals,
        allow_automation=row.allow_automation,
        keep_full_ips=row.keep_full_ips,
        retention_days=row.retention_days,
    )


def save_tracking_settings(session: Session, workspace_id: int, settings: TrackingSettings) -> None:
    """Store the workspace's settings (flushes, never commits)."""
    values = asdict(settings) | {"allowed_origins": list(settings.allowed_origins)}
    session.execute(
        tracking_settings.delete().where(tracking_settings.c.workspace_id == workspace_id)
    )
    session.execute(tracking_settings.insert().values(workspace_id=workspace_id, **values))
