"""Building SOQL safely: literals escaped by one function, identifiers validated, IN lists
chunked so every request URL stays under Salesforce's limit.

Pure: no I/O. Literals always go through `quote`; raw text is never interpolated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import quote as url_quote

from hearth.errors import InvalidInputError

from .versions import API_VERSION

__all__ = [
    "Literal",
    "escape_literal",
    "identifier",
    "in_list_chunks",
    "quote",
]

Literal = str | bool | int | float | Decimal | date | datetime | None

# Salesforce's escape table for string literals; `_` and `%` are only special in LIKE patterns.
_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "'": "\\'",
        '"': '\\"',
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\b": "\\b",
        "\f": "\\f",
    }
)

# One segment of a (possibly dotted) field path or an object name; `__c`/`__r` suffixes and
# namespace prefixes (`ns__Field__c`) all fit, since `_` is allowed after the first letter.
_SEGMENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

# Salesforce refuses request URIs over 16,384 bytes (414) and URI plus headers over the same
# (431): 14,000 leaves room for headers.
MAX_URL_BYTES = 14_000
_QUERY_PATH = f"/services/data/v{API_VERSION}/query?q="


def escape_literal(value: str) -> str:
    """The text to put between single quotes so that SOQL reads back exactly `value`."""
    return value.translate(_ESCAPES)


def quote(value: Literal) -> str:
    """A SOQL literal for `value`: strings quoted and escaped, dates unquoted, datetimes in UTC.

    Raises `InvalidInputError` for naive datetimes and non-finite numbers.
    """
    # bool before int (a bool is an int), datetime before date (a datetime is a date).
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + escape_literal(value) + "'"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            raise InvalidInputError(f"SOQL has no literal for {value}")
        return format(value, "f") if isinstance(value, Decimal) else repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInputError("a naive datetime is ambiguous; give it a time zone")
        # `Z` rather than an offset: a `+` would need its own URL encoding or become a space.
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no SOQL literal for {type(value).__name__}")


def identifier(name: str) -> str:
    """`name` if it is a valid object name or dotted field path; identifiers cannot be escaped.

    Raises `InvalidInputError` otherwise.
    """
    segments = name.split(".")
    if not all(_SEGMENT.fullmatch(s) and not s.endswith("_") for s in segments):
        raise InvalidInputError(f"not a SOQL identifier: {name!r}")
    return name


def _url_bytes(soql: str) -> int:
    # Percent-encoding everything but unreserved characters is the longest form a client sends,
    # so the measure holds whatever encoding the HTTP library picks (e.g. `+` for a space).
    return len(_QUERY_PATH) + len(url_quote(soql, safe=""))


def in_list_chunks(
    field: str,
    values: Iterable[Literal],
    *,
    query: str,
    max_url_bytes: int = MAX_URL_BYTES,
) -> Iterator[str]:
    """Complete queries, each `query` with its one `{}` replaced by `field IN (...)`, together
    covering every value, each of whose request URL (`GET .../query?q=...`) fits in
    `max_url_bytes` once URL-encoded.

    Raises `InvalidInputError` if a single value cannot fit.
    """
    head, marker, tail = query.partition("{}")
    if not marker or "{}" in tail:
        raise InvalidInputError("the query needs exactly one {} where the IN condition goes")
    prefix = f"{head}{identifier(field)} IN ("
    suffix = f"){tail}"
    fixed = _url_bytes(prefix + suffix)
    comma = _url_bytes(",") - _url_bytes("")
    chunk: list[str] = []
    size = fixed
    for value in values:
        literal = quote(value)
        cost = _url_bytes(literal) - _url_bytes("") + (comma if chunk else 0)
        if chunk and size + cost > max_url_bytes:
            yield prefix + ",".join(chunk) + suffix
            chunk, size = [], fixed
            cost -= comma
        if size + cost > max_url_bytes:
            raise InvalidInputError(f"{literal[:40]}... alone does not fit in {max_url_bytes}")
        chunk.append(literal)
        size += cost
    if chunk:
        yield prefix + ",".join(chunk) + suffix
