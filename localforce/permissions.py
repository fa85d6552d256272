"""Who may do what: profile permissions, permission sets, object permissions and field-level
security (FLS), and the per-user view of the schema they add up to.

A user's permissions are the union of their profile's own permission set (every profile owns
one, `IsOwnedByProfile`) and the permission sets assigned to them (`PermissionSetAssignment`).

- **Profile flags.** `PermissionsApiEnabled` admits REST calls at all;
  `PermissionsCustomizeApplication` allows creating custom fields and editing permission sets;
  `PermissionsModifyAllData` grants every object permission (but, as in Salesforce, not FLS).
- **Object permissions** (`ObjectPermissions`) govern the data objects in `GOVERNED_OBJECTS` and
  every custom object. Without Read an object does not exist for the user (absent from describe,
  INVALID_TYPE in SOQL, 404 over REST); without Create/Edit/Delete the write fails with
  INSUFFICIENT_ACCESS_OR_READONLY. Setup objects (users, profiles, permission sets) are not
  governed by them.
- **Field-level security** (`FieldPermissions`) applies to custom fields: without Read the field
  does not exist for the user (absent from describe, INVALID_FIELD in SOQL and in writes); with
  Read but not Edit it is read-only (INVALID_FIELD_FOR_INSERT_UPDATE). Standard fields are
  always visible.

`access_for(org, user_id)` computes a `UserAccess`, whose `schema` is the org's schema as that
user sees it. Describe, the SOQL compiler and record reads use that schema; `Dml` checks writes
against the `UserAccess` in its `WriteOptions`. Results are cached per (user, schema version,
permissions version). The permissions version is a counter that SQLite triggers bump whenever a
permission record, a profile or a user's profile changes, however the change was made (REST, Bulk
API, or SQL in a test), so the cache is never stale and costs one single-row read per request.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

from .errors import RecordError
from .schema import FieldDef, ObjectDef, Schema

if TYPE_CHECKING:
    from .org import Org

__all__ = [
    "GOVERNED_OBJECTS",
    "SETUP_OBJECTS",
    "FieldLevel",
    "ObjectAccess",
    "UserAccess",
    "access_for",
    "ensure_tables",
    "grant_to_profiles",
    "provision",
    "validate",
]

# The data objects whose access ObjectPermissions decides (custom objects are governed too).
GOVERNED_OBJECTS = frozenset(
    {"Account", "Contact", "Lead", "Opportunity", "Campaign", "CampaignMember", "Task"}
)
# Permission records: writing them needs "Customize Application" here (Salesforce asks for
# "Manage Profiles and Permission Sets" / "Assign Permission Sets", which localforce folds in).
SETUP_OBJECTS = frozenset(
    {"PermissionSet", "PermissionSetAssignment", "FieldPermissions", "ObjectPermissions"}
)
# Tables whose changes can change someone's access; the triggers below watch them.
_WATCHED = ("PermissionSet", "PermissionSetAssignment", "FieldPermissions", "ObjectPermissions")

# What a new org's profiles may do with the governed objects (read, create, edit, delete).
# Standard User follows a real org's: full access to the sales objects, read-only Campaigns
# (creating them needs the Marketing User flag). Read Only reads everything.
_DEFAULT_OBJECT_ACCESS: dict[str, dict[str, tuple[bool, bool, bool, bool]]] = {
    "System Administrator": {name: (True, True, True, True) for name in GOVERNED_OBJECTS},
    "Standard User": {
        **{name: (True, True, True, True) for name in GOVERNED_OBJECTS},
        "Campaign": (True, False, False, False),
    },
    "Read Only": {name: (True, False, False, False) for name in GOVERNED_OBJECTS},
}


class FieldLevel(Enum):
    """What field-level security lets a user do with one field."""

    HIDDEN = "hidden"
    READ = "read"
    EDIT = "edit"


@dataclass(frozen=True, slots=True)
class ObjectAccess:
    read: bool = False
    create: bool = False
    edit: bool = False
    delete: bool = False


_ALL = ObjectAccess(True, True, True, True)


@dataclass(frozen=True, kw_only=True)
class UserAccess:
    """One user's permissions, and the schema as that user sees it."""

    user_id: str
    api_enabled: bool
    customize_application: bool
    modify_all_data: bool
    schema: Schema
    # Identifies this state of schema and permissions, for describe's ETag.
    version: str
    # The latest permission change (the org's datetime format), for describe's Last-Modified.
    modified: str | None
    objects: Mapping[str, ObjectAccess] = field(default_factory=dict)
    # Lower-cased `Object.Field` of the custom fields granted, and whether Edit is granted too.
    fields: Mapping[str, bool] = field(default_factory=dict)

    def object_access(self, obj: ObjectDef) -> ObjectAccess:
        if self.modify_all_data or not _governed(obj):
            return _ALL
        return self.objects.get(obj.name.lower(), ObjectAccess())

    def field_level(self, obj: ObjectDef, f: FieldDef) -> FieldLevel:
        if not f.custom:
            return FieldLevel.EDIT
        editable = self.fields.get(f"{obj.name}.{f.name}".lower())
        if editable is None:
            return FieldLevel.HIDDEN
        return FieldLevel.EDIT if editable else FieldLevel.READ

    def check_write(self, obj: ObjectDef, operation: str) -> None:
        """Raise INSUFFICIENT_ACCESS_OR_READONLY unless the user may `operation` (create, edit,
        delete) records of `obj`."""
        if obj.name in SETUP_OBJECTS:
            allowed = self.customize_application
        else:
            allowed = getattr(self.object_access(obj), operation)
        if allowed:
            return
        message = (
            f"insufficient access rights on entity: {obj.name}"
            if operation == "create"
            else "insufficient access rights on object id"
        )
        raise RecordError(status_code="INSUFFICIENT_ACCESS_OR_READONLY", message=message)


def _governed(obj: ObjectDef) -> bool:
    return obj.custom or obj.name in GOVERNED_OBJECTS


# -- storage ---------------------------------------------------------------------------------


def ensure_tables(org: Org) -> None:
    """The permissions version and the triggers that keep it current (idempotent); then the
    default permission records of an org set up before permissions existed."""
    with org.transaction():
        org.conn.execute(
            "CREATE TABLE IF NOT EXISTS _lf_permissions (version INTEGER NOT NULL, modified TEXT)"
        )
        if org.conn.execute("SELECT 1 FROM _lf_permissions").fetchone() is None:
            org.conn.execute("INSERT INTO _lf_permissions VALUES (0, NULL)")
        bump = "UPDATE _lf_permissions SET version = version + 1"
        stamped = f"{bump}, modified = max(coalesce(modified, ''), NEW.\"SystemModstamp\")"
        events = {"ai": ("AFTER INSERT", stamped), "au": ("AFTER UPDATE", stamped),
                  "ad": ("AFTER DELETE", bump)}  # fmt: skip
        for table in _WATCHED:
            for suffix, (event, action) in events.items():
                org.conn.execute(
                    f'CREATE TRIGGER IF NOT EXISTS "_lf_perm_{table}_{suffix}" {event} '
                    f'ON "{table}" BEGIN {action}; END'
                )
        org.conn.execute(
            'CREATE TRIGGER IF NOT EXISTS "_lf_perm_Profile_au" AFTER UPDATE ON "Profile" '
            f"BEGIN {stamped}; END"
        )
        org.conn.execute(
            'CREATE TRIGGER IF NOT EXISTS "_lf_perm_User_profile" AFTER UPDATE OF "ProfileId" '
            f'ON "User" BEGIN {stamped}; END'
        )
    if org.meta("bootstrapped") and not org.meta("permissions_provisioned"):
        provision(org)


def provision(org: Org) -> None:
    """Give every profile its own permission set with the default object permissions, and grant
    FLS on the custom fields that exist now (they predate FLS enforcement, so stay visible)."""
    with org.transaction():
        profiles = org.conn.execute(
            'SELECT "Id", "Name" FROM "Profile" WHERE "IsDeleted" = 0 ORDER BY _rid'
        ).fetchall()
        for profile_id, name in profiles:
            if _owned_set(org, profile_id) is not None:
                continue
            set_id = org.insert_system_record(
                "PermissionSet",
                {"Name": f"X{profile_id[:15]}", "Label": name, "ProfileId": profile_id,
                 "IsOwnedByProfile": 1},
            )  # fmt: skip
            for sobject, (read, create, edit, delete) in sorted(
                _DEFAULT_OBJECT_ACCESS.get(name, {}).items()
            ):
                org.insert_system_record(
                    "ObjectPermissions",
                    {"ParentId": set_id, "SobjectType": sobject, "PermissionsRead": int(read),
                     "PermissionsCreate": int(create), "PermissionsEdit": int(edit),
                     "PermissionsDelete": int(delete), "PermissionsViewAllRecords": 0,
                     "PermissionsModifyAllRecords": 0},
                )  # fmt: skip
        for obj in org.schema:
            for f in obj.custom_fields:
                grant_to_profiles(org, obj.name, f.name)
        org.set_meta("permissions_provisioned", org.now())


def _owned_set(org: Org, profile_id: str) -> str | None:
    row = org.conn.execute(
        'SELECT "Id" FROM "PermissionSet" WHERE "ProfileId" = ? AND "IsOwnedByProfile" = 1 '
        'AND "IsDeleted" = 0',
        (profile_id,),
    ).fetchone()
    return None if row is None else str(row[0])


def grant_to_profiles(org: Org, object_name: str, field_name: str) -> None:
    """Grant FLS on a field to every profile's own permission set: Read to all, Edit where the
    profile may edit the object. A profile that already has a grant for it keeps it."""
    # Before the profiles' permission sets exist this grants nothing; provisioning grants the
    # fields that exist by then.
    qualified = f"{object_name}.{field_name}"
    rows = org.conn.execute(
        'SELECT ps."Id", p."PermissionsModifyAllData", op."PermissionsEdit" '
        'FROM "PermissionSet" ps JOIN "Profile" p ON p."Id" = ps."ProfileId" '
        'LEFT JOIN "ObjectPermissions" op ON op."ParentId" = ps."Id" '
        'AND op."SobjectType" = ? AND op."IsDeleted" = 0 '
        'WHERE ps."IsOwnedByProfile" = 1 AND ps."IsDeleted" = 0',
        (object_name,),
    ).fetchall()
    obj = org.schema.get(object_name)
    governed = obj is not None and _governed(obj)
    with org.transaction():
        for set_id, modify_all, object_edit in rows:
            if _field_permission(org, set_id, qualified) is not None:
                continue
            edit = bool(modify_all) or bool(object_edit) or not governed
            org.insert_system_record(
                "FieldPermissions",
                {"ParentId": set_id, "SobjectType": object_name, "Field": qualified,
                 "PermissionsRead": 1, "PermissionsEdit": int(edit)},
            )  # fmt: skip


def _field_permission(org: Org, set_id: str, qualified: str) -> str | None:
    row = org.conn.execute(
        'SELECT "Id" FROM "FieldPermissions" WHERE "ParentId" = ? AND "Field" = ? '
        'AND "IsDeleted" = 0',
        (set_id, qualified),
    ).fetchone()
    return None if row is None else str(row[0])


# -- access -----------------------------------------------------------------------------------


@dataclass
class _Cache:
    key: tuple[int, int]
    users: dict[str, UserAccess]


_CACHES: weakref.WeakKeyDictionary[Org, _Cache] = weakref.WeakKeyDictionary()


def access_for(org: Org, user_id: str) -> UserAccess:
    """The permissions of `user_id` and the schema as they see it (cached)."""
    with org.lock:
        version, modified = org.conn.execute(
            "SELECT version, modified FROM _lf_permissions"
        ).fetchone()
        key = (org.schema.version, int(version))
        cache = _CACHES.get(org)
        if cache is None or cache.key != key:
            cache = _Cache(key, {})
            _CACHES[org] = cache
        found = cache.users.get(user_id)
        if found is None:
            found = _compute(org, user_id, f"{key[0]:x}.{key[1]:x}", modified or None)
            cache.users[user_id] = found
        return found


def _compute(org: Org, user_id: str, version: str, modified: str | None) -> UserAccess:
    row = org.conn.execute(
        'SELECT p."Id", p."PermissionsApiEnabled", p."PermissionsCustomizeApplication", '
        'p."PermissionsModifyAllData" FROM "User" u JOIN "Profile" p ON p."Id" = u."ProfileId" '
        'WHERE u."Id" = ?',
        (user_id,),
    ).fetchone()
    profile_id, api, customize, modify_all = row if row is not None else ("", 0, 0, 0)
    set_ids = [
        r[0]
        for r in org.conn.execute(
            'SELECT "Id" FROM "PermissionSet" WHERE "ProfileId" = ? AND "IsOwnedByProfile" = 1 '
            'AND "IsDeleted" = 0 UNION SELECT a."PermissionSetId" FROM "PermissionSetAssignment" a '
            'WHERE a."AssigneeId" = ? AND a."IsDeleted" = 0',
            (profile_id, user_id),
        )
    ]
    marks = ", ".join("?" * len(set_ids))
    objects: dict[str, ObjectAccess] = {}
    fields: dict[str, bool] = {}
    if set_ids:
        for sobject, read, create, edit, delete in org.conn.execute(
            'SELECT "SobjectType", max("PermissionsRead"), max("PermissionsCreate"), '
            'max("PermissionsEdit"), max("PermissionsDelete") FROM "ObjectPermissions" '
            f'WHERE "ParentId" IN ({marks}) AND "IsDeleted" = 0 GROUP BY "SobjectType"',
            set_ids,
        ):
            objects[str(sobject).lower()] = ObjectAccess(
                bool(read), bool(create), bool(edit), bool(delete)
            )
        for qualified, edit in org.conn.execute(
            'SELECT "Field", max("PermissionsEdit") FROM "FieldPermissions" '
            f'WHERE "ParentId" IN ({marks}) AND "IsDeleted" = 0 AND "PermissionsRead" = 1 '
            'GROUP BY "Field"',
            set_ids,
        ):
            fields[str(qualified).lower()] = bool(edit)
    access = UserAccess(
        user_id=user_id,
        api_enabled=bool(api),
        customize_application=bool(customize),
        modify_all_data=bool(modify_all),
        schema=org.schema,
        version=version,
        modified=modified,
        objects=objects,
        fields=fields,
    )
    return replace(access, schema=_view(org.schema, access))


def _view(schema: Schema, access: UserAccess) -> Schema:
    """`schema` as the user sees it: unreadable objects and fields left out, flags narrowed."""
    visible: list[ObjectDef] = []
    for obj in schema:
        allowed = access.object_access(obj)
        if not allowed.read:
            continue
        fields = []
        for f in obj.fields:
            level = access.field_level(obj, f)
            if level is FieldLevel.READ:
                f = replace(f, createable=False, updateable=False)
            if level is not FieldLevel.HIDDEN:
                fields.append(f)
        narrowed = replace(
            obj,
            fields=tuple(fields),
            createable=obj.createable and allowed.create,
            updateable=obj.updateable and allowed.edit,
            deletable=obj.deletable and allowed.delete,
            _by_lower={},
            _by_relationship={},
        )
        visible.append(obj if narrowed == obj else narrowed)
    return Schema(visible)


# -- validation of permission records (called by Dml) ----------------------------------------


def _error(code: str, message: str, *fields: str) -> RecordError:
    return RecordError(status_code=code, message=message, fields=fields)


def _depends(record: Mapping[str, Any], needs: Mapping[str, tuple[str, ...]]) -> None:
    for flag, required in needs.items():
        missing = [r for r in required if not record.get(f"Permissions{r}")]
        if record.get(f"Permissions{flag}") and missing:
            raise _error(
                "FIELD_INTEGRITY_EXCEPTION",
                f"Permission {flag} depends on permission(s): {', '.join(missing)}",
                f"Permissions{flag}",
            )


def _bad_picklist(label: str, value: Any, name: str) -> RecordError:
    return _error(
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        f"{label}: bad value for restricted picklist field: {value}",
        name,
    )


def _clash(org: Org, table: str, where: Mapping[str, Any]) -> str | None:
    clause = " AND ".join(f'"{k}" = ?' for k in where)
    row = org.conn.execute(
        f'SELECT "Id" FROM "{table}" WHERE {clause} AND "IsDeleted" = 0', tuple(where.values())
    ).fetchone()
    return None if row is None else str(row[0])


def validate(
    org: Org, obj: ObjectDef, record: dict[str, Any], old: Mapping[str, Any] | None
) -> None:
    """Salesforce's rules for permission records; canonicalises names in `record`."""
    if obj.name == "FieldPermissions":
        _validate_field_permissions(org, record, old)
    elif obj.name == "ObjectPermissions":
        _validate_object_permissions(org, record, old)
    elif obj.name == "PermissionSetAssignment" and old is None:
        assignee, set_id = record.get("AssigneeId"), record.get("PermissionSetId")
        if _clash(org, "PermissionSetAssignment",
                  {"AssigneeId": assignee, "PermissionSetId": set_id}):  # fmt: skip
            raise _error(
                "DUPLICATE_VALUE",
                f"Duplicate PermissionSetAssignment. Assignee: {assignee}; "
                f"Permission Set: {set_id}",
            )


def _validate_field_permissions(
    org: Org, record: dict[str, Any], old: Mapping[str, Any] | None
) -> None:
    if old is None:
        sobject = org.schema.get(str(record.get("SobjectType") or ""))
        if sobject is None:
            raise _bad_picklist("Sobject Type Name", record.get("SobjectType"), "SobjectType")
        object_name, _, field_name = str(record.get("Field") or "").partition(".")
        target = sobject.field(field_name) if object_name.lower() == sobject.name.lower() else None
        # Only fields FLS applies to can be granted: custom fields, optional standard ones.
        permissionable = target is not None and (
            target.custom or (target.nillable and target.createable)
        )
        if target is None or not permissionable:
            raise _bad_picklist("Field Name", record.get("Field"), "Field")
        record["SobjectType"] = sobject.name
        record["Field"] = f"{sobject.name}.{target.name}"
        if _clash(org, "FieldPermissions",
                  {"ParentId": record.get("ParentId"), "Field": record["Field"]}):  # fmt: skip
            raise _error(
                "DUPLICATE_VALUE",
                "duplicate value found: <unknown> duplicates value on record with id: <unknown>",
            )
    _depends(record, {"Edit": ("Read",)})


def _validate_object_permissions(
    org: Org, record: dict[str, Any], old: Mapping[str, Any] | None
) -> None:
    if old is None:
        sobject = org.schema.get(str(record.get("SobjectType") or ""))
        if sobject is None or not _governed(sobject):
            raise _bad_picklist("Sobject Type Name", record.get("SobjectType"), "SobjectType")
        record["SobjectType"] = sobject.name
        if _clash(org, "ObjectPermissions",
                  {"ParentId": record.get("ParentId"), "SobjectType": sobject.name}):  # fmt: skip
            raise _error(
                "DUPLICATE_VALUE",
                "duplicate value found: <unknown> duplicates value on record with id: <unknown>",
            )
    _depends(
        record,
        {
            "Create": ("Read",),
            "Edit": ("Read",),
            "Delete": ("Read", "Edit"),
            "ViewAllRecords": ("Read",),
            "ModifyAllRecords": ("Read", "Edit", "Delete", "ViewAllRecords"),
        },
    )
