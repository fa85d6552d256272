"""The Tooling API subset that provisions custom fields: `/tooling/...`.

- `POST /tooling/sobjects/CustomField` creates a field from `FullName` ("Lead.Score__c") and
  `Metadata` (Metadata API's CustomField attributes), through `Org.add_custom_field`. As in a real
  org, nobody can see the new field until field-level security grants it (`permissions.py`).
- `GET /tooling/sobjects/CustomField/{id}` reads one back with its `FullName` and `Metadata`.
- `GET /tooling/query?q=` queries CustomField, EntityDefinition and FieldDefinition with the
  same SOQL compiler and paging as `/query`. Those three are tables materialised from the org's
  schema, rebuilt when the schema has changed since they were last built.
- `GET /tooling/sobjects` and `/tooling/sobjects/{type}/describe` describe them.
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

from .api import ApiRequest, ApiResponse, json_response
from .describe import describe_global, describe_object, object_summary
from .dispatch import ApiRoute
from .errors import ApiError, RecordError
from .ids import InvalidId, make_id, normalize_id
from .org import Org, quote_ident
from .query import answer_query, answer_query_more
from .rest import method_not_allowed, not_found, read_only
from .schema import FieldDef, FieldType, ObjectDef, PicklistValue, Schema
from .standard_objects import tooling_objects

__all__ = ["ROUTES", "custom_field_id", "tooling_schema"]

_BASE = "/tooling"
_MAX_DEVELOPER_NAME = 40
_DEVELOPER_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|_(?!_))*")
# Metadata types localforce understands but does not emulate.
_UNSUPPORTED_TYPES = frozenset(
    {"AutoNumber", "EncryptedText", "ExternalLookup", "Html", "IndirectLookup", "Location",
     "Lookup", "MasterDetail", "MetadataRelationship", "Summary", "Time"}
)  # fmt: skip
_NUMBER_TYPES = {"Number": FieldType.DOUBLE, "Currency": FieldType.CURRENCY,
                 "Percent": FieldType.PERCENT}  # fmt: skip
# Types with a fixed length, as Setup gives them.
_FIXED_TEXT = {"Email": (FieldType.EMAIL, 80), "Phone": (FieldType.PHONE, 40),
               "Url": (FieldType.URL, 255), "TextArea": (FieldType.TEXTAREA, 255)}  # fmt: skip
_PLAIN = {"Date": FieldType.DATE, "DateTime": FieldType.DATETIME}
_TEXT_MAX = 255
_LONG_TEXT_MIN, _LONG_TEXT_MAX = 256, 131_072
_MAX_PRECISION = 18


@functools.cache
def tooling_schema() -> Schema:
    """The Tooling API's objects, as the SOQL compiler and describe see them."""
    return Schema(tooling_objects())


def custom_field_id(org: Org, object_name: str, field_name: str) -> str | None:
    """The `00N` ID of a custom field, built from where its definition is stored."""
    rowid = org.custom_field_rowid(object_name, field_name)
    return None if rowid is None else make_id("00N", org.pod, rowid)


# -- creating fields ----------------------------------------------------------------------------


def _invalid(message: str, *fields: str) -> RecordError:
    return RecordError(status_code="FIELD_INTEGRITY_EXCEPTION", message=message, fields=fields)


def _parse_full_name(req: ApiRequest, full_name: Any) -> tuple[ObjectDef, str]:
    """The object and field name of `Object.Field__c`."""
    object_name, dot, field_name = str(full_name or "").partition(".")
    if not dot or not field_name:
        raise _invalid(
            "Must specify the name in the CustomObject.CustomField format "
            "(e.g. Account.MyNewCustomField__c), FullName",
            "FullName",
        )
    obj = req.org.object(object_name)
    if obj is None:
        raise RecordError(
            status_code="INVALID_TYPE",
            message=f"sObject type '{object_name}' is not supported.",
            fields=("FullName",),
        )
    developer_name = field_name[:-3] if field_name.lower().endswith("__c") else ""
    if (
        not developer_name
        or len(developer_name) > _MAX_DEVELOPER_NAME
        or not _DEVELOPER_NAME.fullmatch(developer_name)
        or developer_name.endswith("_")
    ):
        raise _invalid(
            f"Invalid field name {field_name}: a custom field's name ends in __c, begins with a "
            "letter, has at most 40 letters, digits and single underscores before it, and does "
            "not end in an underscore",
            "FullName",
        )
    return obj, developer_name + "__c"


def _int(metadata: Mapping[str, Any], key: str) -> int | None:
    value = metadata.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _invalid(f"{key}: value not of required type: {value}", key)
    try:
        return int(value)
    except ValueError:
        raise _invalid(f"{key}: value not of required type: {value}", key) from None


def _picklist_values(metadata: Mapping[str, Any]) -> tuple[tuple[PicklistValue, ...], bool]:
    value_set = metadata.get("valueSet")
    definition = value_set.get("valueSetDefinition") if isinstance(value_set, dict) else None
    entries = definition.get("value") if isinstance(definition, dict) else None
    if not isinstance(entries, list) or not entries:
        raise _invalid("Picklist fields need at least one value: valueSet", "valueSet")
    values: list[PicklistValue] = []
    for entry in entries:
        name = entry.get("fullName") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise _invalid("Each picklist value needs a fullName: valueSet", "valueSet")
        label = entry.get("label") or name
        values.append(
            PicklistValue(value=name, label=str(label), default=entry.get("default") is True)
        )
    restricted = isinstance(value_set, dict) and value_set.get("restricted") is True
    return tuple(values), restricted


def _field_def(name: str, metadata: Mapping[str, Any]) -> FieldDef:
    """A FieldDef from Metadata API attributes, refusing what Setup would refuse."""
    kind = metadata.get("type")
    label = metadata.get("label")
    if not isinstance(label, str) or not label.strip():
        raise RecordError(
            status_code="REQUIRED_FIELD_MISSING",
            message="Required fields are missing: [Label]",
            fields=("label",),
        )
    if kind in _UNSUPPORTED_TYPES:
        raise _invalid(f"localforce does not emulate custom fields of type {kind}", "type")
    common: dict[str, Any] = {
        "name": name,
        "label": label.strip(),
        "custom": True,
        "nillable": metadata.get("required") is not True,
        "description": metadata.get("description"),
        "inline_help_text": metadata.get("inlineHelpText"),
    }
    length, precision, scale = (_int(metadata, k) for k in ("length", "precision", "scale"))
    visible_lines = _int(metadata, "visibleLines")
    if kind == "Text":
        if length is None or not 1 <= length <= _TEXT_MAX:
            raise _invalid(f"Length: must be between 1 and {_TEXT_MAX}", "length")
        spec: dict[str, Any] = {"type": FieldType.STRING, "length": length}
    elif kind == "LongTextArea":
        if length is None or not _LONG_TEXT_MIN <= length <= _LONG_TEXT_MAX:
            raise _invalid(
                f"Length: must be between {_LONG_TEXT_MIN} and {_LONG_TEXT_MAX}", "length"
            )
        if visible_lines is None or visible_lines < 1:
            raise _invalid("Visible Lines: you must enter a value", "visibleLines")
        spec = {"type": FieldType.TEXTAREA, "length": length, "visible_lines": visible_lines}
    elif kind in _FIXED_TEXT:
        field_type, fixed = _FIXED_TEXT[kind]
        spec = {"type": field_type, "length": fixed}
    elif kind in _NUMBER_TYPES:
        precision = _MAX_PRECISION if precision is None else precision
        scale = scale or 0
        if not 1 <= precision <= _MAX_PRECISION or not 0 <= scale <= precision:
            raise _invalid(
                f"Precision must be between 1 and {_MAX_PRECISION}, and scale between 0 and "
                "the precision",
                "precision",
            )
        spec = {"type": _NUMBER_TYPES[kind], "precision": precision, "scale": scale}
    elif kind == "Checkbox":
        default = metadata.get("defaultValue")
        if isinstance(default, str) and default.lower() in ("true", "false"):
            default = default.lower() == "true"
        if not isinstance(default, bool):
            raise _invalid("Checkbox fields require an explicit default value", "defaultValue")
        spec = {"type": FieldType.BOOLEAN, "default_value": default, "nillable": False,
                "defaulted_on_create": True}  # fmt: skip
    elif kind in _PLAIN:
        spec = {"type": _PLAIN[kind]}
    elif kind in ("Picklist", "MultiselectPicklist"):
        values, restricted = _picklist_values(metadata)
        spec = {"type": FieldType.PICKLIST, "length": 255, "picklist": values,
                "restricted_picklist": restricted}  # fmt: skip
        if kind == "MultiselectPicklist":
            if visible_lines is None or visible_lines < 1:
                raise _invalid("Visible Lines: you must enter a value", "visibleLines")
            spec.update(type=FieldType.MULTIPICKLIST, length=4099, visible_lines=visible_lines)
    else:
        raise RecordError(
            status_code="JSON_PARSER_ERROR",
            message=f"Cannot deserialize instance of FieldType from VALUE_STRING value {kind}",
            fields=("type",),
        )
    unique = metadata.get("unique") is True
    external_id = metadata.get("externalId") is True
    if (unique or external_id) and kind not in ("Text", "Number", "Email"):
        raise _invalid(f"{kind} fields cannot be unique or external IDs", "unique")
    return FieldDef(
        **{**common, **spec},
        unique=unique,
        external_id=external_id,
        case_sensitive=unique and metadata.get("caseSensitive") is True,
    )


def _create_custom_field(req: ApiRequest) -> ApiResponse:
    if not req.access.customize_application:
        raise RecordError(
            status_code="INSUFFICIENT_ACCESS_OR_READONLY",
            message="insufficient access rights on object id",
        )
    body = req.json_object()
    metadata = body.get("Metadata")
    if not isinstance(metadata, dict):
        raise RecordError(
            status_code="REQUIRED_FIELD_MISSING",
            message="Required fields are missing: [Metadata]",
            fields=("Metadata",),
        )
    obj, name = _parse_full_name(req, body.get("FullName"))
    definition = _field_def(name, metadata)
    with req.org.transaction():
        existing = obj.field(name)
        if existing is not None:
            raise RecordError(
                status_code="DUPLICATE_DEVELOPER_NAME",
                message=f"There is already a field named {existing.name} on {obj.name}.",
                fields=("FullName",),
            )
        req.org.add_custom_field(obj.name, definition, grant_access=False)
        field_id = custom_field_id(req.org, obj.name, name)
    return json_response(
        {"id": field_id, "success": True, "errors": [], "warnings": [], "infos": []},
        201,
        Location=f"{req.prefix}{_BASE}/sobjects/CustomField/{field_id}",
    )


# -- reading fields back --------------------------------------------------------------------------

_METADATA_TYPES = {
    FieldType.STRING: "Text", FieldType.EMAIL: "Email", FieldType.PHONE: "Phone",
    FieldType.URL: "Url", FieldType.INT: "Number", FieldType.DOUBLE: "Number",
    FieldType.CURRENCY: "Currency", FieldType.PERCENT: "Percent", FieldType.BOOLEAN: "Checkbox",
    FieldType.DATE: "Date", FieldType.DATETIME: "DateTime", FieldType.PICKLIST: "Picklist",
    FieldType.COMBOBOX: "Picklist", FieldType.MULTIPICKLIST: "MultiselectPicklist",
    FieldType.REFERENCE: "Lookup",
}  # fmt: skip


def _metadata_type(f: FieldDef) -> str:
    if f.type is FieldType.TEXTAREA:
        return "LongTextArea" if f.length > _TEXT_MAX else "TextArea"
    return _METADATA_TYPES.get(f.type, "Text")


def _metadata(f: FieldDef) -> dict[str, Any]:
    numeric = f.type.is_number
    picklist = f.type in (FieldType.PICKLIST, FieldType.MULTIPICKLIST)
    return {
        "caseSensitive": f.case_sensitive if f.unique else None,
        "defaultValue": str(f.default_value).lower() if f.type is FieldType.BOOLEAN else None,
        "description": f.description,
        "externalId": f.external_id,
        "inlineHelpText": f.inline_help_text,
        "label": f.label,
        "length": f.length if f.type.is_text and not picklist else None,
        "precision": f.precision if numeric else None,
        "required": not f.nillable and f.type is not FieldType.BOOLEAN,
        "scale": f.scale if numeric else None,
        "type": _metadata_type(f),
        "unique": f.unique,
        "valueSet": {
            "restricted": f.restricted_picklist,
            "valueSetDefinition": {
                "sorted": False,
                "value": [
                    {"default": p.default, "fullName": p.value, "label": p.label}
                    for p in f.picklist
                ],
            },
        }
        if picklist
        else None,
        "visibleLines": f.visible_lines,
    }


def _custom_fields(org: Org) -> Iterator[tuple[str, ObjectDef, FieldDef, str]]:
    """(ID, object, field, created date) of every custom field, in creation order."""
    rows = org.conn.execute(
        "SELECT rowid, object, name, created_date FROM _lf_custom_fields ORDER BY rowid"
    ).fetchall()
    for rowid, object_name, field_name, created in rows:
        obj = org.object(object_name)
        f = obj.field(field_name) if obj is not None else None
        if obj is not None and f is not None:
            yield make_id("00N", org.pod, rowid), obj, f, created


def _custom_field_row(
    org: Org, field_id: str, obj: ObjectDef, f: FieldDef, created: str
) -> dict[str, Any]:
    admin = org.meta("admin_user_id")
    return {
        "Id": field_id,
        "IsDeleted": 0,
        "CreatedDate": created,
        "CreatedById": admin,
        "LastModifiedDate": created,
        "LastModifiedById": admin,
        "SystemModstamp": created,
        "DeveloperName": f.name.removesuffix("__c"),
        "TableEnumOrId": obj.name,
        "EntityDefinitionId": obj.name,
        "FullName": f"{obj.name}.{f.name}",
        "Description": f.description,
        "Length": f.length if f.type.is_text else None,
        "Precision": f.precision if f.type.is_number else None,
        "Scale": f.scale if f.type.is_number else None,
        "InlineHelpText": f.inline_help_text,
        "NamespacePrefix": None,
        "ManageableState": "unmanaged",
    }


def _read_custom_field(req: ApiRequest, record_id: str) -> ApiResponse:
    try:
        wanted = normalize_id(record_id)
    except InvalidId:
        raise not_found() from None
    with req.org.lock:
        for field_id, obj, f, created in _custom_fields(req.org):
            if field_id == wanted:
                row = _custom_field_row(req.org, field_id, obj, f, created)
                break
        else:
            raise not_found()
    url = f"{req.prefix}{_BASE}/sobjects/CustomField/{field_id}"
    return json_response(
        {"attributes": {"type": "CustomField", "url": url}, **row, "Metadata": _metadata(f)}
    )


# -- the catalogue tables ------------------------------------------------------------------------

_DATA_TYPES = {
    FieldType.EMAIL: "Email", FieldType.PHONE: "Phone", FieldType.BOOLEAN: "Checkbox",
    FieldType.DATE: "Date", FieldType.DATETIME: "Date/Time", FieldType.PICKLIST: "Picklist",
    FieldType.COMBOBOX: "Picklist", FieldType.MULTIPICKLIST: "Picklist (Multi-Select)",
}  # fmt: skip


def _data_type(f: FieldDef) -> str:
    """FieldDefinition.DataType: the type as Setup's field list shows it."""
    kind = f.type
    if kind is FieldType.ID:
        return "Lookup()"
    if kind is FieldType.REFERENCE:
        return f"Lookup({','.join(f.reference_to)})"
    if kind is FieldType.STRING:
        return f"Text({f.length})"
    if kind is FieldType.TEXTAREA:
        return f"Long Text Area({f.length})" if f.length > _TEXT_MAX else "Text Area(255)"
    if kind is FieldType.URL:
        return f"URL({f.length})"
    if kind is FieldType.INT:
        return f"Number({f.digits}, 0)"
    if kind.is_number:
        name = {FieldType.CURRENCY: "Currency", FieldType.PERCENT: "Percent"}.get(kind, "Number")
        return f"{name}({f.precision - f.scale}, {f.scale})"
    return _DATA_TYPES.get(kind, kind.value)


def _entity_rows(org: Org, stamp: str) -> Iterator[dict[str, Any]]:
    for obj in sorted(org.schema, key=lambda o: o.name):
        yield {
            "Id": obj.name, "DurableId": obj.name, "QualifiedApiName": obj.name,
            "DeveloperName": obj.name.removesuffix("__c"), "Label": obj.label,
            "PluralLabel": obj.label_plural, "KeyPrefix": obj.key_prefix,
            "NamespacePrefix": None, "IsCustomizable": 1, "IsQueryable": int(obj.queryable),
            "IsCustomSetting": 0, **_audit(org, stamp),
        }  # fmt: skip


def _field_rows(
    org: Org, stamp: str, custom_ids: Mapping[tuple[str, str], str]
) -> Iterator[dict[str, Any]]:
    for obj in sorted(org.schema, key=lambda o: o.name):
        for f in obj.fields:
            # A custom field's DurableId names it by its ID, a standard field's by its name.
            durable = f"{obj.name}.{custom_ids.get((obj.name, f.name), f.name)}"
            yield {
                "Id": durable, "DurableId": durable, "QualifiedApiName": f.name,
                "DeveloperName": f.name.removesuffix("__c"), "Label": f.label,
                "DataType": _data_type(f), "EntityDefinitionId": obj.name,
                "Length": f.length if f.type.is_text else 0,
                "Precision": f.precision, "Scale": f.scale, "IsNillable": int(f.nillable),
                "IsCalculated": int(f.calculated), "NamespacePrefix": None,
                "Description": f.description, **_audit(org, stamp),
            }  # fmt: skip


def _audit(org: Org, stamp: str) -> dict[str, Any]:
    admin = org.meta("admin_user_id")
    return {"IsDeleted": 0, "CreatedDate": stamp, "CreatedById": admin, "LastModifiedDate": stamp,
            "LastModifiedById": admin, "SystemModstamp": stamp}  # fmt: skip


# The schema version each org's catalogue tables were built from (per process: a new process
# rebuilds them on its first Tooling query).
_BUILT: weakref.WeakKeyDictionary[Org, int] = weakref.WeakKeyDictionary()


def _refresh_catalogue(org: Org) -> None:
    """Rebuild the CustomField, EntityDefinition and FieldDefinition tables when the schema has
    changed since they were built."""
    with org.lock:
        if _BUILT.get(org) == org.schema.version:
            return
        stamp = org.meta("schema_modified") or org.meta("bootstrapped") or org.now()
        custom = list(_custom_fields(org))
        ids = {(obj.name, f.name): field_id for field_id, obj, f, _ in custom}
        rows = {
            "CustomField": [_custom_field_row(org, *c) for c in custom],
            "EntityDefinition": list(_entity_rows(org, stamp)),
            "FieldDefinition": list(_field_rows(org, stamp, ids)),
        }
        with org.transaction():
            for obj in tooling_schema():
                org.ensure_table(obj)
                org.conn.execute(f"DELETE FROM {quote_ident(obj.name)}")
                for rid, row in enumerate(rows[obj.name], start=1):
                    org.insert_row(obj, rid, row)
        _BUILT[org] = org.schema.version


# -- handlers --------------------------------------------------------------------------------------


def _tooling_object(req: ApiRequest) -> ObjectDef:
    obj = tooling_schema().get(req.path_params["sobject"])
    if obj is None:
        raise not_found()
    return obj


def describe_global_handler(req: ApiRequest) -> ApiResponse:
    """`GET /tooling/sobjects`."""
    read_only(req)
    return json_response(describe_global(tooling_schema(), req.prefix + _BASE))


def describe_handler(req: ApiRequest) -> ApiResponse:
    """`GET /tooling/sobjects/{type}/describe`."""
    obj = _tooling_object(req)
    read_only(req)
    return json_response(describe_object(tooling_schema(), obj, req.prefix + _BASE))


def sobject_handler(req: ApiRequest) -> ApiResponse:
    """`GET /tooling/sobjects/{type}` (basic info); `POST /tooling/sobjects/CustomField`."""
    obj = _tooling_object(req)
    if req.method == "GET":
        summary = object_summary(obj, req.prefix + _BASE)
        return json_response({"objectDescribe": summary, "recentItems": []})
    if req.method != "POST":
        raise method_not_allowed(req, "GET, HEAD, POST")
    if obj.name != "CustomField":
        raise ApiError(
            status=400,
            error_code="INVALID_TYPE_FOR_OPERATION",
            message=f"entity type {obj.name} does not support insert",
        )
    return _create_custom_field(req)


def record_handler(req: ApiRequest) -> ApiResponse:
    """`GET /tooling/sobjects/CustomField/{id}`."""
    obj = _tooling_object(req)
    read_only(req)
    if obj.name != "CustomField":
        raise not_found()
    return _read_custom_field(req, req.path_params["record_id"])


def query_handler(req: ApiRequest) -> ApiResponse:
    """`GET /tooling/query?q=`: the first page."""
    _refresh_catalogue(req.org)
    return answer_query(req, tooling_schema(), all_rows=False, base=_BASE)


def query_more_handler(req: ApiRequest) -> ApiResponse:
    """`GET /tooling/query/{locator}-{position}`: a later page."""
    _refresh_catalogue(req.org)
    return answer_query_more(req, tooling_schema(), base=_BASE)


ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute("/tooling/sobjects", describe_global_handler, "tooling"),
    ApiRoute("/tooling/sobjects/{sobject}/describe", describe_handler, "tooling"),
    ApiRoute("/tooling/sobjects/{sobject}", sobject_handler, "tooling"),
    ApiRoute("/tooling/sobjects/{sobject}/{record_id}", record_handler, "tooling"),
    ApiRoute("/tooling/query", query_handler, "toolingQuery"),
    ApiRoute("/tooling/query/{locator}", query_more_handler, "toolingQuery"),
)
