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
from typing import Any

from sqlalchemy import JSON, Dialect, Enum, ForeignKey, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime, TypeDecorator

__all__ = [
    "ApiKey",
    "Base",
    "ConnectionStatus",
    "Plan",
    "Role",
    "SalesforceAuthorization",
    "SalesforceConnection",
    "SiteKey",
    "User",
    "UtcDateTime",
    "WebSession",
    "Workspace",
]


class Plan(enum.StrEnum):
    """What a workspace pays for."""

    FREE = "free"
    STARTER = "starter"
    BUSINESS = "business"


class Role(enum.StrEnum):
    """What a user may do in their workspace."""

    ADMIN = "admin"
    MEMBER = "member"


class ConnectionStatus(enum.StrEnum):
    """Where a workspace's Salesforce connection stands."""

    CONNECTED = "connected"
    # A refresh was refused (invalid_grant) or the stored tokens cannot be read: a person
    # must connect again; no work runs for the org until then.
    NEEDS_RECONNECT = "needs_reconnect"
    DISCONNECTED = "disconnected"


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


class WebSession(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is stored here,
    so a leaked database does not hand out sessions."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SalesforceAuthorization(Base):
    """A started OAuth web-server flow, waiting for its callback: single use, short-lived.

    Keyed by the SHA-256 of the `state` sent to Salesforce; the PKCE verifier never leaves
    Hearth. Bound to the session that started it, so a callback in another browser fails.
    """

    __tablename__ = "salesforce_authorizations"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_token_hash: Mapped[str] = mapped_column(
        ForeignKey("web_sessions.token_hash", ondelete="CASCADE"), index=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    code_verifier: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


class SalesforceConnection(Base):
    """A workspace's Salesforce org: who connected it, when, its state and its tokens.

    `tokens` is the OAuth token set encrypted with the instance's secret key (see
    `hearth.crypto`); it is None once disconnected. `preflight` and `provisioning` keep the
    reports of the checks and field creation run after connecting, as shown in Settings.
    """

    __tablename__ = "salesforce_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[ConnectionStatus] = mapped_column(_stored_enum(ConnectionStatus))
    status_detail: Mapped[str | None] = mapped_column(Text())
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    login_url: Mapped[str] = mapped_column(String(255))
    instance_url: Mapped[str] = mapped_column(String(255))
    org_id: Mapped[str] = mapped_column(String(18))
    salesforce_user_id: Mapped[str] = mapped_column(String(18))
    salesforce_username: Mapped[str] = mapped_column(String(255))
    connected_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    connected_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    tokens: Mapped[str | None] = mapped_column(Text())
    preflight: Mapped[dict[str, Any] | None] = mapped_column(JSON())
    provisioning: Mapped[dict[str, Any] | None] = mapped_column(JSON())


class ApiKey(Base):
    """A secret that lets a workspace's servers call Hearth's API (identify visitors, ...).

    Only the SHA-256 of the key is stored; `prefix` (its first characters) lets a person tell
    keys apart in lists. Revoking stops it at once.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
