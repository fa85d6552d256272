"""An in-memory `MirrorView`: dictionaries keyed the way the real mirror's indexes are."""

from collections import defaultdict
from collections.abc import Iterable, Sequence

from hearth.matching import company_domain_for_email, normalize_domain, normalize_email
from hearth.mirror import CrmAccount, CrmContact, CrmLead, CrmOpportunity, CrmUser


class MemoryMirror:
    """Indexes records once, then answers `MirrorView` look-ups; counts every call."""

    def __init__(
        self,
        *,
        accounts: Iterable[CrmAccount] = (),
        contacts: Iterable[CrmContact] = (),
        leads: Iterable[CrmLead] = (),
        opportunities: Iterable[CrmOpportunity] = (),
        users: Iterable[CrmUser] = (),
    ) -> None:
        self.calls: defaultdict[str, int] = defaultdict(int)
        self._accounts_by_domain: defaultdict[str, list[CrmAccount]] = defaultdict(list)
        for account in accounts:
            if domain := normalize_domain(account.website):
                self._accounts_by_domain[domain].append(account)
        self._contacts: dict[str, CrmContact] = {}
        self._contacts_by_email: defaultdict[str, list[CrmContact]] = defaultdict(list)
        self._contacts_of_account: defaultdict[str, list[CrmContact]] = defaultdict(list)
        for contact in contacts:
            self._contacts[contact.id] = contact
            if email := normalize_email(contact.email):
                self._contacts_by_email[email].append(contact)
            if contact.account_id:
                self._contacts_of_account[contact.account_id].append(contact)
        self._leads_by_email: defaultdict[str, list[CrmLead]] = defaultdict(list)
        self._leads_by_domain: defaultdict[str, list[CrmLead]] = defaultdict(list)
        for lead in leads:
            if email := normalize_email(lead.email):
                self._leads_by_email[email].append(lead)
            if domain := company_domain_for_email(lead.email):
                self._leads_by_domain[domain].append(lead)
        self._opportunities: defaultdict[str, list[CrmOpportunity]] = defaultdict(list)
        for opportunity in opportunities:
            if opportunity.account_id:
                self._opportunities[opportunity.account_id].append(opportunity)
        self._users = {user.id: user for user in users}

    def accounts_by_domain(self, domain: str) -> Sequence[CrmAccount]:
        self.calls["accounts_by_domain"] += 1
        return self._accounts_by_domain.get(domain, [])

    def contacts_by_email(self, email: str) -> Sequence[CrmContact]:
        self.calls["contacts_by_email"] += 1
        return self._contacts_by_email.get(email, [])

    def leads_by_email(self, email: str) -> Sequence[CrmLead]:
        self.calls["leads_by_email"] += 1
        return self._leads_by_email.get(email, [])

    def leads_by_company_domain(self, domain: str) -> Sequence[CrmLead]:
        self.calls["leads_by_company_domain"] += 1
        return self._leads_by_domain.get(domain, [])

    def contact(self, contact_id: str) -> CrmContact | None:
        self.calls["contact"] += 1
        return self._contacts.get(contact_id)

    def contacts_of_account(self, account_id: str) -> Sequence[CrmContact]:
        self.calls["contacts_of_account"] += 1
        return self._contacts_of_account.get(account_id, [])

    def opportunities_of_account(self, account_id: str) -> Sequence[CrmOpportunity]:
        self.calls["opportunities_of_account"] += 1
        return self._opportunities.get(account_id, [])

    def user(self, user_id: str) -> CrmUser | None:
        self.calls["user"] += 1
        return self._users.get(user_id)
