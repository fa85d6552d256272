"""Reading and writing the CRM mirror: bulk upserts for the read sync, look-ups for matching.

`MirrorRepository(session, workspace_id)` writes one workspace's mirror: `upsert_accounts`,
`upsert_contacts`, `upsert_leads`, `upsert_opportunities` and `upsert_users` insert new records
and update known ones in batches, one INSERT … ON CONFLICT DO UPDATE per batch (SQLite and
PostgreSQL both speak it), and compute the derived keys matching looks up; `mark_deleted` flags
records deleted in Salesforce. `SqlMirrorView(session, workspace_id)` is the `MirrorView` that
`hearth.matching.match_visitor` runs against: each look-up is one query on an index, and
deleted rows are never returned.

Neither commits: the caller owns the transaction. Datetimes without a UTC offset are taken to be
UTC, as Salesforce's are (and as `match_visitor` takes them).
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, CursorResult, Row, Table, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from hearth.matching.domains import company_domain_for_email, normalize_domain, normalize_email
from hearth.mirror.records import CrmAccount, CrmContact, CrmLead, CrmOpportunity, CrmUser
from hearth.mirror.tables import (
    MIRROR_TABLES,
    mirror_accounts,
    mirror_contacts,
    mirror_leads,
    mirror_opportunities,
    mirror_users,
)
from hearth.storage.engine import insert_for

__all__ = ["UPSERT_BATCH_SIZE", "MirrorRepository", "SqlMirrorView", "Synced"]

UPSERT_BATCH_SIZE = 500
"""Records per INSERT … ON CONFLICT statement: ~20 columns each stays far below the
32,766 bound parameters SQLite allows in one statement."""

_DELETE_BATCH_SIZE = 500

_R = TypeVar("_R", CrmAccount, CrmContact, CrmLead, CrmOpportunity, CrmUser)
_T = TypeVar("_T")
_Row = dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class Synced(Generic[_R]):
    """A record as the read sync fetched it, with what the mirror keeps beside its fields.

    `system_modstamp` is the record's SystemModstamp: an upsert never replaces a row with an
    older copy. `custom` holds the admin-mapped custom fields by API name, JSON-serialisable.
    """

    record: _R
    system_modstamp: datetime | None = None
    custom: Mapping[str, Any] = field(default_factory=dict)


class MirrorRepository:
    """Writes the mirror of one workspace; the caller commits."""

    def __init__(self, session: Session, workspace_id: int) -> None:
        self._session = session
        self._workspace_id = workspace_id

    def upsert_accounts(self, records: Iterable[CrmAccount | Synced[CrmAccount]]) -> int:
        """Insert or update Accounts; return how many distinct Ids were written."""
        return self._upsert(mirror_accounts, records)

    def upsert_contacts(self, records: Iterable[CrmContact | Synced[CrmContact]]) -> int:
        """Insert or update Contacts; return how many distinct Ids were written."""
        return self._upsert(mirror_contacts, records)

    def upsert_leads(self, records: Iterable[CrmLead | Synced[CrmLead]]) -> int:
        """Insert or update Leads; return how many distinct Ids were written."""
        return self._upsert(mirror_leads, records)

    def upsert_opportunities(
        self, records: Iterable[CrmOpportunity | Synced[CrmOpportunity]]
    ) -> int:
        """Insert or update Opportunities; return how many distinct Ids were written."""
        return self._upsert(mirror_opportunities, records)

    def upsert_users(self, records: Iterable[CrmUser | Synced[CrmUser]]) -> int:
        """Insert or update Users; return how many distinct Ids were written."""
        return self._upsert(mirror_users, records)

    def mark_deleted(self, ids: Iterable[str]) -> int:
        """Flag the records with these Salesforce Ids, of any object, as deleted.

        Ids are unique across an org's objects, so each is looked up in every mirror table by
        primary key. Ids the mirror does not hold are ignored. Returns how many rows changed;
        an upsert of the record later (an undelete) clears the flag.
        """
        changed = 0
        for chunk in _chunks(dict.fromkeys(ids), _DELETE_BATCH_SIZE):
            for table in MIRROR_TABLES:
                result = self._session.execute(
                    update(table)
                    .where(
                        table.c.workspace_id == self._workspace_id,
                        table.c.salesforce_id.in_(chunk),
                        table.c.is_deleted.is_(False),
                    )
                    .values(is_deleted=True)
                )
                changed += cast("CursorResult[Any]", result).rowcount
        return changed

    def _upsert(
        self,
        table: Table,
        records: Iterable[_R | Synced[_R]],
    ) -> int:
        statement = self._upsert_statement(table)
        written = 0
        for chunk in _chunks(records, UPSERT_BATCH_SIZE):
            # One row per Id: PostgreSQL refuses to update a row twice in one statement.
            rows: dict[str, _Row] = {}
            for entry in chunk:
                synced = entry if isinstance(entry, Synced) else Synced(record=entry)
                row = _record_row(synced.record)
                row.update(
                    workspace_id=self._workspace_id,
                    salesforce_id=synced.record.id,
                    custom=dict(synced.custom),
                    system_modstamp=_utc(synced.system_modstamp),
                    is_deleted=False,
                )
                rows[synced.record.id] = row
            self._session.execute(statement, list(rows.values()))
            written += len(rows)
        return written

    def _upsert_statement(self, table: Table) -> Insert:
        insert = insert_for(self._session, table)
        excluded = insert.excluded
        stored_stamp = table.c.system_modstamp
        new_stamp = excluded.system_modstamp
        not_older: ColumnElement[bool] = or_(
            new_stamp.is_(None), stored_stamp.is_(None), new_stamp >= stored_stamp
        )
        return insert.on_conflict_do_update(
            index_elements=[column.name for column in table.primary_key.columns],
            set_={c.name: excluded[c.name] for c in table.columns if not c.primary_key},
            where=not_older,
        )


class SqlMirrorView:
    """The `MirrorView` of one workspace's mirror: one indexed query per look-up."""

    def __init__(self, session: Session, workspace_id: int) -> None:
        self._session = session
        self._workspace_id = workspace_id

    def accounts_by_domain(self, domain: str) -> Sequence[CrmAccount]:
        rows = self._rows(mirror_accounts, mirror_accounts.c.website_domain == domain)
        return [_from_row(CrmAccount, row) for row in rows]

    def contacts_by_email(self, email: str) -> Sequence[CrmContact]:
        rows = self._rows(mirror_contacts, mirror_contacts.c.email_normalized == email)
        return [_from_row(CrmContact, row) for row in rows]

    def leads_by_email(self, email: str) -> Sequence[CrmLead]:
        rows = self._rows(mirror_leads, mirror_leads.c.email_normalized == email)
        return [_from_row(CrmLead, row) for row in rows]

    def leads_by_company_domain(self, domain: str) -> Sequence[CrmLead]:
        rows = self._rows(mirror_leads, mirror_leads.c.email_company_domain == domain)
        return [_from_row(CrmLead, row) for row in rows]

    def contact(self, contact_id: str) -> CrmContact | None:
        rows = self._rows(mirror_contacts, mirror_contacts.c.salesforce_id == contact_id)
        return _from_row(CrmContact, rows[0]) if rows else None

    def contacts_of_account(self, account_id: str) -> Sequence[CrmContact]:
        rows = self._rows(mirror_contacts, mirror_contacts.c.account_id == account_id)
        return [_from_row(CrmContact, row) for row in rows]

    def opportunities_of_account(self, account_id: str) -> Sequence[CrmOpportunity]:
        rows = self._rows(mirror_opportunities, mirror_opportunities.c.account_id == account_id)
        return [_from_row(CrmOpportunity, row) for row in rows]

    def user(self, user_id: str) -> CrmUser | None:
        rows = self._rows(mirror_users, mirror_users.c.salesforce_id == user_id)
        return _from_row(CrmUser, rows[0]) if rows else None

    def _rows(self, table: Table, condition: ColumnElement[bool]) -> Sequence[Row[Any]]:
        return self._session.execute(
            select(table).where(
                table.c.workspace_id == self._workspace_id,
                condition,
                table.c.is_deleted.is_(False),
            )
        ).all()


def _chunks(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    chunk: list[_T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_Record = CrmAccount | CrmContact | CrmLead | CrmOpportunity | CrmUser

# The indexed keys matching looks records up by, derived from the record on every write.
_DERIVED: dict[type, Callable[[Any], _Row]] = {
    CrmAccount: lambda a: {"website_domain": normalize_domain(a.website)},
    CrmContact: lambda c: {"email_normalized": normalize_email(c.email)},
    CrmLead: lambda lead: {
        "email_normalized": normalize_email(lead.email),
        "email_company_domain": company_domain_for_email(lead.email),
    },
}


def _record_row(record: _Record) -> _Row:
    """A record's columns: its fields under their own names (the Id is the key), plus keys."""
    row: _Row = {}
    for f in fields(record):
        if f.name != "id":
            value = getattr(record, f.name)
            row[f.name] = _utc(value) if isinstance(value, datetime) else value
    derive = _DERIVED.get(type(record))
    if derive is not None:
        row.update(derive(record))
    return row


def _from_row(cls: type[_R], row: Row[Any]) -> _R:
    values = {f.name: getattr(row, f.name) for f in fields(cls) if f.name != "id"}
    return cls(id=row.salesforce_id, **values)
