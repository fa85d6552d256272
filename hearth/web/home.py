"""The home page: proof that Hearth is up, and what it is connected to."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from hearth._version import __version__
from hearth.settings import Settings

__all__ = ["home_router"]


def home_router(settings: Settings, engine: Engine, templates: Jinja2Templates) -> APIRouter:
    """Serves ``/``: the version, the database backend and the paired Salesforce org."""
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            "home.html",
            {
                "version": __version__,
                # The dialect name only: the URL may carry a password.
                "database_backend": engine.dialect.name,
                "salesforce_login_url": settings.salesforce_login_url,
                "demo_mode": settings.demo_mode,
            },
        )

    return router
