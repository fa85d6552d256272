"""Bulk API 2.0 conformance, through HTTP: query and ingest jobs, every state, CSV dialects,
per-row results, errors, paging by locator, limits, and a restart in the middle of it all.

The state table itself is pure and tested directly, as h11 tests its connection state.
"""

from __future__ import annotations

import csv
import io
import time
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from localforce import api as api_module
from localforce import oauth
from localforce.app import create_app
from localforce.bootstrap import Credentials
from localforce.bulk import _handlers, _upload
from localforce.bulk._csv import java_double
from localforce.bulk._state import Action, JobState, JobStateError, JobType, next_state
from localforce.org import Org
from localforce.schema import FieldDef, FieldType

from .conftest import Api

TERMINAL = ("JobComplete", "Failed", "Aborted")


# -- helpers --------------------------------------------------------------------------------


def wait(api: Api, kind: str, job_id: str) -> dict[str, Any]:
    """Poll a job until it reaches a terminal state, as a client does."""
    deadline = time.monotonic() + 20
    while True:
        response = api.get(f"/jobs/{kind}/{job_id}")
        assert response.status_code == 200, response.text
        info: dict[str, Any] = response.json()
        if info["state"] in TERMINAL or time.monotonic() > deadline:
            return info
        time.sleep(0.01)


def create_ingest(api: Api, obj: str, operation: str, **extra: Any) -> dict[str, Any]:
    response = api.post("/jobs/ingest", json={"object": obj, "operation": operation, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def upload(api: Api, job_id: str, data: str | bytes) -> httpx.Response:
    return api.request(
        "PUT", f"/jobs/ingest/{job_id}/batches", content=data,
        headers={"Content-Type": "text/csv"},
    )  # fmt: skip


def close(api: Api, job_id: str) -> httpx.Response:
    return api.patch(f"/jobs/ingest/{job_id}", json={"state": "UploadComplete"})


def ingest(api: Api, obj: str, operation: str, data: str, **extra: Any) -> dict[str, Any]:
    """Create, upload, close and wait: the whole client side of an ingest job."""
    job = create_ingest(api, obj, operation, **extra)
    assert upload(api, job["id"], data).status_code == 201
    assert close(api, job["id"]).status_code == 200
    return wait(api, "ingest", job["id"])


def rows(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def results(api: Api, job_id: str, kind: str) -> list[dict[str, str]]:
    response = api.get(f"/jobs/ingest/{job_id}/{kind}/")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=UTF-8"
    return rows(response.text)


def run_query(api: Api, soql: str, **extra: Any) -> dict[str, Any]:
    response = api.post("/jobs/query", json={"operation": "query", "query": soql, **extra})
    assert response.status_code == 200, response.text
    return wait(api, "query", response.json()["id"])


def all_pages(api: Api, job_id: str, max_records: int | None = None) -> Iterator[httpx.Response]:
    locator = ""
    while True:
        params: dict[str, Any] = {"locator": locator} if locator else {}
        if max_records is not None:
            params["maxRecords"] = max_records
        response = api.get(f"/jobs/query/{job_id}/results", params=params)
        assert response.status_code == 200, response.text
        yield response
        locator = response.headers["Sforce-Locator"]
        if locator == "null":
            return


def accounts_csv(count: int, start: int = 0) -> str:
    lines = ["Name,NumberOfEmployees,Website"]
    lines += [f"Bulk {i:05d},{i},https://bulk{i}.example" for i in range(start, start + count)]
    return "\n".join(lines) + "\n"


NOT_FOUND = [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


# -- the state table (pure) ------------------------------------------------------------------


def test_an_ingest_job_moves_from_open_to_complete() -> None:
    state: JobState | None = JobState.OPEN
    for action, expected in [
        (Action.UPLOAD, JobState.OPEN),
        (Action.CLOSE, JobState.UPLOAD_COMPLETE),
        (Action.START, JobState.IN_PROGRESS),
        (Action.READ_RESULTS, JobState.IN_PROGRESS),
        (Action.FINISH, JobState.JOB_COMPLETE),
        (Action.DELETE, None),
    ]:
        assert state is not None
        state = next_state(JobType.INGEST, state, action)
        assert state is expected


@pytest.mark.parametrize(
    ("job_type", "state", "action", "code", "message"),
    [
        (JobType.QUERY, JobState.JOB_COMPLETE, Action.ABORT, "INVALIDJOBSTATE",
         "Aborting already Completed Job not allowed"),
        (JobType.INGEST, JobState.FAILED, Action.ABORT, "INVALIDJOBSTATE",
         "Aborting already Failed Job not allowed"),
        (JobType.QUERY, JobState.IN_PROGRESS, Action.DELETE, "API_ERROR",
         "Error encountered when deleting the job because the job is not terminated"),
        (JobType.INGEST, JobState.OPEN, Action.DELETE, "API_ERROR",
         "Error encountered when deleting the job because the job is not terminated"),
        (JobType.QUERY, JobState.UPLOAD_COMPLETE, Action.CLOSE, "INVALIDJOBSTATE",
         "Changing the job state from UploadComplete to UploadComplete is not allowed"),
        (JobType.INGEST, JobState.UPLOAD_COMPLETE, Action.UPLOAD, "INVALIDJOBSTATE",
         "Data can only be uploaded to an Open job; this job is UploadComplete"),
        (JobType.QUERY, JobState.IN_PROGRESS, Action.READ_RESULTS, "INVALIDJOBSTATE",
         "Failed to retrieve query results: the job is InProgress, not JobComplete"),
    ],
)  # fmt: skip
def test_refused_moves_carry_salesforce_errors(
    job_type: JobType, state: JobState, action: Action, code: str, message: str
) -> None:
    with pytest.raises(JobStateError) as refused:
        next_state(job_type, state, action)
    assert (refused.value.status, refused.value.error_code, refused.value.message) == (
        400, code, message,
    )  # fmt: skip


def test_the_runner_cannot_restart_a_finished_job() -> None:
    for state in (JobState.JOB_COMPLETE, JobState.FAILED, JobState.ABORTED, JobState.OPEN):
        with pytest.raises(JobStateError):
            next_state(JobType.INGEST, state, Action.START)


@pytest.mark.parametrize(
    ("value", "text"),
    [(2676.0, "2676.0"), (912260031.0, "9.12260031E8"), (1e7, "1.0E7"), (0.5, "0.5"),
     (0.0001, "1.0E-4"), (-35000000.0, "-3.5E7"), (0.0, "0.0")],
)  # fmt: skip
def test_numbers_are_printed_as_java_prints_doubles(value: float, text: str) -> None:
    assert java_double(value) == text


# -- query jobs ------------------------------------------------------------------------------


def test_query_job_lifecycle_and_job_info(api: Api, creds: Credentials) -> None:
    api.create("Account", Name="Acme", NumberOfEmployees=12)
    created = api.post(
        "/jobs/query", json={"operation": "query", "query": "SELECT Id, Name FROM Account"}
    )
    assert created.status_code == 200
    job = created.json()
    assert list(job) == [
        "id", "operation", "object", "createdById", "createdDate", "systemModstamp", "state",
        "concurrencyMode", "contentType", "apiVersion", "lineEnding", "columnDelimiter",
    ]  # fmt: skip
    assert job["id"].startswith("750") and len(job["id"]) == 18
    assert job["state"] == "UploadComplete"
    assert (job["object"], job["createdById"], job["apiVersion"]) == (
        "Account", creds.user_id, 62.0,
    )  # fmt: skip
    info = wait(api, "query", job["id"])
    assert info["state"] == "JobComplete"
    assert info["jobType"] == "V2Query" and info["numberRecordsProcessed"] == 1
    assert info["retries"] == 0 and isinstance(info["totalProcessingTime"], int)
    assert info["isPkChunkingSupported"] is True and "numberRecordsFailed" not in info
    page = api.get(f"/jobs/query/{job['id']}/results")
    assert page.headers["Sforce-Locator"] == "null"
    assert page.headers["Sforce-NumberOfRecords"] == "1"
    assert page.text.splitlines()[0] == '"Id","Name"'
    assert rows(page.text)[0]["Name"] == "Acme"


def test_query_results_use_salesforce_csv_values_and_dotted_relationships(api: Api) -> None:
    account = api.create("Account", Name="Parent Co", AnnualRevenue=912260031)
    api.create("Contact", LastName="Child", AccountId=account, Birthdate="1990-05-17",
               DoNotCall=True)  # fmt: skip
    api.create("Contact", LastName="Orphan")
    info = run_query(
        api,
        "SELECT Name, Account.Name, Account.AnnualRevenue, Birthdate, DoNotCall, CreatedDate "
        "FROM Contact ORDER BY LastName",
        columnDelimiter="TAB",
        lineEnding="CRLF",
    )
    page = api.get(f"/jobs/query/{info['id']}/results")
    assert "\r\n" in page.text and "\t" in page.text
    got = rows(page.text, "\t")
    assert list(got[0]) == [
        "Name", "Account.Name", "Account.AnnualRevenue", "Birthdate", "DoNotCall", "CreatedDate",
    ]  # fmt: skip
    child, orphan = got
    assert child["Account.Name"] == "Parent Co"
    assert child["Account.AnnualRevenue"] == "9.12260031E8"
    assert child["Birthdate"] == "1990-05-17" and child["DoNotCall"] == "true"
    assert child["CreatedDate"].endswith("Z") and len(child["CreatedDate"]) == 24
    assert orphan["Account.Name"] == "" and orphan["DoNotCall"] == "false"
    # Every value is quoted, an empty one too, as Salesforce writes them.
    assert page.text.splitlines()[2].split("\t")[1] == '""'


def test_query_pages_follow_locators_and_can_be_fetched_again(api: Api) -> None:
    ingest(api, "Account", "insert", accounts_csv(2500))
    info = run_query(api, "SELECT Id, Name FROM Account")
    assert info["numberRecordsProcessed"] == 2500
    pages = list(all_pages(api, info["id"], max_records=1000))
    assert [p.headers["Sforce-NumberOfRecords"] for p in pages] == ["1000", "1000", "500"]
    names = [r["Name"] for p in pages for r in rows(p.text)]
    assert names == [f"Bulk {i:05d}" for i in range(2500)]
    second = pages[0].headers["Sforce-Locator"]
    again = api.get(f"/jobs/query/{info['id']}/results", params={"locator": second,
                                                                 "maxRecords": 1000})  # fmt: skip
    assert again.text == pages[1].text
    # Without maxRecords the rest comes in one page.
    rest = api.get(f"/jobs/query/{info['id']}/results", params={"locator": second})
    assert rest.headers["Sforce-NumberOfRecords"] == "1500"
    assert rest.headers["Sforce-Locator"] == "null"


def test_ordered_and_limited_queries_keep_their_order_across_pages(api: Api) -> None:
    ingest(api, "Account", "insert", accounts_csv(1200))
    info = run_query(api, "SELECT Name FROM Account ORDER BY Name DESC LIMIT 1100")
    assert info["numberRecordsProcessed"] == 1100
    names = [r["Name"] for p in all_pages(api, info["id"], 400) for r in rows(p.text)]
    assert names == [f"Bulk {i:05d}" for i in range(1199, 99, -1)]


def test_query_results_are_the_records_that_existed_when_the_job_ran(api: Api) -> None:
    api.create("Account", Name="Before")
    info = run_query(api, "SELECT Name FROM Account")
    api.create("Account", Name="After")
    assert [r["Name"] for r in rows(api.get(f"/jobs/query/{info['id']}/results").text)] == [
        "Before"
    ]


def test_query_all_includes_deleted_records(api: Api) -> None:
    gone = api.create("Lead", LastName="Gone", Company="G")
    api.create("Lead", LastName="Kept", Company="K")
    assert api.delete(f"/sobjects/Lead/{gone}").status_code == 204
    live = run_query(api, "SELECT LastName FROM Lead")
    everything = run_query(api, "SELECT LastName, IsDeleted FROM Lead", operation="queryAll")
    assert everything["operation"] == "queryAll"
    assert rows(api.get(f"/jobs/query/{live['id']}/results").text) == [{"LastName": "Kept"}]
    got = rows(api.get(f"/jobs/query/{everything['id']}/results").text)
    assert {r["LastName"]: r["IsDeleted"] for r in got} == {"Gone": "true", "Kept": "false"}


def test_a_bad_query_fails_at_creation_with_the_rest_error(api: Api) -> None:
    soql = "SELECT Nope FROM Account"
    rest = api.query(soql)
    bulk = api.post("/jobs/query", json={"operation": "query", "query": soql})
    assert bulk.status_code == rest.status_code == 400
    assert bulk.json() == rest.json()
    assert bulk.json()[0]["errorCode"] == "INVALID_FIELD"
    syntax = api.post("/jobs/query", json={"operation": "query", "query": "SELEC Id FROM X"})
    assert syntax.json() == api.query("SELEC Id FROM X").json()


@pytest.mark.parametrize(
    ("soql", "message"),
    [
        ("SELECT Name, (SELECT LastName FROM Contacts) FROM Account",
         "Aggregate Relationships not supported in Bulk Query"),
        ("SELECT COUNT() FROM Account", "Aggregate queries are not supported in Bulk Query"),
        ("SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry",
         "Aggregate queries are not supported in Bulk Query"),
        ("SELECT Name FROM Account LIMIT 5 OFFSET 2", "OFFSET is not supported in Bulk Query"),
        ("SELECT FIELDS(STANDARD) FROM Account", "FIELDS() is not supported in Bulk Query"),
    ],
)  # fmt: skip
def test_queries_bulk_cannot_run_are_refused(api: Api, soql: str, message: str) -> None:
    response = api.post("/jobs/query", json={"operation": "query", "query": soql})
    assert response.status_code == 400
    assert response.json() == [{"message": message, "errorCode": "API_ERROR"}]


def test_query_job_abort_delete_and_not_found(api: Api) -> None:
    info = run_query(api, "SELECT Id FROM Account")
    aborted = api.patch(f"/jobs/query/{info['id']}", json={"state": "Aborted"})
    assert aborted.status_code == 400
    assert aborted.json() == [
        {"message": "Aborting already Completed Job not allowed", "errorCode": "INVALIDJOBSTATE"}
    ]
    assert api.delete(f"/jobs/query/{info['id']}").status_code == 204
    for response in (
        api.get(f"/jobs/query/{info['id']}"),
        api.get(f"/jobs/query/{info['id']}/results"),
        api.delete(f"/jobs/query/{info['id']}"),
    ):
        assert response.status_code == 404 and response.json() == NOT_FOUND


def test_unknown_and_mistyped_jobs_are_not_found(api: Api) -> None:
    query_job = run_query(api, "SELECT Id FROM Account")
    ingest_job = create_ingest(api, "Account", "insert")
    for path in (
        "/jobs/query/7505e0000000001AAA",
        "/jobs/query/not-an-id",
        f"/jobs/query/{ingest_job['id']}",
        f"/jobs/ingest/{query_job['id']}",
        f"/jobs/ingest/{query_job['id']}/successfulResults",
        f"/jobs/ingest/{ingest_job['id']}/nonsenseResults",
    ):
        response = api.get(path)
        assert response.status_code == 404 and response.json() == NOT_FOUND, path
    assert upload(api, query_job["id"], "Name\nx\n").status_code == 404


def test_results_need_a_complete_job_and_the_same_api_version(api: Api) -> None:
    info = run_query(api, "SELECT Id FROM Account")
    other = api.get(f"/services/data/v61.0/jobs/query/{info['id']}/results")
    assert other.status_code == 409
    bad_locator = api.get(f"/jobs/query/{info['id']}/results", params={"locator": "!!"})
    assert bad_locator.status_code == 400
    assert bad_locator.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    zero = api.get(f"/jobs/query/{info['id']}/results", params={"maxRecords": "0"})
    assert zero.status_code == 400


def test_bulk_resources_exist_from_their_api_versions(api: Api) -> None:
    assert api.get("/services/data/v40.0/jobs/ingest").status_code == 404
    assert api.get("/services/data/v41.0/jobs/ingest").status_code == 200
    assert api.get("/services/data/v46.0/jobs/query").status_code == 404
    assert api.get("/services/data/v47.0/jobs/query").json()["done"] is True


def test_job_lists_page_through_every_job(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_handlers, "LIST_PAGE", 2)
    ids = [create_ingest(api, "Account", "insert")["id"] for _ in range(3)]
    first = api.get("/jobs/ingest").json()
    assert first["done"] is False and len(first["records"]) == 2
    assert first["records"][0]["jobType"] == "V2Ingest"
    assert first["records"][0]["contentUrl"].endswith(f"{ids[0]}/batches")
    assert first["nextRecordsUrl"].startswith("/services/data/v62.0/jobs/ingest?queryLocator=")
    second = api.get(first["nextRecordsUrl"]).json()
    assert second == {"done": True, "records": second["records"], "nextRecordsUrl": None}
    assert [r["id"] for r in first["records"] + second["records"]] == ids
    assert api.get("/jobs/ingest", params={"jobType": "Classic"}).json()["records"] == []
    assert api.get("/jobs/query").json()["records"] == []


def test_query_jobs_are_limited_per_day(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_handlers, "DAILY_QUERY_JOBS", 2)
    for _ in range(2):
        job = run_query(api, "SELECT Id FROM Account")
    assert api.delete(f"/jobs/query/{job['id']}").status_code == 204  # deleting does not refund
    refused = api.post("/jobs/query", json={"operation": "query", "query": "SELECT Id FROM Lead"})
    assert refused.status_code == 400
    assert refused.json() == [{
        "message": "Max bulk v2 query jobs (2) per 24 hrs has been reached",
        "errorCode": "LIMIT_EXCEEDED",
    }]  # fmt: skip


def test_results_are_compressed_for_clients_that_accept_gzip(api: Api) -> None:
    info = run_query(api, "SELECT Id FROM Account")
    plain = api.get(f"/jobs/query/{info['id']}/results", headers={"Accept-Encoding": "identity"})
    packed = api.get(f"/jobs/query/{info['id']}/results", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip" and packed.text == plain.text


# -- ingest jobs -----------------------------------------------------------------------------


def test_ingest_job_lifecycle_with_per_row_results(api: Api, creds: Credentials) -> None:
    job = create_ingest(api, "Lead", "insert")
    assert list(job) == [
        "id", "operation", "object", "createdById", "createdDate", "systemModstamp", "state",
        "concurrencyMode", "contentType", "apiVersion", "contentUrl", "lineEnding",
        "columnDelimiter",
    ]  # fmt: skip
    assert job["state"] == "Open"
    assert job["contentUrl"] == f"services/data/v62.0/jobs/ingest/{job['id']}/batches"
    data = (
        "LastName,Company,Email,AnnualRevenue\n"
        "Ada,Acme,ada@acme.example,912260031\n"
        "Bob,,bob@acme.example,\n"
        'Cy,"Co, Inc.",not-an-email,5\n'
    )
    uploaded = upload(api, job["id"], data)
    assert uploaded.status_code == 201 and uploaded.content == b""
    closed = close(api, job["id"])
    assert closed.json()["state"] == "UploadComplete"
    assert list(closed.json()) == [
        "id", "operation", "object", "createdById", "createdDate", "systemModstamp", "state",
        "concurrencyMode", "contentType", "apiVersion",
    ]  # fmt: skip
    info = wait(api, "ingest", job["id"])
    assert info["state"] == "JobComplete" and info["jobType"] == "V2Ingest"
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (3, 2)
    for key in ("retries", "totalProcessingTime", "apiActiveProcessingTime", "apexProcessingTime"):
        assert isinstance(info[key], int)
    assert "contentUrl" not in info and "errorMessage" not in info
    ok = results(api, job["id"], "successfulResults")
    assert ok == [{
        "sf__Id": ok[0]["sf__Id"], "sf__Created": "true", "LastName": "Ada", "Company": "Acme",
        "Email": "ada@acme.example", "AnnualRevenue": "9.12260031E8",
    }]  # fmt: skip
    assert api.get(f"/sobjects/Lead/{ok[0]['sf__Id']}").json()["CreatedById"] == creds.user_id
    failed = results(api, job["id"], "failedResults")
    assert [(r["sf__Id"], r["sf__Error"], r["LastName"]) for r in failed] == [
        ("", "REQUIRED_FIELD_MISSING:Required fields are missing: [Company]:Company --", "Bob"),
        ("", "INVALID_EMAIL_ADDRESS:Email: invalid email address: not-an-email:Email --", "Cy"),
    ]
    assert failed[1]["Company"] == "Co, Inc."
    assert results(api, job["id"], "unprocessedrecords") == []
    raw = api.get(f"/jobs/ingest/{job['id']}/successfulResults").text
    assert raw.splitlines()[0] == '"sf__Id","sf__Created",LastName,Company,Email,AnnualRevenue'


@pytest.mark.parametrize("delimiter", ["COMMA", "TAB", "PIPE", "SEMICOLON", "CARET", "BACKQUOTE"])
@pytest.mark.parametrize("line_ending", ["LF", "CRLF"])
def test_every_csv_dialect_is_read_and_answered_in_kind(
    api: Api, delimiter: str, line_ending: str
) -> None:
    sep = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^",
           "BACKQUOTE": "`"}[delimiter]  # fmt: skip
    end = "\r\n" if line_ending == "CRLF" else "\n"
    data = end.join([
        sep.join(["Name", "Description"]),
        sep.join(["Plain", f'"has {sep} and ""quotes"""']),
        sep.join(["Multi", '"two\nlines"' if line_ending == "LF" else '"one line"']),
    ]) + end  # fmt: skip
    info = ingest(api, "Account", "insert", data, columnDelimiter=delimiter,
                  lineEnding=line_ending)  # fmt: skip
    assert info["state"] == "JobComplete" and info["numberRecordsFailed"] == 0
    answer = api.get(f"/jobs/ingest/{info['id']}/successfulResults").text
    assert answer.splitlines()[0].startswith(f'"sf__Id"{sep}"sf__Created"{sep}Name')
    got = rows(answer, sep)
    assert got[0]["Description"] == f'has {sep} and "quotes"'
    stored = api.query("SELECT Name, Description FROM Account ORDER BY Name").json()["records"]
    assert [(r["Name"], r["Description"]) for r in stored][1] == (
        "Plain", f'has {sep} and "quotes"',
    )  # fmt: skip


@pytest.mark.parametrize(("declared", "sent"), [("LF", "\r\n"), ("CRLF", "\n")])
def test_a_line_ending_other_than_declared_fails_the_job(
    api: Api, declared: str, sent: str
) -> None:
    data = sent.join(["Name", "One", "Two"]) + sent
    info = ingest(api, "Account", "insert", data, lineEnding=declared)
    assert info["state"] == "Failed"
    assert info["errorMessage"] == (
        f"ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is "
        f"{declared}"
    )
    assert info["numberRecordsProcessed"] == 0
    assert api.query("SELECT Id FROM Account").json()["totalSize"] == 0
    assert len(results(api, info["id"], "unprocessedrecords")) == 2


def test_an_unknown_column_fails_the_job_before_any_write(api: Api) -> None:
    info = ingest(api, "Account", "insert", "Name,Nope__c\nA,x\n")
    assert (info["state"], info["errorMessage"]) == (
        "Failed", "InvalidBatch : Field name not found : Nope__c",
    )  # fmt: skip
    assert results(api, info["id"], "unprocessedrecords") == [{"Name": "A", "Nope__c": "x"}]
    assert results(api, info["id"], "failedResults") == []


def test_update_ignores_empty_values_and_nulls_na(api: Api) -> None:
    lead = api.create("Lead", LastName="Ada", Company="Acme", Title="CTO", Phone="555")
    info = ingest(api, "Lead", "update", f"Id,Title,Phone\n{lead},,#N/A\n,x,y\n")
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (2, 1)
    record = api.get(f"/sobjects/Lead/{lead}").json()
    assert (record["Title"], record["Phone"]) == ("CTO", None)
    assert results(api, info["id"], "successfulResults")[0]["sf__Created"] == "false"
    assert results(api, info["id"], "failedResults")[0]["sf__Error"] == (
        "MISSING_ARGUMENT:Id not specified in an update call:Id --"
    )


def test_upsert_by_external_id_with_a_relationship_column(api: Api, org: Org) -> None:
    for obj in ("Account", "Contact"):
        org.add_custom_field(obj, FieldDef(name="Ext__c", label="Ext", type=FieldType.STRING,
                                           length=20, external_id=True, unique=True))  # fmt: skip
    parents = ingest(api, "Account", "upsert", "Ext__c,Name\nA1,Alpha\nB2,Beta\n",
                     externalIdFieldName="Ext__c")  # fmt: skip
    assert parents["externalIdFieldName"] == "Ext__c" and parents["numberRecordsFailed"] == 0
    again = ingest(api, "Account", "upsert", "Ext__c,Name\nA1,Alpha Prime\nC3,Gamma\n",
                   externalIdFieldName="ext__c")  # fmt: skip
    assert [r["sf__Created"] for r in results(api, again["id"], "successfulResults")] == [
        "false", "true",
    ]  # fmt: skip
    data = "Ext__c,LastName,Account.Ext__c\nc1,One,A1\nc2,Two,ZZ\nc1,Dup,B2\n,Keyless,B2\n"
    children = ingest(api, "Contact", "upsert", data, externalIdFieldName="Ext__c")
    assert (children["numberRecordsProcessed"], children["numberRecordsFailed"]) == (4, 3)
    contact = api.get("/sobjects/Contact/Ext__c/c1").json()
    assert contact["AccountId"] == api.get("/sobjects/Account/Ext__c/A1").json()["Id"]
    errors = [r["sf__Error"] for r in results(api, children["id"], "failedResults")]
    assert errors == [
        "INVALID_FIELD:Foreign key external ID: ZZ not found for field Ext__c in entity "
        "Account:AccountId --",
        "DUPLICATE_EXTERNAL_ID:Duplicate external id specified: c1:Ext__c --",
        "MISSING_ARGUMENT:Ext__c not specified:Ext__c --",
    ]


def test_a_polymorphic_lookup_column_names_its_type(api: Api) -> None:
    lead = api.create("Lead", LastName="Who", Company="W", Email="who@lead.example")
    info = ingest(api, "Task", "insert",
                  "Subject,Lead:Who.Email\nCall,who@lead.example\n")  # fmt: skip
    assert info["numberRecordsFailed"] == 0
    task = results(api, info["id"], "successfulResults")[0]["sf__Id"]
    assert api.get(f"/sobjects/Task/{task}").json()["WhoId"] == lead
    bare = ingest(api, "Task", "insert", "Subject,Who.Email\nCall,who@lead.example\n")
    assert bare["errorMessage"] == "InvalidBatch : Field name not found : Who.Email"


def test_delete_recycles_and_hard_delete_purges(api: Api) -> None:
    soft = api.create("Account", Name="Soft")
    hard = api.create("Account", Name="Hard")
    deleted = ingest(api, "Account", "delete", f"Id\n{soft}\n001000000000000AAA\n")
    assert (deleted["numberRecordsProcessed"], deleted["numberRecordsFailed"]) == (2, 1)
    failed = results(api, deleted["id"], "failedResults")[0]
    assert failed["sf__Id"] == "001000000000000AAA"
    assert failed["sf__Error"].startswith("NOT_FOUND:") or failed["sf__Error"].startswith(
        "MALFORMED_ID:"
    )
    purged = ingest(api, "Account", "hardDelete", f"Id\n{hard}\n")
    assert purged["numberRecordsFailed"] == 0
    everything = api.get("/queryAll", params={"q": "SELECT Name, IsDeleted FROM Account"})
    assert [(r["Name"], r["IsDeleted"]) for r in everything.json()["records"]] == [("Soft", True)]


def test_abort_an_open_job_and_what_it_refuses_next(api: Api) -> None:
    job = create_ingest(api, "Account", "insert")
    assert upload(api, job["id"], "Name\nA\nB\n").status_code == 201
    aborted = api.patch(f"/jobs/ingest/{job['id']}", json={"state": "Aborted"})
    assert aborted.status_code == 200 and aborted.json()["state"] == "Aborted"
    again = upload(api, job["id"], "Name\nC\n")
    assert again.status_code == 400 and again.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    closing = close(api, job["id"])
    assert closing.json() == [{
        "message": "Changing the job state from Aborted to UploadComplete is not allowed",
        "errorCode": "INVALIDJOBSTATE",
    }]  # fmt: skip
    assert results(api, job["id"], "unprocessedrecords") == [{"Name": "A"}, {"Name": "B"}]
    assert api.query("SELECT Id FROM Account").json()["totalSize"] == 0


def test_bad_state_changes_and_deletes(api: Api) -> None:
    job = create_ingest(api, "Account", "insert")
    path = f"/jobs/ingest/{job['id']}"
    bogus = api.patch(path, json={"state": "Bogus"})
    assert bogus.status_code == 400 and bogus.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    forced = api.patch(path, json={"state": "JobComplete"})
    assert forced.json() == [{
        "message": "Changing the job state from Open to JobComplete is not allowed",
        "errorCode": "INVALIDJOBSTATE",
    }]  # fmt: skip
    early = api.delete(path)
    assert early.status_code == 400 and early.json() == [{
        "message": "Error encountered when deleting the job because the job is not terminated",
        "errorCode": "API_ERROR",
    }]  # fmt: skip
    assert api.post(path, json={}).status_code == 405
    assert close(api, job["id"]).status_code == 200
    info = wait(api, "ingest", job["id"])
    assert (info["state"], info["numberRecordsProcessed"]) == ("JobComplete", 0)
    twice = close(api, job["id"])
    assert twice.status_code == 400 and twice.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    assert api.delete(path).status_code == 204
    assert api.get(path).json() == NOT_FOUND


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"object": "Nope__c", "operation": "insert"}, "INVALIDENTITY"),
        ({"object": "Account", "operation": "merge"}, "JSON_PARSER_ERROR"),
        ({"object": "Account", "operation": "upsert"}, "INVALIDJOB"),
        ({"object": "Account", "operation": "upsert", "externalIdFieldName": "Name"},
         "INVALIDJOB"),
        ({"object": "Account", "operation": "insert", "columnDelimiter": "SPACE"},
         "JSON_PARSER_ERROR"),
        ({"object": "Account", "operation": "insert", "contentType": "JSON"},
         "JSON_PARSER_ERROR"),
        ({"operation": "insert"}, "INVALIDJOB"),
    ],
)  # fmt: skip
def test_job_creation_is_validated(api: Api, body: dict[str, Any], code: str) -> None:
    response = api.post("/jobs/ingest", json=body)
    assert response.status_code == 400 and response.json()[0]["errorCode"] == code


def test_uploads_must_be_csv_and_within_the_limit(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = create_ingest(api, "Account", "insert")
    wrong = api.request("PUT", f"/jobs/ingest/{job['id']}/batches", content="Name\nA\n",
                        headers={"Content-Type": "text/plain"})  # fmt: skip
    assert wrong.status_code == 415
    monkeypatch.setattr(_upload, "MAX_UPLOAD_BYTES", 400)
    assert upload(api, job["id"], accounts_csv(3)).status_code == 201
    over = upload(api, job["id"], accounts_csv(20))
    assert over.status_code == 413 and over.json()[0]["errorCode"] == "REQUEST_ENTITY_TOO_LARGE"
    assert close(api, job["id"]).status_code == 200
    assert wait(api, "ingest", job["id"])["numberRecordsProcessed"] == 3


def test_uploads_stream_to_disk_past_the_rest_body_limit(
    api: Api, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_module, "MAX_BODY_BYTES", 100)
    assert org.data_dir is not None
    spool = org.data_dir / "bulk"
    job = create_ingest(api, "Account", "insert")
    assert upload(api, job["id"], accounts_csv(50)).status_code == 201
    assert (spool / f"{job['id']}.csv").read_text() == accounts_csv(50)
    assert [p.name for p in spool.iterdir()] == [f"{job['id']}.csv"]
    # A caller the pipeline refuses gets its answer without anything spooled.
    unauthenticated = api.client.put(
        f"{api.base}/jobs/ingest/{job['id']}/batches", content="Name\nA\n",
        headers={"Content-Type": "text/csv"},
    )  # fmt: skip
    assert unauthenticated.status_code == 401
    assert [p.name for p in spool.iterdir()] == [f"{job['id']}.csv"]


def test_several_uploads_add_up_when_their_headers_agree(api: Api) -> None:
    job = create_ingest(api, "Account", "insert")
    assert upload(api, job["id"], "Name,Website\nA,a.example").status_code == 201
    assert upload(api, job["id"], "Name,Website\nB,b.example\n").status_code == 201
    other = upload(api, job["id"], "Website,Name\nc.example,C\n")
    assert other.status_code == 400 and other.json()[0]["errorCode"] == "INVALIDBATCH"
    assert close(api, job["id"]).status_code == 200
    info = wait(api, "ingest", job["id"])
    assert info["numberRecordsProcessed"] == 2
    assert [r["Name"] for r in results(api, job["id"], "successfulResults")] == ["A", "B"]


def test_multipart_create_uploads_and_closes_in_one_call(api: Api) -> None:
    boundary = "BOUNDARY"
    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n"
        'Content-Disposition: form-data; name="job"\r\n\r\n'
        '{"object":"Contact","contentType":"CSV","operation":"insert","lineEnding":"LF"}\r\n'
        f"--{boundary}\r\nContent-Type: text/csv\r\n"
        'Content-Disposition: form-data; name="content"; filename="content"\r\n\r\n'
        "FirstName,LastName,MailingCity\nAstro,Nomical,San Francisco\n"
        "Hootie,McOwl,San Francisco\n\r\n"
        f"--{boundary}--\r\n"
    )
    created = api.post(
        "/jobs/ingest",
        content=body,
        headers={"Content-Type": f'multipart/form-data; boundary="{boundary}"'},
    )
    assert created.status_code == 200, created.text
    job = created.json()
    assert job["state"] == "UploadComplete" and "contentUrl" not in job
    info = wait(api, "ingest", job["id"])
    assert (info["state"], info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (
        "JobComplete", 2, 0,
    )  # fmt: skip


def test_values_over_the_bulk_limits_fail_their_row(api: Api) -> None:
    data = f"Name,Description\nShort,fine\nLong,{'x' * 32_001}\n"
    info = ingest(api, "Account", "insert", data)
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (2, 1)
    error = results(api, info["id"], "failedResults")[0]["sf__Error"]
    assert error.startswith("STRING_TOO_LONG:Description: data value too large:")


def test_failed_results_have_no_sf_id_before_api_53(api: Api) -> None:
    info = ingest(api, "Lead", "insert", "LastName\nNo company\n")
    old = api.get(f"/services/data/v52.0/jobs/ingest/{info['id']}/failedResults")
    assert old.text.splitlines()[0] == '"sf__Error",LastName'


def test_every_bulk_call_counts_once(api: Api) -> None:
    def used(response: httpx.Response) -> int:
        return int(response.headers["Sforce-Limit-Info"].split("=")[1].split("/")[0])

    job = create_ingest(api, "Account", "insert")
    before = used(api.get("/limits"))
    calls = [
        upload(api, job["id"], "Name\nA\n"),
        close(api, job["id"]),
        api.get(f"/jobs/ingest/{job['id']}"),
        api.get(f"/jobs/ingest/{job['id']}/successfulResults"),
        api.get("/jobs/ingest"),
    ]
    assert [used(c) for c in calls] == list(range(before + 1, before + 6))


def test_jobs_are_deleted_after_seven_days(api: Api, org: Org, creds: Credentials) -> None:
    job = create_ingest(api, "Account", "insert")
    org.clock.advance(timedelta(days=8))
    api.token = oauth.issue_session(org, creds.user_id, creds.app.client_id)
    create_ingest(api, "Account", "insert")  # any new job sweeps the expired ones
    assert api.get(f"/jobs/ingest/{job['id']}").json() == NOT_FOUND


# -- restarts --------------------------------------------------------------------------------


def _reopen(path: Path, creds: Credentials) -> tuple[Org, TestClient, Api]:
    org = Org.open(path)
    client = TestClient(create_app(org))
    return org, client, Api(client, oauth.issue_session(org, creds.user_id, creds.app.client_id))


def test_jobs_and_results_survive_a_restart(
    api: Api, org: Org, creds: Credentials, tmp_path: Path
) -> None:
    loaded = ingest(api, "Account", "insert", accounts_csv(30) + "Bulk x,notanumber,\n")
    queried = run_query(api, "SELECT Name FROM Account")
    before = [api.get(f"/jobs/ingest/{loaded['id']}/{k}").text
              for k in ("successfulResults", "failedResults")]  # fmt: skip
    org.close()
    reopened, client, again = _reopen(tmp_path / "org", creds)
    with client:
        assert again.get(f"/jobs/ingest/{loaded['id']}").json() == loaded
        after = [again.get(f"/jobs/ingest/{loaded['id']}/{k}").text
                 for k in ("successfulResults", "failedResults")]  # fmt: skip
        assert after == before
        names = [r["Name"] for p in all_pages(again, queried["id"], 10) for r in rows(p.text)]
        assert len(names) == 30
    reopened.close()


def test_an_interrupted_job_resumes_at_its_next_row(
    api: Api, org: Org, creds: Credentials, tmp_path: Path
) -> None:
    job = create_ingest(api, "Account", "insert")
    assert upload(api, job["id"], accounts_csv(450)).status_code == 200 + 1
    # As if the process died after committing the first 200 rows' chunk.
    with org.transaction():
        org.conn.executemany(
            "INSERT INTO _lf_bulk_results VALUES (?, ?, NULL, 1, NULL)",
            [(job["id"], row) for row in range(200)],
        )
        org.conn.execute(
            "UPDATE _lf_bulk_jobs SET state = 'InProgress', processed = 200, next_row = 200 "
            "WHERE id = ?",
            (job["id"],),
        )
    org.close()
    reopened, client, again = _reopen(tmp_path / "org", creds)
    with client:
        info = wait(again, "ingest", job["id"])
        assert (info["state"], info["numberRecordsProcessed"]) == ("JobComplete", 450)
        names = [r["Name"] for r in again.query_all_records("SELECT Name FROM Account")]
        assert names == [f"Bulk {i:05d}" for i in range(200, 450)]
    reopened.close()
