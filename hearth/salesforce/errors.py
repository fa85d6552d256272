"""What a Salesforce org refused, as typed errors, and the one place wire bodies become them.

Salesforce speaks three error dialects: OAuth answers an object (``{"error",
"error_description"}``), REST answers an array (``[{"errorCode", "message", "fields"}]``) and
per-record results inside a 200 use ``statusCode``. 5xx bodies may be HTML. Every branch here
is on a code, never on message text: messages are localised. The one exception is
REQUEST_LIMIT_EXCEEDED, whose daily and concurrency variants share a code and differ only in
their (English) message::

    HearthError
    └── SalesforceError            status_code, error_code, message; `retryable` per class
        ├── AuthExpired            401 INVALID_SESSION_ID even after one refresh and replay
        ├── ReauthorizationRequired   invalid_grant: the user must connect again (terminal)
        ├── OAuthError             any other OAuth refusal (bad client id, secret, redirect)
        ├── RequestLimitExceeded   the org's daily API allowance is spent (not retryable)
        ├── ConcurrentRequestLimit too many long-running requests in flight (retryable)
        ├── MultipleMatches        an upsert's external ID matched several records (300)
        ├── RecordError            a coded REST error, with `fields`
        │   ├── DuplicatesDetected   a duplicate rule blocked the save; `duplicates` ids
        │   ├── RowLocked            UNABLE_TO_LOCK_ROW (retryable)
        │   ├── NotFound             NOT_FOUND, ENTITY_IS_DELETED
        │   ├── MalformedQuery       MALFORMED_QUERY, INVALID_QUERY_LOCATOR
        │   ├── InvalidField         INVALID_FIELD, INVALID_TYPE
        │   └── QueryTimeout         QUERY_TIMEOUT (retryable)
        ├── ServerUnavailable      5xx, whatever the body (retryable)
        ├── TransportFailure       the connection failed or dropped (retryable)
        ├── BulkJobFailed          a Bulk API 2.0 job ended Failed or Aborted
        └── UnexpectedResponse     a body in none of the dialects above
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from hearth.errors import HearthError

__all__ = [
    "AuthExpired",
    "BulkJobFailed",
    "ConcurrentRequestLimit",
    "DuplicatesDetected",
    "InvalidField",
    "MalformedQuery",
    "MultipleMatches",
    "NotFound",
    "OAuthError",
    "QueryTimeout",
    "ReauthorizationRequired",
    "RecordError",
    "RequestLimitExceeded",
    "RowLocked",
    "SalesforceError",
    "ServerUnavailable",
    "TransportFailure",
    "UnexpectedResponse",
    "error_from_response",
    "oauth_error",
    "record_error",
]


class SalesforceError(HearthError):
    """Something Salesforce refused or could not answer.

    `status_code` is the HTTP status (None when no answer came, or for a per-record result);
    `error_code` is Salesforce's code (`errorCode`, `statusCode` or OAuth's `error`).
    """

    retryable: ClassVar[bool] = False

    def __init__(
        self, message: str, *, status_code: int | None = None, error_code: str | None = None
    ) -> None:
        super().__init__(f"{error_code}: {message}" if error_code else message)
        self.message = message
        self.status_code = status_code
        self.error_code = error_code


class AuthExpired(SalesforceError):
    """The session is invalid even after a refresh: Salesforce keeps refusing the token."""


class ReauthorizationRequired(SalesforceError):
    """The refresh token is revoked or expired (`invalid_grant`); only a new login helps."""


class OAuthError(SalesforceError):
    """An OAuth refusal other than invalid_grant: a configuration problem, not a transient one."""


class RequestLimitExceeded(SalesforceError):
    """The org's daily API allowance is spent; retrying only spends more of tomorrow's."""


class ConcurrentRequestLimit(SalesforceError):
    """Too many long-running requests are in flight in the org; retry once some finish."""

    retryable = True


class MultipleMatches(SalesforceError):
    """An upsert's external ID value matched more than one record (HTTP 300)."""

    def __init__(self, message: str, *, urls: Sequence[str]) -> None:
        super().__init__(message, status_code=300)
        self.urls = tuple(urls)


class RecordError(SalesforceError):
    """A coded REST error: validation, a missing record, a bad query, a lock."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None,
        error_code: str,
        fields: Sequence[str] = (),
    ) -> None:
        super().__init__(message, status_code=status_code, error_code=error_code)
        self.fields = tuple(fields)


class DuplicatesDetected(RecordError):
    """A duplicate rule blocked the save; `duplicates` are the matching records' ids (REST
    answers carry them; per-record results inside collections do not, so it may be empty)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None,
        error_code: str,
        fields: Sequence[str] = (),
        duplicates: Sequence[str] = (),
    ) -> None:
        super().__init__(message, status_code=status_code, error_code=error_code, fields=fields)
        self.duplicates = tuple(duplicates)


class RowLocked(RecordError):
    """Another transaction holds a lock on the record or a parent (UNABLE_TO_LOCK_ROW)."""

    retryable = True


class NotFound(RecordError):
    """No such record, or it is in the recycle bin, or no such resource."""


class MalformedQuery(RecordError):
    """The SOQL does not parse, or a query locator is invalid."""


class InvalidField(RecordError):
    """A field or object name that does not exist or is not visible to the user."""


class QueryTimeout(RecordError):
    """The query ran too long on Salesforce's side; a later attempt may be quicker."""

    retryable = True


class ServerUnavailable(SalesforceError):
    """A 5xx answer: maintenance, overload, or an internal error."""

    retryable = True


class TransportFailure(SalesforceError):
    """No answer: the connection could not be made, timed out, or was dropped."""

    retryable = True


class BulkJobFailed(SalesforceError):
    """A Bulk API 2.0 job ended Failed or Aborted; `message` is the job's errorMessage."""


class UnexpectedResponse(SalesforceError):
    """An error answer in none of Salesforce's dialects (kept short, for the log)."""


_RECORD_ERRORS: Mapping[str, type[RecordError]] = {
    "UNABLE_TO_LOCK_ROW": RowLocked,
    "NOT_FOUND": NotFound,
    "ENTITY_IS_DELETED": NotFound,
    "MALFORMED_QUERY": MalformedQuery,
    "INVALID_QUERY_LOCATOR": MalformedQuery,
    "INVALID_FIELD": InvalidField,
    "INVALID_TYPE": InvalidField,
    "QUERY_TIMEOUT": QueryTimeout,
}

# The only message text ever read: Salesforce gives both REQUEST_LIMIT_EXCEEDED variants the same
# code, and names the concurrency one "ConcurrentPerOrgLongTxn Limit exceeded." (English only).
_CONCURRENCY_MARKER = "Concurrent"

_SNIPPET = 200


def _duplicate_ids(item: Mapping[str, Any]) -> list[str]:
    result = item.get("duplicateResult")
    if not isinstance(result, dict):
        return []
    return [
        str(match["record"]["Id"])
        for group in result.get("matchResults") or []
        for match in group.get("matchRecords") or []
        if isinstance(match.get("record"), dict) and "Id" in match["record"]
    ]


def record_error(item: Mapping[str, Any], *, status_code: int | None) -> SalesforceError:
    """One REST error entry (`errorCode`) or per-record error (`statusCode`) as a typed error."""
    code = str(item.get("errorCode") or item.get("statusCode") or "")
    message = str(item.get("message") or "")
    fields = [str(f) for f in item.get("fields") or []]
    if code == "INVALID_SESSION_ID":
        return AuthExpired(message, status_code=status_code, error_code=code)
    if code == "REQUEST_LIMIT_EXCEEDED":
        limit = ConcurrentRequestLimit if _CONCURRENCY_MARKER in message else RequestLimitExceeded
        return limit(message, status_code=status_code, error_code=code)
    if code == "DUPLICATES_DETECTED":
        return DuplicatesDetected(
            message,
            status_code=status_code,
            error_code=code,
            fields=fields,
            duplicates=_duplicate_ids(item),
        )
    kind = _RECORD_ERRORS.get(code, RecordError)
    return kind(message, status_code=status_code, error_code=code, fields=fields)


def oauth_error(body: Mapping[str, Any], *, status_code: int) -> SalesforceError:
    """An OAuth error object; invalid_grant is terminal, whichever grant it answered."""
    code = str(body.get("error") or "")
    description = str(body.get("error_description") or "")
    kind = ReauthorizationRequired if code == "invalid_grant" else OAuthError
    return kind(description, status_code=status_code, error_code=code)


def error_from_response(response: httpx.Response) -> SalesforceError:
    """The typed error for a non-success answer, in whichever dialect it came."""
    status = response.status_code
    if status >= 500:
        # Maintenance pages are HTML: never parse a 5xx body for a decision.
        return ServerUnavailable(f"HTTP {status}", status_code=status)
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if status == 300 and isinstance(body, list):
        return MultipleMatches(
            "the external ID matched several records", urls=[str(u) for u in body]
        )
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return record_error(body[0], status_code=status)
    if isinstance(body, dict) and "error" in body:
        return oauth_error(body, status_code=status)
    return UnexpectedResponse(f"HTTP {status}: {response.text[:_SNIPPET]!r}", status_code=status)
