"""`create_app(org)`: the org as an ASGI application. Wiring only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import admin, automation, bulk, changes, composite, oauth, query, tooling
from .admin_api import AdminRequest, AdminRoute, admin_routes
from .api import OrgApplication, endpoint, error_response, public_json
from .bootstrap import ensure_tables
from .dispatch import ApiRoute, Dispatcher
from .dml import Dml
from .errors import ApiError
from .limits import LongRequests, daily_usage
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

__all__ = ["CORE_ADMIN_ROUTES", "CORE_ROUTES", "create_app"]

_METHODS = ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"]

# Order matters: the first route whose path matches handles the request.
CORE_ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute("", resources_handler, "resources"),
    # Tooling first: its paths must not fall to a more general route below.
    *tooling.ROUTES,
    ApiRoute("/limits", limits_handler, "limits"),
    ApiRoute("/sobjects", describe_global_handler, "describeGlobal"),
    ApiRoute("/sobjects/{sobject}/describe", describe_object_handler, "describe"),
    *changes.ROUTES,
    ApiRoute("/sobjects/{sobject}", sobject_handler, "sobject"),
    ApiRoute("/sobjects/{sobject}/{field}/{value:path}", external_id_handler, "externalId"),
    ApiRoute("/sobjects/{sobject}/{record_id}", record_handler, "record"),
    ApiRoute("/query", query.query_handler, "query"),
    ApiRoute("/query/{locator}", query.query_more_handler, "queryMore"),
    ApiRoute("/queryAll", query.query_all_handler, "queryAll"),
    ApiRoute("/queryAll/{locator}", query.query_more_handler, "queryMore"),
    ApiRoute("/composite/sobjects", collection_handler, "collections"),
    ApiRoute("/composite/sobjects/{sobject}", collection_type_handler, "collections"),
    ApiRoute("/composite/sobjects/{sobject}/{field}", collection_upsert_handler, "collections"),
    *composite.ROUTES,
    *bulk.ROUTES,
)


def _versions(_: Request) -> Response:
    return public_json(versions_list())


def _org_info(req: AdminRequest) -> dict[str, Any]:
    return {
        "organization_id": req.org.meta("organization_id"),
        "api_usage": daily_usage(req.org).used,
        "api_limit": req.org.config.daily_api_limit,
        "now": req.org.now(),
    }


CORE_ADMIN_ROUTES: tuple[AdminRoute, ...] = (
    AdminRoute("/org", ("GET",), _org_info),
    *automation.ADMIN_ROUTES,
    *admin.ADMIN_ROUTES,
)


def create_app(
    org: Org,
    *,
    dml: Dml | None = None,
    extra_routes: Sequence[ApiRoute] = (),
    extra_admin_routes: Sequence[AdminRoute] = (),
) -> Starlette:
    """The org's HTTP API: OAuth, REST, SOQL, sObject Collections, and the admin API."""
    ensure_tables(org)
    writer = dml or Dml(org, before_save=automation.hooks(org))
    table = (*extra_routes, *CORE_ROUTES)
    dispatcher = Dispatcher(table)
    routes: list[BaseRoute] = [
        *oauth.oauth_routes(org),
        Route("/services/data", _versions, methods=["GET", "HEAD"]),
        Route("/services/data/", _versions, methods=["GET", "HEAD"]),
        *admin_routes(org, writer, (*extra_admin_routes, *CORE_ADMIN_ROUTES)),
        *admin.browser_routes(org),
    ]
    long_requests = LongRequests()
    # Bulk uploads stream to disk before the pipeline; the app's Dml writes Bulk records.
    routes += bulk.upload_routes(org, writer, dispatcher, long_requests)
    bulk.start_runner(org, writer)
    for api_route in table:
        run = endpoint(org, writer, api_route.handler, api_route.name, dispatcher, long_requests)
        routes += [Route(path, run, methods=_METHODS) for path in api_route.paths]

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

    return OrgApplication(
        routes=routes,
        exception_handlers={404: not_found, 405: not_found, 500: server_error},
    )
