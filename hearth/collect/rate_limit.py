"""A token bucket per site key, in this process's memory: how fast one site may send batches.

The snippet sends a batch every few seconds per open tab, so the default (50 batches a second,
bursts of 200) is far above what a real site sends and far below what would swamp the
database. Several web processes each keep their own buckets: the limit is per process, which
is what protects each process. Pure apart from the clock the caller passes in.
"""

from collections import OrderedDict

__all__ = ["RateLimiter"]


class RateLimiter:
    """`rate` batches a second per key, with bursts up to `burst`; at most `keys` buckets are
    kept (the least recently used go first, which forgets only sites that went quiet)."""

    def __init__(self, *, rate: float = 50.0, burst: float = 200.0, keys: int = 100_000) -> None:
        self._rate = rate
        self._burst = burst
        self._keys = keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait(self, key: str, now: float) -> float:
        """0 when a batch for `key` may go now (and takes its token), else seconds to wait."""
        tokens, since = self._buckets.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - since) * self._rate)
        if tokens >= 1:
            tokens -= 1
            wait = 0.0
        else:
            wait = (1 - tokens) / self._rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._keys:
            self._buckets.popitem(last=False)
        return wait
