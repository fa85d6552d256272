"""Settings → Salesforce → custom fields: which of an object's custom fields Hearth reads.

An admin searches the object's fields (from describe, as Hearth's Salesforce user sees them),
adds them one by one with an optional "value if Hearth creates record", or removes them.
Adding a field asks for a re-sync of that object, which the worker starts at once; the page
and `GET /api/v1/salesforce/fields/{object}` show the mappings, with the warning of any that
drift disabled.
"""

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hearth.connections import NotConnected, open_client
from hearth.errors import InvalidInputError, NotFoundError
from hearth.salesforce.errors import SalesforceError
from hearth.sync import (
    FieldMapping,
    SearchableField,
    add_mapping,
    list_mappings,
    remove_mapping,
    searchable_fields,
)
from hearth.sync.fields import CREATABLE_OBJECTS, MAPPABLE_OBJECTS
from hearth.web.context import WebContext
from hearth.web.sessions import CSRF_FIELD, SignedIn, check_csrf, check_origin

__all__ = ["FieldChoices", "field_mappings_router"]

_PAGE = "/settings/salesforce/fields"


class FieldChoices(BaseModel):
    """An object's mapped custom fields, and the ones still available (filtered by `q`)."""

    sobject: str
    mapped: list[FieldMapping]
    available: list[SearchableField]


class NewMapping(BaseModel):
    field: str
    default: str | None = None


def field_mappings_router(ctx: WebContext) -> APIRouter:
    router = APIRouter()
    current_user = Depends(ctx.current_user)
    current_admin = Depends(ctx.current_admin)

    def checked(sobject: str) -> str:
        if sobject not in MAPPABLE_OBJECTS:
            raise HTTPException(
                404, f"custom fields are read for {', '.join(MAPPABLE_OBJECTS)}, not {sobject}"
            )
        return sobject

    async def describe(user: SignedIn, sobject: str) -> dict[str, Any]:
        app = ctx.salesforce_app
        if app is None:
            raise HTTPException(409, "Salesforce is not configured on this Hearth instance")
        try:
            client = await anyio.to_thread.run_sync(
                lambda: open_client(
                    ctx.engine,
                    user.workspace_id,
                    app=app,
                    box=ctx.token_box,
                    **ctx.client_options(),
                )
            )
        except NotConnected as exc:
            raise HTTPException(409, f"Connect Salesforce first: {exc}") from exc
        try:
            async with client:
                described: dict[str, Any] = await client.describe(sobject)
                return described
        except SalesforceError as exc:
            raise HTTPException(502, f"Salesforce did not describe {sobject}: {exc}") from exc

    async def choices(user: SignedIn, sobject: str, query: str) -> FieldChoices:
        described = await describe(user, sobject)

        def mapped() -> list[FieldMapping]:
            with Session(ctx.engine) as session:
                return list_mappings(session, user.workspace_id, sobject)

        current = await anyio.to_thread.run_sync(mapped)
        needle = query.strip().lower()
        available = [
            f
            for f in searchable_fields(described, mapped=[m.field for m in current])
            if needle in f.label.lower() or needle in f.name.lower()
        ]
        return FieldChoices(sobject=sobject, mapped=current, available=available)

    async def add(user: SignedIn, sobject: str, field: str, default: str | None) -> FieldMapping:
        described = await describe(user, sobject)

        def save() -> FieldMapping:
            with Session(ctx.engine) as session, session.begin():
                return add_mapping(
                    session, user.workspace_id, described, field, default=default, now=ctx.clock()
                )

        try:
            mapping = await anyio.to_thread.run_sync(save)
        except InvalidInputError as exc:
            raise HTTPException(400, str(exc)) from exc
        ctx.wake_worker(user.workspace_id)
        return mapping

    def remove(user: SignedIn, sobject: str, field: str) -> None:
        try:
            with Session(ctx.engine) as session, session.begin():
                remove_mapping(session, user.workspace_id, sobject, field)
        except NotFoundError as exc:
            raise HTTPException(404, str(exc)) from exc

    # -- pages ------------------------------------------------------------------------------

    @router.get(_PAGE + "/{sobject}", include_in_schema=False)
    async def page(
        request: Request, sobject: str, user: Annotated[SignedIn, current_user], q: str = ""
    ) -> Response:
        found = await choices(user, checked(sobject), q)
        return ctx.render(
            request,
            "settings_fields.html",
            {
                "user": user,
                "choices": found,
                "query": q,
                "creatable": sobject in CREATABLE_OBJECTS,
                "notice": request.query_params.get("notice"),
            },
        )

    @router.post(_PAGE + "/{sobject}", include_in_schema=False)
    async def add_form(
        request: Request,
        sobject: str,
        user: Annotated[SignedIn, current_admin],
        field: Annotated[str, Form(max_length=80)],
        default: Annotated[str, Form(max_length=1000)] = "",
        csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    ) -> Response:
        check_origin(request, ctx.settings.base_url)
        check_csrf(user.csrf_token, csrf_token)
        await add(user, checked(sobject), field, default or None)
        return RedirectResponse(f"{_PAGE}/{sobject}?notice=added", status_code=303)

    @router.post(_PAGE + "/{sobject}/remove", include_in_schema=False)
    async def remove_form(
        request: Request,
        sobject: str,
        user: Annotated[SignedIn, current_admin],
        field: Annotated[str, Form(max_length=80)],
        csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    ) -> Response:
        check_origin(request, ctx.settings.base_url)
        check_csrf(user.csrf_token, csrf_token)
        await anyio.to_thread.run_sync(remove, user, checked(sobject), field)
        return RedirectResponse(f"{_PAGE}/{sobject}?notice=removed", status_code=303)

    # -- JSON API ---------------------------------------------------------------------------

    @router.get("/api/v1/salesforce/fields/{sobject}", tags=["salesforce"])
    async def list_fields(
        sobject: str, user: Annotated[SignedIn, current_user], q: str = ""
    ) -> FieldChoices:
        """The object's mapped custom fields and the ones an admin may add (matching `q`)."""
        return await choices(user, checked(sobject), q)

    @router.post("/api/v1/salesforce/fields/{sobject}", tags=["salesforce"], status_code=201)
    async def add_field(
        sobject: str,
        body: NewMapping,
        user: Annotated[SignedIn, Depends(ctx.api_admin)],
    ) -> FieldMapping:
        """Read a custom field into Hearth; re-syncs the object so every record has it."""
        return await add(user, checked(sobject), body.field, body.default)

    @router.delete(
        "/api/v1/salesforce/fields/{sobject}/{field}", tags=["salesforce"], status_code=204
    )
    async def delete_field(
        sobject: str,
        field: str,
        user: Annotated[SignedIn, Depends(ctx.api_admin)],
    ) -> None:
        """Stop reading a custom field."""
        await anyio.to_thread.run_sync(remove, user, checked(sobject), field)

    return router
