"""Checking, right after connecting, that the Salesforce user can do what Hearth needs.

    facts = await gather_preflight_facts(sf)   # 4 API calls
    report = evaluate_preflight(facts)          # pure
    if not report.ok: show(report.blocking)     # what is missing, why, and the Setup step

`gather_preflight_facts` is the shell: `/limits` (which also tells whether the user may use the
API at all), one composite call for the describes of Account, Contact, Lead, Opportunity, User and
the permission objects, one SOQL query for the user's profile and one Tooling query.
`evaluate_preflight` is the core: it turns those facts into findings, each saying what is
missing, why Hearth needs it, and the exact Setup step that fixes it. A blocking finding stops
the integration from working; a warning limits it (Hearth cannot create Leads, or cannot create
its own fields and needs an admin to).

What is learnt and how (Salesforce narrows describe to what the user may do):

- API access: ``API_DISABLED_FOR_ORG`` on the first call, from the profile's "API Enabled" or the
  edition.
- Object access: an object missing from the user's describes cannot be read; ``createable`` and
  ``updateable`` say whether it may be created or edited.
- Field access: a field missing from describe is hidden by field-level security; its
  ``createable``/``updateable`` say whether the user may write it.
- Permission set writes: describe's ``createable`` of PermissionSet, FieldPermissions and
  PermissionSetAssignment (Salesforce narrows it to the user's "Manage Profiles and Permission
  Sets" and "Assign Permission Sets"; localforce leaves them createable and checks "Customize
  Application" on the write instead).
- "Customize Application", "Modify All Data" and the profile's name: from the user's Profile.
  Salesforce can also grant these through permission sets, which this reads not; localforce folds
  the permission-set system permissions into "Customize Application".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from hearth.provisioning.catalogue import CATALOGUE, FieldSpec
from hearth.provisioning.plan import DescribedField, plan_provisioning
from hearth.salesforce import SalesforceClient
from hearth.salesforce.errors import SalesforceError
from hearth.salesforce.soql import quote

__all__ = [
    "CHECKED_OBJECTS",
    "FieldFacts",
    "Finding",
    "ObjectFacts",
    "PreflightFacts",
    "PreflightReport",
    "evaluate_preflight",
    "gather_preflight_facts",
]

#: The objects whose access the preflight checks.
CHECKED_OBJECTS = ("Account", "Contact", "Lead", "Opportunity", "User")
# The setup objects provisioning writes; describe's `createable` says whether the user may.
_PERMISSION_OBJECTS = ("PermissionSet", "FieldPermissions", "PermissionSetAssignment")

Severity = Literal["blocking", "warning"]
Access = Literal["read", "create", "edit"]

# Below this many daily API calls left, a first sync may not finish today.
_LOW_ALLOWANCE = 5_000


@dataclass(frozen=True, kw_only=True)
class FieldFacts:
    """One field as the user's describe shows it."""

    label: str
    described: DescribedField
    createable: bool
    updateable: bool


@dataclass(frozen=True, kw_only=True)
class ObjectFacts:
    """One object as the user's describe shows it (absent from `PreflightFacts.objects` when
    the user cannot read it)."""

    name: str
    queryable: bool
    createable: bool
    updateable: bool
    fields: Mapping[str, FieldFacts] = field(default_factory=dict)

    @classmethod
    def from_describe(cls, body: Mapping[str, Any]) -> ObjectFacts:
        return cls(
            name=str(body["name"]),
            queryable=body.get("queryable") is True,
            createable=body.get("createable") is True,
            updateable=body.get("updateable") is True,
            fields={
                str(f["name"]): FieldFacts(
                    label=str(f.get("label") or f["name"]),
                    described=DescribedField.from_describe(f),
                    createable=f.get("createable") is True,
                    updateable=f.get("updateable") is True,
                )
                for f in body.get("fields", ())
            },
        )


@dataclass(frozen=True, kw_only=True)
class PreflightFacts:
    """What Hearth learnt about the connected user. None means "could not tell"."""

    api_enabled: bool
    user_id: str
    username: str | None = None
    profile: str | None = None
    customize_application: bool | None = None
    modify_all_data: bool | None = None
    tooling_ok: bool | None = None
    permission_sets_writable: bool | None = None
    api_requests_max: int | None = None
    api_requests_remaining: int | None = None
    objects: Mapping[str, ObjectFacts] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One thing missing: `what`, `why` Hearth needs it, and the Setup step (`fix`) for it.

    `code` is stable (``api_disabled``, ``object:Lead:create``, ``field:Lead.Email:read``...)
    so the web app can group or silence findings without reading their text.
    """

    code: str
    severity: Severity
    what: str
    why: str
    fix: str


@dataclass(frozen=True)
class PreflightReport:
    """The findings, blocking ones first; `ok` when none blocks."""

    findings: tuple[Finding, ...]

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "blocking")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.blocking

    def to_json(self) -> str:
        return json.dumps({"findings": [asdict(f) for f in self.findings]})

    @classmethod
    def from_json(cls, text: str) -> PreflightReport:
        return cls.from_data(json.loads(text))

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PreflightReport:
        """From the parsed JSON form, as stored with the connection."""
        return cls(tuple(Finding(**f) for f in data["findings"]))


# -- the rules, as data ----------------------------------------------------------------------


@dataclass(frozen=True)
class _ObjectNeed:
    object: str
    access: Access
    severity: Severity
    why: str


@dataclass(frozen=True)
class _FieldNeed:
    object: str
    field: str
    access: Access
    severity: Severity
    why: str


_OBJECT_NEEDS = (
    _ObjectNeed("Account", "read", "blocking",
                "Hearth matches companies to Accounts by their Website domain"),
    _ObjectNeed("Account", "edit", "blocking",
                "Hearth writes its activity fields on matched Accounts"),
    _ObjectNeed("Account", "create", "warning",
                "Hearth creates an Account for a new company (if creation is on)"),
    _ObjectNeed("Lead", "read", "blocking", "Hearth matches visitors to Leads by email"),
    _ObjectNeed("Lead", "edit", "blocking", "Hearth writes its activity fields on Leads"),
    _ObjectNeed("Lead", "create", "warning",
                "Hearth creates every new identified person as a Lead (if creation is on)"),
    _ObjectNeed("Contact", "read", "blocking", "Hearth matches visitors to Contacts by email"),
    _ObjectNeed("Contact", "edit", "blocking", "Hearth writes its activity fields on Contacts"),
    _ObjectNeed("Opportunity", "read", "blocking",
                "Hearth shows opportunities, stages and close dates on its dashboards"),
    _ObjectNeed("Opportunity", "edit", "warning",
                "Hearth sets 'Hearth: Created Account' on opportunities"),
    _ObjectNeed("User", "read", "blocking", "Hearth shows and routes by record owners"),
)  # fmt: skip

_FIELD_NEEDS = (
    _FieldNeed("Account", "Website", "read", "blocking", "matching is by the Website domain"),
    _FieldNeed("Account", "Name", "read", "blocking", "dashboards show the Account name"),
    _FieldNeed("Account", "OwnerId", "read", "blocking", "dashboards show the Account owner"),
    _FieldNeed("Account", "Website", "create", "warning", "new Accounts get the domain"),
    _FieldNeed("Lead", "Email", "read", "blocking", "matching is by email"),
    _FieldNeed("Lead", "OwnerId", "read", "blocking", "dashboards show the Lead owner"),
    _FieldNeed("Lead", "Email", "create", "warning", "new Leads get the visitor's email"),
    _FieldNeed("Lead", "Company", "create", "warning", "Salesforce requires it on new Leads"),
    _FieldNeed("Lead", "Title", "edit", "warning", "Hearth fills an empty job title"),
    _FieldNeed("Contact", "Email", "read", "blocking", "matching is by email"),
    _FieldNeed("Contact", "OwnerId", "read", "blocking", "dashboards show the Contact owner"),
    _FieldNeed("Contact", "Title", "edit", "warning", "Hearth fills an empty job title"),
    _FieldNeed("Opportunity", "StageName", "read", "blocking", "dashboards show stages"),
    _FieldNeed("Opportunity", "CloseDate", "read", "warning", "dashboards show close dates"),
    _FieldNeed("Opportunity", "Amount", "read", "warning", "dashboards show amounts"),
    _FieldNeed("Opportunity", "AccountId", "read", "blocking",
               "opportunities are counted per Account"),
)  # fmt: skip

_OBJECT_ACCESS_LABELS = {"read": "Read", "create": "Create", "edit": "Edit"}

_CONNECTED_APP_FIX = (
    "A System Administrator must do this: Setup > Apps > Connected Apps > Connected Apps OAuth "
    "Usage > Hearth > Install; then Setup > Apps > Connected Apps > Manage Connected Apps > "
    "Hearth > Edit Policies > Permitted Users: 'Admin approved users are pre-authorized' > Save, "
    "and under Profiles or Permission Sets on the same page add the integration user's profile "
    "or the 'Hearth Integration' permission set."
)


def _profile_path(facts: PreflightFacts) -> str:
    profile = facts.profile or "(the user's profile)"
    return f"Setup > Users > Profiles > {profile}"


def _grant_hint(facts: PreflightFacts) -> str:
    return (
        f"(or, without changing the profile, in a permission set assigned to "
        f"{facts.username or 'the user'}: Setup > Users > Permission Sets)"
    )


def _api_disabled(facts: PreflightFacts) -> Finding:
    return Finding(
        code="api_disabled",
        severity="blocking",
        what="The user may not use the Salesforce API",
        why="Hearth reads and writes Salesforce only through the API",
        fix=(
            f"{_profile_path(facts)} > Edit > System Permissions > tick 'API Enabled' > Save "
            f"{_grant_hint(facts)}. The edition must include API access: Enterprise, "
            "Unlimited, Performance and Developer do; Professional needs the API add-on."
        ),
    )


def _object_findings(facts: PreflightFacts) -> list[Finding]:
    findings = []
    for need in _OBJECT_NEEDS:
        obj = facts.objects.get(need.object)
        if need.access == "read":
            allowed = obj is not None and obj.queryable
        elif obj is None:
            continue  # the missing read access is the finding
        else:
            allowed = obj.createable if need.access == "create" else obj.updateable
        if allowed:
            continue
        label = _OBJECT_ACCESS_LABELS[need.access]
        findings.append(
            Finding(
                code=f"object:{need.object}:{need.access}",
                severity=need.severity,
                what=f"No {label} access to {need.object}",
                why=need.why,
                fix=(
                    f"{_profile_path(facts)} > Object Settings > {need.object} > Edit > "
                    f"Object Permissions: tick '{label}' > Save {_grant_hint(facts)}."
                ),
            )
        )
    return findings


def _field_findings(facts: PreflightFacts) -> list[Finding]:
    findings = []
    for need in _FIELD_NEEDS:
        obj = facts.objects.get(need.object)
        if obj is None:
            continue  # reported with the object
        found = obj.fields.get(need.field)
        if need.access == "read":
            allowed = found is not None
        elif found is None or not (obj.createable if need.access == "create" else obj.updateable):
            continue  # hidden: reported as read; object not writable: reported with the object
        else:
            allowed = found.createable if need.access == "create" else found.updateable
        if allowed:
            continue
        label = found.label if found is not None else need.field
        level = "Visible" if need.access == "read" else "Visible, and clear 'Read-Only'"
        findings.append(
            Finding(
                code=f"field:{need.object}.{need.field}:{need.access}",
                severity=need.severity,
                what=(
                    f"{need.object}.{need.field} is hidden from the user"
                    if need.access == "read"
                    else f"{need.object}.{need.field} is read-only for the user"
                ),
                why=f"Hearth needs it: {need.why}",
                fix=(
                    f"Setup > Object Manager > {need.object} > Fields & Relationships > "
                    f"{label} > Set Field-Level Security > for {facts.profile or 'the profile'}: "
                    f"tick '{level}' > Save."
                ),
            )
        )
    return findings


def _hearth_field_findings(
    facts: PreflightFacts, catalogue: tuple[FieldSpec, ...]
) -> list[Finding]:
    existing = {
        name: {f: ff.described for f, ff in obj.fields.items()}
        for name, obj in facts.objects.items()
    }
    plan = plan_provisioning(existing, tuple(s for s in catalogue if s.object in facts.objects))
    findings = [
        Finding(
            code=f"conflict:{c.object}.{c.field}",
            severity="warning",
            what=f"{c.object}.{c.field} exists as {c.found_type}; Hearth needs {c.wanted_type}",
            why="Hearth never changes an existing field, so it will not write this one",
            fix=c.fix,
        )
        for c in plan.conflicts
    ]
    if plan.creates and facts.customize_application is False:
        names = ", ".join(op.full_name for op in plan.creates[:3])
        more = f" and {len(plan.creates) - 3} more" if len(plan.creates) > 3 else ""
        findings.append(
            Finding(
                code="hearth_fields_missing",
                severity="blocking",
                what=f"{len(plan.creates)} Hearth fields are missing ({names}{more}) "
                "and the user cannot create them",
                why="Hearth writes website activity into its own custom fields",
                fix=(
                    "Either grant 'Customize Application' (see the finding about it) and run "
                    "provisioning again, or have an administrator create the fields by hand "
                    "following the manual steps on Hearth's Settings > Salesforce page."
                ),
            )
        )
    return findings


def _setup_findings(facts: PreflightFacts) -> list[Finding]:
    findings = []
    if facts.customize_application is False:
        findings.append(
            Finding(
                code="customize_application",
                severity="warning",
                what="The user lacks 'Customize Application'",
                why=(
                    "Hearth creates its custom fields through the Tooling API and grants itself "
                    "field access in a 'Hearth Integration' permission set; without it an "
                    "administrator must do both by hand"
                ),
                fix=(
                    f"{_profile_path(facts)} > Edit > Administrative Permissions > tick "
                    "'Customize Application', 'Manage Profiles and Permission Sets' and "
                    f"'Assign Permission Sets' > Save {_grant_hint(facts)}."
                ),
            )
        )
    if facts.permission_sets_writable is False and facts.customize_application is not False:
        findings.append(
            Finding(
                code="permission_sets",
                severity="warning",
                what="The user may not create permission sets, field permissions or assignments",
                why=(
                    "Hearth grants itself access to its fields in a 'Hearth Integration' "
                    "permission set; without it an administrator must grant the access by hand"
                ),
                fix=(
                    f"{_profile_path(facts)} > Edit > Administrative Permissions > tick "
                    "'Manage Profiles and Permission Sets' and 'Assign Permission Sets' > Save "
                    f"{_grant_hint(facts)}."
                ),
            )
        )
    if facts.tooling_ok is False:
        findings.append(
            Finding(
                code="tooling_api",
                severity="warning",
                what="Tooling API queries (CustomField, EntityDefinition) are refused",
                why="Hearth reads field definitions there to check its fields before writing",
                fix=(
                    f"{_profile_path(facts)} > Edit > Administrative Permissions > tick "
                    "'View Setup and Configuration' and 'Customize Application' > Save."
                ),
            )
        )
    if facts.modify_all_data is False:
        findings.append(
            Finding(
                code="connected_app",
                severity="warning",
                what="The connecting user is not a System Administrator",
                why=(
                    "The Hearth connected app must be installed and its users pre-authorized, "
                    "or Salesforce may block the connection for other users and on refresh"
                ),
                fix=_CONNECTED_APP_FIX,
            )
        )
    remaining, limit = facts.api_requests_remaining, facts.api_requests_max
    if remaining is not None and limit is not None and remaining < min(_LOW_ALLOWANCE, limit):
        findings.append(
            Finding(
                code="api_allowance_low",
                severity="warning",
                what=f"Only {remaining} of {limit} daily API requests are left",
                why="The first sync reads every Account, Contact, Lead and Opportunity",
                fix=(
                    "Wait for the rolling 24-hour window to free requests (Setup > Company "
                    "Settings > Company Information > API Requests, Last 24 Hours), or find the "
                    "integration using them in Setup > Apps > Connected Apps OAuth Usage."
                ),
            )
        )
    return findings


def evaluate_preflight(
    facts: PreflightFacts, *, catalogue: tuple[FieldSpec, ...] = CATALOGUE
) -> PreflightReport:
    """The findings for `facts`: blocking first, then warnings, each group in rule order."""
    if not facts.api_enabled:
        return PreflightReport((_api_disabled(facts),))
    findings = [
        *_object_findings(facts),
        *_field_findings(facts),
        *_hearth_field_findings(facts, catalogue),
        *_setup_findings(facts),
    ]
    ordered = sorted(findings, key=lambda f: f.severity != "blocking")
    return PreflightReport(tuple(ordered))


# -- the shell ----------------------------------------------------------------------------------

_API_DISABLED = "API_DISABLED_FOR_ORG"


async def _tooling_works(client: SalesforceClient) -> bool:
    try:
        async for _ in client.tooling_query(
            "SELECT Id FROM EntityDefinition WHERE QualifiedApiName = 'Lead'"
        ):
            break
    except SalesforceError:
        return False
    return True


async def gather_preflight_facts(client: SalesforceClient) -> PreflightFacts:
    """What `evaluate_preflight` needs, in 4 API calls (1 when the API is disabled)."""
    user_id = client.user_id
    try:
        limits = await client.limits()
    except SalesforceError as exc:
        if exc.error_code != _API_DISABLED:
            raise
        return PreflightFacts(api_enabled=False, user_id=user_id)
    daily = limits.get("DailyApiRequests") or {}
    describes = await client.describe_many((*CHECKED_OBJECTS, *_PERMISSION_OBJECTS))
    soql = (
        "SELECT Username, Profile.Name, Profile.PermissionsCustomizeApplication, "
        f"Profile.PermissionsModifyAllData FROM User WHERE Id = {quote(user_id)}"
    )
    users = [row async for row in client.query(soql)]
    profile = (users[0].get("Profile") if users else None) or {}
    return PreflightFacts(
        api_enabled=True,
        user_id=user_id,
        username=users[0].get("Username") if users else None,
        profile=profile.get("Name"),
        customize_application=profile.get("PermissionsCustomizeApplication"),
        modify_all_data=profile.get("PermissionsModifyAllData"),
        tooling_ok=await _tooling_works(client),
        permission_sets_writable=all(
            describes.get(name, {}).get("createable") is True for name in _PERMISSION_OBJECTS
        ),
        api_requests_max=daily.get("Max"),
        api_requests_remaining=daily.get("Remaining"),
        objects={
            name: ObjectFacts.from_describe(describes[name])
            for name in CHECKED_OBJECTS
            if name in describes
        },
    )
