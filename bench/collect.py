"""`POST /collect` under load: throughput and latency on SQLite and PostgreSQL, over real HTTP.

Hearth is served as `hearth serve` serves it (a migrated database, `create_app(Settings(...))`,
`uvicorn.run` with its defaults: one worker, uvloop and httptools when installed, log level
`info`) in a child process of its own, on a free loopback port. The load comes from another
child process: a small keep-alive HTTP/1.1 client on asyncio (uvloop when installed) holding
several connections, each sending its requests one after the other, with every request built
before the clock starts, so the generator spends as little time per request as it can and
shares no GIL with the server.

The batches are the snippet's (docs/tracking.md): one page view and two to six activity
events, for many visitors over many sites, in sessions of one to six batches, a third of the
sessions' first page views with UTM parameters, one visitor in ten identifying itself (mostly at
a company domain, so companies are recombined), and one in a hundred a second device of an
identified person (so devices merge). `sent_at` is stamped when each request is written.

Each figure stands beside its floor, measured in the same run on the same server process:

1. the HTTP floor: the same request bodies POSTed to a route added by this benchmark only
   (`/_bench/noop`, on the same app instance, behind the same middleware and uvicorn settings),
   which reads the body and answers 202 with a small JSON body and does nothing else;
2. collect: the same bodies POSTed to `/collect`. Throughput in batches/s and events/s, p50 and
   p99 latency, and the server's CPU seconds per request, beside the floor's;
3. the same two through one connection, for other visitors: the latency of an idle server.

After each run the stored rows are counted with SQL: every accepted event must be in
`tracked_events`.

BENCH_SCALE (default 1.0) scales the number of batches: 12,000 at full scale.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from hearth.storage import Plan, create_engine_for, migrate
from hearth.web.snippet import Snippet
from hearth.workspaces import create_site_key, create_workspace
from localforce.server import free_port

FULL_BATCHES = 12_000
# Unloaded latency: this many batches of other visitors, through one connection.
ONE_CONNECTION_BATCHES = 300
CONNECTIONS = 16
# The per-site rate limit (hearth/collect/rate_limit.py) lets a site send 50 batches a second,
# bursts of 200: the load is spread over enough sites that it never answers 429.
SITES = 100
POSTGRES_URL = os.environ.get(
    "HEARTH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SNIPPET = Path(__file__).resolve().parent.parent / "hearth" / "static" / "hearth.js"
NOOP_PATH = "/_bench/noop"
SECRET_KEY = "bench-secret-key-0123456789abcdef"
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
)
PATHS = (
    ["/", "/pricing", "/features", "/about", "/contact", "/customers", "/security", "/careers"]
    + [f"/blog/post-{n}" for n in range(20)]
    + [f"/docs/page-{n}" for n in range(12)]
)
UTM = {
    "utm_source": ["google", "linkedin", "newsletter", "bing", "twitter"],
    "utm_medium": ["cpc", "email", "social", "display"],
    "utm_campaign": ["spring-launch", "webinar-q4", "retargeting", "brand"],
}
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com")
COMPANY_DOMAINS = 300
IDENTIFY_SHARE = 0.10
SECOND_DEVICE_SHARE = 0.01
WARMUP_REQUESTS = 400
MINUTE_MS = 60_000
# `sent_at` is written into each body when the request is sent: 13 digits, a fixed width.
SENT_AT_MARK = b"1000000000000"


# -- figures ---------------------------------------------------------------------------------


def _latency(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _snippet_size() -> dict[str, Any] | None:
    """The snippet as `/hearth.js` serves it (its design comment left out): bytes, and bytes
    gzipped at level 9 (what a browser downloads); None if the file is absent."""
    if not SNIPPET.is_file():
        return None
    served = Snippet.load(SNIPPET)
    return {
        "path": "hearth/static/hearth.js",
        "source_bytes": SNIPPET.stat().st_size,
        "served_bytes": len(served.body),
        "served_gzip_bytes": len(served.gzipped),
    }


# -- the workload ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Batch:
    at_ms: int  # the intended time of its last event, to order a connection's batches
    head: bytes  # the body up to sent_at's digits
    tail: bytes  # the body after them
    events: int
    user_agent: str


def _visitor_batches(
    rng: random.Random,
    now_ms: int,
    site: str,
    anon: str,
    count: int,
    email: str | None,
    serial: Iterator[int],
    prefix: str,
) -> list[_Batch]:
    """`count` batches of one visitor, in sessions of 1 to 6 batches over the last 20 hours."""
    user_agent = rng.choice(USER_AGENTS)
    at = now_ms - rng.randint(60, 20 * 60) * MINUTE_MS
    identify_at = rng.randrange(count) if email else -1
    batches: list[_Batch] = []
    left_in_session = 0
    session = ""
    for n in range(count):
        if left_in_session == 0:
            session = uuid.UUID(int=rng.getrandbits(128)).hex
            left_in_session = rng.randint(1, 6)
            at += rng.randint(20, 120) * MINUTE_MS  # a new visit, after a long gap
            query = ""
            if rng.random() < 1 / 3:
                query = "?" + "&".join(f"{k}={rng.choice(v)}" for k, v in UTM.items())
        else:
            at += rng.randint(10, 120) * 1000
            query = ""
        left_in_session -= 1
        at = min(at, now_ms - MINUTE_MS)
        url = f"https://www.example-site.com{rng.choice(PATHS)}"
        events: list[dict[str, Any]] = [
            {
                "id": f"{prefix}e{next(serial)}",
                "type": "pageview",
                "ts": at,
                "url": url + query,
                "title": "Example site",
                "referrer": "https://www.google.com/",
            }
        ]
        for _ in range(rng.randint(2, 6)):
            at += rng.randint(5, 15) * 1000
            events.append(
                {
                    "id": f"{prefix}e{next(serial)}",
                    "type": "activity",
                    "ts": at,
                    "url": url,
                    "seconds": rng.randint(5, 15),
                }
            )
        if n == identify_at and email:
            events.append(
                {
                    "id": f"{prefix}e{next(serial)}",
                    "type": "identify",
                    "ts": at,
                    "email": email,
                    "source": "form",
                    "traits": {"name": "Sam Visitor", "title": "Head of Growth"},
                }
            )
        # Times in the past stay in the past: `at` never passes now - 1 minute by much.
        body = json.dumps(
            {
                "site": site,
                "anon": anon,
                "session": session,
                "sent_at": int(SENT_AT_MARK),
                "events": events,
            },
            separators=(",", ":"),
        ).encode()
        head, tail = body.split(SENT_AT_MARK)
        batches.append(_Batch(at, head, tail, len(events), user_agent))
    return batches


def _workload(
    keys: list[str], batches: int, connections: int, seed: int, now_ms: int, prefix: str
) -> list[list[_Batch]]:
    """About `batches` batches, one list per connection in the order of their intended times.

    A visitor's batches (and a second device's with the person's first) all go through one
    connection, one after the other, as one browser sends them.
    """
    rng = random.Random(seed)
    serial = iter(range(10**12))  # event ids: "<prefix>e<n>"
    # Companies have a long tail: a few domains have many visitors, most have a few.
    weights = [1 / (rank + 1) for rank in range(COMPANY_DOMAINS)]
    per_connection: list[list[_Batch]] = [[] for _ in range(connections)]
    made = visitor = 0
    while made < batches:
        site = keys[visitor % len(keys)]
        count = min(batches - made, rng.randint(1, 15))
        email = None
        if rng.random() < IDENTIFY_SHARE:
            if rng.random() < 0.2:
                domain = rng.choice(FREE_MAIL)
            else:
                (company,) = rng.choices(range(COMPANY_DOMAINS), weights)
                domain = f"company-{company}.com"
            email = f"person.{visitor}@{domain}"
        anon = f"{prefix}a{visitor}"
        mine = _visitor_batches(rng, now_ms, site, anon, count, email, serial, prefix)
        made += count
        if email and made < batches and rng.random() < SECOND_DEVICE_SHARE / IDENTIFY_SHARE:
            # The same person on another device, identifying with the same email: a merge.
            count = min(batches - made, rng.randint(1, 5))
            mine += _visitor_batches(rng, now_ms, site, f"{anon}-b", count, email, serial, prefix)
            made += count
        per_connection[visitor % connections] += mine
        visitor += 1
    for batches_of_one in per_connection:
        batches_of_one.sort(key=lambda b: b.at_ms)
    return per_connection


# -- the load generator (a child process) ----------------------------------------------------


_WORKLOAD: dict[str, list[list[_Batch]]] = {}


def _requests(batches: list[_Batch], path: str, port: int) -> list[tuple[bytes, bytes, int]]:
    """Each batch's request: (everything up to sent_at's digits, the rest, events)."""
    out = []
    for b in batches:
        length = len(b.head) + len(SENT_AT_MARK) + len(b.tail)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {b.user_agent}\r\n"
            f"Content-Type: text/plain;charset=UTF-8\r\nAccept: */*\r\n"
            f"Origin: https://www.example-site.com\r\nContent-Length: {length}\r\n\r\n"
        ).encode() + b.head
        out.append((head, b.tail, b.events))
    return out


async def _send_all(
    port: int, per_connection: list[list[tuple[bytes, bytes, int]]], read_answers: bool
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    answers: Counter[str] = Counter()

    async def one_connection(requests: list[tuple[bytes, bytes, int]]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for head, tail, _ in requests:
                start = time.perf_counter()
                writer.write(head + str(int(time.time() * 1000)).encode() + tail)
                headers = await reader.readuntil(b"\r\n\r\n")
                status = int(headers[9:12])
                length = 0
                for line in headers.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                latencies.append(time.perf_counter() - start)
                statuses[status] += 1
                if read_answers and status in (202, 422):
                    answer = json.loads(body)
                    answers["accepted"] += answer.get("accepted", 0)
                    answers["duplicates"] += answer.get("duplicates", 0)
                    for rejected in answer.get("rejected", []):
                        answers["rejected_" + rejected["reason"]] += 1
                    if "dropped" in answer:
                        answers["dropped_" + answer["dropped"]] += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(one_connection(r) for r in per_connection))
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "latencies": latencies,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "answers": dict(answers),
    }


def _run_loop(
    port: int, per_connection: list[list[tuple[bytes, bytes, int]]], read_answers: bool
) -> dict[str, Any]:
    try:
        import uvloop

        return uvloop.run(_send_all(port, per_connection, read_answers))
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        return asyncio.run(_send_all(port, per_connection, read_answers))


def _generate(port: int, keys: list[str], batches: int, seed: int, phase: str) -> dict[str, Any]:
    """One phase of the load, in the generator's process: `warmup`, `floor`, `collect`,
    `one_connection_floor` or `one_connection_collect`.

    The workload is built on the first call and kept for the next ones (same process)."""
    cache_key = f"{port}:{seed}:{batches}"
    if cache_key not in _WORKLOAD:
        now_ms = int(time.time() * 1000)
        _WORKLOAD.clear()
        _WORKLOAD[cache_key] = _workload(keys, batches, CONNECTIONS, seed, now_ms, "")
        # Warm-up batches of other visitors: new connections, caches, the thread pool.
        _WORKLOAD[cache_key + ":warmup"] = _workload(
            keys, WARMUP_REQUESTS, CONNECTIONS, seed + 1, now_ms, "w"
        )
        # Unloaded latency: other visitors again, one connection.
        _WORKLOAD[cache_key + ":one"] = _workload(
            keys, ONE_CONNECTION_BATCHES, 1, seed + 2, now_ms, "o"
        )
    main = _WORKLOAD[cache_key]
    if phase == "warmup":
        warm = _WORKLOAD[cache_key + ":warmup"]
        floor = _run_loop(port, [_requests(c, NOOP_PATH, port) for c in warm], False)
        collect = _run_loop(port, [_requests(c, "/collect", port) for c in warm], True)
        return {
            "requests": len(collect["latencies"]),
            "events": sum(b.events for c in warm for b in c),
            "answers": collect["answers"],
            "statuses": {"floor": floor["statuses"], "collect": collect["statuses"]},
        }
    if phase.startswith("one_connection_"):
        main = _WORKLOAD[cache_key + ":one"]
    path = NOOP_PATH if phase.endswith("floor") else "/collect"
    result = _run_loop(port, [_requests(c, path, port) for c in main], path == "/collect")
    requests = len(result["latencies"])
    events = sum(b.events for c in main for b in c)
    seconds = result["seconds"]
    return {
        "requests": requests,
        "events": events,
        "seconds": round(seconds, 2),
        "requests_per_s": round(requests / seconds),
        "events_per_s": round(events / seconds),
        **_latency(result["latencies"]),
        "statuses": result["statuses"],
        "answers": result["answers"],
    }


# -- the server (a child process) ------------------------------------------------------------


def _serve(database_url: str, port: int, log: str) -> None:
    """`hearth serve`, plus the benchmark's no-work route, on `port` (runs in a child process)."""
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(out, 1)
    os.dup2(out, 2)
    import uvicorn
    from pydantic import SecretStr
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    from hearth import Settings, create_app

    settings = Settings(
        database_url=database_url, port=port, secret_key=SecretStr(SECRET_KEY), sync_worker=False
    )
    logging.basicConfig(level=settings.log_level.upper())
    app = create_app(settings)

    async def noop(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"accepted": 0}, status_code=202)

    app.add_route(NOOP_PATH, noop, methods=["POST"])
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)


@contextmanager
def _server(database_url: str, log: Path) -> Iterator[tuple[BaseProcess, int]]:
    port = free_port()
    process = get_context("spawn").Process(
        target=_serve, args=(database_url, port, str(log)), daemon=True
    )
    process.start()
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.post(f"http://127.0.0.1:{port}{NOOP_PATH}").status_code == 202:
                break
        except httpx.TransportError:
            pass
        if not process.is_alive() or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"hearth did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    try:
        yield process, port
    finally:
        process.terminate()
        process.join(15)
        if process.is_alive():
            process.kill()
            process.join()


# -- one database ----------------------------------------------------------------------------


def _sites(url: str) -> list[str]:
    engine = create_engine_for(url)
    keys = []
    with Session(engine) as session, session.begin():
        for n in range(SITES):
            workspace = create_workspace(session, f"Bench site {n}", Plan.BUSINESS)
            keys.append(create_site_key(session, workspace).public_key)
    engine.dispose()
    return keys


def _stored(url: str) -> dict[str, int]:
    engine = create_engine_for(url)
    with engine.connect() as connection:
        counts = {
            table: int(connection.scalar(sa.text(f"SELECT count(*) FROM {table}")) or 0)
            for table in ("tracked_events", "visitors", "visitor_sessions", "companies")
        }
    engine.dispose()
    return counts


def _measure(url: str, batches: int, tmp: Path, label: str) -> dict[str, Any]:
    migrate(url)
    keys = _sites(url)
    with (
        _server(url, tmp / f"hearth-{label}.log") as (server, port),
        ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as generator,
    ):
        pid = server.pid
        assert pid is not None
        warm = generator.submit(_generate, port, keys, batches, 7, "warmup").result()
        figures: dict[str, Any] = {}
        for phase in ("floor", "collect", "one_connection_floor", "one_connection_collect"):
            cpu = _cpu_seconds(pid)
            result = generator.submit(_generate, port, keys, batches, 7, phase).result()
            result["server_cpu_ms_per_request"] = round(
                (_cpu_seconds(pid) - cpu) * 1000 / result["requests"], 3
            )
            figures[phase] = result
    floor, collect = figures["floor"], figures["collect"]
    one_floor, one_collect = figures["one_connection_floor"], figures["one_connection_collect"]
    stored = _stored(url)
    accepted = sum(phase["answers"].get("accepted", 0) for phase in (warm, collect, one_collect))
    sent = collect["events"] + warm["events"] + one_collect["events"]
    return {
        "http_floor": {
            k: floor[k]
            for k in (
                "requests",
                "seconds",
                "requests_per_s",
                "p50_ms",
                "p99_ms",
                "max_ms",
                "statuses",
                "server_cpu_ms_per_request",
            )
        },
        "collect": {
            "batches": collect["requests"],
            "events": collect["events"],
            "seconds": collect["seconds"],
            "batches_per_s": collect["requests_per_s"],
            "events_per_s": collect["events_per_s"],
            "p50_ms": collect["p50_ms"],
            "p99_ms": collect["p99_ms"],
            "max_ms": collect["max_ms"],
            "statuses": collect["statuses"],
            "answers": collect["answers"],
            "server_cpu_ms_per_request": collect["server_cpu_ms_per_request"],
        },
        "ratio_throughput": round(floor["requests_per_s"] / max(collect["requests_per_s"], 1), 1),
        "ratio_p50": round(collect["p50_ms"] / max(floor["p50_ms"], 1e-3), 1),
        "ratio_server_cpu": round(
            collect["server_cpu_ms_per_request"] / max(floor["server_cpu_ms_per_request"], 1e-3),
            1,
        ),
        "one_connection": {
            "batches": one_collect["requests"],
            "http_floor": {k: one_floor[k] for k in ("p50_ms", "p99_ms", "requests_per_s")},
            "collect": {k: one_collect[k] for k in ("p50_ms", "p99_ms", "requests_per_s")},
            "ratio_p50": round(one_collect["p50_ms"] / max(one_floor["p50_ms"], 1e-3), 1),
            "server_cpu_ms_per_request": {
                "http_floor": one_floor["server_cpu_ms_per_request"],
                "collect": one_collect["server_cpu_ms_per_request"],
            },
        },
        "warmup": warm,
        "stored": {
            "events_sent": sent,
            "events_accepted": accepted,
            "tracked_events_rows": stored["tracked_events"],
            "every_accepted_event_stored": stored["tracked_events"] == accepted,
            "visitors": stored["visitors"],
            "visit_rows": stored["visitor_sessions"],
            "companies": stored["companies"],
        },
    }


@contextmanager
def _postgresql_schema() -> Iterator[str]:
    """A fresh schema on the test server, dropped afterwards; yields a URL that uses it."""
    server_url = sa.make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    schema = f"bench_{uuid.uuid4().hex}"
    admin = sa.create_engine(server_url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = server_url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _postgresql_version() -> str | None:
    server_url = sa.make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    engine = sa.create_engine(server_url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            return str(connection.scalar(sa.text("SHOW server_version")))
    finally:
        engine.dispose()


def run() -> dict[str, Any]:
    scale = float(os.environ.get("BENCH_SCALE", "1.0"))
    batches = max(200, int(FULL_BATCHES * scale))
    figures: dict[str, Any] = {
        "scale": scale,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
        },
        "load": {
            "batches": batches,
            "connections": CONNECTIONS,
            "sites": SITES,
            "warmup_batches": WARMUP_REQUESTS,
            "one_connection_batches": ONE_CONNECTION_BATCHES,
        },
        "snippet": _snippet_size(),
    }
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        figures["sqlite"] = _measure(f"sqlite:///{tmp / 'hearth.db'}", batches, tmp, "sqlite")
        try:
            figures["machine"]["postgresql"] = _postgresql_version()
        except sa.exc.OperationalError as exc:
            figures["postgresql"] = {"skipped": str(exc.orig).strip().splitlines()[0]}
        else:
            with _postgresql_schema() as url:
                figures["postgresql"] = _measure(url, batches, tmp, "postgresql")
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2), file=sys.stdout)
