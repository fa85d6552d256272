"""The tables of tracked activity: visitors and how they are known, their events and visits,
companies, per-workspace tracking settings, and the outbox of changes the CRM needs.

Core `Table`s on Hearth's shared metadata, like the mirror's (`hearth.mirror.tables`):

- `tracking_settings`: one row per workspace that changed a default (allowed page origins,
  privacy signals, automation, full IPs, retention). No row means the defaults.
- `visitors`: a person, anonymous until identified by email (unique per workspace). Their
  aggregate (`hearth.tracking.aggregates.VisitorAggregate`) is kept in the row, with
  ``utm_first_seen`` as ``{field: {value: ISO time}}``.
- `visitor_aliases`: the anonymous ids (one per browser) that name a visitor; an identify that
  finds the email on another visitor merges the two, and the aliases follow.
- `tracked_events`: every accepted event, unique per (workspace, anonymous id, event id), so a
  batch sent twice counts once.
- `visitor_sessions`: one row per visit (`hearth.tracking.sessions.Session`), rebuilt per
  client session when its events arrive.
- `companies`: per normalised domain, the `CompanyAggregate` of its visitors.
- `collect_counts`: per workspace, day and kind (events stored, rejected, duplicates; batches
  dropped as bots, automation or privacy signals), so what was dropped is counted, not lost
  silently.
- `outbox`: one row per visitor or company whose CRM fields changed, with a version that grows
  with every change, so the write-back can coalesce work and know what it has sent.
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from hearth.storage.models import Base, UtcDateTime

__all__ = [
    "collect_counts",
    "companies",
    "outbox",
    "tracked_events",
    "tracking_settings",
    "visitor_aliases",
    "visitor_sessions",
    "visitors",
]

_metadata = Base.metadata
_ID = 64  # client ids: the parser allows 1 to 64 characters
_DOMAIN = 253


def _workspace(*, primary_key: bool = False) -> Column[int]:
    return Column(
        "workspace_id",
        Integer,
        ForeignKey("workspaces.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def _aggregate_columns() -> list[Column[object]]:
    return [
        Column("last_seen", UtcDateTime(), nullable=True),
        Column("last_session_started_at", UtcDateTime(), nullable=True),
        Column("last_session_pages", JSON, nullable=False),
        Column("active_seconds", BigInteger, nullable=False),
        Column("page_views", BigInteger, nullable=False),
        Column("sessions", Integer, nullable=False),
        Column("utm_first_seen", JSON, nullable=False),
    ]


tracking_settings = Table(
    "tracking_settings",
    _metadata,
    _workspace(primary_key=True),
    Column("allowed_origins", JSON, nullable=False),
    Column("respect_privacy_signals", Boolean, nullable=False),
    Column("allow_automation", Boolean, nullable=False),
    Column("keep_full_ips", Boolean, nullable=False),
    Column("retention_days", Integer, nullable=False),
)

visitors = Table(
    "visitors",
    _metadata,
    Column("id", Integer, primary_key=True),
    _workspace(),
    Column("email", String(254), nullable=True),
    Column("name", String(255), nullable=True),
    Column("title", String(255), nullable=True),
    Column("linkedin_url", String(2048), nullable=True),
    Column("identification_source", String(20), nullable=True),
    Column("identified_at", UtcDateTime(), nullable=True),
    Column("company_domain", String(_DOMAIN), nullable=True),
    Column("ip", String(45), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    *_aggregate_columns(),
    UniqueConstraint("workspace_id", "email", name="uq_visitors_workspace_id"),
    Index("ix_visitors_workspace_id_company_domain", "workspace_id", "company_domain"),
)

visitor_aliases = Table(
    "visitor_aliases",
    _metadata,
    _workspace(primary_key=True),
    Column("anonymous_id", String(_ID), primary_key=True),
    Column(
        "visitor_id",
        Integer,
        ForeignKey("visitors.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
)

tracked_events = Table(
    "tracked_events",
    _metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    _workspace(),
    Column(
        "visitor_id",
        Integer,
        ForeignKey("visitors.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("anonymous_id", String(_ID), nullable=False),
    Column("event_id", String(_ID), nullable=False),
    Column("type", String(16), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("client_session_id", String(_ID), nullable=False),
    Column("url", Text, nullable=True),
    Column("path", Text, nullable=True),
    Column("title", Text, nullable=True),
    Column("referrer", Text, nullable=True),
    Column("utm_campaign", Text, nullable=True),
    Column("utm_content", Text, nullable=True),
    Column("utm_medium", Text, nullable=True),
    Column("utm_source", Text, nullable=True),
    Column("seconds", Integer, nullable=True),
    Column("email", String(254), nullable=True),
    Column("source", String(20), nullable=True),
    Column("traits", JSON, nullable=True),
    UniqueConstraint("workspace_id", "anonymous_id", "event_id", name="uq_tracked_events_key"),
    Index("ix_tracked_events_visitor", "visitor_id", "client_session_id", "at"),
    CheckConstraint("type IN ('pageview', 'activity', 'identify')", name="type"),
)

visitor_sessions = Table(
    "visitor_sessions",
    _metadata,
    Column(
        "visitor_id",
        Integer,
        ForeignKey("visitors.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("client_session_id", String(_ID), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("last_at", UtcDateTime(), nullable=False),
    Column("page_paths", JSON, nullable=False),
    Column("page_views", Integer, nullable=False),
    Column("active_seconds", Integer, nullable=False),
)

companies = Table(
    "companies",
    _metadata,
    _workspace(primary_key=True),
    Column("domain", String(_DOMAIN), primary_key=True),
    Column("name", String(255), nullable=True),
    Column("visitor_count", Integer, nullable=False),
    *_aggregate_columns(),
)

outbox = Table(
    "outbox",
    _metadata,
    _workspace(primary_key=True),
    Column("kind", String(10), primary_key=True),
    Column("key", String(_DOMAIN), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("fields", JSON, nullable=False),
    Column("marked_at", UtcDateTime(), nullable=False),
    CheckConstraint("kind IN ('visitor', 'company')", name="kind"),
)

collect_counts = Table(
    "collect_counts",
    _metadata,
    _workspace(primary_key=True),
    Column("day", Date, primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("count", BigInteger, nullable=False),
)
