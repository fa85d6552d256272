"""Wire bodies to typed errors: by code only, in each of Salesforce's dialects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

import hearth.salesforce
from hearth.errors import HearthError
from hearth.salesforce.client import RetryPolicy, UsageMeter
from hearth.salesforce.errors import (
    AuthExpired,
    ConcurrentRequestLimit,
    DuplicatesDetected,
    InvalidField,
    MalformedQuery,
    MultipleMatches,
    NotFound,
    OAuthError,
    QueryTimeout,
    ReauthorizationRequired,
    RecordError,
    RequestLimitExceeded,
    RowLocked,
    SalesforceError,
    ServerUnavailable,
    UnexpectedResponse,
    error_from_response,
)


def rest(status: int, code: str, message: str = "localised text", **extra: Any) -> httpx.Response:
    return httpx.Response(status, json=[{"message": message, "errorCode": code, **extra}])


@pytest.mark.parametrize(
    ("response", "kind", "retryable"),
    [
        (rest(401, "INVALID_SESSION_ID"), AuthExpired, False),
        (rest(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
         RequestLimitExceeded, False),
        (rest(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."),
         ConcurrentRequestLimit, True),
        (rest(400, "UNABLE_TO_LOCK_ROW"), RowLocked, True),
        (rest(404, "NOT_FOUND"), NotFound, False),
        (rest(404, "ENTITY_IS_DELETED", fields=[]), NotFound, False),
        (rest(400, "MALFORMED_QUERY"), MalformedQuery, False),
        (rest(400, "INVALID_FIELD"), InvalidField, False),
        (rest(400, "QUERY_TIMEOUT"), QueryTimeout, True),
        (rest(400, "STRING_TOO_LONG", fields=["Title"]), RecordError, False),
        (rest(400, "DUPLICATES_DETECTED"), DuplicatesDetected, False),
        (httpx.Response(503, text="<!DOCTYPE html><html>down</html>"), ServerUnavailable, True),
        (httpx.Response(500, json=[{"errorCode": "UNKNOWN_EXCEPTION", "message": "x"}]),
         ServerUnavailable, True),
        (httpx.Response(400, json={"error": "invalid_grant", "error_description": "expired"}),
         ReauthorizationRequired, False),
        (httpx.Response(400, json={"error": "invalid_client_id"}), OAuthError, False),
        (httpx.Response(300, json=["/a", "/b"]), MultipleMatches, False),
        (httpx.Response(418, text="teapot"), UnexpectedResponse, False),
        (httpx.Response(400, json={"unexpected": True}), UnexpectedResponse, False),
    ],
)  # fmt: skip
def test_each_answer_maps_to_its_error(
    response: httpx.Response, kind: type[SalesforceError], retryable: bool
) -> None:
    error = error_from_response(response)
    assert type(error) is kind
    assert error.retryable is retryable
    assert isinstance(error, HearthError)
    assert error.status_code == response.status_code


def test_record_errors_keep_code_message_and_fields() -> None:
    error = error_from_response(rest(400, "REQUIRED_FIELD_MISSING", "Champs", fields=["Company"]))
    assert isinstance(error, RecordError)
    assert (error.error_code, error.message, error.fields) == (
        "REQUIRED_FIELD_MISSING",
        "Champs",
        ("Company",),
    )
    # `fields` may be absent.
    assert error_from_response(rest(400, "JSON_PARSER_ERROR")).fields == ()  # type: ignore[attr-defined]


def test_duplicates_carry_the_matching_ids() -> None:
    body = [
        {
            "duplicateResult": {
                "matchResults": [
                    {"matchRecords": [{"record": {"Id": "003A"}}, {"record": {"Id": "003B"}}]},
                    {"matchRecords": [{"record": {"Id": "00QC"}}]},
                ]
            },
            "errorCode": "DUPLICATES_DETECTED",
            "message": "Use one of these records?",
        }
    ]
    error = error_from_response(httpx.Response(400, json=body))
    assert isinstance(error, DuplicatesDetected)
    assert error.duplicates == ("003A", "003B", "00QC")
    assert error_from_response(httpx.Response(300, json=["/a"])).urls == ("/a",)  # type: ignore[attr-defined]


def test_the_usage_meter_reads_sforce_limit_info() -> None:
    meter = UsageMeter()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    meter.observe("api-usage=44/15000; per-app-api-usage=17/250(appName=sample)", now)
    assert (meter.used, meter.max, meter.updated_at) == (44, 15000, now)
    meter.observe("garbage", datetime(2027, 1, 1, tzinfo=UTC))
    assert meter.updated_at == now


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(attempts=10, base_delay=0.5, max_delay=4.0)
    assert [policy.delay(n, 0.999) for n in range(6)] == pytest.approx(
        [0.4995, 0.999, 1.998, 3.996, 3.996, 3.996]
    )
    assert policy.delay(3, 0.0) == 0.0


def test_the_public_api_is_exactly_all() -> None:
    public = {name for name in vars(hearth.salesforce) if not name.startswith("_")}
    modules = {"auth", "client", "errors", "soql", "versions"}
    assert set(hearth.salesforce.__all__) == public - modules
