"""Deciding what to do to an org's schema so it holds Hearth's fields (pure: describe in, plan out).

    existing = existing_fields({"Lead": lead_describe, "Account": account_describe, ...})
    plan = plan_provisioning(existing, CATALOGUE)
    for op in plan.creates:   await sf.create_custom_field(op.full_name, op.metadata)
    for op in plan.grants:    ... FieldPermissions for op.full_name ...
    print(plan.manual_steps())        # for orgs where Hearth may not customise the schema

Rules:

- A catalogue field absent from the object's describe → `CreateField`.
- Present with a compatible type → `Skip(reason="exists")`. Names compare case-insensitively, as
  Salesforce's do. Compatibility is by describe type (``boolean``, ``datetime``, ``double``...)
  and enough room: a Text or URL field must be at least as long as Hearth's; a list field must be
  a Long Text Area (``textarea`` longer than 255; Hearth truncates lists to the field's length);
  `Hearth_Id__c` must also be an external ID and unique, or upserts cannot use it.
- Present with an incompatible type → `Conflict`, never overwritten: it names what was found,
  what Hearth wants, and the manual fix.
- Every field Hearth will write (created or skipped) gets a `GrantFieldPermission` (read and
  edit), after all field operations, since fields made through the Tooling API are invisible to
  every profile until field-level security is granted. Conflicting fields get none until fixed.

Order is deterministic: the catalogue's order (objects, then fields), field operations first,
then grants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from hearth.errors import InvalidInputError
from hearth.provisioning.catalogue import CATALOGUE, MAX_TEXT, FieldSpec

__all__ = [
    "Conflict",
    "CreateField",
    "DescribedField",
    "GrantFieldPermission",
    "Operation",
    "ProvisioningPlan",
    "Skip",
    "apply_creates",
    "existing_fields",
    "plan_provisioning",
]


@dataclass(frozen=True, kw_only=True)
class DescribedField:
    """What Hearth needs to know of a field from ``GET /sobjects/{Object}/describe``."""

    name: str
    type: str
    length: int = 0
    precision: int = 0
    scale: int = 0
    external_id: bool = False
    unique: bool = False

    @classmethod
    def from_describe(cls, element: Mapping[str, Any]) -> DescribedField:
        """From one element of a describe's ``fields[]``."""
        return cls(
            name=str(element["name"]),
            type=str(element["type"]),
            length=int(element.get("length") or 0),
            precision=int(element.get("precision") or 0),
            scale=int(element.get("scale") or 0),
            external_id=element.get("externalId") is True,
            unique=element.get("unique") is True,
        )

    @classmethod
    def from_spec(cls, spec: FieldSpec) -> DescribedField:
        """How Salesforce describes the field once `spec` has been created."""
        kind = {
            "Checkbox": "boolean",
            "DateTime": "datetime",
            "LongTextArea": "textarea",
            "Number": "double",
            "Picklist": "picklist",
            "Text": "string",
            "Url": "url",
        }[spec.type]
        length = {"Url": MAX_TEXT, "Picklist": MAX_TEXT}.get(spec.type, spec.length or 0)
        return cls(
            name=spec.api_name,
            type=kind,
            length=length,
            precision=spec.precision or 0,
            scale=spec.scale or 0,
            external_id=spec.external_id,
            unique=spec.unique,
        )

    def summary(self) -> str:
        """E.g. ``textarea(255)``, ``double(18,0)``, ``string(64), externalId, unique``."""
        if self.type in ("double", "int", "currency", "percent"):
            text = f"{self.type}({self.precision},{self.scale})"
        elif self.length:
            text = f"{self.type}({self.length})"
        else:
            text = self.type
        flags = [flag for flag, on in (("externalId", self.external_id),
                                       ("unique", self.unique)) if on]  # fmt: skip
        return ", ".join([text, *flags])


Existing = Mapping[str, Mapping[str, DescribedField]]


def existing_fields(
    describes: Mapping[str, Mapping[str, Any]],
) -> dict[str, dict[str, DescribedField]]:
    """The ``existing`` argument of `plan_provisioning`, from describe bodies keyed by object."""
    return {
        obj: {
            str(element["name"]): DescribedField.from_describe(element)
            for element in body.get("fields", ())
        }
        for obj, body in describes.items()
    }


# -- operations ----------------------------------------------------------------------------------


def _check_field(obj: str, name: str) -> None:
    if not obj or not name.endswith("__c"):
        raise InvalidInputError(f"{obj}.{name} is not a custom field of an object")


@dataclass(frozen=True, kw_only=True)
class CreateField:
    """Create `full_name` through ``POST /tooling/sobjects/CustomField`` with `metadata`."""

    object: str
    full_name: str
    metadata: Mapping[str, Any] = field(hash=False)

    def __post_init__(self) -> None:
        obj, dot, name = self.full_name.partition(".")
        if not dot or obj != self.object:
            raise InvalidInputError(f"{self.full_name!r} is not a field of {self.object}")
        _check_field(obj, name)
        if "type" not in self.metadata or "label" not in self.metadata:
            raise InvalidInputError(f"{self.full_name}: metadata needs a type and a label")
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    @property
    def field(self) -> str:
        return self.full_name.partition(".")[2]


@dataclass(frozen=True, kw_only=True)
class Skip:
    """The field already exists in a form Hearth can write; nothing to do."""

    object: str
    field: str
    reason: str = "exists"

    def __post_init__(self) -> None:
        _check_field(self.object, self.field)


@dataclass(frozen=True, kw_only=True)
class Conflict:
    """The field exists with a type Hearth cannot write. Hearth never changes it; `fix` says how."""

    object: str
    field: str
    found_type: str
    wanted_type: str
    fix: str

    def __post_init__(self) -> None:
        _check_field(self.object, self.field)
        if not self.fix:
            raise InvalidInputError(f"{self.object}.{self.field}: a conflict needs a fix")

    def message(self) -> str:
        return (
            f"{self.object}.{self.field} exists as {self.found_type}, but Hearth needs "
            f"{self.wanted_type}. Hearth will not change it. Fix: {self.fix}"
        )


@dataclass(frozen=True, kw_only=True)
class GrantFieldPermission:
    """Grant Hearth's integration user field-level security on the field."""

    object: str
    field: str
    read: bool = True
    edit: bool = True

    def __post_init__(self) -> None:
        _check_field(self.object, self.field)
        if self.edit and not self.read:
            raise InvalidInputError("edit access needs read access")

    @property
    def full_name(self) -> str:
        return f"{self.object}.{self.field}"


Operation = CreateField | Skip | Conflict | GrantFieldPermission


@dataclass(frozen=True)
class ProvisioningPlan:
    """The operations, in order, plus the catalogue they came from (for `manual_steps`)."""

    operations: tuple[Operation, ...]
    catalogue: tuple[FieldSpec, ...] = CATALOGUE

    @property
    def creates(self) -> tuple[CreateField, ...]:
        return tuple(op for op in self.operations if isinstance(op, CreateField))

    @property
    def skips(self) -> tuple[Skip, ...]:
        return tuple(op for op in self.operations if isinstance(op, Skip))

    @property
    def conflicts(self) -> tuple[Conflict, ...]:
        return tuple(op for op in self.operations if isinstance(op, Conflict))

    @property
    def grants(self) -> tuple[GrantFieldPermission, ...]:
        return tuple(op for op in self.operations if isinstance(op, GrantFieldPermission))

    def manual_steps(self) -> str:
        """What an admin does in Setup to carry out the plan by hand (for locked-down orgs)."""
        specs = {(spec.object, spec.api_name.lower()): spec for spec in self.catalogue}
        lines = ["Hearth custom fields: manual setup", ""]
        n = 0
        for op in self.creates:
            spec = specs.get((op.object, op.field.lower()))
            n += 1
            lines.append(
                f"{n}. Setup > Object Manager > {op.object} > Fields & Relationships > New"
            )
            lines.extend(f"   {line}" for line in _create_details(op, spec))
        for conflict in self.conflicts:
            n += 1
            lines.append(f"{n}. Resolve a conflict on {conflict.object}.{conflict.field}")
            lines.append(f"   Found: {conflict.found_type}; Hearth needs: {conflict.wanted_type}")
            lines.append(f"   Fix: {conflict.fix}")
        if self.grants:
            n += 1
            lines.append(
                f"{n}. Field-level security: in Setup > Permission Sets, open the permission "
                "set assigned to Hearth's integration user > Object Settings, and give it"
            )
            for grant in self.grants:
                access = " and ".join(
                    word for word, on in (("Read", grant.read), ("Edit", grant.edit)) if on
                )
                lines.append(f"   - {grant.object}: {grant.field}: {access} Access")
        for skip in self.skips:
            lines.append(f"Already present ({skip.reason}): {skip.object}.{skip.field}")
        if not self.creates and not self.conflicts:
            lines.append("No fields to create.")
        return "\n".join(lines) + "\n"


def _create_details(op: CreateField, spec: FieldSpec | None) -> list[str]:
    meta = op.metadata
    kind = spec.type_summary() if spec is not None else str(meta["type"])
    details = [
        f"Data type: {kind}",
        f"Field Label: {meta['label']}",
        f"Field Name: {op.field.removesuffix('__c')}  (API name {op.field})",
    ]
    if "length" in meta:
        details.append(f"Length: {meta['length']}")
    if "visibleLines" in meta:
        details.append(f"# Visible Lines: {meta['visibleLines']}")
    if "precision" in meta:
        whole = int(meta["precision"]) - int(meta["scale"])
        details.append(f"Length: {whole}, Decimal Places: {meta['scale']}")
    if "defaultValue" in meta:
        state = "Checked" if meta["defaultValue"] == "true" else "Unchecked"
        details.append(f"Default Value: {state}")
    if "valueSet" in meta:
        values = [value["fullName"] for value in meta["valueSet"]["valueSetDefinition"]["value"]]
        details.append("Values, one per line: " + ", ".join(values))
        if not meta["valueSet"].get("restricted"):
            details.append("Leave 'Restrict picklist to the values defined' unticked")
    if meta.get("externalId"):
        details.append("Tick 'Unique' (case-insensitive) and 'External ID'")
    if meta.get("description"):
        details.append(f"Description: {meta['description']}")
    return details


# -- planning ------------------------------------------------------------------------------------

_FAMILIES: Mapping[str, frozenset[str]] = {
    "Checkbox": frozenset({"boolean"}),
    "DateTime": frozenset({"datetime"}),
    "LongTextArea": frozenset({"textarea"}),
    "Number": frozenset({"double", "int"}),
    "Picklist": frozenset({"picklist", "string"}),
    "Text": frozenset({"string", "textarea"}),
    "Url": frozenset({"url", "string", "textarea"}),
}


def _incompatibility(found: DescribedField, spec: FieldSpec) -> str | None:
    """Why Hearth cannot write `found` as `spec`, or None when it can."""
    if found.type not in _FAMILIES[spec.type]:
        return f"a {found.type} field cannot hold a {spec.type_summary()} value"
    if spec.type == "LongTextArea" and found.length <= MAX_TEXT:
        return "a short text area truncates lists; it must be a Long Text Area"
    wanted = DescribedField.from_spec(spec)
    if spec.type in ("Text", "Url") and found.length < wanted.length:
        return f"length {found.length} is shorter than {wanted.length}"
    if spec.type == "Picklist" and found.type == "string" and found.length < 40:
        return f"length {found.length} is too short for the picklist's values"
    if spec.external_id and not found.external_id:
        return "it is not an External ID, so Hearth cannot upsert on it"
    if spec.unique and not found.unique:
        return "it is not Unique, so retried creates could duplicate records"
    return None


def _fix(spec: FieldSpec, why: str) -> str:
    where = f"Setup > Object Manager > {spec.object} > Fields & Relationships > {spec.label}"
    if spec.external_id and why.startswith("it is not"):
        return f"In {where} > Edit, tick 'External ID' and 'Unique' (case-insensitive)."
    return (
        f"{why[0].upper()}{why[1:]}. In {where}, use 'Change Field Type' to make it "
        f"{spec.type_summary()} (or rename its API name and re-run provisioning so Hearth "
        "creates its own)."
    )


def plan_provisioning(
    existing: Existing, catalogue: Iterable[FieldSpec] = CATALOGUE
) -> ProvisioningPlan:
    """The operations that bring `existing` (per object, describe field name → field) to hold
    every field of `catalogue`. An object missing from `existing` is treated as having no
    custom fields."""
    specs = tuple(catalogue)
    by_object = {
        obj: {name.lower(): described for name, described in fields.items()}
        for obj, fields in existing.items()
    }
    field_ops: list[Operation] = []
    grants: list[Operation] = []
    for spec in specs:
        found = by_object.get(spec.object, {}).get(spec.api_name.lower())
        if found is None:
            field_ops.append(
                CreateField(object=spec.object, full_name=spec.full_name, metadata=spec.metadata())
            )
        else:
            why = _incompatibility(found, spec)
            if why is not None:
                field_ops.append(
                    Conflict(
                        object=spec.object,
                        field=found.name,
                        found_type=found.summary(),
                        wanted_type=spec.type_summary(),
                        fix=_fix(spec, why),
                    )
                )
                continue
            field_ops.append(Skip(object=spec.object, field=found.name))
        name = spec.api_name if found is None else found.name
        grants.append(GrantFieldPermission(object=spec.object, field=name))
    return ProvisioningPlan(operations=(*field_ops, *grants), catalogue=specs)


def apply_creates(
    existing: Existing, plan: ProvisioningPlan
) -> dict[str, dict[str, DescribedField]]:
    """`existing` as it will be described after the plan's creates succeed (a new mapping)."""
    result = {obj: dict(fields) for obj, fields in existing.items()}
    specs = {spec.full_name: spec for spec in plan.catalogue}
    for op in plan.creates:
        spec = specs.get(op.full_name)
        if spec is None:
            raise InvalidInputError(f"{op.full_name} is not in the plan's catalogue")
        result.setdefault(op.object, {})[op.field] = DescribedField.from_spec(spec)
    return result
