"""The CRM mirror: a local copy of the Salesforce records Hearth reads."""

from hearth.mirror.records import CrmAccount, CrmContact, CrmLead, CrmOpportunity, CrmUser

__all__ = ["CrmAccount", "CrmContact", "CrmLead", "CrmOpportunity", "CrmUser"]
