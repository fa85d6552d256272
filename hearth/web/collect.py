"""``POST /collect``: where the snippet sends its batches; ``POST /api/v1/identify``: the same
identify from a workspace's servers, with an API key; and the visitor read API.

A batch is accepted (202) only once it is committed to the database. On the way:

- the body is read up to the parser's size limit and no further (413 beyond it);
- the site key must be known and not revoked (403), and the page's origin allowed by the
  workspace (403 with the reason);
- the per-site rate limit answers 429 with Retry-After;
- bots are dropped, and automation unless the workspace counts it; with the workspace's
  privacy setting, so are batches sent under Do Not Track or Global Privacy Control. Dropped
  batches answer 202 (the sender cannot do better by retrying) and are counted per day;
- a malformed batch answers 400 with the reason; a batch with malformed events answers 422,
  naming each in ``rejected`` with its reason, and stores the others.

The body is JSON whatever its Content-Type: `navigator.sendBeacon` sends text/plain, which needs
no CORS preflight.
"""

import hashlib
import json
import time
import uuid
from collections import Counter
from datetime import datetime
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hearth.collect.bots import Traffic, classify
from hearth.collect.ingest import ingest
from hearth.collect.privacy import erase_visitor
from hearth.collect.rate_limit import RateLimiter
from hearth.collect.sites import sync_since
from hearth.collect.tables import collect_counts, visitor_aliases, visitors
from hearth.errors import NotFoundError
from hearth.identity.ip_resolvers import CompanyResolver
from hearth.storage.engine import insert_for
from hearth.tracking.events import DEFAULT_LIMITS, BatchRejected, ParsedBatch, parse_batch
from hearth.web.context import WebContext
from hearth.web.sessions import SignedIn
from hearth.workspaces import authenticate_api_key

__all__ = ["VisitorView", "collect_router"]


class IdentifyRequest(BaseModel):
    """A visitor identified by a workspace's own servers (a form backend, a CRM, chat)."""

    email: str
    anonymous_id: str | None = Field(
        default=None,
        description="The snippet's anonymous id (window.hearth.anonymousId), to join the "
        "visitor's browsing history; without it the person is known by email alone.",
    )
    source: Literal["api", "chat", "orchestration", "enrichment"] = "api"
    name: str | None = None
    title: str | None = None
    linkedin: str | None = None
    event_id: str | None = Field(
        default=None, description="An idempotency key: the same id sent twice counts once."
    )


class Identified(BaseModel):
    visitor_id: int
    stored: bool


class VisitorView(BaseModel):
    """A visitor as the API shows it: who, which company, and the aggregates Hearth writes to
    Salesforce (definitions in docs/tracking.md)."""

    id: int
    email: str | None
    name: str | None
    title: str | None
    linkedin_url: str | None
    identification_source: str | None
    company_domain: str | None
    anonymous_ids: list[str]
    last_seen: datetime | None
    last_session_pages: list[str]
    active_seconds: int
    page_views: int
    sessions: int
    utm_campaigns: list[str]
    utm_contents: list[str]
    utm_mediums: list[str]
    utm_sources: list[str]


def _ordered(first_seen: dict[str, str] | None) -> list[str]:
    return [v for v, _ in sorted((first_seen or {}).items(), key=lambda item: (item[1], item[0]))]


def collect_router(
    ctx: WebContext,
    *,
    resolver: CompanyResolver | None = None,
    limiter: RateLimiter | None = None,
) -> APIRouter:
    router = APIRouter()
    limiter = limiter or RateLimiter()
    sites = ctx.sites

    def count(session: Session, workspace_id: int, kinds: Counter[str]) -> None:
        day = ctx.clock().date()
        rows = [
            {"workspace_id": workspace_id, "day": day, "kind": kind, "count": amount}
            for kind, amount in kinds.items()
            if amount
        ]
        if rows:
            statement = insert_for(session, collect_counts)
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["workspace_id", "day", "kind"],
                    set_={"count": collect_counts.c.count + statement.excluded.count},
                ),
                rows,
            )

    def accept(request: Request, batch: ParsedBatch) -> dict[str, Any]:
        with Session(ctx.engine) as session, session.begin():
            site = sites.get(session, batch.site_key)
            if site is None:
                raise HTTPException(403, "unknown or revoked site key")
            workspace_id, settings = site.workspace_id, site.settings
            origin = request.headers.get("origin")
            if settings.allowed_origins and origin not in settings.allowed_origins:
                raise HTTPException(403, f"pages of {origin or 'no origin'} may not send here")
            traffic = classify(request.headers.get("user-agent"))
            dropped = None
            if traffic is Traffic.BOT or (
                traffic is Traffic.AUTOMATION and not settings.allow_automation
            ):
                dropped = traffic.value
            elif settings.respect_privacy_signals and (
                request.headers.get("dnt") == "1" or request.headers.get("sec-gpc") == "1"
            ):
                dropped = "privacy"
            if dropped is not None:
                count(session, workspace_id, Counter({dropped: 1}))
                return {"accepted": 0, "dropped": dropped}
            result = ingest(
                session,
                workspace_id,
                batch,
                ip=request.client.host if request.client else None,
                resolver=resolver,
                keep_full_ip=settings.keep_full_ips,
                sync_since=site.sync_since,
            )
            count(
                session,
                workspace_id,
                Counter(
                    stored=result.stored,
                    duplicate=result.duplicates,
                    rejected=len(batch.rejected),
                ),
            )
        return {
            "accepted": result.stored,
            "duplicates": result.duplicates,
            "rejected": [
                {"index": r.index, "reason": r.reason.value, "detail": r.detail}
                for r in batch.rejected
            ],
        }

    @router.post("/collect", status_code=202, tags=["collect"])
    async def collect(request: Request) -> JSONResponse:
        """Store a batch of the snippet's events (wire format: docs/tracking.md)."""
        body = bytearray()
        limit = DEFAULT_LIMITS.max_body_bytes
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise HTTPException(413, f"a batch may have at most {limit} bytes")
        try:
            batch = parse_batch(bytes(body), received_at=ctx.clock())
        except BatchRejected as exc:
            raise HTTPException(400, f"{exc.reason.value}: {exc.detail}") from exc
        wait = limiter.wait(batch.site_key, time.monotonic())
        if wait > 0:
            return JSONResponse(
                {"detail": "too many batches from this site; slow down"},
                status_code=429,
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        answer = await anyio.to_thread.run_sync(accept, request, batch)
        # Refused events make the answer a 422 naming each with its reason; the batch's other
        # events are stored all the same, so a sender must not send the batch again.
        status = 422 if answer.get("rejected") else 202
        return JSONResponse(
            answer, status_code=status, headers={"Access-Control-Allow-Origin": "*"}
        )

    @router.post("/api/v1/identify", status_code=202, tags=["visitors"])
    async def identify(
        body: IdentifyRequest,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Identified:
        """Identify a visitor from a server, with an API key (``Authorization: Bearer hk_...``).

        The same rules as the snippet's identify: the email's company, merging with the visitor
        who already has the email, and the visitor's anonymous browsing history when
        `anonymous_id` is given.
        """
        secret = (authorization or "").removeprefix("Bearer ").strip()
        received_at = ctx.clock()
        anonymous_id = (
            body.anonymous_id
            or "api:" + hashlib.sha256(body.email.strip().lower().encode()).hexdigest()[:40]
        )
        wire = {
            "site": "api",
            "anon": anonymous_id,
            "session": "api",
            "sent_at": int(received_at.timestamp() * 1000),
            "events": [
                {
                    "id": body.event_id or uuid.uuid4().hex,
                    "type": "identify",
                    "ts": int(received_at.timestamp() * 1000),
                    "email": body.email,
                    "source": body.source,
                    "traits": {
                        k: v
                        for k, v in (
                            ("name", body.name),
                            ("title", body.title),
                            ("linkedin", body.linkedin),
                        )
                        if v is not None
                    },
                }
            ],
        }
        try:
            batch = parse_batch(json.dumps(wire).encode(), received_at=received_at)
        except BatchRejected as exc:
            raise HTTPException(422, f"{exc.reason.value}: {exc.detail}") from exc
        if batch.rejected:
            (problem,) = batch.rejected
            raise HTTPException(422, f"{problem.reason.value}: {problem.detail}")

        def store() -> Identified:
            with Session(ctx.engine) as session, session.begin():
                workspace_id = authenticate_api_key(session, secret)
                if workspace_id is None:
                    raise HTTPException(
                        401, "a valid API key is required", {"WWW-Authenticate": "Bearer"}
                    )
                result = ingest(
                    session, workspace_id, batch, sync_since=sync_since(session, workspace_id)
                )
            return Identified(visitor_id=result.visitor_id, stored=result.stored == 1)

        return await anyio.to_thread.run_sync(store)

    @router.options("/collect", include_in_schema=False)
    async def preflight() -> Response:
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": "86400",
            },
        )

    @router.get("/api/v1/visitors", tags=["visitors"])
    async def list_visitors(
        user: Annotated[SignedIn, Depends(ctx.current_user)],
        email: Annotated[str | None, Query(max_length=254)] = None,
        company_domain: Annotated[str | None, Query(max_length=253)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[VisitorView]:
        """The workspace's visitors, most recently seen first; filter by email or company."""

        def read() -> list[VisitorView]:
            with Session(ctx.engine) as session:
                query = select(visitors).where(visitors.c.workspace_id == user.workspace_id)
                if email is not None:
                    query = query.where(visitors.c.email == email.strip().lower())
                if company_domain is not None:
                    query = query.where(visitors.c.company_domain == company_domain.lower())
                rows = session.execute(
                    query.order_by(visitors.c.last_seen.desc().nulls_last()).limit(limit)
                ).all()
                aliases: dict[int, list[str]] = {}
                for alias in session.execute(
                    select(visitor_aliases).where(
                        visitor_aliases.c.visitor_id.in_([r.id for r in rows])
                    )
                ):
                    aliases.setdefault(alias.visitor_id, []).append(alias.anonymous_id)
                return [
                    VisitorView(
                        id=r.id,
                        email=r.email,
                        name=r.name,
                        title=r.title,
                        linkedin_url=r.linkedin_url,
                        identification_source=r.identification_source,
                        company_domain=r.company_domain,
                        anonymous_ids=sorted(aliases.get(r.id, [])),
                        last_seen=r.last_seen,
                        last_session_pages=list(r.last_session_pages),
                        active_seconds=r.active_seconds,
                        page_views=r.page_views,
                        sessions=r.sessions,
                        utm_campaigns=_ordered(r.utm_first_seen.get("campaign")),
                        utm_contents=_ordered(r.utm_first_seen.get("content")),
                        utm_mediums=_ordered(r.utm_first_seen.get("medium")),
                        utm_sources=_ordered(r.utm_first_seen.get("source")),
                    )
                    for r in rows
                ]

        return await anyio.to_thread.run_sync(read)

    @router.delete("/api/v1/visitors/{visitor_id}", status_code=204, tags=["visitors"])
    async def erase(
        visitor_id: int,
        user: Annotated[SignedIn, Depends(ctx.api_admin)],
    ) -> None:
        """Erase a visitor (GDPR): their events, visits, aliases and personal data; their
        company's totals are recomputed without them."""

        def forget() -> None:
            try:
                with Session(ctx.engine) as session, session.begin():
                    erase_visitor(session, user.workspace_id, visitor_id, now=ctx.clock())
            except NotFoundError as exc:
                raise HTTPException(404, str(exc)) from exc

        await anyio.to_thread.run_sync(forget)

    return router
