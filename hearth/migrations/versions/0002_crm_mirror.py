"""The CRM mirror: Accounts, Contacts, Leads, Opportunities and Users per workspace.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _common(table_name: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("salesforce_id", sa.String(length=18), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("system_modstamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "salesforce_id", name=op.f(f"pk_{table_name}")),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table_name}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "mirror_users",
        *_common("mirror_users"),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
    )
    op.create_table(
        "mirror_accounts",
        *_common("mirror_accounts"),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("website", sa.String(length=255), nullable=True),
        sa.Column("owner_id", sa.String(length=18), nullable=True),
        sa.Column("type", sa.String(length=255), nullable=True),
        sa.Column("parent_id", sa.String(length=18), nullable=True),
        sa.Column("created_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_modified_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_date", sa.Date(), nullable=True),
        sa.Column("website_domain", sa.String(length=253), nullable=True),
    )
    op.create_index(
        "ix_mirror_accounts_website_domain", "mirror_accounts", ["workspace_id", "website_domain"]
    )
    op.create_table(
        "mirror_contacts",
        *_common("mirror_contacts"),
        sa.Column("account_id", sa.String(length=18), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("owner_id", sa.String(length=18), nullable=True),
        sa.Column("email_normalized", sa.String(length=255), nullable=True),
    )
    op.create_index(
        "ix_mirror_contacts_email_normalized",
        "mirror_contacts",
        ["workspace_id", "email_normalized"],
    )
    op.create_index(
        "ix_mirror_contacts_account_id", "mirror_contacts", ["workspace_id", "account_id"]
    )
    op.create_table(
        "mirror_leads",
        *_common("mirror_leads"),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("company", sa.String(length=255), nullable=True),
        sa.Column("owner_id", sa.String(length=18), nullable=True),
        sa.Column("is_converted", sa.Boolean(), nullable=False),
        sa.Column("converted_contact_id", sa.String(length=18), nullable=True),
        sa.Column("converted_account_id", sa.String(length=18), nullable=True),
        sa.Column("email_normalized", sa.String(length=255), nullable=True),
        sa.Column("email_company_domain", sa.String(length=253), nullable=True),
    )
    op.create_index(
        "ix_mirror_leads_email_normalized", "mirror_leads", ["workspace_id", "email_normalized"]
    )
    op.create_index(
        "ix_mirror_leads_email_company_domain",
        "mirror_leads",
        ["workspace_id", "email_company_domain"],
    )
    op.create_table(
        "mirror_opportunities",
        *_common("mirror_opportunities"),
        sa.Column("account_id", sa.String(length=18), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("stage_name", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("close_date", sa.Date(), nullable=False),
        sa.Column("is_closed", sa.Boolean(), nullable=False),
        sa.Column("is_won", sa.Boolean(), nullable=False),
        sa.Column("owner_id", sa.String(length=18), nullable=True),
        sa.Column("record_type_name", sa.String(length=255), nullable=True),
    )
    op.create_index(
        "ix_mirror_opportunities_account_id",
        "mirror_opportunities",
        ["workspace_id", "account_id"],
    )


def downgrade() -> None:
    op.drop_table("mirror_opportunities")
    op.drop_table("mirror_leads")
    op.drop_table("mirror_contacts")
    op.drop_table("mirror_accounts")
    op.drop_table("mirror_users")
