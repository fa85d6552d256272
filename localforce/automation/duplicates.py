"""Duplicate rules: find existing records that match a saved one, then block or alert.

What can be matched is a table: Account by Website domain and/or Name, Contact and Lead by
Email. Values are compared after normalising them (`normalize_domain`, case folding), and all
of a rule's fields must match. Candidates come from an index, never a scan: Email and Name are
indexed columns compared case-insensitively, and Website goes through the org's trigram index
(`org.SUBSTRING_INDEXED`) with the exact domain check done here.

A match raises `DuplicatesDetected`, whose REST body is the `duplicateResult` shape captured
from real orgs (reference §8); inside collections it is the plain per-record error. An "alert"
rule lets the save through when the request sent `Sforce-Duplicate-Rule-Header:
allowSave=true`; a "block" rule never does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..dml import WriteOptions
from ..errors import RecordError
from ..org import SUBSTRING_INDEXED, Org, quote_ident, substring_index_name
from ..schema import ObjectDef
from ..values import Stored
from ..versions import LATEST
from . import store
from .expressions import ExpressionError, compile_formula
from .rules import DuplicateAction, DuplicateRule, RuleError, RuleKind

__all__ = [
    "MATCHABLE",
    "DuplicateRules",
    "DuplicatesDetected",
    "check_duplicate_rule",
    "duplicate_result",
    "find_duplicates",
    "normalize_domain",
]

# Duplicate management caps how many matches it reports per matching rule [U: limit assumed].
MAX_MATCH_RECORDS = 100

# The matching rules new orgs ship, reported when a rule does not name its own.
STANDARD_MATCHING_RULES = {
    "Account": "Standard_Account_Match_Rule_v1_0",
    "Contact": "Standard_Contact_Match_Rule_v1_1",
    "Lead": "Standard_Lead_Match_Rule_v1_0",
}


def normalize_domain(website: str) -> str | None:
    """`https://www.Example.com:8080/about?x` → `example.com`; None when nothing is left.

    Drops the scheme, user info, port, path, query and fragment, a trailing dot and one leading
    `www.`, and lower-cases the rest.
    """
    text = website.strip().lower()
    scheme, sep, rest = text.partition("://")
    if sep and scheme and all(c.isalnum() or c in "+.-" for c in scheme):
        text = rest
    text = text.removeprefix("//")
    for stop in "/?#":
        text = text.partition(stop)[0]
    host = text.rpartition("@")[2].partition(":")[0].rstrip(".")
    host = host.removeprefix("www.")
    return host or None


def _email(value: str) -> str | None:
    return value.strip().casefold() or None


def _name(value: str) -> str | None:
    return value.strip().casefold() or None


@dataclass(frozen=True, slots=True)
class _Matcher:
    normalize: Callable[[str], str | None]
    # True: candidates by SQL equality on the (case-insensitive) column; False: by the
    # column's trigram index on the normalised value.
    equality: bool
    # Salesforce reports FuzzyMatchEngine for matching methods other than exact [U].
    fuzzy: bool


_EMAIL = _Matcher(_email, equality=True, fuzzy=False)
_DOMAIN = _Matcher(normalize_domain, equality=False, fuzzy=True)
_NAME = _Matcher(_name, equality=True, fuzzy=False)

MATCHABLE: dict[str, dict[str, _Matcher]] = {
    "Account": {"Website": _DOMAIN, "Name": _NAME},
    "Contact": {"Email": _EMAIL},
    "Lead": {"Email": _EMAIL},
}
assert all(
    (obj, name) in SUBSTRING_INDEXED
    for obj, matchers in MATCHABLE.items()
    for name, m in matchers.items()
    if not m.equality
), "domain matching needs the trigram index"


def check_duplicate_rule(org: Org, rule: DuplicateRule) -> DuplicateRule:
    """The rule with canonical names; RuleError when it asks for matching we cannot do."""
    obj = org.object(rule.object)
    if obj is None or obj.name not in MATCHABLE:
        raise RuleError(f"duplicate rules apply to {', '.join(MATCHABLE)}, not {rule.object}")
    fields = []
    for name in rule.match_fields:
        canonical = next((f for f in MATCHABLE[obj.name] if f.lower() == name.lower()), None)
        if canonical is None:
            raise RuleError(
                f"matchFields: {obj.name} matches on {', '.join(MATCHABLE[obj.name])}, not {name}"
            )
        fields.append(canonical)
    targets = []
    for name in rule.match_objects or (obj.name,):
        target = org.object(name)
        if target is None or not all(f in MATCHABLE.get(target.name, {}) for f in fields):
            raise RuleError(f"matchObjects: {name} cannot be matched on {', '.join(fields)}")
        targets.append(target.name)
    matching_rules = {}
    for name, matching_rule in rule.matching_rules.items():
        target_name = next((t for t in targets if t.lower() == name.lower()), None)
        if target_name is None:
            raise RuleError(f"matchingRules: {name} is not one of matchObjects")
        matching_rules[target_name] = matching_rule
    if rule.condition is not None:
        try:
            compile_formula(rule.condition, obj)
        except ExpressionError as exc:
            raise RuleError(f"condition: {exc.message}", position=exc.position) from None
    return replace(
        rule,
        object=obj.name,
        match_fields=tuple(fields),
        match_objects=tuple(targets),
        matching_rules=matching_rules,
    )


def _candidates(
    org: Org, target: str, field: str, value: str, matcher: _Matcher, exclude: str | None
) -> list[tuple[str, ...]]:
    """Rows (Id, then the match fields) that may match; the caller decides exactly."""
    columns = ", ".join(f"t.{quote_ident(f)}" for f in MATCHABLE[target])
    where = ['t."IsDeleted" = 0']
    params: list[Stored] = []
    if matcher.equality:
        where.append(f"t.{quote_ident(field)} = ?")
        params.append(value)
    else:
        index = quote_ident(substring_index_name(target, field))
        where.append(f"t._rid IN (SELECT rowid FROM {index} WHERE {quote_ident(field)} LIKE ?)")
        params.append(f"%{value}%")
    if target == "Lead":
        where.append('t."IsConverted" = 0')  # converted leads are read-only history [U]
    if exclude is not None:
        where.append('t."Id" != ?')
        params.append(exclude)
    rows = org.conn.execute(
        f'SELECT t."Id", {columns} FROM {quote_ident(target)} t '
        f"WHERE {' AND '.join(where)} ORDER BY t._rid",
        params,
    ).fetchall()
    return [tuple(r) for r in rows]


def find_duplicates(
    org: Org, rule: DuplicateRule, record: Mapping[str, Stored]
) -> list[tuple[str, list[str]]]:
    """`[(object, [matching ids])]` for each searched object with matches, in rule order."""
    wanted: dict[str, str] = {}
    searched: dict[str, str] = {}
    for name in rule.match_fields:
        raw = record.get(name)
        key = MATCHABLE[rule.object][name].normalize(str(raw)) if raw is not None else None
        if key is None:
            return []  # a blank field matches nothing, as with Salesforce's default matching
        wanted[name] = key
        # SQL equality searches with the value as given: the column collation folds its case.
        searched[name] = str(raw).strip() if MATCHABLE[rule.object][name].equality else key
    own_id = record.get("Id")
    found = []
    for target in rule.searched_objects:
        matchers = MATCHABLE[target]
        # Drive the search by an equality column when there is one: it is the most selective.
        driver = min(rule.match_fields, key=lambda f: not matchers[f].equality)
        names = list(matchers)
        exclude = str(own_id) if own_id is not None and target == rule.object else None
        ids = []
        for row in _candidates(org, target, driver, searched[driver], matchers[driver], exclude):
            values = dict(zip(names, row[1:], strict=True))
            if all(
                values[f] is not None and matchers[f].normalize(str(values[f])) == wanted[f]
                for f in rule.match_fields
            ):
                ids.append(row[0])
        if ids:
            found.append((target, ids[:MAX_MATCH_RECORDS]))
    return found


def duplicate_result(
    rule: DuplicateRule, matches: list[tuple[str, list[str]]], api_version: str
) -> dict[str, Any]:
    """Salesforce's `duplicateResult` for a rule that found `matches`."""
    fuzzy = any(MATCHABLE[rule.object][f].fuzzy for f in rule.match_fields)
    return {
        "allowSave": rule.action is DuplicateAction.ALERT,
        "duplicateRule": rule.name,
        "duplicateRuleEntityType": rule.object,
        "errorMessage": rule.error_message,
        "matchResults": [
            {
                "entityType": target,
                "errors": [],
                "matchEngine": "FuzzyMatchEngine" if fuzzy else "ExactMatchEngine",
                "matchRecords": [
                    {
                        "additionalInformation": [],
                        "fieldDiffs": [],
                        "matchConfidence": 100.0,
                        "record": {
                            "attributes": {
                                "type": target,
                                "url": f"/services/data/v{api_version}/sobjects/{target}/{i}",
                            },
                            "Id": i,
                        },
                    }
                    for i in ids
                ],
                "rule": rule.matching_rules.get(target, STANDARD_MATCHING_RULES[target]),
                "size": len(ids),
                "success": True,
            }
            for target, ids in matches
        ],
    }


class DuplicatesDetected(RecordError):
    """DUPLICATES_DETECTED. Its REST body is `duplicateResult`, `errorCode` and `message` only:
    real orgs send no `fields` there; per-record results keep the usual three keys."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(
            status_code="DUPLICATES_DETECTED",
            message=str(result["errorMessage"]),
            extra={"duplicateResult": result},
        )

    def rest_body(self) -> list[dict[str, Any]]:
        return [
            {
                "duplicateResult": self.extra["duplicateResult"],
                "errorCode": self.status_code,
                "message": self.message,
            }
        ]


class DuplicateRules:
    """The `before_save` hook that runs the org's active duplicate rules."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def __call__(
        self,
        obj: ObjectDef,
        record: dict[str, Stored],
        old: dict[str, Any] | None,
        opts: WriteOptions,
    ) -> None:
        for rule in store.active_rules(self.org, RuleKind.DUPLICATE, obj.name):
            assert isinstance(rule, DuplicateRule)
            if not (rule.on_create if old is None else rule.on_update):
                continue
            if rule.action is DuplicateAction.ALERT and opts.allow_save_on_duplicates:
                continue
            if rule.condition is not None and not compile_formula(rule.condition, obj).evaluate(
                record, old
            ):
                continue
            matches = find_duplicates(self.org, rule, record)
            if matches:
                version = opts.api_version or f"{LATEST}.0"
                raise DuplicatesDetected(duplicate_result(rule, matches, version))
