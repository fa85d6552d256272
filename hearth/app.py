"""create_app(settings): Hearth's web application, wired. Wiring only: behaviour lives elsewhere."""

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.templating import Jinja2Templates

from hearth._version import __version__
from hearth.collect.privacy import prune_daily
from hearth.collect.sites import SiteCache
from hearth.connections import ConnectedApp, token_box
from hearth.errors import ConfigError
from hearth.identity.ip_resolvers import resolvers_from_config
from hearth.settings import Settings
from hearth.storage.engine import create_engine_for
from hearth.storage.models import utc_now
from hearth.web.collect import collect_router
from hearth.web.context import WebContext
from hearth.web.crm_api import crm_router
from hearth.web.demo_site import demo_site_router
from hearth.web.errors import install_error_handlers
from hearth.web.field_mappings import field_mappings_router
from hearth.web.health import health_router
from hearth.web.home import home_router
from hearth.web.salesforce import salesforce_router
from hearth.web.segments_api import segments_router
from hearth.web.signin import signin_router
from hearth.web.snippet import snippet_router
from hearth.web.tracking_pages import tracking_pages_router
from hearth.worker import Worker, sync_options

__all__ = ["create_app", "secret_key_of"]

TEMPLATES_DIRECTORY = Path(__file__).resolve().parent / "templates"
MIN_SECRET_KEY_LENGTH = 16

_logger = logging.getLogger(__name__)


def secret_key_of(settings: Settings) -> str:
    """The instance's secret key; outside demo mode, refuse to run without a real one."""
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value()
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                f"HEARTH_SECRET_KEY must have at least {MIN_SECRET_KEY_LENGTH} characters"
            )
        return key
    if not settings.demo_mode:
        raise ConfigError(
            "HEARTH_SECRET_KEY is not set: Hearth needs it to encrypt Salesforce tokens and "
            "protect sessions. Generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    _logger.warning("demo mode without HEARTH_SECRET_KEY: a key for this process only")
    return secrets.token_urlsafe(32)


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    salesforce_transport: httpx.AsyncBaseTransport | None = None,
    demo_site_key: Callable[[], str | None] | None = None,
) -> FastAPI:
    """Hearth's web application for `settings`.

    Expects a migrated database (`hearth serve` migrates before calling this). The engine is
    disposed when the application shuts down. Raises `ConfigError` without a secret key
    outside demo mode. `clock` and `salesforce_transport` are for tests; `demo_site_key` serves the
    demo website under /demo/ with the snippet for that site key (`make run`).
    """
    secret_key = secret_key_of(settings)
    engine = create_engine_for(settings.database_url)
    box = token_box(secret_key)
    salesforce_app = ConnectedApp.from_settings(settings)
    worker = (
        Worker(
            engine,
            app=salesforce_app,
            box=box,
            interval=timedelta(seconds=settings.sync_interval_seconds),
            options=sync_options(settings),
            client_options={"transport": salesforce_transport} if salesforce_transport else None,
        )
        if settings.sync_worker and salesforce_app is not None
        else None
    )

    resolver = (
        resolvers_from_config(settings.ip_resolvers, cache_size=settings.ip_resolver_cache_size)
        if settings.ip_resolvers
        else None
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = []
        if worker is not None:
            tasks.append(asyncio.create_task(worker.run()))
        if settings.sync_worker:
            tasks.append(asyncio.create_task(prune_daily(engine, clock=clock)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if resolver is not None:
                resolver.close()
            engine.dispose()

    app = FastAPI(title="Hearth", version=__version__, lifespan=lifespan)
    templates = Jinja2Templates(directory=TEMPLATES_DIRECTORY)
    ctx = WebContext(
        settings=settings,
        engine=engine,
        templates=templates,
        token_box=box,
        salesforce_app=salesforce_app,
        clock=clock,
        sites=SiteCache(ttl=settings.collect_cache_seconds, clock=time.monotonic),
        salesforce_transport=salesforce_transport,
        wake_worker=worker.wake if worker is not None else lambda _workspace_id: None,
    )
    app.include_router(home_router(settings, engine, templates))
    app.include_router(health_router(engine))
    app.include_router(signin_router(ctx))
    app.include_router(salesforce_router(ctx))
    app.include_router(crm_router(ctx))
    app.include_router(field_mappings_router(ctx))
    app.include_router(collect_router(ctx, resolver=resolver))
    app.include_router(tracking_pages_router(ctx))
    app.include_router(segments_router(ctx))
    app.include_router(snippet_router())
    if demo_site_key is not None:
        app.include_router(demo_site_router(demo_site_key))
    install_error_handlers(app, templates)
    return app
