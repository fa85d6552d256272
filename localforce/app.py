"""`create_app(org)`: the org as an ASGI application. Wiring only."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import oauth, query
from .api import ApiRequest, ApiResponse, endpoint, error_response, public_json
from .bootstrap import ensure_tables
from .dml import Dml
from .errors import ApiError
from .org import Org
from .rest import (
    describe_global_handler,
    describe_object_handler,
    external_id_handler,
    limits_handler,
    record_handler,
    resources_handler,
    sobject_handler,
)
from .sobject_collections import (
    collection_handler,
    collection_type_handler,
    collection_upsert_handler,
)
from .versions import versions_list

__all__ = ["create_app"]

_ALL = ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"]
_DATA = "/services/data/v{version}"


def _versions(_: Request) -> Response:
    return public_json(versions_list())


def create_app(org: Org, *, dml: Dml | None = None) -> Starlette:
    """The org's HTTP API: OAuth, REST, SOQL and sObject Collections."""
    ensure_tables(org)
    writer = dml or Dml(org)

    def api(path: str, handler: Callable[[ApiRequest], ApiResponse], name: str) -> Route:
        return Route(_DATA + path, endpoint(org, writer, handler, name), methods=_ALL)

    routes: list[BaseRoute] = [
        *oauth.oauth_routes(org),
        Route("/services/data", _versions, methods=["GET", "HEAD"]),
        Route("/services/data/", _versions, methods=["GET", "HEAD"]),
        api("", resources_handler, "resources"),
        api("/", resources_handler, "resources"),
        api("/limits", limits_handler, "limits"),
        api("/limits/", limits_handler, "limits"),
        api("/sobjects", describe_global_handler, "describeGlobal"),
        api("/sobjects/", describe_global_handler, "describeGlobal"),
        api("/sobjects/{sobject}/describe", describe_object_handler, "describe"),
        api("/sobjects/{sobject}/describe/", describe_object_handler, "describe"),
        api("/sobjects/{sobject}", sobject_handler, "sobject"),
        api("/sobjects/{sobject}/", sobject_handler, "sobject"),
        api("/sobjects/{sobject}/{field}/{value:path}", external_id_handler, "externalId"),
        api("/sobjects/{sobject}/{record_id}", record_handler, "record"),
        api("/query", query.query_handler, "query"),
        api("/query/", query.query_handler, "query"),
        api("/query/{locator}", query.query_more_handler, "queryMore"),
        api("/queryAll", query.query_all_handler, "queryAll"),
        api("/queryAll/", query.query_all_handler, "queryAll"),
        api("/queryAll/{locator}", query.query_more_handler, "queryMore"),
        api("/composite/sobjects", collection_handler, "collections"),
        api("/composite/sobjects/", collection_handler, "collections"),
        api("/composite/sobjects/{sobject}", collection_type_handler, "collections"),
        api("/composite/sobjects/{sobject}/{field}", collection_upsert_handler, "collections"),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(
            ApiError(
                status=404, error_code="NOT_FOUND", message="The requested resource does not exist"
            )
        )

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(
            ApiError(
                status=500,
                error_code="UNKNOWN_EXCEPTION",
                message="An unexpected error occurred. Please include this ErrorId if you "
                "contact support: localforce",
            )
        )

    return Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: not_found, 500: server_error},
    )
