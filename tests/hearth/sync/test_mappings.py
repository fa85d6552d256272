"""Custom-field mappings stored per workspace, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.orm import Session

from hearth.errors import InvalidInputError, NotFoundError
from hearth.sync import (
    CRM_COMPANY,
    CRM_CONTACT,
    FieldMapping,
    ObjectState,
    Phase,
    add_mapping,
    list_mappings,
    load_states,
    remove_mapping,
    request_resync,
    segment_fields,
)
from hearth.sync.mappings import disable_mapping
from hearth.sync.plan import Mode
from hearth.sync.state import begin_pass, save_state
from tests.hearth.mirror.conftest import add_workspace


def describe(sobject: str, *fields: tuple[str, str]) -> dict[str, Any]:
    return {
        "name": sobject,
        "fields": [
            {"name": n, "label": n.removesuffix("__c"), "type": t, "custom": True}
            for n, t in fields
        ],
    }


ACCOUNT = describe("Account", ("Tier__c", "string"), ("Score__c", "double"))
CONTACT = describe("Contact", ("Persona__c", "string"))
LEAD = describe("Lead", ("Source__c", "string"))


def test_mappings_are_added_listed_and_removed(session: Session) -> None:
    ws = add_workspace(session, "acme")
    other = add_workspace(session, "other")

    added = add_mapping(session, ws, ACCOUNT, "tier__c", default="Gold")
    add_mapping(session, ws, ACCOUNT, "Score__c")
    add_mapping(session, other, ACCOUNT, "Score__c")
    add_mapping(session, ws, CONTACT, "Persona__c")

    assert added == FieldMapping(
        sobject="Account", field="Tier__c", label="Tier", type="string", default="Gold"
    )
    assert [m.field for m in list_mappings(session, ws)] == ["Score__c", "Tier__c", "Persona__c"]
    assert [m.field for m in list_mappings(session, ws, "Contact")] == ["Persona__c"]

    remove_mapping(session, ws, "Account", "TIER__C")

    assert [m.field for m in list_mappings(session, ws, "Account")] == ["Score__c"]
    assert [m.field for m in list_mappings(session, other)] == ["Score__c"]
    with pytest.raises(NotFoundError):
        remove_mapping(session, ws, "Account", "Tier__c")


def test_a_field_describe_does_not_list_is_refused(session: Session) -> None:
    ws = add_workspace(session, "acme")

    with pytest.raises(InvalidInputError, match=r"Account\.Nope__c does not exist"):
        add_mapping(session, ws, ACCOUNT, "Nope__c")
    assert list_mappings(session, ws) == []


def test_adding_a_mapping_asks_for_a_resync(session: Session) -> None:
    ws = add_workspace(session, "acme")
    save_state(session, ws, ObjectState(sobject="Account", phase=Phase.INCREMENTAL))

    add_mapping(session, ws, ACCOUNT, "Tier__c")
    add_mapping(session, ws, CONTACT, "Persona__c")

    states = load_states(session, ws)
    assert states["Account"].resync_requested
    assert states["Contact"] == ObjectState(sobject="Contact", resync_requested=True)


def test_the_sync_never_overwrites_a_pending_request(session: Session) -> None:
    ws = add_workspace(session, "acme")
    running = ObjectState(sobject="Account", phase=Phase.INCREMENTAL, records_done=3)
    save_state(session, ws, running)

    request_resync(session, ws, "Account")
    save_state(session, ws, replace(running, records_done=4))

    assert load_states(session, ws)["Account"].resync_requested


def test_a_pass_takes_up_the_request_and_starts_over(session: Session) -> None:
    ws = add_workspace(session, "acme")
    save_state(
        session,
        ws,
        ObjectState(sobject="Account", phase=Phase.INCREMENTAL, records_done=9, records_total=9),
    )
    save_state(
        session,
        ws,
        ObjectState(sobject="Lead", phase=Phase.INITIAL, mode=Mode.BULK, cursor_id="00Q5b"),
    )
    save_state(session, ws, ObjectState(sobject="Contact", phase=Phase.INCREMENTAL))
    request_resync(session, ws, "Account")
    request_resync(session, ws, "Lead")

    account = begin_pass(session, ws, "Account")
    lead = begin_pass(session, ws, "Lead")

    assert account == ObjectState(sobject="Account", phase=Phase.RESYNC)
    # A full pass under way starts over, so no record misses the new field.
    assert lead == ObjectState(sobject="Lead", phase=Phase.INITIAL)
    assert begin_pass(session, ws, "Contact").phase is Phase.INCREMENTAL
    assert not any(s.resync_requested for s in load_states(session, ws).values())


def test_disabled_mappings_keep_their_warning_and_can_be_enabled_again(session: Session) -> None:
    ws = add_workspace(session, "acme")
    add_mapping(session, ws, ACCOUNT, "Tier__c")

    disable_mapping(session, ws, "Account", "Tier__c", "Account.Tier__c was deleted")

    (disabled,) = list_mappings(session, ws)
    assert (disabled.enabled, disabled.warning) == (False, "Account.Tier__c was deleted")
    assert segment_fields(session, ws) == {CRM_COMPANY: [], CRM_CONTACT: []}

    add_mapping(session, ws, ACCOUNT, "Tier__c")

    (enabled,) = list_mappings(session, ws)
    assert (enabled.enabled, enabled.warning) == (True, None)


def test_segment_fields_group_companies_and_people(session: Session) -> None:
    ws = add_workspace(session, "acme")
    add_mapping(session, ws, ACCOUNT, "Tier__c")
    add_mapping(session, ws, CONTACT, "Persona__c")
    add_mapping(session, ws, LEAD, "Source__c")
    add_mapping(session, ws, describe("Opportunity", ("Deal__c", "string")), "Deal__c")

    grouped = segment_fields(session, ws)

    assert [m.field for m in grouped[CRM_COMPANY]] == ["Tier__c"]
    assert [(m.sobject, m.field) for m in grouped[CRM_CONTACT]] == [
        ("Contact", "Persona__c"),
        ("Lead", "Source__c"),
    ]
