"""Shared literals for the segment tests: a catalogue with custom fields, and a fixed now."""

from datetime import UTC, datetime

import pytest

from hearth.segments import FieldCatalogue, catalogue
from hearth.sync.fields import FieldMapping

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def custom_catalogue() -> FieldCatalogue:
    """The built-in fields plus a custom field of each segment type."""
    return catalogue(
        [
            FieldMapping(sobject="Account", field="Tier__c", label="Tier", type="picklist"),
            FieldMapping(
                sobject="Account", field="Industries__c", label="Industries", type="multipicklist"
            ),
            FieldMapping(sobject="Account", field="Revenue__c", label="Revenue", type="currency"),
            FieldMapping(
                sobject="Account", field="Strategic__c", label="Strategic", type="boolean"
            ),
            FieldMapping(sobject="Account", field="Renewal__c", label="Renewal", type="date"),
            FieldMapping(
                sobject="Account", field="Scored_At__c", label="Scored at", type="datetime"
            ),
            FieldMapping(sobject="Contact", field="Persona__c", label="Persona", type="string"),
            FieldMapping(sobject="Lead", field="Persona__c", label="Persona", type="string"),
            FieldMapping(sobject="Contact", field="Score__c", label="Score", type="int"),
        ],
        picklist_values={
            "crm_company.custom.Tier__c": ["Gold", "Silver", "Bronze"],
            "crm_company.type": ["Prospect", "Customer - Direct", "Customer - Channel"],
        },
    )


@pytest.fixture
def cat() -> FieldCatalogue:
    return custom_catalogue()
