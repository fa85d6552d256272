"""Signed-in sessions, started OAuth flows and each workspace's Salesforce connection.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_table(
        "salesforce_authorizations",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("session_token_hash", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_salesforce_authorizations")),
        sa.ForeignKeyConstraint(
            ["session_token_hash"],
            ["web_sessions.token_hash"],
            name=op.f("fk_salesforce_authorizations_session_token_hash_web_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_salesforce_authorizations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_salesforce_authorizations_session_token_hash"),
        "salesforce_authorizations",
        ["session_token_hash"],
    )
    op.create_table(
        "salesforce_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_detail", sa.Text(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("login_url", sa.String(length=255), nullable=False),
        sa.Column("instance_url", sa.String(length=255), nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("salesforce_user_id", sa.String(length=18), nullable=False),
        sa.Column("salesforce_username", sa.String(length=255), nullable=False),
        sa.Column("connected_by_user_id", sa.Integer(), nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=True),
        sa.Column("preflight", sa.JSON(), nullable=True),
        sa.Column("provisioning", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_salesforce_connections")),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_salesforce_connections_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connected_by_user_id"],
            ["users.id"],
            name=op.f("fk_salesforce_connections_connected_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_salesforce_connections_workspace_id")),
        sa.CheckConstraint(
            "status IN ('connected', 'needs_reconnect', 'disconnected')",
            name=op.f("ck_salesforce_connections_connectionstatus"),
        ),
    )


def downgrade() -> None:
    op.drop_table("salesforce_connections")
    op.drop_table("salesforce_authorizations")
    op.drop_table("web_sessions")
