"""Hearth's exceptions.

Every error Hearth raises on purpose is a `HearthError`. Foreign exceptions (pydantic,
SQLAlchemy, the database drivers) are translated where they enter Hearth, with
``raise ... from exc``, so callers catch one tree::

    HearthError
    ├── ConfigError          settings are missing, malformed or unusable
    ├── DatabaseError        the database is unreachable or not at the expected schema
    ├── InvalidInputError    a value breaks one of Hearth's rules (e.g. a too-short password)
    ├── NotFoundError        a record looked up by its key does not exist
    ├── AlreadyExistsError   a record with the same unique key already exists
    └── SalesforceError      an org refused or could not answer (hearth/salesforce/errors.py)
"""

__all__ = [
    "AlreadyExistsError",
    "ConfigError",
    "DatabaseError",
    "HearthError",
    "InvalidInputError",
    "NotFoundError",
]


class HearthError(Exception):
    """Base class of every error Hearth raises on purpose."""


class ConfigError(HearthError):
    """Settings are missing, malformed or unusable."""


class DatabaseError(HearthError):
    """The database is unreachable, or its schema is not the one this version expects."""


class InvalidInputError(HearthError):
    """A value given to Hearth breaks one of its rules."""


class NotFoundError(HearthError):
    """A record looked up by its key does not exist."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} does not exist")
        self.kind = kind
        self.key = key


class AlreadyExistsError(HearthError):
    """A record with the same unique key already exists."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} already exists")
        self.kind = kind
        self.key = key
