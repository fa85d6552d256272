"""The seeder: a realistic, deterministic, consistent data set, in flat memory."""

from __future__ import annotations

import gc
import random
import re
import sys
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from localforce.bootstrap import bootstrap
from localforce.dml import Dml, WriteOptions
from localforce.org import Org, quote_ident
from localforce.schema import FieldType
from localforce.seed import SEED_EPOCH, SeedReport, _stamp, seed
from localforce.values import format_datetime, to_json

SEEDED = ("Account", "Contact", "Lead", "Opportunity", "Campaign", "CampaignMember",
          "CampaignMemberStatus", "RecordType")  # fmt: skip
AUDIT = ("Id", "CreatedDate", "LastModifiedDate", "SystemModstamp")


def _org(path: Path | None = None) -> Org:
    org = Org.open(path)
    bootstrap(org)
    return org


def _rows(org: Org, sql: str, *params: Any) -> list[dict[str, Any]]:
    cursor = org.conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _count(org: Org, sql: str, *params: Any) -> int:
    return int(org.conn.execute(sql, params).fetchone()[0])


def _domain(website: str) -> str:
    """The bare domain of a Website as people type it."""
    host = re.sub(r"^[a-z]+://", "", website.lower()).split("/")[0]
    return host.removeprefix("www.")


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[Org, SeedReport]]:
    org = _org()
    report = seed(org, accounts=1_000, contacts=1_500, leads=1_500, opportunities=1_000, seed=7)
    yield org, report
    org.close()


def test_report_counts_what_was_stored(seeded: tuple[Org, SeedReport]) -> None:
    org, report = seeded
    assert (report.accounts, report.contacts, report.leads, report.opportunities) == (
        1_000, 1_500, 1_500, 1_000
    )  # fmt: skip
    stored = {name: _count(org, f"SELECT count(*) FROM {quote_ident(name)}") for name in SEEDED}
    assert stored == {
        "Account": report.accounts,
        "Contact": report.contacts,
        "Lead": report.leads,
        "Opportunity": report.opportunities,
        "Campaign": report.campaigns,
        "CampaignMember": report.campaign_members,
        "CampaignMemberStatus": report.campaign_member_statuses,
        "RecordType": report.record_types,
    }
    assert report.users == 5  # max(5, records / 20,000)
    assert (
        _count(org, "SELECT count(*) FROM User WHERE Username LIKE '%@seed.localforce.test'") == 5
    )
    assert report.record_types == 2 and 3 <= report.campaigns <= 10
    assert report.campaign_members > 0
    assert 0.05 * report.leads <= report.converted_leads <= 0.12 * report.leads
    assert report.records == sum(stored.values()) + report.users
    assert report.seconds > 0


def test_same_seed_same_data_other_seed_other_data() -> None:
    first, second, other = _org(), _org(), _org()
    for org, value in ((first, 3), (second, 3), (other, 4)):
        seed(org, accounts=300, contacts=400, leads=400, opportunities=300, seed=value)

    def dump(org: Org, name: str) -> list[tuple[Any, ...]]:
        # IDs embed the org's random pod (characters 4-5); everything else must be equal.
        pod = org._pod

        def neutral(value: Any) -> Any:
            is_id = isinstance(value, str) and len(value) == 18 and value[3:5] == pod
            return value[:3] + ".." + value[5:] if is_id else value

        query = f"SELECT * FROM {quote_ident(name)} ORDER BY _rid"
        return [tuple(map(neutral, row)) for row in org.conn.execute(query)]

    for name in SEEDED:
        assert dump(first, name) == dump(second, name), name
    sequence = "SELECT Name, Website FROM Account ORDER BY _rid"
    assert first.conn.execute(sequence).fetchall() == second.conn.execute(sequence).fetchall()
    assert first.conn.execute(sequence).fetchall() != other.conn.execute(sequence).fetchall()
    emails = "SELECT Email FROM Lead ORDER BY _rid"
    assert first.conn.execute(emails).fetchall() != other.conn.execute(emails).fetchall()


def test_every_reference_points_at_a_record_of_the_right_object(
    seeded: tuple[Org, SeedReport],
) -> None:
    org, _ = seeded
    checked = 0
    for name in (*SEEDED, "User"):
        obj = org.object(name)
        assert obj is not None
        for field in obj.fields:
            if field.type is not FieldType.REFERENCE:
                continue
            targets = " UNION ALL ".join(
                f"SELECT Id FROM {quote_ident(t)} WHERE IsDeleted = 0" for t in field.reference_to
            )
            column = quote_ident(field.name)
            dangling = _count(
                org,
                f"SELECT count(*) FROM {quote_ident(name)} WHERE {column} IS NOT NULL "
                f"AND {column} NOT IN ({targets})",
            )
            assert dangling == 0, f"{name}.{field.name}"
            checked += _count(
                org, f"SELECT count(*) FROM {quote_ident(name)} WHERE {column} IS NOT NULL"
            )
    assert checked > 20_000
    assert _count(org, "SELECT count(*) FROM Contact WHERE AccountId IS NULL") == 0
    assert _count(org, "SELECT count(*) FROM Opportunity WHERE AccountId IS NULL") == 0


def test_records_are_spread_over_the_owners(seeded: tuple[Org, SeedReport]) -> None:
    org, _ = seeded
    owners = Counter(r[0] for r in org.conn.execute("SELECT OwnerId FROM Account"))
    assert len(owners) == 5
    assert min(owners.values()) > 100
    profiles = org.conn.execute(
        "SELECT DISTINCT p.Name FROM User u JOIN Profile p ON p.Id = u.ProfileId "
        "WHERE u.Username LIKE '%@seed.localforce.test'"
    ).fetchall()
    assert profiles == [("Standard User",)]
    # A contact or opportunity belongs to its account's owner, as reps work their own accounts.
    for child in ("Contact", "Opportunity"):
        assert _count(
            org,
            f"SELECT count(*) FROM {child} c JOIN Account a ON a.Id = c.AccountId "
            "WHERE c.OwnerId <> a.OwnerId",
        ) == 0  # fmt: skip


def test_websites_are_messy(seeded: tuple[Org, SeedReport]) -> None:
    org, _ = seeded
    websites = [r[0] for r in org.conn.execute("SELECT Website FROM Account")]
    present = [w for w in websites if w is not None]
    assert 0.03 < websites.count(None) / len(websites) < 0.12
    assert any(re.fullmatch(r"http://www\.[a-z0-9.-]+/about", w) for w in present)
    assert any(re.fullmatch(r"https://[a-z0-9-]+\.[a-z.]+", w) for w in present)
    assert any(re.fullmatch(r"www\.[a-z0-9.-]+/", w) for w in present)
    assert any(re.fullmatch(r"[A-Z0-9-]+\.[a-z.]+", w) for w in present)  # ACME.com
    assert any(w.endswith(".co.uk") for w in present)
    assert len({w.split("://")[0] for w in present if "://" in w}) == 2
    assert all(re.fullmatch(r"[a-z0-9-]+(\.[a-z]+)+", _domain(w)) for w in present)


def test_some_accounts_share_a_domain_with_their_parent(seeded: tuple[Org, SeedReport]) -> None:
    org, _ = seeded
    accounts = _rows(org, "SELECT Id, Name, Website, ParentId FROM Account")
    by_id = {a["Id"]: a for a in accounts}
    children = [a for a in accounts if a["ParentId"]]
    assert 0.01 * len(accounts) <= len(children) <= 0.06 * len(accounts)
    for child in children:
        parent = by_id[child["ParentId"]]
        assert child["Name"].split()[:2] == parent["Name"].split()[:2]  # "Acme Logistics EMEA"
    # Domains, from the Website when there is one, are shared only within a company's family.
    families: dict[str, list[str]] = {}
    for account in accounts:
        if account["Website"]:
            root = account["ParentId"] or account["Id"]
            families.setdefault(_domain(account["Website"]), []).append(root)
    assert all(len(set(roots)) == 1 for roots in families.values())
    shared = sum(len(roots) for roots in families.values() if len(roots) > 1)
    assert 0.01 * len(accounts) <= shared <= 0.12 * len(accounts)


def test_contacts_mostly_use_their_accounts_domain(seeded: tuple[Org, SeedReport]) -> None:
    org, _ = seeded
    rows = _rows(
        org,
        "SELECT c.Email, c.FirstName, c.LastName, c.Name, c.Title, a.Website FROM Contact c "
        "JOIN Account a ON a.Id = c.AccountId WHERE a.Website IS NOT NULL",
    )
    at_account = sum(r["Email"].endswith("@" + _domain(r["Website"])) for r in rows)
    assert 0.8 < at_account / len(rows) < 0.95
    free = sum(r["Email"].split("@")[1] in {"gmail.com", "yahoo.com", "outlook.com"} for r in rows)
    assert free > 0
    assert all(r["Name"] == f"{r['FirstName']} {r['LastName']}" and r["Title"] for r in rows)


def test_converted_leads_match_their_contact_and_account(seeded: tuple[Org, SeedReport]) -> None:
    org, report = seeded
    rows = _rows(
        org,
        "SELECT l.*, c.Email AS contact_email, c.Name AS contact_name, c.AccountId AS account, "
        "c.CreatedDate AS contact_created, a.Name AS account_name FROM Lead l "
        "JOIN Contact c ON c.Id = l.ConvertedContactId "
        "JOIN Account a ON a.Id = l.ConvertedAccountId WHERE l.IsConverted = 1",
    )
    assert len(rows) == report.converted_leads
    for lead in rows:
        assert lead["Status"] == "Closed - Converted"
        assert lead["Email"] == lead["contact_email"]
        assert lead["Name"] == lead["contact_name"]
        assert lead["ConvertedAccountId"] == lead["account"]
        assert lead["Company"] == lead["account_name"]
        assert lead["CreatedDate"] <= lead["contact_created"]
        assert lead["ConvertedDate"] == lead["contact_created"][:10]
        assert lead["LastModifiedDate"] == lead["SystemModstamp"] == lead["contact_created"]
    assert len({lead["ConvertedContactId"] for lead in rows}) == len(rows)
    unconverted = _rows(org, "SELECT * FROM Lead WHERE IsConverted = 0")
    assert all(
        r["Status"] != "Closed - Converted" and r["ConvertedContactId"] is None
        and r["ConvertedAccountId"] is None and r["ConvertedDate"] is None
        for r in unconverted
    )  # fmt: skip
    statuses = Counter(r["Status"] for r in unconverted)
    assert set(statuses) == {
        "Open - Not Contacted",
        "Working - Contacted",
        "Closed - Not Converted",
    }
    converted_members = _count(
        org,
        "SELECT count(*) FROM CampaignMember m JOIN Lead l ON l.Id = m.LeadId "
        "WHERE l.IsConverted = 1",
    )
    assert converted_members == 0  # Dml refuses converted leads as members


def test_opportunities_cover_every_stage_and_both_record_types(
    seeded: tuple[Org, SeedReport],
) -> None:
    org, _ = seeded
    stages = {r[0] for r in org.conn.execute("SELECT StageName FROM Opportunity")}
    opportunity = org.object("Opportunity")
    assert opportunity is not None
    stage_field = opportunity.field("StageName")
    assert stage_field is not None
    assert stages == {p.value for p in stage_field.picklist}
    record_types = org.conn.execute(
        "SELECT r.Name, r.SobjectType, count(*) FROM Opportunity o "
        "JOIN RecordType r ON r.Id = o.RecordTypeId GROUP BY r.Name ORDER BY r.Name"
    ).fetchall()
    assert [(name, kind) for name, kind, _ in record_types] == [
        ("New Business", "Opportunity"), ("Renewal", "Opportunity")
    ]  # fmt: skip
    assert all(n > 200 for _, _, n in record_types)
    as_of = SEED_EPOCH.date().isoformat()
    closes = [r[0] for r in org.conn.execute("SELECT CloseDate FROM Opportunity")]
    assert any(c < as_of for c in closes) and any(c > as_of for c in closes)


def test_picklist_values_are_valid(seeded: tuple[Org, SeedReport]) -> None:
    org, _ = seeded
    for name in SEEDED:
        obj = org.object(name)
        assert obj is not None
        for field in obj.fields:
            if field.type is not FieldType.PICKLIST or not field.picklist:
                continue
            allowed = {p.value for p in field.picklist}
            used = {r[0] for r in org.conn.execute(f"SELECT DISTINCT {quote_ident(field.name)} "
                                                   f"FROM {quote_ident(name)}")}  # fmt: skip
            assert used - {None} <= allowed, f"{name}.{field.name}: {used - allowed}"


def test_timestamps_are_in_the_past_and_rise_with_the_ids(seeded: tuple[Org, SeedReport]) -> None:
    org, _ = seeded
    as_of = format_datetime(SEED_EPOCH)
    three_years_earlier = format_datetime(SEED_EPOCH - timedelta(days=3 * 365))
    for name in ("Account", "Contact", "Lead", "Opportunity"):
        created = [r[0] for r in org.conn.execute(f"SELECT CreatedDate FROM {name} ORDER BY _rid")]
        assert created == sorted(created), name
        assert three_years_earlier <= created[0] and created[-1] < as_of
    for name in SEEDED:
        latest = org.conn.execute(f"SELECT max(SystemModstamp) FROM {quote_ident(name)}")
        assert latest.fetchone()[0] < as_of, name
    members = _rows(
        org,
        "SELECT m.CreatedDate, coalesce(l.CreatedDate, c.CreatedDate) AS person, "
        "k.CreatedDate AS campaign FROM CampaignMember m JOIN Campaign k ON k.Id = m.CampaignId "
        "LEFT JOIN Lead l ON l.Id = m.LeadId LEFT JOIN Contact c ON c.Id = m.ContactId",
    )
    assert all(m["CreatedDate"] >= max(m["person"], m["campaign"]) for m in members)


def test_as_of_moves_the_whole_history() -> None:
    org = _org()
    as_of = datetime(2031, 6, 1, 12, tzinfo=UTC)
    seed(org, accounts=50, contacts=50, leads=50, opportunities=50, as_of=as_of)
    newest = org.conn.execute("SELECT max(SystemModstamp) FROM Opportunity").fetchone()[0]
    oldest = org.conn.execute("SELECT min(CreatedDate) FROM Account").fetchone()[0]
    assert oldest[:7] >= "2028-06" and newest < format_datetime(as_of)
    with pytest.raises(ValueError, match="timezone"):
        seed(org, accounts=1, contacts=0, leads=0, opportunities=0, as_of=datetime(2030, 1, 1))


def test_campaign_counters_and_statuses_match_the_members(seeded: tuple[Org, SeedReport]) -> None:
    org, _ = seeded
    campaigns = _rows(org, "SELECT * FROM Campaign")
    for campaign in campaigns:
        members = _rows(org, "SELECT * FROM CampaignMember WHERE CampaignId = ?", campaign["Id"])
        assert campaign["NumberOfLeads"] == sum(1 for m in members if m["LeadId"])
        assert campaign["NumberOfContacts"] == sum(1 for m in members if m["ContactId"])
        assert campaign["NumberOfResponses"] == sum(m["HasResponded"] for m in members)
        statuses = {
            r["Label"]: r
            for r in _rows(
                org, "SELECT * FROM CampaignMemberStatus WHERE CampaignId = ?", campaign["Id"]
            )
        }
        assert statuses["Sent"]["IsDefault"] == 1 and statuses["Sent"]["HasResponded"] == 0
        assert statuses["Responded"]["IsDefault"] == 0 and statuses["Responded"]["HasResponded"]
        assert set(statuses) <= {"Sent", "Responded", "Attended"}
        assert all(s["CreatedDate"] == campaign["CreatedDate"] for s in statuses.values())
        for m in members:
            assert (m["LeadId"] is None) != (m["ContactId"] is None)
            assert m["HasResponded"] == statuses[m["Status"]]["HasResponded"]
            responded_on = m["LastModifiedDate"][:10] if m["HasResponded"] else None
            assert m["FirstRespondedDate"] == responded_on
        assert len({(m["LeadId"], m["ContactId"]) for m in members}) == len(members)
    assert any(c["NumberOfResponses"] for c in campaigns)
    labels = {r[0] for r in org.conn.execute("SELECT Label FROM CampaignMemberStatus")}
    assert labels == {"Sent", "Responded", "Attended"}
    used = {r[0] for r in org.conn.execute("SELECT Status FROM CampaignMember")}
    assert used == labels
    names = _count(
        org,
        "SELECT count(*) FROM CampaignMember m LEFT JOIN Lead l ON l.Id = m.LeadId "
        "LEFT JOIN Contact c ON c.Id = m.ContactId WHERE m.Name IS NOT coalesce(l.Name, c.Name)",
    )
    assert names == 0


def _dml_twin(org: Org, name: str, row: dict[str, Any]) -> dict[str, Any]:
    """Insert through Dml a record with the createable values of a seeded row; return it."""
    obj = org.object(name)
    assert obj is not None
    body = {
        f.name: to_json(f, row[f.name])
        for f in obj.fields
        if f.createable and row[f.name] is not None and f.name not in AUDIT
    }
    dml = Dml(org)
    with org.transaction():
        record_id = dml.insert(obj, body, WriteOptions(user_id=org.meta("admin_user_id") or ""))
    twin = org.fetch_row(obj, record_id)
    assert twin is not None
    return twin


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("Account", "ParentId IS NOT NULL"),
        ("Account", "Website IS NULL"),
        ("Contact", "1"),
        ("Lead", "IsConverted = 0"),
        ("Opportunity", "IsWon = 1"),
        ("Opportunity", "StageName = 'Closed Lost'"),
        ("Opportunity", "IsClosed = 0"),
        ("Campaign", "1"),
        ("RecordType", "1"),
    ],
)
def test_rows_equal_what_dml_would_store(name: str, where: str) -> None:
    org = _org()
    seed(org, accounts=200, contacts=200, leads=200, opportunities=200, seed=1)
    obj = org.object(name)
    assert obj is not None
    columns = ", ".join(quote_ident(f.name) for f in obj.fields)
    row = _rows(org, f"SELECT {columns} FROM {name} WHERE {where} ORDER BY _rid LIMIT 1")[0]
    twin = _dml_twin(org, name, row)
    differing = {k for k in row if row[k] != twin[k]} - set(AUDIT)
    if name == "Campaign":  # the twin has no members yet
        differing -= {"NumberOfLeads", "NumberOfContacts", "NumberOfResponses"}
    if name == "Opportunity":
        differing -= {"LastStageChangeDate"}
        assert row["LastStageChangeDate"] == row["LastModifiedDate"]
        assert twin["LastStageChangeDate"] == twin["LastModifiedDate"]
    assert differing == set(), {k: (row[k], twin[k]) for k in differing}
    if name == "Campaign":
        statuses = "SELECT Label, SortOrder, IsDefault, HasResponded FROM CampaignMemberStatus "
        statuses += "WHERE CampaignId = ? AND Label <> 'Attended' ORDER BY SortOrder"
        seeded = org.conn.execute(statuses, (row["Id"],)).fetchall()
        assert seeded == org.conn.execute(statuses, (twin["Id"],)).fetchall()


def test_campaign_member_rows_equal_what_dml_would_store() -> None:
    org = _org()
    seed(org, accounts=100, contacts=400, leads=400, opportunities=0, seed=2)
    member = _rows(
        org, "SELECT * FROM CampaignMember WHERE HasResponded = 1 AND LeadId IS NOT NULL"
    )[0]
    lead = _rows(org, "SELECT * FROM Lead WHERE Id = ?", member["LeadId"])[0]
    new_lead = _dml_twin(org, "Lead", lead)
    twin = _dml_twin(org, "CampaignMember", {**member, "LeadId": new_lead["Id"]})
    for key in ("CampaignId", "Status", "HasResponded", "Name"):
        assert member[key] == twin[key], key
    assert twin["FirstRespondedDate"] == twin["LastModifiedDate"][:10]
    assert member["FirstRespondedDate"] == member["LastModifiedDate"][:10]


def test_a_second_run_appends_consistently(tmp_path: Path) -> None:
    org = _org(tmp_path)
    first = seed(org, accounts=200, contacts=300, leads=300, opportunities=200, seed=5)
    last_ids = {
        name: org.conn.execute(f"SELECT max(Id) FROM {name}").fetchone()[0]
        for name in ("Account", "Contact", "Lead", "Opportunity")
    }
    first_names = {r[0] for r in org.conn.execute("SELECT Name FROM Account")}
    second = seed(org, accounts=200, contacts=300, leads=300, opportunities=200, seed=5)
    assert first.users == 5 and second.users == 0  # the seed users are reused
    assert second.record_types == 0  # so are the record types
    for name, last in last_ids.items():
        assert _count(org, f"SELECT count(*) FROM {name} WHERE Id > ?", last) == {
            "Account": 200, "Contact": 300, "Lead": 300, "Opportunity": 200,
        }[name]  # fmt: skip
    new_names = {r[0] for r in org.conn.execute("SELECT Name FROM Account WHERE Id > ?",
                                                (last_ids["Account"],))}  # fmt: skip
    assert len(new_names & first_names) < 10  # new companies, not the first run's again
    # The new contacts belong to the new accounts; references stay whole.
    assert _count(org, "SELECT count(*) FROM Contact WHERE Id > ? AND AccountId <= ?",
                  last_ids["Contact"], last_ids["Account"]) == 0  # fmt: skip
    org.close()
    reopened = Org.open(tmp_path)
    assert _count(reopened, "SELECT count(*) FROM Account") == 400
    assert (
        _count(reopened, "SELECT count(*) FROM RecordType WHERE SobjectType = 'Opportunity'") == 2
    )
    reopened.close()


def test_progress_reports_each_object_up_to_its_total() -> None:
    calls: list[tuple[str, int, int]] = []
    org = _org()
    seed(org, accounts=12_000, contacts=10, leads=10, opportunities=0,
         progress=lambda *call: calls.append(call))  # fmt: skip
    accounts = [(done, total) for name, done, total in calls if name == "Account"]
    assert accounts == [(0, 12_000), (5_000, 12_000), (10_000, 12_000), (12_000, 12_000)]
    assert {name for name, _, _ in calls} == {"User", "Account", "Contact", "Lead"}
    assert all(done <= total for _, done, total in calls)


def test_bad_arguments_are_refused() -> None:
    org = _org()
    with pytest.raises(ValueError, match="negative"):
        seed(org, accounts=-1, contacts=0, leads=0, opportunities=0)
    with pytest.raises(ValueError, match="accounts"):
        seed(org, accounts=0, contacts=5, leads=0, opportunities=0)
    with pytest.raises(ValueError, match="bootstrap"):
        seed(Org.open(None), accounts=1, contacts=0, leads=0, opportunities=0)
    empty = seed(org, accounts=0, contacts=0, leads=10, opportunities=0)
    assert (empty.leads, empty.converted_leads, empty.accounts) == (10, 0, 0)


def test_timestamps_format_like_values_format_datetime() -> None:
    rng = random.Random(0)
    for ms in [0, 86_399_999, *(rng.randrange(4_000_000_000_000) for _ in range(2_000))]:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
        assert _stamp(ms) == format_datetime(moment)


def test_memory_stays_flat_while_seeding_200k_records(tmp_path: Path) -> None:
    """Nothing a run keeps grows with its size: between batches of a 200,000-record run, Python
    holds no more live objects than before it started (give or take caches), where keeping every
    row would add millions; and the peak within a batch, traced on a smaller run because tracing
    costs ~6x, is a few megabytes."""
    org = _org(tmp_path / "big")
    gc.collect()
    baseline = sys.getallocatedblocks()
    samples: list[int] = []
    seed(org, accounts=40_000, contacts=60_000, leads=60_000, opportunities=40_000,
         progress=lambda *_: samples.append(sys.getallocatedblocks()))  # fmt: skip
    # One batch of rows alone is ~50,000 blocks.
    assert max(samples) - baseline < 20_000, (baseline, max(samples))
    org.close()

    small = _org(tmp_path / "small")
    tracemalloc.start()
    try:
        seed(small, accounts=5_000, contacts=5_000, leads=2_000, opportunities=1_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, peak
    small.close()
