"""A merge's loser: the mirror's references to it re-pointed to the master (localforce has no
merge, so the deletion pass's MasterRecordId is exercised here, on both databases)."""

from datetime import UTC, date, datetime

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from hearth.mirror.records import CrmAccount, CrmContact, CrmLead, CrmOpportunity
from hearth.mirror.repository import MirrorRepository
from hearth.mirror.tables import (
    mirror_accounts,
    mirror_contacts,
    mirror_leads,
    mirror_opportunities,
)
from hearth.sync.merges import repoint_merged
from tests.hearth.mirror.conftest import add_workspace

T = datetime(2026, 11, 24, tzinfo=UTC)


def account(id_: str, parent: str | None = None) -> CrmAccount:
    return CrmAccount(id=id_, name=id_, parent_id=parent, created_date=T, last_modified_date=T)


def test_references_to_merged_accounts_and_contacts_follow_the_master(session: Session) -> None:
    ws = add_workspace(session, "acme")
    other = add_workspace(session, "other")
    for workspace in (ws, other):
        repo = MirrorRepository(session, workspace)
        repo.upsert_accounts(
            [account("001LOSER"), account("001MASTER"), account("001C", "001LOSER")]
        )
        repo.upsert_contacts([CrmContact(id="003LOSER", account_id="001LOSER", name="Ada")])
        repo.upsert_opportunities(
            [
                CrmOpportunity(
                    id="006A",
                    account_id="001LOSER",
                    name="Deal",
                    stage_name="Prospecting",
                    close_date=date(2026, 12, 31),
                )
            ]
        )
        repo.upsert_leads(
            [
                CrmLead(
                    id="00QA",
                    name="Ada",
                    is_converted=True,
                    converted_account_id="001LOSER",
                    converted_contact_id="003LOSER",
                )
            ]
        )

    changed = repoint_merged(session, ws, "Account", {"001LOSER": "001MASTER"})
    changed += repoint_merged(session, ws, "Contact", {"003LOSER": "003MASTER"})

    def column(table: Table, name: str, workspace: int = ws) -> set[str | None]:
        return set(session.scalars(select(table.c[name]).where(table.c.workspace_id == workspace)))

    assert changed == 5
    assert column(mirror_contacts, "account_id") == {"001MASTER"}
    assert column(mirror_opportunities, "account_id") == {"001MASTER"}
    assert column(mirror_accounts, "parent_id") == {None, "001MASTER"}
    assert column(mirror_leads, "converted_account_id") == {"001MASTER"}
    assert column(mirror_leads, "converted_contact_id") == {"003MASTER"}
    assert column(mirror_contacts, "account_id", other) == {"001LOSER"}
