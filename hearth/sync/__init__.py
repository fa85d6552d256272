"""The read sync: Salesforce's Accounts, Contacts, Leads, Opportunities and Users into the CRM
mirror, with the admin's custom-field mappings.

    report = await run_sync(client, engine, workspace_id, progress=show)

`run_sync` runs one cycle (initial, re-sync or incremental pass per object); the mapping
functions are what the settings page calls; `sync_status` is what a status page reads.
"""

from hearth.sync.drift import Drift, detect_drift
from hearth.sync.fields import FieldMapping, SearchableField, searchable_fields
from hearth.sync.mappings import (
    CRM_COMPANY,
    CRM_CONTACT,
    add_mapping,
    list_mappings,
    remove_mapping,
    segment_fields,
)
from hearth.sync.plan import Mode, Phase
from hearth.sync.progress import ProgressCallback, SyncProgress
from hearth.sync.run import ObjectReport, SyncOptions, SyncReport, run_sync
from hearth.sync.state import ObjectState, load_states, request_resync, sync_status

__all__ = [
    "CRM_COMPANY",
    "CRM_CONTACT",
    "Drift",
    "FieldMapping",
    "Mode",
    "ObjectReport",
    "ObjectState",
    "Phase",
    "ProgressCallback",
    "SearchableField",
    "SyncOptions",
    "SyncProgress",
    "SyncReport",
    "add_mapping",
    "detect_drift",
    "list_mappings",
    "load_states",
    "remove_mapping",
    "request_resync",
    "run_sync",
    "searchable_fields",
    "segment_fields",
    "sync_status",
]
