"""The CRM mirror's records: plain, frozen copies of the Salesforce rows Hearth reads.

The mirror (built by the read sync) keeps Account, Contact, Lead, Opportunity and User records
with the standard fields of the spec's "What Fields Does Warmly Automatically Read" table and
the few more that matching needs. These classes are what the mirror hands to the pure code
(matching, roll-ups, the planner): no ORM, no I/O. Fields use Salesforce's meaning; a blank
Salesforce field is None. Ids are 18-character Salesforce Ids.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

__all__ = ["CrmAccount", "CrmContact", "CrmLead", "CrmOpportunity", "CrmUser"]


@dataclass(frozen=True, kw_only=True, slots=True)
class CrmUser:
    """A Salesforce User, the owner of records."""

    id: str
    name: str
    email: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CrmAccount:
    """A Salesforce Account.

    `website` is the Website field as typed in Salesforce (free text); matching compares its
    `normalize_domain`. `type` is the Type picklist ("Customer - Direct", "Prospect", ...).
    `last_activity_date` is Salesforce's LastActivityDate: the latest task or event date.
    """

    id: str
    name: str
    website: str | None = None
    owner_id: str | None = None
    type: str | None = None
    parent_id: str | None = None
    created_date: datetime
    last_modified_date: datetime
    last_activity_date: date | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CrmContact:
    """A Salesforce Contact; `account_id` is None for a private Contact."""

    id: str
    account_id: str | None = None
    email: str | None = None
    name: str
    title: str | None = None
    owner_id: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CrmLead:
    """A Salesforce Lead; a converted Lead names the Contact and Account it became."""

    id: str
    email: str | None = None
    name: str
    title: str | None = None
    company: str | None = None
    owner_id: str | None = None
    is_converted: bool = False
    converted_contact_id: str | None = None
    converted_account_id: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CrmOpportunity:
    """A Salesforce Opportunity of an Account.

    `record_type_name` is the spec's "Pipeline Name": the name of the Opportunity's record type
    (RecordType.Name), None when the org has no Opportunity record types. `active_date` is the
    spec's "Active Date": the Opportunity date field the read sync is configured to read
    (LastActivityDate by default), as a date.
    """

    id: str
    account_id: str | None = None
    name: str
    stage_name: str
    amount: Decimal | None = None
    close_date: date
    is_closed: bool = False
    is_won: bool = False
    owner_id: str | None = None
    record_type_name: str | None = None
    active_date: date | None = None
