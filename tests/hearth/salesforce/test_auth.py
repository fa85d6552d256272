"""OAuth against localforce: the web-server flow, refresh on expiry (single-flight), rotation,
invalid_grant, revoke."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hearth.salesforce import Tokens, authorize_url, pkce_pair, revoke
from hearth.salesforce.auth import refresh_tokens
from hearth.salesforce.errors import AuthExpired, OAuthError, ReauthorizationRequired
from localforce import oauth

from .conftest import BASE_URL, Harness

pytestmark = pytest.mark.anyio


def test_authorize_url_carries_state_and_an_s256_challenge() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    url = authorize_url(
        "https://login.example.com/",
        client_id="key",
        redirect_uri="https://hearth.example/cb",
        state="s t",
        code_challenge=challenge,
    )
    parts = urlsplit(url)
    assert parts.netloc == "login.example.com"
    assert parts.path == "/services/oauth2/authorize"
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": ["key"],
        "redirect_uri": ["https://hearth.example/cb"],
        "state": ["s t"],
        "code_challenge": [challenge],
        "scope": ["api refresh_token"],
    }
    assert pkce_pair()[0] != verifier


async def test_the_web_server_flow_gives_tokens_for_the_instance(tokens: Tokens) -> None:
    assert tokens.instance_url == BASE_URL
    assert tokens.refresh_token
    assert tokens.id_url.startswith(BASE_URL + "/id/")
    assert tokens.access_token not in repr(tokens)
    assert tokens.refresh_token not in repr(tokens)


async def test_a_wrong_client_secret_is_an_oauth_error(harness: Harness, tokens: Tokens) -> None:
    assert tokens.refresh_token is not None
    async with httpx.AsyncClient(transport=harness.transport) as http:
        with pytest.raises(OAuthError) as caught:
            await refresh_tokens(
                http,
                BASE_URL,
                client_id=harness.creds.app.client_id,
                client_secret="wrong",
                refresh_token=tokens.refresh_token,
            )
    assert caught.value.error_code == "invalid_client"
    assert not isinstance(caught.value, ReauthorizationRequired)


async def test_an_expired_session_is_refreshed_and_the_call_replayed(
    harness: Harness, tokens: Tokens
) -> None:
    async with harness.client(tokens) as sf:
        harness.org.clock.advance(harness.org.config.access_token_ttl + timedelta(seconds=1))
        before = harness.token_requests()
        assert "DailyApiRequests" in await sf.limits()
        assert harness.token_requests() == before + 1
        assert sf.tokens.access_token != tokens.access_token
        # Without rotation the refresh token stays; the new access token is still persisted.
        assert sf.tokens.refresh_token == tokens.refresh_token
        assert harness.store.saves == [sf.tokens]


async def test_concurrent_calls_after_expiry_share_one_refresh(
    harness: Harness, tokens: Tokens
) -> None:
    async with harness.client(tokens) as sf:
        harness.org.clock.advance(harness.org.config.access_token_ttl + timedelta(seconds=1))
        before = harness.token_requests()

        async def count() -> int:
            return len([r async for r in sf.query("SELECT Id FROM User")])

        counts = await asyncio.gather(*(count() for _ in range(8)))
        assert set(counts) == {1}
        assert harness.token_requests() == before + 1
        assert len(harness.store.saves) == 1


@pytest.mark.parametrize("rotation", [True])
async def test_a_rotated_refresh_token_is_persisted(harness: Harness, tokens: Tokens) -> None:
    async with harness.client(tokens) as sf:
        harness.org.clock.advance(harness.org.config.access_token_ttl + timedelta(seconds=1))
        await sf.limits()
        assert sf.tokens.refresh_token not in (None, tokens.refresh_token)
        assert harness.store.tokens == sf.tokens
        # The old refresh token is dead; the stored one works.
        harness.org.clock.advance(harness.org.config.access_token_ttl + timedelta(seconds=1))
        await sf.limits()
        assert len(harness.store.saves) == 2


async def test_tokens_another_worker_refreshed_are_adopted(
    harness: Harness, tokens: Tokens
) -> None:
    async with harness.client(tokens) as first, harness.client(tokens) as second:
        harness.org.clock.advance(harness.org.config.access_token_ttl + timedelta(seconds=1))
        await first.limits()
        before = harness.token_requests()
        await second.limits()
        assert harness.token_requests() == before
        assert second.tokens == first.tokens


async def test_a_revoked_grant_requires_reauthorization_and_stops_asking(
    harness: Harness, tokens: Tokens
) -> None:
    async with harness.client(tokens) as sf:
        oauth.revoke_user_tokens(harness.org, harness.creds.user_id)
        with pytest.raises(ReauthorizationRequired) as caught:
            await sf.limits()
        assert caught.value.error_code == "invalid_grant"
        before = harness.token_requests()
        with pytest.raises(ReauthorizationRequired):
            await sf.limits()
        assert harness.token_requests() == before
        assert harness.sleeps.delays == []


async def test_a_session_refused_after_refresh_is_auth_expired(
    harness: Harness, tokens: Tokens
) -> None:
    async with harness.client(tokens) as sf:
        # Every call's token is refused, even the freshly refreshed one.
        await harness.faults({"kind": "session_expired", "rate": 1})
        with pytest.raises(AuthExpired):
            await sf.limits()
        assert harness.token_requests() == 2  # the code exchange, then one refresh


async def test_revoke_ends_the_grant(harness: Harness, tokens: Tokens) -> None:
    assert tokens.refresh_token is not None
    async with httpx.AsyncClient(transport=harness.transport) as http:
        await revoke(http, BASE_URL, tokens.refresh_token)
        with pytest.raises(OAuthError) as caught:
            await revoke(http, BASE_URL, "not-a-token")
        assert caught.value.error_code == "invalid_token"
    async with harness.client(tokens) as sf:
        with pytest.raises(ReauthorizationRequired):
            await sf.limits()
