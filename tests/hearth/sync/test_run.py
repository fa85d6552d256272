"""The read sync against a localforce org over HTTP, into the mirror on SQLite and PostgreSQL:
initial passes (REST and Bulk), incremental passes, conversions, resume after a crash, custom
fields, drift and every way the org can refuse. API calls are counted: they are what a
customer's daily allowance pays for."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from hearth.mirror.tables import (
    mirror_accounts,
    mirror_contacts,
    mirror_leads,
    mirror_opportunities,
    mirror_users,
)
from hearth.salesforce import API_VERSION
from hearth.salesforce.errors import ReauthorizationRequired
from hearth.sync import (
    Mode,
    Phase,
    SyncOptions,
    SyncProgress,
    add_mapping,
    list_mappings,
    sync_status,
)
from hearth.sync.objects import SYNCED_OBJECTS
from hearth.sync.state import save_state
from localforce.schema import FieldDef, FieldType
from localforce.seed import seed
from tests.hearth.mirror.conftest import add_workspace

from .conftest import Sync

pytestmark = pytest.mark.anyio

TABLES = {
    "User": mirror_users,
    "Account": mirror_accounts,
    "Contact": mirror_contacts,
    "Lead": mirror_leads,
    "Opportunity": mirror_opportunities,
}


def fill(
    sync: Sync, *, accounts: int = 0, contacts: int = 0, leads: int = 0, opportunities: int = 0
) -> None:
    """Seeded records, all older than a day, so the look-back window never holds them."""
    seed(
        sync.harness.org,
        accounts=accounts,
        contacts=contacts,
        leads=leads,
        opportunities=opportunities,
        as_of=sync.now() - timedelta(days=1),
    )


def text_field(name: str) -> FieldDef:
    return FieldDef(name=name, label=name, type=FieldType.STRING, length=20, custom=True)


def assert_mirrored(sync: Sync) -> None:
    for sobject, table in TABLES.items():
        assert sync.count(table) == sync.org_count(sobject), sobject


def pages(records: int) -> int:
    return max(1, math.ceil(records / 2000))


def queries(calls: list[str], sobject: str) -> list[str]:
    """The SOQL of `sobject` in `calls`, including each composite's subrequests."""
    sent = [part for call in calls for part in call.split(" [")]
    return [q for q in sent if f" FROM {sobject}" in q]


async def test_an_initial_sync_reads_every_object_in_pages_of_2000(sync: Sync) -> None:
    fill(sync, accounts=300, contacts=600, leads=2500, opportunities=150)
    sizes = {sobject: sync.org_count(sobject) for sobject in SYNCED_OBJECTS}
    start = sync.mark()

    report = await sync.run()

    assert_mirrored(sync)
    calls = sync.api_calls(start)
    # Every describe in one composite call, every count in another; per object, one query per
    # page of 2,000 records.
    assert len(calls) == 2 + sum(pages(n) for n in sizes.values())
    assert calls[0].count("/describe]") == len(SYNCED_OBJECTS)
    assert {(r.sobject, r.phase, r.mode) for r in report.objects} == {
        (sobject, Phase.INITIAL, Mode.REST) for sobject in SYNCED_OBJECTS
    }
    assert report.stopped is None
    states = sync.states()
    assert {s.phase for s in states.values()} == {Phase.INCREMENTAL}
    assert all(s.watermark is not None and s.cursor_id is None for s in states.values())
    assert {s.records_done for s in states.values()} == set(sizes.values())
    last = {p.sobject: p for p in sync.seen}
    assert {(p.done, p.total) for p in last.values()} == {(n, n) for n in sizes.values()}
    with Session(sync.engine) as session:
        stored = sync_status(session, sync.workspace_id, sync.now())
    assert {(p.sobject, p.done, p.total) for p in stored} == {
        (p.sobject, p.done, p.total) for p in last.values()
    }
    # The Pipeline Name is the record type's, and converted Leads name what they became.
    assert {r.record_type_name for r in sync.rows(mirror_opportunities)} == {
        "New Business",
        "Renewal",
    }
    converted = sync.rows(mirror_leads, is_converted=True)
    assert converted and all(r.converted_contact_id for r in converted)


async def test_large_objects_go_through_bulk_and_mirror_the_same_rows(sync: Sync) -> None:
    fill(sync, accounts=120, contacts=150, leads=1200, opportunities=80)
    await sync.run()
    with Session(sync.engine) as session:
        bulk_workspace = add_workspace(session, "bulk")
        session.commit()
    bulk = replace(sync, workspace_id=bulk_workspace, seen=[])
    start = bulk.mark()

    report = await bulk.run(bulk_threshold=1000, bulk_page_size=500)

    modes = {r.sobject: r.mode for r in report.objects}
    assert modes == {
        "User": Mode.REST,
        "Account": Mode.REST,
        "Contact": Mode.REST,
        "Opportunity": Mode.REST,
        "Lead": Mode.BULK,
    }
    calls = bulk.api_calls(start)
    # Lead's REST queries: only its count, asked with the others' in one composite call.
    assert [q for q in queries(calls, "Lead") if "/query?" in q] == [
        f"GET /services/data/v{API_VERSION}/query?SELECT COUNT(Id) total FROM Lead]"
    ]
    assert len([c for c in calls if c.endswith("/results")]) == 3
    for table in TABLES.values():
        rest_rows = {r.salesforce_id: r[1:] for r in sync.rows(table)}
        bulk_rows = {r.salesforce_id: r[1:] for r in bulk.rows(table)}
        assert bulk_rows == rest_rows


async def test_an_incremental_cycle_reads_only_changes_and_deletions(sync: Sync) -> None:
    fill(sync, accounts=50, contacts=80, leads=60, opportunities=30)
    await sync.run()
    sf = sync.client
    account = sync.rows(mirror_accounts)[0].salesforce_id
    lead = sync.rows(mirror_leads, is_converted=False)[0].salesforce_id
    await sf.update("Account", account, {"Name": "Renamed Inc"})
    contact = await sf.create("Contact", {"LastName": "New", "AccountId": account})
    await sf.delete("Lead", lead)
    start = sync.mark()

    report = await sync.run()

    by_object = {r.sobject: r for r in report.objects}
    assert {r.phase for r in report.objects} == {Phase.INCREMENTAL}
    assert by_object["Account"].upserted == 1
    assert by_object["Contact"].upserted == 1
    assert (by_object["Lead"].upserted, by_object["Lead"].deleted) == (0, 1)
    assert sync.rows(mirror_accounts, salesforce_id=account)[0].name == "Renamed Inc"
    assert sync.rows(mirror_contacts, salesforce_id=contact)[0].account_id == account
    assert sync.rows(mirror_leads, salesforce_id=lead)[0].is_deleted
    assert_mirrored(sync)
    # The describes in one composite call; the change queries of every object and the
    # deletion queries of all but User (9), five to a composite call.
    calls = sync.api_calls(start)
    assert len(calls) == 1 + 2
    assert sum(c.count("/queryAll?") for c in calls) == 4
    assert all("SystemModstamp >=" in c for c in calls if "?" in c)

    # Nothing changed: the same three calls.
    start = sync.mark()
    await sync.run()

    assert len(sync.api_calls(start)) == 3


async def test_a_quiet_org_is_not_read_again_once_the_look_back_has_passed(sync: Sync) -> None:
    fill(sync, accounts=30)
    await sync.run()
    (account, *_) = [r.salesforce_id for r in sync.rows(mirror_accounts)]
    await sync.client.update("Account", account, {"Name": "Changed"})
    first = await sync.run()
    assert {r.sobject: r.upserted for r in first.objects}["Account"] >= 1
    # An hour without changes: the watermark has moved past the look-back window.
    sync.harness.org.advance_clock(timedelta(hours=1))
    await sync.run()

    quiet = await sync.run()

    assert {r.upserted for r in quiet.objects} == {0}


async def test_a_converted_lead_brings_its_contact_and_account(sync: Sync) -> None:
    fill(sync, accounts=5, contacts=5)
    await sync.run()
    lead = await sync.client.create(
        "Lead", {"LastName": "Lee", "Company": "Convertco", "Email": "lee@convertco.test"}
    )
    await sync.run()
    converted = await sync.harness.admin("POST", f"/leads/{lead}/convert")

    await sync.run()

    (row,) = sync.rows(mirror_leads, salesforce_id=lead)
    assert row.is_converted and not row.is_deleted
    assert row.converted_contact_id == converted["contactId"]
    assert row.converted_account_id == converted["accountId"]
    assert sync.rows(mirror_contacts, salesforce_id=converted["contactId"])
    assert sync.rows(mirror_accounts, salesforce_id=converted["accountId"])


async def test_a_converted_lead_fetches_what_the_mirror_lacks(sync: Sync) -> None:
    fill(sync, accounts=5, contacts=5)
    await sync.run()
    lead = await sync.client.create("Lead", {"LastName": "Lee", "Company": "Followco"})
    converted = await sync.harness.admin("POST", f"/leads/{lead}/convert")
    # As if the Contact and Account passes had run just before the conversion committed.
    states = sync.states()
    later = sync.now() + timedelta(hours=1)
    with Session(sync.engine) as session:
        for sobject in ("Contact", "Account"):
            save_state(session, sync.workspace_id, replace(states[sobject], watermark=later))
        session.commit()
    start = sync.mark()

    report = await sync.run()

    assert {r.sobject: r.followed for r in report.objects}["Lead"] == 2
    assert sync.rows(mirror_contacts, salesforce_id=converted["contactId"])
    assert sync.rows(mirror_accounts, salesforce_id=converted["accountId"])
    follow_ups = [c for c in sync.api_calls(start) if " WHERE Id IN (" in c]
    assert len(follow_ups) == 2


async def test_a_killed_sync_resumes_where_it_stopped(sync: Sync) -> None:
    fill(sync, accounts=40, contacts=1200)

    def crash(step: SyncProgress) -> None:
        if step.sobject == "Contact" and step.done == 300:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await sync.run(batch_size=100, progress=crash)

    contacts = sync.states()["Contact"]
    assert (contacts.phase, contacts.records_done, contacts.records_total) == (
        Phase.INITIAL,
        300,
        1200,
    )
    assert sync.count(mirror_contacts) == 300
    start = sync.mark()

    report = await sync.run(batch_size=100)

    assert_mirrored(sync)
    by_object = {r.sobject: r for r in report.objects}
    assert by_object["Contact"].upserted == 900
    calls = sync.api_calls(start)
    # Finished objects are read incrementally; the Contact pass neither counts nor starts over.
    for sobject in ("User", "Account"):
        assert all("SystemModstamp >=" in c for c in queries(calls, sobject))
    (contact_query,) = queries(calls, "Contact")
    assert f"WHERE Id > '{contacts.cursor_id}'" in contact_query


async def test_a_mapped_custom_field_is_read_for_every_record_on_resync(sync: Sync) -> None:
    org = sync.harness.org
    org.add_custom_field(
        "Account",
        FieldDef(name="Tier__c", label="Tier", type=FieldType.STRING, length=20, custom=True),
    )
    fill(sync, accounts=30)
    with org.lock, org.transaction():
        org.conn.execute('UPDATE "Account" SET "Tier__c" = \'Gold\'')
    await sync.run()
    assert {r.custom.get("Tier__c") for r in sync.rows(mirror_accounts)} == {None}
    describe = await sync.client.describe("Account")
    with Session(sync.engine) as session:
        add_mapping(session, sync.workspace_id, describe, "Tier__c")
        session.commit()
    assert sync.states()["Account"].resync_requested
    start = sync.mark()

    report = await sync.run()

    assert {r.sobject: r.phase for r in report.objects}["Account"] is Phase.RESYNC
    assert {r.custom["Tier__c"] for r in sync.rows(mirror_accounts)} == {"Gold"}
    assert len(queries(sync.api_calls(start), "Account")) == 2  # the count and one page
    assert sync.states()["Account"].phase is Phase.INCREMENTAL


async def test_a_field_mapped_during_a_cycle_is_read_by_the_next(sync: Sync) -> None:
    sync.harness.org.add_custom_field("Account", text_field("Tier__c"))
    fill(sync, accounts=30, contacts=30)
    await sync.run()
    describe = await sync.client.describe("Account")
    # A change, so the Contact pass reports progress: the Account pass of the cycle is over.
    await sync.client.create("Contact", {"LastName": "Nu"})

    def map_during_the_contact_pass(step: SyncProgress) -> None:
        if step.sobject == "Contact":
            with Session(sync.engine) as session:
                add_mapping(session, sync.workspace_id, describe, "Tier__c")
                session.commit()

    await sync.run(progress=map_during_the_contact_pass)

    assert sync.states()["Account"].resync_requested
    report = await sync.run()

    assert {r.sobject: r.phase for r in report.objects}["Account"] is Phase.RESYNC
    assert all("Tier__c" in r.custom for r in sync.rows(mirror_accounts))


@pytest.mark.parametrize("change", ["deleted", "retyped"])
async def test_a_field_changed_in_salesforce_disables_its_mapping(sync: Sync, change: str) -> None:
    org = sync.harness.org
    for name in ("Tier__c", "Region__c"):
        org.add_custom_field(
            "Account",
            FieldDef(name=name, label=name, type=FieldType.STRING, length=20, custom=True),
        )
    fill(sync, accounts=10)
    describe = await sync.client.describe("Account")
    with Session(sync.engine) as session:
        add_mapping(session, sync.workspace_id, describe, "Tier__c")
        add_mapping(session, sync.workspace_id, describe, "Region__c")
        session.commit()
    await sync.run()
    # localforce's APIs cannot delete or retype a field: its schema is changed in Python.
    account = org.schema.get("Account")
    assert account is not None
    tier = account.field("Tier__c")
    assert tier is not None
    changed = account.without_field("Tier__c")
    if change == "retyped":
        changed = changed.with_field(replace(tier, type=FieldType.DOUBLE, precision=18))
    org.schema.replace_object(changed)

    report = await sync.run()

    (warning,) = report.warnings
    expected = "was deleted in Salesforce" if change == "deleted" else "changed type in Salesforce"
    assert warning.startswith(f"Account.Tier__c {expected}")
    with Session(sync.engine) as session:
        mappings = {m.field: m for m in list_mappings(session, sync.workspace_id)}
    assert (mappings["Tier__c"].enabled, mappings["Tier__c"].warning) == (False, warning)
    assert mappings["Region__c"].enabled
    assert report.stopped is None and len(report.objects) == len(SYNCED_OBJECTS)


async def test_an_expired_session_mid_pass_is_refreshed_transparently(sync: Sync) -> None:
    fill(sync, accounts=2500)
    await sync.harness.faults({"kind": "session_expired", "path": "/query/*", "times": 1})
    refreshes = sync.harness.token_requests()

    report = await sync.run()

    assert report.stopped is None
    assert sync.harness.token_requests() == refreshes + 1
    assert_mirrored(sync)


async def test_a_connection_that_needs_reauthorizing_stops_the_sync(sync: Sync) -> None:
    fill(sync, accounts=5)
    admin_id = sync.harness.org.meta("admin_user_id")
    await sync.harness.admin("POST", f"/users/{admin_id}/revoke-tokens")
    refreshes = sync.harness.token_requests()

    with pytest.raises(ReauthorizationRequired):
        await sync.run()

    assert sync.harness.token_requests() == refreshes + 1
    error = sync.states()["User"].last_error
    assert error is not None and error.startswith("ReauthorizationRequired")
    assert sync.count(mirror_accounts) == 0


async def test_the_daily_limit_stops_the_cycle_and_keeps_what_it_committed(sync: Sync) -> None:
    fill(sync, accounts=2500, contacts=10)
    await sync.harness.faults({"kind": "request_limit", "path": "/query/*", "times": 1})

    report = await sync.run()

    assert report.stopped is not None and "daily API limit" in report.stopped
    assert [r.sobject for r in report.objects] == ["User"]
    accounts = sync.states()["Account"]
    assert (accounts.phase, accounts.records_done) == (Phase.INITIAL, 2000)
    assert accounts.last_error is not None and "REQUEST_LIMIT_EXCEEDED" in accounts.last_error
    assert sync.count(mirror_accounts) == 2000
    start = sync.mark()

    await sync.run()

    assert_mirrored(sync)
    (account_query,) = queries(sync.api_calls(start), "Account")
    assert f"WHERE Id > '{accounts.cursor_id}'" in account_query


def test_options_are_plain_values() -> None:
    assert SyncOptions().bulk_threshold == 10_000
    assert SyncOptions().look_back == timedelta(minutes=5)
