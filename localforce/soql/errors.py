"""SOQL errors.

    SoqlSyntaxError        the text is not a query localforce accepts; `kind` names the
                           Salesforce errorCode the REST layer should answer with

The REST layer turns one into `ApiError(status=400, error_code=err.kind.value,
message=err.salesforce_message())`. `caret_diagram` is public so the compiler can draw the same
picture for INVALID_FIELD and INVALID_TYPE, which only it can detect.
"""

from __future__ import annotations

import enum

from localforce.soql.ast import Position

__all__ = ["ErrorKind", "SoqlSyntaxError", "caret_diagram"]


class ErrorKind(enum.Enum):
    """The Salesforce errorCode for a rejected query; the value is the code itself."""

    MALFORMED_QUERY = "MALFORMED_QUERY"
    NUMBER_OUTSIDE_VALID_RANGE = "NUMBER_OUTSIDE_VALID_RANGE"
    QUERY_TOO_COMPLICATED = "QUERY_TOO_COMPLICATED"


class SoqlSyntaxError(Exception):
    """A query rejected by the parser, with the place it went wrong."""

    def __init__(
        self,
        message: str,
        position: Position,
        *,
        query: str,
        kind: ErrorKind = ErrorKind.MALFORMED_QUERY,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.query = query
        self.kind = kind

    def __str__(self) -> str:
        return f"{self.message} (row {self.position.row}, column {self.position.column})"

    def salesforce_message(self) -> str:
        """The message Salesforce sends back: the offending line, a caret, row and column."""
        return caret_diagram(self.query, self.position, self.message)


def caret_diagram(query: str, position: Position, message: str) -> str:
    """Salesforce's error picture, e.g. for `SELECT Id FRM Account`::

        \\nSELECT Id FRM Account\\n          ^\\nERROR at Row:1:Column:11\\nunexpected token: FRM

    Only the offending row is shown, so multi-line queries stay readable.
    """
    line_start = query.rfind("\n", 0, position.offset) + 1
    line_end = query.find("\n", position.offset)
    line = query[line_start : len(query) if line_end < 0 else line_end].rstrip("\r")
    caret = " " * (position.column - 1) + "^"
    return f"\n{line}\n{caret}\nERROR at Row:{position.row}:Column:{position.column}\n{message}"
