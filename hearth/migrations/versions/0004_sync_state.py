"""The read sync: per-object sync state, custom-field mappings, and Opportunity's active date.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("sobject", sa.String(length=80), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=True),
        sa.Column("cursor_id", sa.String(length=18), nullable=True),
        sa.Column("pass_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("records_done", sa.Integer(), nullable=False),
        sa.Column("records_total", sa.Integer(), nullable=True),
        sa.Column("progress_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("resync_requested", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "sobject", name=op.f("pk_sync_state")),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sync_state_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "phase IN ('initial', 'resync', 'incremental')", name=op.f("ck_sync_state_phase")
        ),
        sa.CheckConstraint("mode IN ('rest', 'bulk')", name=op.f("ck_sync_state_mode")),
    )
    op.create_table(
        "sync_field_mappings",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("sobject", sa.String(length=80), nullable=False),
        sa.Column("field", sa.String(length=80), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("field_type", sa.String(length=40), nullable=False),
        sa.Column("default_value", sa.JSON(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("warning", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "workspace_id", "sobject", "field", name=op.f("pk_sync_field_mappings")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sync_field_mappings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
    )
    with op.batch_alter_table("mirror_opportunities") as batch:
        batch.add_column(sa.Column("active_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mirror_opportunities") as batch:
        batch.drop_column("active_date")
    op.drop_table("sync_field_mappings")
    op.drop_table("sync_state")
