"""Mappings whose field was deleted or retyped in Salesforce are found from describe."""

from datetime import UTC, datetime

from hearth.sync.drift import detect_drift
from hearth.sync.fields import FieldMapping

NOW = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
DESCRIBE = {
    "name": "Account",
    "fields": [
        {"name": "Tier__c", "type": "picklist"},
        {"name": "Score__c", "type": "string"},
    ],
}


def mapping(field: str, type_: str, *, enabled: bool = True) -> FieldMapping:
    return FieldMapping(sobject="Account", field=field, label=field, type=type_, enabled=enabled)


def test_deleted_and_retyped_fields_drift_and_the_rest_do_not() -> None:
    mappings = [
        mapping("tier__c", "picklist"),
        mapping("Score__c", "double"),
        mapping("Gone__c", "string"),
        mapping("Old__c", "string", enabled=False),
    ]

    drifts = detect_drift(mappings, DESCRIBE, NOW)

    assert [(d.mapping.field, d.warning) for d in drifts] == [
        (
            "Score__c",
            "Account.Score__c changed type in Salesforce from double to string, "
            "as of 2026-11-24 23:30 UTC; mapping disabled",
        ),
        (
            "Gone__c",
            "Account.Gone__c was deleted in Salesforce, or hidden from Hearth's Salesforce user, "
            "as of 2026-11-24 23:30 UTC; mapping disabled",
        ),
    ]
