"""Describe results: describeGlobal and describeSObject, shaped like a real org's."""

from __future__ import annotations

from typing import Any

from .schema import FieldDef, FieldType, ObjectDef, Schema

__all__ = ["describe_global", "describe_object", "object_summary"]

_SOAP_TYPES = {
    FieldType.ID: "tns:ID",
    FieldType.REFERENCE: "tns:ID",
    FieldType.BOOLEAN: "xsd:boolean",
    FieldType.INT: "xsd:int",
    FieldType.DOUBLE: "xsd:double",
    FieldType.CURRENCY: "xsd:double",
    FieldType.PERCENT: "xsd:double",
    FieldType.DATE: "xsd:date",
    FieldType.DATETIME: "xsd:dateTime",
}


def _urls(obj: ObjectDef, prefix: str) -> dict[str, str]:
    base = f"{prefix}/sobjects/{obj.name}"
    return {
        "sobject": base,
        "describe": f"{base}/describe",
        "rowTemplate": f"{base}/{{ID}}",
    }


def object_summary(obj: ObjectDef, prefix: str) -> dict[str, Any]:
    """One entry of describeGlobal (also the `objectDescribe` of `GET /sobjects/X`)."""
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": obj.createable,
        "custom": obj.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": obj.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": obj.createable,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": obj.createable,
        "mergeable": obj.name in ("Account", "Contact", "Lead"),
        "mruEnabled": obj.createable,
        "name": obj.name,
        "queryable": obj.queryable,
        "replicateable": obj.replicateable,
        "retrieveable": True,
        "searchable": obj.createable,
        "triggerable": obj.createable,
        "undeletable": obj.deletable,
        "updateable": obj.updateable,
        "urls": _urls(obj, prefix),
    }


def describe_global(schema: Schema, prefix: str) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [object_summary(o, prefix) for o in sorted(schema, key=lambda o: o.name)],
    }


def _byte_length(f: FieldDef) -> int:
    return f.length * 3 if f.type.is_text else 0


def describe_field(f: FieldDef) -> dict[str, Any]:
    kind = f.type
    return {
        "aggregatable": kind is not FieldType.TEXTAREA or f.length <= 255,
        "aiPredictionField": False,
        "autoNumber": False,
        "byteLength": _byte_length(f),
        "calculated": f.calculated,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": f.case_sensitive,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": f.createable,
        "custom": f.custom,
        "defaultValue": f.default_value if kind in (FieldType.BOOLEAN,) else None,
        "defaultValueFormula": None,
        "defaultedOnCreate": f.defaulted_on_create,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": f.digits,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": f.external_id,
        "extraTypeInfo": None,
        "filterable": kind is not FieldType.TEXTAREA or f.length <= 255,
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": kind not in (FieldType.DOUBLE, FieldType.CURRENCY, FieldType.PERCENT),
        "highScaleNumber": False,
        "htmlFormatted": f.html_formatted,
        "idLookup": f.id_lookup or f.external_id,
        "inlineHelpText": f.inline_help_text,
        "label": f.label,
        "length": f.length if kind.is_text else 0,
        "mask": None,
        "maskType": None,
        "name": f.name,
        "nameField": f.name_field,
        "namePointing": len(f.reference_to) > 1,
        "nillable": f.nillable,
        "permissionable": f.nillable and f.createable and f.name != "OwnerId",
        "picklistValues": [
            {
                "active": p.active,
                "defaultValue": p.default,
                "label": p.label,
                "validFor": None,
                "value": p.value,
            }
            for p in f.picklist
        ],
        "polymorphicForeignKey": len(f.reference_to) > 1,
        "precision": f.precision,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(f.reference_to),
        "relationshipName": f.relationship_name,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": f.restricted_picklist,
        "scale": f.scale,
        "searchPrefilterable": kind is FieldType.REFERENCE,
        "soapType": _SOAP_TYPES.get(kind, "xsd:string"),
        "sortable": kind is not FieldType.TEXTAREA or f.length <= 255,
        "type": kind.value,
        "unique": f.unique,
        "updateable": f.updateable,
        "writeRequiresMasterRead": False,
    }


def describe_object(schema: Schema, obj: ObjectDef, prefix: str) -> dict[str, Any]:
    summary = object_summary(obj, prefix)
    summary["urls"] = {
        **summary["urls"],
        "uiDetailTemplate": None,
        "uiEditTemplate": None,
        "uiNewRecord": None,
    }
    children = [
        {
            "cascadeDelete": False,
            "childSObject": rel.child_object,
            "deprecatedAndHidden": False,
            "field": rel.field,
            "junctionIdListNames": [],
            "junctionReferenceTo": [],
            "relationshipName": rel.name,
            "restrictedDelete": False,
        }
        for rel in schema.child_relationships(obj.name)
    ]
    return {
        **summary,
        "actionOverrides": [],
        "childRelationships": children,
        "compactLayoutable": obj.createable,
        "defaultImplementation": None,
        "extendedBy": None,
        "extendsInterfaces": None,
        "fields": [describe_field(f) for f in obj.fields],
        "implementedBy": None,
        "implementsInterfaces": None,
        "listviewable": None,
        "lookupLayoutable": None,
        "namedLayoutInfos": [],
        "networkScopeFieldName": None,
        "recordTypeInfos": [],
        "searchLayoutable": obj.createable,
        "sobjectDescribeOption": "FULL",
        "supportedScopes": [{"label": "All", "name": "everything"}],
    }
