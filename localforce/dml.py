"""Record writes with Salesforce's validation, defaults, derived fields and side effects.

`Dml` is the one path by which REST, composite, collections, Bulk API and seeding change records,
so every write gets the same rules. Callers own the transaction: a REST request wraps its work in
`org.transaction()`, and collections wrap each record in a savepoint inside it.

Org automation that issue-level features add later (validation rules, duplicate rules, lead
assignment) plugs in as `before_save` hooks; they see the record as it will be stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import RecordError
from .ids import InvalidId, normalize_id
from .org import Org, quote_ident
from .permissions import SETUP_OBJECTS, FieldLevel, UserAccess
from .permissions import validate as validate_permission_record
from .schema import FieldDef, FieldType, ObjectDef
from .standard_objects import OPPORTUNITY_STAGES
from .values import Stored, to_stored

__all__ = ["Dml", "Hook", "UpsertResult", "WriteOptions"]

_SYSTEM_FIELDS = (
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)
_STAGES = {s[0]: s for s in OPPORTUNITY_STAGES}
_FORECAST_NAMES = {"BestCase": "Best Case", "Forecast": "Commit", "MostLikely": "Most Likely"}
# Children deleted with their parent (Salesforce's cascade delete of master-detail-like links).
_CASCADES: dict[str, tuple[tuple[str, str], ...]] = {
    "Account": (("Contact", "AccountId"), ("Opportunity", "AccountId")),
    "Contact": (("CampaignMember", "ContactId"),),
    "Lead": (("CampaignMember", "LeadId"),),
    "Campaign": (("CampaignMember", "CampaignId"), ("CampaignMemberStatus", "CampaignId")),
}


@dataclass(frozen=True, kw_only=True)
class WriteOptions:
    """Who writes, and the request headers that change how a write behaves."""

    user_id: str
    auto_assign: bool = True
    allow_save_on_duplicates: bool = False
    # The request's API version ("62.0"), for URLs inside error bodies; None outside REST.
    api_version: str | None = None
    # A specific assignment rule to run, active or not (`Sforce-Auto-Assign: <id>`, Bulk API
    # `assignmentRuleId`); it wins over `auto_assign`.
    assignment_rule_id: str | None = None
    # The writer's permissions (object permissions, field-level security); None writes as the
    # org itself (seeding, bootstrap, tests), unchecked.
    access: UserAccess | None = None


@dataclass(frozen=True, slots=True)
class UpsertResult:
    id: str
    created: bool


Hook = Callable[[ObjectDef, dict[str, Stored], "dict[str, Any] | None", WriteOptions], None]


def _error(code: str, message: str, *fields: str, http_status: int = 400) -> RecordError:
    return RecordError(status_code=code, message=message, fields=fields, http_status=http_status)


def _missing_external_id(field_name: str) -> RecordError:
    return _error(
        "NOT_FOUND",
        f"Provided external ID field does not exist or is not accessible: {field_name}",
        http_status=404,
    )


@dataclass
class Dml:
    org: Org
    before_save: list[Hook] = field(default_factory=list)

    # -- public operations ----------------------------------------------------------------

    def insert(self, obj: ObjectDef, body: Mapping[str, Any], opts: WriteOptions) -> str:
        obj = self._definition(obj)
        if not obj.createable:
            raise _error(
                "INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support insert"
            )
        if opts.access is not None:
            opts.access.check_write(obj, "create")
        values = self._coerce(obj, body, opts, creating=True)
        record: dict[str, Stored] = self._defaults(obj, opts)
        record.update(values)
        now = self.org.now()
        record.update(
            IsDeleted=0,
            CreatedDate=now,
            CreatedById=opts.user_id,
            LastModifiedDate=now,
            LastModifiedById=opts.user_id,
            SystemModstamp=now,
        )
        self._derive(obj, record, None, opts)
        self._check_required(obj, record, names=None)
        self._check_references(obj, record, (f for f in obj.fields if f.name in record))
        for hook in self.before_save:
            hook(obj, record, None, opts)
        self._check_unique(obj, record, None)
        with self.org.transaction():
            rid, record_id = self.org.new_id(obj)
            record["Id"] = record_id
            self.org.insert_row(obj, rid, record)
            self._after_insert(obj, record)
        return record_id

    def update(
        self, obj: ObjectDef, record_id: str, body: Mapping[str, Any], opts: WriteOptions
    ) -> None:
        obj = self._definition(obj)
        if not obj.updateable:
            raise _error(
                "INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support update"
            )
        canonical = self.canonical_id(obj, record_id)
        if opts.access is not None:
            opts.access.check_write(obj, "edit")
        old = self._live_row(obj, canonical)
        if obj.name == "Lead" and old.get("IsConverted"):
            raise _error("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
        body = {k: v for k, v in body.items() if k.lower() not in ("id", "attributes")}
        values = self._coerce(obj, body, opts, creating=False)
        record: dict[str, Stored] = {**old, **values}
        now = self.org.now()
        record.update(LastModifiedDate=now, LastModifiedById=opts.user_id, SystemModstamp=now)
        self._derive(obj, record, old, opts)
        self._check_required(obj, record, names=set(values))
        changed_refs = (
            f for f in obj.fields if f.name in values and values[f.name] != old.get(f.name)
        )
        self._check_references(obj, record, changed_refs)
        for hook in self.before_save:
            hook(obj, record, old, opts)
        self._check_unique(obj, record, canonical)
        changes = {k: v for k, v in record.items() if k in values or old.get(k) != v}
        with self.org.transaction():
            self.org.update_row(obj, canonical, changes)
            self._after_update(obj, record, old)

    def upsert(
        self,
        obj: ObjectDef,
        field_name: str,
        value: str,
        body: Mapping[str, Any],
        opts: WriteOptions,
        *,
        value_in_body: bool = False,
    ) -> UpsertResult:
        """Insert or update by external ID. Raises RecordError MULTIPLE_CHOICES (300) with the
        matching IDs in `extra["ids"]` when several records match."""
        obj = self._definition(obj)
        key = self.external_id_field(obj, field_name)
        if opts.access is not None and opts.access.field_level(obj, key) is FieldLevel.HIDDEN:
            raise _missing_external_id(field_name)
        body = dict(body)
        if not value_in_body and any(k.lower() == key.name.lower() for k in body):
            raise _error(
                "INVALID_FIELD",
                f"The field {key.name} is specified both in the URL and in the request body",
                key.name,
            )
        if value_in_body:
            body = {k: v for k, v in body.items() if k.lower() != key.name.lower()}
        if key.type is FieldType.ID:
            # By Id: an update of that record (NOT_FOUND when there is none), or an insert.
            if not value:
                return UpsertResult(self.insert(obj, body, opts), created=True)
            canonical = self.canonical_id(obj, value)
            self.update(obj, canonical, body, opts)
            return UpsertResult(canonical, created=False)
        stored = to_stored(key, value)
        matches = self.org.find_ids(obj, key.name, stored, limit=50) if stored else []
        if len(matches) > 1:
            raise RecordError(
                status_code="MULTIPLE_CHOICES",
                message=f"More than one record found for external id field: {matches}",
                fields=(key.name,),
                http_status=300,
                extra={"ids": matches},
            )
        if matches:
            self.update(obj, matches[0], body, opts)
            return UpsertResult(matches[0], created=False)
        body[key.name] = value
        return UpsertResult(self.insert(obj, body, opts), created=True)

    def delete(self, obj: ObjectDef, record_id: str, opts: WriteOptions) -> None:
        obj = self._definition(obj)
        if not obj.deletable:
            raise _error(
                "INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support delete"
            )
        canonical = self.canonical_id(obj, record_id)
        if opts.access is not None:
            opts.access.check_write(obj, "delete")
        row = self._live_row(obj, canonical)
        now = self.org.now()
        with self.org.transaction():
            self._soft_delete(obj, canonical, now, opts.user_id)
            self._after_delete(obj, row)
            for child_name, fk in _CASCADES.get(obj.name, ()):
                child = self.org.object(child_name)
                assert child is not None
                for (child_id,) in self.org.conn.execute(
                    f'SELECT "Id" FROM {quote_ident(child_name)} '
                    f'WHERE {quote_ident(fk)} = ? AND "IsDeleted" = 0',
                    (canonical,),
                ).fetchall():
                    self.delete(child, child_id, opts)

    def external_id_field(self, obj: ObjectDef, field_name: str) -> FieldDef:
        key = obj.field(field_name)
        if key is None:
            raise _missing_external_id(field_name)
        if not (key.external_id or key.id_lookup):
            raise _error(
                "INVALID_FIELD",
                f"Field {key.name} is not an External ID or indexed field for {obj.name}",
                key.name,
            )
        return key

    # -- validation ---------------------------------------------------------------------

    def _definition(self, obj: ObjectDef) -> ObjectDef:
        """The org's full definition of `obj`. Callers may pass the object as a user sees it
        (without the fields FLS hides); writes still need every field, for defaults and unique
        checks, and check the user's access through `WriteOptions.access` instead."""
        return self.org.schema.get(obj.name) or obj

    def canonical_id(self, obj: ObjectDef, record_id: str) -> str:
        try:
            canonical = normalize_id(record_id)
        except InvalidId:
            raise _error(
                "MALFORMED_ID",
                f"{obj.label} ID: id value of incorrect type: {record_id}",
                "Id",
            ) from None
        if canonical[:3] != obj.key_prefix:
            raise _error(
                "MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {record_id}", "Id"
            )
        return canonical

    def _live_row(self, obj: ObjectDef, canonical: str) -> dict[str, Any]:
        row = self.org.fetch_row(obj, canonical)
        if row is None:
            raise _error("NOT_FOUND", "The requested resource does not exist", http_status=404)
        if row["IsDeleted"]:
            raise _error("ENTITY_IS_DELETED", "entity is deleted", http_status=404)
        return row

    def _coerce(
        self, obj: ObjectDef, body: Mapping[str, Any], opts: WriteOptions, *, creating: bool
    ) -> dict[str, Stored]:
        values: dict[str, Stored] = {}
        readonly: list[str] = []
        for key, raw in body.items():
            if key == "attributes":
                continue
            definition = obj.field(key)
            level = FieldLevel.EDIT
            if definition is not None and opts.access is not None:
                level = opts.access.field_level(obj, definition)
                if level is FieldLevel.HIDDEN:
                    definition = None
            if definition is None:
                rel = obj.relationship(key)
                if rel is not None and isinstance(raw, dict):
                    values[rel.name] = self._resolve_parent(rel, raw)
                    continue
                raise _error(
                    "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}"
                )
            allowed = definition.createable if creating else definition.updateable
            if not allowed or level is FieldLevel.READ:
                readonly.append(definition.name)
                continue
            values[definition.name] = to_stored(definition, raw)
        if readonly:
            raise _error(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(readonly)}. Please check the "
                "security settings of this field and verify that it is read/write for your "
                "profile or permission set.",
                *readonly,
            )
        return values

    def _resolve_parent(self, rel: FieldDef, raw: Mapping[str, Any]) -> str:
        keys = [k for k in raw if k != "attributes"]
        target = self.org.object(rel.reference_to[0])
        if len(keys) != 1 or target is None:
            raise _error(
                "INVALID_FIELD",
                f"A foreign key for {rel.relationship_name} must name exactly one external ID",
                rel.name,
            )
        key = self.external_id_field(target, keys[0])
        stored = to_stored(key, raw[keys[0]])
        matches = self.org.find_ids(target, key.name, stored) if stored is not None else []
        if len(matches) != 1:
            found = "not found" if not matches else "matched more than one record"
            raise _error(
                "INVALID_FIELD",
                f"Foreign key external ID: {raw[keys[0]]} {found} for field {key.name} "
                f"in entity {target.name}",
                rel.name,
            )
        return matches[0]

    def _defaults(self, obj: ObjectDef, opts: WriteOptions) -> dict[str, Stored]:
        record: dict[str, Stored] = {}
        for f in obj.fields:
            if f.name in _SYSTEM_FIELDS:
                continue
            if f.name == "OwnerId":
                record["OwnerId"] = opts.user_id
            elif f.type is FieldType.BOOLEAN:
                record[f.name] = int(bool(f.default_value))
            elif f.default_value is not None:
                record[f.name] = to_stored(f, f.default_value)
        return record

    def _check_required(
        self, obj: ObjectDef, record: Mapping[str, Stored], names: set[str] | None
    ) -> None:
        missing = [
            f.name
            for f in obj.fields
            if not f.nillable
            and (f.createable or f.updateable)
            and f.type is not FieldType.BOOLEAN
            and (names is None or f.name in names)
            and record.get(f.name) is None
        ]
        if missing:
            raise _error(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                *missing,
            )

    def _check_references(self, obj: ObjectDef, record: Mapping[str, Stored], fields: Any) -> None:
        for f in fields:
            value = record.get(f.name)
            if f.type is not FieldType.REFERENCE or value is None or f.name in _SYSTEM_FIELDS:
                continue
            target = self.org.schema.by_prefix(str(value)[:3])
            if target is None or target.name not in f.reference_to:
                raise _error(
                    "FIELD_INTEGRITY_EXCEPTION",
                    f"field integrity exception: {f.name} (id value of incorrect type: {value})",
                    f.name,
                )
            owner = target.name == "User" and f.name == "OwnerId"
            row = self.org.fetch_row(target, str(value), ["Id", "IsActive"] if owner else ["Id"])
            if row is None:
                raise _error(
                    "INVALID_CROSS_REFERENCE_KEY",
                    f"invalid cross reference id: {value}",
                    f.name,
                )
            if row["IsDeleted"]:
                raise _error("ENTITY_IS_DELETED", "entity is deleted", f.name)
            if owner and not row["IsActive"]:
                raise _error(
                    "INACTIVE_OWNER_OR_USER", "operation performed with inactive user", f.name
                )

    def _check_unique(
        self, obj: ObjectDef, record: Mapping[str, Stored], own_id: str | None
    ) -> None:
        for f in obj.fields:
            if not f.unique or record.get(f.name) is None:
                continue
            clash = [i for i in self.org.find_ids(obj, f.name, record[f.name]) if i != own_id]
            if clash:
                code = "DUPLICATE_USERNAME" if f.name == "Username" else "DUPLICATE_VALUE"
                raise _error(
                    code,
                    f"duplicate value found: {f.name} duplicates value on record with id: "
                    f"{clash[0]}",
                    f.name,
                )

    # -- derived fields and side effects ---------------------------------------------------

    def _derive(
        self,
        obj: ObjectDef,
        record: dict[str, Stored],
        old: Mapping[str, Any] | None,
        opts: WriteOptions,
    ) -> None:
        if obj.field("FirstName") is not None and obj.field("Name") is not None:
            parts = (record.get("FirstName"), record.get("LastName"))
            record["Name"] = " ".join(str(p) for p in parts if p) or None
        if obj.name == "Opportunity":
            self._derive_opportunity(record, old)
        elif obj.name == "Task":
            self._derive_task(record, old)
        elif obj.name == "CampaignMember":
            self._derive_campaign_member(record, old)
        elif obj.name == "User" and record.get("CommunityNickname") is None:
            record["CommunityNickname"] = str(record.get("Username", "")).partition("@")[0][:40]
        elif obj.name in SETUP_OBJECTS:
            validate_permission_record(self.org, obj, record, old)

    def _derive_opportunity(self, record: dict[str, Stored], old: Mapping[str, Any] | None) -> None:
        stage = _STAGES.get(str(record.get("StageName")))
        if stage is None:
            return
        _, probability, forecast, closed, won = stage
        stage_changed = old is None or old.get("StageName") != record.get("StageName")
        if stage_changed:
            kept = record.get("Probability") == (old or {}).get("Probability")
            if (old is None and record.get("Probability") is None) or (old is not None and kept):
                record["Probability"] = float(probability)
            record["ForecastCategory"] = forecast
            record["ForecastCategoryName"] = _FORECAST_NAMES.get(forecast, forecast)
            record["LastStageChangeDate"] = record["LastModifiedDate"]
        record["IsClosed"] = int(closed)
        record["IsWon"] = int(won)

    def _derive_task(self, record: dict[str, Stored], old: Mapping[str, Any] | None) -> None:
        who, what = record.get("WhoId"), record.get("WhatId")
        if who and str(who).startswith("00Q") and what:
            raise _error(
                "FIELD_INTEGRITY_EXCEPTION",
                "Related To ID: id value of incorrect type: a Lead cannot be related to a What",
                "WhatId",
            )
        closed = record.get("Status") == "Completed"
        if closed and not (old and old.get("IsClosed")):
            record["CompletedDateTime"] = record["LastModifiedDate"]
        record["IsClosed"] = int(closed)
        record["IsHighPriority"] = int(record.get("Priority") == "High")
        if record.get("TaskSubtype") is None:
            record["TaskSubtype"] = "Task"
        record["AccountId"] = self._task_account(what, who)

    def _task_account(self, what: Stored, who: Stored) -> Stored:
        for ref, source in ((what, "WhatId"), (who, "WhoId")):
            if not ref:
                continue
            prefix = str(ref)[:3]
            if prefix == "001":
                return ref
            if prefix in ("006", "003") or source == "WhoId":
                target = self.org.schema.by_prefix(prefix)
                if target is not None and target.field("AccountId") is not None:
                    row = self.org.fetch_row(target, str(ref), ["AccountId"])
                    if row is not None and row["AccountId"]:
                        return str(row["AccountId"])
        return None

    def _derive_campaign_member(
        self, record: dict[str, Stored], old: Mapping[str, Any] | None
    ) -> None:
        lead, contact = record.get("LeadId"), record.get("ContactId")
        if old is None:
            if not lead and not contact:
                raise _error(
                    "REQUIRED_FIELD_MISSING",
                    "Required fields are missing: [LeadId or ContactId]",
                    "LeadId",
                    "ContactId",
                )
            if lead and contact:
                raise _error(
                    "FIELD_INTEGRITY_EXCEPTION",
                    "A campaign member is either a Lead or a Contact, not both",
                    "LeadId",
                    "ContactId",
                )
        campaign = str(record.get("CampaignId") or "")
        statuses = self.org.conn.execute(
            'SELECT "Label", "IsDefault", "HasResponded" FROM "CampaignMemberStatus" '
            'WHERE "CampaignId" = ? AND "IsDeleted" = 0',
            (campaign,),
        ).fetchall()
        if not statuses:
            return  # no such campaign: the required-field and reference checks report it
        if record.get("Status") is None:
            record["Status"] = next((s[0] for s in statuses if s[1]), None)
        chosen = next(
            (s for s in statuses if str(s[0]).casefold() == str(record["Status"]).casefold()),
            None,
        )
        if chosen is None:
            raise _error(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Status: bad value for restricted picklist field: {record['Status']}",
                "Status",
            )
        record["Status"] = chosen[0]
        record["HasResponded"] = int(bool(chosen[2]))
        if chosen[2] and not record.get("FirstRespondedDate"):
            record["FirstRespondedDate"] = str(record["LastModifiedDate"])[:10]
        person_obj = "Lead" if lead else "Contact"
        person = self.org.object(person_obj)
        assert person is not None
        row = self.org.fetch_row(person, str(lead or contact), None)
        if row is not None:
            record["Name"] = row.get("Name")
            if old is None and row.get("IsConverted"):
                raise _error(
                    "FIELD_INTEGRITY_EXCEPTION",
                    "field integrity exception: a converted lead cannot be added to a campaign",
                    "LeadId",
                )
        if old is None and campaign:
            column = "LeadId" if lead else "ContactId"
            exists = self.org.conn.execute(
                'SELECT 1 FROM "CampaignMember" WHERE "CampaignId" = ? '
                f"AND {quote_ident(column)} = ?"
                ' AND "IsDeleted" = 0',
                (campaign, lead or contact),
            ).fetchone()
            if exists:
                raise _error("DUPLICATE_VALUE", "Already a campaign member.", column)

    def _after_insert(self, obj: ObjectDef, record: Mapping[str, Stored]) -> None:
        if obj.name == "Campaign":
            statuses = self.org.object("CampaignMemberStatus")
            assert statuses is not None
            for order, (label, default, responded) in enumerate(
                (("Sent", True, False), ("Responded", False, True)), start=1
            ):
                rid, status_id = self.org.new_id(statuses)
                self.org.insert_row(
                    statuses,
                    rid,
                    {
                        "Id": status_id,
                        "IsDeleted": 0,
                        "CreatedDate": record["CreatedDate"],
                        "CreatedById": record["CreatedById"],
                        "LastModifiedDate": record["CreatedDate"],
                        "LastModifiedById": record["CreatedById"],
                        "SystemModstamp": record["CreatedDate"],
                        "CampaignId": record["Id"],
                        "Label": label,
                        "SortOrder": order,
                        "IsDefault": int(default),
                        "HasResponded": int(responded),
                    },
                )
        elif obj.name == "CampaignMember":
            self._count_member(record, +1)

    def _after_update(
        self, obj: ObjectDef, record: Mapping[str, Stored], old: Mapping[str, Any]
    ) -> None:
        if obj.name == "CampaignMember" and bool(record.get("HasResponded")) != bool(
            old.get("HasResponded")
        ):
            self.org.conn.execute(
                'UPDATE "Campaign" SET "NumberOfResponses" = "NumberOfResponses" + ? '
                'WHERE "Id" = ?',
                (1 if record.get("HasResponded") else -1, record["CampaignId"]),
            )

    def _after_delete(self, obj: ObjectDef, row: Mapping[str, Any]) -> None:
        if obj.name == "CampaignMember":
            self._count_member(row, -1)

    def _count_member(self, member: Mapping[str, Any], delta: int) -> None:
        column = "NumberOfLeads" if member.get("LeadId") else "NumberOfContacts"
        responded = ', "NumberOfResponses" = "NumberOfResponses" + ?'
        self.org.conn.execute(
            f'UPDATE "Campaign" SET {quote_ident(column)} = {quote_ident(column)} + ?{responded} '
            'WHERE "Id" = ?',
            (delta, delta if member.get("HasResponded") else 0, member["CampaignId"]),
        )

    def _soft_delete(self, obj: ObjectDef, record_id: str, now: str, user_id: str) -> None:
        self.org.conn.execute(
            f'UPDATE {quote_ident(obj.name)} SET "IsDeleted" = 1, _deleted_at = ?, '
            '"SystemModstamp" = ?, "LastModifiedById" = ? WHERE "Id" = ?',
            (now, now, user_id, record_id),
        )
