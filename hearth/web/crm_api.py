"""``/api/v1/crm/...``: what the CRM mirror knows about a visitor or a company, and which
synced custom fields segments can use.

Answered from the mirror alone, with zero Salesforce API calls: the Accounts whose Website has
the domain (and which one Hearth picks, by which rule), the Contacts and Leads with the email,
and the roll-ups the dashboards show. The rules are in docs/matching.md.
"""

from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hearth.matching.domains import normalize_domain, normalize_email
from hearth.matching.match import AccountChoice, Rollups, match_visitor
from hearth.mirror.records import CrmAccount, CrmContact, CrmLead
from hearth.mirror.repository import SqlMirrorView
from hearth.sync import FieldMapping, segment_fields
from hearth.web.context import WebContext
from hearth.web.sessions import SignedIn

__all__ = ["MatchResponse", "crm_router"]


class MatchResponse(BaseModel):
    """A match. `domain` and `email` are the normalised keys looked up (None when unusable);
    `account` is the chosen Account with the deciding rule and the full tie-break trace;
    `person` is the Contact (preferred) or Lead the visitor is, `person_type` says which."""

    domain: str | None
    email: str | None
    accounts: list[CrmAccount]
    account: AccountChoice | None
    contacts: list[CrmContact]
    leads: list[CrmLead]
    person_type: Literal["contact", "lead"] | None
    person: CrmContact | CrmLead | None
    rollups: Rollups


def crm_router(ctx: WebContext) -> APIRouter:
    router = APIRouter(prefix="/api/v1/crm", tags=["crm"])

    def lookup(workspace_id: int, domain: str | None, email: str | None) -> MatchResponse:
        with Session(ctx.engine) as session:
            result = match_visitor(domain, email, SqlMirrorView(session, workspace_id))
        return MatchResponse(
            domain=result.domain,
            email=result.email,
            accounts=list(result.accounts),
            account=result.account,
            contacts=list(result.contacts),
            leads=list(result.leads),
            person_type=(
                None
                if result.person is None
                else "contact"
                if isinstance(result.person, CrmContact)
                else "lead"
            ),
            person=result.person,
            rollups=result.rollups,
        )

    @router.get("/matches", responses={422: {"description": "No usable domain or email"}})
    async def matches(
        user: Annotated[SignedIn, Depends(ctx.current_user)],
        domain: Annotated[
            str | None,
            Query(
                max_length=2048,
                description="A domain, host or URL: acme.com, https://www.acme.co.uk/x",
            ),
        ] = None,
        email: Annotated[str | None, Query(max_length=320)] = None,
    ) -> MatchResponse:
        """Match a visitor (domain and/or email) or a company (domain) against the CRM mirror."""
        if normalize_domain(domain) is None and normalize_email(email) is None:
            raise HTTPException(
                422,
                "give a usable domain (not an IP address or a single label) or an email address",
            )
        return await anyio.to_thread.run_sync(lookup, user.workspace_id, domain, email)

    @router.get("/segment-fields")
    async def custom_segment_fields(
        user: Annotated[SignedIn, Depends(ctx.current_user)],
    ) -> dict[str, list[FieldMapping]]:
        """The synced custom fields segments can filter on, under "CRM Company" (Account) and
        "CRM Contact" (Contact and Lead)."""

        def grouped() -> dict[str, list[FieldMapping]]:
            with Session(ctx.engine) as session:
                return segment_fields(session, user.workspace_id)

        return await anyio.to_thread.run_sync(grouped)

    return router
