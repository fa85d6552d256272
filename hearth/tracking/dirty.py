"""Which of Hearth's Salesforce fields an aggregate change touches. Pure, no I/O.

The outbox marks a visitor or a company dirty only when something its CRM record shows
changed: `visitor_changes(old, new)` and `company_changes(old, new)` return the API names of the
Hearth fields (`hearth.provisioning.catalogue`) whose value differs. An empty set means no
write is needed. ``old`` is None for a visitor or company Hearth has not written yet: then
every field with a value counts as changed.

How each field is compared:

- ``Hearth_Last_Seen__c``: to the second (a Salesforce Date/Time holds no milliseconds).
- ``Hearth_Last_Pages_Visited__c`` and the four ``Hearth_UTM_*__c``: the lists of values, in
  order (the order is part of the comma-separated text written); first-sight times do not count.
- The counts (``Hearth_Total_Active_Time__c``, ``Hearth_Total_Pages_Viewed__c``,
  ``Hearth_Total_Sessions__c``, and on Accounts ``Hearth_Visitor_Count__c``): as numbers.

Lead and Contact fields have the same API names, so visitors have one set for both.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Final

from hearth.provisioning.catalogue import CATALOGUE, FieldSpec
from hearth.tracking.aggregates import CompanyAggregate, VisitorAggregate

__all__ = ["COMPANY_FIELDS", "VISITOR_FIELDS", "company_changes", "visitor_changes"]

_Getter = Callable[[VisitorAggregate], object]


def _api_name(obj: str, label: str) -> str:
    """The API name of the catalogue field with this label (the spec's name) on `obj`."""
    matches = [spec for spec in CATALOGUE if spec.object == obj and spec.label == label]
    if len(matches) != 1:
        raise LookupError(f"the catalogue has no single {label!r} on {obj}")
    spec: FieldSpec = matches[0]
    return spec.api_name


def _to_second(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(microsecond=0)


# The Salesforce-visible value of each field, by its label in the spec.
_VISITOR_GETTERS: Final[tuple[tuple[str, _Getter], ...]] = (
    ("Hearth: Last Seen", lambda a: _to_second(a.last_seen)),
    ("Hearth: Last Pages Visited", lambda a: a.last_session_pages),
    ("Hearth: Total active time", lambda a: a.active_seconds),
    ("Hearth: Total pages viewed", lambda a: a.page_views),
    ("Hearth: Total sessions", lambda a: a.sessions),
    ("Hearth: UTM Campaigns", lambda a: a.utm_campaigns),
    ("Hearth: UTM Contents", lambda a: a.utm_contents),
    ("Hearth: UTM Mediums", lambda a: a.utm_mediums),
    ("Hearth: UTM Sources", lambda a: a.utm_sources),
)


def _company_visitor_count(aggregate: VisitorAggregate) -> object:
    assert isinstance(aggregate, CompanyAggregate)
    return aggregate.visitor_count


_COMPANY_GETTERS: Final = (*_VISITOR_GETTERS, ("Hearth: Visitor count", _company_visitor_count))


def _resolve(obj: str, getters: tuple[tuple[str, _Getter], ...]) -> tuple[tuple[str, _Getter], ...]:
    return tuple((_api_name(obj, label), getter) for label, getter in getters)


_LEAD: Final = _resolve("Lead", _VISITOR_GETTERS)
_CONTACT: Final = _resolve("Contact", _VISITOR_GETTERS)
if [name for name, _ in _CONTACT] != [name for name, _ in _LEAD]:  # pragma: no cover
    raise LookupError("Lead and Contact activity fields must have the same API names")
_ACCOUNT: Final = _resolve("Account", _COMPANY_GETTERS)

#: The API names of the Lead/Contact fields an aggregate drives, in catalogue order.
VISITOR_FIELDS: Final = tuple(name for name, _ in _LEAD)
#: The API names of the Account fields a company aggregate drives.
COMPANY_FIELDS: Final = tuple(name for name, _ in _ACCOUNT)


def visitor_changes(old: VisitorAggregate | None, new: VisitorAggregate) -> frozenset[str]:
    """The Lead/Contact Hearth fields whose value differs between `old` and `new`."""
    return _changes(_LEAD, old, new)


def company_changes(old: CompanyAggregate | None, new: CompanyAggregate) -> frozenset[str]:
    """The Account Hearth fields whose value differs between `old` and `new`."""
    return _changes(_ACCOUNT, old, new)


def _changes(
    fields: tuple[tuple[str, _Getter], ...],
    old: VisitorAggregate | None,
    new: VisitorAggregate,
) -> frozenset[str]:
    baseline = old if old is not None else type(new)()
    changed = {name for name, get in fields if get(baseline) != get(new)}
    if old is None:
        # Nothing written yet: every field with a value is news, even a zero count.
        changed |= {name for name, get in fields if get(new) not in (None, ())}
    return frozenset(changed)
