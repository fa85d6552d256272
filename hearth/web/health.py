"""``/healthz``: what load balancers and orchestrators poll to decide whether to send traffic."""

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from hearth.storage.engine import database_failure_reason

__all__ = ["health_router"]

_logger = logging.getLogger(__name__)


def health_router(engine: Engine) -> APIRouter:
    """Serves ``/healthz``: 200 ``{"status": "ok"}`` when the database answers, else 503."""
    router = APIRouter()

    @router.get("/healthz")
    def healthz() -> JSONResponse:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            # The reason goes to the log only; probes may be public.
            _logger.warning("health check failed: %s", database_failure_reason(exc))
            return JSONResponse(
                {"status": "unavailable", "detail": "the database does not answer"},
                status_code=503,
            )
        return JSONResponse({"status": "ok"})

    return router
