"""What every router needs, built once by `create_app`: settings, database, templates, secrets.

Routers take a `WebContext` rather than reaching for globals, so tests build the application
with their own database, clock and Salesforce transport.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import anyio.to_thread
import httpx
from fastapi import Header, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hearth.collect.sites import SiteCache
from hearth.connections import ConnectedApp
from hearth.crypto import SecretBox
from hearth.settings import Settings
from hearth.web.sessions import (
    CSRF_HEADER,
    SESSION_COOKIE,
    SignedIn,
    SignInRequired,
    check_csrf,
    check_origin,
    load_session,
)

__all__ = ["WebContext"]


@dataclass(frozen=True, kw_only=True)
class WebContext:
    settings: Settings
    engine: Engine
    templates: Jinja2Templates
    token_box: SecretBox
    salesforce_app: ConnectedApp | None
    clock: Callable[[], datetime]
    # What site keys stand for, cached for the collect endpoint; cleared by changes made here.
    sites: SiteCache
    # Where Salesforce requests go: None for the network; tests pass localforce's ASGI app.
    salesforce_transport: httpx.AsyncBaseTransport | None = None
    # Starts a round of Salesforce work now (after connecting, or adding a mapped field).
    wake_worker: Callable[[int], None] = lambda _workspace_id: None

    @property
    def secure_cookies(self) -> bool:
        return self.settings.base_url.startswith("https://")

    def http(self) -> httpx.AsyncClient:
        """A client for OAuth calls to the org (token exchange, identity, revoke)."""
        return httpx.AsyncClient(transport=self.salesforce_transport, timeout=30.0)

    def client_options(self) -> dict[str, Any]:
        """Options for `hearth.connections.open_client`."""
        if self.salesforce_transport is None:
            return {}
        return {"transport": self.salesforce_transport}

    def signed_in(self, request: Request) -> SignedIn | None:
        with Session(self.engine) as session:
            return load_session(session, request.cookies.get(SESSION_COOKIE), now=self.clock())

    async def current_user(self, request: Request) -> SignedIn:
        """Dependency: the signed-in user, else `SignInRequired`."""
        user = await anyio.to_thread.run_sync(self.signed_in, request)
        if user is None:
            raise SignInRequired()
        return user

    async def current_admin(self, request: Request) -> SignedIn:
        """Dependency: the signed-in user if a workspace admin, else `SignInRequired`."""
        user = await self.current_user(request)
        if not user.is_admin:
            raise SignInRequired(forbidden=True)
        return user

    async def api_admin(
        self,
        request: Request,
        csrf: Annotated[str | None, Header(alias=CSRF_HEADER)] = None,
    ) -> SignedIn:
        """Dependency of the JSON API's state-changing calls: a workspace admin, from this
        site (Origin), proving it with the session's CSRF token in `X-CSRF-Token`."""
        user = await self.current_admin(request)
        check_origin(request, self.settings.base_url)
        check_csrf(user.csrf_token, csrf)
        return user

    def render(
        self, request: Request, template: str, context: dict[str, Any], status_code: int = 200
    ) -> Response:
        return self.templates.TemplateResponse(request, template, context, status_code)
