"""Tracked activity: settings, visitors and aliases, events, visits, companies, counts, outbox.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _workspace(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
    ]


def _visitor(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
            name=op.f(f"fk_{table}_visitor_id_visitors"),
            ondelete="CASCADE",
        ),
    ]


def _aggregate() -> list[sa.Column[object]]:
    return [
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_session_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_session_pages", sa.JSON(), nullable=False),
        sa.Column("active_seconds", sa.BigInteger(), nullable=False),
        sa.Column("page_views", sa.BigInteger(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("utm_first_seen", sa.JSON(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "tracking_settings",
        *_workspace("tracking_settings"),
        sa.Column("allowed_origins", sa.JSON(), nullable=False),
        sa.Column("respect_privacy_signals", sa.Boolean(), nullable=False),
        sa.Column("allow_automation", sa.Boolean(), nullable=False),
        sa.Column("keep_full_ips", sa.Boolean(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_tracking_settings")),
    )
    op.create_table(
        "visitors",
        sa.Column("id", sa.Integer(), nullable=False),
        *_workspace("visitors"),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("linkedin_url", sa.String(length=2048), nullable=True),
        sa.Column("identification_source", sa.String(length=20), nullable=True),
        sa.Column("identified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("company_domain", sa.String(length=253), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_aggregate(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visitors")),
        sa.UniqueConstraint("workspace_id", "email", name="uq_visitors_workspace_id"),
    )
    op.create_index(
        "ix_visitors_workspace_id_company_domain", "visitors", ["workspace_id", "company_domain"]
    )
    op.create_table(
        "visitor_aliases",
        *_workspace("visitor_aliases"),
        sa.Column("anonymous_id", sa.String(length=64), nullable=False),
        *_visitor("visitor_aliases"),
        sa.PrimaryKeyConstraint("workspace_id", "anonymous_id", name=op.f("pk_visitor_aliases")),
    )
    op.create_index(op.f("ix_visitor_aliases_visitor_id"), "visitor_aliases", ["visitor_id"])
    op.create_table(
        "tracked_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        *_workspace("tracked_events"),
        *_visitor("tracked_events"),
        sa.Column("anonymous_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_session_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("referrer", sa.Text(), nullable=True),
        sa.Column("utm_campaign", sa.Text(), nullable=True),
        sa.Column("utm_content", sa.Text(), nullable=True),
        sa.Column("utm_medium", sa.Text(), nullable=True),
        sa.Column("utm_source", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("traits", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracked_events")),
        sa.UniqueConstraint(
            "workspace_id", "anonymous_id", "event_id", name="uq_tracked_events_key"
        ),
        sa.CheckConstraint(
            "type IN ('pageview', 'activity', 'identify')", name=op.f("ck_tracked_events_type")
        ),
    )
    op.create_index(
        "ix_tracked_events_visitor", "tracked_events", ["visitor_id", "client_session_id", "at"]
    )
    op.create_table(
        "visitor_sessions",
        *_visitor("visitor_sessions"),
        sa.Column("client_session_id", sa.String(length=64), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("page_paths", sa.JSON(), nullable=False),
        sa.Column("page_views", sa.Integer(), nullable=False),
        sa.Column("active_seconds", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "visitor_id", "client_session_id", "part", name=op.f("pk_visitor_sessions")
        ),
    )
    op.create_table(
        "companies",
        *_workspace("companies"),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("visitor_count", sa.Integer(), nullable=False),
        *_aggregate(),
        sa.PrimaryKeyConstraint("workspace_id", "domain", name=op.f("pk_companies")),
    )
    op.create_table(
        "collect_counts",
        *_workspace("collect_counts"),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "day", "kind", name=op.f("pk_collect_counts")),
    )
    op.create_table(
        "outbox",
        *_workspace("outbox"),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=253), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "kind", "key", name=op.f("pk_outbox")),
        sa.CheckConstraint("kind IN ('visitor', 'company')", name=op.f("ck_outbox_kind")),
    )


def downgrade() -> None:
    for table in (
        "outbox",
        "collect_counts",
        "companies",
        "visitor_sessions",
        "tracked_events",
        "visitor_aliases",
        "visitors",
        "tracking_settings",
    ):
        op.drop_table(table)
