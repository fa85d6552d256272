"""Salesforce-shaped errors.

    ApiError                      one REST error: status, errorCode, message, fields
    ├── (raised by any handler; rendered as Salesforce's JSON array body)
    RecordError                   one per-record failure inside a write (statusCode in results)
    OAuthError                    OAuth endpoint failure: {"error", "error_description"}

REST errors go over the wire as a JSON array `[{"message", "errorCode", "fields"}]`; per-record
results use `statusCode` instead of `errorCode`; OAuth errors are a single object. Handlers raise,
the application renders, so no handler formats an error body by hand.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "OAuthError", "RecordError", "record_error_body"]


class RecordError(Exception):
    """A validation or DML failure of one record."""

    def __init__(
        self,
        *,
        status_code: str,
        message: str,
        fields: tuple[str, ...] = (),
        http_status: int = 400,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(status_code, message)
        self.status_code = status_code
        self.message = message
        self.fields = fields
        self.http_status = http_status
        self.extra = extra or {}

    def __str__(self) -> str:
        return f"{self.status_code}: {self.message}"

    def rest_body(self) -> list[dict[str, Any]]:
        body: dict[str, Any] = dict(self.extra)
        body.update({"message": self.message, "errorCode": self.status_code})
        body["fields"] = list(self.fields)
        return [body]

    def result_error(self) -> dict[str, Any]:
        return {
            "statusCode": self.status_code,
            "message": self.message,
            "fields": list(self.fields),
        }


def record_error_body(err: RecordError) -> dict[str, Any]:
    """A failed SaveResult: `{"success": false, "errors": [...]}`."""
    return {"success": False, "errors": [err.result_error()]}


class ApiError(Exception):
    """A request-level REST failure."""

    def __init__(
        self,
        *,
        status: int,
        error_code: str,
        message: str,
        fields: tuple[str, ...] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, error_code, message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields
        self.headers = headers or {}

    def __str__(self) -> str:
        return f"{self.status} {self.error_code}: {self.message}"

    def rest_body(self) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            body["fields"] = list(self.fields)
        return [body]


class OAuthError(Exception):
    """An OAuth endpoint failure."""

    def __init__(self, *, error: str, description: str, status: int = 400) -> None:
        super().__init__(error, description)
        self.error = error
        self.description = description
        self.status = status

    def __str__(self) -> str:
        return f"{self.error}: {self.description}"

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}
