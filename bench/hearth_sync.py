"""Hearth's read sync at scale: a 1,000,000-record org copied into the CRM mirror, then matched.

The org is seeded as `localforce_org` seeds it (seed 7, the same four sizes times BENCH_SCALE)
in a child process, and served by `python -m localforce serve` in another, over real HTTP on a
loopback port. This process is Hearth alone: it connects through the OAuth web-server flow,
runs `hearth.sync.run_sync` into a fresh SQLite database with the default `SyncOptions`
(objects above 10,000 records through Bulk API 2.0), and samples its own resident memory.
localforce counts the API calls (`/_localforce/usage`).

Each figure stands beside a floor measured in the same run, or computed from the counts:

1. initial load: records/s and peak RSS growth, beside an `executemany` of the same mirror rows
   into an empty database of the same schema, in one transaction;
2. API calls of the initial load, beside the pages the records need;
3. an incremental cycle after 1% of each object's records changed and a few were deleted: API
   calls and time, beside the pages the changed and deleted records need plus one query per
   object; then the next cycle an hour (of the org's time) later with nothing changed;
4. 10,000 visitor matches (`match_visitor` on `SqlMirrorView`), beside one bare indexed SELECT
   per key on the same database.

BENCH_SCALE (default 1.0) scales the org: 0.05 gives a 50,000-record org for a quick look.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hearth.matching import match_visitor
from hearth.matching.domains import normalize_domain, normalize_email
from hearth.mirror.repository import SqlMirrorView
from hearth.mirror.tables import MIRROR_TABLES
from hearth.salesforce import SalesforceClient, Tokens, authorize_url, exchange_code, pkce_pair
from hearth.storage import Plan, Workspace, create_engine_for, migrate
from hearth.sync import Mode, SyncOptions, SyncProgress, SyncReport, run_sync
from hearth.sync.objects import SYNCED_OBJECTS
from localforce.server import free_port

# The connected app's callback that `bootstrap` registers (Hearth's dev-server address). The
# bench never serves it: it reads the code from the consent answer's redirect.
REDIRECT = "http://127.0.0.1:8000/settings/salesforce/callback"
# A REST query page holds at most 2,000 records (`nextRecordsUrl` for the rest).
REST_PAGE = 2_000
CHANGED_SHARE = 0.01
MATCH_LOOKUPS = 10_000
# Salesforce's /composite holds at most five query (or queryAll) subrequests, and counts once.
COMPOSITE_QUERIES = 5


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
        "lookups_per_s": round(len(ordered) / sum(ordered)),
    }


class _RssSampler:
    """Samples this process's VmRSS every `interval` seconds in a thread; keeps the peak."""

    def __init__(self, interval: float = 0.02) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.base = 0.0
        self.peak = 0.0
        self.samples = 0
        # The peak while each label was current (the sync's progress names the object).
        self.label = ""
        self.peaks: dict[str, float] = {}

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            rss = _rss_mb()
            self.peak = max(self.peak, rss)
            self.peaks[self.label] = max(self.peaks.get(self.label, 0.0), rss)
            self.samples += 1

    def __enter__(self) -> _RssSampler:
        gc.collect()
        self.base = self.peak = _rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


# -- the org, in other processes -------------------------------------------------------------


def _seed_org(data: str, sizes: dict[str, int]) -> dict[str, Any]:
    """Seed a new org in `data` as `localforce_org` does (runs in a child process)."""
    from localforce import Org, bootstrap
    from localforce.seed import seed

    org = Org.open(data)
    bootstrap(org)
    report = seed(
        org, seed=7, accounts=sizes["accounts"], contacts=sizes["contacts"],
        leads=sizes["leads"], opportunities=sizes["opportunities"],
    )  # fmt: skip
    org.close()
    return {
        "records": report.records,
        "seconds": round(report.seconds, 1),
        "records_per_s": round(report.records / max(report.seconds, 1e-9)),
    }


def _start_server(data: Path, log: Path) -> tuple[subprocess.Popen[bytes], str, dict[str, Any]]:
    """`python -m localforce serve` on a free port; returns it, its URL and connection.json."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "localforce", "serve", "--data", str(data),
             "--port", str(port), "--api-limit", "10000000"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"localforce serve exited: {log.read_text()}")
        try:
            conn = json.loads((data / "connection.json").read_text())
            response = httpx.get(
                f"{base}/_localforce/org", headers={"X-Localforce-Admin-Token": conn["admin_token"]}
            )
            if response.status_code == 200:
                return process, base, conn
        except (OSError, ValueError, KeyError, httpx.TransportError):
            pass
        if time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError(f"localforce serve did not start: {log.read_text()}")
        time.sleep(0.1)


def _stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class _Admin:
    """localforce's admin API: the meter of API calls."""

    def __init__(self, base: str, token: str) -> None:
        self._http = httpx.Client(
            base_url=f"{base}/_localforce", headers={"X-Localforce-Admin-Token": token}
        )

    def reset_usage(self) -> None:
        self._http.post("/usage/reset").raise_for_status()

    def usage(self) -> dict[str, Any]:
        response = self._http.get("/usage")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return {"total": body["used"], "by_endpoint": body["by_endpoint"]}

    def advance_clock(self, seconds: int) -> None:
        self._http.post("/clock", json={"advance_seconds": seconds}).raise_for_status()

    def close(self) -> None:
        self._http.close()


# -- Hearth's side ---------------------------------------------------------------------------


@dataclass
class _MemoryStore:
    """A TokenStore in memory."""

    tokens: Tokens | None = None

    async def load(self) -> Tokens | None:
        return self.tokens

    async def save(self, tokens: Tokens) -> None:
        self.tokens = tokens


@dataclass
class _RecordingSleep:
    """The client's sleep (Bulk job polls and retries), adding up how long it waited."""

    seconds: float = 0.0
    calls: list[float] = field(default_factory=list)

    async def __call__(self, delay: float) -> None:
        self.seconds += delay
        self.calls.append(delay)
        await asyncio.sleep(delay)


def _form_token(page: httpx.Response) -> str:
    match = re.search(r'name="request_token" value="([^"]+)"', page.text)
    if match is None:
        raise RuntimeError(f"no request_token in the page: HTTP {page.status_code}")
    return match.group(1)


async def _connect(base: str, conn: dict[str, Any]) -> Tokens:
    """The OAuth web-server flow with PKCE, as Hearth's Settings page runs it; the browser's
    part (log in, allow) played by an httpx client."""
    verifier, challenge = pkce_pair()
    url = authorize_url(
        base, client_id=conn["client_id"], redirect_uri=REDIRECT, state="bench",
        code_challenge=challenge,
    )  # fmt: skip
    async with httpx.AsyncClient() as http:
        page = await http.get(url)
        consent = await http.post(
            f"{base}/services/oauth2/authorize",
            data={
                "request_token": _form_token(page),
                "username": conn["username"],
                "password": conn["password"],
            },
        )
        callback = await http.post(
            f"{base}/services/oauth2/authorize/consent",
            data={"request_token": _form_token(consent), "decision": "allow"},
        )
        if callback.status_code != 302:
            raise RuntimeError(f"consent answered HTTP {callback.status_code}: {callback.text}")
        code = httpx.URL(callback.headers["location"]).params["code"]
        return await exchange_code(
            http, base, client_id=conn["client_id"], client_secret=conn["client_secret"],
            code=code, code_verifier=verifier, redirect_uri=REDIRECT,
        )  # fmt: skip


def _hearth_database(path: Path) -> tuple[str, Engine, int]:
    url = f"sqlite:///{path}"
    migrate(url)
    engine = create_engine_for(url)
    with Session(engine) as session:
        workspace = Workspace(name="Bench", slug="bench", plan=Plan.BUSINESS)
        session.add(workspace)
        session.commit()
        workspace_id = workspace.id
    return url, engine, workspace_id


def _load_floor(source: Path, target: Path, workspace_id: int) -> dict[str, Any]:
    """The same mirror rows, read back from Hearth's database, inserted with plain
    `executemany` into an empty, migrated database of the same schema (same indexes), in one
    transaction. Only the inserts and the commit are timed, not the reading."""
    _, engine, target_workspace = _hearth_database(target)
    engine.dispose()
    assert target_workspace == workspace_id
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        dst.execute(f"PRAGMA {pragma}")
    rows = 0
    seconds = 0.0
    start = time.perf_counter()
    dst.execute("BEGIN")
    seconds += time.perf_counter() - start
    for table in MIRROR_TABLES:
        columns = ", ".join(f'"{c.name}"' for c in table.columns)
        marks = ", ".join("?" for _ in table.columns)
        insert = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})'
        cursor = src.execute(f'SELECT {columns} FROM "{table.name}" ORDER BY rowid')
        while chunk := cursor.fetchmany(20_000):
            start = time.perf_counter()
            dst.executemany(insert, chunk)
            seconds += time.perf_counter() - start
            rows += len(chunk)
    start = time.perf_counter()
    dst.execute("COMMIT")
    seconds += time.perf_counter() - start
    src.close()
    dst.close()
    return {"rows": rows, "seconds": round(seconds, 2), "records_per_s": round(rows / seconds)}


def _pages(records: int, per_page: int) -> int:
    """Query pages (calls) that `records` need: at least one, since an empty answer is one."""
    return max(1, math.ceil(records / per_page))


def _initial_floor(report: SyncReport, options: SyncOptions) -> dict[str, Any]:
    """The fewest calls that can carry every record of each object, given the API the sync
    chose for it and the page size it used:

    - REST (`/query` then `nextRecordsUrl`): ceil(records / 2,000) pages, at least one;
    - Bulk API 2.0: one call creates the job, at least one status call finds it JobComplete,
      then one call per result page of `bulk_page_size` (`maxRecords`) records:
      2 + ceil(records / page size).

    Not in the floor: the describe and the `SELECT COUNT()` the sync spends per object to plan
    its fields and choose the API; the per-object figures show them apart.
    """
    per_object = {}
    for obj in report.objects:
        if obj.mode is Mode.BULK:
            page = options.bulk_page_size or obj.upserted or 1
            pages = 2 + _pages(obj.upserted, page)
        else:
            pages = _pages(obj.upserted, REST_PAGE)
        per_object[obj.sobject] = {
            "records": obj.upserted,
            "mode": obj.mode.value if obj.mode else None,
            "floor_calls": pages,
        }
    return per_object


class _OrgTime:
    """Hearth's clock, kept in step with the org's when the benchmark moves the org's clock:
    in production both follow real time, and the sync's watermarks compare one with the other."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def _initial_load(
    client: SalesforceClient,
    engine: Engine,
    workspace_id: int,
    options: SyncOptions,
    clock: _OrgTime,
) -> tuple[SyncReport, dict[str, Any]]:
    done: dict[str, int] = {}
    # (records committed so far, RSS growth in MB) after every committed batch
    curve: list[tuple[int, float]] = []
    with _RssSampler() as rss:

        def progress(step: SyncProgress) -> None:
            rss.label = step.sobject
            done[step.sobject] = step.done
            curve.append((sum(done.values()), _rss_mb() - rss.base))

        start = time.perf_counter()
        report = await run_sync(
            client, engine, workspace_id, progress=progress, options=options, clock=clock
        )
        seconds = time.perf_counter() - start
    records = sum(o.upserted for o in report.objects)
    growth = rss.peak - rss.base
    quarters = []
    for share in (0.25, 0.5, 0.75, 1.0):
        at = next((mb for n, mb in curve if n >= records * share), curve[-1][1] if curve else 0)
        quarters.append(round(at, 1))
    return report, {
        "records": records,
        "seconds": round(seconds, 1),
        "records_per_s": round(records / seconds),
        "by_object": {
            o.sobject: {"records": o.upserted, "mode": o.mode.value if o.mode else None}
            for o in report.objects
        },
        "rss_mb_base": round(rss.base, 1),
        "rss_growth_mb_peak": round(growth, 1),
        "rss_growth_mb_at_25_50_75_100_pct": quarters,
        "rss_growth_mb_peak_by_object": {
            name: round(mb - rss.base, 1) for name, mb in rss.peaks.items() if name
        },
        "records_per_mb_of_peak_growth": round(records / max(growth, 0.1)),
        "rss_samples": rss.samples,
    }


# -- the incremental cycle -------------------------------------------------------------------


def _change_org(data: Path, rng: random.Random) -> dict[str, Any]:
    """Update 1% of each data object's records and delete a few, through localforce's own
    write path (`Dml`), in this process, while the server idles. Dml stamps SystemModstamp
    with the org's clock, as an API write would. Returns what changed, read back from the org:
    live records whose SystemModstamp moved, and records deleted (an Account's delete cascades
    to its Contacts and Opportunities)."""
    from localforce import Org
    from localforce.bootstrap import admin_credentials
    from localforce.dml import Dml, WriteOptions

    org = Org.open(data)
    try:
        user_id = admin_credentials(org).user_id
        dml = Dml(org)
        opts = WriteOptions(user_id=user_id, auto_assign=False)
        mark = org.now()
        time.sleep(0.01)  # every change is stamped after `mark`
        field_of = {"Account": "Name", "Contact": "Title", "Lead": "Title", "Opportunity": "Name"}
        deletions = {"Account": 2, "Contact": 10, "Lead": 10, "Opportunity": 10}
        for sobject, name in field_of.items():
            obj = org.object(sobject)
            assert obj is not None
            live = 'WHERE "IsDeleted" = 0' + (' AND "IsConverted" = 0' if sobject == "Lead" else "")
            (count,) = org.conn.execute(f'SELECT count(*) FROM "{sobject}" {live}').fetchone()
            changed = max(1, int(count * CHANGED_SHARE))
            ids = [
                r[0]
                for r in org.conn.execute(
                    f'SELECT "Id" FROM "{sobject}" {live} ORDER BY random() LIMIT ?',
                    (changed + deletions[sobject],),
                )
            ]
            rng.shuffle(ids)
            with org.transaction():
                for n, record_id in enumerate(ids[:changed]):
                    dml.update(obj, record_id, {name: f"Bench change {n}"}, opts)
            for record_id in ids[changed:]:
                with org.transaction():
                    row = org.conn.execute(
                        f'SELECT "IsDeleted" FROM "{sobject}" WHERE "Id" = ?', (record_id,)
                    ).fetchone()
                    if row and not row[0]:  # not already gone with a deleted parent
                        dml.delete(obj, record_id, opts)
        result: dict[str, Any] = {}
        for sobject in SYNCED_OBJECTS:
            (changed_live,) = org.conn.execute(
                f'SELECT count(*) FROM "{sobject}" WHERE "IsDeleted" = 0 AND "SystemModstamp" > ?',
                (mark,),
            ).fetchone()
            (deleted,) = org.conn.execute(
                f'SELECT count(*) FROM "{sobject}" WHERE "IsDeleted" = 1 AND "SystemModstamp" > ?',
                (mark,),
            ).fetchone()
            described = org.object(sobject)
            tracks = bool(described and described.deletable)
            result[sobject] = {"changed": changed_live, "deleted": deleted, "deletable": tracks}
        return result
    finally:
        org.close()


def _incremental_floor(changes: dict[str, Any]) -> dict[str, int]:
    """The fewest calls an incremental cycle can make, two ways.

    `pages`: per object, the pages of its changed records through REST `/query`
    (ceil(changed / 2,000), and at least one: asking is the only way to learn that nothing
    changed), plus, for objects that can be deleted, the pages of its deleted records through
    `/queryAll` (at least one, for the same reason); one call per page.

    `calls_with_composite`: the same pages, but the first page of every query rides in a
    `/composite` call, which counts once and holds up to five queries: ceil(queries / 5), plus
    one call for each page after a query's first.

    Describes are in neither: a cycle that trusted its cached plan could skip them.
    """
    pages = queries = later_pages = 0
    for c in changes.values():
        for records, asked in ((c["changed"], True), (c["deleted"], c["deletable"])):
            if asked:
                queries += 1
                pages += _pages(records, REST_PAGE)
                later_pages += _pages(records, REST_PAGE) - 1
    return {
        "pages": pages,
        "calls_with_composite": math.ceil(queries / COMPOSITE_QUERIES) + later_pages,
    }


# -- matching --------------------------------------------------------------------------------


def _match_keys(db: Path, workspace_id: int, rng: random.Random) -> list[tuple[str, Any, Any]]:
    """10,000 visitors: 40% a domain some Account has, 20% a domain none has, 30% the email of
    a Contact or Lead, 10% an unknown person at a known company. (kind, domain, email)."""
    conn = sqlite3.connect(db)
    n = MATCH_LOOKUPS
    domains = [
        r[0]
        for r in conn.execute(
            "SELECT website_domain FROM mirror_accounts WHERE workspace_id = ? AND is_deleted = 0"
            " AND website_domain IS NOT NULL ORDER BY random() LIMIT ?",
            (workspace_id, n // 2),
        )
    ]
    emails = [
        r[0]
        for table in ("mirror_contacts", "mirror_leads")
        for r in conn.execute(
            f"SELECT email FROM {table} WHERE workspace_id = ? AND is_deleted = 0"
            " AND email IS NOT NULL ORDER BY random() LIMIT ?",
            (workspace_id, n * 3 // 20),
        )
    ]
    conn.close()
    keys: list[tuple[str, Any, Any]] = []
    keys += [("known_domain", rng.choice(domains), None) for _ in range(n * 4 // 10)]
    keys += [("unknown_domain", f"no-such-company-{i}.com", None) for i in range(n * 2 // 10)]
    keys += [("known_email", None, rng.choice(emails)) for _ in range(n * 3 // 10)]
    keys += [
        ("unknown_email", None, f"nobody.{i}@{rng.choice(domains)}") for i in range(n - len(keys))
    ]
    rng.shuffle(keys)
    return keys


def _timed_each(keys: list[tuple[str, Any, Any]], fn: Callable[[Any, Any], Any]) -> list[float]:
    samples = []
    for _, domain, email in keys:
        start = time.perf_counter()
        fn(domain, email)
        samples.append(time.perf_counter() - start)
    return samples


def _matching(db: Path, engine: Engine, workspace_id: int, rng: random.Random) -> dict[str, Any]:
    keys = _match_keys(db, workspace_id, rng)
    found = {"account": 0, "person": 0}
    with Session(engine) as session:
        view = SqlMirrorView(session, workspace_id)

        def match(domain: Any, email: Any) -> None:
            result = match_visitor(domain, email, view)
            found["account"] += result.account is not None
            found["person"] += result.person is not None

        match_visitor(*keys[0][1:], view)  # warm the statement cache
        hearth = _timed_each(keys, match)

    # The floor: one bare indexed SELECT per key, on the same database: the Accounts of the
    # domain, or the Contacts of the email. Keys normalised beforehand, outside the timing.
    bare = sqlite3.connect(db)
    normalised = [
        (kind, normalize_domain(domain) if domain else None, normalize_email(email))
        for kind, domain, email in keys
    ]
    by_domain = (
        "SELECT * FROM mirror_accounts WHERE workspace_id = ? AND website_domain = ?"
        " AND is_deleted = 0"
    )
    by_email = (
        "SELECT * FROM mirror_contacts WHERE workspace_id = ? AND email_normalized = ?"
        " AND is_deleted = 0"
    )

    def select(domain: Any, email: Any) -> None:
        if email is not None:
            bare.execute(by_email, (workspace_id, email)).fetchall()
        else:
            bare.execute(by_domain, (workspace_id, domain)).fetchall()

    floor = _timed_each(normalised, select)
    bare.close()
    mix: dict[str, int] = {}
    for kind, _, _ in keys:
        mix[kind] = mix.get(kind, 0) + 1
    hearth_figures = _percentiles(hearth)
    floor_figures = _percentiles(floor)
    return {
        "lookups": len(keys),
        "mix": mix,
        "matched_account": found["account"],
        "matched_person": found["person"],
        "match_visitor": hearth_figures,
        "bare_indexed_select": floor_figures,
        "ratio_p50": round(hearth_figures["p50_ms"] / max(floor_figures["p50_ms"], 1e-6), 1),
    }


# -- the benchmark ---------------------------------------------------------------------------


async def _hearth_side(base: str, conn: dict[str, Any], data: Path, tmp: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    admin = _Admin(base, conn["admin_token"])
    tokens = await _connect(base, conn)
    store = _MemoryStore(tokens)
    sleep = _RecordingSleep()
    db = tmp / "hearth.sqlite3"
    _, engine, workspace_id = _hearth_database(db)
    options = SyncOptions()
    rng = random.Random(7)
    async with SalesforceClient(
        tokens, token_store=store, client_id=conn["client_id"],
        client_secret=conn["client_secret"], login_url=base, sleep=sleep,
    ) as client:  # fmt: skip
        # 1 and 2: the initial load.
        admin.reset_usage()
        clock = _OrgTime()
        report, load = await _initial_load(client, engine, workspace_id, options, clock)
        usage = admin.usage()
        load["bulk_poll_sleep_s"] = round(sleep.seconds, 1)
        floor = _load_floor(db, tmp / "floor.sqlite3", workspace_id)
        load["floor_executemany"] = floor
        load["ratio"] = round(floor["records_per_s"] / max(load["records_per_s"], 1), 1)
        figures["initial_load"] = load
        per_object = _initial_floor(report, options)
        floor_calls = sum(o["floor_calls"] for o in per_object.values())
        figures["initial_load_api_calls"] = {
            "calls": usage["total"],
            "by_endpoint": usage["by_endpoint"],
            "floor_pages_needed": floor_calls,
            "per_object_floor": per_object,
            "ratio": round(usage["total"] / floor_calls, 2),
        }

        # 3: an incremental cycle after 1% changed and a few deletions.
        changes = _change_org(data, rng)
        admin.reset_usage()
        polls_before = sleep.seconds
        start = time.perf_counter()
        incremental = await run_sync(client, engine, workspace_id, options=options, clock=clock)
        seconds = time.perf_counter() - start
        usage = admin.usage()
        floor = _incremental_floor(changes)
        figures["incremental_cycle"] = {
            "changed_in_org": {k: v["changed"] for k, v in changes.items()},
            "deleted_in_org": {k: v["deleted"] for k, v in changes.items()},
            "mirror_upserted": {o.sobject: o.upserted for o in incremental.objects},
            "mirror_deleted": {o.sobject: o.deleted for o in incremental.objects},
            "seconds": round(seconds, 2),
            "sleep_s": round(sleep.seconds - polls_before, 1),
            "calls": usage["total"],
            "by_endpoint": usage["by_endpoint"],
            "floor_pages": floor["pages"],
            "floor_calls_with_composite": floor["calls_with_composite"],
            "ratio_to_pages": round(usage["total"] / floor["pages"], 2),
            "ratio_to_composite_floor": round(usage["total"] / floor["calls_with_composite"], 2),
            "stopped": incremental.stopped,
        }

        # 3b: the next cycles, an hour and two hours of the org's time later, with nothing
        # changed. The first reads the changes of the look-back window before 3 once more (the
        # watermark trails by the look-back); the second is the steady state of a quiet org.
        # Their floor is the per-object minimum alone (one empty page per query).
        nothing = {k: {**v, "changed": 0, "deleted": 0} for k, v in changes.items()}
        floor = _incremental_floor(nothing)
        for label in ("quiet_cycle_1h_later", "quiet_cycle_2h_later"):
            admin.advance_clock(3600)
            clock.offset += timedelta(hours=1)
            admin.reset_usage()
            start = time.perf_counter()
            quiet = await run_sync(client, engine, workspace_id, options=options, clock=clock)
            seconds = time.perf_counter() - start
            usage = admin.usage()
            figures[label] = {
                "mirror_upserted": {o.sobject: o.upserted for o in quiet.objects},
                "mirror_deleted": {o.sobject: o.deleted for o in quiet.objects},
                "seconds": round(seconds, 2),
                "calls": usage["total"],
                "by_endpoint": usage["by_endpoint"],
                "floor_pages": floor["pages"],
                "floor_calls_with_composite": floor["calls_with_composite"],
                "ratio_to_pages": round(usage["total"] / floor["pages"], 2),
                "ratio_to_composite_floor": round(
                    usage["total"] / floor["calls_with_composite"], 2
                ),
                "stopped": quiet.stopped,
            }
    admin.close()

    # 4: matching against the loaded mirror.
    figures["match"] = _matching(db, engine, workspace_id, rng)
    engine.dispose()
    return figures


def run() -> dict[str, Any]:
    scale = float(os.environ.get("BENCH_SCALE", "1.0"))
    sizes = {
        "accounts": int(200_000 * scale),
        "contacts": int(300_000 * scale),
        "leads": int(300_000 * scale),
        "opportunities": int(200_000 * scale),
    }
    figures: dict[str, Any] = {
        "scale": scale,
        "org_records_requested": sum(sizes.values()),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        data = tmp / "org"
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            figures["seed"] = pool.submit(_seed_org, str(data), sizes).result()
        server, base, conn = _start_server(data, tmp / "localforce.log")
        try:
            figures.update(asyncio.run(_hearth_side(base, conn, data, tmp)))
        finally:
            _stop_server(server)
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
