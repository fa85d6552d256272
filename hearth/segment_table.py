"""The `segments` table: one row per named segment of a workspace, its rule as JSON (the form
`hearth.segments.parse_rule` reads). Apart from `hearth.segment_store` so that registering the
table on the metadata imports nothing else."""

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, UniqueConstraint

from hearth.storage.models import Base, UtcDateTime

__all__ = ["segments"]

segments = Table(
    "segments",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "workspace_id", Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False
    ),
    Column("name", String(200), nullable=False),
    Column("rule", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("workspace_id", "name", name="uq_segments_workspace_id"),
)
