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
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import quote as url_quote

import httpx

from hearth.errors import InvalidInputError

from .auth import TokenKeeper, Tokens, TokenStore
from .errors import (
    BulkJobFailed,
    SalesforceError,
    TransportFailure,
    error_from_response,
    record_error,
)
from .soql import identifier
from .versions import API_VERSION

__all__ = [
    "COLLECTION_SIZE",
    "DEFAULT_RETRY",
    "RetryPolicy",
    "SalesforceClient",
    "SaveResult",
    "UpsertResult",
    "UsageMeter",
]

# sObject Collections take at most 200 records a call.
COLLECTION_SIZE = 200

# A Bulk job takes seconds to minutes: poll from 1 s, doubling up to 30 s between polls.
_BULK_POLL = (1.0, 30.0)
_BULK_DONE = "JobComplete"
_BULK_FAILED = frozenset({"Failed", "Aborted"})

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

    # -- the one request path ---------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send `path` (below the versioned base, or absolute from `/services`), retrying.

        Raises the `SalesforceError` of the last attempt.
        """
        url_path = path if path.startswith("/services/") else self._base + path
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
                    headers={"Authorization": f"Bearer {tokens.access_token}", **(headers or {})},
                )
            except httpx.TransportError as exc:
                failure = TransportFailure(f"{method} {url_path}: {exc!r}")
                if method not in _IDEMPOTENT or attempt + 1 >= self._retry.attempts:
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
                    or (unsafe and method not in _IDEMPOTENT)
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
        while True:
            for record in body["records"]:
                yield record
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return
            # nextRecordsUrl is instance-relative and opaque: used verbatim.
            body = await self._json("GET", next_url)

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
        cached = self._described.get(name)
        headers: dict[str, str] = {}
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        response = await self._request("GET", f"/sobjects/{name}/describe", headers=headers)
        if response.status_code == 304 and cached is not None:
            return cached.body
        body: Json = response.json()
        self._described[name] = _Described(
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            body=body,
        )
        return body

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

    # -- Bulk API 2.0 -----------------------------------------------------------------------

    async def bulk_query(self, soql: str, *, page_size: int | None = None) -> AsyncIterator[Json]:
        """Every row of a Bulk 2.0 query job, as CSV text values (empty string for null).

        Creates the job, polls it with backoff, then streams result pages by `Sforce-Locator`.
        Raises `BulkJobFailed` if the job fails or is aborted.
        """
        job = await self._json("POST", "/jobs/query", json={"operation": "query", "query": soql})
        path = f"/jobs/query/{url_quote(str(job['id']), safe='')}"
        delay, cap = _BULK_POLL
        while job["state"] != _BULK_DONE:
            if job["state"] in _BULK_FAILED:
                raise BulkJobFailed(str(job.get("errorMessage") or job["state"]))
            await self._sleep(delay)
            delay = min(cap, delay * 2)
            job = await self._json("GET", path)
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
