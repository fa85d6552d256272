"""The provisioning plan: literal describes in, literal operations out."""

from __future__ import annotations

import dataclasses

import pytest

from hearth.errors import InvalidInputError
from hearth.provisioning import (
    CATALOGUE,
    Conflict,
    CreateField,
    DescribedField,
    FieldSpec,
    GrantFieldPermission,
    ProvisioningPlan,
    Skip,
    apply_creates,
    existing_fields,
    fields_for,
    plan_provisioning,
)

OPPORTUNITY = fields_for("Opportunity")
CREATED_ACCOUNT_METADATA = {
    "label": "Hearth: Created Account",
    "type": "Checkbox",
    "description": "True if the Account of this Opportunity has Hearth: Created = true",
    "required": False,
    "defaultValue": "false",
}
SMALL = (
    FieldSpec(
        object="Lead",
        api_name="Hearth_Id__c",
        label="Hearth: Id",
        type="Text",
        length=64,
        external_id=True,
        unique=True,
        description="key",
        written="on create",
    ),
    FieldSpec(
        object="Lead",
        api_name="Hearth_Last_Pages_Visited__c",
        label="Hearth: Last Pages Visited",
        type="LongTextArea",
        length=32768,
        visible_lines=3,
        description="paths",
        written="every visit",
    ),
    FieldSpec(
        object="Lead",
        api_name="Hearth_Total_Sessions__c",
        label="Hearth: Total sessions",
        type="Number",
        precision=18,
        scale=0,
        description="sessions",
        written="every visit",
    ),
    *OPPORTUNITY,
)


def test_an_empty_org_gets_every_field_created_then_granted() -> None:
    plan = plan_provisioning({}, OPPORTUNITY)
    assert plan.operations == (
        CreateField(
            object="Opportunity",
            full_name="Opportunity.Hearth_Created_Account__c",
            metadata=CREATED_ACCOUNT_METADATA,
        ),
        GrantFieldPermission(object="Opportunity", field="Hearth_Created_Account__c"),
    )


def test_the_whole_catalogue_on_an_empty_org() -> None:
    plan = plan_provisioning({"Account": {}, "Lead": {}})
    assert len(plan.creates) == len(CATALOGUE) == len(plan.grants) == 53
    assert [op.full_name for op in plan.creates] == [spec.full_name for spec in CATALOGUE]
    assert [op.full_name for op in plan.grants] == [spec.full_name for spec in CATALOGUE]
    assert plan.operations == (*plan.creates, *plan.grants)
    assert plan.creates[0].metadata == CATALOGUE[0].metadata()
    assert not plan.skips and not plan.conflicts
    assert plan_provisioning({}) == plan_provisioning({}), "deterministic"


def test_existing_compatible_fields_are_skipped_but_still_granted() -> None:
    existing = {
        "Lead": {
            "LastName": DescribedField(name="LastName", type="string", length=80),
            # Names compare case-insensitively; the org's spelling is kept.
            "hearth_id__c": DescribedField(
                name="hearth_id__c", type="string", length=80, external_id=True, unique=True
            ),
            "Hearth_Total_Sessions__c": DescribedField(
                name="Hearth_Total_Sessions__c", type="double", precision=10, scale=2
            ),
        }
    }
    plan = plan_provisioning(existing, SMALL)
    assert plan.operations == (
        Skip(object="Lead", field="hearth_id__c"),
        CreateField(
            object="Lead",
            full_name="Lead.Hearth_Last_Pages_Visited__c",
            metadata={
                "label": "Hearth: Last Pages Visited",
                "type": "LongTextArea",
                "description": "paths",
                "required": False,
                "length": 32768,
                "visibleLines": 3,
            },
        ),
        Skip(object="Lead", field="Hearth_Total_Sessions__c", reason="exists"),
        CreateField(
            object="Opportunity",
            full_name="Opportunity.Hearth_Created_Account__c",
            metadata=CREATED_ACCOUNT_METADATA,
        ),
        GrantFieldPermission(object="Lead", field="hearth_id__c"),
        GrantFieldPermission(object="Lead", field="Hearth_Last_Pages_Visited__c"),
        GrantFieldPermission(object="Lead", field="Hearth_Total_Sessions__c"),
        GrantFieldPermission(object="Opportunity", field="Hearth_Created_Account__c"),
    )


def test_a_field_of_an_incompatible_type_is_a_conflict_never_overwritten() -> None:
    existing = {
        "Lead": {
            "Hearth_Last_Pages_Visited__c": DescribedField(
                name="Hearth_Last_Pages_Visited__c", type="textarea", length=255
            ),
            "Hearth_Total_Sessions__c": DescribedField(
                name="Hearth_Total_Sessions__c", type="string", length=10
            ),
            "Hearth_Id__c": DescribedField(name="Hearth_Id__c", type="string", length=64),
        },
        "Opportunity": {
            "Hearth_Created_Account__c": DescribedField(
                name="Hearth_Created_Account__c", type="boolean"
            )
        },
    }
    plan = plan_provisioning(existing, SMALL)
    assert plan.creates == ()
    assert plan.conflicts == (
        Conflict(
            object="Lead",
            field="Hearth_Id__c",
            found_type="string(64)",
            wanted_type="Text(64), External ID, Unique (case-insensitive)",
            fix=(
                "In Setup > Object Manager > Lead > Fields & Relationships > Hearth: Id > Edit, "
                "tick 'External ID' and 'Unique' (case-insensitive)."
            ),
        ),
        Conflict(
            object="Lead",
            field="Hearth_Last_Pages_Visited__c",
            found_type="textarea(255)",
            wanted_type="Long Text Area(32768)",
            fix=(
                "A short text area truncates lists; it must be a Long Text Area. In Setup > "
                "Object Manager > Lead > Fields & Relationships > Hearth: Last Pages Visited, "
                "use 'Change Field Type' to make it Long Text Area(32768) (or rename its API "
                "name and re-run provisioning so Hearth creates its own)."
            ),
        ),
        Conflict(
            object="Lead",
            field="Hearth_Total_Sessions__c",
            found_type="string(10)",
            wanted_type="Number(18, 0)",
            fix=(
                "A string field cannot hold a Number(18, 0) value. In Setup > Object Manager > "
                "Lead > Fields & Relationships > Hearth: Total sessions, use 'Change Field Type' "
                "to make it Number(18, 0) (or rename its API name and re-run provisioning so "
                "Hearth creates its own)."
            ),
        ),
    )
    assert plan.skips == (Skip(object="Opportunity", field="Hearth_Created_Account__c"),)
    # Conflicting fields get no field-level security until they are fixed.
    assert plan.grants == (
        GrantFieldPermission(object="Opportunity", field="Hearth_Created_Account__c"),
    )
    assert plan.conflicts[2].message() == (
        "Lead.Hearth_Total_Sessions__c exists as string(10), but Hearth needs Number(18, 0). "
        "Hearth will not change it. Fix: " + plan.conflicts[2].fix
    )


def found(kind: str, length: int = 0, *, external_id: bool = False) -> DescribedField:
    return DescribedField(name="x", type=kind, length=length, external_id=external_id)


@pytest.mark.parametrize(
    ("spec_name", "field", "compatible"),
    [
        ("Lead.Hearth_Touched__c", found("boolean"), True),
        ("Lead.Hearth_Touched__c", found("string", 5), False),
        ("Lead.Hearth_Last_Seen__c", found("datetime"), True),
        ("Lead.Hearth_Last_Seen__c", found("date"), False),
        ("Lead.Hearth_LinkedIn_Bio__c", found("url", 255), True),
        ("Lead.Hearth_LinkedIn_Bio__c", found("string", 100), False),
        ("Lead.Hearth_UTM_Sources__c", found("textarea", 1000), True),
        ("Lead.Hearth_UTM_Sources__c", found("string", 255), False),
        ("Lead.Hearth_Total_Pages_Viewed__c", found("int"), True),
        ("Lead.Hearth_Total_Pages_Viewed__c", found("currency"), False),
        ("Lead.Hearth_Identification_Source__c", found("picklist"), True),
        ("Lead.Hearth_Identification_Source__c", found("string", 80), True),
        ("Lead.Hearth_Identification_Source__c", found("string", 5), False),
        ("Lead.Hearth_Prospector_Workflow__c", found("string", 255), True),
        ("Lead.Hearth_Prospector_Workflow__c", found("string", 80), False),
        ("Account.Hearth_Id__c", found("string", 64, external_id=True), False),
    ],
)
def test_compatibility_rules(spec_name: str, field: DescribedField, compatible: bool) -> None:
    spec = next(s for s in CATALOGUE if s.full_name == spec_name)
    field = dataclasses.replace(field, name=spec.api_name)
    plan = plan_provisioning({spec.object: {spec.api_name: field}}, (spec,))
    assert bool(plan.skips) is compatible
    assert bool(plan.conflicts) is not compatible


def test_applying_the_creates_then_replanning_creates_nothing() -> None:
    existing = {"Lead": {"Hearth_Id__c": DescribedField(name="Hearth_Id__c", type="string")}}
    first = plan_provisioning(existing)
    after = apply_creates(existing, first)
    second = plan_provisioning(after)
    assert second.creates == ()
    assert [c.field for c in second.conflicts] == ["Hearth_Id__c"]  # still the admin's to fix
    assert len(second.skips) == len(CATALOGUE) - 1
    assert second.grants == first.grants
    assert existing == {
        "Lead": {"Hearth_Id__c": DescribedField(name="Hearth_Id__c", type="string")}
    }


def test_existing_fields_reads_describe_bodies() -> None:
    describes = {
        "Lead": {
            "name": "Lead",
            "fields": [
                {"name": "Id", "type": "id", "length": 18, "externalId": False, "unique": False},
                {
                    "name": "Hearth_Id__c",
                    "type": "string",
                    "length": 64,
                    "precision": 0,
                    "scale": 0,
                    "externalId": True,
                    "unique": True,
                },
                {"name": "Hearth_Total_Sessions__c", "type": "double", "length": 0,
                 "precision": 18, "scale": 0, "externalId": False, "unique": False},
            ],
        }
    }  # fmt: skip
    assert existing_fields(describes) == {
        "Lead": {
            "Id": DescribedField(name="Id", type="id", length=18),
            "Hearth_Id__c": DescribedField(
                name="Hearth_Id__c", type="string", length=64, external_id=True, unique=True
            ),
            "Hearth_Total_Sessions__c": DescribedField(
                name="Hearth_Total_Sessions__c", type="double", precision=18, scale=0
            ),
        }
    }


def test_manual_steps_describe_each_field_by_hand() -> None:
    existing = {
        "Lead": {
            "Hearth_Total_Sessions__c": DescribedField(
                name="Hearth_Total_Sessions__c", type="string", length=10
            )
        },
        "Opportunity": {
            "Hearth_Created_Account__c": DescribedField(
                name="Hearth_Created_Account__c", type="boolean"
            )
        },
    }
    plan = plan_provisioning(existing, SMALL)
    assert plan.manual_steps() == (
        "Hearth custom fields: manual setup\n"
        "\n"
        "1. Setup > Object Manager > Lead > Fields & Relationships > New\n"
        "   Data type: Text(64), External ID, Unique (case-insensitive)\n"
        "   Field Label: Hearth: Id\n"
        "   Field Name: Hearth_Id  (API name Hearth_Id__c)\n"
        "   Length: 64\n"
        "   Tick 'Unique' (case-insensitive) and 'External ID'\n"
        "   Description: key\n"
        "2. Setup > Object Manager > Lead > Fields & Relationships > New\n"
        "   Data type: Long Text Area(32768)\n"
        "   Field Label: Hearth: Last Pages Visited\n"
        "   Field Name: Hearth_Last_Pages_Visited  (API name Hearth_Last_Pages_Visited__c)\n"
        "   Length: 32768\n"
        "   # Visible Lines: 3\n"
        "   Description: paths\n"
        "3. Resolve a conflict on Lead.Hearth_Total_Sessions__c\n"
        "   Found: string(10); Hearth needs: Number(18, 0)\n"
        f"   Fix: {plan.conflicts[0].fix}\n"
        "4. Field-level security: in Setup > Permission Sets, open the permission set assigned "
        "to Hearth's integration user > Object Settings, and give it\n"
        "   - Lead: Hearth_Id__c: Read and Edit Access\n"
        "   - Lead: Hearth_Last_Pages_Visited__c: Read and Edit Access\n"
        "   - Opportunity: Hearth_Created_Account__c: Read and Edit Access\n"
        "Already present (exists): Opportunity.Hearth_Created_Account__c\n"
    )


def test_manual_steps_of_the_whole_catalogue_mention_every_field() -> None:
    text = plan_provisioning({}).manual_steps()
    for spec in CATALOGUE:
        assert f"(API name {spec.api_name})" in text
    assert "Length: 18, Decimal Places: 0" in text
    assert "Default Value: Unchecked" in text
    assert "Values, one per line: form, chat, api, orchestration, enrichment" in text
    assert "Leave 'Restrict picklist to the values defined' unticked" in text


def test_a_plan_with_nothing_to_do_says_so() -> None:
    plan = plan_provisioning(apply_creates({}, plan_provisioning({}, OPPORTUNITY)), OPPORTUNITY)
    assert plan.manual_steps().endswith("No fields to create.\n")
    assert plan == ProvisioningPlan(
        operations=(
            Skip(object="Opportunity", field="Hearth_Created_Account__c"),
            GrantFieldPermission(object="Opportunity", field="Hearth_Created_Account__c"),
        ),
        catalogue=OPPORTUNITY,
    )


def test_operations_validate_on_construction() -> None:
    with pytest.raises(InvalidInputError):
        CreateField(
            object="Lead", full_name="Account.Hearth_X__c", metadata={"type": "Url", "label": "x"}
        )
    with pytest.raises(InvalidInputError):
        CreateField(object="Lead", full_name="Lead.Hearth_X__c", metadata={})
    with pytest.raises(InvalidInputError):
        Skip(object="Lead", field="LastName")
    with pytest.raises(InvalidInputError):
        Conflict(object="Lead", field="X__c", found_type="a", wanted_type="b", fix="")
    with pytest.raises(InvalidInputError):
        GrantFieldPermission(object="Lead", field="X__c", read=False, edit=True)


def test_operations_are_frozen_and_metadata_is_read_only() -> None:
    op = plan_provisioning({}, OPPORTUNITY).creates[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.object = "Lead"  # type: ignore[misc]
    with pytest.raises(TypeError):
        op.metadata["label"] = "x"  # type: ignore[index]
    assert hash(GrantFieldPermission(object="Lead", field="X__c"))
