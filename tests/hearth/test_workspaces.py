from datetime import UTC

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hearth.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from hearth.passwords import verify_password
from hearth.storage import Plan, Role, SiteKey, User, Workspace
from hearth.workspaces import (
    create_site_key,
    create_user,
    create_workspace,
    get_workspace,
    normalize_email,
    slug_for,
)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Acme", "acme"),
        ("Café Acme, Inc.", "cafe-acme-inc"),
        ("  --Hello   World--  ", "hello-world"),
        ("東京", ""),
        ("a" * 70, "a" * 63),
    ],
)
def test_slug_for(name: str, slug: str) -> None:
    assert slug_for(name) == slug


def test_normalize_email() -> None:
    assert normalize_email("  Ada@Example.COM ") == "ada@example.com"


@pytest.mark.parametrize("email", ["", "ada", "ada@", "@example.com", "a b@example.com"])
def test_normalize_email_rejects_what_is_not_an_address(email: str) -> None:
    with pytest.raises(InvalidInputError, match="not an email address"):
        normalize_email(email)


def test_create_workspace(session: Session) -> None:
    workspace = create_workspace(session, "  Acme Inc ", Plan.STARTER)
    session.commit()
    session.expire_all()

    stored = get_workspace(session, "acme-inc")
    assert stored.id == workspace.id
    assert (stored.name, stored.slug, stored.plan) == ("Acme Inc", "acme-inc", Plan.STARTER)
    assert stored.created_at.tzinfo == UTC


def test_create_workspace_with_its_own_slug(session: Session) -> None:
    assert create_workspace(session, "東京", slug="tokyo").slug == "tokyo"


@pytest.mark.parametrize(
    ("name", "slug", "message"),
    [
        ("   ", None, "name must have 1 to 200"),
        ("x" * 201, None, "name must have 1 to 200"),
        ("東京", None, "not a usable slug"),
        ("Acme", "Acme", "not a usable slug"),
        ("Acme", "acme--inc", "not a usable slug"),
    ],
)
def test_create_workspace_rejects_bad_names(
    session: Session, name: str, slug: str | None, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        create_workspace(session, name, slug=slug)


def test_workspace_slug_is_unique(session: Session) -> None:
    create_workspace(session, "Acme")

    with pytest.raises(AlreadyExistsError, match="workspace 'acme' already exists") as raised:
        create_workspace(session, "ACME")
    assert (raised.value.kind, raised.value.key) == ("workspace", "acme")


def test_get_workspace_that_does_not_exist(session: Session) -> None:
    with pytest.raises(NotFoundError, match="workspace 'nope' does not exist"):
        get_workspace(session, "nope")


def test_create_user(session: Session) -> None:
    workspace = create_workspace(session, "Acme")

    user = create_user(session, workspace, "Ada@Example.com", "correct horse", Role.ADMIN)
    session.commit()
    session.expire_all()

    stored = session.get_one(User, user.id)
    assert (stored.workspace_id, stored.email, stored.role) == (
        workspace.id,
        "ada@example.com",
        Role.ADMIN,
    )
    assert verify_password("correct horse", stored.password_hash)
    assert not verify_password("wrong horse", stored.password_hash)


def test_email_is_unique_across_workspaces_and_case(session: Session) -> None:
    create_user(session, create_workspace(session, "Acme"), "ada@example.com", "password1")

    with pytest.raises(AlreadyExistsError, match=r"user 'ada@example\.com' already exists"):
        create_user(session, create_workspace(session, "Globex"), "ADA@example.com", "password2")


def test_create_user_rejects_a_short_password(session: Session) -> None:
    workspace = create_workspace(session, "Acme")

    with pytest.raises(InvalidInputError, match="at least 8 characters"):
        create_user(session, workspace, "ada@example.com", "short")


def test_create_site_key(session: Session) -> None:
    workspace = create_workspace(session, "Acme")

    first = create_site_key(session, workspace)
    second = create_site_key(session, workspace)

    assert first.public_key.startswith("site_")
    assert first.public_key != second.public_key
    assert first.workspace_id == workspace.id
    assert first.created_at.tzinfo == UTC
    assert first.revoked_at is None


def test_deleting_a_workspace_deletes_its_users_and_keys(session: Session) -> None:
    # Proves foreign keys are enforced on SQLite too (PRAGMA foreign_keys=ON).
    acme = create_workspace(session, "Acme")
    globex = create_workspace(session, "Globex")
    create_user(session, acme, "ada@example.com", "password1")
    create_user(session, globex, "bob@example.com", "password2")
    create_site_key(session, acme)

    session.execute(delete(Workspace).where(Workspace.id == acme.id))

    assert session.scalars(select(User.email)).all() == ["bob@example.com"]
    assert session.scalar(select(func.count()).select_from(SiteKey)) == 0
