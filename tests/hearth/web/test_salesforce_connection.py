import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hearth.connections import ConnectedApp, NeedsReconnect, get_connection, open_client, token_box
from hearth.salesforce.auth import refresh_tokens
from hearth.salesforce.errors import ReauthorizationRequired
from hearth.storage.models import (
    ConnectionStatus,
    Plan,
    Role,
    SalesforceAuthorization,
    SalesforceConnection,
    utc_now,
)

from .conftest import HEARTH_URL, ORG_URL, SECRET_KEY, Site, add_user


def _app(site: Site) -> ConnectedApp:
    return ConnectedApp(
        login_url=ORG_URL,
        client_id=site.creds.app.client_id,
        client_secret=site.creds.app.client_secret,
        redirect_uri=HEARTH_URL + "/settings/salesforce/callback",
    )


def _connection(site: Site) -> SalesforceConnection:
    with Session(site.engine) as session:
        connection = get_connection(session, 1)
        assert connection is not None
        session.expunge(connection)
        return connection


@pytest.fixture
def admin(site: Site) -> Site:
    add_user(site.engine, "ada@example.com")
    site.sign_in("ada@example.com")
    return site


def test_get_started_connects_through_the_consent_page(admin: Site) -> None:
    page = admin.hearth.get("/settings/salesforce")
    assert 'id="get-started"' in page.text
    assert "/settings/salesforce/callback" in page.text

    done = admin.connect()

    assert done.status_code == 200
    assert done.url.path == "/settings/salesforce"
    assert "Salesforce is connected" in done.text
    assert admin.creds.username in done.text
    state = admin.hearth.get("/api/v1/salesforce/connection").json()
    assert state["status"] == "connected"
    assert state["org_id"].startswith("00D")
    assert state["salesforce_username"] == admin.creds.username
    assert state["connected_by"] == "ada@example.com"
    connection = _connection(admin)
    assert connection.salesforce_user_id.startswith("005")
    # Tokens are stored encrypted, and decrypt to a working client.
    assert connection.tokens is not None and "access_token" not in connection.tokens


@pytest.mark.anyio
async def test_the_stored_tokens_open_a_working_client(admin: Site) -> None:
    admin.connect()

    client = open_client(
        admin.engine,
        1,
        app=_app(admin),
        box=token_box(SECRET_KEY),
        transport=httpx.ASGITransport(app=admin.org_browser.app),
    )
    async with client:
        rows = [row async for row in client.query("SELECT Id FROM Organization")]

    assert len(rows) == 1


def test_a_state_is_single_use(admin: Site) -> None:
    authorize = admin.get_started()
    callback = admin.approve_in_salesforce(authorize)
    assert admin.hearth.get(callback).status_code == 200

    replay = admin.hearth.get(callback)

    assert replay.status_code == 400
    assert "already used" in replay.text


def test_a_callback_in_another_browser_session_is_refused(admin: Site) -> None:
    authorize = admin.get_started()
    callback = admin.approve_in_salesforce(authorize)
    # The same admin, signed in again in another browser, receives the callback there.
    admin.hearth.cookies.clear()
    admin.sign_in("ada@example.com")

    response = admin.hearth.get(callback)

    assert response.status_code == 400
    assert "another browser session" in response.text
    assert admin.hearth.get("/api/v1/salesforce/connection").json()["status"] == "not_connected"


def test_a_stale_state_is_refused(admin: Site) -> None:
    authorize = admin.get_started()
    with Session(admin.engine) as session, session.begin():
        attempt = session.scalars(select(SalesforceAuthorization)).one()
        attempt.created_at = utc_now() - timedelta(minutes=11)

    response = admin.hearth.get(admin.approve_in_salesforce(authorize))

    assert response.status_code == 400
    assert "took too long" in response.text


def test_denying_access_in_salesforce_is_reported(admin: Site) -> None:
    authorize = admin.get_started()

    response = admin.hearth.get(admin.approve_in_salesforce(authorize, decision="deny"))

    assert response.status_code == 403
    assert "did not grant access" in response.text


def test_the_free_plan_cannot_connect(site: Site) -> None:
    add_user(site.engine, "free@example.com", plan=Plan.FREE)
    site.sign_in("free@example.com")

    page = site.hearth.get("/settings/salesforce")
    assert "not available on the Free plan" in page.text
    assert 'id="get-started"' not in page.text
    form = site.hearth.post("/settings/salesforce/connect", data={"csrf_token": site.csrf()})
    api = site.hearth.post(
        "/api/v1/salesforce/authorizations", headers={"X-CSRF-Token": site.csrf()}
    )

    assert form.status_code == 403
    assert api.status_code == 403
    assert "Free plan" in api.json()["detail"]
    state = site.hearth.get("/api/v1/salesforce/connection").json()
    assert state["available_on_plan"] is False


def test_members_see_the_state_but_cannot_connect(site: Site) -> None:
    add_user(site.engine, "member@example.com", role=Role.MEMBER)
    site.sign_in("member@example.com")

    page = site.hearth.get("/settings/salesforce")
    response = site.hearth.post("/settings/salesforce/connect", data={"csrf_token": site.csrf()})

    assert "Ask a workspace admin" in page.text
    assert response.status_code == 403


def test_the_api_starts_a_connection_with_pkce(admin: Site) -> None:
    without_token = admin.hearth.post("/api/v1/salesforce/authorizations")
    response = admin.hearth.post(
        "/api/v1/salesforce/authorizations", headers={"X-CSRF-Token": admin.csrf()}
    )

    assert without_token.status_code == 403
    assert response.status_code == 201
    url = httpx.URL(response.json()["authorize_url"])
    assert url.params["code_challenge"] and url.params["state"]
    assert url.params["redirect_uri"] == HEARTH_URL + "/settings/salesforce/callback"


@pytest.mark.anyio
async def test_disconnect_revokes_the_token(admin: Site) -> None:
    admin.connect()
    refresh_token = _stored_refresh_token(admin)

    response = admin.hearth.delete(
        "/api/v1/salesforce/connection", headers={"X-CSRF-Token": admin.csrf()}
    )

    assert response.json() == {"status": "disconnected", "warning": None}
    connection = _connection(admin)
    assert connection.status is ConnectionStatus.DISCONNECTED
    assert connection.tokens is None
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=admin.org_browser.app)) as http:
        with pytest.raises(ReauthorizationRequired):
            await refresh_tokens(
                http,
                ORG_URL,
                client_id=admin.creds.app.client_id,
                client_secret=admin.creds.app.client_secret,
                refresh_token=refresh_token,
            )
    assert 'id="get-started"' in admin.hearth.get("/settings/salesforce").text


def test_disconnect_form_needs_the_csrf_token(admin: Site) -> None:
    admin.connect()

    response = admin.hearth.post("/settings/salesforce/disconnect", data={"csrf_token": "x"})

    assert response.status_code == 403
    assert _connection(admin).status is ConnectionStatus.CONNECTED


def test_unreadable_tokens_mean_needs_reconnect_in_the_ui_and_the_api(admin: Site) -> None:
    admin.connect()

    with pytest.raises(NeedsReconnect, match="HEARTH_SECRET_KEY"):
        open_client(admin.engine, 1, app=_app(admin), box=token_box("another-secret-key-42"))

    state = admin.hearth.get("/api/v1/salesforce/connection").json()
    assert state["status"] == "needs_reconnect"
    assert "cannot be read" in state["status_detail"]
    page = admin.hearth.get("/settings/salesforce")
    assert 'id="needs-reconnect"' in page.text
    assert ">Reconnect<" in page.text
    # Reconnecting puts it right.
    admin.connect()
    assert _connection(admin).status is ConnectionStatus.CONNECTED


def _stored_refresh_token(site: Site) -> str:
    connection = _connection(site)
    assert connection.tokens is not None
    return str(json.loads(token_box(SECRET_KEY).decrypt(connection.tokens))["refresh_token"])
