"""``/api/v1/segments``: the workspace's segments, the fields they may use, and which segments
a visitor or a company is in (with why). Rules are validated with the failing node's path."""

from datetime import datetime
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hearth.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from hearth.segment_store import (
    StoredSegment,
    company_facts_of,
    create_segment,
    delete_segment,
    list_segments,
    segment_catalogue,
    visitor_facts_of,
)
from hearth.segments import explain, to_json
from hearth.segments.evaluation import FactValue
from hearth.web.context import WebContext
from hearth.web.sessions import SignedIn

__all__ = ["segments_router"]


class SegmentIn(BaseModel):
    name: str
    rule: dict[str, Any]


class SegmentOut(BaseModel):
    id: int
    name: str
    rule: dict[str, Any]


class Membership(BaseModel):
    """One segment's verdict for a visitor or company, and the conditions that decided it."""

    id: int
    name: str
    member: bool
    conditions: list[dict[str, Any]]


def _out(segment: StoredSegment) -> SegmentOut:
    return SegmentOut(id=segment.id, name=segment.name, rule=to_json(segment.rule))


def segments_router(ctx: WebContext) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["segments"])
    current_user = Depends(ctx.current_user)

    def memberships(user: SignedIn, facts_of: Any, key: Any) -> list[Membership]:
        with Session(ctx.engine) as session:
            fields = segment_catalogue(session, user.workspace_id)
            try:
                facts: dict[str, FactValue] = facts_of(session, user.workspace_id, key, fields)
            except NotFoundError as exc:
                raise HTTPException(404, str(exc)) from exc
            stored = list_segments(session, user.workspace_id, fields)
        now: datetime = ctx.clock()
        results = []
        for segment in stored:
            verdict = explain(segment.rule, facts, now)
            results.append(
                Membership(
                    id=segment.id,
                    name=segment.name,
                    member=verdict.matched,
                    conditions=[c.to_json() for c in verdict.conditions],
                )
            )
        return results

    @router.get("/segments/fields")
    async def fields(user: Annotated[SignedIn, current_user]) -> list[dict[str, Any]]:
        """The fields segments may use, by group (Visitor, Company, CRM Company, CRM Contact),
        with each field's type and operators; synced custom fields included."""

        def read() -> list[dict[str, Any]]:
            with Session(ctx.engine) as session:
                return segment_catalogue(session, user.workspace_id).to_json()

        return await anyio.to_thread.run_sync(read)

    @router.get("/segments")
    async def list_all(user: Annotated[SignedIn, current_user]) -> list[SegmentOut]:
        """The workspace's segments, by name."""

        def read() -> list[SegmentOut]:
            with Session(ctx.engine) as session:
                fields = segment_catalogue(session, user.workspace_id)
                return [_out(s) for s in list_segments(session, user.workspace_id, fields)]

        return await anyio.to_thread.run_sync(read)

    @router.post("/segments", status_code=201, responses={422: {"description": "Bad rule"}})
    async def create(
        body: SegmentIn,
        user: Annotated[SignedIn, Depends(ctx.api_admin)],
    ) -> SegmentOut:
        """Create a segment; a bad rule is refused with the path of the node at fault."""

        def save() -> SegmentOut:
            try:
                with Session(ctx.engine) as session, session.begin():
                    fields = segment_catalogue(session, user.workspace_id)
                    return _out(
                        create_segment(
                            session,
                            user.workspace_id,
                            body.name,
                            body.rule,
                            fields,
                            now=ctx.clock(),
                        )
                    )
            except AlreadyExistsError as exc:
                raise HTTPException(409, str(exc)) from exc
            except InvalidInputError as exc:
                raise HTTPException(422, str(exc)) from exc

        return await anyio.to_thread.run_sync(save)

    @router.delete("/segments/{segment_id}", status_code=204)
    async def remove(
        segment_id: int,
        user: Annotated[SignedIn, Depends(ctx.api_admin)],
    ) -> None:

        def drop() -> None:
            try:
                with Session(ctx.engine) as session, session.begin():
                    delete_segment(session, user.workspace_id, segment_id)
            except NotFoundError as exc:
                raise HTTPException(404, str(exc)) from exc

        await anyio.to_thread.run_sync(drop)

    @router.get("/visitors/{visitor_id}/segments")
    async def of_visitor(
        visitor_id: int, user: Annotated[SignedIn, current_user]
    ) -> list[Membership]:
        """Every segment's verdict for the visitor, with the conditions that decided it."""
        return await anyio.to_thread.run_sync(memberships, user, visitor_facts_of, visitor_id)

    @router.get("/companies/{domain}/segments")
    async def of_company(domain: str, user: Annotated[SignedIn, current_user]) -> list[Membership]:
        """Every segment's verdict for the company (by its domain)."""
        return await anyio.to_thread.run_sync(
            memberships, user, company_facts_of, domain.strip().lower()
        )

    return router
