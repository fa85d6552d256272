"""The Salesforce client's localforce fixtures, for the provisioning round trip, plus clients
signed in as users other than the org's administrator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from hearth.salesforce import SalesforceClient
from localforce.bootstrap import Credentials, create_user
from tests.hearth.localforce_harness import (  # noqa: F401
    Harness,
    anyio_backend,
    connect,
    harness,
    org,
    rotation,
    sf,
    tokens,
)

STANDARD_USERNAME = "integration@localforce.test"


async def client_as(lf: Harness, *, username: str, profile: str) -> SalesforceClient:
    """A client for a new user of `profile`, connected through the real web-server flow."""
    password = "integration-password-1"
    user_id = create_user(
        lf.org, username=username, last_name="Integration", profile=profile,
        password=password,
    )  # fmt: skip
    creds = Credentials(username=username, password=password, user_id=user_id, app=lf.creds.app)
    async with httpx.AsyncClient(transport=lf.transport) as http:
        tokens = await connect(http, creds)
    return lf.client(tokens)


@pytest.fixture
async def standard_sf(harness: Harness) -> AsyncIterator[SalesforceClient]:  # noqa: F811
    """Connected as a "Standard User": API access and the sales objects, no "Customize
    Application", not an administrator."""
    async with await client_as(
        harness, username=STANDARD_USERNAME, profile="Standard User"
    ) as client:
        yield client
