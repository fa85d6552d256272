"""Field values: JSON input → stored value, stored value → JSON output. Pure.

Stored forms (one SQLite column per field): text as str, checkboxes as 0/1, numbers as int/float,
dates as `YYYY-MM-DD`, datetimes as `YYYY-MM-DDTHH:MM:SS.mmm+0000` in UTC, which sorts and
compares correctly as text. Errors carry Salesforce's status codes and message shapes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import RecordError
from .ids import InvalidId, normalize_id
from .schema import FieldDef, FieldType

__all__ = [
    "Stored",
    "format_datetime",
    "is_valid_email",
    "parse_date",
    "parse_datetime",
    "to_json",
    "to_stored",
]

Stored = str | int | float | None
T = FieldType

_EMAIL_LOCAL_EXTRA = frozenset("!#$%&'*+-/=?^_`{|}~.")


def format_datetime(moment: datetime) -> str:
    """Salesforce's wire form: `2024-01-31T10:00:00.000+0000`, always UTC."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def _digits(text: str, start: int, count: int) -> int | None:
    chunk = text[start : start + count]
    if len(chunk) != count or not chunk.isdigit() or not chunk.isascii():
        return None
    return int(chunk)


def parse_date(text: str) -> date | None:
    """`YYYY-MM-DD`, or None when it is not one."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    year, month, day = _digits(text, 0, 4), _digits(text, 5, 2), _digits(text, 8, 2)
    if year is None or month is None or day is None:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_datetime(text: str) -> datetime | None:
    """ISO 8601 date-time with optional fraction and a `Z`, `±hh:mm` or `±hhmm` offset.

    A date alone is midnight UTC, as the REST API reads it.
    """
    day = parse_date(text[:10])
    if day is None:
        return None
    if len(text) == 10:
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    if text[10] not in "Tt ":
        return None
    hour, minute = _digits(text, 11, 2), _digits(text, 14, 2)
    if hour is None or minute is None or text[13:14] != ":":
        return None
    pos, second, micro = 16, 0, 0
    if text[pos : pos + 1] == ":":
        sec = _digits(text, pos + 1, 2)
        if sec is None:
            return None
        second, pos = sec, pos + 3
        if text[pos : pos + 1] == ".":
            end = pos + 1
            while end < len(text) and text[end].isdigit():
                end += 1
            fraction = text[pos + 1 : end]
            if not fraction:
                return None
            micro, pos = int((fraction + "000000")[:6]), end
    offset = _parse_offset(text[pos:])
    if offset is None:
        return None
    try:
        naive = datetime(day.year, day.month, day.day, hour, minute, second, micro)
    except ValueError:
        return None
    return (naive - offset).replace(tzinfo=UTC)


def _parse_offset(text: str) -> timedelta | None:
    if text in ("", "Z", "z"):
        return timedelta(0)
    if text[0] not in "+-":
        return None
    body = text[1:].replace(":", "", 1) if len(text) == 6 else text[1:]
    hours, minutes = _digits(body, 0, 2), _digits(body, 2, 2)
    if len(body) != 4 or hours is None or minutes is None:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return -delta if text[0] == "-" else delta


def is_valid_email(text: str) -> bool:
    """The checks Salesforce applies to Email fields: one @, a plausible local part and domain."""
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or len(local) > 64:
        return False
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    if any(not (c.isalnum() or c in _EMAIL_LOCAL_EXTRA) or not c.isascii() for c in local):
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not labels[-1].isalpha() or len(labels[-1]) < 2:
        return False
    return all(
        label and not label.startswith("-") and not label.endswith("-")
        and all(c.isascii() and (c.isalnum() or c == "-") for c in label)
        for label in labels
    )  # fmt: skip


def _parser_error(field: FieldDef, kind: str, value: Any) -> RecordError:
    return RecordError(
        status_code="JSON_PARSER_ERROR",
        message=(
            f"Cannot deserialize instance of {kind} from VALUE_STRING value {value} "
            "or request may be missing a required field"
        ),
        fields=(field.name,),
    )


def _number(field: FieldDef, value: Any) -> Decimal:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | str)
        or (isinstance(value, str) and "_" in value)  # Decimal takes "1_000"; JSON does not
    ):
        raise _parser_error(field, "double" if field.type is not T.INT else "int", value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _parser_error(field, "double", value) from None
    if not number.is_finite():
        raise _parser_error(field, "double", value)
    return number


def _out_of_range(field: FieldDef, value: Any) -> RecordError:
    return RecordError(
        status_code="NUMBER_OUTSIDE_VALID_RANGE",
        message=f"{field.label}: value outside of valid range on numeric field: {value}",
        fields=(field.name,),
    )


def _text(field: FieldDef, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _parser_error(field, "string", value)
    text = value if isinstance(value, str) else str(value)
    if text == "":
        return None  # Salesforce stores an empty string as null.
    limit = field.length or 255
    if len(text) > limit:
        raise RecordError(
            status_code="STRING_TOO_LONG",
            message=f"{field.label}: data value too large: {text[:255]} (max length={limit})",
            fields=(field.name,),
        )
    return text


def to_stored(field: FieldDef, value: Any) -> Stored:
    """The stored form of a JSON value for `field`; raises RecordError when it does not fit."""
    if value is None:
        return 0 if field.type is T.BOOLEAN else None
    kind = field.type
    if kind is T.BOOLEAN:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return int(value.lower() == "true")
        raise _parser_error(field, "boolean", value)
    if kind.is_number:
        number = _number(field, value)
        if kind is T.INT:
            if number != number.to_integral_value():
                raise _parser_error(field, "int", value)
            if number and number.adjusted() >= (field.digits or 9):
                raise _out_of_range(field, value)
            return int(number)
        # Check the magnitude first: rounding a huge value overflows the decimal context.
        if number and number.adjusted() >= max(field.precision - field.scale, 1):
            raise _out_of_range(field, value)
        rounded = round(number, field.scale)
        if len(str(abs(int(rounded)))) > max(field.precision - field.scale, 1):
            raise _out_of_range(field, value)
        return float(rounded)
    if kind is T.DATE:
        if isinstance(value, str):
            parsed = parse_date(value)
            if parsed is None:
                moment = parse_datetime(value)
                parsed = moment.date() if moment is not None else None
            if parsed is not None:
                return parsed.isoformat()
        raise _parser_error(field, "date", value)
    if kind is T.DATETIME:
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None:
            raise _parser_error(field, "datetime", value)
        return format_datetime(moment)
    if kind in (T.REFERENCE, T.ID):
        if not isinstance(value, str):
            raise _parser_error(field, "id", value)
        if value == "":
            return None
        try:
            return normalize_id(value)
        except InvalidId:
            raise RecordError(
                status_code="MALFORMED_ID",
                message=f"{field.label}: id value of incorrect type: {value}",
                fields=(field.name,),
            ) from None
    text = _text(field, value)
    if text is None:
        return None
    if kind is T.EMAIL and not is_valid_email(text):
        raise RecordError(
            status_code="INVALID_EMAIL_ADDRESS",
            message=f"{field.label}: invalid email address: {text}",
            fields=(field.name,),
        )
    if kind is T.PICKLIST and field.picklist:
        entry = field.picklist_value(text)
        if entry is not None:
            return entry.value
        if field.restricted_picklist:
            raise RecordError(
                status_code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                message=f"{field.label}: bad value for restricted picklist field: {text}",
                fields=(field.name,),
            )
    return text


def to_json(field: FieldDef, stored: Stored) -> Any:
    """The JSON value of a stored value."""
    if stored is None:
        return None
    kind = field.type
    if kind is T.BOOLEAN:
        return bool(stored)
    if kind is T.INT:
        return int(stored)
    if kind.is_number:
        return float(stored)
    return stored
