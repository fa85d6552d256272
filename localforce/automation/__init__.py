"""Org automation: validation rules, duplicate rules, lead assignment rules, lead conversion.

    hooks(org)             the `Dml.before_save` hooks, in Salesforce's order of execution
    ensure_tables(org)     the rule table (idempotent; run by bootstrap.ensure_tables)
    register_predicate()   a Python error condition for validation rules (this process only)
    convert_lead()         Lead → Account + Contact (+ Opportunity)
    ADMIN_ROUTES           the admin API under /_localforce/automation and /_localforce/leads

Rules are stored in the org database and read on every write, so rules added through the admin
API apply at once to REST, composite, collections and Bulk API writes alike.
"""

from __future__ import annotations

from ..dml import Hook
from ..org import Org
from .admin import ADMIN_ROUTES
from .assignment import AssignmentRules
from .conversion import ConversionError, LeadConvert, LeadConvertResult, convert_lead
from .duplicates import DuplicateRules, DuplicatesDetected
from .expressions import ExpressionError, Formula, compile_formula
from .store import ensure_tables
from .validation import Predicate, ValidationRules, register_predicate

__all__ = [
    "ADMIN_ROUTES",
    "ConversionError",
    "DuplicatesDetected",
    "ExpressionError",
    "Formula",
    "LeadConvert",
    "LeadConvertResult",
    "Predicate",
    "compile_formula",
    "convert_lead",
    "ensure_tables",
    "hooks",
    "register_predicate",
]


def hooks(org: Org) -> list[Hook]:
    """Salesforce's order: custom validation rules, then duplicate rules, then (after the
    record is saved, which here is the same transaction) assignment rules. Assignment thus sees
    a record that passed both, and neither sees the owner it picks."""
    return [ValidationRules(org), DuplicateRules(org), AssignmentRules(org)]
