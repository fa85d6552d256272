"""Fixtures for the CRM mirror's tests: a workspace to mirror into."""

import pytest
from sqlalchemy.orm import Session

from hearth.storage import Plan, Workspace


def add_workspace(session: Session, slug: str) -> int:
    workspace = Workspace(name=slug.title(), slug=slug, plan=Plan.FREE)
    session.add(workspace)
    session.flush()
    return workspace.id


@pytest.fixture
def workspace_id(session: Session) -> int:
    """The Id of a workspace, committed, with an empty mirror."""
    workspace_id = add_workspace(session, "acme")
    session.commit()
    return workspace_id
