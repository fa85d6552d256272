"""Settings → Salesforce Integration: connect, see the state, disconnect; pages and JSON API.

Pages (`/settings/salesforce...`) post forms carrying the session's CSRF token; the JSON API
(`/api/v1/salesforce/...`, in the OpenAPI document) takes it as `X-CSRF-Token`. Connecting and
disconnecting are for workspace admins; every member may look. The OAuth callback is a GET, as
Salesforce sends it, and is guarded by the single-use `state` bound to the session.
"""

import logging
from datetime import datetime
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, computed_field
from sqlalchemy.orm import Session

from hearth.connections import (
    AuthorizationFailed,
    PlanNotEligible,
    claim_authorization,
    complete_authorization,
    crm_available,
    disconnect,
    get_connection,
    save_connection,
    start_authorization,
)
from hearth.errors import HearthError
from hearth.provisioning.preflight import PreflightReport
from hearth.salesforce.errors import SalesforceError
from hearth.storage.models import User, Workspace
from hearth.sync import Phase, list_mappings, load_states
from hearth.sync.objects import SYNCED_OBJECTS
from hearth.web.context import WebContext
from hearth.web.sessions import CSRF_FIELD, SignedIn, check_csrf, check_origin

__all__ = ["ConnectionState", "salesforce_router"]

_logger = logging.getLogger(__name__)
_PAGE = "/settings/salesforce"


class ObjectSync(BaseModel):
    """One object's read sync: the pass under way or last run, and its progress."""

    sobject: str
    phase: str
    records_done: int
    records_total: int | None
    rate_per_second: float | None
    eta_seconds: float | None
    last_run_at: datetime | None
    last_error: str | None


class ConnectionState(BaseModel):
    """The workspace's Salesforce connection as the Settings page and the API show it."""

    available_on_plan: bool
    plan: str
    configured: bool
    status: Literal["not_connected", "connected", "needs_reconnect", "disconnected"]
    status_detail: str | None = None
    org_id: str | None = None
    instance_url: str | None = None
    salesforce_username: str | None = None
    connected_by: str | None = None
    connected_at: datetime | None = None
    preflight: dict[str, Any] | None = None
    provisioning: dict[str, Any] | None = None
    sync: list[ObjectSync] = []
    mapping_warnings: list[str] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def working(self) -> bool:
        """True while connecting's first steps run: the page refreshes itself meanwhile."""
        if self.status != "connected":
            return False
        if self.preflight is None:
            return True
        blocked = not PreflightReport.from_data(self.preflight).ok
        return not blocked and (not self.sync or any(o.phase != "incremental" for o in self.sync))


class AuthorizationStarted(BaseModel):
    """Where to send the admin's browser to approve access in Salesforce."""

    authorize_url: str


class Disconnected(BaseModel):
    status: Literal["disconnected"] = "disconnected"
    warning: str | None = None


def _state(ctx: WebContext, user: SignedIn) -> ConnectionState:
    with Session(ctx.engine) as session:
        connection = get_connection(session, user.workspace_id)
        base: dict[str, Any] = {
            "available_on_plan": crm_available(user.plan),
            "plan": user.plan.value,
            "configured": ctx.salesforce_app is not None,
        }
        if connection is None:
            return ConnectionState(status="not_connected", **base)
        now = ctx.clock()
        sync = [
            ObjectSync(
                sobject=state.sobject,
                phase=state.phase.value,
                records_done=progress.done,
                records_total=progress.total,
                rate_per_second=progress.rate,
                eta_seconds=progress.eta.total_seconds() if progress.eta is not None else None,
                last_run_at=state.last_run_at,
                last_error=state.last_error,
            )
            for state in sorted(
                load_states(session, user.workspace_id).values(),
                key=lambda state: (
                    SYNCED_OBJECTS.index(state.sobject)
                    if state.sobject in SYNCED_OBJECTS
                    else len(SYNCED_OBJECTS)
                ),
            )
            # A finished pass's rate is over its own run, not up to this page view.
            for progress in (
                state.progress(
                    now if state.phase is not Phase.INCREMENTAL else state.last_run_at or now
                ),
            )
        ]
        warnings = [
            m.warning
            for m in list_mappings(session, user.workspace_id)
            if m.warning and not m.enabled
        ]
        connected_by = (
            session.get(User, connection.connected_by_user_id)
            if connection.connected_by_user_id is not None
            else None
        )
        return ConnectionState(
            status=connection.status.value,
            status_detail=connection.status_detail,
            org_id=connection.org_id,
            instance_url=connection.instance_url,
            salesforce_username=connection.salesforce_username,
            connected_by=connected_by.email if connected_by else None,
            connected_at=connection.connected_at,
            preflight=connection.preflight,
            provisioning=connection.provisioning,
            sync=sync,
            mapping_warnings=warnings,
            **base,
        )


def salesforce_router(ctx: WebContext) -> APIRouter:
    router = APIRouter()
    current_user = Depends(ctx.current_user)
    current_admin = Depends(ctx.current_admin)

    def begin(user: SignedIn) -> str:
        if ctx.salesforce_app is None:
            raise HTTPException(
                409,
                "Salesforce is not configured on this Hearth instance: set "
                "HEARTH_SALESFORCE_LOGIN_URL, HEARTH_SALESFORCE_CLIENT_ID and "
                "HEARTH_SALESFORCE_CLIENT_SECRET",
            )
        app = ctx.salesforce_app
        with Session(ctx.engine) as session, session.begin():
            workspace = session.get(Workspace, user.workspace_id)
            assert workspace is not None  # the session's user belongs to it
            try:
                return start_authorization(
                    session,
                    app=app,
                    workspace=workspace,
                    session_token_hash=user.token_hash,
                    now=ctx.clock(),
                )
            except PlanNotEligible as exc:
                raise HTTPException(
                    403, f"{exc}. Upgrade to Starter or Business to connect Salesforce."
                ) from exc

    async def end(user: SignedIn) -> str | None:
        """Disconnect (revoking the token); a warning when the org did not confirm it."""
        async with ctx.http() as http:
            warning = await disconnect(ctx.engine, user.workspace_id, box=ctx.token_box, http=http)
        ctx.sites.clear()  # activity from now on is not for Salesforce
        return warning

    # -- pages ------------------------------------------------------------------------------

    @router.get(_PAGE, include_in_schema=False)
    async def settings_page(request: Request, user: Annotated[SignedIn, current_user]) -> Response:
        state = await anyio.to_thread.run_sync(_state, ctx, user)
        return ctx.render(
            request,
            "settings_salesforce.html",
            {
                "user": user,
                "state": state,
                "callback_url": ctx.salesforce_app.redirect_uri if ctx.salesforce_app else None,
                "notice": request.query_params.get("notice"),
            },
        )

    @router.post(_PAGE + "/connect", include_in_schema=False)
    async def connect_form(
        request: Request,
        user: Annotated[SignedIn, current_admin],
        csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    ) -> Response:
        check_origin(request, ctx.settings.base_url)
        check_csrf(user.csrf_token, csrf_token)
        url = await anyio.to_thread.run_sync(begin, user)
        return RedirectResponse(url, status_code=303)

    @router.get(_PAGE + "/callback", include_in_schema=False)
    async def callback(
        request: Request,
        user: Annotated[SignedIn, current_admin],
        state: str = "",
        code: str = "",
        error: str = "",
        error_description: str = "",
    ) -> Response:
        def failed(message: str, status_code: int = 400) -> Response:
            return ctx.render(
                request,
                "error.html",
                {"status_code": status_code, "detail": message, "back": _PAGE},
                status_code,
            )

        def claim() -> tuple[int, str]:
            with Session(ctx.engine) as session, session.begin():
                return claim_authorization(
                    session, state=state, session_token_hash=user.token_hash, now=ctx.clock()
                )

        try:
            workspace_id, verifier = await anyio.to_thread.run_sync(claim)
        except AuthorizationFailed as exc:
            return failed(f"Connecting Salesforce failed: {exc}.")
        if workspace_id != user.workspace_id:
            return failed("Connecting Salesforce failed: the sign-in began in another workspace.")
        if error:
            reason = error_description or error
            return failed(f"Salesforce did not grant access: {reason}.", 403)
        app = ctx.salesforce_app
        if app is None or not code:
            return failed("Connecting Salesforce failed: Salesforce sent no authorization code.")
        try:
            async with ctx.http() as http:
                org = await complete_authorization(http, app, code=code, code_verifier=verifier)
        except SalesforceError as exc:
            _logger.warning("completing a Salesforce authorization failed: %s", exc)
            return failed(f"Salesforce refused to complete the connection: {exc}.", 502)

        def save() -> None:
            with Session(ctx.engine) as session, session.begin():
                save_connection(
                    session,
                    workspace_id=user.workspace_id,
                    org=org,
                    app=app,
                    box=ctx.token_box,
                    connected_by=user.user_id,
                    now=ctx.clock(),
                )

        try:
            await anyio.to_thread.run_sync(save)
        except HearthError as exc:
            return failed(f"Connecting Salesforce failed: {exc}.", 409)
        ctx.sites.clear()  # activity from now on is for Salesforce
        ctx.wake_worker(user.workspace_id)
        return RedirectResponse(_PAGE + "?notice=connected", status_code=303)

    @router.post(_PAGE + "/disconnect", include_in_schema=False)
    async def disconnect_form(
        request: Request,
        user: Annotated[SignedIn, current_admin],
        csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    ) -> Response:
        check_origin(request, ctx.settings.base_url)
        check_csrf(user.csrf_token, csrf_token)
        warning = await end(user)
        return RedirectResponse(
            _PAGE + ("?notice=disconnect-unconfirmed" if warning else "?notice=disconnected"),
            status_code=303,
        )

    # -- JSON API ---------------------------------------------------------------------------

    @router.get("/api/v1/salesforce/connection", tags=["salesforce"])
    async def connection_state(user: Annotated[SignedIn, current_user]) -> ConnectionState:
        """The workspace's Salesforce connection: plan eligibility, status, org, reports."""
        return await anyio.to_thread.run_sync(_state, ctx, user)

    @router.post(
        "/api/v1/salesforce/authorizations",
        tags=["salesforce"],
        status_code=201,
        responses={403: {"description": "Free plan, or not an admin"}},
    )
    async def start_connection(
        user: Annotated[SignedIn, Depends(ctx.api_admin)],
    ) -> AuthorizationStarted:
        """Start connecting: the URL to open in the admin's browser (OAuth with PKCE)."""
        return AuthorizationStarted(authorize_url=await anyio.to_thread.run_sync(begin, user))

    @router.delete("/api/v1/salesforce/connection", tags=["salesforce"])
    async def delete_connection(
        user: Annotated[SignedIn, Depends(ctx.api_admin)],
    ) -> Disconnected:
        """Disconnect: revoke the token at Salesforce and stop all work for the org."""
        return Disconnected(warning=await end(user))

    return router
