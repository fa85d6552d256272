from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.engine.interfaces import DBAPICursor, ExecutionContext
from sqlalchemy.orm import Session

from hearth.matching import match_visitor
from hearth.mirror import CrmAccount, CrmContact, CrmLead, CrmOpportunity, CrmUser, repository
from hearth.mirror.repository import MirrorRepository, SqlMirrorView, Synced
from hearth.mirror.tables import mirror_accounts, mirror_contacts, mirror_leads
from tests.hearth.mirror.conftest import add_workspace

CREATED = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)

ACCOUNT = CrmAccount(
    id="001000000000001AAA",
    name="Acme",
    website="https://www.Acme.com/about",
    owner_id="005000000000001AAA",
    type="Customer - Direct",
    parent_id="001000000000009AAA",
    created_date=CREATED,
    last_modified_date=CREATED + timedelta(days=1),
    last_activity_date=date(2024, 3, 4),
)
CONTACT = CrmContact(
    id="003000000000001AAA",
    account_id=ACCOUNT.id,
    email=" Ann.Lee+x@Mail.Acme.com ",
    name="Ann Lee",
    title="CTO",
    owner_id="005000000000001AAA",
)
LEAD = CrmLead(
    id="00Q000000000001AAA",
    email="Bob@EU.acme.co.uk",
    name="Bob Stone",
    title="VP",
    company="Acme UK",
    owner_id="005000000000002AAA",
    is_converted=True,
    converted_contact_id=CONTACT.id,
    converted_account_id=ACCOUNT.id,
)
OPPORTUNITY = CrmOpportunity(
    id="006000000000001AAA",
    account_id=ACCOUNT.id,
    name="Acme renewal",
    stage_name="Negotiation",
    amount=Decimal("12345.67"),
    close_date=date(2024, 6, 30),
    is_closed=False,
    is_won=False,
    owner_id="005000000000001AAA",
    record_type_name="Renewal",
)
USER = CrmUser(id="005000000000001AAA", name="Olga Owner", email="olga@hearth.example")


def load(session: Session, workspace_id: int) -> MirrorRepository:
    mirror = MirrorRepository(session, workspace_id)
    assert mirror.upsert_accounts([ACCOUNT]) == 1
    assert mirror.upsert_contacts([CONTACT]) == 1
    assert mirror.upsert_leads([LEAD]) == 1
    assert mirror.upsert_opportunities([OPPORTUNITY]) == 1
    assert mirror.upsert_users([USER]) == 1
    session.commit()
    return mirror


def test_records_come_back_as_they_went_in(session: Session, workspace_id: int) -> None:
    load(session, workspace_id)
    view = SqlMirrorView(session, workspace_id)

    assert view.accounts_by_domain("acme.com") == [ACCOUNT]
    assert view.contacts_by_email("ann.lee+x@mail.acme.com") == [CONTACT]
    assert view.contact(CONTACT.id) == CONTACT
    assert view.contacts_of_account(ACCOUNT.id) == [CONTACT]
    assert view.leads_by_email("bob@eu.acme.co.uk") == [LEAD]
    assert view.leads_by_company_domain("acme.co.uk") == [LEAD]
    assert view.opportunities_of_account(ACCOUNT.id) == [OPPORTUNITY]
    assert view.user(USER.id) == USER


def test_unknown_keys_find_nothing(session: Session, workspace_id: int) -> None:
    load(session, workspace_id)
    view = SqlMirrorView(session, workspace_id)

    assert view.accounts_by_domain("globex.com") == []
    assert view.contacts_by_email("ann.lee@mail.acme.com") == []
    assert view.contact("003000000000404AAA") is None
    assert view.contacts_of_account("001000000000404AAA") == []
    assert view.leads_by_email("bob@acme.co.uk") == []
    assert view.leads_by_company_domain("acme.com") == []
    assert view.opportunities_of_account("001000000000404AAA") == []
    assert view.user("005000000000404AAA") is None


def test_derived_keys_are_stored(session: Session, workspace_id: int) -> None:
    load(session, workspace_id)
    free_mail = CrmLead(id="00Q000000000002AAA", email="Someone@GMail.com", name="S")
    no_email = CrmContact(id="003000000000002AAA", name="No Email")
    MirrorRepository(session, workspace_id).upsert_leads([free_mail])
    MirrorRepository(session, workspace_id).upsert_contacts([no_email])

    assert session.scalar(select(mirror_accounts.c.website_domain)) == "acme.com"
    contacts = dict(
        session.execute(
            select(mirror_contacts.c.salesforce_id, mirror_contacts.c.email_normalized)
        ).all()
    )
    assert contacts == {CONTACT.id: "ann.lee+x@mail.acme.com", no_email.id: None}
    leads = {
        row.salesforce_id: (row.email_normalized, row.email_company_domain)
        for row in session.execute(select(mirror_leads))
    }
    assert leads == {
        LEAD.id: ("bob@eu.acme.co.uk", "acme.co.uk"),
        free_mail.id: ("someone@gmail.com", None),
    }


def test_an_update_replaces_fields_and_derived_keys(session: Session, workspace_id: int) -> None:
    mirror = load(session, workspace_id)
    moved = CrmAccount(
        id=ACCOUNT.id,
        name="Acme Corp",
        website="globex.com",
        created_date=CREATED,
        last_modified_date=CREATED + timedelta(days=2),
    )
    assert mirror.upsert_accounts([moved]) == 1
    session.commit()
    view = SqlMirrorView(session, workspace_id)

    assert view.accounts_by_domain("acme.com") == []
    assert view.accounts_by_domain("globex.com") == [moved]


def test_an_older_copy_never_replaces_a_newer_one(session: Session, workspace_id: int) -> None:
    mirror = MirrorRepository(session, workspace_id)
    newer = CrmUser(id=USER.id, name="New Name")
    mirror.upsert_users([Synced(record=newer, system_modstamp=CREATED + timedelta(hours=1))])
    mirror.upsert_users([Synced(record=USER, system_modstamp=CREATED)])
    view = SqlMirrorView(session, workspace_id)

    assert view.user(USER.id) == newer

    mirror.upsert_users([Synced(record=USER, system_modstamp=CREATED + timedelta(hours=2))])

    assert view.user(USER.id) == USER


def test_custom_fields_and_modstamp_are_kept(session: Session, workspace_id: int) -> None:
    naive_stamp = datetime(2024, 5, 6, 7, 8, 9)  # Salesforce's time: UTC
    MirrorRepository(session, workspace_id).upsert_accounts(
        [Synced(record=ACCOUNT, system_modstamp=naive_stamp, custom={"Tier__c": "Gold", "N": 3})]
    )
    session.commit()

    row = session.execute(select(mirror_accounts)).one()
    assert row.custom == {"Tier__c": "Gold", "N": 3}
    assert row.system_modstamp == naive_stamp.replace(tzinfo=UTC)
    assert row.is_deleted is False


def test_deleted_records_are_hidden_until_upserted_again(
    session: Session, workspace_id: int
) -> None:
    mirror = load(session, workspace_id)
    ids = [ACCOUNT.id, CONTACT.id, LEAD.id, OPPORTUNITY.id, USER.id, "001000000000404AAA"]

    assert mirror.mark_deleted(ids) == 5
    assert mirror.mark_deleted(ids) == 0
    session.commit()
    view = SqlMirrorView(session, workspace_id)
    assert view.accounts_by_domain("acme.com") == []
    assert view.contact(CONTACT.id) is None
    assert view.contacts_by_email("ann.lee+x@mail.acme.com") == []
    assert view.contacts_of_account(ACCOUNT.id) == []
    assert view.leads_by_email("bob@eu.acme.co.uk") == []
    assert view.leads_by_company_domain("acme.co.uk") == []
    assert view.opportunities_of_account(ACCOUNT.id) == []
    assert view.user(USER.id) is None

    mirror.upsert_accounts([ACCOUNT])

    assert view.accounts_by_domain("acme.com") == [ACCOUNT]


def test_workspaces_do_not_see_each_other(session: Session, workspace_id: int) -> None:
    load(session, workspace_id)
    other = add_workspace(session, "globex")
    other_account = CrmAccount(
        id=ACCOUNT.id, name="Globex's Acme", created_date=CREATED, last_modified_date=CREATED
    )
    MirrorRepository(session, other).upsert_accounts([other_account])
    MirrorRepository(session, other).mark_deleted([CONTACT.id])
    session.commit()

    assert SqlMirrorView(session, other).accounts_by_domain("acme.com") == []
    assert SqlMirrorView(session, other).contact(CONTACT.id) is None
    assert SqlMirrorView(session, workspace_id).accounts_by_domain("acme.com") == [ACCOUNT]
    assert SqlMirrorView(session, workspace_id).contact(CONTACT.id) == CONTACT


def test_upserts_go_in_batches_and_the_last_copy_of_an_id_wins(
    session: Session, workspace_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "UPSERT_BATCH_SIZE", 3)
    users = [CrmUser(id=f"005{n:015d}", name=f"User {n}") for n in range(10)]
    renamed = CrmUser(id=users[0].id, name="Renamed")

    written = MirrorRepository(session, workspace_id).upsert_users(
        user for user in [users[0], users[1], renamed, *users[2:]]
    )
    session.commit()

    assert written == 10  # the first batch of 3 holds users[0] twice: written once
    view = SqlMirrorView(session, workspace_id)
    assert view.user(users[0].id) == renamed
    assert [view.user(user.id) for user in users[1:]] == users[1:]


def test_matching_runs_on_the_sql_mirror(session: Session, workspace_id: int) -> None:
    load(session, workspace_id)

    result = match_visitor(
        "acme.com", "ANN.LEE+x@mail.acme.com", SqlMirrorView(session, workspace_id)
    )

    assert result.person == CONTACT
    assert result.account is not None
    assert result.account.account == ACCOUNT
    assert result.rollups.account_owner is not None
    assert result.rollups.account_owner.name == USER.name


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_look_up_uses_an_index(engine: Engine, session: Session, workspace_id: int) -> None:
    load(session, workspace_id)
    statements: list[tuple[str, object]] = []

    def record(
        _conn: object,
        _cursor: DBAPICursor,
        statement: str,
        parameters: object,
        _context: ExecutionContext | None,
        _executemany: bool,
    ) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        view = SqlMirrorView(session, workspace_id)
        view.accounts_by_domain("acme.com")
        view.contacts_by_email("ann.lee+x@mail.acme.com")
        view.contact(CONTACT.id)
        view.contacts_of_account(ACCOUNT.id)
        view.leads_by_email("bob@eu.acme.co.uk")
        view.leads_by_company_domain("acme.co.uk")
        view.opportunities_of_account(ACCOUNT.id)
        view.user(USER.id)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert len(statements) == 8
    connection = session.connection()
    for statement, parameters in statements:
        cursor = connection.connection.driver_connection.execute(  # type: ignore[union-attr]
            f"EXPLAIN QUERY PLAN {statement}", parameters
        )
        plan = [row[-1] for row in cursor.fetchall()]
        assert all(step.startswith("SEARCH") and "INDEX" in step for step in plan), (
            statement,
            plan,
        )
