"""The catalogue against the spec tables and the Tooling API's limits."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from hearth.errors import InvalidInputError
from hearth.provisioning import CATALOGUE, OBJECTS, FieldSpec, fields_for, reference_table

ROOT = Path(__file__).parents[3]

SPEC_NAMES = {
    "Account": [
        "Id", "Created", "Touched", "Link", "Last Seen", "Last Pages Visited", "Segments List",
        "Total active time", "Total pages viewed", "Total sessions", "UTM Campaigns",
        "UTM Contents", "UTM Mediums", "UTM Sources", "Visitor count",
    ],
    "Lead": [
        "Id", "Created", "Touched", "Identification Source", "Prospected", "Prospector Workflow",
        "Last Chat Content", "LinkedIn Bio", "Link", "Last Seen", "Last Pages Visited",
        "Segments List", "Total active time", "Total pages viewed", "Total sessions",
        "UTM Campaigns", "UTM Contents", "UTM Mediums", "UTM Sources",
    ],
    "Contact": [
        "Created", "Touched", "Identification Source", "Prospected", "Prospector Workflow",
        "Last Chat Content", "LinkedIn Bio", "Link", "Last Seen", "Last Pages Visited",
        "Segments List", "Total active time", "Total pages viewed", "Total sessions",
        "UTM Campaigns", "UTM Contents", "UTM Mediums", "UTM Sources",
    ],
    "Opportunity": ["Created Account"],
}  # fmt: skip


def test_every_object_has_the_spec_fields_in_spec_order() -> None:
    assert tuple(SPEC_NAMES) == OBJECTS
    for obj, names in SPEC_NAMES.items():
        assert [spec.label for spec in fields_for(obj)] == [f"Hearth: {n}" for n in names]
    assert len(CATALOGUE) == sum(len(names) for names in SPEC_NAMES.values())


def test_api_names_follow_the_labels() -> None:
    for spec in CATALOGUE:
        words = spec.label.removeprefix("Hearth: ").split()
        expected = "Hearth_" + "_".join(w if w.isupper() else w[:1].upper() + w[1:] for w in words)
        assert spec.api_name == expected + "__c"
        assert spec.full_name == f"{spec.object}.{spec.api_name}"


def test_names_labels_and_lengths_are_within_salesforce_limits() -> None:
    for spec in CATALOGUE:
        meta = spec.metadata()
        developer_name = spec.api_name.removesuffix("__c")
        assert re.fullmatch(r"[A-Za-z](?:[A-Za-z0-9]|_(?!_))*[A-Za-z0-9]", developer_name)
        assert len(developer_name) <= 40
        assert len(meta["label"]) <= 40
        assert len(meta["description"]) <= 1000
        assert meta["required"] is False
        if meta["type"] == "Text":
            assert 1 <= meta["length"] <= 255
        if meta["type"] == "LongTextArea":
            assert 256 <= meta["length"] <= 131_072
            assert meta["visibleLines"] >= 1
        if meta["type"] == "Number":
            assert (meta["precision"], meta["scale"]) == (18, 0)
        if meta["type"] == "Checkbox":
            assert meta["defaultValue"] == "false"
        if meta["type"] in ("Url", "DateTime", "Checkbox"):
            assert "length" not in meta


def test_exact_metadata_of_each_kind() -> None:
    by_name = {spec.full_name: spec.metadata() for spec in CATALOGUE}
    assert by_name["Account.Hearth_Id__c"] == {
        "label": "Hearth: Id",
        "type": "Text",
        "description": (
            "Hearth's own key for this account; a unique external ID that makes Hearth's "
            "creates idempotent (upsert by external ID). Do not edit."
        ),
        "required": False,
        "length": 64,
        "externalId": True,
        "unique": True,
        "caseSensitive": False,
    }
    assert by_name["Lead.Hearth_Touched__c"] == {
        "label": "Hearth: Touched",
        "type": "Checkbox",
        "description": "True if Hearth updated the lead",
        "required": False,
        "defaultValue": "false",
    }
    assert by_name["Contact.Hearth_Last_Pages_Visited__c"] == {
        "label": "Hearth: Last Pages Visited",
        "type": "LongTextArea",
        "description": "Comma-separated string. URL page paths from the last website visit session",
        "required": False,
        "length": 32768,
        "visibleLines": 3,
    }
    assert by_name["Account.Hearth_Total_Active_Time__c"]["precision"] == 18
    assert by_name["Account.Hearth_Last_Seen__c"]["type"] == "DateTime"
    assert by_name["Lead.Hearth_LinkedIn_Bio__c"]["type"] == "Url"
    assert by_name["Lead.Hearth_Prospector_Workflow__c"]["length"] == 255
    assert by_name["Lead.Hearth_Identification_Source__c"]["valueSet"] == {
        "restricted": False,
        "valueSetDefinition": {
            "sorted": False,
            "value": [
                {"fullName": "form", "label": "Form", "default": False},
                {"fullName": "chat", "label": "Chat", "default": False},
                {"fullName": "api", "label": "API", "default": False},
                {"fullName": "orchestration", "label": "Orchestration", "default": False},
                {"fullName": "enrichment", "label": "Enrichment", "default": False},
            ],
        },
    }


def test_only_account_and_lead_have_the_external_id() -> None:
    keyed = [(s.object, s.api_name) for s in CATALOGUE if s.external_id or s.unique]
    assert keyed == [("Account", "Hearth_Id__c"), ("Lead", "Hearth_Id__c")]
    assert [s.object for s in CATALOGUE if s.api_name == "Hearth_Visitor_Count__c"] == ["Account"]


def test_metadata_is_a_fresh_dict_each_time() -> None:
    spec = CATALOGUE[0]
    spec.metadata()["label"] = "changed"
    assert spec.metadata()["label"] == "Hearth: Id"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"api_name": "Hearth_" + "X" * 40 + "__c"}, "40 characters"),
        ({"api_name": "Hearth_Thing"}, "40 characters"),
        ({"label": "Hearth: " + "x" * 40}, "label"),
        ({"object": "Case"}, "is not one of"),
        ({"type": "Text", "length": 256}, "Text needs"),
        ({"type": "LongTextArea", "length": 32768}, "visibleLines"),
        ({"type": "Number", "precision": 19, "scale": 0}, "precision"),
        ({"type": "Checkbox"}, "explicit default"),
        ({"type": "Picklist"}, "needs values"),
        ({"type": "Url", "unique": True}, "unique keys"),
    ],
)
def test_field_specs_refuse_what_salesforce_would(
    overrides: dict[str, object], message: str
) -> None:
    base: dict[str, object] = {
        "object": "Lead",
        "api_name": "Hearth_Thing__c",
        "label": "Hearth: Thing",
        "type": "DateTime",
        "description": "d",
        "written": "w",
    }
    with pytest.raises(InvalidInputError, match=message):
        FieldSpec(**{**base, **overrides})  # type: ignore[arg-type]


def test_the_docs_reference_table_is_the_catalogue() -> None:
    doc = (ROOT / "docs" / "salesforce-fields.md").read_text()
    assert reference_table() in doc, "regenerate: print(hearth.provisioning.reference_table())"


def test_pure_modules_import_no_io_libraries() -> None:
    for module in ("__init__", "catalogue", "plan"):
        tree = ast.parse((ROOT / "hearth" / "provisioning" / f"{module}.py").read_text())
        imported = {
            name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for name in (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
        }
        assert not imported & {"httpx", "sqlalchemy", "fastapi", "starlette", "localforce"}
        assert (
            "hearth.salesforce"
            not in (ROOT / "hearth" / "provisioning" / f"{module}.py").read_text()
        )
