"""simple-salesforce's Bulk 2.0 client, unchanged, against the org's HTTPS port.

As in test_simple_salesforce.py: a real uvicorn server with the org's self-signed certificate, and
a `requests.Session` that trusts it. `wait=0` only shortens the client's first sleep; it still
polls job states until they are final.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from simple_salesforce import Salesforce


def _records(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_insert_leads_from_a_file_with_per_row_results(sf: Salesforce, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(
        "LastName,Company,Email\n"
        "Lovelace,Analytical,ada@analytical.example\n"
        "Nocompany,,nobody@analytical.example\n"
        "Babbage,Analytical,charles@analytical.example\n"
    )
    outcome = sf.bulk2.Lead.insert(csv_file=str(path), wait=0)
    assert len(outcome) == 1
    job = outcome[0]
    assert (job["numberRecordsProcessed"], job["numberRecordsFailed"]) == (3, 1)
    assert job["numberRecordsTotal"] == 3
    ok = _records(sf.bulk2.Lead.get_successful_records(job["job_id"]))
    assert [(r["sf__Created"], r["LastName"]) for r in ok] == [
        ("true", "Lovelace"), ("true", "Babbage"),
    ]  # fmt: skip
    assert all(r["sf__Id"].startswith("00Q") for r in ok)
    failed = _records(sf.bulk2.Lead.get_failed_records(job["job_id"]))
    assert [(r["sf__Error"], r["Email"]) for r in failed] == [
        ("REQUIRED_FIELD_MISSING:Required fields are missing: [Company]:Company --",
         "nobody@analytical.example"),
    ]  # fmt: skip
    everything = sf.bulk2.Lead.get_all_ingest_records(job["job_id"])
    assert len(everything["successfulRecords"]) == 2
    assert everything["unprocessedRecords"] == []
    found = sf.query("SELECT LastName FROM Lead WHERE Company = 'Analytical' ORDER BY LastName")
    assert [r["LastName"] for r in found["records"]] == ["Babbage", "Lovelace"]


def test_upsert_records_by_id(sf: Salesforce) -> None:
    existing = sf.Account.create({"Name": "Before"})["id"]
    outcome = sf.bulk2.Account.upsert(
        records=[{"Id": existing, "Name": "After"}, {"Id": "", "Name": "New"}],
        external_id_field="Id",
        wait=0,
    )
    assert outcome[0]["numberRecordsFailed"] == 0
    created = {
        r["Name"]: r["sf__Created"]
        for r in _records(sf.bulk2.Account.get_successful_records(outcome[0]["job_id"]))
    }
    assert created == {"After": "false", "New": "true"}
    assert sf.Account.get(existing)["Name"] == "After"


def test_query_pages_by_locator_and_download(sf: Salesforce, tmp_path: Path) -> None:
    names = [f"Bulk Query {i:04d}" for i in range(1203)]
    sf.bulk2.Account.insert(records=[{"Name": n} for n in names], wait=0)
    soql = "SELECT Id, Name FROM Account WHERE Name LIKE 'Bulk Query %'"
    pages = list(sf.bulk2.Account.query(soql, max_records=500, wait=0))
    assert len(pages) == 3
    got = [r["Name"] for page in pages for r in _records(str(page))]
    assert got == names
    downloaded = sf.bulk2.Account.download(soql, path=str(tmp_path), max_records=1000, wait=0)
    assert [d["number_of_records"] for d in downloaded] == [1000, 203]
    assert downloaded[-1]["locator"] == ""
    from_files = [r["Name"] for d in downloaded for r in _records(Path(d["file"]).read_text())]
    assert from_files == names
