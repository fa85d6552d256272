"""The collect wire format: one JSON batch from the snippet in, typed events out. Pure, no I/O.

The snippet sends a batch with ``navigator.sendBeacon`` (body type ``text/plain``, so no CORS
preflight); the body is UTF-8 JSON::

    {"site": "<site key>",
     "anon": "<anonymous id, from localStorage>",
     "session": "<client session id>",
     "sent_at": <client epoch milliseconds when the batch was sent>,
     "events": [
       {"id": "<event id>", "type": "pageview", "ts": <client epoch ms>,
        "url": "https://acme.com/pricing?utm_source=g", "title": "Pricing",
        "referrer": "https://google.com/"},
       {"id": "<event id>", "type": "activity", "ts": <ms>, "url": "<page url>",
        "seconds": <active seconds on this page since the previous activity event, 1..60>},
       {"id": "<event id>", "type": "identify", "ts": <ms>, "email": "a@b.com",
        "traits": {"name": "...", "title": "...", "linkedin": "https://linkedin.com/in/..."},
        "source": "form" | "api" | "chat" | "orchestration" | "enrichment"}
     ]}

`parse_batch(body, received_at=...)` checks it against `Limits` and returns a `ParsedBatch`:
the accepted events, and one `Rejected(index, reason, detail)` per event that was refused. A
problem with the batch as a whole (not UTF-8 JSON, too large, no usable site, anon or session,
no usable ``sent_at``, too many events) raises `BatchRejected`, so the collect endpoint answers
4xx with the reason. One malformed event never affects the others.

Rules (each refusal names a `RejectReason`):

- **Ids** (site, anon, session, event id): strings of 1 to ``max_id_length`` (64) characters
  from ``A-Z a-z 0-9 _ - . :``. An event id repeated inside one batch: the first copy is kept,
  later ones are refused (``duplicate_id``). Copies across batches are the aggregates' business
  (`hearth.tracking.sessions.dedupe`).
- **Types**: ``pageview``, ``activity``, ``identify``; anything else is ``unknown_type``.
- **Time.** The client's clock may be off by hours, so every ``ts`` is corrected by the batch's
  offset, ``received_at - sent_at``: ``at = ts + (received_at - sent_at)``. The events keep their
  timing relative to each other and to the moment of sending. An event still older than
  ``max_age`` (24 h) before ``received_at`` after correction is ``too_old``; one more than
  ``max_future`` (1 minute) after it is ``in_future``. ``ts`` and ``sent_at`` are JSON numbers
  (not booleans) of epoch milliseconds between 1970 and 9999; fractions of a millisecond are
  dropped.
- **URLs** (page ``url``, ``referrer``, LinkedIn trait): absolute ``http``/``https`` with a host,
  no whitespace or control characters, at most ``max_url_length`` (2,048) characters. A
  ``referrer`` that is empty, missing, or not an http(s) URL (``android-app://...``) becomes None
  instead of refusing the page view; a too-long one is refused.
- **Page path**: the URL's path, without query and fragment, exactly as sent (case and percent
  escapes kept, a trailing slash kept: ``/pricing`` and ``/pricing/`` are two paths), except that
  an empty path is the root, ``/``.
- **UTM values** (`UtmValues`): ``utm_campaign``, ``utm_content``, ``utm_medium``,
  ``utm_source`` from the page URL's query, the parameter names matched without regard to case,
  the first occurrence of each counting, values percent-decoded, trimmed, case kept; an empty
  value is no value.
- **Title**: a string of at most ``max_title_length`` (1,024) characters, or null/missing (an
  empty title is None). The
  snippet truncates longer titles before sending; a longer one refuses the event (``too_long``).
- **Activity seconds**: an integer from 1 to 60.
- **Identify**: ``email`` must be an address (`hearth.matching.normalize_email`, which trims and
  lowercases), at most 254 characters; ``traits`` is an object (or missing) whose known keys
  ``name``, ``title``, ``linkedin`` are strings of at most ``max_trait_length`` (512)
  characters, unknown keys ignored; ``source`` is one of `IdentificationSource`.
"""

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final, TypeAlias, TypeGuard
from urllib.parse import parse_qsl, urlsplit

from hearth.errors import HearthError
from hearth.matching.domains import normalize_email

__all__ = [
    "DEFAULT_LIMITS",
    "Activity",
    "BatchProblem",
    "BatchRejected",
    "Event",
    "IdentificationSource",
    "Identify",
    "IdentifyTraits",
    "Limits",
    "PageEvent",
    "PageView",
    "ParsedBatch",
    "RejectReason",
    "Rejected",
    "UtmValues",
    "page_path",
    "parse_batch",
    "utm_values",
]


@dataclass(frozen=True, kw_only=True)
class Limits:
    """How much one batch and one event may hold, and the window of acceptable event times."""

    max_body_bytes: int = 65_536
    max_events: int = 100
    max_id_length: int = 64
    max_url_length: int = 2_048
    max_title_length: int = 1_024
    max_email_length: int = 254
    max_trait_length: int = 512
    max_age: timedelta = timedelta(hours=24)
    max_future: timedelta = timedelta(minutes=1)


DEFAULT_LIMITS: Final = Limits()


class BatchProblem(StrEnum):
    """Why a whole batch was refused (the collect endpoint answers 4xx with it)."""

    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    NOT_AN_OBJECT = "not_an_object"
    BAD_SITE = "bad_site"
    BAD_ANON = "bad_anon"
    BAD_SESSION = "bad_session"
    BAD_SENT_AT = "bad_sent_at"
    BAD_EVENTS = "bad_events"
    TOO_MANY_EVENTS = "too_many_events"


class BatchRejected(HearthError):
    """The batch as a whole breaks the wire format; no event of it was accepted."""

    def __init__(self, reason: BatchProblem, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class RejectReason(StrEnum):
    """Why one event of a batch was refused (the others are unaffected)."""

    NOT_AN_OBJECT = "not_an_object"
    BAD_ID = "bad_id"
    DUPLICATE_ID = "duplicate_id"
    UNKNOWN_TYPE = "unknown_type"
    BAD_TIMESTAMP = "bad_timestamp"
    TOO_OLD = "too_old"
    IN_FUTURE = "in_future"
    BAD_URL = "bad_url"
    TOO_LONG = "too_long"
    BAD_TITLE = "bad_title"
    BAD_SECONDS = "bad_seconds"
    BAD_EMAIL = "bad_email"
    BAD_TRAITS = "bad_traits"
    BAD_SOURCE = "bad_source"


@dataclass(frozen=True)
class Rejected:
    """Event number `index` (0-based, in the batch's ``events`` list) was refused."""

    index: int
    reason: RejectReason
    detail: str


class IdentificationSource(StrEnum):
    """How an email was learnt; the values of the ``Hearth: Identification Source`` picklist."""

    FORM = "form"
    CHAT = "chat"
    API = "api"
    ORCHESTRATION = "orchestration"
    ENRICHMENT = "enrichment"


@dataclass(frozen=True, kw_only=True)
class UtmValues:
    """The UTM parameters of a page URL; None where the URL has none (or only an empty one)."""

    campaign: str | None = None
    content: str | None = None
    medium: str | None = None
    source: str | None = None


@dataclass(frozen=True, kw_only=True)
class PageView:
    """A page was loaded (or shown by a single-page app's navigation)."""

    event_id: str
    anonymous_id: str
    client_session_id: str
    at: datetime
    url: str
    path: str
    title: str | None = None
    referrer: str | None = None
    utm: UtmValues = field(default_factory=UtmValues)


@dataclass(frozen=True, kw_only=True)
class Activity:
    """The visitor was active (mouse, scroll, click, keys) on a page for `seconds` seconds."""

    event_id: str
    anonymous_id: str
    client_session_id: str
    at: datetime
    url: str
    path: str
    seconds: int


@dataclass(frozen=True, kw_only=True)
class IdentifyTraits:
    """What an identify call says about the person besides the email."""

    name: str | None = None
    title: str | None = None
    linkedin: str | None = None


@dataclass(frozen=True, kw_only=True)
class Identify:
    """The visitor's email became known (form, chat, the identify API, ...)."""

    event_id: str
    anonymous_id: str
    client_session_id: str
    at: datetime
    email: str
    source: IdentificationSource
    traits: IdentifyTraits = field(default_factory=IdentifyTraits)


#: The events of a visit: what sessions and aggregates are made of.
PageEvent: TypeAlias = PageView | Activity
#: Every event the snippet can send.
Event: TypeAlias = PageView | Activity | Identify


@dataclass(frozen=True, kw_only=True)
class ParsedBatch:
    """A batch after `parse_batch`: who sent it, its clock offset, and what was accepted."""

    site_key: str
    anonymous_id: str
    client_session_id: str
    received_at: datetime
    clock_offset: timedelta
    events: tuple[Event, ...]
    rejected: tuple[Rejected, ...]


_ID = re.compile(r"[A-Za-z0-9_.:\-]+")
_UNSAFE_URL_CHARACTERS = re.compile(r"[\x00-\x20\x7f]")
# Epoch milliseconds from 1970-01-01 to 9999-12-31, the range datetime can hold.
_MAX_EPOCH_MS = 253_402_300_799_999
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UTM_KEYS: Final = ("utm_campaign", "utm_content", "utm_medium", "utm_source")
_TRAIT_KEYS: Final = ("name", "title", "linkedin")
_SOURCES: Final = frozenset(source.value for source in IdentificationSource)


class _Refused(Exception):
    """One event breaks a rule; caught per event by `parse_batch`."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def parse_batch(
    body: bytes, *, received_at: datetime, limits: Limits = DEFAULT_LIMITS
) -> ParsedBatch:
    """Parse and check one collect body received at `received_at` (an aware datetime).

    Raises `BatchRejected` when the batch as a whole is unusable; otherwise every event is
    either in ``events`` (in batch order) or in ``rejected``.
    """
    if received_at.tzinfo is None:
        raise ValueError("received_at must be an aware datetime")
    received_at = received_at.astimezone(UTC)
    if len(body) > limits.max_body_bytes:
        raise BatchRejected(
            BatchProblem.TOO_LARGE,
            f"the body has {len(body)} bytes; the limit is {limits.max_body_bytes}",
        )
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BatchRejected(BatchProblem.NOT_JSON, "the body is not UTF-8 JSON") from exc
    if not isinstance(document, dict):
        raise BatchRejected(BatchProblem.NOT_AN_OBJECT, "the body is not a JSON object")
    site = _batch_id(document, "site", BatchProblem.BAD_SITE, limits)
    anon = _batch_id(document, "anon", BatchProblem.BAD_ANON, limits)
    session = _batch_id(document, "session", BatchProblem.BAD_SESSION, limits)
    sent_at = _epoch_ms(document.get("sent_at"))
    if sent_at is None:
        raise BatchRejected(BatchProblem.BAD_SENT_AT, "sent_at must be epoch milliseconds")
    raw_events = document.get("events")
    if not isinstance(raw_events, list):
        raise BatchRejected(BatchProblem.BAD_EVENTS, "events must be a list")
    if len(raw_events) > limits.max_events:
        raise BatchRejected(
            BatchProblem.TOO_MANY_EVENTS,
            f"the batch has {len(raw_events)} events; the limit is {limits.max_events}",
        )
    context = _Context(
        anonymous_id=anon,
        client_session_id=session,
        received_at=received_at,
        offset=received_at - sent_at,
        limits=limits,
    )
    events: list[Event] = []
    rejected: list[Rejected] = []
    seen_ids: set[str] = set()
    for index, raw in enumerate(raw_events):
        try:
            event = _parse_event(raw, context)
            if event.event_id in seen_ids:
                raise _Refused(RejectReason.DUPLICATE_ID, "an earlier event has this id")
        except _Refused as refused:
            rejected.append(Rejected(index, refused.reason, refused.detail))
            continue
        seen_ids.add(event.event_id)
        events.append(event)
    return ParsedBatch(
        site_key=site,
        anonymous_id=anon,
        client_session_id=session,
        received_at=received_at,
        clock_offset=context.offset,
        events=tuple(events),
        rejected=tuple(rejected),
    )


def page_path(url: str) -> str:
    """The path of `url`, without query and fragment, as sent; an empty path is ``/``."""
    return urlsplit(url).path or "/"


def utm_values(url: str) -> UtmValues:
    """The UTM parameters of `url`'s query (names without regard to case, first one counts)."""
    found: dict[str, str] = {}
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        key = name.strip().lower()
        if key in _UTM_KEYS and key not in found:
            found[key] = value.strip()
    return UtmValues(
        campaign=found.get("utm_campaign") or None,
        content=found.get("utm_content") or None,
        medium=found.get("utm_medium") or None,
        source=found.get("utm_source") or None,
    )


@dataclass(frozen=True)
class _Context:
    anonymous_id: str
    client_session_id: str
    received_at: datetime
    offset: timedelta
    limits: Limits


def _batch_id(
    document: Mapping[str, object], key: str, problem: BatchProblem, limits: Limits
) -> str:
    value = document.get(key)
    if not _is_id(value, limits):
        raise BatchRejected(
            problem,
            f"{key} must be 1 to {limits.max_id_length} characters of A-Z a-z 0-9 _ - . :",
        )
    return value


def _is_id(value: object, limits: Limits) -> TypeGuard[str]:
    return (
        isinstance(value, str)
        and len(value) <= limits.max_id_length
        and _ID.fullmatch(value) is not None
    )


def _epoch_ms(value: object) -> datetime | None:
    """`value` as an aware UTC datetime if it is a usable number of epoch milliseconds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    milliseconds = math.floor(value)
    if not 0 <= milliseconds <= _MAX_EPOCH_MS:
        return None
    return _EPOCH + timedelta(milliseconds=milliseconds)


def _parse_event(raw: object, context: _Context) -> Event:
    if not isinstance(raw, dict):
        raise _Refused(RejectReason.NOT_AN_OBJECT, "an event must be a JSON object")
    limits = context.limits
    event_id = raw.get("id")
    if not _is_id(event_id, limits):
        raise _Refused(
            RejectReason.BAD_ID,
            f"id must be 1 to {limits.max_id_length} characters of A-Z a-z 0-9 _ - . :",
        )
    kind = raw.get("type")
    if kind not in ("pageview", "activity", "identify"):
        raise _Refused(RejectReason.UNKNOWN_TYPE, f"unknown event type {kind!r}")
    at = _event_time(raw.get("ts"), context)
    anon, session = context.anonymous_id, context.client_session_id
    if kind == "identify":
        return Identify(
            event_id=event_id,
            anonymous_id=anon,
            client_session_id=session,
            at=at,
            email=_email(raw.get("email"), limits),
            source=_source(raw.get("source")),
            traits=_traits(raw.get("traits"), limits),
        )
    url = _url(raw.get("url"), "url", limits)
    path = page_path(url)
    if kind == "activity":
        seconds = raw.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= 60:
            raise _Refused(RejectReason.BAD_SECONDS, "seconds must be an integer from 1 to 60")
        return Activity(
            event_id=event_id,
            anonymous_id=anon,
            client_session_id=session,
            at=at,
            url=url,
            path=path,
            seconds=seconds,
        )
    return PageView(
        event_id=event_id,
        anonymous_id=anon,
        client_session_id=session,
        at=at,
        url=url,
        path=path,
        title=_title(raw.get("title"), limits),
        referrer=_referrer(raw.get("referrer"), limits),
        utm=utm_values(url),
    )


def _event_time(value: object, context: _Context) -> datetime:
    client_time = _epoch_ms(value)
    if client_time is None:
        raise _Refused(RejectReason.BAD_TIMESTAMP, "ts must be epoch milliseconds")
    try:
        at = client_time + context.offset
    except OverflowError as exc:
        raise _Refused(RejectReason.BAD_TIMESTAMP, "ts is out of range") from exc
    limits = context.limits
    if at < context.received_at - limits.max_age:
        raise _Refused(
            RejectReason.TOO_OLD,
            f"after clock correction the event is more than {limits.max_age} old",
        )
    if at > context.received_at + limits.max_future:
        raise _Refused(
            RejectReason.IN_FUTURE,
            f"after clock correction the event is more than {limits.max_future} in the future",
        )
    return at


def _url(value: object, name: str, limits: Limits) -> str:
    if not isinstance(value, str):
        raise _Refused(RejectReason.BAD_URL, f"{name} must be a string")
    if len(value) > limits.max_url_length:
        raise _Refused(
            RejectReason.TOO_LONG, f"{name} is longer than {limits.max_url_length} characters"
        )
    if not _is_http_url(value):
        raise _Refused(RejectReason.BAD_URL, f"{name} is not an absolute http(s) URL")
    return value


def _is_http_url(value: str) -> bool:
    if _UNSAFE_URL_CHARACTERS.search(value):
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _title(value: object, limits: Limits) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Refused(RejectReason.BAD_TITLE, "title must be a string or null")
    if len(value) > limits.max_title_length:
        raise _Refused(
            RejectReason.TOO_LONG, f"title is longer than {limits.max_title_length} characters"
        )
    return value


def _referrer(value: object, limits: Limits) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Refused(RejectReason.BAD_URL, "referrer must be a string or null")
    if len(value) > limits.max_url_length:
        raise _Refused(
            RejectReason.TOO_LONG, f"referrer is longer than {limits.max_url_length} characters"
        )
    return value if _is_http_url(value) else None


def _email(value: object, limits: Limits) -> str:
    if not isinstance(value, str) or len(value) > limits.max_email_length:
        raise _Refused(
            RejectReason.BAD_EMAIL,
            f"email must be an address of at most {limits.max_email_length} characters",
        )
    email = normalize_email(value)
    if email is None:
        raise _Refused(RejectReason.BAD_EMAIL, "email is not an email address")
    return email


def _source(value: object) -> IdentificationSource:
    if isinstance(value, str) and value in _SOURCES:
        return IdentificationSource(value)
    allowed = ", ".join(sorted(_SOURCES))
    raise _Refused(RejectReason.BAD_SOURCE, f"source must be one of {allowed}")


def _traits(value: object, limits: Limits) -> IdentifyTraits:
    if value is None:
        return IdentifyTraits()
    if not isinstance(value, dict):
        raise _Refused(RejectReason.BAD_TRAITS, "traits must be an object")
    found: dict[str, str | None] = {}
    for key in _TRAIT_KEYS:
        trait = value.get(key)
        if trait is None or trait == "":
            found[key] = None
            continue
        if not isinstance(trait, str) or len(trait) > limits.max_trait_length:
            raise _Refused(
                RejectReason.BAD_TRAITS,
                f"traits.{key} must be a string of at most {limits.max_trait_length} characters",
            )
        found[key] = trait.strip() or None
    linkedin = found["linkedin"]
    if linkedin is not None and not _is_http_url(linkedin):
        raise _Refused(RejectReason.BAD_TRAITS, "traits.linkedin is not an http(s) URL")
    return IdentifyTraits(name=found["name"], title=found["title"], linkedin=linkedin)
