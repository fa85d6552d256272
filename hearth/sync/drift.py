"""Mapped fields that changed in Salesforce since they were mapped. Pure.

Before each cycle the sync compares an object's enabled mappings with its describe. A mapped
field that is gone (deleted, or hidden from Hearth's user by field-level security: describe
cannot tell the two apart) or whose type changed is disabled with a warning an admin can read,
and the cycle goes on without it; the admin maps it again to bring it back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hearth.sync.fields import FieldMapping

__all__ = ["Drift", "detect_drift"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Drift:
    """A mapping to disable, and the warning to store on it."""

    mapping: FieldMapping
    warning: str


def detect_drift(
    mappings: Iterable[FieldMapping], describe: Mapping[str, Any], now: datetime
) -> list[Drift]:
    """The enabled `mappings` of the described object that no longer fit its describe."""
    described = {str(f["name"]).lower(): f for f in describe.get("fields", [])}
    noticed = now.strftime("%Y-%m-%d %H:%M UTC")
    drifted: list[Drift] = []
    for mapping in mappings:
        if not mapping.enabled:
            continue
        name = f"{mapping.sobject}.{mapping.field}"
        field = described.get(mapping.field.lower())
        if field is None:
            warning = (
                f"{name} was deleted in Salesforce, or hidden from Hearth's Salesforce user, "
                f"as of {noticed}; mapping disabled"
            )
        elif field.get("type") != mapping.type:
            warning = (
                f"{name} changed type in Salesforce from {mapping.type} to {field.get('type')}, "
                f"as of {noticed}; mapping disabled"
            )
        else:
            continue
        drifted.append(Drift(mapping=mapping, warning=warning))
    return drifted
