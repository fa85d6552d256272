"""Admin API for org automation: what Setup's rule pages and the Convert button do.

Under `/_localforce` (admin token required), for each of `validation-rules`,
`duplicate-rules` and `assignment-rules`:

    GET    /automation/{kind}[?object=Lead]     {"rules": [rule, ...]}
    POST   /automation/{kind}                   201 rule       (400 bad rule, 409 name taken)
    GET    /automation/{kind}/{id}              rule           (404)
    DELETE /automation/{kind}/{id}              204            (404)
    POST   /automation/{kind}/{id}/activate     rule           (404)
    POST   /automation/{kind}/{id}/deactivate   rule           (404)

and `POST /leads/{lead_id}/convert` → `{"leadId", "accountId", "contactId", "opportunityId"}`.
A 400 about a formula carries its `position`; a conversion that a record rule refuses answers
400 with the record error (`errorCode`, `fields`, and `duplicateResult` for duplicates).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from starlette.responses import JSONResponse, Response

from ..admin_api import AdminError, AdminRequest, AdminRoute
from ..dml import WriteOptions
from ..errors import RecordError
from ..org import Org
from . import store
from .assignment import check_assignment_rule
from .conversion import ConversionError, LeadConvert, convert_lead
from .duplicates import check_duplicate_rule
from .rules import (
    AssignmentRule,
    DuplicateRule,
    JsonFields,
    Rule,
    RuleError,
    RuleKind,
    ValidationRule,
    rule_from_json,
)
from .validation import check_validation_rule, is_registered

__all__ = ["ADMIN_ROUTES"]


def _checked(org: Org, rule: Rule) -> Rule:
    if isinstance(rule, ValidationRule):
        return check_validation_rule(org, rule)
    if isinstance(rule, DuplicateRule):
        return check_duplicate_rule(org, rule)
    assert isinstance(rule, AssignmentRule)
    return check_assignment_rule(org, rule)


def _rule_json(org: Org, rule: Rule) -> dict[str, Any]:
    data = rule.to_json()
    if isinstance(rule, ValidationRule) and rule.predicate is not None:
        # Predicates live in the process that registered them, not in the org database.
        data["predicateRegistered"] = is_registered(org, rule)
    return data


def _bad_input(err: RuleError) -> Response:
    body: dict[str, Any] = {"error": err.message}
    if err.position is not None:
        body["position"] = err.position
    return JSONResponse(body, status_code=400)


def _found(req: AdminRequest, kind: RuleKind) -> Rule:
    rule = store.get_rule(req.org, kind, req.path_params["rule_id"])
    if rule is None:
        raise AdminError(404, f"no {kind.value} rule {req.path_params['rule_id']}")
    return rule


def _collection(kind: RuleKind, req: AdminRequest) -> Any:
    if req.method == "GET":
        rules = store.list_rules(req.org, kind, req.query.get("object"))
        return {"rules": [_rule_json(req.org, r) for r in rules]}
    data = req.json()
    if "id" in data:
        raise AdminError(400, "id is assigned by the org; leave it out")
    try:
        rule = _checked(req.org, rule_from_json(kind, data))
    except RuleError as err:
        return _bad_input(err)
    try:
        stored = store.create_rule(req.org, rule)
    except store.NameTaken as err:
        raise AdminError(409, str(err)) from None
    return JSONResponse(_rule_json(req.org, stored), status_code=201)


def _item(kind: RuleKind, req: AdminRequest) -> Any:
    rule = _found(req, kind)
    if req.method == "DELETE":
        store.delete_rule(req.org, kind, rule.id)
        return Response(status_code=204)
    return _rule_json(req.org, rule)


def _activate(kind: RuleKind, active: bool, req: AdminRequest) -> Any:
    rule = store.set_active(req.org, kind, _found(req, kind).id, active)
    assert rule is not None
    return _rule_json(req.org, rule)


_CONVERT_KEYS = frozenset(
    {"convertedStatus", "accountId", "contactId", "createOpportunity", "opportunityName",
     "ownerId", "overwriteLeadSource", "allowSave"}
)  # fmt: skip


def _convert(req: AdminRequest) -> Any:
    try:
        body = JsonFields(req.json(), _CONVERT_KEYS)
        request = LeadConvert(
            lead_id=req.path_params["lead_id"],
            converted_status=body.optional_text("convertedStatus"),
            account_id=body.optional_text("accountId"),
            contact_id=body.optional_text("contactId"),
            create_opportunity=body.boolean("createOpportunity", default=True),
            opportunity_name=body.optional_text("opportunityName"),
            owner_id=body.optional_text("ownerId"),
            overwrite_lead_source=body.boolean("overwriteLeadSource", default=False),
        )
        allow_save = body.boolean("allowSave", default=False)
    except RuleError as err:
        return _bad_input(err)
    user_id = req.org.meta("admin_user_id")
    if user_id is None:
        raise AdminError(409, "the org has no administrator yet; bootstrap it first")
    # The converting user is the org's administrator; conversion picks owners itself, and
    # `allowSave` is the Sforce-Duplicate-Rule-Header of this call.
    opts = WriteOptions(user_id=user_id, auto_assign=False, allow_save_on_duplicates=allow_save)
    try:
        result = convert_lead(req.dml, request, opts)
    except ConversionError as err:
        raise AdminError(err.status, err.message) from None
    except RecordError as err:
        return JSONResponse(
            {"error": err.message, "errorCode": err.status_code, "fields": list(err.fields),
             **err.extra},
            status_code=400,
        )  # fmt: skip
    return result.to_json()


def _rule_routes(kind: RuleKind, path: str) -> tuple[AdminRoute, ...]:
    collection = f"/automation/{path}"
    item = collection + "/{rule_id}"
    handlers: tuple[tuple[str, tuple[str, ...], Callable[[AdminRequest], Any]], ...] = (
        (collection, ("GET", "POST"), partial(_collection, kind)),
        (item, ("GET", "DELETE"), partial(_item, kind)),
        (item + "/activate", ("POST",), partial(_activate, kind, True)),
        (item + "/deactivate", ("POST",), partial(_activate, kind, False)),
    )
    return tuple(AdminRoute(p, methods, handler) for p, methods, handler in handlers)


ADMIN_ROUTES: tuple[AdminRoute, ...] = (
    *_rule_routes(RuleKind.VALIDATION, "validation-rules"),
    *_rule_routes(RuleKind.DUPLICATE, "duplicate-rules"),
    *_rule_routes(RuleKind.ASSIGNMENT, "assignment-rules"),
    AdminRoute("/leads/{lead_id}/convert", ("POST",), _convert),
)
