"""The sync's decisions about a pass, apart from doing it. Pure.

An object goes through phases: `INITIAL` (the first full copy), then `INCREMENTAL` (what changed
since the watermark), and `RESYNC` (a full copy again, after a mapping changed) back to
`INCREMENTAL`. A full pass reads through the REST API or Bulk API 2.0, chosen once from the
object's size.
"""

from __future__ import annotations

import enum

__all__ = ["DEFAULT_BULK_THRESHOLD", "Mode", "Phase", "choose_mode"]

DEFAULT_BULK_THRESHOLD = 10_000
"""Records above which a full pass uses Bulk API 2.0. A REST page holds 2,000 records, so
10,000 records is 5 REST calls; a Bulk job costs about as many (create, polls, result pages) and
grows by one call per result page of up to tens of thousands of rows."""


class Phase(enum.StrEnum):
    INITIAL = "initial"
    RESYNC = "resync"
    INCREMENTAL = "incremental"


class Mode(enum.StrEnum):
    REST = "rest"
    BULK = "bulk"


def choose_mode(count: int, threshold: int = DEFAULT_BULK_THRESHOLD) -> Mode:
    """Bulk API 2.0 for an object of more than `threshold` records, the REST API otherwise."""
    return Mode.BULK if count > threshold else Mode.REST
