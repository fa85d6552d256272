"""Which fields an admin may map, and the defaults they may set, from describe alone."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.errors import InvalidInputError
from hearth.sync.fields import SearchableField, default_value, mappable_field, searchable_fields

ACCOUNT: dict[str, Any] = {
    "name": "Account",
    "fields": [
        {"name": "Name", "label": "Account Name", "type": "string", "custom": False},
        {
            "name": "Tier__c",
            "label": "Tier",
            "type": "picklist",
            "custom": True,
            "picklistValues": [
                {"value": "Gold", "active": True},
                {"value": "Tin", "active": False},
            ],
        },
        {"name": "Score__c", "label": "Score", "type": "double", "custom": True},
        {"name": "Hq__c", "label": "HQ", "type": "address", "custom": True},
        {"name": "Active__c", "label": "active?", "type": "boolean", "custom": True},
    ],
}


def test_searchable_fields_are_unmapped_custom_fields_of_simple_types_by_label() -> None:
    found = searchable_fields(ACCOUNT, mapped=["score__C"])

    assert found == [
        SearchableField(name="Active__c", label="active?", type="boolean"),
        SearchableField(name="Tier__c", label="Tier", type="picklist", picklist_values=("Gold",)),
    ]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Nope__c", "does not exist in Salesforce, or Hearth's Salesforce user cannot read it"),
        ("Hq__c", "it is a address field"),
        ("Name", "and a standard one"),
    ],
)
def test_a_field_that_cannot_be_mapped_says_why(name: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        mappable_field(ACCOUNT, name)


def test_only_the_mapped_objects_take_mappings() -> None:
    with pytest.raises(InvalidInputError, match="custom fields of User are not synced"):
        mappable_field({"name": "User", "fields": []}, "X__c")


def test_names_match_case_insensitively_and_come_back_as_salesforce_spells_them() -> None:
    assert mappable_field(ACCOUNT, "tier__c").name == "Tier__c"


def test_defaults_are_checked_against_the_field() -> None:
    tier = mappable_field(ACCOUNT, "Tier__c")
    score = mappable_field(ACCOUNT, "Score__c")
    active = mappable_field(ACCOUNT, "Active__c")

    assert default_value("Account", tier, "Gold") == "Gold"
    assert default_value("Account", score, " 4.5 ") == 4.5
    assert default_value("Lead", active, "TRUE") is True
    assert default_value("Contact", tier, "  ") is None
    with pytest.raises(InvalidInputError, match="not a value of the picklist"):
        default_value("Account", tier, "Tin")
    with pytest.raises(InvalidInputError, match="not a valid double"):
        default_value("Account", score, "lots")
    with pytest.raises(InvalidInputError, match="never creates Contact records"):
        default_value("Contact", tier, "Gold")
