"""Workspaces, their users, site keys and API keys: the rules for creating them, and looking
them up.

Functions take an open `Session` and flush, never commit: the caller owns the transaction,
``with Session(engine) as session, session.begin(): ...``. A unique key that is already taken
raises `AlreadyExistsError`; the transaction is then unusable (PostgreSQL aborts it) and must be
rolled back, which leaving that ``with`` block on the exception does.
"""

import hashlib
import re
import secrets
import unicodedata

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hearth.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from hearth.passwords import hash_password
from hearth.storage.models import ApiKey, Base, Plan, Role, SiteKey, User, Workspace

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "authenticate_api_key",
    "create_api_key",
    "create_site_key",
    "create_user",
    "create_workspace",
    "get_workspace",
    "normalize_email",
    "slug_for",
]

MIN_PASSWORD_LENGTH = 8
_MAX_NAME_LENGTH = 200
_MAX_SLUG_LENGTH = 63
_MAX_EMAIL_LENGTH = 254
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Deliberately loose: the only real check of an address is mail reaching it.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
# The prefix makes a pasted key recognisable; the random part is 144 bits.
_SITE_KEY_PREFIX = "site_"


def slug_for(name: str) -> str:
    """The URL-safe name derived from a workspace's name: "Café Acme, Inc." → "cafe-acme-inc".

    Empty when `name` has no Latin letters or digits.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:_MAX_SLUG_LENGTH].strip("-")


def normalize_email(email: str) -> str:
    """`email` trimmed and lowercased; raises `InvalidInputError` if it is not an address."""
    normalized = email.strip().lower()
    if len(normalized) > _MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(normalized):
        raise InvalidInputError(f"{email!r} is not an email address")
    return normalized


def create_workspace(
    session: Session, name: str, plan: Plan = Plan.FREE, *, slug: str | None = None
) -> Workspace:
    """Create a workspace; its slug is derived from `name` unless given."""
    name = name.strip()
    if not 0 < len(name) <= _MAX_NAME_LENGTH:
        raise InvalidInputError(f"a workspace name must have 1 to {_MAX_NAME_LENGTH} characters")
    slug = slug_for(name) if slug is None else slug
    if not (len(slug) <= _MAX_SLUG_LENGTH and _SLUG.fullmatch(slug)):
        raise InvalidInputError(
            f"{slug!r} is not a usable slug: use lowercase letters, digits and single dashes, "
            f"at most {_MAX_SLUG_LENGTH} characters"
        )
    workspace = Workspace(name=name, slug=slug, plan=plan)
    _insert(session, workspace, kind="workspace", key=slug)
    return workspace


def get_workspace(session: Session, slug: str) -> Workspace:
    """The workspace called `slug`; raises `NotFoundError`."""
    workspace = session.scalars(select(Workspace).where(Workspace.slug == slug)).one_or_none()
    if workspace is None:
        raise NotFoundError("workspace", slug)
    return workspace


def create_user(
    session: Session, workspace: Workspace, email: str, password: str, role: Role = Role.MEMBER
) -> User:
    """Create a user of `workspace`; the email must not be in use in any workspace."""
    email = normalize_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(f"a password must have at least {MIN_PASSWORD_LENGTH} characters")
    user = User(
        workspace_id=workspace.id, email=email, password_hash=hash_password(password), role=role
    )
    _insert(session, user, kind="user", key=email)
    return user


def create_site_key(session: Session, workspace: Workspace) -> SiteKey:
    """Create a new public key for `workspace`'s tracking snippet."""
    public_key = _SITE_KEY_PREFIX + secrets.token_urlsafe(18)
    site_key = SiteKey(workspace_id=workspace.id, public_key=public_key)
    _insert(session, site_key, kind="site key", key=public_key)
    return site_key


_API_KEY_PREFIX = "hk_"


def _api_key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, workspace: Workspace, name: str) -> tuple[ApiKey, str]:
    """A new API key for `workspace`: the stored record and the secret, shown only now."""
    name = name.strip()
    if not 0 < len(name) <= 100:
        raise InvalidInputError("an API key's name must have 1 to 100 characters")
    secret = _API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        workspace_id=workspace.id, name=name, prefix=secret[:10], key_hash=_api_key_hash(secret)
    )
    _insert(session, key, kind="API key", key=key.prefix)
    return key, secret


def authenticate_api_key(session: Session, secret: str) -> int | None:
    """The workspace id `secret` is a live API key of, or None."""
    if not secret.startswith(_API_KEY_PREFIX):
        return None
    key = session.scalars(
        select(ApiKey).where(ApiKey.key_hash == _api_key_hash(secret))
    ).one_or_none()
    if key is None or key.revoked_at is not None:
        return None
    return key.workspace_id


def _insert(session: Session, row: Base, *, kind: str, key: str) -> None:
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        # The only constraints a new row of these tables can break are its unique keys.
        raise AlreadyExistsError(kind, key) from exc
