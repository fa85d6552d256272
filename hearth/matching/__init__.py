"""Matching visitors to the CRM mirror: domain and email keys, Account choice, roll-ups (pure)."""

from hearth.matching.domains import (
    company_domain_for_email,
    email_domain,
    is_free_mail_domain,
    normalize_domain,
    normalize_email,
)
from hearth.matching.match import (
    AccountChoice,
    AccountFacts,
    AccountRule,
    MatchResult,
    MirrorView,
    Owner,
    Rollups,
    StageCount,
    TraceStep,
    choose_account,
    match_visitor,
)

__all__ = [
    "AccountChoice",
    "AccountFacts",
    "AccountRule",
    "MatchResult",
    "MirrorView",
    "Owner",
    "Rollups",
    "StageCount",
    "TraceStep",
    "choose_account",
    "company_domain_for_email",
    "email_domain",
    "is_free_mail_domain",
    "match_visitor",
    "normalize_domain",
    "normalize_email",
]
