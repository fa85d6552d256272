"""Provisioning Hearth's custom fields in Salesforce (pure: no I/O).

`catalogue` says which fields Hearth writes on Account, Lead, Contact and Opportunity and the
exact Tooling API metadata of each; `plan` compares it with what the org's describe shows and
returns the operations to run (create, skip, conflict, grant field-level security), or the
steps an admin follows by hand.
"""

from hearth.provisioning.catalogue import CATALOGUE, OBJECTS, FieldSpec, fields_for, reference_table
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

__all__ = [
    "CATALOGUE",
    "OBJECTS",
    "Conflict",
    "CreateField",
    "DescribedField",
    "FieldSpec",
    "GrantFieldPermission",
    "Operation",
    "ProvisioningPlan",
    "Skip",
    "apply_creates",
    "existing_fields",
    "fields_for",
    "plan_provisioning",
    "reference_table",
]
