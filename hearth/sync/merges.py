"""Merged records: the mirror's references to a merge's loser re-pointed to its master.

When an admin merges Accounts, Contacts or Leads, Salesforce deletes the losers with
MasterRecordId set and re-parents their children. The deletion pass marks each loser deleted
and calls `repoint_merged`, so mirror rows that still name a loser (Contacts and Opportunities
of a merged Account, a converted Lead's Contact, ...) name its master at once, before the
incremental pass reads the re-parented children again. The master itself is changed by the
merge, so the same cycle's incremental pass fetches it; nothing is fetched here.

`REPOINTED` (which columns can name a record of each object) is data; `repoint_merged` runs
one UPDATE per column and loser in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Table, update
from sqlalchemy.orm import Session

from hearth.mirror.tables import (
    mirror_accounts,
    mirror_contacts,
    mirror_leads,
    mirror_opportunities,
)

__all__ = ["REPOINTED", "repoint_merged"]

REPOINTED: Mapping[str, tuple[tuple[Table, str], ...]] = {
    "Account": (
        (mirror_contacts, "account_id"),
        (mirror_opportunities, "account_id"),
        (mirror_accounts, "parent_id"),
        (mirror_leads, "converted_account_id"),
    ),
    "Contact": ((mirror_leads, "converted_contact_id"),),
    "Lead": (),
}
"""For each mergeable object, the mirror columns that reference a record of it."""


def repoint_merged(
    session: Session, workspace_id: int, sobject: str, masters: Mapping[str, str]
) -> int:
    """Re-point references to each loser in `masters` (loser Id -> master Id); returns rows."""
    changed = 0
    for table, column in REPOINTED.get(sobject, ()):
        for loser, master in masters.items():
            result = session.execute(
                update(table)
                .where(table.c.workspace_id == workspace_id, table.c[column] == loser)
                .values({column: master})
            )
            changed += int(getattr(result, "rowcount", 0))
    return changed
