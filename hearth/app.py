"""create_app(settings): Hearth's web application, wired. Wiring only: behaviour lives elsewhere."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.templating import Jinja2Templates

from hearth._version import __version__
from hearth.settings import Settings
from hearth.storage.engine import create_engine_for
from hearth.web.errors import install_error_handlers
from hearth.web.health import health_router
from hearth.web.home import home_router

__all__ = ["create_app"]

TEMPLATES_DIRECTORY = Path(__file__).resolve().parent / "templates"


def create_app(settings: Settings) -> FastAPI:
    """Hearth's web application for `settings`.

    Expects a migrated database (`hearth serve` migrates before calling this). The engine is
    disposed when the application shuts down.
    """
    engine = create_engine_for(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(title="Hearth", version=__version__, lifespan=lifespan)
    templates = Jinja2Templates(directory=TEMPLATES_DIRECTORY)
    app.include_router(home_router(settings, engine, templates))
    app.include_router(health_router(engine))
    install_error_handlers(app, templates)
    return app
