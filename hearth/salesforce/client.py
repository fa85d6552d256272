"""`SalesforceClient`: the REST API of one connected org, over one `httpx.AsyncClient`.

The client decides nothing about records: it sends, retries what is safe to retry, refreshes an
expired session once, meters API usage and translates every failure into `SalesforceError`.
It takes `instance_url` from the tokens, so it talks unchanged to a real org or to localforce.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, Self
from urllib.parse import quote as url_quote
from urllib.parse import urlencode

import httpx

from hearth.errors import InvalidInputError

from .auth import TokenKeeper, Tokens, TokenStore
from .errors import (
    BulkJobFailed,
    NotFound,
    SalesforceError,
    TransportFailure,
    UnexpectedResponse,
    error_from_response,
    record_error,
)
from .soql import identifier
from .versions import API_VERSION

__all__ = [
    "BULK_NULL",
    "COLLECTION_SIZE",
    "COMPOSITE_SIZE",
    "DEFAULT_RETRY",
    "BulkIngestResult",
    "BulkOperation",
    "BulkRowResult",
    "RetryPolicy",
    "SalesforceClient",
    "SaveResult",
    "SubRequest",
    "SubResponse",
    "UpsertResult",
    "UsageMeter",
    "bulk_csv",
]

# sObject Collections take at most 200 records a call.
COLLECTION_SIZE = 200

# /composite and /composite/batch take at most 25 subrequests; /composite at most five of
# them queries or sObject Collections.
COMPOSITE_SIZE = 25
COMPOSITE_QUERIES = 5
# Composite reference IDs: letters, digits and underscores, starting with a letter or digit.
_REFERENCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]*")

# A Bulk job takes seconds to minutes: poll from 1 s, doubling up to 30 s between polls.
_BULK_POLL = (1.0, 30.0)
_BULK_DONE = "JobComplete"
_BULK_FAILED = frozenset({"Failed", "Aborted"})
# Bulk CSV: `#N/A` sets a field to null; an empty value leaves it as it is.
BULK_NULL = "#N/A"
# Salesforce takes 150 MB a job after base64 (about 112 MB raw); stay clear of the edge.
_BULK_MAX_BYTES = 100_000_000

# A dropped connection may have lost the answer after the write committed: only methods whose
# replay cannot duplicate a record are retried then. Refusals (row lock, concurrency limit) and
# front-door 503s never reached the data, so they are retried whatever the method.
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})

Sleep = Callable[[float], Awaitable[None]]
Json = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Jittered exponential backoff: attempt n waits uniform(0, min(max_delay, base·2ⁿ))."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, jitter: float) -> float:
        """The wait before retry number `attempt` (0-based), for `jitter` in [0, 1)."""
        return jitter * min(self.max_delay, self.base_delay * 2.0**attempt)


DEFAULT_RETRY = RetryPolicy()


@dataclass
class UsageMeter:
    """The org's daily API usage, as last reported in a `Sforce-Limit-Info` header."""

    used: int | None = None
    max: int | None = None
    updated_at: datetime | None = None

    def observe(self, header: str, now: datetime) -> None:
        """Read `api-usage=44/15000[; per-app-api-usage=...]`; other parts are ignored."""
        for part in header.split(";"):
            name, _, value = part.strip().partition("=")
            used, slash, limit = value.partition("/")
            if name == "api-usage" and slash and used.isdigit() and limit.isdigit():
                self.used, self.max, self.updated_at = int(used), int(limit), now


@dataclass(frozen=True, kw_only=True)
class SaveResult:
    """One record's outcome in a collections call; `errors` hold typed, per-record errors."""

    id: str | None
    success: bool
    errors: tuple[SalesforceError, ...] = ()
    created: bool | None = None


@dataclass(frozen=True, kw_only=True)
class UpsertResult:
    id: str
    created: bool


BulkOperation = Literal["insert", "update", "upsert", "delete"]


@dataclass(frozen=True, kw_only=True)
class BulkRowResult:
    """One row of a Bulk ingest job's result files.

    `record` is the row as uploaded (column → CSV text; Salesforce re-renders numbers in
    successful rows, e.g. ``9.12260031E8``). `processed` is False for rows the job never reached
    (it failed or was aborted); those have no id and no error.
    """

    id: str | None
    success: bool
    record: Mapping[str, str]
    created: bool | None = None
    error: SalesforceError | None = None
    processed: bool = True


@dataclass(frozen=True, kw_only=True)
class BulkIngestResult:
    """A finished Bulk API 2.0 ingest job: its final state and every row's outcome.

    `state` is JobComplete, Failed or Aborted; a Failed job says why in `error_message` and
    lists the rows it never reached in `unprocessed`.
    """

    job_id: str
    state: str
    error_message: str | None
    processed: int
    failed: int
    successful: tuple[BulkRowResult, ...]
    failures: tuple[BulkRowResult, ...]
    unprocessed: tuple[BulkRowResult, ...]

    @property
    def rows(self) -> tuple[BulkRowResult, ...]:
        return self.successful + self.failures + self.unprocessed


@dataclass(frozen=True, kw_only=True)
class SubRequest:
    """One subrequest of `/composite` or `/composite/batch`.

    `path` is below the versioned base (``/sobjects/Account``, ``/query?q=...``) and may hold
    ``@{ref.field}`` references to earlier subresponses (composite only), as may `body`.
    """

    method: str
    path: str
    reference_id: str = ""
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SubResponse:
    """One subresponse; `error` is the typed error of a failed one (status 400 or more)."""

    reference_id: str
    status_code: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    error: SalesforceError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _sub_response(reference_id: str, status: int, body: Any, headers: Any) -> SubResponse:
    error = None
    if status >= 400:
        # The same translation as a direct call's answer: subresponses speak REST's dialect.
        error = error_from_response(httpx.Response(status, json=body))
    return SubResponse(
        reference_id=reference_id,
        status_code=status,
        body=body,
        headers=dict(headers or {}),
        error=error,
    )


def _check_subrequests(subrequests: Sequence[SubRequest], *, references: bool) -> None:
    if not 1 <= len(subrequests) <= COMPOSITE_SIZE:
        raise InvalidInputError(f"a composite request takes 1 to {COMPOSITE_SIZE} subrequests")
    if references:
        ids = [sub.reference_id for sub in subrequests]
        bad = [ref for ref in ids if not _REFERENCE_ID.fullmatch(ref)]
        if bad or len(set(ids)) != len(ids):
            raise InvalidInputError(f"reference IDs must be unique identifiers: {ids!r}")


def _bulk_value(value: Any) -> str:
    """A JSON-like value as Bulk CSV text: None sets null, as REST's null does."""
    if value is None:
        return BULK_NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def bulk_csv(records: Iterable[Mapping[str, Any]]) -> bytes:
    """Records as a Bulk ingest upload (comma-delimited, LF, UTF-8).

    Columns are every key of every record, in first-seen order. A key a record lacks is an
    empty value (the field is left as it is); None is ``#N/A`` (the field is set to null).
    Values holding commas, quotes or line breaks are quoted, with quotes doubled.
    """
    rows = [dict(r) for r in records]
    columns = list(dict.fromkeys(name for row in rows for name in row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(
        [_bulk_value(row[name]) if name in row else "" for name in columns] for row in rows
    )
    return out.getvalue().encode()


def _bulk_error(text: str) -> SalesforceError:
    """`sf__Error`: ``CODE:message:Field1,Field2 --`` or ``CODE:message:--``."""
    code, _, rest = text.partition(":")
    message, _, fields = rest.removesuffix("--").rstrip().rpartition(":")
    return record_error(
        {"statusCode": code, "message": message, "fields": [f for f in fields.split(",") if f]},
        status_code=None,
    )


def _bulk_rows(text: str, kind: str) -> tuple[BulkRowResult, ...]:
    results = []
    for row in csv.DictReader(io.StringIO(text)):
        record_id = row.pop("sf__Id", "") or None
        if kind == "successfulResults":
            created = row.pop("sf__Created", "") == "true"
            results.append(BulkRowResult(id=record_id, success=True, created=created, record=row))
        elif kind == "failedResults":
            error = _bulk_error(row.pop("sf__Error", ""))
            results.append(BulkRowResult(id=record_id, success=False, error=error, record=row))
        else:
            results.append(BulkRowResult(id=None, success=False, processed=False, record=row))
    return tuple(results)


@dataclass
class _Described:
    etag: str | None
    last_modified: str | None
    body: Json = field(repr=False)


def _save_result(item: Mapping[str, Any]) -> SaveResult:
    return SaveResult(
        id=item.get("id"),
        success=bool(item.get("success")),
        errors=tuple(record_error(e, status_code=None) for e in item.get("errors") or []),
        created=item.get("created"),
    )


class SalesforceClient:
    """The REST API of one org for one connection (use as `async with`)."""

    def __init__(
        self,
        tokens: Tokens,
        *,
        token_store: TokenStore,
        client_id: str,
        client_secret: str,
        login_url: str,
        api_version: str = API_VERSION,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        timeout: float = 120.0,
    ) -> None:
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout)
        self._keeper = TokenKeeper(
            tokens,
            store=token_store,
            http=self._http,
            login_url=login_url,
            client_id=client_id,
            client_secret=client_secret,
        )
        self._base = f"/services/data/v{api_version}"
        self._retry = retry
        self._sleep = sleep
        self._jitter = jitter
        self._described: dict[str, _Described] = {}
        self.usage = UsageMeter()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def tokens(self) -> Tokens:
        """The connection's current tokens (they change when a refresh happens)."""
        return self._keeper.tokens

    @property
    def user_id(self) -> str:
        """The connected user's Id: the identity URL ends with it, so it costs no call."""
        return self._keeper.tokens.id_url.rstrip("/").rpartition("/")[2]

    # -- the one request path ---------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        replayable: bool | None = None,
    ) -> httpx.Response:
        """Send `path` (below the versioned base, or absolute from `/services`), retrying.

        `replayable` overrides the method's rule for answers that may have been lost after the
        write committed. Raises the `SalesforceError` of the last attempt.
        """
        url_path = path if path.startswith("/services/") else self._base + path
        idempotent = method in _IDEMPOTENT if replayable is None else replayable
        attempt = 0
        replayed = False
        while True:
            tokens = self._keeper.tokens
            try:
                response = await self._http.request(
                    method,
                    tokens.instance_url + url_path,
                    params=params,
                    json=json,
                    content=content,
                    headers={"Authorization": f"Bearer {tokens.access_token}", **(headers or {})},
                )
            except httpx.TransportError as exc:
                failure = TransportFailure(f"{method} {url_path}: {exc!r}")
                if not idempotent or attempt + 1 >= self._retry.attempts:
                    raise failure from exc
            else:
                limit_info = response.headers.get("sforce-limit-info")
                if limit_info:
                    self.usage.observe(limit_info, datetime.now(UTC))
                if response.status_code < 300 or response.status_code == 304:
                    return response
                error = error_from_response(response)
                if error.error_code == "INVALID_SESSION_ID" and not replayed:
                    # Refresh once and replay once; a second 401 is AuthExpired.
                    replayed = True
                    await self._keeper.refreshed_after(tokens.access_token)
                    continue
                # A 5xx other than the front door's 503 may come after the write committed:
                # the same rule as a dropped answer.
                unsafe = response.status_code in range(500, 600) and response.status_code != 503
                if (
                    not error.retryable
                    or (unsafe and not idempotent)
                    or attempt + 1 >= self._retry.attempts
                ):
                    raise error
            await self._sleep(self._retry.delay(attempt, self._jitter()))
            attempt += 1

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._request(method, path, **kwargs)
        return response.json() if response.content else None

    # -- records ----------------------------------------------------------------------------

    async def get_record(
        self, sobject: str, record_id: str, fields: Sequence[str] | None = None
    ) -> Json:
        params = {"fields": ",".join(map(identifier, fields))} if fields else None
        body: Json = await self._json(
            "GET", f"/sobjects/{identifier(sobject)}/{url_quote(record_id, safe='')}", params=params
        )
        return body

    async def create(self, sobject: str, fields: Mapping[str, Any]) -> str:
        """Insert one record; returns its id."""
        body = await self._json("POST", f"/sobjects/{identifier(sobject)}", json=dict(fields))
        return str(body["id"])

    async def update(self, sobject: str, record_id: str, fields: Mapping[str, Any]) -> None:
        await self._request(
            "PATCH",
            f"/sobjects/{identifier(sobject)}/{url_quote(record_id, safe='')}",
            json=dict(fields),
        )

    async def upsert(
        self, sobject: str, external_id_field: str, value: str, fields: Mapping[str, Any]
    ) -> UpsertResult:
        """Insert or update by external ID: a replay cannot duplicate the record."""
        path = (
            f"/sobjects/{identifier(sobject)}/{identifier(external_id_field)}/"
            f"{url_quote(value, safe='')}"
        )
        body = await self._json("PATCH", path, json=dict(fields))
        return UpsertResult(id=str(body["id"]), created=bool(body["created"]))

    async def delete(self, sobject: str, record_id: str) -> None:
        await self._request(
            "DELETE", f"/sobjects/{identifier(sobject)}/{url_quote(record_id, safe='')}"
        )

    # -- SOQL -------------------------------------------------------------------------------

    async def _pages(self, resource: str, soql: str) -> AsyncIterator[Json]:
        body: Json = await self._json("GET", resource, params={"q": soql})
        async for record in self.records_from(body):
            yield record

    async def records_from(self, page: Json) -> AsyncIterator[Json]:
        """The records of the query answer `page`, then of every page after it."""
        while True:
            for record in page["records"]:
                yield record
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            # nextRecordsUrl is instance-relative and opaque: used verbatim.
            page = await self._json("GET", next_url)

    async def first_pages(self, queries: Sequence[tuple[str, bool]]) -> list[Json]:
        """The first page of each `(soql, include_deleted)` query, up to five to a call.

        One `/composite` call counts once against the daily limit however many queries it
        holds (Salesforce allows five query subrequests in one); follow each page with
        `records_from`. `include_deleted` runs it as `queryAll`.
        """
        pages: list[Json] = []
        for start in range(0, len(queries), COMPOSITE_QUERIES):
            chunk = queries[start : start + COMPOSITE_QUERIES]
            answers = await self.composite(
                [
                    SubRequest(
                        method="GET",
                        path=("/queryAll" if deleted else "/query") + "?" + urlencode({"q": soql}),
                        reference_id=f"q{start + index}",
                    )
                    for index, (soql, deleted) in enumerate(chunk)
                ]
            )
            for answer in answers:
                if answer.error is not None:
                    raise answer.error
                pages.append(answer.body)
        return pages

    def query(self, soql: str) -> AsyncIterator[Json]:
        """Every record `soql` selects, page by page (build it with `soql.quote`)."""
        return self._pages("/query", soql)

    def query_all(self, soql: str) -> AsyncIterator[Json]:
        """As `query`, including deleted and archived records (`/queryAll`)."""
        return self._pages("/queryAll", soql)

    def tooling_query(self, soql: str) -> AsyncIterator[Json]:
        """A query against the Tooling API's objects (CustomField, ...)."""
        return self._pages("/tooling/query", soql)

    # -- sObject Collections ----------------------------------------------------------------

    async def _collections(
        self,
        method: str,
        path: str,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        all_or_none: bool,
    ) -> list[SaveResult]:
        typed = [{"attributes": {"type": identifier(sobject)}, **r} for r in records]
        results: list[SaveResult] = []
        for start in range(0, len(typed), COLLECTION_SIZE):
            chunk = typed[start : start + COLLECTION_SIZE]
            body = await self._json(method, path, json={"allOrNone": all_or_none, "records": chunk})
            results += [_save_result(item) for item in body]
        return results

    async def collections_create(
        self, sobject: str, records: Sequence[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> list[SaveResult]:
        """Insert records, 200 a call; one result per record, in order."""
        return await self._collections("POST", "/composite/sobjects", sobject, records, all_or_none)

    async def collections_update(
        self, sobject: str, records: Sequence[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> list[SaveResult]:
        """Update records (each with its `Id`), 200 a call."""
        return await self._collections(
            "PATCH", "/composite/sobjects", sobject, records, all_or_none
        )

    async def collections_upsert(
        self,
        sobject: str,
        external_id_field: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
    ) -> list[SaveResult]:
        """Upsert records on an external ID field, 200 a call; `created` says which were new."""
        path = f"/composite/sobjects/{identifier(sobject)}/{identifier(external_id_field)}"
        return await self._collections("PATCH", path, sobject, records, all_or_none)

    # -- metadata ---------------------------------------------------------------------------

    async def describe(self, sobject: str) -> Json:
        """The object's describe; asked again conditionally, so an unchanged schema costs a 304."""
        name = identifier(sobject)
        response = await self._request(
            "GET", f"/sobjects/{name}/describe", headers=self._conditional(name)
        )
        body = None if response.status_code == 304 else response.json()
        return self._remember(name, response.status_code, response.headers, body)

    def _conditional(self, name: str) -> dict[str, str]:
        """The headers that turn an unchanged describe of `name` into a bodiless 304."""
        cached = self._described.get(name)
        headers: dict[str, str] = {}
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        return headers

    def _remember(
        self, name: str, status: int, headers: Mapping[str, str], body: Json | None
    ) -> Json:
        """The describe of `name` from an answer: the cached body on 304, else `body`, cached."""
        cached = self._described.get(name)
        if status == 304 and cached is not None:
            return cached.body
        if body is None:
            raise UnexpectedResponse(f"describe of {name}: HTTP {status} without a body")
        # httpx headers are case-insensitive; a composite subresponse's are a plain dict.
        lower = {key.lower(): value for key, value in headers.items()}
        self._described[name] = _Described(
            etag=lower.get("etag"), last_modified=lower.get("last-modified"), body=body
        )
        return body

    async def describe_many(self, sobjects: Sequence[str]) -> dict[str, Json]:
        """Several describes in one call per 25 objects (`/composite`), sharing `describe`'s
        conditional cache. Objects the user cannot see (NOT_FOUND) are left out; any other
        failure raises its typed error."""
        names = list(dict.fromkeys(identifier(name) for name in sobjects))
        found: dict[str, Json] = {}
        for start in range(0, len(names), COMPOSITE_SIZE):
            chunk = names[start : start + COMPOSITE_SIZE]
            answers = await self.composite(
                [
                    SubRequest(
                        method="GET",
                        path=f"/sobjects/{name}/describe",
                        reference_id=name,
                        headers=self._conditional(name),
                    )
                    for name in chunk
                ]
            )
            for name, answer in zip(chunk, answers, strict=True):
                if isinstance(answer.error, NotFound):
                    continue
                if answer.error is not None:
                    raise answer.error
                found[name] = self._remember(name, answer.status_code, answer.headers, answer.body)
        return found

    async def describe_global(self) -> Json:
        body: Json = await self._json("GET", "/sobjects")
        return body

    async def limits(self) -> Json:
        body: Json = await self._json("GET", "/limits")
        return body

    async def create_custom_field(self, full_name: str, metadata: Mapping[str, Any]) -> str:
        """Create one custom field through the Tooling API; returns the CustomField id.

        The field is invisible to every profile until field-level security is granted.
        """
        obj, dot, field_name = full_name.partition(".")
        if not dot:
            raise InvalidInputError(f"full_name must be Object.Field__c, not {full_name!r}")
        identifier(obj)
        identifier(field_name)
        body = await self._json(
            "POST",
            "/tooling/sobjects/CustomField",
            json={"FullName": full_name, "Metadata": dict(metadata)},
        )
        # The schema changed: describes cached before it are stale.
        self._described.pop(obj, None)
        return str(body["id"])

    # -- composite --------------------------------------------------------------------------

    async def composite(
        self, subrequests: Sequence[SubRequest], *, all_or_none: bool = False
    ) -> list[SubResponse]:
        """Up to 25 subrequests in one call (`/composite`), in order, one subresponse each.

        Later subrequests may use ``@{referenceId.field}`` of earlier answers. With
        `all_or_none`, one failure rolls every subrequest back; the others then answer
        PROCESSING_HALTED. Failed subrequests carry a typed `error`; the call itself raises only
        when the whole request is refused.
        """
        _check_subrequests(subrequests, references=True)
        envelope = {
            "allOrNone": all_or_none,
            "compositeRequest": [
                {
                    "method": sub.method,
                    "url": self._base + sub.path,
                    "referenceId": sub.reference_id,
                    **({"body": sub.body} if sub.body is not None else {}),
                    **({"httpHeaders": dict(sub.headers)} if sub.headers else {}),
                }
                for sub in subrequests
            ],
        }
        # A lost answer may hide committed writes: replay only what cannot write.
        reads_only = all(sub.method == "GET" for sub in subrequests)
        body = await self._json("POST", "/composite", json=envelope, replayable=reads_only)
        return [
            _sub_response(
                str(item.get("referenceId") or ""),
                int(item["httpStatusCode"]),
                item.get("body"),
                item.get("httpHeaders"),
            )
            for item in body["compositeResponse"]
        ]

    async def composite_batch(
        self, subrequests: Sequence[SubRequest], *, halt_on_error: bool = False
    ) -> list[SubResponse]:
        """Up to 25 independent subrequests (`/composite/batch`), each its own transaction.

        Each subrequest that runs counts as one API call; it saves round trips, not allowance.
        With `halt_on_error`, those after the first failure answer BATCH_PROCESSING_HALTED.
        """
        _check_subrequests(subrequests, references=False)
        version = self._base.removeprefix("/services/data/")
        envelope = {
            "haltOnError": halt_on_error,
            "batchRequests": [
                {
                    "method": sub.method,
                    "url": version + sub.path,
                    **({"richInput": sub.body} if sub.body is not None else {}),
                }
                for sub in subrequests
            ],
        }
        reads_only = all(sub.method == "GET" for sub in subrequests)
        body = await self._json("POST", "/composite/batch", json=envelope, replayable=reads_only)
        return [
            _sub_response(sub.reference_id, int(item["statusCode"]), item.get("result"), None)
            for sub, item in zip(subrequests, body["results"], strict=True)
        ]

    # -- Bulk API 2.0 -----------------------------------------------------------------------

    async def _finished_job(self, path: str, job: Json) -> Json:
        """Poll the job at `path` with backoff until JobComplete, Failed or Aborted."""
        delay, cap = _BULK_POLL
        while job["state"] != _BULK_DONE and job["state"] not in _BULK_FAILED:
            await self._sleep(delay)
            delay = min(cap, delay * 2)
            job = await self._json("GET", path)
        return job

    async def bulk_ingest(
        self,
        sobject: str,
        operation: BulkOperation,
        records: Iterable[Mapping[str, Any]],
        *,
        external_id_field: str | None = None,
    ) -> BulkIngestResult:
        """Load records through one Bulk API 2.0 ingest job and wait for it to finish.

        Creates the job, uploads the CSV (`bulk_csv`), closes it, polls with backoff, then reads
        the successful, failed and unprocessed rows. `upsert` needs `external_id_field`;
        `update` and `delete` need each record's `Id`. About 100 MB of CSV at most per call.
        """
        if (operation == "upsert") != (external_id_field is not None):
            raise InvalidInputError("external_id_field goes with upsert, and only with upsert")
        data = bulk_csv(records)
        if len(data) > _BULK_MAX_BYTES:
            raise InvalidInputError(f"{len(data)} bytes of CSV: split it into smaller jobs")
        spec: Json = {
            "object": identifier(sobject),
            "operation": operation,
            "contentType": "CSV",
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
        }
        if external_id_field is not None:
            spec["externalIdFieldName"] = identifier(external_id_field)
        job = await self._json("POST", "/jobs/ingest", json=spec)
        path = f"/jobs/ingest/{url_quote(str(job['id']), safe='')}"
        # A second upload is appended to the first: never replay one whose answer was lost.
        await self._request(
            "PUT",
            path + "/batches",
            content=data,
            headers={"Content-Type": "text/csv"},
            replayable=False,
        )
        job = await self._json("PATCH", path, json={"state": "UploadComplete"})
        job = await self._finished_job(path, job)
        files = {}
        for kind in ("successfulResults", "failedResults", "unprocessedrecords"):
            response = await self._request("GET", f"{path}/{kind}", headers={"Accept": "text/csv"})
            files[kind] = _bulk_rows(response.text, kind)
        return BulkIngestResult(
            job_id=str(job["id"]),
            state=str(job["state"]),
            error_message=job.get("errorMessage") or None,
            processed=int(job.get("numberRecordsProcessed") or 0),
            failed=int(job.get("numberRecordsFailed") or 0),
            successful=files["successfulResults"],
            failures=files["failedResults"],
            unprocessed=files["unprocessedrecords"],
        )

    async def bulk_query(self, soql: str, *, page_size: int | None = None) -> AsyncIterator[Json]:
        """Every row of a Bulk 2.0 query job, as CSV text values (empty string for null).

        Creates the job, polls it with backoff, then streams result pages by `Sforce-Locator`.
        Raises `BulkJobFailed` if the job fails or is aborted.
        """
        job = await self._json("POST", "/jobs/query", json={"operation": "query", "query": soql})
        path = f"/jobs/query/{url_quote(str(job['id']), safe='')}"
        job = await self._finished_job(path, job)
        if job["state"] in _BULK_FAILED:
            raise BulkJobFailed(str(job.get("errorMessage") or job["state"]))
        locator = ""
        while True:
            params = {"locator": locator} if locator else {}
            if page_size is not None:
                params["maxRecords"] = str(page_size)
            response = await self._request("GET", path + "/results", params=params)
            for row in csv.DictReader(io.StringIO(response.text)):
                yield row
            locator = response.headers.get("sforce-locator", "null")
            # The last page says `null` (the string) rather than leaving the header out.
            if locator in ("", "null"):
                return
