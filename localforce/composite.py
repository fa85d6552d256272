"""Composite resources: `/composite` (dependent subrequests, one transaction) and `/composite/batch`
(independent subrequests).

A subrequest is matched against the same route table as a direct call (`req.dispatcher`) and runs
the same handler on a derived `ApiRequest` (same org, session and writer), so it behaves exactly
as the call it stands for; an error becomes its subresponse through the pipeline's own
`error_as_response`. The envelope is checked as a whole before anything runs: a malformed one is
a top-level 400 with no subrequest executed.

`/composite` runs every subrequest in a savepoint of one transaction. A subrequest's URL and body
may hold `@{referenceId.field}` / `@{referenceId.records[0].Id}` references to the JSON bodies of
earlier subresponses. With `allOrNone` the first failure rolls the transaction back and every
other subrequest reports PROCESSING_HALTED; without it a failure skips only the subrequests that
reference it. The whole request is one API call.

`/composite/batch` runs each subrequest in its own transaction, with no references, and counts
each executed subrequest as one API call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from . import limits
from .api import ApiRequest, ApiResponse, error_as_response, json_response
from .dispatch import ApiRoute, Dispatcher
from .errors import ApiError, RecordError
from .rest import method_not_allowed, not_found
from .versions import is_supported, major

__all__ = ["MAX_SUBREQUESTS", "ROUTES", "batch_handler", "composite_handler"]

MAX_SUBREQUESTS = 25
MAX_COLLECTIONS_AND_QUERIES = 5
BATCH_OLDEST = 34
# From this version a referenceId with other characters fails the whole request, and a
# reference to a null field substitutes null instead of failing its subrequest.
STRICT_REFERENCES_SINCE = 52
_BATCH_NAME = "compositeBatch"
_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})
# Subrequests inherit these from the top-level request and may not set them themselves.
_INHERITED_HEADERS = ("accept", "authorization", "content-type")

# Route names (see `CORE_ROUTES` and `changes.ROUTES`) each resource accepts as subrequests:
# composite takes sObject resources, query and sObject Collections; batch takes limits, sObject
# resources and query.
_SOBJECT_ROUTES = frozenset(
    {"describeGlobal", "describe", "sobject", "externalId", "record", "getUpdated", "getDeleted"}
)
_QUERY_ROUTES = frozenset({"query", "queryAll", "queryMore"})
_COLLECTION_ROUTES = frozenset({"collections"})
_COMPOSITE_TARGETS = _SOBJECT_ROUTES | _QUERY_ROUTES | _COLLECTION_ROUTES
_BATCH_TARGETS = _SOBJECT_ROUTES | _QUERY_ROUTES | {"limits"}

_REFERENCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]*")
_REFERENCE = re.compile(r"@\{([^{}]*)\}")
_REFERENCE_HEAD = re.compile(r"[A-Za-z0-9_]+")
_REFERENCE_STEP = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")
_COMPOSITE_URL = re.compile(r"/services/data/v\d+\.\d+(?:[/?].*)?", re.DOTALL)
_BATCH_URL = re.compile(r"v(\d+\.\d+)(?:[/?].*)?", re.DOTALL)

_ROLLED_BACK = error_as_response(
    ApiError(
        status=400,
        error_code="PROCESSING_HALTED",
        message="The transaction was rolled back since another operation in the same "
        "transaction failed.",
    )
)
_BATCH_HALTED = error_as_response(
    ApiError(
        status=412,
        error_code="BATCH_PROCESSING_HALTED",
        message="Batch processing halted per request",
    )
)


class _Rollback(Exception):
    """Raised to roll the composite transaction back after its first failure."""


class _BadReference(Exception):
    """A reference that names no value: an unknown or failed subrequest, or a missing field."""

    def __init__(self, expression: str) -> None:
        head = _REFERENCE_HEAD.match(expression)
        super().__init__(
            f"Invalid reference specified. No value for {expression} found in "
            f"{head.group(0) if head else expression}. Provided referenceId ('{expression}') "
            "must start with a letter or a number, and it can contain only letters, numbers and "
            "underscores ('_')."
        )


def _malformed(message: str) -> ApiError:
    """An envelope that cannot be read: Salesforce rejects it before running anything."""
    return ApiError(status=400, error_code="JSON_PARSER_ERROR", message=message)


def _too_many(message: str) -> ApiError:
    return ApiError(status=400, error_code="LIMIT_EXCEEDED", message=message)


def _dispatcher(req: ApiRequest) -> Dispatcher:
    if req.dispatcher is None:
        raise RuntimeError("composite resources need the route table (ApiRequest.dispatcher)")
    return req.dispatcher


def _flag(data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise _malformed(f"'{name}' must be a boolean")
    return value


def _required_text(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    if value is None:
        raise _malformed(f"'{name}' is a required field.")
    if not isinstance(value, str):
        raise _malformed(f"'{name}' must be a string")
    return value


def _method(item: Mapping[str, Any]) -> str:
    method = _required_text(item, "method")
    if method not in _METHODS:  # case-sensitive, as Salesforce reads it
        raise _malformed(
            f"Invalid HTTP method: '{method}'. Use one of DELETE, GET, PATCH, POST, PUT"
        )
    return method


def _items(data: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    items = data.get(name)
    if not isinstance(items, list) or not items:
        raise _malformed(f"'{name}' is a required field.")
    if len(items) > MAX_SUBREQUESTS:
        raise _too_many(
            f"A request can contain at most {MAX_SUBREQUESTS} subrequests; it has {len(items)}"
        )
    if not all(isinstance(item, dict) for item in items):
        raise _malformed(f"Each entry of '{name}' must be a JSON object")
    return items


def _dispatch(
    req: ApiRequest,
    dispatcher: Dispatcher,
    targets: Collection[str],
    method: str,
    url: str,
    body: Any,
    headers: Mapping[str, str],
) -> ApiResponse:
    """Run one subrequest, in a savepoint, through the handler of the route its URL matches."""
    split = urlsplit(url)
    found = dispatcher.match(unquote(split.path))
    if found is None or found[0].name not in targets or not is_supported(found[1]["version"]):
        return error_as_response(not_found())
    route, params = found
    sub = replace(
        req,
        version=str(params["version"]),
        method=method,
        path_params={k: str(v) for k, v in params.items()},
        query=dict(parse_qsl(split.query, keep_blank_values=True)),
        headers={
            **{k: v for k, v in req.headers.items() if k in _INHERITED_HEADERS},
            **{k.lower(): v for k, v in headers.items()},
        },
        body=b"" if body is None else json.dumps(body).encode(),
        raw_path=split.path,
    )
    try:
        with req.org.transaction():
            return route.handler(sub)
    except (ApiError, RecordError) as err:
        return error_as_response(err)


# -- /composite ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Subrequest:
    method: str
    url: str
    reference_id: str
    body: Any
    headers: Mapping[str, str]


def _subrequest(item: Mapping[str, Any], strict: bool) -> _Subrequest:
    method = _method(item)
    url = _required_text(item, "url")
    if not _COMPOSITE_URL.fullmatch(url):
        raise _malformed(f"The URL '{url}' must start with /services/data/vXX.X/")
    reference_id = _required_text(item, "referenceId")
    if strict and not _REFERENCE_ID.fullmatch(reference_id):
        raise _malformed(
            f"Provided referenceId ('{reference_id}') must start with a letter or a number, and "
            "it can contain only letters, numbers and underscores ('_')."
        )
    headers = item.get("httpHeaders", {})
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise _malformed("'httpHeaders' must map header names to string values")
    inherited = [k for k in headers if k.lower() in _INHERITED_HEADERS]
    if inherited:
        raise _malformed(
            f"Subrequests inherit the {', '.join(inherited)} header from the composite request "
            "and cannot set it"
        )
    return _Subrequest(method, url, reference_id, item.get("body"), headers)


def _parse_composite(req: ApiRequest, dispatcher: Dispatcher) -> tuple[list[_Subrequest], bool]:
    data = req.json_object()
    all_or_none = _flag(data, "allOrNone")
    # Accepted and honoured trivially: running in request order is one of the orders collation
    # allows.
    _flag(data, "collateSubrequests")
    strict = req.api_major >= STRICT_REFERENCES_SINCE
    subrequests = [_subrequest(item, strict) for item in _items(data, "compositeRequest")]
    seen: set[str] = set()
    for sub in subrequests:
        if sub.reference_id in seen:
            raise _malformed(f"Duplicate referenceId provided in the request: {sub.reference_id}")
        seen.add(sub.reference_id)
    heavy = 0
    for sub in subrequests:
        found = dispatcher.match(unquote(urlsplit(sub.url).path))
        if found is not None and found[0].name in _QUERY_ROUTES | _COLLECTION_ROUTES:
            heavy += 1
    if heavy > MAX_COLLECTIONS_AND_QUERIES:
        raise _too_many(
            f"A composite request can contain at most {MAX_COLLECTIONS_AND_QUERIES} sObject "
            f"Collections, query or queryAll subrequests; it has {heavy}"
        )
    return subrequests, all_or_none


def _lookup(expression: str, done: Mapping[str, ApiResponse], nulls: bool) -> Any:
    """The scalar value `ref.field[0].name` names in an earlier, successful subresponse."""
    head = _REFERENCE_HEAD.match(expression)
    earlier = done.get(head.group(0)) if head else None
    if head is None or earlier is None or earlier.status >= 400:
        raise _BadReference(expression)
    node, pos = earlier.body, head.end()
    if pos == len(expression):  # a reference names a value inside the body, never all of it
        raise _BadReference(expression)
    while pos < len(expression):
        step = _REFERENCE_STEP.match(expression, pos)
        if step is None:
            raise _BadReference(expression)
        key, index = step.group(1), step.group(2)
        if key is not None and isinstance(node, dict) and key in node:
            node = node[key]
        elif index is not None and isinstance(node, list) and int(index) < len(node):
            node = node[int(index)]
        else:
            raise _BadReference(expression)
        pos = step.end()
    if isinstance(node, dict | list) or (node is None and not nulls):
        raise _BadReference(expression)
    return node


def _text(value: Any) -> str:
    """A referenced value spliced into a longer string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _substitute(value: Any, resolve: Callable[[str], Any]) -> Any:
    """`value` with its references replaced; a string that is one reference takes its type."""
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole is not None:
            return resolve(whole.group(1))
        return _REFERENCE.sub(lambda m: _text(resolve(m.group(1))), value)
    if isinstance(value, dict):
        return {k: _substitute(v, resolve) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, resolve) for v in value]
    return value


def _fails_transaction(response: ApiResponse) -> bool:
    """An error, or sObject Collections results with a failed record (an outer allOrNone
    overrides the collection's own flag)."""
    if response.status >= 400:
        return True
    return isinstance(response.body, list) and any(
        isinstance(r, dict) and r.get("success") is False for r in response.body
    )


def _run_subrequest(
    req: ApiRequest, dispatcher: Dispatcher, sub: _Subrequest, done: Mapping[str, ApiResponse]
) -> ApiResponse:
    nulls = req.api_major >= STRICT_REFERENCES_SINCE

    def resolve(expression: str) -> Any:
        return _lookup(expression, done, nulls)

    try:
        # Values go into the URL percent-encoded, so a name with `&` or spaces stays one value.
        url = _REFERENCE.sub(lambda m: quote(_text(resolve(m.group(1))), safe=""), sub.url)
        body = _substitute(sub.body, resolve)
    except _BadReference as bad:
        return error_as_response(
            ApiError(status=400, error_code="PROCESSING_HALTED", message=str(bad))
        )
    return _dispatch(req, dispatcher, _COMPOSITE_TARGETS, sub.method, url, body, sub.headers)


def composite_handler(req: ApiRequest) -> ApiResponse:
    """`POST /composite`: up to 25 subrequests in one transaction; `GET` lists the resources."""
    if req.method == "GET":
        return json_response(
            {
                "batch": f"{req.prefix}/composite/batch",
                "sobjects": f"{req.prefix}/composite/sobjects",
            }
        )
    if req.method != "POST":
        raise method_not_allowed(req, "GET, HEAD, POST")
    dispatcher = _dispatcher(req)
    subrequests, all_or_none = _parse_composite(req, dispatcher)
    done: dict[str, ApiResponse] = {}
    responses: list[ApiResponse] = []
    try:
        with req.org.transaction():
            for sub in subrequests:
                response = _run_subrequest(req, dispatcher, sub, done)
                done[sub.reference_id] = response
                responses.append(response)
                if all_or_none and _fails_transaction(response):
                    raise _Rollback
    except _Rollback:
        # The failure keeps its own answer; everything else, run or not, was rolled back.
        failed = len(responses) - 1
        responses = [
            responses[failed] if i == failed else _ROLLED_BACK for i in range(len(subrequests))
        ]
    return json_response(
        {
            "compositeResponse": [
                {
                    "body": response.body,
                    "httpHeaders": dict(response.headers),
                    "httpStatusCode": response.status,
                    "referenceId": sub.reference_id,
                }
                for sub, response in zip(subrequests, responses, strict=True)
            ]
        }
    )


# -- /composite/batch ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _BatchItem:
    method: str
    url: str
    body: Any


def _batch_item(req: ApiRequest, item: Mapping[str, Any]) -> _BatchItem:
    method = _method(item)
    url = _required_text(item, "url")
    shape = _BATCH_URL.fullmatch(url)
    if shape is None:
        raise _malformed(f"The URL '{url}' must start with vXX.X/")
    version = shape.group(1)
    if not is_supported(version) or not BATCH_OLDEST <= major(version) <= req.api_major:
        raise _malformed(
            f"The URL '{url}' must use an API version from {BATCH_OLDEST}.0 to the batch "
            f"request's {req.version}"
        )
    part, alias = item.get("binaryPartName"), item.get("binaryPartNameAlias")
    if (part is None) != (alias is None) or not all(
        v is None or isinstance(v, str) for v in (part, alias)
    ):
        raise _malformed("'binaryPartName' and 'binaryPartNameAlias' go together, as strings")
    return _BatchItem(method, f"/services/data/{url}", item.get("richInput"))


def batch_handler(req: ApiRequest) -> ApiResponse:
    """`POST /composite/batch`: up to 25 independent subrequests, each its own transaction."""
    if req.method != "POST":
        raise method_not_allowed(req, "POST")
    dispatcher = _dispatcher(req)
    data = req.json_object()
    halt_on_error = _flag(data, "haltOnError")
    items = [_batch_item(req, item) for item in _items(data, "batchRequests")]
    results: list[dict[str, Any]] = []
    halted = False
    for index, item in enumerate(items):
        if halted:
            response = _BATCH_HALTED
        else:
            response = _run_batch_item(req, dispatcher, item, first=index == 0)
            halted = halt_on_error and response.status >= 400
        results.append({"statusCode": response.status, "result": response.body})
    return json_response(
        {"hasErrors": any(r["statusCode"] >= 400 for r in results), "results": results}
    )


def _run_batch_item(
    req: ApiRequest, dispatcher: Dispatcher, item: _BatchItem, *, first: bool
) -> ApiResponse:
    """Each executed subrequest is one API call; the pipeline's count of the batch request
    stands for the first."""
    if not first:
        usage = limits.record_call(req.org, req.session.client_id, _BATCH_NAME)
        if usage.exceeded:
            return error_as_response(limits.total_requests_exceeded(limits.daily_usage(req.org)))
    return _dispatch(req, dispatcher, _BATCH_TARGETS, item.method, item.url, item.body, {})


ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute("/composite", composite_handler, "composite"),
    ApiRoute("/composite/batch", batch_handler, _BATCH_NAME),
)
