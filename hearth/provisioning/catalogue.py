"""The catalogue of custom fields Hearth writes in Salesforce: what, where, and how they are made.

Pure data, no I/O. Each `FieldSpec` carries the API name, the label, the description an admin
sees in Setup, when Hearth writes it, and enough typed attributes to build the exact Tooling API
``Metadata`` body (`FieldSpec.metadata()`) for ``POST /tooling/sobjects/CustomField``.

Decisions (mirrored in ``docs/salesforce-fields.md``):

- **Names.** Labels are ``Hearth: <Name>`` as in the integration spec; API names are
  ``Hearth_<Name_In_Title_Case>__c`` (Salesforce names are case-insensitive, so title case only
  aids reading). Every developer name is at most 40 characters, every label at most 40.
- **Lists are Long Text Areas of 32,768 characters** (Last Pages Visited, Segments List, the four
  UTM lists, Last Chat Content). Comma-separated lists grow; 255 characters of Text would be
  truncated after a handful of paths. 32,768 is Setup's default for a Long Text Area and a quarter
  of the 131,072 maximum, so it leaves room in the per-record 1.6 MB long-text budget.
  ``visibleLines`` is 3 for lists and 5 for chat content.
- **Counts and durations are Number(18, 0)**: whole seconds, pages, sessions, visitors.
- **Checkboxes default to false** (``defaultValue: "false"``; Tooling requires an explicit
  default for Checkbox, and Metadata API spells it as a string).
- **Identification Source is an unrestricted picklist** (form, chat, api, orchestration,
  enrichment). Unrestricted, so that a value added by a newer Hearth does not make every write
  fail with ``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`` in an org provisioned earlier; admins may
  restrict it themselves.
- **`Hearth_Id__c` on Account and Lead** is Text(64), ``externalId`` and ``unique``, not case
  sensitive: Hearth creates those records by upsert on it, so a retried create cannot duplicate a
  record. (Contacts are never created by Hearth, only updated, so they need no key.)
- **Opportunity: Created Account** is a plain Checkbox written by Hearth, as in the spec, rather
  than a formula over ``Account.Hearth_Created__c``, so it can be reported on and filtered like
  the others without cross-object formula limits.
- **Segments List** is provisioned although the spec notes Warmly disables it by default: an
  empty field costs nothing, and a later enablement then needs no provisioning run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal, TypedDict

from hearth.errors import InvalidInputError

__all__ = [
    "CATALOGUE",
    "LIST_LENGTH",
    "OBJECTS",
    "FieldSpec",
    "FieldType",
    "fields_for",
    "reference_table",
]

#: The Tooling ``Metadata.type`` values this catalogue uses.
FieldType = Literal["Checkbox", "DateTime", "LongTextArea", "Number", "Picklist", "Text", "Url"]

#: The objects Hearth writes custom fields on, in provisioning order.
OBJECTS: Final = ("Account", "Lead", "Contact", "Opportunity")

#: Length of every list-holding Long Text Area (Setup's default; the maximum is 131,072).
LIST_LENGTH: Final = 32_768

MAX_DEVELOPER_NAME: Final = 40  # characters before "__c"
MAX_LABEL: Final = 40
MAX_TEXT: Final = 255
LONG_TEXT_RANGE: Final = (256, 131_072)
MAX_PRECISION: Final = 18


@dataclass(frozen=True, kw_only=True)
class FieldSpec:
    """One custom field on one object, as Hearth wants it.

    ``metadata()`` is the Tooling API body; the other attributes document the field.
    ``picklist`` holds ``(value, label)`` pairs for a Picklist.
    """

    object: str
    api_name: str
    label: str
    type: FieldType
    description: str
    written: str
    length: int | None = None
    visible_lines: int | None = None
    precision: int | None = None
    scale: int | None = None
    default_checked: bool | None = None
    picklist: tuple[tuple[str, str], ...] = ()
    restricted: bool = False
    external_id: bool = False
    unique: bool = False

    def __post_init__(self) -> None:
        if self.object not in OBJECTS:
            raise InvalidInputError(f"{self.object!r} is not one of {OBJECTS}")
        developer_name = self.api_name.removesuffix("__c")
        if developer_name == self.api_name or not 1 <= len(developer_name) <= MAX_DEVELOPER_NAME:
            raise InvalidInputError(
                f"{self.api_name!r}: a custom field name is at most 40 characters before __c"
            )
        if not 1 <= len(self.label) <= MAX_LABEL:
            raise InvalidInputError(f"{self.label!r}: a label is 1 to {MAX_LABEL} characters")
        if self.type == "Text" and (self.length is None or not 1 <= self.length <= MAX_TEXT):
            raise InvalidInputError(f"{self.api_name}: Text needs a length of 1 to {MAX_TEXT}")
        if self.type == "LongTextArea":
            low, high = LONG_TEXT_RANGE
            if self.length is None or not low <= self.length <= high or not self.visible_lines:
                raise InvalidInputError(
                    f"{self.api_name}: LongTextArea needs a length of {low} to {high} "
                    "and visibleLines"
                )
        if self.type == "Number" and (
            self.precision is None
            or self.scale is None
            or not 1 <= self.precision <= MAX_PRECISION
            or not 0 <= self.scale <= self.precision
        ):
            raise InvalidInputError(f"{self.api_name}: Number needs precision 1-18 and a scale")
        if self.type == "Checkbox" and self.default_checked is None:
            raise InvalidInputError(f"{self.api_name}: a Checkbox needs an explicit default")
        if self.type == "Picklist" and not self.picklist:
            raise InvalidInputError(f"{self.api_name}: a Picklist needs values")
        if (self.external_id or self.unique) and self.type not in ("Text", "Number"):
            raise InvalidInputError(f"{self.api_name}: only Text and Number can be unique keys")

    @property
    def full_name(self) -> str:
        """``Object.Field__c``, the Tooling API's ``FullName``."""
        return f"{self.object}.{self.api_name}"

    def metadata(self) -> dict[str, Any]:
        """The exact Tooling API ``Metadata`` for this field (a fresh dict on every call)."""
        body: dict[str, Any] = {
            "label": self.label,
            "type": self.type,
            "description": self.description,
            "required": False,
        }
        if self.length is not None:
            body["length"] = self.length
        if self.visible_lines is not None:
            body["visibleLines"] = self.visible_lines
        if self.precision is not None:
            body["precision"] = self.precision
            body["scale"] = self.scale
        if self.default_checked is not None:
            body["defaultValue"] = "true" if self.default_checked else "false"
        if self.picklist:
            body["valueSet"] = {
                "restricted": self.restricted,
                "valueSetDefinition": {
                    "sorted": False,
                    "value": [
                        {"fullName": value, "label": label, "default": False}
                        for value, label in self.picklist
                    ],
                },
            }
        if self.external_id or self.unique:
            body["externalId"] = self.external_id
            body["unique"] = self.unique
            body["caseSensitive"] = False
        return body

    def type_summary(self) -> str:
        """The type as Setup shows it, e.g. ``Long Text Area(32768)`` or ``Number(18, 0)``."""
        if self.type == "LongTextArea":
            return f"Long Text Area({self.length})"
        if self.type == "Text":
            extra = ", External ID, Unique (case-insensitive)" if self.external_id else ""
            return f"Text({self.length}){extra}"
        if self.type == "Number":
            return f"Number({self.precision}, {self.scale})"
        if self.type == "Checkbox":
            return f"Checkbox (default {'checked' if self.default_checked else 'unchecked'})"
        if self.type == "Picklist":
            values = ", ".join(value for value, _ in self.picklist)
            kind = "restricted" if self.restricted else "unrestricted"
            return f"Picklist ({kind}: {values})"
        if self.type == "DateTime":
            return "Date/Time"
        return "URL"


# -- the catalogue -------------------------------------------------------------------------------

_ON_VISIT = "On every sync of website activity (overwritten, not appended)"


class _Kind(TypedDict, total=False):
    type: FieldType
    length: int
    visible_lines: int
    precision: int
    scale: int
    default_checked: bool


_LISTS: Final[_Kind] = {"type": "LongTextArea", "length": LIST_LENGTH, "visible_lines": 3}
_COUNT: Final[_Kind] = {"type": "Number", "precision": 18, "scale": 0}
_BOOL: Final[_Kind] = {"type": "Checkbox", "default_checked": False}

_SOURCES: Final = (
    ("form", "Form"),
    ("chat", "Chat"),
    ("api", "API"),
    ("orchestration", "Orchestration"),
    ("enrichment", "Enrichment"),
)


def _id_field(obj: str) -> FieldSpec:
    return FieldSpec(
        object=obj,
        api_name="Hearth_Id__c",
        label="Hearth: Id",
        type="Text",
        length=64,
        external_id=True,
        unique=True,
        description=(
            f"Hearth's own key for this {obj.lower()}; a unique external ID that makes Hearth's "
            "creates idempotent (upsert by external ID). Do not edit."
        ),
        written=f"When Hearth creates the {obj.lower()}; never changed afterwards",
    )


def _account_fields() -> Iterator[FieldSpec]:
    a = "Account"
    yield _id_field(a)
    yield FieldSpec(
        object=a,
        api_name="Hearth_Created__c",
        label="Hearth: Created",
        **_BOOL,
        description="True if Hearth created the account",
        written="Set to true when Hearth creates the account",
    )
    yield FieldSpec(
        object=a,
        api_name="Hearth_Touched__c",
        label="Hearth: Touched",
        **_BOOL,
        description="True if Hearth updated the account",
        written="Set to true whenever Hearth updates the account",
    )
    yield FieldSpec(
        object=a,
        api_name="Hearth_Link__c",
        label="Hearth: Link",
        type="Url",
        description="URL link to the account page in Hearth",
        written="When Hearth creates or first updates the account",
    )
    yield FieldSpec(
        object=a,
        api_name="Hearth_Last_Seen__c",
        label="Hearth: Last Seen",
        type="DateTime",
        description="Date and time a visitor from this account was last seen on your website",
        written=_ON_VISIT,
    )
    yield FieldSpec(
        object=a,
        api_name="Hearth_Last_Pages_Visited__c",
        label="Hearth: Last Pages Visited",
        **_LISTS,
        description="Comma-separated string. URL page paths visitors from this "
        "account viewed in the last website visit session",
        written=_ON_VISIT,
    )
    yield FieldSpec(
        object=a,
        api_name="Hearth_Segments_List__c",
        label="Hearth: Segments List",
        **_LISTS,
        description="List of Hearth segments that this account matches",
        written=_ON_VISIT,
    )
    yield FieldSpec(
        object=a,
        api_name="Hearth_Total_Active_Time__c",
        label="Hearth: Total active time",
        **_COUNT,
        description="Total active seconds all visitors from this account spent on "
        "your website. Active means moving the mouse, scrolling or clicking; a tab "
        "left open in the background does not count",
        written=_ON_VISIT,
    )
    yield FieldSpec(
        object=a,
        api_name="Hearth_Total_Pages_Viewed__c",
        label="Hearth: Total pages viewed",
        **_COUNT,
        description="Total number of page views from all visitors from this account",
        written=_ON_VISIT,
    )
    yield FieldSpec(
        object=a,
        api_name="Hearth_Total_Sessions__c",
        label="Hearth: Total sessions",
        **_COUNT,
        description="Total number of sessions of all visitors from this account. A "
        "session ends when the tab closes or after 15 minutes of inactivity",
        written=_ON_VISIT,
    )
    yield from _utm_fields(a, "any visitors from this account")
    yield FieldSpec(
        object=a,
        api_name="Hearth_Visitor_Count__c",
        label="Hearth: Visitor count",
        **_COUNT,
        description="Number of unique website visitors from this account",
        written=_ON_VISIT,
    )


def _utm_fields(obj: str, whose: str) -> Iterator[FieldSpec]:
    for plural, key in (
        ("Campaigns", "campaign"),
        ("Contents", "content"),
        ("Mediums", "medium"),
        ("Sources", "source"),
    ):
        yield FieldSpec(
            object=obj,
            api_name=f"Hearth_UTM_{plural}__c",
            label=f"Hearth: UTM {plural}",
            **_LISTS,
            description=f"List of all utm_{key} values from {whose}",
            written=_ON_VISIT,
        )


def _person_fields(obj: str) -> Iterator[FieldSpec]:
    noun = obj.lower()
    if obj == "Lead":
        yield _id_field(obj)
    yield FieldSpec(
        object=obj,
        api_name="Hearth_Created__c",
        label="Hearth: Created",
        **_BOOL,
        description=f"True if Hearth created this {noun}",
        written=f"Set to true when Hearth creates the {noun}",
    )
    yield FieldSpec(
        object=obj,
        api_name="Hearth_Touched__c",
        label="Hearth: Touched",
        **_BOOL,
        description=f"True if Hearth updated the {noun}",
        written=f"Set to true whenever Hearth updates the {noun}",
    )
    yield FieldSpec(
        object=obj,
        api_name="Hearth_Identification_Source__c",
        label="Hearth: Identification Source",
        type="Picklist",
        picklist=_SOURCES,
        description=f"How Hearth identified the {noun}'s email",
        written="When Hearth identifies the visitor's email",
    )
    yield FieldSpec(
        object=obj,
        api_name="Hearth_Prospected__c",
        label="Hearth: Prospected",
        **_BOOL,
        description=f"True if Hearth created this {noun} via an orchestration (Outbound Agent)",
        written=f"When an orchestration creates the {noun}",
    )
    yield FieldSpec(
        object=obj,
        api_name="Hearth_Prospector_Workflow__c",
        label="Hearth: Prospector Workflow",
        type="Text",
        length=255,
        description=f"Name of the orchestration that created or updated the {noun}",
        written=f"When an orchestration creates or updates the {noun}",
    )
    yield FieldSpec(
        object=obj,
        api_name="Hearth_Last_Chat_Content__c",
        label="Hearth: Last Chat Content",
        type="LongTextArea",
        length=LIST_LENGTH,
        visible_lines=5,
        description="Last chat message in chat from anyone",
        written="After each chat message",
    )
    yield FieldSpec(
        object=obj,
        api_name="Hearth_LinkedIn_Bio__c",
        label="Hearth: LinkedIn Bio",
        type="Url",
        description=f"LinkedIn profile URL of the {noun}",
        written="When enrichment finds a LinkedIn profile",
    )
    yield FieldSpec(
        object=obj,
        api_name="Hearth_Link__c",
        label="Hearth: Link",
        type="Url",
        description="URL of the visitor page in Hearth",
        written=f"When Hearth creates or first updates the {noun}",
    )
    yield FieldSpec(
        object=obj,
        api_name="Hearth_Last_Seen__c",
        label="Hearth: Last Seen",
        type="DateTime",
        description=f"Date and time the {noun} was last seen on your website",
        written=_ON_VISIT,
    )
    yield FieldSpec(
        object=obj,
        api_name="Hearth_Last_Pages_Visited__c",
        label="Hearth: Last Pages Visited",
        **_LISTS,
        description="Comma-separated string. URL page paths from the last website visit session",
        written=_ON_VISIT,
    )
    yield FieldSpec(
        object=obj,
        api_name="Hearth_Segments_List__c",
        label="Hearth: Segments List",
        **_LISTS,
        description="List of Hearth segments that this visitor matches",
        written=_ON_VISIT,
    )
    yield FieldSpec(
        object=obj,
        api_name="Hearth_Total_Active_Time__c",
        label="Hearth: Total active time",
        **_COUNT,
        description="Total active seconds this visitor spent on your website. Active "
        "means moving the mouse, scrolling or clicking; a tab left open in the "
        "background does not count",
        written=_ON_VISIT,
    )
    yield FieldSpec(
        object=obj,
        api_name="Hearth_Total_Pages_Viewed__c",
        label="Hearth: Total pages viewed",
        **_COUNT,
        description="Total number of page views from this visitor",
        written=_ON_VISIT,
    )
    yield FieldSpec(
        object=obj,
        api_name="Hearth_Total_Sessions__c",
        label="Hearth: Total sessions",
        **_COUNT,
        description="Total number of sessions from this visitor. A session ends when "
        "the tab closes or after 15 minutes of inactivity",
        written=_ON_VISIT,
    )
    yield from _utm_fields(obj, "any website visits from this visitor")


def _opportunity_fields() -> Iterator[FieldSpec]:
    yield FieldSpec(
        object="Opportunity",
        api_name="Hearth_Created_Account__c",
        label="Hearth: Created Account",
        **_BOOL,
        description="True if the Account of this Opportunity has Hearth: Created = true",
        written="When Hearth writes an opportunity of such an account",
    )


#: Every field Hearth provisions, in order: objects as in `OBJECTS`, fields as in the spec.
CATALOGUE: Final[tuple[FieldSpec, ...]] = (
    *_account_fields(),
    *_person_fields("Lead"),
    *_person_fields("Contact"),
    *_opportunity_fields(),
)


def fields_for(obj: str, catalogue: tuple[FieldSpec, ...] = CATALOGUE) -> tuple[FieldSpec, ...]:
    """The catalogue's fields on one object, in catalogue order."""
    return tuple(spec for spec in catalogue if spec.object == obj)


def reference_table(catalogue: tuple[FieldSpec, ...] = CATALOGUE) -> str:
    """The Markdown field reference of ``docs/salesforce-fields.md`` (kept in sync by a test)."""
    rows = [
        "| Object | Label | API name | Type | What it holds | When Hearth writes it |",
        "|---|---|---|---|---|---|",
    ]
    for spec in catalogue:
        cells = (
            spec.object,
            spec.label,
            f"`{spec.api_name}`",
            spec.type_summary(),
            spec.description,
            spec.written,
        )
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"


def _check_unique(catalogue: tuple[FieldSpec, ...]) -> None:
    seen: dict[tuple[str, str], FieldSpec] = {}
    for spec in catalogue:
        key = (spec.object, spec.api_name.lower())
        if key in seen:
            raise InvalidInputError(f"{spec.full_name} appears twice in the catalogue")
        seen[key] = spec


_check_unique(CATALOGUE)
