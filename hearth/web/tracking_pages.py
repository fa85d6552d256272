"""The pages around tracking: the live visitor list, and Settings → Tracking (the snippet to
install, what the collect endpoint accepts, API keys).

Visitors refresh themselves every few seconds, so a person browsing the demo site sees
themselves appear. Settings are for workspace admins; forms carry the session's CSRF token.
"""

from datetime import timedelta
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hearth.collect.settings import (
    TrackingSettings,
    load_tracking_settings,
    save_tracking_settings,
)
from hearth.collect.tables import collect_counts, visitors
from hearth.errors import InvalidInputError
from hearth.storage.models import ApiKey, SiteKey, Workspace
from hearth.web.context import WebContext
from hearth.web.sessions import CSRF_FIELD, SignedIn, check_csrf, check_origin
from hearth.workspaces import create_api_key, create_site_key

__all__ = ["tracking_pages_router"]

_SETTINGS = "/settings/tracking"


def tracking_pages_router(ctx: WebContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    current_user = Depends(ctx.current_user)
    current_admin = Depends(ctx.current_admin)

    @router.get("/visitors")
    async def visitors_page(request: Request, user: Annotated[SignedIn, current_user]) -> Response:
        def read() -> list[dict[str, object]]:
            with Session(ctx.engine) as session:
                rows = session.execute(
                    select(visitors)
                    .where(visitors.c.workspace_id == user.workspace_id)
                    .order_by(visitors.c.last_seen.desc().nulls_last())
                    .limit(100)
                ).all()
            return [dict(row._mapping) for row in rows]

        return ctx.render(
            request,
            "visitors.html",
            {"user": user, "visitors": await anyio.to_thread.run_sync(read)},
        )

    async def render_settings(
        request: Request, user: SignedIn, *, new_secret: str | None = None
    ) -> Response:
        def read() -> tuple[str, TrackingSettings, list[ApiKey], dict[str, int]]:
            with Session(ctx.engine) as session, session.begin():
                key = session.scalars(
                    select(SiteKey.public_key)
                    .where(SiteKey.workspace_id == user.workspace_id, SiteKey.revoked_at.is_(None))
                    .order_by(SiteKey.id)
                ).first()
                if key is None:
                    workspace = session.get(Workspace, user.workspace_id)
                    assert workspace is not None
                    key = create_site_key(session, workspace).public_key
                    ctx.sites.clear()  # a miss for the new key may be cached
                keys = list(
                    session.scalars(
                        select(ApiKey)
                        .where(ApiKey.workspace_id == user.workspace_id)
                        .order_by(ApiKey.id)
                    )
                )
                for api_key in keys:
                    session.expunge(api_key)
                since = ctx.clock().date() - timedelta(days=6)
                counts = {
                    kind: int(total)
                    for kind, total in session.execute(
                        select(collect_counts.c.kind, func.sum(collect_counts.c.count))
                        .where(
                            collect_counts.c.workspace_id == user.workspace_id,
                            collect_counts.c.day >= since,
                        )
                        .group_by(collect_counts.c.kind)
                    )
                }
                return key, load_tracking_settings(session, user.workspace_id), keys, counts

        site_key, settings, api_keys, counts = await anyio.to_thread.run_sync(read)
        return ctx.render(
            request,
            "settings_tracking.html",
            {
                "user": user,
                "site_key": site_key,
                "base_url": ctx.settings.base_url,
                "settings": settings,
                "api_keys": api_keys,
                "counts": counts,
                "new_secret": new_secret,
                "saved": request.query_params.get("saved") == "1",
            },
        )

    @router.get(_SETTINGS)
    async def settings_page(request: Request, user: Annotated[SignedIn, current_user]) -> Response:
        return await render_settings(request, user)

    @router.post(_SETTINGS)
    async def save_settings(
        request: Request,
        user: Annotated[SignedIn, current_admin],
        allowed_origins: Annotated[str, Form(max_length=10_000)] = "",
        respect_privacy_signals: Annotated[bool, Form()] = False,
        allow_automation: Annotated[bool, Form()] = False,
        keep_full_ips: Annotated[bool, Form()] = False,
        retention_days: Annotated[int, Form()] = 395,
        csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    ) -> Response:
        check_origin(request, ctx.settings.base_url)
        check_csrf(user.csrf_token, csrf_token)
        try:
            settings = TrackingSettings(
                allowed_origins=tuple(o.rstrip("/") for o in allowed_origins.split()),
                respect_privacy_signals=respect_privacy_signals,
                allow_automation=allow_automation,
                keep_full_ips=keep_full_ips,
                retention_days=retention_days,
            )
        except InvalidInputError as exc:
            return _error(request, user, str(exc))

        def save() -> None:
            with Session(ctx.engine) as session, session.begin():
                save_tracking_settings(session, user.workspace_id, settings)

        await anyio.to_thread.run_sync(save)
        ctx.sites.clear()
        return RedirectResponse(_SETTINGS + "?saved=1", status_code=303)

    @router.post(_SETTINGS + "/api-keys")
    async def new_api_key(
        request: Request,
        user: Annotated[SignedIn, current_admin],
        name: Annotated[str, Form(max_length=100)] = "",
        csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    ) -> Response:
        check_origin(request, ctx.settings.base_url)
        check_csrf(user.csrf_token, csrf_token)

        def make() -> str:
            with Session(ctx.engine) as session, session.begin():
                workspace = session.get(Workspace, user.workspace_id)
                assert workspace is not None
                return create_api_key(session, workspace, name)[1]

        try:
            secret = await anyio.to_thread.run_sync(make)
        except InvalidInputError as exc:
            return _error(request, user, str(exc))
        # The secret is shown on this answer only: it is never stored, so never shown again.
        return await render_settings(request, user, new_secret=secret)

    def _error(request: Request, user: SignedIn, message: str) -> Response:
        return ctx.render(
            request,
            "error.html",
            {"status_code": 400, "detail": message, "back": _SETTINGS, "user": user},
            400,
        )

    return router
