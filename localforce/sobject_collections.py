"""sObject Collections: create, update, upsert, retrieve and delete up to 200 records a call.

Every record runs in its own savepoint inside one transaction, so `allOrNone=false` keeps the good
records and `allOrNone=true` rolls the whole request back when any record fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .api import ApiRequest, ApiResponse, json_response
from .errors import ApiError, RecordError
from .records import record_json
from .rest import method_not_allowed, sobject

__all__ = ["collection_handler", "collection_type_handler", "collection_upsert_handler"]

MAX_RECORDS = 200
MAX_CHUNKS = 10
_ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    "fields": [],
}


class _Rollback(Exception):
    """Raised to roll the request's transaction back after all records were tried."""


def _limit_error(count: int) -> ApiError:
    return ApiError(
        status=400,
        error_code="EXCEEDED_ID_LIMIT",
        message=f"record limit reached. cannot submit more than {MAX_RECORDS} records in this "
        f"operation (got {count})",
    )


def _run_all(
    req: ApiRequest,
    items: list[Any],
    all_or_none: bool,
    action: Callable[[Any], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Apply `action` to each item in a savepoint; results in order, rollback per allOrNone."""
    results: list[dict[str, Any]] = []
    failed = False
    try:
        with req.org.transaction():
            for item in items:
                try:
                    with req.org.transaction():
                        results.append(action(item))
                except RecordError as err:
                    failed = True
                    result: dict[str, Any] = {"success": False, "errors": [err.result_error()]}
                    item_id = item.get("id") if isinstance(item, dict) else item
                    if isinstance(item_id, str):
                        result = {"id": item_id, **result}
                    results.append(result)
            if failed and all_or_none:
                raise _Rollback
    except _Rollback:
        for i, result in enumerate(results):
            if result["success"]:
                rolled: dict[str, Any] = {"success": False, "errors": [_ROLLED_BACK]}
                if not isinstance(items[i], dict) or "id" in items[i]:
                    rolled = {"id": result["id"], **rolled}
                results[i] = rolled
    return results


def _records(req: ApiRequest) -> tuple[list[dict[str, Any]], bool]:
    body = req.json_object()
    records = body.get("records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ApiError(
            status=400,
            error_code="JSON_PARSER_ERROR",
            message="The request body must have a 'records' array of sObjects",
        )
    if len(records) > MAX_RECORDS:
        raise _limit_error(len(records))
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise ApiError(
            status=400, error_code="JSON_PARSER_ERROR", message="allOrNone must be a boolean"
        )
    return records, all_or_none


def _type_of(record: dict[str, Any]) -> str:
    attrs = record.get("attributes")
    kind = attrs.get("type") if isinstance(attrs, dict) else None
    if not isinstance(kind, str) or not kind:
        raise RecordError(
            status_code="INVALID_TYPE",
            message="Must send a concrete entity type.",
        )
    return kind


def _check_chunks(records: list[dict[str, Any]]) -> None:
    kinds = [
        r.get("attributes", {}).get("type") if isinstance(r.get("attributes"), dict) else None
        for r in records
    ]
    chunks = sum(1 for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1])
    if chunks > MAX_CHUNKS:
        raise ApiError(
            status=400,
            error_code="INVALID_BATCH_REQUEST",
            message=f"A request can't contain more than {MAX_CHUNKS} chunks of sObject types",
        )


def _create(req: ApiRequest, record: dict[str, Any]) -> dict[str, Any]:
    obj = req.schema.get(_type_of(record))
    if obj is None:
        raise RecordError(status_code="INVALID_TYPE", message="sObject type does not exist")
    if any(k.lower() == "id" for k in record):
        raise RecordError(
            status_code="INVALID_FIELD",
            message="Record ID: cannot specify Id in an insert call",
            fields=("Id",),
        )
    body = {k: v for k, v in record.items() if k != "attributes"}
    return {"id": req.dml.insert(obj, body, req.write_options()), "success": True, "errors": []}


def _update(req: ApiRequest, record: dict[str, Any]) -> dict[str, Any]:
    obj = req.schema.get(_type_of(record))
    if obj is None:
        raise RecordError(status_code="INVALID_TYPE", message="sObject type does not exist")
    record_id = next((v for k, v in record.items() if k.lower() == "id"), None)
    if not isinstance(record_id, str) or not record_id:
        raise RecordError(
            status_code="MISSING_ARGUMENT", message="Id not specified in an update call"
        )
    body = {k: v for k, v in record.items() if k != "attributes" and k.lower() != "id"}
    req.dml.update(obj, record_id, body, req.write_options())
    return {"id": req.dml.canonical_id(obj, record_id), "success": True, "errors": []}


def _delete(req: ApiRequest, record_id: str) -> dict[str, Any]:
    prefix_obj = req.schema.by_prefix(record_id[:3])
    if prefix_obj is None:
        raise RecordError(
            status_code="MALFORMED_ID", message=f"malformed id {record_id}", fields=("Id",)
        )
    req.dml.delete(prefix_obj, record_id, req.write_options())
    return {"id": req.dml.canonical_id(prefix_obj, record_id), "success": True, "errors": []}


def collection_handler(req: ApiRequest) -> ApiResponse:
    """`/composite/sobjects`: POST create, PATCH update, DELETE ?ids=."""
    if req.method == "DELETE":
        ids = [i for i in req.query.get("ids", "").split(",") if i]
        if not ids:
            raise ApiError(
                status=400, error_code="MISSING_ARGUMENT", message="ids parameter is required"
            )
        if len(ids) > MAX_RECORDS:
            raise _limit_error(len(ids))
        all_or_none = req.query.get("allOrNone", "false").lower() == "true"
        return json_response(_run_all(req, ids, all_or_none, lambda i: _delete(req, i)))
    if req.method not in ("POST", "PATCH"):
        raise method_not_allowed(req, "POST, PATCH, DELETE")
    records, all_or_none = _records(req)
    _check_chunks(records)
    action = _create if req.method == "POST" else _update
    return json_response(_run_all(req, records, all_or_none, lambda r: action(req, r)))


def collection_type_handler(req: ApiRequest) -> ApiResponse:
    """`/composite/sobjects/X`: retrieve by `ids` and `fields` (GET, or POST with a body)."""
    obj = sobject(req)
    if req.method == "GET":
        ids = [i for i in req.query.get("ids", "").split(",") if i]
        names = [n for n in req.query.get("fields", "").split(",") if n]
    elif req.method == "POST":
        body = req.json_object()
        ids, names = body.get("ids", []), body.get("fields", [])
        if not isinstance(ids, list) or not isinstance(names, list):
            raise ApiError(
                status=400, error_code="JSON_PARSER_ERROR", message="ids and fields must be arrays"
            )
    else:
        raise method_not_allowed(req, "GET, POST")
    if not ids or not names:
        raise ApiError(
            status=400, error_code="MISSING_ARGUMENT", message="ids and fields are required"
        )
    if len(ids) > (MAX_RECORDS if req.method == "GET" else 2000):
        raise _limit_error(len(ids))
    fields = []
    for name in names:
        f = obj.field(str(name).strip())
        if f is None:
            raise ApiError(
                status=400,
                error_code="INVALID_FIELD",
                message=f"No such column '{name}' on entity '{obj.name}'",
            )
        if f not in fields:
            fields.append(f)
    id_field = obj.field("Id")
    if id_field is not None and id_field not in fields:
        fields.append(id_field)
    out: list[dict[str, Any] | None] = []
    with req.org.lock:
        for raw_id in ids:
            canonical = req.dml.canonical_id(obj, str(raw_id))
            row = req.org.fetch_row(obj, canonical, [f.name for f in fields])
            out.append(
                None if row is None or row["IsDeleted"]
                else record_json(obj, row, fields, req.prefix)
            )  # fmt: skip
    return json_response(out)


def collection_upsert_handler(req: ApiRequest) -> ApiResponse:
    """`PATCH /composite/sobjects/X/{ExternalIdField}`: upsert with the key in each record."""
    if req.method != "PATCH":
        raise method_not_allowed(req, "PATCH")
    obj = sobject(req)
    key = req.dml.external_id_field(obj, req.path_params["field"])
    records, all_or_none = _records(req)
    seen: dict[str, int] = {}
    for record in records:
        value = next((v for k, v in record.items() if k.lower() == key.name.lower()), None)
        if value is not None:
            seen[str(value).casefold()] = seen.get(str(value).casefold(), 0) + 1

    def upsert(record: dict[str, Any]) -> dict[str, Any]:
        if _type_of(record).lower() != obj.name.lower():
            raise RecordError(
                status_code="INVALID_TYPE", message="Records must all be of the URL's sObject type"
            )
        value = next((v for k, v in record.items() if k.lower() == key.name.lower()), None)
        if value is None or value == "":
            raise RecordError(
                status_code="MISSING_ARGUMENT",
                message=f"{key.name} not specified",
                fields=(key.name,),
            )
        if seen.get(str(value).casefold(), 0) > 1:
            raise RecordError(
                status_code="DUPLICATE_EXTERNAL_ID",
                message=f"Duplicate external id specified: {value}",
                fields=(key.name,),
            )
        body = {k: v for k, v in record.items() if k != "attributes"}
        try:
            result = req.dml.upsert(obj, key.name, str(value), body, req.write_options(),
                                    value_in_body=True)  # fmt: skip
        except RecordError as err:
            if err.status_code != "MULTIPLE_CHOICES":
                raise
            raise RecordError(
                status_code="DUPLICATE_EXTERNAL_ID",
                message=f"{key.name}: more than one record found for external id field: "
                f"{err.extra['ids']}",
                fields=(key.name,),
            ) from None
        return {"id": result.id, "success": True, "errors": [], "created": result.created}

    return json_response(_run_all(req, records, all_or_none, upsert))
