"""The snippet's wire format, built by hand for tests: events and batch bodies, with times
in epoch milliseconds as the snippet sends them (docs/tracking.md)."""

import json
import time
import uuid
from datetime import datetime
from typing import Any

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def now_ms() -> int:
    return int(time.time() * 1000)


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def page(at: int, path: str = "/", query: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "type": "pageview",
        "ts": at,
        "url": f"https://acme.com{path}{query}",
        "title": path,
        **extra,
    }


def active(at: int, seconds: int, path: str = "/") -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "type": "activity",
        "ts": at,
        "url": f"https://acme.com{path}",
        "seconds": seconds,
    }


def identify(
    at: int,
    email: str,
    *,
    name: str = "Jane Doe",
    title: str | None = None,
    linkedin: str | None = None,
) -> dict[str, Any]:
    traits = {"name": name, "title": title, "linkedin": linkedin}
    return {
        "id": uuid.uuid4().hex,
        "type": "identify",
        "ts": at,
        "email": email,
        "source": "form",
        "traits": {k: v for k, v in traits.items() if v is not None},
    }


def body(key: str, events: list[dict[str, Any]], *, anon: str, session: str, sent_at: int) -> bytes:
    return json.dumps(
        {"site": key, "anon": anon, "session": session, "sent_at": sent_at, "events": events}
    ).encode()
