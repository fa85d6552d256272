"""A person in a browser signs in to localforce and approves a connected app (web-server flow)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from playwright.sync_api import Browser

from localforce import Org, bootstrap, create_app
from localforce.bootstrap import Credentials
from localforce.identity import create_connected_app
from localforce.server import Listener, free_port, serving_in_thread


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Org, Credentials]]:
    org = Org.open(tmp_path / "org")
    creds = bootstrap(org)
    assert creds is not None
    port = free_port()
    with serving_in_thread(Listener(app=create_app(org), host="127.0.0.1", port=port)) as base:
        yield base, org, creds
    org.close()


def _authorize_url(base: str, client_id: str, callback: str, challenge: str, state: str) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": callback,
            "state": state,
            "code_challenge": challenge,
            "scope": "api refresh_token",
        }
    )
    return f"{base}/services/oauth2/authorize?{query}"


def test_sign_in_approve_and_exchange_the_code(
    browser: Browser, served: tuple[str, Org, Credentials]
) -> None:
    base, org, creds = served
    callback = f"{base}/callback-for-test"
    app = create_connected_app(org, "Browser test", (callback,))
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    page = browser.new_page()
    page.goto(_authorize_url(base, app.client_id, callback, challenge.decode().rstrip("="), state))
    page.fill("#username", creds.username)
    page.fill("#password", "wrong password")
    page.click("#Login")
    assert page.locator("#password").is_visible()  # refused: the login page again
    page.fill("#password", creds.password)
    page.click("#Login")
    page.click("#oaapprove_allow")
    page.wait_for_url(f"{callback}?**")
    returned = parse_qs(urlparse(page.url).query)
    assert returned["state"] == [state]
    token = httpx.post(
        f"{base}/services/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": returned["code"][0],
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "redirect_uri": callback,
            "code_verifier": verifier,
        },
    ).json()
    assert token["instance_url"] == base and "refresh_token" in token
    limits = httpx.get(
        f"{base}/services/data/v62.0/limits",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert limits.status_code == 200


def test_deny_returns_access_denied(browser: Browser, served: tuple[str, Org, Credentials]) -> None:
    base, org, creds = served
    callback = f"{base}/callback-for-test"
    app = create_connected_app(org, "Browser test", (callback,))
    page = browser.new_page()
    page.goto(_authorize_url(base, app.client_id, callback, "x" * 43, "s1"))
    page.fill("#username", creds.username)
    page.fill("#password", creds.password)
    page.click("#Login")
    page.click("#oaapprove_deny")
    page.wait_for_url(f"{callback}?**")
    returned = parse_qs(urlparse(page.url).query)
    assert returned["error"] == ["access_denied"] and returned["state"] == ["s1"]
