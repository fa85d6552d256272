"""A localforce org served in-process over `httpx.ASGITransport` (the production code path, no
network), and a `SalesforceClient` connected to it through the real web-server flow.

Shared by the test packages that talk to an org (the client's, provisioning's, the read sync's):
their conftest imports the fixtures from here."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from hearth.salesforce import SalesforceClient, Tokens, authorize_url, exchange_code, pkce_pair
from hearth.salesforce.client import RetryPolicy
from localforce import Org, OrgConfig, bootstrap, create_app
from localforce.admin_api import admin_token
from localforce.bootstrap import Credentials

BASE_URL = "http://testserver"
REDIRECT = "http://127.0.0.1:8000/settings/salesforce/callback"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the org, keeping each request so tests can count and measure them."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    def paths(self, fragment: str) -> list[str]:
        return [r.url.path for r in self.requests if fragment in r.url.path]


@dataclass
class MemoryStore:
    """A TokenStore in memory, counting saves."""

    tokens: Tokens | None = None
    saves: list[Tokens] = field(default_factory=list)

    async def load(self) -> Tokens | None:
        return self.tokens

    async def save(self, tokens: Tokens) -> None:
        self.tokens = tokens
        self.saves.append(tokens)


@dataclass
class Sleeps:
    """An injectable sleep that only records how long it was asked to wait."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@dataclass
class Harness:
    org: Org
    creds: Credentials
    transport: RecordingTransport
    store: MemoryStore
    sleeps: Sleeps

    def client(self, tokens: Tokens, **overrides: Any) -> SalesforceClient:
        options: dict[str, Any] = {
            "token_store": self.store,
            "client_id": self.creds.app.client_id,
            "client_secret": self.creds.app.client_secret,
            "login_url": BASE_URL,
            "transport": self.transport,
            "retry": RetryPolicy(attempts=4, base_delay=0.5, max_delay=4.0),
            "sleep": self.sleeps,
            **overrides,
        }
        return SalesforceClient(tokens, **options)

    async def admin(self, method: str, path: str, body: Any = None) -> Any:
        async with httpx.AsyncClient(transport=self.transport, base_url=BASE_URL) as http:
            response = await http.request(
                method,
                "/_localforce" + path,
                json=body,
                headers={"Authorization": f"Bearer {admin_token(self.org)}"},
            )
        assert response.is_success, response.text
        return response.json()

    async def faults(self, *rules: dict[str, Any]) -> None:
        await self.admin("PUT", "/faults", {"seed": 7, "rules": list(rules)})

    def token_requests(self) -> int:
        return len(self.transport.paths("/services/oauth2/token"))


def _form_token(page: httpx.Response) -> str:
    match = re.search(r'name="request_token" value="([^"]+)"', page.text)
    assert match is not None, page.text
    return match.group(1)


async def connect(http: httpx.AsyncClient, creds: Credentials, login_url: str = BASE_URL) -> Tokens:
    """The web-server flow with PKCE, a browser's part played by `http`."""
    verifier, challenge = pkce_pair()
    url = authorize_url(
        login_url,
        client_id=creds.app.client_id,
        redirect_uri=REDIRECT,
        state="state-1",
        code_challenge=challenge,
    )
    page = await http.get(url)
    consent = await http.post(
        f"{login_url}/services/oauth2/authorize",
        data={
            "request_token": _form_token(page),
            "username": creds.username,
            "password": creds.password,
        },
    )
    callback = await http.post(
        f"{login_url}/services/oauth2/authorize/consent",
        data={"request_token": _form_token(consent), "decision": "allow"},
    )
    assert callback.status_code == 302, callback.text
    params = httpx.URL(callback.headers["location"]).params
    assert params["state"] == "state-1"
    return await exchange_code(
        http,
        login_url,
        client_id=creds.app.client_id,
        client_secret=creds.app.client_secret,
        code=params["code"],
        code_verifier=verifier,
        redirect_uri=REDIRECT,
    )


@pytest.fixture(params=[False], ids=["no-rotation"])
def rotation(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def org(tmp_path: Path, rotation: bool) -> Iterator[Org]:
    org = Org.open(tmp_path / "org", config=OrgConfig(refresh_token_rotation=rotation))
    yield org
    org.close()


@pytest.fixture
def harness(org: Org) -> Harness:
    creds = bootstrap(org)
    assert creds is not None
    transport = RecordingTransport(httpx.ASGITransport(app=create_app(org)))
    return Harness(org, creds, transport, MemoryStore(), Sleeps())


@pytest.fixture
async def tokens(harness: Harness) -> Tokens:
    async with httpx.AsyncClient(transport=harness.transport) as http:
        tokens = await connect(http, harness.creds)
    harness.store.tokens = tokens
    return tokens


@pytest.fixture
async def sf(harness: Harness, tokens: Tokens) -> AsyncIterator[SalesforceClient]:
    async with harness.client(tokens) as client:
        yield client
