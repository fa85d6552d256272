"""Storage: the engine factory, Hearth's tables and their migrations."""

# Registers the tables of tracked activity, the CRM mirror, the read sync and segments on
# Base.metadata, so the metadata (and the migration test that compares it with the migrated
# schema) always holds every table.
import hearth.collect.tables
import hearth.mirror.tables
import hearth.segment_table
import hearth.sync.tables  # noqa: F401
from hearth.storage.engine import create_engine_for, parse_database_url
from hearth.storage.models import Base, Plan, Role, SiteKey, User, Workspace
from hearth.storage.schema import migrate, require_current_schema

__all__ = [
    "Base",
    "Plan",
    "Role",
    "SiteKey",
    "User",
    "Workspace",
    "create_engine_for",
    "migrate",
    "parse_database_url",
    "require_current_schema",
]
