"""The field catalogue: built-in fields as data, custom fields from the admin's mappings."""

import pytest

from hearth.segments import (
    BUILTIN_FIELDS,
    SALESFORCE_TYPES,
    Field,
    FieldCatalogue,
    FieldType,
    Group,
    Operator,
    catalogue,
    custom_field_key,
)
from hearth.sync.fields import SUPPORTED_TYPES, FieldMapping


def mapping(
    sobject: str, field: str, type_: str, *, label: str = "", enabled: bool = True
) -> FieldMapping:
    return FieldMapping(
        sobject=sobject, field=field, label=label or field, type=type_, enabled=enabled
    )


def test_builtin_fields_cover_the_four_groups_with_unique_keys() -> None:
    keys = [f.key for f in BUILTIN_FIELDS]
    assert len(keys) == len(set(keys))
    assert {f.group for f in BUILTIN_FIELDS} == set(Group)
    for found in BUILTIN_FIELDS:
        prefix = found.key.split(".")[0]
        assert {
            "visitor": Group.VISITOR,
            "company": Group.COMPANY,
            "crm_company": Group.CRM_COMPANY,
            "crm_contact": Group.CRM_CONTACT,
        }[prefix] is found.group


@pytest.mark.parametrize(
    ("key", "field_type"),
    [
        ("visitor.page_views", FieldType.NUMBER),
        ("visitor.last_seen", FieldType.DATETIME),
        ("visitor.email", FieldType.TEXT),
        ("visitor.identification_source", FieldType.PICKLIST),
        ("visitor.utm_sources", FieldType.TEXT_LIST),
        ("company.domain", FieldType.TEXT),
        ("company.visitor_count", FieldType.NUMBER),
        ("company.active_seconds", FieldType.NUMBER),
        ("crm_company.type", FieldType.PICKLIST),
        ("crm_company.owner_name", FieldType.TEXT),
        ("crm_company.has_open_opportunity", FieldType.BOOLEAN),
        ("crm_company.last_activity_date", FieldType.DATE),
        ("crm_contact.title", FieldType.TEXT),
    ],
)
def test_builtin_field_types(key: str, field_type: FieldType) -> None:
    assert catalogue()[key].type is field_type


def test_identification_source_lists_the_tracking_sources() -> None:
    assert catalogue()["visitor.identification_source"].values == (
        "form",
        "chat",
        "api",
        "orchestration",
        "enrichment",
    )


@pytest.mark.parametrize(
    ("sf_type", "expected"),
    [
        ("string", FieldType.TEXT),
        ("textarea", FieldType.TEXT),
        ("url", FieldType.TEXT),
        ("email", FieldType.TEXT),
        ("phone", FieldType.TEXT),
        ("picklist", FieldType.PICKLIST),
        ("multipicklist", FieldType.TEXT_LIST),
        ("double", FieldType.NUMBER),
        ("currency", FieldType.NUMBER),
        ("percent", FieldType.NUMBER),
        ("int", FieldType.NUMBER),
        ("boolean", FieldType.BOOLEAN),
        ("date", FieldType.DATE),
        ("datetime", FieldType.DATETIME),
    ],
)
def test_salesforce_types_map_to_segment_types(sf_type: str, expected: FieldType) -> None:
    found = catalogue([mapping("Account", "X__c", sf_type)])["crm_company.custom.X__c"]
    assert found.type is expected
    assert found.group is Group.CRM_COMPANY


@pytest.mark.parametrize("sf_type", ["reference", "id", "base64", "address", "location"])
def test_other_types_are_skipped_with_a_reason(sf_type: str) -> None:
    built = catalogue([mapping("Account", "X__c", sf_type)])
    assert "crm_company.custom.X__c" not in built
    (skipped,) = built.skipped
    assert skipped.reason == f"Account.X__c is a {sf_type} field, which segments cannot filter on"


def test_every_mappable_type_is_either_a_segment_type_or_skipped() -> None:
    assert set(SALESFORCE_TYPES) <= SUPPORTED_TYPES


def test_custom_fields_are_grouped_by_object() -> None:
    built = catalogue(
        [
            mapping("Lead", "Score__c", "double", label="Score"),
            mapping("Account", "Tier__c", "string", label="Tier"),
            mapping("Contact", "Persona__c", "picklist", label="Persona"),
            mapping("Opportunity", "Forecast__c", "string"),
            mapping("Account", "Old__c", "string", enabled=False),
        ]
    )
    custom = [f for f in built if ".custom." in f.key]
    assert [(f.key, f.label, f.group) for f in custom] == [
        ("crm_company.custom.Tier__c", "Tier", Group.CRM_COMPANY),
        ("crm_contact.custom.Persona__c", "Persona", Group.CRM_CONTACT),
        ("crm_contact.custom.Score__c", "Score", Group.CRM_CONTACT),
    ]
    assert {s.mapping.field: s.reason for s in built.skipped} == {
        "Forecast__c": "Opportunity fields have no segment category",
        "Old__c": "Account.Old__c is disabled",
    }
    assert built.by_group()[Group.CRM_COMPANY][-1].key == "crm_company.custom.Tier__c"


def test_a_field_on_contact_and_lead_is_one_person_field() -> None:
    built = catalogue(
        [mapping("Lead", "Tier__c", "picklist"), mapping("Contact", "Tier__c", "picklist")],
        picklist_values={"crm_contact.custom.Tier__c": ["Gold", "Silver"]},
    )
    found = built["crm_contact.custom.Tier__c"]
    assert found.type is FieldType.PICKLIST
    assert found.values == ("Gold", "Silver")
    assert built.skipped == ()


def test_the_contact_field_wins_a_type_conflict_with_the_lead_field() -> None:
    built = catalogue([mapping("Lead", "Size__c", "string"), mapping("Contact", "Size__c", "int")])
    assert built["crm_contact.custom.Size__c"].type is FieldType.NUMBER
    (skipped,) = built.skipped
    assert skipped.mapping.sobject == "Lead"
    assert "Contact.Size__c is a number field" in skipped.reason


def test_picklist_values_apply_to_builtin_and_custom_picklists_only() -> None:
    built = catalogue(
        [mapping("Account", "Tier__c", "picklist"), mapping("Account", "Note__c", "string")],
        picklist_values={
            "crm_company.type": ["Prospect", "Customer - Direct", "prospect"],
            "crm_company.custom.Tier__c": ["Gold"],
            "crm_company.custom.Note__c": ["ignored"],
        },
    )
    assert built["crm_company.type"].values == ("Prospect", "Customer - Direct")
    assert built["crm_company.custom.Tier__c"].values == ("Gold",)
    assert built["crm_company.custom.Note__c"].values == ()
    assert catalogue()["crm_company.type"].values == ()


def test_custom_keys_are_found_in_any_case_builtin_keys_exactly() -> None:
    built = catalogue([mapping("Account", "Tier__c", "string")])
    assert built["crm_company.custom.TIER__C"].key == "crm_company.custom.Tier__c"
    assert built.get("Visitor.Page_Views") is None
    assert "visitor.page_views" in built
    assert 3 not in built
    with pytest.raises(KeyError):
        built["visitor.nope"]


def test_custom_field_key() -> None:
    assert custom_field_key(mapping("Account", "A__c", "string")) == "crm_company.custom.A__c"
    assert custom_field_key(mapping("Lead", "A__c", "string")) == "crm_contact.custom.A__c"
    assert custom_field_key(mapping("Opportunity", "A__c", "string")) is None


def test_the_json_listing_names_the_operators_of_each_field() -> None:
    listing = {f["key"]: f for f in catalogue().to_json()}
    assert listing["visitor.page_views"] == {
        "key": "visitor.page_views",
        "label": "Pages viewed",
        "group": "Visitor",
        "type": "number",
        "values": [],
        "operators": ["eq", "ne", "gt", "gte", "lt", "lte", "between", "is_set", "is_not_set"],
    }
    assert listing["crm_contact.object"]["values"] == ["Contact", "Lead"]
    assert Operator.WITHIN_LAST in listing["visitor.last_seen"]["operators"]
    assert len(catalogue()) == len(BUILTIN_FIELDS)


def test_a_catalogue_refuses_a_key_twice() -> None:
    field = Field(key="a.b", label="B", group=Group.VISITOR, type=FieldType.TEXT)
    with pytest.raises(ValueError, match="twice"):
        FieldCatalogue(fields=(field, field))
