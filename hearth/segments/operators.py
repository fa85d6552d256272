"""Field types, operators, and which operator takes which value on which type: one table. Pure.

`OPERATORS` is the whole grammar of a condition: for each `FieldType`, the operators it allows
and the `ValueKind` each one takes. Parsing (`hearth.segments.rules`) and the field listing
(`Field.to_json`) read it; an operator missing from a type's row is not valid for that type.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

__all__ = [
    "OPERATORS",
    "FieldType",
    "Operator",
    "TimeUnit",
    "ValueKind",
    "operators_for",
]


class FieldType(StrEnum):
    """What kind of value a field holds; it decides the operators a condition may use."""

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    DATE = "date"
    TEXT_LIST = "text_list"
    PICKLIST = "picklist"


class Operator(StrEnum):
    """A condition's comparison; the JSON form's ``op``."""

    # text (and picklist: in, not_in, is_set, is_not_set)
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    IN = "in"
    NOT_IN = "not_in"
    # any type but boolean and list
    IS_SET = "is_set"
    IS_NOT_SET = "is_not_set"
    # number
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    # boolean
    IS_TRUE = "is_true"
    IS_FALSE = "is_false"
    # datetime and date
    BEFORE = "before"
    AFTER = "after"
    ON = "on"
    WITHIN_LAST = "within_last"
    MORE_THAN_AGO = "more_than_ago"
    # list of text
    CONTAINS_ANY = "contains_any"
    CONTAINS_ALL = "contains_all"
    CONTAINS_NONE = "contains_none"
    IS_EMPTY = "is_empty"
    IS_NOT_EMPTY = "is_not_empty"


class TimeUnit(StrEnum):
    """The unit of a time window (``within_last``, ``more_than_ago``)."""

    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


class ValueKind(StrEnum):
    """What a condition's ``value`` must be."""

    NONE = "none"  # no value (absent or null)
    TEXT = "text"  # a non-blank string
    TEXT_LIST = "text_list"  # a non-empty list of non-blank strings
    PICKLIST_VALUES = "picklist_values"  # the same, each among the field's values if known
    NUMBER = "number"  # a finite int or float (not a boolean)
    NUMBER_RANGE = "number_range"  # [low, high], low <= high, both ends included
    DATETIME = "datetime"  # an ISO 8601 date and time with a UTC offset ("...Z")
    DATE = "date"  # an ISO 8601 date, YYYY-MM-DD
    WINDOW = "window"  # {"amount": positive int, "unit": a TimeUnit}
    DATE_WINDOW = "date_window"  # the same without "hours"


_K = ValueKind
_O = Operator

OPERATORS: Final[Mapping[FieldType, Mapping[Operator, ValueKind]]] = {
    FieldType.TEXT: {
        _O.EQUALS: _K.TEXT,
        _O.NOT_EQUALS: _K.TEXT,
        _O.CONTAINS: _K.TEXT,
        _O.NOT_CONTAINS: _K.TEXT,
        _O.STARTS_WITH: _K.TEXT,
        _O.ENDS_WITH: _K.TEXT,
        _O.IN: _K.TEXT_LIST,
        _O.IS_SET: _K.NONE,
        _O.IS_NOT_SET: _K.NONE,
    },
    FieldType.NUMBER: {
        _O.EQ: _K.NUMBER,
        _O.NE: _K.NUMBER,
        _O.GT: _K.NUMBER,
        _O.GTE: _K.NUMBER,
        _O.LT: _K.NUMBER,
        _O.LTE: _K.NUMBER,
        _O.BETWEEN: _K.NUMBER_RANGE,
        _O.IS_SET: _K.NONE,
        _O.IS_NOT_SET: _K.NONE,
    },
    FieldType.BOOLEAN: {
        _O.IS_TRUE: _K.NONE,
        _O.IS_FALSE: _K.NONE,
    },
    FieldType.DATETIME: {
        _O.BEFORE: _K.DATETIME,
        _O.AFTER: _K.DATETIME,
        _O.ON: _K.DATE,
        _O.WITHIN_LAST: _K.WINDOW,
        _O.MORE_THAN_AGO: _K.WINDOW,
        _O.IS_SET: _K.NONE,
        _O.IS_NOT_SET: _K.NONE,
    },
    FieldType.DATE: {
        _O.BEFORE: _K.DATE,
        _O.AFTER: _K.DATE,
        _O.ON: _K.DATE,
        _O.WITHIN_LAST: _K.DATE_WINDOW,
        _O.MORE_THAN_AGO: _K.DATE_WINDOW,
        _O.IS_SET: _K.NONE,
        _O.IS_NOT_SET: _K.NONE,
    },
    FieldType.TEXT_LIST: {
        _O.CONTAINS_ANY: _K.TEXT_LIST,
        _O.CONTAINS_ALL: _K.TEXT_LIST,
        _O.CONTAINS_NONE: _K.TEXT_LIST,
        _O.IS_EMPTY: _K.NONE,
        _O.IS_NOT_EMPTY: _K.NONE,
    },
    FieldType.PICKLIST: {
        _O.IN: _K.PICKLIST_VALUES,
        _O.NOT_IN: _K.PICKLIST_VALUES,
        _O.IS_SET: _K.NONE,
        _O.IS_NOT_SET: _K.NONE,
    },
}
"""For each field type, the operators it allows and the value each takes."""


def operators_for(field_type: FieldType) -> tuple[Operator, ...]:
    """The operators a condition on a field of this type may use, in the table's order."""
    return tuple(OPERATORS[field_type])
