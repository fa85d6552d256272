"""The org's clock, passed to everything that makes a timestamp, so tests can move it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = ["Clock"]


@dataclass
class Clock:
    """Wall-clock time plus an adjustable offset, at millisecond precision.

    `now()` never goes backwards within a process (a stepped system clock must not make
    SystemModstamp watermarks skip records); equal readings are fine, as in Salesforce.
    """

    offset: timedelta = field(default_factory=timedelta)
    _last: datetime = field(default_factory=lambda: datetime.min.replace(tzinfo=UTC))

    def now(self) -> datetime:
        moment = datetime.now(UTC) + self.offset
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        self._last = max(moment, self._last)
        return self._last

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
