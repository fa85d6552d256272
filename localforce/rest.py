"""sObject REST resources: versions, resources, describe, record CRUD, upsert, limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime as http_date
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

from .api import ApiRequest, ApiResponse, json_response
from .describe import describe_global, describe_object, object_summary
from .errors import ApiError, RecordError
from .limits import daily_usage
from .records import record_json
from .schema import FieldDef, FieldType, ObjectDef
from .values import parse_datetime, to_stored

__all__ = [
    "describe_global_handler",
    "describe_object_handler",
    "external_id_handler",
    "limits_handler",
    "record_handler",
    "resources_handler",
    "sobject_handler",
]

_NOT_FOUND = "The requested resource does not exist"


def not_found(message: str = _NOT_FOUND) -> ApiError:
    return ApiError(status=404, error_code="NOT_FOUND", message=message)


def method_not_allowed(req: ApiRequest, allowed: str) -> ApiError:
    return ApiError(
        status=405,
        error_code="METHOD_NOT_ALLOWED",
        message=f"HTTP Method '{req.method}' not allowed. Allowed are {allowed}",
    )


def read_only(req: ApiRequest) -> None:
    """Refuse anything but GET and HEAD with Salesforce's 405 body."""
    if req.method not in ("GET", "HEAD"):
        raise method_not_allowed(req, "GET, HEAD")


def sobject(req: ApiRequest, name: str | None = None) -> ObjectDef:
    """The object as the request's user sees it; 404 when it does not exist for them."""
    obj = req.schema.get(name if name is not None else req.path_params["sobject"])
    if obj is None:
        raise not_found()
    return obj


def resources_handler(req: ApiRequest) -> ApiResponse:
    read_only(req)
    p = req.prefix
    return json_response(
        {
            "tooling": f"{p}/tooling",
            "composite": f"{p}/composite",
            "jobs": f"{p}/jobs",
            "query": f"{p}/query",
            "queryAll": f"{p}/queryAll",
            "sobjects": f"{p}/sobjects",
            "limits": f"{p}/limits",
            "search": f"{p}/search",
            "identity": f"/id/{req.org.meta('organization_id')}/{req.session.user_id}",
        }
    )


def _schema_modified(req: ApiRequest) -> datetime:
    """When the schema last changed as this user sees it: a field added, or their access."""
    stamp = req.org.meta("schema_modified") or req.org.meta("bootstrapped") or ""
    stamp = max(stamp, req.access.modified or "")
    moment = parse_datetime(stamp[:23] + "Z") if stamp else None
    return (moment or datetime(2000, 1, 1, tzinfo=UTC)).replace(microsecond=0)


def _cached(req: ApiRequest, body: dict[str, Any]) -> ApiResponse:
    """Describe answers carry Last-Modified/ETag; a fresh If-Modified-Since gets a 304."""
    modified = _schema_modified(req)
    etag = f'"{req.access.version}-{int(modified.timestamp()):x}"'
    headers = {"Last-Modified": http_date(modified, usegmt=True), "ETag": etag}
    match = req.headers.get("if-none-match")
    since = req.headers.get("if-modified-since")
    if match is not None:
        # If-None-Match, when present, decides alone (RFC 9110 §13.1.3).
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        if etag in tags or "*" in tags:
            return ApiResponse(status=304, headers=headers)
    elif since:
        try:
            if modified <= parsedate_to_datetime(since):
                return ApiResponse(status=304, headers=headers)
        except (TypeError, ValueError, IndexError):
            pass
    return ApiResponse(body=body, headers=headers)


def describe_global_handler(req: ApiRequest) -> ApiResponse:
    read_only(req)
    return _cached(req, describe_global(req.schema, req.prefix))


def describe_object_handler(req: ApiRequest) -> ApiResponse:
    obj = sobject(req)
    read_only(req)
    with req.org.lock:
        described = describe_object(req.schema, obj, req.prefix)
        described["recordTypeInfos"] = _record_type_infos(req, obj)
    return _cached(req, described)


def _record_type_infos(req: ApiRequest, obj: ObjectDef) -> list[dict[str, Any]]:
    if obj.field("RecordTypeId") is None:
        return []
    rows = req.org.conn.execute(
        'SELECT "Id", "Name", "DeveloperName", "IsActive" FROM "RecordType" '
        'WHERE "SobjectType" = ? AND "IsDeleted" = 0 ORDER BY "Name"',
        (obj.name,),
    ).fetchall()
    infos = [(rid, name, dev, bool(active), False) for rid, name, dev, active in rows]
    infos.append(("012000000000000AAA", "Master", "Master", True, True))
    return [
        {
            "active": active,
            "available": active,
            "defaultRecordTypeMapping": master,
            "developerName": dev,
            "master": master,
            "name": name,
            "recordTypeId": rid,
            "urls": {"layout": f"{req.prefix}/sobjects/{obj.name}/describe/layouts/{rid}"},
        }
        for rid, name, dev, active, master in infos
    ]


def sobject_handler(req: ApiRequest) -> ApiResponse:
    """`GET /sobjects/X` (basic info) and `POST /sobjects/X` (create)."""
    obj = sobject(req)
    if req.method == "GET":
        return json_response({"objectDescribe": object_summary(obj, req.prefix), "recentItems": []})
    if req.method != "POST":
        raise method_not_allowed(req, "GET, HEAD, POST")
    body = req.json_object()
    with req.org.transaction():
        record_id = req.dml.insert(obj, body, req.write_options())
    return json_response(
        {"id": record_id, "success": True, "errors": []},
        201,
        Location=f"{req.prefix}/sobjects/{obj.name}/{record_id}",
    )


def _fields_param(req: ApiRequest, obj: ObjectDef) -> list[FieldDef]:
    param = req.query.get("fields")
    if not param:
        return list(obj.fields)
    chosen: list[FieldDef] = []
    for name in param.split(","):
        f = obj.field(name.strip())
        if f is None:
            raise ApiError(
                status=400,
                error_code="INVALID_FIELD",
                message=f"No such column '{name.strip()}' on entity '{obj.name}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after the custom "
                "field name. Please reference your WSDL or the describe call for the appropriate "
                "names.",
            )
        if f not in chosen:
            chosen.append(f)
    id_field = obj.field("Id")
    if id_field is not None and id_field not in chosen:
        chosen.append(id_field)
    return chosen


def _read(req: ApiRequest, obj: ObjectDef, record_id: str) -> ApiResponse:
    fields = _fields_param(req, obj)
    with req.org.lock:
        canonical = req.dml.canonical_id(obj, record_id)
        row = req.org.fetch_row(obj, canonical, [f.name for f in fields])
    if row is None:
        raise not_found()
    if row["IsDeleted"]:
        raise ApiError(status=404, error_code="ENTITY_IS_DELETED", message="entity is deleted",
                       fields=())  # fmt: skip
    return json_response(record_json(obj, row, fields, req.prefix))


def record_handler(req: ApiRequest) -> ApiResponse:
    """`/sobjects/X/{id}`: GET, PATCH (update), DELETE."""
    obj = sobject(req)
    record_id = req.path_params["record_id"]
    if req.method == "POST" and record_id.lower() == "id":
        # `POST /sobjects/X/Id` (API >= 37.0): an insert through the upsert resource.
        return external_id_handler(replace(req, path_params={**req.path_params, "field": "Id",
                                                             "value": ""}))  # fmt: skip
    if req.method in ("GET", "HEAD"):
        return _read(req, obj, record_id)
    if req.method == "PATCH":
        body = req.json_object()
        if any(k.lower() == "id" for k in body):
            raise RecordError(
                status_code="INVALID_FIELD_FOR_INSERT_UPDATE",
                message="Unable to create/update fields: Id. Please check the security settings "
                "of this field and verify that it is read/write for your profile or permission "
                "set.",
                fields=("Id",),
            )
        with req.org.transaction():
            req.dml.update(obj, record_id, body, req.write_options())
        return ApiResponse(status=204)
    if req.method == "DELETE":
        with req.org.transaction():
            req.dml.delete(obj, record_id, req.write_options())
        return ApiResponse(status=204)
    raise method_not_allowed(req, "GET, HEAD, PATCH, DELETE")


def _path_tail(req: ApiRequest, skip: int, decoded: str) -> str:
    """The path after its first `skip` segments, percent-decoded exactly once.

    Taken from the raw path when the server passes it, since a value may itself hold `%`, `/`
    or `?`; `decoded` (the router's parameter) otherwise.
    """
    segments = req.raw_path.split("/")
    if len(segments) <= skip:
        return decoded
    return unquote("/".join(segments[skip:]))


def external_id_handler(req: ApiRequest) -> ApiResponse:
    """`/sobjects/X/{Field}/{value}`: read, upsert (PATCH) or delete by external ID."""
    obj = sobject(req)
    key = req.dml.external_id_field(obj, req.path_params["field"])
    value = _path_tail(req, 7, req.path_params["value"])
    if req.method == "PATCH" or (req.method == "POST" and key.name == "Id"):
        body = req.json_object()
        try:
            with req.org.transaction():
                result = req.dml.upsert(obj, key.name, value, body, req.write_options())
        except RecordError as err:
            if err.status_code != "MULTIPLE_CHOICES":
                raise
            urls = [f"{req.prefix}/sobjects/{obj.name}/{i}" for i in err.extra["ids"]]
            return json_response(urls, 300)
        if not result.created and req.api_major < 46:
            return ApiResponse(status=204)
        return json_response(
            {"id": result.id, "success": True, "errors": [], "created": result.created},
            201 if result.created else 200,
            Location=f"{req.prefix}/sobjects/{obj.name}/{result.id}",
        )
    if req.method not in ("GET", "HEAD", "DELETE"):
        raise method_not_allowed(req, "GET, HEAD, PATCH, DELETE")
    if key.type is FieldType.ID:
        matches = [req.dml.canonical_id(obj, value)]
    else:
        try:
            stored = to_stored(key, value) if value else None
        except RecordError:
            stored = None  # a value the field could not hold matches nothing
        with req.org.lock:
            matches = req.org.find_ids(obj, key.name, stored, limit=50) if stored else []
    if not matches:
        raise not_found()
    if len(matches) > 1:
        return json_response([f"{req.prefix}/sobjects/{obj.name}/{i}" for i in matches], 300)
    if req.method == "DELETE":
        with req.org.transaction():
            req.dml.delete(obj, matches[0], req.write_options())
        return ApiResponse(status=204)
    return _read(req, obj, matches[0])


def limits_handler(req: ApiRequest) -> ApiResponse:
    read_only(req)
    usage = daily_usage(req.org)

    def entry(maximum: int, remaining: int | None = None) -> dict[str, int]:
        return {"Max": maximum, "Remaining": maximum if remaining is None else remaining}

    return json_response(
        {
            "ConcurrentAsyncGetReportInstances": entry(200),
            "ConcurrentSyncReportRuns": entry(20),
            "DailyApiRequests": entry(usage.limit, usage.remaining),
            "DailyAsyncApexExecutions": entry(250000),
            "DailyBulkApiBatches": entry(15000),
            "DailyBulkV2QueryFileStorageMB": entry(976562),
            "DailyBulkV2QueryJobs": entry(10000),
            "DataStorageMB": entry(1024),
            "FileStorageMB": entry(1024),
            "HourlyTimeBasedWorkflow": entry(1000),
            "SingleEmail": entry(5000),
        }
    )
