"""Bulk API 2.0 CSV: the job's dialect, reading uploads, writing results. Pure.

A job names its column delimiter (`COMMA`, `TAB`, `PIPE`, `SEMICOLON`, `CARET`, `BACKQUOTE`) and
its line ending (`LF`, `CRLF`). Uploads are read with exactly that line ending: a CRLF file in an
LF job fails the job with `ClientInputError : LineEnding is invalid on user data. Current
LineEnding setting is LF`, as Salesforce's does, before any record is written.

Salesforce renders values its own way in CSV: `true`/`false`, datetimes as
`2024-01-31T10:00:00.000Z`, and numbers of floating-point fields as Java prints a double
(`9.12260031E8`; the guide's successfulResults example shows it).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from ..schema import FieldDef, FieldType
from ..values import Stored

__all__ = [
    "DELIMITERS",
    "LINE_ENDINGS",
    "NULL_MARKER",
    "CsvDialect",
    "CsvFormatError",
    "formatter",
    "java_double",
    "read_records",
    "rerender",
]

DELIMITERS: dict[str, str] = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
LINE_ENDINGS: dict[str, str] = {"LF": "\n", "CRLF": "\r\n"}
# An upload's way of setting a field to null; an empty value means "no value" (no change on
# update).
NULL_MARKER = "#N/A"


class CsvFormatError(Exception):
    """An upload Salesforce cannot read: the job fails with this message."""


@dataclass(frozen=True, slots=True)
class CsvDialect:
    column_delimiter: str = "COMMA"
    line_ending: str = "LF"

    @property
    def delimiter(self) -> str:
        return DELIMITERS[self.column_delimiter]

    @property
    def terminator(self) -> str:
        return LINE_ENDINGS[self.line_ending]

    def writer(self, out: IO[str], *, quote_all: bool = True) -> Any:
        """A csv writer in this dialect; results quote every value, as Salesforce's do."""
        return csv.writer(
            out,
            delimiter=self.delimiter,
            lineterminator=self.terminator,
            quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        )

    def header(self, quoted: list[str], plain: list[str]) -> str:
        """A header row: `"sf__Id","sf__Created",Name,...`: result columns quoted, the upload's
        own column names as they were sent."""
        buffer = io.StringIO()
        self.writer(buffer, quote_all=False).writerow(plain)
        cells = [f'"{name}"' for name in quoted]
        if plain:
            cells.append(buffer.getvalue()[: -len(self.terminator)])
        return self.delimiter.join(cells) + self.terminator


def _lines(source: IO[str], dialect: CsvDialect) -> Iterator[str]:
    """The upload's lines, refusing any that end the other way than the job says."""
    crlf = dialect.line_ending == "CRLF"
    for line in source:
        if line.endswith("\n") and line.endswith("\r\n") != crlf:
            raise CsvFormatError(
                "ClientInputError : LineEnding is invalid on user data. "
                f"Current LineEnding setting is {dialect.line_ending}"
            )
        yield line


def read_records(source: IO[str], dialect: CsvDialect) -> Iterator[list[str]]:
    """The records of an upload (header first), skipping blank lines.

    `source` must be opened with `newline="\\n"` so that line endings reach us untranslated.
    Malformed quoting and bad line endings raise `CsvFormatError`.
    """
    reader = csv.reader(_lines(source, dialect), delimiter=dialect.delimiter, strict=True)
    try:
        for record in reader:
            if record:
                yield record
    except csv.Error as exc:
        raise CsvFormatError(f"ClientInputError : {exc} (line {reader.line_num})") from None


def java_double(value: float) -> str:
    """`value` as Java's `Double.toString` prints it: `2676.0`, `9.12260031E8`, `1.0E-4`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(value)
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits))
    power = exponent + len(mantissa) - 1
    fraction = mantissa[1:] or "0"
    return f"{'-' if sign else ''}{mantissa[0]}.{fraction}E{power}"


_FLOATING = frozenset({FieldType.DOUBLE, FieldType.CURRENCY, FieldType.PERCENT})


def formatter(field: FieldDef) -> Callable[[Stored], str]:
    """How a stored value of `field` reads in a Bulk CSV file (null is an empty value)."""
    kind = field.type
    if kind is FieldType.BOOLEAN:
        return lambda v: "" if v is None else ("true" if v else "false")
    if kind is FieldType.INT:
        return lambda v: "" if v is None else str(int(v))
    if kind in _FLOATING:
        return lambda v: "" if v is None else java_double(float(v))
    if kind is FieldType.DATETIME:
        # Stored `2024-01-31T10:00:00.000+0000`; Bulk CSV says `...000Z`.
        return lambda v: "" if v is None else str(v)[:23] + "Z"
    return lambda v: "" if v is None else str(v)


def rerender(field: FieldDef | None, text: str) -> str:
    """An uploaded value as a successful result shows it: floating-point fields re-rendered."""
    if field is None or field.type not in _FLOATING or not text or text == NULL_MARKER:
        return text
    try:
        return java_double(float(text))
    except ValueError:
        return text
