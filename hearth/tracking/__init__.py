"""Website tracking, the pure core: the collect wire format, sessions, aggregates, dirty fields.

No I/O: bytes in, typed events out (`parse_batch`); events in, sessions and aggregates out
(`sessionize`, `recompute`, `combine`); two aggregates in, the Salesforce fields that
changed out (`visitor_changes`, `company_changes`). Storage, the collect endpoint and the snippet
are built on top. The definitions are in ``docs/tracking.md``.
"""

from hearth.tracking.aggregates import (
    UTM_FIELDS,
    CompanyAggregate,
    UtmField,
    UtmFirstSeen,
    VisitorAggregate,
    combine,
    recompute,
)
from hearth.tracking.dirty import (
    COMPANY_FIELDS,
    VISITOR_FIELDS,
    company_changes,
    visitor_changes,
)
from hearth.tracking.events import (
    DEFAULT_LIMITS,
    Activity,
    BatchProblem,
    BatchRejected,
    Event,
    IdentificationSource,
    Identify,
    IdentifyTraits,
    Limits,
    PageEvent,
    PageView,
    ParsedBatch,
    Rejected,
    RejectReason,
    UtmValues,
    page_path,
    parse_batch,
    utm_values,
)
from hearth.tracking.sessions import (
    IDLE_TIMEOUT,
    Session,
    SessionKey,
    dedupe,
    sessionize,
)

__all__ = [
    "COMPANY_FIELDS",
    "DEFAULT_LIMITS",
    "IDLE_TIMEOUT",
    "UTM_FIELDS",
    "VISITOR_FIELDS",
    "Activity",
    "BatchProblem",
    "BatchRejected",
    "CompanyAggregate",
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
    "Session",
    "SessionKey",
    "UtmField",
    "UtmFirstSeen",
    "UtmValues",
    "VisitorAggregate",
    "combine",
    "company_changes",
    "dedupe",
    "page_path",
    "parse_batch",
    "recompute",
    "sessionize",
    "utm_values",
    "visitor_changes",
]
