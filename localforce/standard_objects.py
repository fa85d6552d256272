"""The standard objects of a new org, with the fields and picklists a fresh org ships.

Lengths, required fields and picklist values follow the Salesforce Field Reference (see
shared/reference/salesforce-api.md §9). Every object gets the system audit fields; owned objects
get OwnerId.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .schema import FieldDef, FieldType, ObjectDef, PicklistValue

__all__ = ["LEAD_STATUSES", "OPPORTUNITY_STAGES", "standard_objects", "tooling_objects"]

T = FieldType

# (stage, probability, forecast category, closed, won)
OPPORTUNITY_STAGES: tuple[tuple[str, int, str, bool, bool], ...] = (
    ("Prospecting", 10, "Pipeline", False, False),
    ("Qualification", 10, "Pipeline", False, False),
    ("Needs Analysis", 20, "Pipeline", False, False),
    ("Value Proposition", 50, "Pipeline", False, False),
    ("Id. Decision Makers", 60, "Pipeline", False, False),
    ("Perception Analysis", 70, "Pipeline", False, False),
    ("Proposal/Price Quote", 75, "Pipeline", False, False),
    ("Negotiation/Review", 90, "Pipeline", False, False),
    ("Closed Won", 100, "Closed", True, True),
    ("Closed Lost", 0, "Omitted", True, False),
)

# (status, is default, is converted)
LEAD_STATUSES: tuple[tuple[str, bool, bool], ...] = (
    ("Open - Not Contacted", True, False),
    ("Working - Contacted", False, False),
    ("Closed - Converted", False, True),
    ("Closed - Not Converted", False, False),
)

_LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
_INDUSTRIES = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
    "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering",
    "Entertainment", "Environmental", "Finance", "Food & Beverage", "Government", "Healthcare",
    "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media", "Not For Profit",
    "Recreation", "Retail", "Shipping", "Technology", "Telecommunications", "Transportation",
    "Utilities", "Other",
)  # fmt: skip
_RATINGS = ("Hot", "Warm", "Cold")
_SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")


def _label(name: str) -> str:
    base = name.removesuffix("Id") if name.endswith("Id") and name != "Id" else name
    out = []
    for i, ch in enumerate(base):
        if ch.isupper() and i and not base[i - 1].isupper():
            out.append(" ")
        out.append(ch)
    return "".join(out)


def _f(name: str, type_: FieldType, **kw: Any) -> FieldDef:
    kw.setdefault("label", _label(name))
    return FieldDef(name=name, type=type_, **kw)


def text(name: str, length: int, type_: FieldType = T.STRING, **kw: Any) -> FieldDef:
    return _f(name, type_, length=length, **kw)


def required(name: str, length: int, **kw: Any) -> FieldDef:
    return _f(name, T.STRING, length=length, nillable=False, **kw)


def picklist(
    name: str, values: tuple[str, ...], *, default: str | None = None, **kw: Any
) -> FieldDef:
    entries = tuple(PicklistValue(value=v, label=v, default=v == default) for v in values)
    kw.setdefault("length", 255)
    if default is not None:
        kw.setdefault("defaulted_on_create", True)
        kw.setdefault("default_value", default)
    return _f(name, T.PICKLIST, picklist=entries, **kw)


def ref(
    name: str, to: str | tuple[str, ...], relationship: str, child: str | None = None, **kw: Any
) -> FieldDef:
    targets = (to,) if isinstance(to, str) else to
    kw.setdefault("length", 18)
    return _f(
        name,
        T.REFERENCE,
        reference_to=targets,
        relationship_name=relationship,
        child_relationship=child,
        **kw,
    )


def readonly(field: FieldDef) -> FieldDef:
    return replace(field, createable=False, updateable=False)


def boolean(name: str, default: bool = False, **kw: Any) -> FieldDef:
    kw.setdefault("defaulted_on_create", True)
    return _f(name, T.BOOLEAN, nillable=False, default_value=default, **kw)


def number(name: str, type_: FieldType, precision: int = 18, scale: int = 0, **kw: Any) -> FieldDef:
    if type_ is T.INT:
        return _f(name, type_, digits=precision, **kw)
    return _f(name, type_, precision=precision, scale=scale, **kw)


def _system_fields(owned: bool, owner_to: tuple[str, ...] = ("User",)) -> tuple[FieldDef, ...]:
    fields = [
        _f("Id", T.ID, length=18, nillable=False, createable=False, updateable=False,
           defaulted_on_create=True, id_lookup=True, label="Record ID"),
        readonly(boolean("IsDeleted", label="Deleted")),
        readonly(_f("CreatedDate", T.DATETIME, nillable=False, defaulted_on_create=True)),
        readonly(ref("CreatedById", "User", "CreatedBy", nillable=False, defaulted_on_create=True)),
        readonly(_f("LastModifiedDate", T.DATETIME, nillable=False, defaulted_on_create=True)),
        readonly(ref("LastModifiedById", "User", "LastModifiedBy", nillable=False,
                     defaulted_on_create=True)),
        readonly(_f("SystemModstamp", T.DATETIME, nillable=False, defaulted_on_create=True)),
    ]  # fmt: skip
    if owned:
        fields.append(
            ref("OwnerId", owner_to, "Owner", nillable=False, defaulted_on_create=True,
                label="Owner ID")
        )  # fmt: skip
    return tuple(fields)


def _address(prefix: str) -> tuple[FieldDef, ...]:
    return (
        text(f"{prefix}Street", 255, T.TEXTAREA),
        text(f"{prefix}City", 40),
        text(f"{prefix}State", 80),
        text(f"{prefix}PostalCode", 20),
        text(f"{prefix}Country", 80),
    )


def _object(
    name: str,
    prefix: str,
    fields: tuple[FieldDef, ...],
    *,
    plural: str | None = None,
    owned: bool = True,
    owner_to: tuple[str, ...] = ("User",),
    **kw: Any,
) -> ObjectDef:
    return ObjectDef(
        name=name,
        label=_label(name),
        label_plural=plural or _label(name) + "s",
        key_prefix=prefix,
        fields=(*_system_fields(owned, owner_to), *fields),
        **kw,
    )


def _person_name(required_last: int = 80) -> tuple[FieldDef, ...]:
    return (
        _f("LastName", T.STRING, length=required_last, nillable=False),
        text("FirstName", 40),
        picklist("Salutation", _SALUTATIONS, length=40),
        readonly(text("Name", 121, name_field=True, label="Full Name")),
    )


def standard_objects() -> list[ObjectDef]:
    """The objects of a new org, in dependency order."""
    stage_names = tuple(s[0] for s in OPPORTUNITY_STAGES)
    return [
        _object("Organization", "00D", (
            text("Name", 80, nillable=False, name_field=True),
            text("Division", 80),
            text("OrganizationType", 40),
            text("InstanceName", 5),
            boolean("IsSandbox"),
            text("Country", 80),
            text("Phone", 40, T.PHONE),
            text("PrimaryContact", 80),
            text("DefaultLocaleSidKey", 40),
            text("LanguageLocaleKey", 40),
            text("TimeZoneSidKey", 40),
            text("NamespacePrefix", 15),
        ), owned=False, createable=False, updateable=False, deletable=False,
           replicateable=False),
        _object("Profile", "00e", (
            text("Name", 255, nillable=False, name_field=True),
            text("UserType", 40),
            text("Description", 255),
            boolean("PermissionsApiEnabled", label="API Enabled"),
            boolean("PermissionsModifyAllData", label="Modify All Data"),
            boolean("PermissionsCustomizeApplication", label="Customize Application"),
        ), owned=False, createable=False, updateable=False, deletable=False),
        _object("User", "005", (
            text("Username", 80, nillable=False, unique=True, id_lookup=True),
            *_person_name(),
            text("Email", 128, T.EMAIL, nillable=False),
            text("Alias", 8, nillable=False),
            text("CommunityNickname", 40, defaulted_on_create=True),
            boolean("IsActive", True, label="Active"),
            text("Title", 80),
            text("CompanyName", 80),
            text("Department", 80),
            text("Phone", 40, T.PHONE),
            ref("ProfileId", "Profile", "Profile", nillable=False),
            ref("ManagerId", "User", "Manager"),
            text("TimeZoneSidKey", 40, nillable=False, defaulted_on_create=True,
                 default_value="America/Los_Angeles"),
            text("LocaleSidKey", 40, nillable=False, defaulted_on_create=True,
                 default_value="en_US"),
            text("EmailEncodingKey", 40, nillable=False, defaulted_on_create=True,
                 default_value="UTF-8"),
            text("LanguageLocaleKey", 40, nillable=False, defaulted_on_create=True,
                 default_value="en_US"),
            readonly(picklist("UserType", ("Standard",), default="Standard")),
            readonly(_f("LastLoginDate", T.DATETIME)),
        ), owned=False, deletable=False),
        # Permission sets and what they grant. Every profile owns one permission set
        # (IsOwnedByProfile), which holds the profile's object and field permissions.
        _object("PermissionSet", "0PS", (
            text("Name", 80, nillable=False, name_field=True),
            text("Label", 80, nillable=False),
            text("Description", 255),
            readonly(ref("ProfileId", "Profile", "Profile")),
            readonly(boolean("IsOwnedByProfile", label="Is Owned By Profile")),
            readonly(text("NamespacePrefix", 15)),
        ), owned=False, replicateable=False),
        _object("PermissionSetAssignment", "0Pa", (
            ref("AssigneeId", "User", "Assignee", nillable=False, updateable=False),
            ref("PermissionSetId", "PermissionSet", "PermissionSet", "Assignments",
                nillable=False, updateable=False),
        ), owned=False, replicateable=False),
        _object("FieldPermissions", "01k", (
            ref("ParentId", "PermissionSet", "Parent", "FieldPerms", nillable=False,
                updateable=False),
            # Picklists of every object and field in a real org; checked on write instead.
            text("SobjectType", 40, nillable=False, updateable=False, label="Sobject Type Name"),
            text("Field", 120, nillable=False, updateable=False, label="Field Name"),
            boolean("PermissionsRead", label="Read Access"),
            boolean("PermissionsEdit", label="Edit Access"),
        ), plural="Field Permissions", owned=False, replicateable=False),
        _object("ObjectPermissions", "110", (
            ref("ParentId", "PermissionSet", "Parent", "ObjectPerms", nillable=False,
                updateable=False),
            text("SobjectType", 40, nillable=False, updateable=False, label="Sobject Type Name"),
            boolean("PermissionsRead", label="Read"),
            boolean("PermissionsCreate", label="Create"),
            boolean("PermissionsEdit", label="Edit"),
            boolean("PermissionsDelete", label="Delete"),
            boolean("PermissionsViewAllRecords", label="View All"),
            boolean("PermissionsModifyAllRecords", label="Modify All"),
        ), plural="Object Permissions", owned=False, replicateable=False),
        _object("RecordType", "012", (
            text("Name", 80, nillable=False, name_field=True),
            text("DeveloperName", 80, nillable=False),
            picklist("SobjectType", ("Account", "Contact", "Lead", "Opportunity", "Campaign",
                                     "Task"), nillable=False, restricted_picklist=True,
                     length=40, updateable=False),
            text("Description", 255),
            boolean("IsActive", True, label="Active"),
            readonly(text("NamespacePrefix", 15)),
        ), owned=False),
        _object("LeadStatus", "01J", (
            text("MasterLabel", 255, nillable=False),
            text("ApiName", 255, nillable=False),
            number("SortOrder", T.INT, 9),
            boolean("IsDefault"),
            boolean("IsConverted"),
        ), plural="Lead Status Values", owned=False, createable=False, updateable=False,
           deletable=False, replicateable=False),
        _object("Account", "001", (
            required("Name", 255, name_field=True, label="Account Name"),
            picklist("Type", ("Prospect", "Customer - Direct", "Customer - Channel",
                              "Channel Partner / Reseller", "Installation Partner",
                              "Technology Partner", "Other"), label="Account Type"),
            ref("ParentId", "Account", "Parent", "ChildAccounts"),
            *_address("Billing"),
            *_address("Shipping"),
            text("Phone", 40, T.PHONE),
            text("Fax", 40, T.PHONE),
            text("AccountNumber", 40),
            text("Website", 255, T.URL),
            text("Sic", 20, label="SIC Code"),
            picklist("Industry", _INDUSTRIES),
            number("AnnualRevenue", T.CURRENCY, 18, 0),
            number("NumberOfEmployees", T.INT, 8, label="Employees"),
            picklist("Ownership", ("Public", "Private", "Subsidiary", "Other")),
            text("TickerSymbol", 20),
            text("Description", 32000, T.TEXTAREA, label="Account Description"),
            picklist("Rating", _RATINGS),
            text("Site", 80, label="Account Site"),
            picklist("AccountSource", _LEAD_SOURCES),
            ref("RecordTypeId", "RecordType", "RecordType"),
            readonly(_f("LastActivityDate", T.DATE)),
        )),
        _object("Contact", "003", (
            ref("AccountId", "Account", "Account", "Contacts"),
            *_person_name(),
            *_address("Mailing"),
            text("Phone", 40, T.PHONE),
            text("Fax", 40, T.PHONE),
            text("MobilePhone", 40, T.PHONE),
            text("Email", 80, T.EMAIL, id_lookup=True),
            text("Title", 128),
            text("Department", 80),
            picklist("LeadSource", _LEAD_SOURCES),
            _f("Birthdate", T.DATE),
            text("Description", 32000, T.TEXTAREA, label="Contact Description"),
            ref("ReportsToId", "Contact", "ReportsTo"),
            boolean("HasOptedOutOfEmail", label="Email Opt Out"),
            boolean("DoNotCall"),
            ref("RecordTypeId", "RecordType", "RecordType"),
            readonly(_f("LastActivityDate", T.DATE)),
        )),
        _object("Campaign", "701", (
            required("Name", 80, name_field=True),
            ref("ParentId", "Campaign", "Parent", "ChildCampaigns"),
            picklist("Type", ("Conference", "Webinar", "Trade Show", "Public Relations",
                              "Partners", "Referral Program", "Advertisement", "Banner Ads",
                              "Direct Mail", "Email", "Telemarketing", "Other")),
            picklist("Status", ("Planned", "In Progress", "Completed", "Aborted")),
            _f("StartDate", T.DATE),
            _f("EndDate", T.DATE),
            number("ExpectedRevenue", T.CURRENCY, 18, 0),
            number("BudgetedCost", T.CURRENCY, 18, 0),
            number("ActualCost", T.CURRENCY, 18, 0),
            number("ExpectedResponse", T.PERCENT, 10, 2),
            number("NumberSent", T.DOUBLE, 18, 0),
            boolean("IsActive", label="Active"),
            text("Description", 32000, T.TEXTAREA),
            readonly(number("NumberOfLeads", T.INT, 9, nillable=False,
                            defaulted_on_create=True, default_value=0)),
            readonly(number("NumberOfContacts", T.INT, 9, nillable=False,
                            defaulted_on_create=True, default_value=0)),
            readonly(number("NumberOfResponses", T.INT, 9, nillable=False,
                            defaulted_on_create=True, default_value=0)),
        )),
        _object("Lead", "00Q", (
            *_person_name(),
            text("Title", 128),
            required("Company", 255),
            *_address(""),
            text("Phone", 40, T.PHONE),
            text("MobilePhone", 40, T.PHONE),
            text("Fax", 40, T.PHONE),
            text("Email", 80, T.EMAIL, id_lookup=True),
            text("Website", 255, T.URL),
            text("Description", 32000, T.TEXTAREA),
            picklist("LeadSource", _LEAD_SOURCES),
            picklist("Status", tuple(s[0] for s in LEAD_STATUSES), default=LEAD_STATUSES[0][0],
                     nillable=False, restricted_picklist=True, label="Lead Status"),
            picklist("Industry", _INDUSTRIES),
            picklist("Rating", _RATINGS),
            number("AnnualRevenue", T.CURRENCY, 18, 0),
            number("NumberOfEmployees", T.INT, 8, label="Employees"),
            readonly(boolean("IsConverted", label="Converted")),
            readonly(_f("ConvertedDate", T.DATE)),
            readonly(ref("ConvertedAccountId", "Account", "ConvertedAccount")),
            readonly(ref("ConvertedContactId", "Contact", "ConvertedContact")),
            readonly(ref("ConvertedOpportunityId", "Opportunity", "ConvertedOpportunity")),
            boolean("IsUnreadByOwner", label="Unread By Owner"),
            boolean("HasOptedOutOfEmail", label="Email Opt Out"),
            boolean("DoNotCall"),
            ref("RecordTypeId", "RecordType", "RecordType"),
            readonly(_f("LastActivityDate", T.DATE)),
        )),
        _object("Opportunity", "006", (
            ref("AccountId", "Account", "Account", "Opportunities"),
            required("Name", 120, name_field=True),
            text("Description", 32000, T.TEXTAREA),
            picklist("StageName", stage_names, nillable=False, restricted_picklist=True,
                     label="Stage"),
            number("Amount", T.CURRENCY, 18, 2),
            number("Probability", T.PERCENT, 3, 0, defaulted_on_create=True,
                   label="Probability (%)"),
            _f("CloseDate", T.DATE, nillable=False),
            picklist("Type", ("New Customer", "Existing Customer - Upgrade",
                              "Existing Customer - Replacement",
                              "Existing Customer - Downgrade"), label="Opportunity Type"),
            text("NextStep", 255),
            picklist("LeadSource", _LEAD_SOURCES),
            readonly(boolean("IsClosed", label="Closed")),
            readonly(boolean("IsWon", label="Won")),
            readonly(picklist("ForecastCategory", ("Omitted", "Pipeline", "BestCase",
                                                   "MostLikely", "Forecast", "Closed"),
                              nillable=False, defaulted_on_create=True)),
            picklist("ForecastCategoryName", ("Omitted", "Pipeline", "Best Case", "Commit",
                                              "Closed"), defaulted_on_create=True,
                     restricted_picklist=True, label="Forecast Category"),
            ref("CampaignId", "Campaign", "Campaign", "Opportunities"),
            ref("RecordTypeId", "RecordType", "RecordType"),
            readonly(_f("LastStageChangeDate", T.DATETIME)),
            readonly(_f("LastActivityDate", T.DATE)),
        ), plural="Opportunities"),
        _object("CampaignMember", "00v", (
            ref("CampaignId", "Campaign", "Campaign", "CampaignMembers", nillable=False,
                updateable=False),
            ref("LeadId", "Lead", "Lead", "CampaignMembers", updateable=False),
            ref("ContactId", "Contact", "Contact", "CampaignMembers", updateable=False),
            # Values are the Campaign's CampaignMemberStatus labels, checked per campaign.
            _f("Status", T.PICKLIST, length=40, defaulted_on_create=True),
            readonly(boolean("HasResponded", label="Responded")),
            readonly(_f("FirstRespondedDate", T.DATE)),
            readonly(text("Name", 121)),
        ), owned=False),
        _object("CampaignMemberStatus", "01Y", (
            ref("CampaignId", "Campaign", "Campaign", nillable=False, updateable=False),
            text("Label", 765, nillable=False),
            number("SortOrder", T.INT, 9),
            boolean("IsDefault", label="Default"),
            boolean("HasResponded", label="Responded"),
        ), plural="Campaign Member Statuses", owned=False),
        _object("Task", "00T", (
            ref("WhoId", ("Contact", "Lead"), "Who", "Tasks", label="Name ID"),
            ref("WhatId", ("Account", "Opportunity", "Campaign"), "What", "Tasks",
                label="Related To ID"),
            text("Subject", 255, T.COMBOBOX),
            _f("ActivityDate", T.DATE, label="Due Date Only"),
            picklist("Status", ("Not Started", "In Progress", "Completed",
                                "Waiting on someone else", "Deferred"), default="Not Started",
                     nillable=False, restricted_picklist=True, length=40),
            picklist("Priority", ("High", "Normal", "Low"), default="Normal", nillable=False,
                     restricted_picklist=True, length=40),
            readonly(boolean("IsHighPriority", label="High Priority")),
            text("Description", 32000, T.TEXTAREA, label="Comments"),
            readonly(boolean("IsClosed", label="Closed")),
            readonly(ref("AccountId", "Account", "Account")),
            picklist("TaskSubtype", ("Task", "Email", "LinkedIn", "List Email", "Call"),
                     updateable=False, restricted_picklist=True, length=40,
                     defaulted_on_create=True),
            picklist("Type", ("Call", "Email", "Meeting", "Other"), length=40),
            readonly(_f("CompletedDateTime", T.DATETIME)),
        )),
    ]  # fmt: skip


def tooling_objects() -> list[ObjectDef]:
    """The Tooling API objects localforce serves: read-only catalogues of the org's schema
    (CustomField is created through its own endpoint, not as a record)."""
    readonly_object: dict[str, Any] = {
        "owned": False, "createable": False, "updateable": False, "deletable": False,
        "replicateable": False,
    }  # fmt: skip
    # Their IDs are names ("Lead", "Lead.Email"), as EntityDefinition's and FieldDefinition's
    # DurableId are, so FieldDefinition.EntityDefinitionId can join on them.
    durable_id = text("Id", 255, id_lookup=True, label="Durable ID")
    return [
        _object("CustomField", "00N", (
            text("DeveloperName", 40),
            text("TableEnumOrId", 40, label="Table Enum or ID"),
            text("EntityDefinitionId", 255, reference_to=("EntityDefinition",),
                 relationship_name="EntityDefinition"),
            text("FullName", 255),
            text("Description", 1000),
            number("Length", T.INT, 9),
            number("Precision", T.INT, 9),
            number("Scale", T.INT, 9),
            text("InlineHelpText", 510, label="Help Text"),
            text("NamespacePrefix", 15),
            text("ManageableState", 40),
        ), plural="Custom Fields", **readonly_object),
        _replace_id(_object("EntityDefinition", "000", (
            text("DurableId", 255),
            text("QualifiedApiName", 250),
            text("DeveloperName", 40),
            text("Label", 40),
            text("PluralLabel", 40),
            text("KeyPrefix", 3),
            text("NamespacePrefix", 15),
            boolean("IsCustomizable"),
            boolean("IsQueryable"),
            boolean("IsCustomSetting"),
        ), plural="Entity Definitions", **readonly_object), durable_id),
        _replace_id(_object("FieldDefinition", "000", (
            text("DurableId", 255),
            text("QualifiedApiName", 250),
            text("DeveloperName", 40),
            text("Label", 40),
            text("DataType", 255),
            text("EntityDefinitionId", 255, reference_to=("EntityDefinition",),
                 relationship_name="EntityDefinition"),
            number("Length", T.INT, 9),
            number("Precision", T.INT, 9),
            number("Scale", T.INT, 9),
            boolean("IsNillable"),
            boolean("IsCalculated"),
            text("NamespacePrefix", 15),
            text("Description", 1000),
        ), plural="Field Definitions", **readonly_object), durable_id),
    ]  # fmt: skip


def _replace_id(obj: ObjectDef, id_field: FieldDef) -> ObjectDef:
    fields = tuple(id_field if f.name == "Id" else f for f in obj.fields)
    return replace(obj, fields=fields, _by_lower={}, _by_relationship={})
