"""The read sync's tables: where each object's sync stands, and the admin's custom-field mappings.

Core `Table`s on Hearth's shared metadata, as the mirror's are (`hearth.mirror.tables`): the
sync reads and writes them in small statements, and the values it hands around are frozen
dataclasses (`hearth.sync.state.ObjectState`, `hearth.sync.fields.FieldMapping`).

`sync_state` has one row per (workspace, object), made when the object's first pass starts:

- `phase`: `initial` (the first full copy), `resync` (a full copy again, because a mapping
  changed) or `incremental` (only what changed since the watermark);
- a full pass (initial or resync) reads the object in Id order; `cursor_id` is the last Id whose
  batch is committed, `mode` the API it chose (`rest` or `bulk`, so a resumed pass does not
  count again), `pass_started_at` when it began;
- `watermark` and `deleted_watermark`: the SystemModstamp up to which changes and deletions are
  in the mirror, each committed in the transaction of the batch it covers;
- progress (`records_done`, `records_total`, `progress_started_at`) for a page to show;
- `last_run_at` and `last_error`;
- `resync_requested`: a mapping changed, so the next pass reads every record again
  (`hearth.sync.state.request_resync`).

`sync_field_mappings` has one row per mapped custom field: its label and Salesforce type as
describe gave them when it was added, the default to write when Hearth creates a record,
`enabled`, and `warning`, set when the field changed in Salesforce and the mapping was disabled.
"""

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from hearth.storage.models import Base, UtcDateTime

__all__ = ["sync_field_mappings", "sync_state"]

_metadata = Base.metadata

# Object API names are at most 40 characters, field API names at most 40 (plus a namespace).
_NAME = 80
_ID = 18


sync_state = Table(
    "sync_state",
    _metadata,
    Column(
        "workspace_id",
        Integer,
        ForeignKey("workspaces.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("sobject", String(_NAME), primary_key=True),
    Column("phase", String(16), nullable=False),
    Column("mode", String(8), nullable=True),
    Column("cursor_id", String(_ID), nullable=True),
    Column("pass_started_at", UtcDateTime(), nullable=True),
    Column("watermark", UtcDateTime(), nullable=True),
    Column("deleted_watermark", UtcDateTime(), nullable=True),
    Column("records_done", Integer, nullable=False),
    Column("records_total", Integer, nullable=True),
    Column("progress_started_at", UtcDateTime(), nullable=True),
    Column("last_run_at", UtcDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("resync_requested", Boolean, nullable=False),
    CheckConstraint("phase IN ('initial', 'resync', 'incremental')", name="phase"),
    CheckConstraint("mode IN ('rest', 'bulk')", name="mode"),
)

sync_field_mappings = Table(
    "sync_field_mappings",
    _metadata,
    Column(
        "workspace_id",
        Integer,
        ForeignKey("workspaces.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("sobject", String(_NAME), primary_key=True),
    Column("field", String(_NAME), primary_key=True),
    Column("label", String(255), nullable=False),
    Column("field_type", String(40), nullable=False),
    Column("default_value", JSON, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("warning", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
)
