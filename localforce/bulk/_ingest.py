"""Bulk API 2.0 ingest: an uploaded CSV file, run row by row through `Dml`, and its result files.

Processing reads the upload twice, streaming both times. The first pass checks the whole file
(line endings, quoting, the header), so a file Salesforce would refuse fails the job before any
record is written. The second pass writes records in chunks of `CHUNK_ROWS`: one transaction per
chunk, a savepoint per row (as sObject Collections do), so a bad row fails alone. The chunk's
per-row results and the job's counters are written in the same transaction as its records: after
a crash they describe exactly what was committed, and processing resumes at the next row.

Values: an empty field means "no value" (on update: no change); `#N/A` sets the field to null.
Relationship columns name a parent by an external ID or idLookup field: `Account.Ext__c`, and
for a polymorphic lookup `Lead:Who.Email`.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from ..dml import Dml, WriteOptions
from ..errors import RecordError
from ..org import Org, quote_ident
from ..permissions import access_for
from ..schema import FieldDef, FieldType, ObjectDef
from ._csv import NULL_MARKER, CsvDialect, read_records, rerender
from ._jobs import Job, load_job, update_job, upload_path
from ._state import JobState

__all__ = [
    "CHUNK_ROWS",
    "MAX_FIELDS",
    "MAX_FIELD_CHARS",
    "MAX_HEADER_CHARS",
    "MAX_RECORD_CHARS",
    "IngestError",
    "ResultKind",
    "process_ingest",
    "result_csv",
]

CHUNK_ROWS = 200  # Salesforce runs triggers over 200 records at a time
BATCH_ROWS = 10_000  # Salesforce's internal batch: the scope of duplicate external ID checks
MAX_HEADER_CHARS = 32_000
MAX_FIELDS = 5_000
MAX_FIELD_CHARS = 32_000
MAX_RECORD_CHARS = 400_000
_RESULT_FETCH = 5000


class IngestError(Exception):
    """A job-level failure: the job fails with this message and writes nothing more."""


class ResultKind(Enum):
    SUCCESSFUL = "successfulResults"
    FAILED = "failedResults"
    UNPROCESSED = "unprocessedrecords"


@dataclass(frozen=True, slots=True)
class _Column:
    """Where a CSV column's values go: a field, or a parent found by one of its fields."""

    index: int
    field: FieldDef | None = None  # a field of the job's object
    lookup: FieldDef | None = None  # a relationship column's lookup field
    parent: ObjectDef | None = None  # the parent object it names
    parent_field: str = ""


def _not_found(name: str) -> IngestError:
    return IngestError(f"InvalidBatch : Field name not found : {name}")


def plan_columns(org: Org, obj: ObjectDef, header: list[str]) -> list[_Column]:
    """Map each header column to the object's schema; unknown names fail the job."""
    if len(header) > MAX_FIELDS:
        raise IngestError(f"InvalidBatch : The number of fields exceeds the limit of {MAX_FIELDS}")
    if sum(len(h) for h in header) + len(header) - 1 > MAX_HEADER_CHARS:
        raise IngestError(
            f"InvalidBatch : The header row exceeds the limit of {MAX_HEADER_CHARS} characters"
        )
    columns = []
    for index, name in enumerate(header):
        type_name, colon, path = name.rpartition(":")
        rel_name, dot, field_name = path.partition(".")
        if not dot:
            found = obj.field(name)
            if found is None or colon:
                raise _not_found(name)
            columns.append(_Column(index, field=found))
            continue
        lookup = obj.relationship(rel_name)
        if lookup is None or "." in field_name:
            raise _not_found(name)
        targets = {t.lower(): t for t in lookup.reference_to}
        # `Type:` is required for a polymorphic lookup and refused for any other.
        if (len(targets) > 1) != bool(colon) or (colon and type_name.lower() not in targets):
            raise _not_found(name)
        parent = org.object(type_name if colon else lookup.reference_to[0])
        if parent is None or parent.field(field_name) is None:
            raise _not_found(name)
        columns.append(_Column(index, lookup=lookup, parent=parent, parent_field=field_name))
    return columns


def error_text(err: RecordError) -> str:
    """`sf__Error`: `CODE:message:fields --`, or `CODE:message:--` without fields."""
    fields = ",".join(err.fields)
    return f"{err.status_code}:{err.message}:{fields + ' ' if fields else ''}--"


def _missing(message: str, *fields: str) -> RecordError:
    return RecordError(status_code="MISSING_ARGUMENT", message=message, fields=fields)


class _Rows:
    """Turns CSV records into `Dml` calls for one job."""

    def __init__(self, org: Org, dml: Dml, job: Job, obj: ObjectDef, header: list[str]) -> None:
        self.org = org
        self.dml = dml
        self.job = job
        self.obj = obj
        self.header = header
        self.columns = plan_columns(org, obj, header)
        self.opts = WriteOptions(
            user_id=job.created_by,
            # Bulk jobs run assignment rules only when the job names one, and then that one.
            auto_assign=job.assignment_rule_id is not None,
            assignment_rule_id=job.assignment_rule_id,
            access=access_for(org, job.created_by),
        )
        lowered = [h.lower() for h in header]
        self.id_index = lowered.index("id") if "id" in lowered else None
        self.key: FieldDef | None = None
        self.key_index: int | None = None
        if job.operation == "upsert":
            assert job.external_id_field is not None
            self.key = dml.external_id_field(obj, job.external_id_field)
            name = self.key.name.lower()
            self.key_index = lowered.index(name) if name in lowered else None
        self.seen_keys: set[str] = set()
        self.run: Callable[[list[str]], tuple[str, bool]] = {
            "insert": self._insert,
            "update": self._update,
            "upsert": self._upsert,
            "delete": self._delete,
            "hardDelete": self._hard_delete,
        }[job.operation]

    def given_id(self, record: list[str]) -> str:
        """The `Id` a row names (empty when it names none), for `sf__Id` of a failure."""
        if self.id_index is None or self.id_index >= len(record):
            return ""
        return record[self.id_index]

    def check_size(self, record: list[str]) -> None:
        for index, value in enumerate(record):
            if len(value) > MAX_FIELD_CHARS:
                name = self.header[index] if index < len(self.header) else str(index)
                raise RecordError(
                    status_code="STRING_TOO_LONG",
                    message=f"{name}: data value too large: {value[:255]} "
                    f"(max length={MAX_FIELD_CHARS})",
                    fields=(name,),
                )
        if sum(len(v) for v in record) > MAX_RECORD_CHARS:
            raise RecordError(
                status_code="STRING_TOO_LONG",
                message=f"The record exceeds the limit of {MAX_RECORD_CHARS} characters",
            )

    def body(self, record: list[str], *, skip: FieldDef | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for col in self.columns:
            text = record[col.index] if col.index < len(record) else ""
            if text == "" or (skip is not None and col.field is skip):
                continue
            value = None if text == NULL_MARKER else text
            if col.field is not None:
                body[col.field.name] = _date_value(col.field, value)
            elif value is None:
                assert col.lookup is not None
                body[col.lookup.name] = None
            else:
                assert col.lookup is not None and col.parent is not None
                body[col.lookup.name] = self._parent_id(col, value)
        return body

    def _parent_id(self, col: _Column, value: str) -> str:
        """The parent a relationship column names, found as `Dml` finds it for REST."""
        assert col.parent is not None and col.lookup is not None
        key = self.dml.external_id_field(col.parent, col.parent_field)
        matches = self.org.find_ids(col.parent, key.name, value)
        if len(matches) != 1:
            found = "not found" if not matches else "matched more than one record"
            raise RecordError(
                status_code="INVALID_FIELD",
                message=f"Foreign key external ID: {value} {found} for field {key.name} "
                f"in entity {col.parent.name}",
                fields=(col.lookup.name,),
            )
        return matches[0]

    def _required_id(self, record: list[str], operation: str) -> str:
        record_id = self.given_id(record)
        if not record_id or record_id == NULL_MARKER:
            raise _missing(f"Id not specified in an {operation} call", "Id")
        return record_id

    def _insert(self, record: list[str]) -> tuple[str, bool]:
        if self.given_id(record) not in ("", NULL_MARKER):
            raise RecordError(
                status_code="INVALID_FIELD",
                message="Record ID: cannot specify Id in an insert call",
                fields=("Id",),
            )
        body = self.body(record, skip=self.obj.field("Id"))
        return self.dml.insert(self.obj, body, self.opts), True

    def _update(self, record: list[str]) -> tuple[str, bool]:
        record_id = self._required_id(record, "update")
        self.dml.update(
            self.obj, record_id, self.body(record, skip=self.obj.field("Id")), self.opts
        )
        return self.dml.canonical_id(self.obj, record_id), False

    def _upsert(self, record: list[str]) -> tuple[str, bool]:
        assert self.key is not None
        value = "" if self.key_index is None else record[self.key_index]
        if value == NULL_MARKER:
            value = ""
        # Upserting on Id inserts the rows that name no record; other keys need a value.
        if not value and self.key.type is not FieldType.ID:
            raise _missing(f"{self.key.name} not specified", self.key.name)
        folded = value.casefold()
        if folded and folded in self.seen_keys:
            raise RecordError(
                status_code="DUPLICATE_EXTERNAL_ID",
                message=f"Duplicate external id specified: {value}",
                fields=(self.key.name,),
            )
        self.seen_keys.add(folded)
        body = self.body(record)
        try:
            result = self.dml.upsert(
                self.obj, self.key.name, value, body, self.opts, value_in_body=True
            )
        except RecordError as err:
            if err.status_code != "MULTIPLE_CHOICES":
                raise
            raise RecordError(
                status_code="DUPLICATE_EXTERNAL_ID",
                message=f"{self.key.name}: more than one record found for external id field: "
                f"{err.extra['ids']}",
                fields=(self.key.name,),
            ) from None
        return result.id, result.created

    def _delete(self, record: list[str]) -> tuple[str, bool]:
        record_id = self.dml.canonical_id(self.obj, self._required_id(record, "delete"))
        self.dml.delete(self.obj, record_id, self.opts)
        return record_id, False

    def _hard_delete(self, record: list[str]) -> tuple[str, bool]:
        record_id, _ = self._delete(record)
        # Hard delete skips the recycle bin: the row goes, once `Dml` has run the delete's rules.
        self.org.conn.execute(
            f'DELETE FROM {quote_ident(self.obj.name)} WHERE "Id" = ?', (record_id,)
        )
        return record_id, False


def _date_value(field: FieldDef, value: str | None) -> str | None:
    """Dates may carry a `Z` (the guide's sample CSV writes `1940-06-07Z`)."""
    if field.type is FieldType.DATE and value is not None and len(value) == 11:
        return value.removesuffix("Z").removesuffix("z")
    return value


def _open(path: Path) -> TextIO:
    """An upload opened so that its line endings reach the reader untranslated."""
    return open(path, encoding="utf-8-sig", newline="\n")


def _check_upload(path: Path, dialect: CsvDialect) -> list[str] | None:
    """The header, after reading the whole upload once; None when nothing was uploaded."""
    if not path.exists():
        return None
    try:
        with _open(path) as source:
            records = read_records(source, dialect)
            header = next(records, None)
            for _ in records:
                pass
    except UnicodeDecodeError as exc:
        raise IngestError(f"ClientInputError : The file is not UTF-8 ({exc.reason})") from None
    return header


def process_ingest(org: Org, dml: Dml, job: Job) -> Job | None:
    """Write the job's records, resuming at `job.next_row`; returns the job as it ends.

    Stops between chunks when the job leaves InProgress (an abort). Raises `IngestError` or
    `CsvFormatError` for a file the job must fail on.
    """
    obj = org.object(job.object)
    assert obj is not None
    path = upload_path(org, job.id)
    started = time.perf_counter()
    header = _check_upload(path, job.dialect)
    if header is None:
        return job
    rows = _Rows(org, dml, job, obj, header)
    processed, failed, row = job.processed, job.failed, job.next_row
    active_ms = job.active_ms
    with _open(path) as source:
        records = read_records(source, job.dialect)
        next(records)
        pending = islice(records, row, None)
        while chunk := list(islice(pending, CHUNK_ROWS)):
            chunk_started = time.perf_counter()
            with org.transaction():
                current = load_job(org, job.id, job.job_type)
                if current is None or current.state is not JobState.IN_PROGRESS:
                    return current
                results: list[tuple[str, int, str, int, str | None]] = []
                for record in chunk:
                    if row % BATCH_ROWS == 0:
                        rows.seen_keys.clear()
                    try:
                        with org.transaction():
                            rows.check_size(record)
                            record_id, created = rows.run(record)
                        results.append((job.id, row, record_id, int(created), None))
                    except RecordError as err:
                        failed += 1
                        results.append((job.id, row, rows.given_id(record), 0, error_text(err)))
                    row += 1
                processed += len(chunk)
                org.conn.executemany("INSERT INTO _lf_bulk_results VALUES (?, ?, ?, ?, ?)", results)
                active_ms += int((time.perf_counter() - chunk_started) * 1000)
                update_job(
                    org, job.id, processed=processed, failed=failed, next_row=row,
                    active_ms=active_ms,
                    processing_ms=job.processing_ms + int((time.perf_counter() - started) * 1000),
                )  # fmt: skip
            # Let requests waiting for the org's lock run between chunks.
            time.sleep(0)
    return load_job(org, job.id, job.job_type)


# -- result files -------------------------------------------------------------------------


def _tolerant_records(path: Path, dialect: CsvDialect) -> Iterator[list[str]]:
    """An upload's records read leniently, so even a refused file's rows can be listed."""
    if not path.exists():
        return
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as source:
        reader = csv.reader(source, delimiter=dialect.delimiter)
        try:
            yield from (r for r in reader if r)
        except csv.Error:
            return


def _outcomes(org: Org, job_id: str) -> Iterator[tuple[int, str | None, int, str | None]]:
    """The job's per-row results in row order, read a slice at a time."""
    after = -1
    while True:
        with org.lock:
            chunk = org.conn.execute(
                "SELECT row, record_id, created, error FROM _lf_bulk_results "
                "WHERE job = ? AND row > ? ORDER BY row LIMIT ?",
                (job_id, after, _RESULT_FETCH),
            ).fetchall()
        if not chunk:
            return
        yield from chunk
        after = chunk[-1][0]


def result_csv(org: Org, job: Job, kind: ResultKind, *, with_failed_id: bool) -> bytes:
    """A result file: `sf__Id`/`sf__Created` or `sf__Id`/`sf__Error`, then the row as sent."""
    dialect = job.dialect
    records = _tolerant_records(upload_path(org, job.id), dialect)
    header = next(records, [])
    quoted = {
        ResultKind.SUCCESSFUL: ["sf__Id", "sf__Created"],
        ResultKind.FAILED: ["sf__Id", "sf__Error"] if with_failed_id else ["sf__Error"],
        ResultKind.UNPROCESSED: [],
    }[kind]
    out = io.StringIO()
    out.write(dialect.header(quoted, header))
    writer = dialect.writer(out)
    width = len(header)

    def padded(record: list[str]) -> list[str]:
        return (record + [""] * (width - len(record)))[:width]

    if kind is ResultKind.UNPROCESSED:
        writer.writerows(padded(r) for r in islice(records, job.next_row, None))
        return out.getvalue().encode()
    obj = org.object(job.object)
    fields = [obj.field(h) if obj is not None else None for h in header]
    for (_, record_id, created, error), record in zip(
        _outcomes(org, job.id), records, strict=False
    ):
        if kind is ResultKind.SUCCESSFUL and error is None:
            values = [rerender(f, v) for f, v in zip(fields, padded(record), strict=True)]
            writer.writerow([record_id or "", "true" if created else "false", *values])
        elif kind is ResultKind.FAILED and error is not None:
            prefix = [record_id or "", error] if with_failed_id else [error]
            writer.writerow([*prefix, *padded(record)])
    return out.getvalue().encode()
