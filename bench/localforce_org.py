"""localforce at scale: an org of 1,000,000 records, measured through its HTTP API.

Each figure has a floor measured in the same run: the same work done directly on a bare SQLite
table holding the same rows (no HTTP, no JSON, no validation). The ratio says what the emulator
costs over the storage it cannot go below. Memory is sampled while paging through every Account,
to show that it stays flat.

Bulk API 2.0 is measured the same way: a query job over every Account downloaded page by page
(records/s and peak RSS while downloading), and an ingest job of 100,000 Leads (records/s), each
beside the same work on bare SQLite with the csv module.

BENCH_SCALE (default 1.0) scales the org: 0.05 gives a 50,000-record org for a quick look.
"""

from __future__ import annotations

import csv
import io
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from localforce import Org, bootstrap, create_app
from localforce.limits import usage_by
from localforce.oauth import issue_session
from localforce.seed import seed
from localforce.server import Listener, free_port, serving_in_thread

API = "/services/data/v62.0"


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples) * 1000, 3),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000, 3),
    }


def _serve(app: ASGIApp) -> AbstractContextManager[str]:
    return serving_in_thread(Listener(app=app, host="127.0.0.1", port=free_port()))


def _bare_copy(org_db: Path, bare_db: Path) -> sqlite3.Connection:
    """The floor: the Account and Contact rows in plain tables, indexed like the org's."""
    bare = sqlite3.connect(bare_db, isolation_level=None)
    bare.execute("PRAGMA journal_mode=WAL")
    bare.execute(f"ATTACH DATABASE '{org_db}' AS org")
    for table in ("Account", "Contact"):
        bare.execute(f'CREATE TABLE "{table}" AS SELECT * FROM org."{table}"')
    bare.execute('CREATE UNIQUE INDEX bare_account_id ON "Account" ("Id")')
    bare.execute('CREATE INDEX bare_account_rid ON "Account" (_rid)')
    bare.execute('CREATE UNIQUE INDEX bare_contact_id ON "Contact" ("Id")')
    bare.execute('CREATE INDEX bare_contact_email ON "Contact" ("Email" COLLATE NOCASE)')
    bare.execute("DETACH DATABASE org")
    return bare


def run() -> dict[str, Any]:
    scale = float(os.environ.get("BENCH_SCALE", "1.0"))
    sizes = {
        "accounts": int(200_000 * scale),
        "contacts": int(300_000 * scale),
        "leads": int(300_000 * scale),
        "opportunities": int(200_000 * scale),
    }
    figures: dict[str, Any] = {"org_records_requested": sum(sizes.values())}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "org"
        org = Org.open(data)
        creds = bootstrap(org)
        assert creds is not None
        rss_before_seed = _rss_mb()
        report = seed(org, seed=7, **sizes)
        figures["seed"] = {
            "records": report.records,
            "seconds": round(report.seconds, 1),
            "records_per_s": round(report.records / report.seconds),
            "rss_growth_mb": round(_rss_mb() - rss_before_seed, 1),
        }
        bare = _bare_copy(data / "org.sqlite3", Path(tmp) / "bare.sqlite3")
        token = issue_session(org, creds.user_id, creds.app.client_id)
        rng = random.Random(7)
        contacts = [
            r
            for r in org.conn.execute(
                'SELECT "Id", "Email" FROM "Contact" WHERE "Email" IS NOT NULL '
                "ORDER BY random() LIMIT 500"
            )
        ]
        accounts = [r[0] for r in org.conn.execute('SELECT "Id" FROM "Account" LIMIT 2000')]
        figures["http_floor"] = _http_floor()
        domains = [
            r[0]
            for r in org.conn.execute(
                'SELECT "Website" FROM "Account" WHERE "Website" IS NOT NULL '
                "ORDER BY random() LIMIT 200"
            )
        ]
        with (
            _serve(create_app(org)) as base,
            httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120
            ) as client,
        ):
            figures["indexed_query"] = _indexed_query(client, bare, contacts, rng)
            figures["website_domain_query"] = _domain_query(client, bare, domains, rng)
            figures["collection_update_200"] = _collection_update(client, bare, accounts)
            figures["full_account_scan"] = _full_scan(client, bare)
            figures["bulk2_query_all_accounts"] = _bulk_query(client, bare)
            figures["bulk2_ingest_leads"] = _bulk_ingest(
                client, bare, data / "org.sqlite3", max(int(100_000 * scale), 1000)
            )
        http = figures["http_floor"]["median_ms"]
        figures["indexed_query"]["ratio_to_http_floor"] = round(
            figures["indexed_query"]["api_by_email"]["median_ms"] / http, 1
        )
        figures["api_calls_by_endpoint"] = usage_by(org, "endpoint")
        bare.close()
        org.close()
    return figures


def _indexed_query(
    client: httpx.Client, bare: sqlite3.Connection, contacts: list[tuple[str, str]],
    rng: random.Random,
) -> dict[str, Any]:  # fmt: skip
    def api_by_email() -> None:
        _, email = rng.choice(contacts)
        soql = f"SELECT Id, Name, Email, AccountId FROM Contact WHERE Email = '{email}'"
        response = client.get(f"{API}/query", params={"q": soql})
        assert response.status_code == 200 and response.json()["totalSize"] >= 1

    def api_by_id() -> None:
        record_id, _ = rng.choice(contacts)
        soql = f"SELECT Id, Name, Email FROM Contact WHERE Id = '{record_id}'"
        assert client.get(f"{API}/query", params={"q": soql}).json()["totalSize"] == 1

    def bare_by_email() -> None:
        _, email = rng.choice(contacts)
        rows = bare.execute(
            'SELECT "Id", "Name", "Email", "AccountId" FROM "Contact" '
            'WHERE "Email" = ? COLLATE NOCASE AND "IsDeleted" = 0',
            (email,),
        ).fetchall()
        assert rows

    api_email = _timed(api_by_email, 300)
    api_id = _timed(api_by_id, 300)
    floor = _timed(bare_by_email, 300)
    return {
        "api_by_email": api_email,
        "api_by_id": api_id,
        "bare_sqlite_by_email": floor,
        "ratio_median": round(api_email["median_ms"] / max(floor["median_ms"], 1e-6), 1),
    }


def _http_floor() -> dict[str, float]:
    """A GET answering a constant JSON body on the same server stack: HTTP's own cost."""

    async def constant(_: Any) -> JSONResponse:
        return JSONResponse({"totalSize": 1, "done": True, "records": []})

    app = Starlette(routes=[Route("/", constant)])
    with _serve(app) as base, httpx.Client(base_url=base) as client:
        return _timed(lambda: client.get("/"), 300)


def _domain(website: str) -> str:
    host = website.split("://")[-1].split("/")[0].lower()
    return host.removeprefix("www.")


def _domain_query(
    client: httpx.Client, bare: sqlite3.Connection, websites: list[str], rng: random.Random
) -> dict[str, Any]:
    """Accounts by website domain (`Website LIKE '%acme.com%'`), the way accounts are matched."""

    def api() -> None:
        domain = _domain(rng.choice(websites))
        soql = f"SELECT Id, Name, Website FROM Account WHERE Website LIKE '%{domain}%'"
        assert client.get(f"{API}/query", params={"q": soql}).json()["totalSize"] >= 1

    def bare_scan() -> None:
        domain = _domain(rng.choice(websites))
        rows = bare.execute(
            'SELECT "Id", "Name", "Website" FROM "Account" WHERE "Website" LIKE ?',
            (f"%{domain}%",),
        ).fetchall()
        assert rows

    api_times = _timed(api, 100)
    floor = _timed(bare_scan, 20)
    return {
        "api": api_times,
        "bare_sqlite_table_scan": floor,
        "speedup_over_scan": round(floor["median_ms"] / max(api_times["median_ms"], 1e-6), 1),
    }


def _collection_update(
    client: httpx.Client, bare: sqlite3.Connection, accounts: list[str]
) -> dict[str, Any]:
    batches = [accounts[i : i + 200] for i in range(0, len(accounts), 200)]
    counter = iter(range(10**9))

    def api_update() -> None:
        batch = batches[next(counter) % len(batches)]
        records = [
            {"attributes": {"type": "Account"}, "id": i, "Description": f"bench {n}"}
            for n, i in enumerate(batch)
        ]
        response = client.patch(f"{API}/composite/sobjects", json={"records": records})
        assert response.status_code == 200 and all(r["success"] for r in response.json())

    def bare_update() -> None:
        batch = batches[next(counter) % len(batches)]
        bare.execute("BEGIN")
        bare.executemany(
            'UPDATE "Account" SET "Description" = ? WHERE "Id" = ?',
            [(f"bench {n}", i) for n, i in enumerate(batch)],
        )
        bare.execute("COMMIT")

    api = _timed(api_update, 30)
    floor = _timed(bare_update, 30)
    return {
        "api": api,
        "bare_sqlite": floor,
        "api_records_per_s": round(200 / (api["median_ms"] / 1000)),
        "ratio_median": round(api["median_ms"] / max(floor["median_ms"], 1e-6), 1),
    }


def _full_scan(client: httpx.Client, bare: sqlite3.Connection) -> dict[str, Any]:
    rss: list[float] = []
    start = time.perf_counter()
    response = client.get(f"{API}/query", params={"q": "SELECT Id, Name, Website FROM Account"})
    body = response.json()
    rows, pages = len(body["records"]), 1
    while not body["done"]:
        body = client.get(body["nextRecordsUrl"]).json()
        rows += len(body["records"])
        pages += 1
        if pages % 10 == 0:
            rss.append(_rss_mb())
    api_seconds = time.perf_counter() - start

    start = time.perf_counter()
    last, floor_rows = -1, 0
    while True:
        page = bare.execute(
            'SELECT _rid, "Id", "Name", "Website" FROM "Account" '
            'WHERE _rid > ? AND "IsDeleted" = 0 ORDER BY _rid LIMIT 2000',
            (last,),
        ).fetchall()
        if not page:
            break
        floor_rows += len(page)
        last = page[-1][0]
    floor_seconds = time.perf_counter() - start
    return {
        "rows": rows,
        "pages": pages,
        "api_rows_per_s": round(rows / api_seconds),
        "bare_sqlite_rows_per_s": round(floor_rows / floor_seconds),
        "ratio": round(api_seconds / floor_seconds, 1),
        "rss_mb_first_last_max": [rss[0], rss[-1], max(rss)] if rss else [],
    }


def _bulk_wait(client: httpx.Client, kind: str, job_id: str) -> dict[str, Any]:
    while True:
        info: dict[str, Any] = client.get(f"{API}/jobs/{kind}/{job_id}").json()
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return info
        time.sleep(0.05)


def _bulk_query(client: httpx.Client, bare: sqlite3.Connection) -> dict[str, Any]:
    """Every Account through a Bulk 2.0 query job, in pages of 50,000 (simple-salesforce's
    default), beside the same columns streamed from bare SQLite into the csv module."""
    soql = "SELECT Id, Name, Website FROM Account"
    rss_before = _rss_mb()
    rss_peak = rss_before
    start = time.perf_counter()
    job = client.post(f"{API}/jobs/query", json={"operation": "query", "query": soql}).json()
    info = _bulk_wait(client, "query", job["id"])
    ran = time.perf_counter() - start
    rows, pages, locator = 0, 0, ""
    while locator != "null":
        params: dict[str, Any] = {"maxRecords": 50_000}
        if locator:
            params["locator"] = locator
        response = client.get(f"{API}/jobs/query/{job['id']}/results", params=params)
        rows += int(response.headers["Sforce-NumberOfRecords"])
        locator = response.headers["Sforce-Locator"]
        pages += 1
        rss_peak = max(rss_peak, _rss_mb())
    api_seconds = time.perf_counter() - start

    start = time.perf_counter()
    floor_rows = 0
    cursor = bare.execute('SELECT "Id", "Name", "Website" FROM "Account" WHERE "IsDeleted" = 0')
    while True:
        page = cursor.fetchmany(50_000)
        if not page:
            break
        out = io.StringIO()
        csv.writer(out, quoting=csv.QUOTE_ALL).writerows(page)
        out.getvalue().encode()
        floor_rows += len(page)
    floor_seconds = time.perf_counter() - start
    return {
        "records": rows,
        "pages": pages,
        "job_seconds": round(ran, 2),
        "state": info["state"],
        "api_records_per_s": round(rows / api_seconds),
        "bare_sqlite_csv_records_per_s": round(floor_rows / floor_seconds),
        "ratio": round(api_seconds / floor_seconds, 1),
        "rss_mb_before_peak_growth": [
            round(rss_before, 1),
            round(rss_peak, 1),
            round(rss_peak - rss_before, 1),
        ],
    }


def _bulk_ingest(
    client: httpx.Client, bare: sqlite3.Connection, org_db: Path, count: int
) -> dict[str, Any]:
    """`count` new Leads through a Bulk 2.0 ingest job (create, upload, close, poll), beside an
    `executemany` of the same rows into a bare copy of the Lead table."""
    header = ("FirstName", "LastName", "Company", "Email", "Title", "Website")
    leads = [
        (f"Bench{i}", f"Lead {i}", f"Company {i % 5000}", f"bench.lead{i}@example.com",
         "Head of Data", f"https://company{i % 5000}.example")
        for i in range(count)
    ]  # fmt: skip
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *leads])
    data = text.getvalue().encode()

    start = time.perf_counter()
    job = client.post(f"{API}/jobs/ingest", json={"object": "Lead", "operation": "insert"}).json()
    uploaded = client.put(
        f"{API}/jobs/ingest/{job['id']}/batches",
        content=data,
        headers={"Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 201, uploaded.text
    client.patch(f"{API}/jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
    info = _bulk_wait(client, "ingest", job["id"])
    api_seconds = time.perf_counter() - start
    assert info["numberRecordsFailed"] == 0, info

    bare.execute(f"ATTACH DATABASE '{org_db}' AS org")
    bare.execute('CREATE TABLE "Lead" AS SELECT * FROM org."Lead" WHERE 0')
    bare.execute("DETACH DATABASE org")
    columns = ", ".join(f'"{name}"' for name in header)
    start = time.perf_counter()
    bare.execute("BEGIN")
    bare.executemany(f'INSERT INTO "Lead" ({columns}) VALUES (?, ?, ?, ?, ?, ?)', leads)
    bare.execute("COMMIT")
    floor_seconds = time.perf_counter() - start
    return {
        "records": info["numberRecordsProcessed"],
        "upload_mb": round(len(data) / 1024 / 1024, 1),
        "api_records_per_s": round(count / api_seconds),
        "bare_sqlite_executemany_records_per_s": round(count / floor_seconds),
        "ratio": round(api_seconds / floor_seconds, 1),
    }
