"""Where a pass stands, as a plain value: done, total, rate and time left. Pure.

The sync hands a `SyncProgress` to the caller's callback after every committed batch (a web page
or the CLI shows it) and keeps the counters in `sync_state`, so a page can rebuild the same
value with `measure` from what is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from hearth.sync.plan import Phase

__all__ = ["ProgressCallback", "SyncProgress", "measure"]


@dataclass(frozen=True, kw_only=True, slots=True)
class SyncProgress:
    """One object's pass: `done` of `total` records (None when unknown, as in an incremental
    pass), at `rate` records a second, with `eta` left (None until both can be known)."""

    sobject: str
    phase: Phase
    done: int
    total: int | None
    rate: float | None
    eta: timedelta | None

    @property
    def fraction(self) -> float | None:
        """Done as a share of the total, capped at 1 (records created meanwhile overshoot)."""
        if self.total is None:
            return None
        return 1.0 if self.total == 0 else min(1.0, self.done / self.total)


ProgressCallback = Callable[[SyncProgress], None]


def measure(
    *,
    sobject: str,
    phase: Phase,
    done: int,
    total: int | None,
    started_at: datetime | None,
    now: datetime,
) -> SyncProgress:
    """The progress of a pass that started at `started_at` and has done `done` records by `now`."""
    elapsed = (now - started_at).total_seconds() if started_at is not None else 0.0
    rate = done / elapsed if elapsed > 0 and done > 0 else None
    eta: timedelta | None = None
    if rate is not None and total is not None:
        eta = timedelta(seconds=max(0, total - done) / rate)
    return SyncProgress(sobject=sobject, phase=phase, done=done, total=total, rate=rate, eta=eta)
