"""Carrying out the provisioning plan in a connected org: fields, then field access.

    report = await provision(sf)
    store(report.to_json())           # shown on Settings > Salesforce
    print(report.manual_steps)        # what is left for an admin, if anything

The executor decides nothing: `plan_provisioning` says which fields to create, skip or leave
alone (conflicts). It then, spending few API calls:

1. describes Account, Lead, Contact and Opportunity in one composite call;
2. creates each missing field through the Tooling API (one call per field, Salesforce's limit);
3. looks up the "Hearth Integration" permission set, its object and field permissions and the
   user's assignment in one composite call of three queries;
4. writes whatever of those is missing in one all-or-none composite call: the permission set,
   ObjectPermissions for the four objects, FieldPermissions (read and edit) for every field Hearth
   writes, and the assignment to the connecting user.

A fresh org therefore costs 3 calls plus one per field; a second run, 2, and creates nothing.

Failure rules, so nothing is left half-done:

- A create refused for lack of access (the user has no "Customize Application") stops the
  creates at the first field; the rest are reported failed with the same reason and the grants
  are not attempted. Nothing has been written.
- Any other refused create fails that field alone; it gets no grant.
- A field that exists but is hidden from the user by field-level security is answered
  ``DUPLICATE_DEVELOPER_NAME``: it is reported skipped (``exists-hidden``) and granted, which is
  what makes it visible. Its type cannot be checked until then.
- The grants are one transaction: if Salesforce refuses any part, nothing of it is written and
  every remaining step is in `manual_steps`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal
from urllib.parse import urlencode

from hearth.provisioning.catalogue import CATALOGUE, FieldSpec
from hearth.provisioning.plan import (
    Conflict,
    CreateField,
    GrantFieldPermission,
    ProvisioningPlan,
    existing_fields,
    plan_provisioning,
)
from hearth.salesforce import SalesforceClient, SubRequest, SubResponse
from hearth.salesforce.client import COLLECTION_SIZE
from hearth.salesforce.errors import SalesforceError
from hearth.salesforce.soql import quote

__all__ = [
    "OBJECT_ACCESS",
    "PERMISSION_SET",
    "PERMISSION_SET_LABEL",
    "FailedStep",
    "ProvisioningReport",
    "provision",
]

#: The permission set Hearth keeps its grants in (API name and label).
PERMISSION_SET = "Hearth_Integration"
PERMISSION_SET_LABEL = "Hearth Integration"

#: What the permission set grants on each object: read, create, edit (never delete). Salesforce
#: grants no field access on an object the permission set cannot read.
OBJECT_ACCESS: dict[str, tuple[bool, bool, bool]] = {
    "Account": (True, True, True),
    "Lead": (True, True, True),
    "Contact": (True, False, True),
    "Opportunity": (True, False, True),
}

# Refusals that mean "this user may not change the schema": no point trying the next field.
_NO_ACCESS = frozenset({"INSUFFICIENT_ACCESS_OR_READONLY", "INSUFFICIENT_ACCESS"})
_EXISTS = "DUPLICATE_DEVELOPER_NAME"
_HALTED = "PROCESSING_HALTED"
_ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"

Step = Literal["create_field", "permission_set", "object_permission", "grant", "assignment"]


@dataclass(frozen=True, kw_only=True)
class FailedStep:
    """One thing Salesforce refused: `target` is a field's full name, an object, or the
    permission set's name; `error_code` is Salesforce's code (None if the call failed)."""

    step: Step
    target: str
    error_code: str | None
    message: str


@dataclass(frozen=True, kw_only=True)
class ProvisioningReport:
    """What a provisioning run did, as plain data (`to_json` / `from_json`).

    `created` and `skipped` are full field names (`Lead.Hearth_Id__c`); `skipped` holds fields
    that already existed in a form Hearth can write. `granted` are the fields whose field
    permissions this run added. `manual_steps` is empty when nothing is left to do.
    """

    created: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    failed: tuple[FailedStep, ...] = ()
    granted: tuple[str, ...] = ()
    permission_set_id: str | None = None
    assigned: bool = False
    manual_steps: str = ""

    @property
    def ok(self) -> bool:
        """Every catalogue field exists, is granted, and the permission set is assigned."""
        return not self.failed and not self.conflicts and self.assigned

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ProvisioningReport:
        data: dict[str, Any] = json.loads(text)
        return cls(
            created=tuple(data["created"]),
            skipped=tuple(data["skipped"]),
            conflicts=tuple(Conflict(**c) for c in data["conflicts"]),
            failed=tuple(FailedStep(**f) for f in data["failed"]),
            granted=tuple(data["granted"]),
            permission_set_id=data["permission_set_id"],
            assigned=data["assigned"],
            manual_steps=data["manual_steps"],
        )


@dataclass(frozen=True)
class _Creates:
    created: tuple[str, ...]
    hidden: tuple[str, ...]
    failed: tuple[FailedStep, ...]
    # Set when the user may not create fields at all: nothing else is attempted.
    refused: SalesforceError | None


@dataclass(frozen=True)
class _Grants:
    permission_set_id: str | None
    granted: tuple[str, ...]
    assigned: bool
    failed: tuple[FailedStep, ...]


def _failure(step: Step, target: str, error: SalesforceError) -> FailedStep:
    return FailedStep(step=step, target=target, error_code=error.error_code, message=error.message)


async def _create_fields(client: SalesforceClient, creates: Sequence[CreateField]) -> _Creates:
    created: list[str] = []
    hidden: list[str] = []
    failed: list[FailedStep] = []
    for index, op in enumerate(creates):
        try:
            await client.create_custom_field(op.full_name, op.metadata)
        except SalesforceError as exc:
            if exc.error_code == _EXISTS:
                hidden.append(op.full_name)
            elif exc.error_code in _NO_ACCESS:
                rest = [_failure("create_field", later.full_name, exc) for later in creates[index:]]
                return _Creates(tuple(created), tuple(hidden), (*failed, *rest), exc)
            else:
                failed.append(_failure("create_field", op.full_name, exc))
        else:
            created.append(op.full_name)
    return _Creates(tuple(created), tuple(hidden), tuple(failed), None)


# -- field access -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Existing:
    """The permission set as it is: its id, what it grants, and whether the user holds it."""

    permission_set_id: str | None
    objects: frozenset[str]
    # Lower-cased field name -> (FieldPermissions id, read, edit).
    fields: dict[str, tuple[str, bool, bool]]
    assigned: bool


def _query(reference_id: str, soql: str) -> SubRequest:
    return SubRequest(
        method="GET", path=f"/query?{urlencode({'q': soql})}", reference_id=reference_id
    )


def _records(answer: SubResponse) -> list[dict[str, Any]]:
    if answer.error is not None:
        raise answer.error
    records: list[dict[str, Any]] = answer.body["records"]
    return records


async def _existing(client: SalesforceClient) -> _Existing:
    """One composite call of four queries. The permission set has one row per catalogue field,
    far below a query page (2,000), so every answer fits one page."""
    name = quote(PERMISSION_SET)
    sets, objects, fields, assignments = await client.composite(
        [
            _query("sets", f"SELECT Id FROM PermissionSet WHERE Name = {name}"),
            _query(
                "objects", f"SELECT SobjectType FROM ObjectPermissions WHERE Parent.Name = {name}"
            ),
            _query(
                "fields",
                "SELECT Id, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions "
                f"WHERE Parent.Name = {name}",
            ),
            _query(
                "assigned",
                "SELECT Id FROM PermissionSetAssignment WHERE PermissionSet.Name = "
                f"{name} AND AssigneeId = {quote(client.user_id)}",
            ),
        ]
    )
    found = _records(sets)
    return _Existing(
        permission_set_id=str(found[0]["Id"]) if found else None,
        objects=frozenset(str(r["SobjectType"]) for r in _records(objects)),
        fields={
            str(r["Field"]).lower(): (
                str(r["Id"]),
                bool(r["PermissionsRead"]),
                bool(r["PermissionsEdit"]),
            )
            for r in _records(fields)
        },
        assigned=bool(_records(assignments)),
    )


def _collections(
    reference: str, method: str, records: list[dict[str, Any]]
) -> Iterable[SubRequest]:
    for start in range(0, len(records), COLLECTION_SIZE):
        yield SubRequest(
            method=method,
            path="/composite/sobjects",
            reference_id=f"{reference}{start // COLLECTION_SIZE}",
            body={"allOrNone": True, "records": records[start : start + COLLECTION_SIZE]},
        )


def _grant_requests(
    existing: _Existing, grants: Sequence[GrantFieldPermission], user_id: str
) -> list[SubRequest]:
    """The subrequests that complete the permission set; empty when nothing is missing."""
    subrequests: list[SubRequest] = []
    parent = existing.permission_set_id
    if parent is None:
        subrequests.append(
            SubRequest(
                method="POST",
                path="/sobjects/PermissionSet",
                reference_id="permissionSet",
                body={
                    "Name": PERMISSION_SET,
                    "Label": PERMISSION_SET_LABEL,
                    "Description": "Hearth's access to the objects and custom fields it writes",
                },
            )
        )
        parent = "@{permissionSet.id}"
    objects = {grant.object for grant in grants}
    new = [
        {
            "attributes": {"type": "ObjectPermissions"},
            "ParentId": parent,
            "SobjectType": obj,
            "PermissionsRead": read,
            "PermissionsCreate": create,
            "PermissionsEdit": edit,
        }
        for obj, (read, create, edit) in OBJECT_ACCESS.items()
        if obj in objects and obj not in existing.objects
    ]
    changed = []
    for grant in grants:
        held = existing.fields.get(grant.full_name.lower())
        if held is None:
            new.append(
                {
                    "attributes": {"type": "FieldPermissions"},
                    "ParentId": parent,
                    "SobjectType": grant.object,
                    "Field": grant.full_name,
                    "PermissionsRead": grant.read,
                    "PermissionsEdit": grant.edit,
                }
            )
        elif (held[1], held[2]) != (grant.read, grant.edit):
            changed.append(
                {
                    "attributes": {"type": "FieldPermissions"},
                    "id": held[0],
                    "PermissionsRead": grant.read,
                    "PermissionsEdit": grant.edit,
                }
            )
    subrequests += _collections("create", "POST", new)
    subrequests += _collections("update", "PATCH", changed)
    if not existing.assigned:
        subrequests.append(
            SubRequest(
                method="POST",
                path="/sobjects/PermissionSetAssignment",
                reference_id="assignment",
                body={"AssigneeId": user_id, "PermissionSetId": parent},
            )
        )
    return subrequests


def _step_of(answer: SubResponse) -> tuple[Step, str]:
    if answer.reference_id == "permissionSet":
        return "permission_set", PERMISSION_SET
    if answer.reference_id == "assignment":
        return "assignment", PERMISSION_SET
    return "grant", PERMISSION_SET


def _write_failures(
    subrequests: Sequence[SubRequest], answers: Sequence[SubResponse]
) -> list[FailedStep]:
    """The refusals that rolled the grants back (not the subrequests halted because of them)."""
    failed: list[FailedStep] = []
    for sub, answer in zip(subrequests, answers, strict=True):
        if answer.error is not None and answer.error.error_code != _HALTED:
            step, target = _step_of(answer)
            failed.append(_failure(step, target, answer.error))
        elif answer.error is None and isinstance(answer.body, list):
            for record, result in zip(sub.body["records"], answer.body, strict=True):
                for error in result.get("errors") or []:
                    if error.get("statusCode") == _ROLLED_BACK:
                        continue
                    kind = record["attributes"]["type"]
                    failed.append(
                        FailedStep(
                            step="object_permission" if kind == "ObjectPermissions" else "grant",
                            target=str(
                                record.get("Field") or record.get("SobjectType") or record.get("id")
                            ),
                            error_code=error.get("statusCode"),
                            message=str(error.get("message") or ""),
                        )
                    )
    return failed


async def _grant(client: SalesforceClient, grants: Sequence[GrantFieldPermission]) -> _Grants:
    existing = await _existing(client)
    held = {name for name, (_, read, edit) in existing.fields.items() if read and edit}
    subrequests = _grant_requests(existing, grants, client.user_id)
    if not subrequests:
        return _Grants(existing.permission_set_id, (), existing.assigned, ())
    answers = await client.composite(subrequests, all_or_none=True)
    failed = _write_failures(subrequests, answers)
    if failed:
        return _Grants(existing.permission_set_id, (), existing.assigned, tuple(failed))
    created_set = next((a for a in answers if a.reference_id == "permissionSet"), None)
    permission_set_id = (
        str(created_set.body["id"]) if created_set is not None else existing.permission_set_id
    )
    granted = tuple(g.full_name for g in grants if g.full_name.lower() not in held)
    return _Grants(permission_set_id, granted, True, ())


# -- the run ----------------------------------------------------------------------------------


def _manual_steps(plan: ProvisioningPlan, report: ProvisioningReport) -> str:
    """The plan's manual steps for what is left: failed creates, conflicts, missing grants."""
    failed_fields = {f.target for f in report.failed if f.step == "create_field"}
    granted = report.assigned and all(f.step == "create_field" for f in report.failed)
    left = tuple(
        op
        for op in plan.operations
        if isinstance(op, Conflict)
        or (isinstance(op, CreateField) and op.full_name in failed_fields)
        # A field an admin creates by hand still needs its grant.
        or (isinstance(op, GrantFieldPermission) and (not granted or op.full_name in failed_fields))
    )
    if not left:
        return ""
    text = ProvisioningPlan(operations=left, catalogue=plan.catalogue).manual_steps()
    if granted:
        return text
    return text + (
        f"Permission set: Setup > Users > Permission Sets > New, Label '{PERMISSION_SET_LABEL}', "
        f"API Name '{PERMISSION_SET}'. In its Object Settings give Read, Create and Edit on "
        "Accounts and Leads, Read and Edit on Contacts and Opportunities, and the field access "
        "above. Then Manage Assignments > Add Assignment > the user Hearth connects as.\n"
    )


async def provision(
    client: SalesforceClient, *, catalogue: tuple[FieldSpec, ...] = CATALOGUE
) -> ProvisioningReport:
    """Create Hearth's missing custom fields in the connected org and give the connecting user
    read and edit access to all of them through the "Hearth Integration" permission set.

    Idempotent: a second run finds everything in place and writes nothing.
    """
    objects = tuple(dict.fromkeys(spec.object for spec in catalogue))
    plan = plan_provisioning(existing_fields(await client.describe_many(objects)), catalogue)
    creates = await _create_fields(client, plan.creates)
    failed_fields = {f.target for f in creates.failed}
    grants = [g for g in plan.grants if g.full_name not in failed_fields]
    grant = _Grants(None, (), False, ())
    if creates.refused is None and grants:
        try:
            grant = await _grant(client, grants)
        except SalesforceError as exc:
            # The created fields stay reported; the grants are one transaction, so either the
            # refused call wrote nothing or (an answer lost after commit) a re-run finds it done.
            grant = _Grants(None, (), False, (_failure("permission_set", PERMISSION_SET, exc),))
    report = ProvisioningReport(
        created=creates.created,
        skipped=(*(f"{s.object}.{s.field}" for s in plan.skips), *creates.hidden),
        conflicts=plan.conflicts,
        failed=(*creates.failed, *grant.failed),
        granted=grant.granted,
        permission_set_id=grant.permission_set_id,
        assigned=grant.assigned,
    )
    return replace(report, manual_steps=_manual_steps(plan, report))
