"""Fixtures and batch builders for the storage side of collecting: erasure, retention and the
recompute check, on both databases.

Batches go in two ways, both through the production parser: `Tracked.send` posts them to
``POST /collect`` of the app (`tests.hearth.web.conftest`'s `site`), and `ingest_at` hands
`parse_batch` output to `ingest` with an arrival time of the test's choosing (the endpoint only
accepts events of the last 24 hours, retention needs older ones).
"""

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hearth.collect.ingest import IngestResult, ingest
from hearth.identity.ip_addresses import IPAddress
from hearth.identity.ip_resolvers import CompanyResolver, ResolvedCompany
from hearth.storage.models import Plan, Workspace
from hearth.tracking.events import parse_batch
from hearth.workspaces import create_site_key, create_workspace
from tests.hearth.web.conftest import (  # noqa: F401
    Site,
    add_user,
    anyio_backend,
    connected,
    org,
    site,
)
from tests.hearth.wire import body, ms, now_ms

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@dataclass
class Tracked:
    """The app on a migrated database, with workspace 1 and its site key."""

    site: Site
    key: str
    workspace_id: int
    slug: str

    def send(
        self,
        events: list[dict[str, Any]],
        *,
        anon: str = "anon-1",
        session: str = "s-1",
    ) -> dict[str, Any]:
        response = self.site.hearth.post(
            "/collect",
            content=body(self.key, events, anon=anon, session=session, sent_at=now_ms()),
            headers={"Content-Type": "text/plain", "User-Agent": CHROME},
        )
        assert response.status_code == 202, response.text
        answer: dict[str, Any] = response.json()
        return answer


def _tracked(running: Site) -> Tracked:
    with Session(running.engine) as session, session.begin():
        workspace = session.scalars(select(Workspace)).one()
        key = create_site_key(session, workspace).public_key
        return Tracked(site=running, key=key, workspace_id=workspace.id, slug=workspace.slug)


@pytest.fixture
def tracked(site: Site) -> Tracked:  # noqa: F811 (the fixture imported above)
    """A signed-in workspace that is not connected to Salesforce."""
    add_user(site.engine, "ada@example.com")
    site.sign_in("ada@example.com")
    return _tracked(site)


@pytest.fixture
def tracked_connected(connected: Site) -> Tracked:  # noqa: F811 (the fixture imported above)
    """A signed-in workspace connected to a localforce org."""
    return _tracked(connected)


def add_workspace(engine: Engine, name: str) -> tuple[int, str]:
    """A new workspace: (id, slug)."""
    with Session(engine) as session, session.begin():
        workspace = create_workspace(session, name, Plan.BUSINESS)
        session.flush()
        return workspace.id, workspace.slug


def ingest_at(
    session: Session,
    workspace_id: int,
    received_at: datetime,
    events: list[dict[str, Any]],
    *,
    anon: str = "anon-1",
    client_session: str = "s-1",
    ip: str | None = None,
    resolver: CompanyResolver | None = None,
    keep_full_ip: bool = False,
    sync_since: datetime | None = None,
) -> IngestResult:
    """`ingest` a batch that arrived at `received_at` (event times relative to it)."""
    batch = parse_batch(
        body("site_test", events, anon=anon, session=client_session, sent_at=ms(received_at)),
        received_at=received_at,
    )
    assert not batch.rejected, batch.rejected
    return ingest(
        session,
        workspace_id,
        batch,
        ip=ip,
        resolver=resolver,
        keep_full_ip=keep_full_ip,
        sync_since=sync_since,
    )


class OneNetworkResolver:
    """A resolver that places every public address in one company."""

    def __init__(self, domain: str) -> None:
        self.domain = domain

    def resolve(self, ip: IPAddress) -> ResolvedCompany | None:
        network = ipaddress.ip_network(f"{ip}/32" if ip.version == 4 else f"{ip}/128")
        return ResolvedCompany(domain=self.domain, name=None, source="test", network=network)

    def close(self) -> None:
        pass
