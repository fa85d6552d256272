"""Provisioning Hearth's custom fields in Salesforce, and checking the connected user's access.

`catalogue` says which fields Hearth writes on Account, Lead, Contact and Opportunity and the
exact Tooling API metadata of each; `plan` compares it with what the org's describe shows and
returns the operations to run (create, skip, conflict, grant field-level security), or the
steps an admin follows by hand. Both are pure.

`executor.provision` carries a plan out through a `SalesforceClient`; `preflight` gathers what
the org says about the connecting user (`gather_preflight_facts`) and judges it, purely
(`evaluate_preflight`).
"""

from hearth.provisioning.catalogue import CATALOGUE, OBJECTS, FieldSpec, fields_for, reference_table
from hearth.provisioning.executor import (
    PERMISSION_SET,
    FailedStep,
    ProvisioningReport,
    provision,
)
from hearth.provisioning.plan import (
    Conflict,
    CreateField,
    DescribedField,
    GrantFieldPermission,
    Operation,
    ProvisioningPlan,
    Skip,
    apply_creates,
    existing_fields,
    plan_provisioning,
)
from hearth.provisioning.preflight import (
    Finding,
    PreflightFacts,
    PreflightReport,
    evaluate_preflight,
    gather_preflight_facts,
)

__all__ = [
    "CATALOGUE",
    "OBJECTS",
    "PERMISSION_SET",
    "Conflict",
    "CreateField",
    "DescribedField",
    "FailedStep",
    "FieldSpec",
    "Finding",
    "GrantFieldPermission",
    "Operation",
    "PreflightFacts",
    "PreflightReport",
    "ProvisioningPlan",
    "ProvisioningReport",
    "Skip",
    "apply_creates",
    "evaluate_preflight",
    "existing_fields",
    "fields_for",
    "gather_preflight_facts",
    "plan_provisioning",
    "provision",
    "reference_table",
]
