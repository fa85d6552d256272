"""The CRM mirror's tables: one per mirrored Salesforce object, rows scoped to a workspace.

The records (`hearth.mirror.records`) know nothing of these tables; `hearth.mirror.repository`
maps between the two. Tables are SQLAlchemy Core `Table`s on Hearth's shared metadata rather
than mapped classes, because the records are frozen, slotted dataclasses that the pure code
(matching, the planner) shares, and every read and write here is a bulk statement anyway.

Each row is keyed by (workspace_id, salesforce_id): an 18-character Salesforce Id is unique
within one org, and a workspace pairs with one org. References between records (AccountId,
OwnerId, ...) are plain Salesforce Ids without foreign keys: the read sync brings objects in any
order, and a record may point at one the mirror does not hold.

Beside Salesforce's standard fields each row keeps:

- `custom`: the admin-mapped custom fields, as JSON (`{"Tier__c": "Gold"}`);
- `system_modstamp`: Salesforce's SystemModstamp when the sync knows it, so an older copy never
  overwrites a newer one;
- `is_deleted`: the record was deleted in Salesforce (the row stays, so a later undelete or a
  late update does not resurrect stale data silently);
- derived, indexed keys that matching looks up: Account `website_domain`
  (`normalize_domain(Website)`), Contact and Lead `email_normalized` (`normalize_email(Email)`),
  and Lead `email_company_domain` (`company_domain_for_email(Email)`).
"""

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
)

from hearth.storage.models import Base, UtcDateTime

__all__ = [
    "MIRROR_TABLES",
    "mirror_accounts",
    "mirror_contacts",
    "mirror_leads",
    "mirror_opportunities",
    "mirror_users",
]

_metadata = Base.metadata

# Salesforce's own limits: Ids are 18 characters, most text fields 255, Email 80 (a normalised
# address can only be as long or, for a few Unicode letters, longer: 255 leaves room), and a
# registrable domain at most 253.
_ID = 18
_TEXT = 255
_DOMAIN = 253


def _common() -> list[Column[Any]]:
    """The columns every mirror table starts and ends with."""
    return [
        Column(
            "workspace_id",
            Integer,
            ForeignKey("workspaces.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("salesforce_id", String(_ID), primary_key=True),
        Column("custom", JSON, nullable=False),
        Column("system_modstamp", UtcDateTime(), nullable=True),
        Column("is_deleted", Boolean, nullable=False),
    ]


mirror_users = Table(
    "mirror_users",
    _metadata,
    *_common(),
    Column("name", String(_TEXT), nullable=False),
    Column("email", String(_TEXT), nullable=True),
)

mirror_accounts = Table(
    "mirror_accounts",
    _metadata,
    *_common(),
    Column("name", String(_TEXT), nullable=False),
    Column("website", String(_TEXT), nullable=True),
    Column("owner_id", String(_ID), nullable=True),
    Column("type", String(_TEXT), nullable=True),
    Column("parent_id", String(_ID), nullable=True),
    Column("created_date", UtcDateTime(), nullable=False),
    Column("last_modified_date", UtcDateTime(), nullable=False),
    Column("last_activity_date", Date, nullable=True),
    Column("website_domain", String(_DOMAIN), nullable=True),
    Index("ix_mirror_accounts_website_domain", "workspace_id", "website_domain"),
)

mirror_contacts = Table(
    "mirror_contacts",
    _metadata,
    *_common(),
    Column("account_id", String(_ID), nullable=True),
    Column("email", String(_TEXT), nullable=True),
    Column("name", String(_TEXT), nullable=False),
    Column("title", String(_TEXT), nullable=True),
    Column("owner_id", String(_ID), nullable=True),
    Column("email_normalized", String(_TEXT), nullable=True),
    Index("ix_mirror_contacts_email_normalized", "workspace_id", "email_normalized"),
    Index("ix_mirror_contacts_account_id", "workspace_id", "account_id"),
)

mirror_leads = Table(
    "mirror_leads",
    _metadata,
    *_common(),
    Column("email", String(_TEXT), nullable=True),
    Column("name", String(_TEXT), nullable=False),
    Column("title", String(_TEXT), nullable=True),
    Column("company", String(_TEXT), nullable=True),
    Column("owner_id", String(_ID), nullable=True),
    Column("is_converted", Boolean, nullable=False),
    Column("converted_contact_id", String(_ID), nullable=True),
    Column("converted_account_id", String(_ID), nullable=True),
    Column("email_normalized", String(_TEXT), nullable=True),
    Column("email_company_domain", String(_DOMAIN), nullable=True),
    Index("ix_mirror_leads_email_normalized", "workspace_id", "email_normalized"),
    Index("ix_mirror_leads_email_company_domain", "workspace_id", "email_company_domain"),
)

mirror_opportunities = Table(
    "mirror_opportunities",
    _metadata,
    *_common(),
    Column("account_id", String(_ID), nullable=True),
    Column("name", String(_TEXT), nullable=False),
    Column("stage_name", String(_TEXT), nullable=False),
    # Salesforce's Amount is Currency(16, 2); 18 digits leave room for orgs that widened it.
    Column("amount", Numeric(18, 2), nullable=True),
    Column("close_date", Date, nullable=False),
    Column("is_closed", Boolean, nullable=False),
    Column("is_won", Boolean, nullable=False),
    Column("owner_id", String(_ID), nullable=True),
    Column("record_type_name", String(_TEXT), nullable=True),
    Column("active_date", Date, nullable=True),
    Index("ix_mirror_opportunities_account_id", "workspace_id", "account_id"),
)

MIRROR_TABLES = (mirror_accounts, mirror_contacts, mirror_leads, mirror_opportunities, mirror_users)
"""Every mirror table, in the order `MirrorRepository.mark_deleted` visits them."""
