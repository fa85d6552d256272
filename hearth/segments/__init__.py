"""Segments, the pure core: fields, rules, their JSON form, evaluation and facts. No I/O.

A segment is a rule over a visitor's or a company's fields: `catalogue(mappings)` lists the
fields (built-in and the admin's custom CRM fields); `parse_rule(json, catalogue)` checks a rule
sent by the API or the UI and `to_json(rule)` stores it; `visitor_facts(...)` and
`company_facts(...)` turn what storage loaded into `Facts`; `evaluate(rule, facts, now=now)`
answers and `explain(rule, facts, now)` says why. The definitions are in ``docs/segments.md``.
"""

from hearth.segments.evaluation import (
    ConditionResult,
    Explanation,
    Facts,
    FactValue,
    evaluate,
    explain,
    holds,
)
from hearth.segments.facts import company_facts, custom_fact, visitor_facts
from hearth.segments.fields import (
    BUILTIN_FIELDS,
    SALESFORCE_TYPES,
    Field,
    FieldCatalogue,
    Group,
    SkippedMapping,
    catalogue,
    custom_field_key,
)
from hearth.segments.operators import (
    OPERATORS,
    FieldType,
    Operator,
    TimeUnit,
    ValueKind,
    operators_for,
)
from hearth.segments.rules import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_LIST_VALUES,
    MAX_TEXT_LENGTH,
    MAX_WINDOW_AMOUNT,
    All,
    Any,
    Condition,
    InvalidSegment,
    Not,
    NumberRange,
    Rule,
    Value,
    Window,
    conditions,
    fields_of,
    parse_rule,
    to_json,
)

__all__ = [
    "BUILTIN_FIELDS",
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "MAX_LIST_VALUES",
    "MAX_TEXT_LENGTH",
    "MAX_WINDOW_AMOUNT",
    "OPERATORS",
    "SALESFORCE_TYPES",
    "All",
    "Any",
    "Condition",
    "ConditionResult",
    "Explanation",
    "FactValue",
    "Facts",
    "Field",
    "FieldCatalogue",
    "FieldType",
    "Group",
    "InvalidSegment",
    "Not",
    "NumberRange",
    "Operator",
    "Rule",
    "SkippedMapping",
    "TimeUnit",
    "Value",
    "ValueKind",
    "Window",
    "catalogue",
    "company_facts",
    "conditions",
    "custom_fact",
    "custom_field_key",
    "evaluate",
    "explain",
    "fields_of",
    "holds",
    "operators_for",
    "parse_rule",
    "to_json",
    "visitor_facts",
]
