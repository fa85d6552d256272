"""Rules apply to every write path, since all of them go through Dml: composite and Bulk API."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from localforce.bootstrap import Credentials, create_user
from localforce.org import Org

from .automation_support import Admin
from .conftest import Api


def test_composite_subrequests_answer_with_the_rest_error_body(api: Api, org: Org) -> None:
    Admin(api, org).rule("duplicate", object="Account", name="Domain", matchFields=["Website"])
    first = api.create("Account", Name="Acme", Website="acme.com")
    response = api.post(
        "/composite",
        json={
            "compositeRequest": [
                {"method": "POST", "url": f"{api.base}/sobjects/Account", "referenceId": "dup",
                 "body": {"Name": "Acme 2", "Website": "https://www.acme.com"}},
            ]
        },
    )  # fmt: skip
    assert response.status_code == 200, response.text
    [sub] = response.json()["compositeResponse"]
    assert sub["httpStatusCode"] == 400
    [error] = sub["body"]
    assert set(error) == {"duplicateResult", "errorCode", "message"}
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    [match] = error["duplicateResult"]["matchResults"]
    assert match["matchRecords"][0]["record"]["Id"] == first


def _bulk_insert(api: Api, sobject: str, data: str, **extra: Any) -> dict[str, Any]:
    body = {"object": sobject, "operation": "insert", **extra}
    job = api.post("/jobs/ingest", json=body).json()
    uploaded = api.request(
        "PUT", f"/jobs/ingest/{job['id']}/batches", content=data,
        headers={"Content-Type": "text/csv"},
    )  # fmt: skip
    assert uploaded.status_code == 201, uploaded.text
    api.patch(f"/jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
    deadline = time.monotonic() + 20
    while True:
        info: dict[str, Any] = api.get(f"/jobs/ingest/{job['id']}").json()
        if info["state"] in ("JobComplete", "Failed", "Aborted") or time.monotonic() > deadline:
            return info


def _results(api: Api, job_id: str, kind: str) -> list[dict[str, str]]:
    text = api.get(f"/jobs/ingest/{job_id}/{kind}/").text
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_bulk_ingest_rows_meet_every_rule(api: Api, org: Org, creds: Credentials) -> None:
    rep = create_user(org, username="rep@localforce.test", last_name="Rep")
    admin = Admin(api, org)
    admin.rule(
        "validation",
        object="Lead",
        name="No_Test",
        errorConditionFormula="BEGINS(Company, 'Test')",
        errorMessage="No test leads",
        errorDisplayField="Company",
    )
    admin.rule("duplicate", object="Lead", name="Lead_Email", matchFields=["Email"])
    # Bulk API runs assignment only when the job names a rule.
    rule = admin.rule("assignment", name="All_To_Rep", entries=[{"ownerId": rep}])
    api.create("Lead", LastName="Old", Company="Acme", Email="old@acme.com")
    info = _bulk_insert(
        api,
        "Lead",
        "LastName,Company,Email\nA,Acme,a@acme.com\nB,Test Co,b@acme.com\nC,Acme,old@acme.com\n",
        assignmentRuleId=rule["id"],
    )
    assert info["state"] == "JobComplete", info
    [ok] = _results(api, info["id"], "successfulResults")
    assert api.get(f"/sobjects/Lead/{ok['sf__Id']}").json()["OwnerId"] == rep
    failed = {r["LastName"]: r["sf__Error"] for r in _results(api, info["id"], "failedResults")}
    assert failed["B"].startswith("FIELD_CUSTOM_VALIDATION_EXCEPTION:No test leads")
    assert failed["C"].startswith("DUPLICATES_DETECTED:Use one of these records?")
