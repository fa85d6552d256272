"""OAuth through HTTP: the browser flow by posting its forms, every grant, errors, revocation,
token lifetime, and the identity endpoints, against an app made of `oauth_routes` and one
protected route that calls `authenticate` as the REST layer does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from localforce.bootstrap import Credentials, bootstrap, create_user
from localforce.errors import ApiError
from localforce.identity import ConnectedApp, create_connected_app
from localforce.oauth import (
    CODE_TTL,
    authenticate,
    ensure_tables,
    issue_session,
    oauth_routes,
    revoke_user_tokens,
)
from localforce.org import Org, OrgConfig

REDIRECT = "http://127.0.0.1:8000/settings/salesforce/callback"
TOKEN_KEYS = [
    "access_token",
    "refresh_token",
    "signature",
    "scope",
    "instance_url",
    "id",
    "token_type",
    "issued_at",
]
JSON_TYPE = "application/json;charset=UTF-8"


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def org() -> Iterator[Org]:
    org = Org.open(None)
    yield org
    org.close()


@pytest.fixture
def creds(org: Org) -> Credentials:
    creds = bootstrap(org)
    assert creds is not None
    ensure_tables(org)  # as the app does at startup
    return creds


def make_client(org: Org, base_url: str = "http://testserver") -> TestClient:
    def protected(request: Request) -> Response:
        try:
            session = authenticate(org, request.headers.get("authorization"))
        except ApiError as err:
            return JSONResponse(err.rest_body(), err.status, headers=err.headers)
        return JSONResponse({"user_id": session.user_id, "client_id": session.client_id})

    app = Starlette(routes=[*oauth_routes(org), Route("/protected", protected)])
    return TestClient(app, base_url=base_url, follow_redirects=False)


@pytest.fixture
def client(org: Org, creds: Credentials) -> TestClient:
    return make_client(org)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def form_token(page: httpx.Response) -> str:
    match = re.search(r'name="request_token" value="([^"]+)"', page.text)
    assert match is not None, page.text
    return match.group(1)


def authorize_params(app: ConnectedApp, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "state": "st-123",
        **extra,
    }


def log_in(
    client: TestClient, params: dict[str, str], username: str, password: str
) -> httpx.Response:
    page = client.get("/services/oauth2/authorize", params=params)
    assert page.status_code == 200, page.text
    return client.post(
        "/services/oauth2/authorize",
        data={"request_token": form_token(page), "username": username, "password": password},
    )


def approve(
    client: TestClient, creds: Credentials, decision: str = "allow", **extra: str
) -> httpx.Response:
    consent = log_in(client, authorize_params(creds.app, **extra), creds.username, creds.password)
    assert "Allow Access?" in consent.text, consent.text
    return client.post(
        "/services/oauth2/authorize/consent",
        data={"request_token": form_token(consent), "decision": decision},
    )


def callback(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?"), location
    return dict(httpx.URL(location).params)


def get_code(client: TestClient, creds: Credentials, **extra: str) -> str:
    return callback(approve(client, creds, **extra))["code"]


def token_request(client: TestClient, **data: str | None) -> httpx.Response:
    return client.post(
        "/services/oauth2/token", data={k: v for k, v in data.items() if v is not None}
    )


def exchange(
    client: TestClient, creds: Credentials, code: str, **overrides: str | None
) -> httpx.Response:
    fields: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": creds.app.client_id,
        "client_secret": creds.app.client_secret,
        "redirect_uri": REDIRECT,
    }
    return token_request(client, **{**fields, **overrides})


def tokens(client: TestClient, creds: Credentials, **extra: str) -> dict[str, Any]:
    """Access and refresh token from a full browser flow."""
    response = exchange(client, creds, get_code(client, creds, **extra))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refresh(client: TestClient, creds: Credentials, refresh_token: str) -> httpx.Response:
    return token_request(
        client,
        grant_type="refresh_token",
        refresh_token=refresh_token,
        client_id=creds.app.client_id,
        client_secret=creds.app.client_secret,
    )


def password_grant(client: TestClient, creds: Credentials, **overrides: str) -> httpx.Response:
    fields = {
        "grant_type": "password",
        "client_id": creds.app.client_id,
        "client_secret": creds.app.client_secret,
        "username": creds.username,
        "password": creds.password,
    }
    return token_request(client, **{**fields, **overrides})


def call(client: TestClient, access_token: str, scheme: str = "Bearer") -> httpx.Response:
    return client.get("/protected", headers={"Authorization": f"{scheme} {access_token}"})


def assert_oauth_error(response: httpx.Response, error: str, description: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json() == {"error": error, "error_description": description}
    assert response.headers["content-type"] == JSON_TYPE
    assert response.headers["cache-control"] == "no-store"


def assert_invalid_session(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert response.headers["www-authenticate"] == "Token"


# -- the web server flow ----------------------------------------------------------------------


def test_web_server_flow_with_pkce_and_state(
    org: Org, creds: Credentials, client: TestClient
) -> None:
    verifier, challenge = pkce()
    redirect = approve(client, creds, code_challenge=challenge, code_challenge_method="S256")

    location = redirect.headers["location"]
    # The code ends in "==", so it travels URL-encoded, as a real org's does.
    assert re.fullmatch(re.escape(REDIRECT) + r"\?code=aPrx[\w.]+%3D%3D&state=st-123", location)
    response = exchange(client, creds, callback(redirect)["code"], code_verifier=verifier)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSON_TYPE
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert list(body) == TOKEN_KEYS  # Salesforce's keys in its order: no expires_in
    org_id = org.meta("organization_id")
    assert org_id is not None
    assert re.fullmatch(re.escape(org_id[:15]) + r"!AQ[\w.]{100,}", body["access_token"])
    assert re.fullmatch(r"5Aep861[\w.]{80}", body["refresh_token"])
    assert body["scope"] == " ".join(creds.app.scopes)
    assert body["instance_url"] == "http://testserver"
    assert body["id"] == f"http://testserver/id/{org_id}/{creds.user_id}"
    assert body["token_type"] == "Bearer"
    assert isinstance(body["issued_at"], str) and body["issued_at"].isdigit()
    mac = hmac.new(
        creds.app.client_secret.encode(),
        (body["id"] + body["issued_at"]).encode(),
        hashlib.sha256,
    )
    assert body["signature"] == base64.b64encode(mac.digest()).decode()

    me = call(client, body["access_token"])
    assert me.status_code == 200
    assert me.json() == {"user_id": creds.user_id, "client_id": creds.app.client_id}


def test_login_and_consent_pages_are_real_forms(creds: Credentials, client: TestClient) -> None:
    page = client.get(
        "/services/oauth2/authorize", params=authorize_params(creds.app, login_hint="a@b.test")
    )
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["x-frame-options"] == "DENY"
    assert 'name="username" value="a@b.test"' in page.text
    assert 'type="password"' in page.text
    consent = client.post(
        "/services/oauth2/authorize",
        data={
            "request_token": form_token(page),
            "username": creds.username,
            "password": creds.password,
        },
    )
    assert "Allow Access?" in consent.text
    assert "Hearth" in consent.text
    assert "Perform requests at any time (refresh_token, offline_access)" in consent.text
    assert 'value="allow"' in consent.text and 'value="deny"' in consent.text


def test_an_authorization_request_may_be_posted_as_a_form(
    creds: Credentials, client: TestClient
) -> None:
    page = client.post("/services/oauth2/authorize", data=authorize_params(creds.app))
    assert page.status_code == 200
    assert 'name="request_token"' in page.text


def test_state_is_omitted_from_the_callback_when_not_sent(
    creds: Credentials, client: TestClient
) -> None:
    consent = log_in(
        client,
        {"response_type": "code", "client_id": creds.app.client_id, "redirect_uri": REDIRECT},
        creds.username,
        creds.password,
    )
    redirect = client.post(
        "/services/oauth2/authorize/consent",
        data={"request_token": form_token(consent), "decision": "allow"},
    )
    assert set(callback(redirect)) == {"code"}


def test_deny_redirects_with_access_denied(creds: Credentials, client: TestClient) -> None:
    redirect = approve(client, creds, decision="deny")
    assert redirect.status_code == 302
    assert redirect.headers["location"] == (
        REDIRECT
        + "?error=access_denied&error_description=end-user+denied+authorization&state=st-123"
    )


def test_login_hint_is_escaped(creds: Credentials, client: TestClient) -> None:
    page = client.get(
        "/services/oauth2/authorize",
        params=authorize_params(creds.app, login_hint='"><script>x()</script>'),
    )
    assert "<script>x()" not in page.text
    assert "&lt;script&gt;" in page.text


def test_wrong_password_shows_the_login_page_again(creds: Credentials, client: TestClient) -> None:
    page = log_in(client, authorize_params(creds.app), creds.username, "wrong")
    assert page.status_code == 200
    assert "Please check your username and password" in page.text
    assert "Allow Access?" not in page.text
    assert f'value="{creds.username}"' in page.text
    # The same page works once the password is right.
    consent = client.post(
        "/services/oauth2/authorize",
        data={
            "request_token": form_token(page),
            "username": creds.username,
            "password": creds.password,
        },
    )
    assert "Allow Access?" in consent.text


def test_unknown_username_shows_the_login_page_again(
    creds: Credentials, client: TestClient
) -> None:
    page = log_in(client, authorize_params(creds.app), "nobody@nowhere.test", "x")
    assert "Please check your username and password" in page.text


def test_users_without_api_access_cannot_authorize(
    org: Org, creds: Credentials, client: TestClient
) -> None:
    create_user(org, username="ro@x.test", last_name="Ro", profile="Read Only", password="pw-1")
    page = log_in(client, authorize_params(creds.app), "ro@x.test", "pw-1")
    assert "API Enabled permission" in page.text
    assert "Allow Access?" not in page.text


def test_inactive_users_cannot_authorize(org: Org, creds: Credentials, client: TestClient) -> None:
    user_id = create_user(org, username="gone@x.test", last_name="Gone", password="pw-2")
    org.conn.execute('UPDATE "User" SET "IsActive" = 0 WHERE "Id" = ?', (user_id,))
    page = log_in(client, authorize_params(creds.app), "gone@x.test", "pw-2")
    assert "inactive" in page.text
    assert "Allow Access?" not in page.text


def test_another_user_can_authorize(org: Org, creds: Credentials, client: TestClient) -> None:
    user_id = create_user(org, username="std@x.test", last_name="Std", password="pw-3")
    consent = log_in(client, authorize_params(creds.app), "std@x.test", "pw-3")
    redirect = client.post(
        "/services/oauth2/authorize/consent",
        data={"request_token": form_token(consent), "decision": "allow"},
    )
    body = exchange(client, creds, callback(redirect)["code"]).json()
    assert body["id"].endswith("/" + user_id)
    assert call(client, body["access_token"]).json()["user_id"] == user_id


# -- authorize errors -------------------------------------------------------------------------


def test_unknown_client_id_shows_an_error_page(creds: Credentials, client: TestClient) -> None:
    params = {**authorize_params(creds.app), "client_id": "3MVG9unknown"}
    page = client.get("/services/oauth2/authorize", params=params)
    assert page.status_code == 400
    assert "location" not in page.headers
    assert (
        "error=invalid_client_id&amp;error_description=client%20identifier%20invalid" in page.text
    )


@pytest.mark.parametrize(
    "redirect_uri",
    ["http://evil.test/callback", REDIRECT + "/", REDIRECT.replace("8000", "8001"), ""],
)
def test_a_redirect_uri_not_registered_exactly_shows_an_error_page(
    creds: Credentials, client: TestClient, redirect_uri: str
) -> None:
    params = {**authorize_params(creds.app), "redirect_uri": redirect_uri}
    page = client.get("/services/oauth2/authorize", params=params)
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "redirect_uri_mismatch" in page.text


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": ""}, "unsupported_response_type"),
        ({"code_challenge": "x", "code_challenge_method": "plain"}, "invalid_request"),
        ({"scope": "api chatter_api"}, "invalid_scope"),
    ],
)
def test_other_authorize_errors_go_back_to_the_callback(
    creds: Credentials, client: TestClient, extra: dict[str, str], error: str
) -> None:
    redirect = client.get("/services/oauth2/authorize", params=authorize_params(creds.app, **extra))
    params = callback(redirect)
    assert params["error"] == error
    assert params["state"] == "st-123"
    assert params["error_description"]


def test_a_forged_form_token_is_refused(creds: Credentials, client: TestClient) -> None:
    page = client.get("/services/oauth2/authorize", params=authorize_params(creds.app))
    body, _, mac = form_token(page).partition(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    response = client.post(
        "/services/oauth2/authorize",
        data={"request_token": forged, "username": creds.username, "password": creds.password},
    )
    assert response.status_code == 400
    assert "Allow Access?" not in response.text


def test_a_login_form_cannot_be_posted_as_a_consent(creds: Credentials, client: TestClient) -> None:
    page = client.get("/services/oauth2/authorize", params=authorize_params(creds.app))
    response = client.post(
        "/services/oauth2/authorize/consent",
        data={"request_token": form_token(page), "decision": "allow"},
    )
    assert response.status_code == 400
    assert "location" not in response.headers


def test_a_stale_login_page_is_refused(org: Org, creds: Credentials, client: TestClient) -> None:
    page = client.get("/services/oauth2/authorize", params=authorize_params(creds.app))
    org.clock.advance(timedelta(minutes=16))
    response = client.post(
        "/services/oauth2/authorize",
        data={
            "request_token": form_token(page),
            "username": creds.username,
            "password": creds.password,
        },
    )
    assert response.status_code == 400


# -- authorization code grant -----------------------------------------------------------------


def test_a_code_is_single_use(creds: Credentials, client: TestClient) -> None:
    code = get_code(client, creds)
    assert exchange(client, creds, code).status_code == 200
    assert_oauth_error(exchange(client, creds, code), "invalid_grant", "expired authorization code")


def test_a_code_expires_after_15_minutes(org: Org, creds: Credentials, client: TestClient) -> None:
    code = get_code(client, creds)
    org.clock.advance(CODE_TTL)
    assert_oauth_error(exchange(client, creds, code), "invalid_grant", "expired authorization code")


def test_an_unknown_code_is_expired(creds: Credentials, client: TestClient) -> None:
    response = exchange(client, creds, "aPrxNotARealCode==")
    assert_oauth_error(response, "invalid_grant", "expired authorization code")


def test_a_code_belongs_to_its_app(org: Org, creds: Credentials, client: TestClient) -> None:
    other = create_connected_app(org, "Other", (REDIRECT,))
    code = get_code(client, creds)
    response = exchange(
        client, creds, code, client_id=other.client_id, client_secret=other.client_secret
    )
    assert_oauth_error(response, "invalid_grant", "expired authorization code")


def test_redirect_uri_must_equal_the_authorize_one(creds: Credentials, client: TestClient) -> None:
    code = get_code(client, creds)
    other = "http://localhost:8000/settings/salesforce/callback"  # registered, but not used
    response = exchange(client, creds, code, redirect_uri=other)
    assert_oauth_error(response, "redirect_uri_mismatch", "redirect_uri must match configuration")
    # A failed exchange leaves the code usable [U].
    assert exchange(client, creds, code).status_code == 200


def test_pkce_wrong_verifier_is_invalid_request(creds: Credentials, client: TestClient) -> None:
    _, challenge = pkce()
    code = get_code(client, creds, code_challenge=challenge)
    response = exchange(client, creds, code, code_verifier=pkce()[0])
    assert_oauth_error(response, "invalid_request", "invalid code verifier")


def test_pkce_missing_verifier_is_invalid_grant(creds: Credentials, client: TestClient) -> None:
    _, challenge = pkce()
    code = get_code(client, creds, code_challenge=challenge)
    assert_oauth_error(exchange(client, creds, code), "invalid_grant", "invalid code verifier")


def test_the_web_server_flow_needs_the_secret(creds: Credentials, client: TestClient) -> None:
    code = get_code(client, creds)
    response = exchange(client, creds, code, client_secret=None)
    assert_oauth_error(response, "invalid_client", "invalid client credentials")


def test_client_credentials_may_come_as_http_basic(creds: Credentials, client: TestClient) -> None:
    code = get_code(client, creds)
    response = client.post(
        "/services/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(creds.app.client_id, creds.app.client_secret),
    )
    assert response.status_code == 200, response.text


def test_no_refresh_token_without_the_refresh_scope(creds: Credentials, client: TestClient) -> None:
    body = tokens(client, creds, scope="api id")
    assert "refresh_token" not in body
    assert body["scope"] == "api id"


def test_offline_access_is_the_refresh_scope(creds: Credentials, client: TestClient) -> None:
    body = tokens(client, creds, scope="api offline_access")
    assert body["refresh_token"].startswith("5Aep861")
    assert body["scope"] == "api offline_access"


# -- token endpoint errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "error", "description"),
    [
        ({"client_id": "3MVG9unknown"}, "invalid_client_id", "client identifier invalid"),
        ({"client_id": ""}, "invalid_client_id", "client identifier invalid"),
        ({"client_secret": "0" * 64}, "invalid_client", "invalid client credentials"),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"}, "unsupported_grant_type",
         "grant type not supported"),
        ({"grant_type": ""}, "unsupported_grant_type", "grant type not supported"),
        ({"password": "wrong"}, "invalid_grant", "authentication failure"),
        ({"username": "nobody@nowhere.test"}, "invalid_grant", "authentication failure"),
    ],
)  # fmt: skip
def test_token_errors(
    creds: Credentials, client: TestClient, fields: dict[str, str], error: str, description: str
) -> None:
    assert_oauth_error(password_grant(client, creds, **fields), error, description)


def test_a_json_body_has_no_grant_type(creds: Credentials, client: TestClient) -> None:
    response = client.post(
        "/services/oauth2/token",
        json={"grant_type": "password", "client_id": creds.app.client_id},
    )
    assert_oauth_error(response, "unsupported_grant_type", "grant type not supported")


def test_malformed_basic_credentials_are_invalid_client(
    creds: Credentials, client: TestClient
) -> None:
    response = client.post(
        "/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic not-base64!"},
    )
    assert_oauth_error(response, "invalid_client", "invalid client credentials")


def test_token_parameters_may_come_in_the_query_string(
    creds: Credentials, client: TestClient
) -> None:
    response = client.post(
        "/services/oauth2/token",
        params={
            "grant_type": "password",
            "client_id": creds.app.client_id,
            "client_secret": creds.app.client_secret,
            "username": creds.username,
            "password": creds.password,
        },
    )
    assert response.status_code == 200, response.text


# -- password and client credentials grants ---------------------------------------------------


def test_password_grant(creds: Credentials, client: TestClient) -> None:
    response = password_grant(client, creds)
    assert response.status_code == 200, response.text
    body = response.json()
    # Neither refresh tokens nor scopes exist in the username-password flow.
    assert list(body) == [k for k in TOKEN_KEYS if k not in ("refresh_token", "scope")]
    assert call(client, body["access_token"]).json()["user_id"] == creds.user_id


@pytest.mark.parametrize("change", ["inactive", "read only"])
def test_password_grant_refuses_users_who_may_not_authorize(
    org: Org, creds: Credentials, client: TestClient, change: str
) -> None:
    profile = "Read Only" if change == "read only" else "Standard User"
    user_id = create_user(org, username="u@x.test", last_name="U", profile=profile, password="pw")
    if change == "inactive":
        org.conn.execute('UPDATE "User" SET "IsActive" = 0 WHERE "Id" = ?', (user_id,))
    response = password_grant(client, creds, username="u@x.test", password="pw")
    assert_oauth_error(response, "invalid_grant", "authentication failure")


def test_client_credentials_grant_runs_as_the_admin(
    org: Org, creds: Credentials, client: TestClient
) -> None:
    response = client.post(
        "/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.app.client_id, creds.app.client_secret),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == [k for k in TOKEN_KEYS if k != "refresh_token"]
    assert "refresh_token" not in body["scope"].split()
    assert body["id"] == f"http://testserver/id/{org.meta('organization_id')}/{creds.user_id}"
    assert call(client, body["access_token"]).json()["user_id"] == creds.user_id


def test_client_credentials_always_need_the_secret(creds: Credentials, client: TestClient) -> None:
    response = token_request(client, grant_type="client_credentials", client_id=creds.app.client_id)
    assert_oauth_error(response, "invalid_client", "invalid client credentials")


def test_instance_url_is_the_url_the_request_came_in_on(org: Org, creds: Credentials) -> None:
    for base in ("https://127.0.0.1:8443", "http://localhost:8000"):
        body = password_grant(make_client(org, base), creds).json()
        assert body["instance_url"] == base
        assert body["id"].startswith(base + "/id/")


# -- refresh tokens ---------------------------------------------------------------------------


def test_refresh_without_rotation(creds: Credentials, client: TestClient) -> None:
    first = tokens(client, creds)
    response = refresh(client, creds, first["refresh_token"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == [k for k in TOKEN_KEYS if k != "refresh_token"]
    assert body["access_token"] != first["access_token"]
    assert body["scope"] == first["scope"]
    assert call(client, body["access_token"]).status_code == 200
    # Without rotation the refresh token stays valid, and so does the first access token.
    assert refresh(client, creds, first["refresh_token"]).status_code == 200
    assert call(client, first["access_token"]).status_code == 200


def test_refresh_secret_is_optional_but_checked_when_sent(
    creds: Credentials, client: TestClient
) -> None:
    rt = tokens(client, creds)["refresh_token"]
    fields = {"grant_type": "refresh_token", "refresh_token": rt, "client_id": creds.app.client_id}
    assert token_request(client, **fields).status_code == 200
    response = token_request(client, **fields, client_secret="wrong")
    assert_oauth_error(response, "invalid_client", "invalid client credentials")


def test_unknown_refresh_token(creds: Credentials, client: TestClient) -> None:
    response = refresh(client, creds, "5Aep861NotARealToken")
    assert_oauth_error(response, "invalid_grant", "expired access/refresh token")


def test_a_refresh_token_belongs_to_its_app(
    org: Org, creds: Credentials, client: TestClient
) -> None:
    other = create_connected_app(org, "Other", (REDIRECT,))
    rt = tokens(client, creds)["refresh_token"]
    response = token_request(
        client,
        grant_type="refresh_token",
        refresh_token=rt,
        client_id=other.client_id,
        client_secret=other.client_secret,
    )
    assert_oauth_error(response, "invalid_grant", "expired access/refresh token")


def test_refresh_for_an_inactive_user(org: Org, creds: Credentials, client: TestClient) -> None:
    first = tokens(client, creds)
    org.conn.execute('UPDATE "User" SET "IsActive" = 0 WHERE "Id" = ?', (creds.user_id,))
    assert_oauth_error(
        refresh(client, creds, first["refresh_token"]), "invalid_grant", "inactive user"
    )
    assert_invalid_session(call(client, first["access_token"]))


def _assert_rotation(client: TestClient, creds: Credentials) -> None:
    first = tokens(client, creds)
    response = refresh(client, creds, first["refresh_token"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == TOKEN_KEYS
    assert body["refresh_token"] != first["refresh_token"]
    assert_oauth_error(
        refresh(client, creds, first["refresh_token"]),
        "invalid_grant",
        "expired access/refresh token",
    )
    # Access tokens minted before the rotation still work.
    assert call(client, first["access_token"]).status_code == 200
    again = refresh(client, creds, body["refresh_token"])
    assert again.status_code == 200
    assert again.json()["refresh_token"] != body["refresh_token"]


def test_rotation_set_on_the_connected_app(org: Org, creds: Credentials) -> None:
    app = create_connected_app(org, "Rotating", (REDIRECT,), refresh_token_rotation=True)
    _assert_rotation(make_client(org), Credentials(**{**vars(creds), "app": app}))


def test_rotation_set_on_the_org() -> None:
    org = Org.open(None, config=OrgConfig(refresh_token_rotation=True))
    try:
        creds = bootstrap(org)
        assert creds is not None
        _assert_rotation(make_client(org), creds)
    finally:
        org.close()


# -- revocation -------------------------------------------------------------------------------


def test_revoking_a_refresh_token_revokes_its_access_tokens(
    creds: Credentials, client: TestClient
) -> None:
    first = tokens(client, creds)
    refreshed = refresh(client, creds, first["refresh_token"]).json()
    unrelated = tokens(client, creds)

    response = client.post("/services/oauth2/revoke", data={"token": first["refresh_token"]})

    assert response.status_code == 200
    assert response.content == b""
    assert_invalid_session(call(client, first["access_token"]))
    assert_invalid_session(call(client, refreshed["access_token"]))
    assert_oauth_error(
        refresh(client, creds, first["refresh_token"]),
        "invalid_grant",
        "expired access/refresh token",
    )
    assert call(client, unrelated["access_token"]).status_code == 200


def test_revoking_an_access_token_revokes_only_it(creds: Credentials, client: TestClient) -> None:
    first = tokens(client, creds)
    assert client.get("/services/oauth2/revoke", params={"token": first["access_token"]}).is_success
    assert_invalid_session(call(client, first["access_token"]))
    again = refresh(client, creds, first["refresh_token"])
    assert call(client, again.json()["access_token"]).status_code == 200


@pytest.mark.parametrize("token", ["00Dnothing!AQxyz", ""])
def test_revoking_an_unknown_token(client: TestClient, token: str) -> None:
    response = client.post("/services/oauth2/revoke", data={"token": token})
    assert_oauth_error(response, "invalid_token", "invalid token")


def test_revoke_user_tokens(org: Org, creds: Credentials, client: TestClient) -> None:
    first = tokens(client, creds)
    second = password_grant(client, creds).json()
    # The flow's grant and access token, and the password grant's access token.
    assert revoke_user_tokens(org, creds.user_id) == 3
    assert_invalid_session(call(client, first["access_token"]))
    assert_invalid_session(call(client, second["access_token"]))
    assert refresh(client, creds, first["refresh_token"]).status_code == 400
    assert revoke_user_tokens(org, creds.user_id) == 0


# -- sessions ---------------------------------------------------------------------------------


def test_access_tokens_expire_after_the_org_ttl(
    org: Org, creds: Credentials, client: TestClient
) -> None:
    access_token = password_grant(client, creds).json()["access_token"]
    org.clock.advance(org.config.access_token_ttl - timedelta(seconds=1))
    assert call(client, access_token).status_code == 200
    org.clock.advance(timedelta(seconds=1))
    assert_invalid_session(call(client, access_token))


def test_a_short_ttl_forces_a_refresh_mid_run() -> None:
    org = Org.open(None, config=OrgConfig(access_token_ttl=timedelta(minutes=5)))
    try:
        creds = bootstrap(org)
        assert creds is not None
        client = make_client(org)
        first = tokens(client, creds)
        org.clock.advance(timedelta(minutes=5))
        assert_invalid_session(call(client, first["access_token"]))
        fresh = refresh(client, creds, first["refresh_token"]).json()["access_token"]
        assert call(client, fresh).status_code == 200
    finally:
        org.close()


@pytest.mark.parametrize("scheme", ["Bearer", "OAuth", "bearer"])
def test_authorization_schemes(creds: Credentials, client: TestClient, scheme: str) -> None:
    access_token = password_grant(client, creds).json()["access_token"]
    assert call(client, access_token, scheme).status_code == 200


@pytest.mark.parametrize("header", [None, "", "Bearer 00Dgarbage!AQxyz", "Bearer nonsense"])
def test_missing_or_garbage_tokens_are_invalid_sessions(
    client: TestClient, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    assert_invalid_session(client.get("/protected", headers=headers))


@pytest.mark.parametrize("header", ["Basic dXNlcjpwdw==", "Bearer", "Bearer a b"])
def test_malformed_headers_are_invalid_auth_headers(client: TestClient, header: str) -> None:
    response = client.get("/protected", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == [
        {"message": "INVALID_AUTH_HEADER", "errorCode": "INVALID_AUTH_HEADER"}
    ]


def test_authenticate_returns_the_session(org: Org, creds: Credentials) -> None:
    access_token = issue_session(org, creds.user_id, creds.app.client_id)
    session = authenticate(org, f"Bearer {access_token}")
    assert session.user_id == creds.user_id
    assert session.org_id == org.meta("organization_id")
    assert session.client_id == creds.app.client_id
    assert session.token_hash == hashlib.sha256(access_token.encode()).hexdigest()
    assert "refresh_token" not in session.scopes
    assert abs(session.issued_at - org.clock.now()) < timedelta(seconds=5)


def test_issue_session_needs_a_known_app(org: Org, creds: Credentials) -> None:
    with pytest.raises(ValueError, match="client id"):
        issue_session(org, creds.user_id, "3MVG9unknown")


def test_only_hashes_are_stored(org: Org, creds: Credentials, client: TestClient) -> None:
    code = get_code(client, creds)
    body = exchange(client, creds, code).json()
    stored = [
        str(value)
        for table in ("_lf_oauth_codes", "_lf_oauth_grants", "_lf_oauth_access_tokens")
        for row in org.conn.execute(f"SELECT * FROM {table}")
        for value in row
    ]
    for secret in (code, body["access_token"], body["refresh_token"]):
        assert not any(secret in value for value in stored)


def test_ensure_tables_is_idempotent(org: Org, creds: Credentials) -> None:
    ensure_tables(org)
    key = org.meta("oauth_form_key")
    ensure_tables(org)
    assert org.meta("oauth_form_key") == key


# -- userinfo and identity URL ----------------------------------------------------------------


def test_identity_url(org: Org, creds: Credentials, client: TestClient) -> None:
    body = password_grant(client, creds).json()
    response = client.get(body["id"], headers={"Authorization": f"Bearer {body['access_token']}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSON_TYPE
    info = response.json()
    org_id = org.meta("organization_id")
    assert org_id is not None
    assert info["id"] == body["id"]
    assert info["asserted_user"] is True
    assert info["user_id"] == creds.user_id
    assert info["organization_id"] == org_id
    assert info["username"] == creds.username
    assert info["display_name"] == "Admin User"
    assert (info["first_name"], info["last_name"]) == ("Admin", "User")
    assert info["email"] == creds.username
    assert info["active"] is True
    assert info["user_type"] == "STANDARD"
    assert (info["language"], info["locale"]) == ("en_US", "en_US")
    assert info["timezone"] == "America/Los_Angeles"
    assert info["utcOffset"] == -28800000  # standard time all year, as Salesforce reports it
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info["last_modified_date"])
    urls = info["urls"]
    assert urls["rest"] == "http://testserver/services/data/v{version}/"
    assert urls["sobjects"] == "http://testserver/services/data/v{version}/sobjects/"
    assert urls["query"] == "http://testserver/services/data/v{version}/query/"
    assert urls["partner"] == f"http://testserver/services/Soap/u/{{version}}/{org_id[:15]}"
    assert urls["enterprise"] == f"http://testserver/services/Soap/c/{{version}}/{org_id[:15]}"
    assert urls["profile"] == f"http://testserver/{creds.user_id}"


def test_identity_url_accepts_15_character_ids_and_the_oauth_token_parameter(
    org: Org, creds: Credentials, client: TestClient
) -> None:
    access_token = issue_session(org, creds.user_id, creds.app.client_id)
    org_id = org.meta("organization_id")
    assert org_id is not None
    response = client.get(
        f"/id/{org_id[:15]}/{creds.user_id[:15]}", params={"oauth_token": access_token}
    )
    assert response.status_code == 200
    assert response.json()["user_id"] == creds.user_id


def test_identity_url_of_another_user(org: Org, creds: Credentials, client: TestClient) -> None:
    other = create_user(org, username="o@x.test", last_name="Other", first_name="An")
    org_id = org.meta("organization_id")
    with_api = issue_session(org, creds.user_id, creds.app.client_id)
    response = client.get(f"/id/{org_id}/{other}", headers={"Authorization": f"Bearer {with_api}"})
    assert response.status_code == 200
    assert response.json()["asserted_user"] is False
    assert response.json()["display_name"] == "An Other"
    id_only = tokens(client, creds, scope="id")["access_token"]
    response = client.get(f"/id/{org_id}/{other}", headers={"Authorization": f"Bearer {id_only}"})
    assert (response.status_code, response.text) == (403, "Bad_Id")


@pytest.mark.parametrize(
    ("path", "status"), [("/id/00D000000000001/005000000000001", 404), ("/id/bad/ids", 404)]
)
def test_identity_url_bad_ids(
    org: Org, creds: Credentials, client: TestClient, path: str, status: int
) -> None:
    access_token = issue_session(org, creds.user_id, creds.app.client_id)
    response = client.get(path, headers={"Authorization": f"Bearer {access_token}"})
    assert (response.status_code, response.text) == (status, "Bad_Id")


@pytest.mark.parametrize("path", ["/services/oauth2/userinfo", "/id/{org}/{user}"])
def test_identity_endpoints_refuse_bad_tokens(
    org: Org, creds: Credentials, client: TestClient, path: str
) -> None:
    url = path.format(org=org.meta("organization_id"), user=creds.user_id)
    missing = client.get(url)
    assert (missing.status_code, missing.text) == (403, "Missing_OAuth_Token")
    bad = client.get(url, headers={"Authorization": "Bearer 00Dnope!AQxyz"})
    assert (bad.status_code, bad.text) == (403, "Bad_OAuth_Token")
    assert bad.headers["content-type"] == "text/plain;charset=UTF-8"
    expired = issue_session(org, creds.user_id, creds.app.client_id)
    org.clock.advance(org.config.access_token_ttl)
    response = client.get(url, headers={"Authorization": f"Bearer {expired}"})
    assert (response.status_code, response.text) == (403, "Bad_OAuth_Token")


def test_userinfo(org: Org, creds: Credentials, client: TestClient) -> None:
    body = password_grant(client, creds).json()
    response = client.get(
        "/services/oauth2/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert response.status_code == 200, response.text
    info = response.json()
    assert list(info)[:6] == [
        "sub",
        "user_id",
        "organization_id",
        "preferred_username",
        "nickname",
        "name",
    ]
    assert info["sub"] == body["id"]
    assert info["user_id"] == creds.user_id
    assert info["organization_id"] == org.meta("organization_id")
    assert info["preferred_username"] == creds.username
    assert info["name"] == "Admin User"
    assert (info["given_name"], info["family_name"]) == ("Admin", "User")
    assert info["email"] == creds.username
    assert info["zoneinfo"] == "America/Los_Angeles"
    assert info["locale"] == "en_US"
    assert info["active"] is True
    assert info["user_type"] == "STANDARD"
    assert info["urls"]["rest"] == "http://testserver/services/data/v{version}/"
