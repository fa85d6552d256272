"""The REST API versions an org serves, and version-dependent behaviour."""

from __future__ import annotations

__all__ = ["LATEST", "OLDEST", "is_supported", "release_label", "versions_list"]

OLDEST = 31
LATEST = 68  # Winter '27


def release_label(major: int) -> str:
    """`31` → "Summer '14": three releases a year, Summer '14 being 31.0."""
    k = major - OLDEST
    season = ("Summer", "Winter", "Spring")[k % 3]
    return f"{season} '{14 + (k + 2) // 3:02d}"


def is_supported(version: str) -> bool:
    """True for `"31.0"` … `"68.0"`; the minor part must be `0`."""
    major, dot, minor = version.partition(".")
    return dot == "." and minor == "0" and major.isdigit() and OLDEST <= int(major) <= LATEST


def major(version: str) -> int:
    return int(version.partition(".")[0])


def versions_list() -> list[dict[str, str]]:
    return [
        {"label": release_label(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
        for v in range(OLDEST, LATEST + 1)
    ]
