"""Records as the REST API shows them: `attributes` first, then fields in canonical casing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .schema import FieldDef, ObjectDef
from .values import to_json

__all__ = ["attributes", "record_json"]


def attributes(obj_name: str, record_id: str | None, prefix: str) -> dict[str, str]:
    attrs = {"type": obj_name}
    if record_id is not None:
        attrs["url"] = f"{prefix}/sobjects/{obj_name}/{record_id}"
    return attrs


def record_json(
    obj: ObjectDef, row: Mapping[str, Any], fields: Iterable[FieldDef], prefix: str
) -> dict[str, Any]:
    """`{"attributes": {...}, "Field": value, ...}` for the given fields of a stored row."""
    out: dict[str, Any] = {"attributes": attributes(obj.name, row.get("Id"), prefix)}
    for f in fields:
        out[f.name] = to_json(f, row.get(f.name))
    return out
