"""Hearth's own tables as typed SQLAlchemy models: workspaces, their users and site keys.

A workspace is a tenant: every other row belongs to exactly one. Email addresses are unique
across all workspaces, not per workspace, so a person signs in with email and password alone,
without naming a workspace first; belonging to several workspaces would need a membership
table, which can come when someone needs it.

Timestamps are timezone-aware UTC on both databases (see `UtcDateTime`). Enums are stored as
their lowercase values in VARCHAR columns with a CHECK constraint, rather than as PostgreSQL
ENUM types, so adding a plan or role later is a plain migration on both databases.
"""

import enum
from datetime import UTC, datetime

from sqlalchemy import Dialect, Enum, ForeignKey, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime, TypeDecorator

__all__ = ["Base", "Plan", "Role", "SiteKey", "User", "UtcDateTime", "Workspace"]


class Plan(enum.StrEnum):
    """What a workspace pays for."""

    FREE = "free"
    STARTER = "starter"
    BUSINESS = "business"


class Role(enum.StrEnum):
    """What a user may do in their workspace."""

    ADMIN = "admin"
    MEMBER = "member"


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both databases.

    SQLite keeps no UTC offset and hands back naive values; this type stores UTC and always
    returns aware UTC datetimes, so code never compares naive with aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Hearth stores timezone-aware UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    """The current time as an aware UTC datetime, the only kind Hearth stores."""
    return datetime.now(UTC)


def _stored_enum(enum_class: type[enum.StrEnum]) -> Enum:
    return Enum(
        enum_class,
        name=enum_class.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Declarative base whose metadata names every constraint, so migrations can refer to them."""

    metadata = MetaData(
        naming_convention={
            "pk": "pk_%(table_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
        }
    )


class Workspace(Base):
    """A tenant: one company using Hearth, paired with at most one Salesforce org."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    plan: Mapped[Plan] = mapped_column(_stored_enum(Plan))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


class User(Base):
    """A person who signs in to one workspace."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    # Stored lowercased (see hearth.workspaces.normalize_email), so uniqueness ignores case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_stored_enum(Role))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


class SiteKey(Base):
    """The public key a website's tracking snippet sends, naming the workspace it belongs to.

    Not a secret: it is embedded in every page. Revoking stops accepting events sent with it.
    """

    __tablename__ = "site_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
