"""Fault injection, as a pure decision core: rules and calls in, decisions out, no I/O.

A `FaultPlan` is a seed and an ordered list of `FaultRule`s. For every REST call the pipeline
asks `plan.decide(call)` and gets back a `Decision` and the plan's next state (rules that count
down, and how many matching calls each rule has seen); the caller stores the new plan and applies
the decision. Nothing here knows about HTTP, SQLite or the clock.

A rule matches a call by path (a prefix at segment boundaries, or a glob when the pattern has
`*`, `?` or `[`) and optionally by method. It fires either for the next `times` matching calls
or with probability `rate` per matching call. The randomness is a counter-mode PRNG: the n-th
matching call of rule i draws `hash(seed, i, n)`, so the plan advances once per matching call,
can be stored as plain JSON, and the same seed replays the same sequence of faulted calls.

Evaluation, per call, in rule order: every matching `slow` rule that fires adds its delay; the
first other rule that fires is the call's fault, and the rules after it are not consulted (so a
call refused at the edge does not use up a later "next N" rule).

Where the REST pipeline (`api.py`) applies each kind, and whether the call still counts against
the daily API allowance (only calls that reach the API do; Salesforce counts neither its front
door's 503s, nor 401s, nor calls it refuses for a limit):

    kind                stage                                          counted
    server_unavailable  before authentication: HTML 503                no
    drop_connection     before authentication: connection closed       no
    session_expired     instead of authentication: 401, token revoked  no
    request_limit       instead of the allowance check: 403            no
    slow                before the handler: delay, then proceed        yes
    unable_to_lock_row  inside the handler: every write fails          yes
    lost_after_commit   after the handler committed: connection closed yes
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from .errors import ApiError, RecordError

__all__ = [
    "NO_FAULT",
    "PLAN_KEY",
    "SERVICE_UNAVAILABLE_HTML",
    "WRITE_METHODS",
    "Call",
    "Decision",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "FaultRuleError",
    "RuleProgress",
    "lock_error",
    "session_expired_error",
]

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_METHODS = frozenset({"GET", "HEAD", *WRITE_METHODS})
# Salesforce's REST timeout is 10 minutes; a longer delay could never be observed by a client.
MAX_DELAY_MS = 600_000
# The org metadata key a plan is stored under (in the org database, so that the admin API, every
# app serving the org and a restarted server all see the same rules and their progress).
PLAN_KEY = "fault_plan"
_VERSIONED = re.compile(r"^/services/data/v\d+\.\d+(?=/|$)")


class FaultRuleError(ValueError):
    """A fault rule or plan that cannot be applied; the message says which part and why."""


class FaultKind(StrEnum):
    SERVER_UNAVAILABLE = "server_unavailable"
    UNABLE_TO_LOCK_ROW = "unable_to_lock_row"
    SESSION_EXPIRED = "session_expired"
    REQUEST_LIMIT = "request_limit"
    SLOW = "slow"
    DROP_CONNECTION = "drop_connection"
    LOST_AFTER_COMMIT = "lost_after_commit"


# Salesforce answers maintenance and overload from its front door with an HTML page, not the
# JSON error array; clients must cope with that. The wording is ours. [U]
SERVICE_UNAVAILABLE_HTML = """<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Service Unavailable</title></head>
<body>
<h1>Service Unavailable</h1>
<p>The server is temporarily unable to service your request due to maintenance downtime or
capacity problems. Please try again later.</p>
</body>
</html>
"""


def session_expired_error() -> ApiError:
    return ApiError(
        status=401,
        error_code="INVALID_SESSION_ID",
        message="Session expired or invalid",
        headers={"WWW-Authenticate": "Token"},
    )


def lock_error(record_id: str) -> RecordError:
    """A write that waited for a row lock held by another transaction, and gave up."""
    return RecordError(
        status_code="UNABLE_TO_LOCK_ROW",
        message=f"unable to obtain exclusive access to this record or 1 records: {record_id}",
    )


@dataclass(frozen=True, kw_only=True)
class Call:
    """What a rule can see of a REST call: its effective method and its URL path."""

    method: str
    path: str


@dataclass(frozen=True, kw_only=True)
class Decision:
    fault: FaultKind | None = None  # never SLOW: delays are `delay_ms`
    delay_ms: int = 0


NO_FAULT = Decision()


def _require_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultRuleError(f"{key} must be an integer")
    return value


@dataclass(frozen=True, kw_only=True)
class FaultRule:
    """One switchable fault: which calls it matches, and how often it fires."""

    kind: FaultKind
    path: str = "/"
    method: str | None = None
    rate: float | None = None
    times: int | None = None
    delay_ms: int = 0

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise FaultRuleError("path must start with '/'")
        if self.method is not None and self.method not in _METHODS:
            raise FaultRuleError(f"method must be one of {', '.join(sorted(_METHODS))}")
        if (self.rate is None) == (self.times is None):
            raise FaultRuleError("give exactly one of rate (0..1) and times (the next N calls)")
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise FaultRuleError("rate must be between 0 and 1")
        if self.times is not None and self.times < 1:
            raise FaultRuleError("times must be at least 1")
        if self.kind is FaultKind.SLOW and not 1 <= self.delay_ms <= MAX_DELAY_MS:
            raise FaultRuleError(f"a slow rule needs delay_ms between 1 and {MAX_DELAY_MS}")
        if self.kind is not FaultKind.SLOW and self.delay_ms:
            raise FaultRuleError("delay_ms belongs to slow rules only")

    @classmethod
    def from_json(cls, data: Any) -> FaultRule:
        if not isinstance(data, dict):
            raise FaultRuleError("a rule must be a JSON object")
        unknown = set(data) - {"kind", "path", "method", "rate", "times", "delay_ms"}
        if unknown:
            raise FaultRuleError(f"unknown keys: {', '.join(sorted(unknown))}")
        try:
            kind = FaultKind(str(data.get("kind")))
        except ValueError:
            kinds = ", ".join(k.value for k in FaultKind)
            raise FaultRuleError(f"kind must be one of {kinds}") from None
        path = data.get("path", "/")
        if not isinstance(path, str):
            raise FaultRuleError("path must be a string")
        method = data.get("method")
        if method is not None and not isinstance(method, str):
            raise FaultRuleError("method must be a string")
        rate = data.get("rate")
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float)):
            raise FaultRuleError("rate must be a number between 0 and 1")
        return cls(
            kind=kind,
            path=path,
            method=None if method is None else method.upper(),
            rate=None if rate is None else float(rate),
            times=_require_int(data, "times"),
            delay_ms=_require_int(data, "delay_ms") or 0,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind.value, "path": self.path}
        if self.method is not None:
            out["method"] = self.method
        if self.rate is not None:
            out["rate"] = self.rate
        if self.times is not None:
            out["times"] = self.times
        if self.kind is FaultKind.SLOW:
            out["delay_ms"] = self.delay_ms
        return out

    def matches(self, call: Call) -> bool:
        if self.method is not None and call.method != self.method:
            return False
        # Lock contention is a property of writes; a read never waits for a row lock.
        if self.kind is FaultKind.UNABLE_TO_LOCK_ROW and call.method not in WRITE_METHODS:
            return False
        # Patterns are relative to /services/data/vXX.X unless they spell out a full path.
        path = call.path if self.path.startswith("/services/") else _VERSIONED.sub("", call.path)
        path = path or "/"
        if any(ch in self.path for ch in "*?["):
            return fnmatch.fnmatchcase(path, self.path)
        prefix = self.path.rstrip("/")
        return not prefix or path == prefix or path.startswith(prefix + "/")


@dataclass(frozen=True, kw_only=True)
class RuleProgress:
    matched: int = 0  # matching calls seen: the rule's PRNG position
    fired: int = 0


def _draw(seed: int, rule_index: int, n: int) -> float:
    """The n-th number in [0, 1) of rule `rule_index`'s stream under `seed`."""
    digest = hashlib.blake2b(f"{seed}:{rule_index}:{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True, kw_only=True)
class FaultPlan:
    seed: int
    rules: tuple[FaultRule, ...] = ()
    # One entry per rule; left empty, every rule starts from zero.
    progress: tuple[RuleProgress, ...] = ()

    def __post_init__(self) -> None:
        if not self.progress:
            object.__setattr__(self, "progress", tuple(RuleProgress() for _ in self.rules))
        if len(self.progress) != len(self.rules):
            raise FaultRuleError("progress must have one entry per rule")

    def _fires(self, index: int, rule: FaultRule, seen: RuleProgress) -> bool:
        if rule.times is not None:
            return seen.fired < rule.times
        assert rule.rate is not None
        return _draw(self.seed, index, seen.matched) < rule.rate

    def decide(self, call: Call) -> tuple[Decision, FaultPlan]:
        """The faults of one call, and the plan as it stands after that call."""
        progress = list(self.progress)
        delay = 0
        fault: FaultKind | None = None
        for index, rule in enumerate(self.rules):
            if not rule.matches(call):
                continue
            seen = progress[index]
            fires = self._fires(index, rule, seen)
            progress[index] = RuleProgress(matched=seen.matched + 1, fired=seen.fired + fires)
            if not fires:
                continue
            if rule.kind is FaultKind.SLOW:
                delay += rule.delay_ms
            else:
                fault = rule.kind
                break
        if fault is None and not delay:
            decision = NO_FAULT
        else:
            decision = Decision(fault=fault, delay_ms=delay)
        updated = tuple(progress)
        return decision, (self if updated == self.progress else replace(self, progress=updated))

    @classmethod
    def from_json(cls, data: Any, *, default_seed: int) -> FaultPlan:
        """A plan from the admin API's `{"seed": n, "rules": [...]}`; progress starts at zero."""
        if not isinstance(data, dict):
            raise FaultRuleError("the body must be a JSON object")
        unknown = set(data) - {"seed", "rules"}
        if unknown:
            raise FaultRuleError(f"unknown keys: {', '.join(sorted(unknown))}")
        seed = _require_int(data, "seed")
        rules = data.get("rules", [])
        if not isinstance(rules, list):
            raise FaultRuleError("rules must be a list")
        parsed = []
        for i, item in enumerate(rules):
            try:
                parsed.append(FaultRule.from_json(item))
            except FaultRuleError as exc:
                raise FaultRuleError(f"rules[{i}]: {exc}") from None
        return cls(seed=default_seed if seed is None else seed, rules=tuple(parsed))

    def to_json(self) -> dict[str, Any]:
        """The plan with each rule's progress (and, for `times` rules, what remains)."""
        rules = []
        for rule, seen in zip(self.rules, self.progress, strict=True):
            entry = {**rule.to_json(), "matched": seen.matched, "fired": seen.fired}
            if rule.times is not None:
                entry["remaining"] = rule.times - seen.fired
            rules.append(entry)
        return {"seed": self.seed, "rules": rules}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> FaultPlan:
        """The inverse of `dumps`, progress included (the plan as it was stored)."""
        data = json.loads(text)
        keys = ("kind", "path", "method", "rate", "times", "delay_ms")
        return cls(
            seed=int(data["seed"]),
            rules=tuple(
                FaultRule.from_json({k: r[k] for k in keys if k in r}) for r in data["rules"]
            ),
            progress=tuple(
                RuleProgress(matched=int(r["matched"]), fired=int(r["fired"]))
                for r in data["rules"]
            ),
        )
