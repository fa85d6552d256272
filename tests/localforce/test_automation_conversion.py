"""Lead conversion through the admin API, checked by reading the records back with SOQL."""

from __future__ import annotations

from typing import Any

from localforce.bootstrap import Credentials, create_user
from localforce.org import Org

from .automation_support import Admin
from .conftest import Api

LEAD = {
    "Salutation": "Dr.",
    "FirstName": "Jane",
    "LastName": "Doe",
    "Title": "CTO",
    "Company": "Acme Corp",
    "Email": "jane@acme.com",
    "Phone": "+1 555 0100",
    "MobilePhone": "+1 555 0101",
    "Website": "https://acme.com",
    "Street": "1 Main St",
    "City": "Springfield",
    "State": "IL",
    "PostalCode": "62701",
    "Country": "USA",
    "Industry": "Technology",
    "AnnualRevenue": 5000000,
    "NumberOfEmployees": 120,
    "Rating": "Hot",
    "LeadSource": "Web",
    "Description": "Met at the booth",
    "DoNotCall": True,
}


def _one(api: Api, soql: str) -> dict[str, Any]:
    [record] = api.query_all_records(soql)
    return record


def _quarter_end(org: Org) -> str:
    today = org.clock.now().date()
    month = (today.month - 1) // 3 * 3 + 3
    ends = {3: 31, 6: 30, 9: 30, 12: 31}
    return f"{today.year}-{month:02d}-{ends[month]}"


def test_a_lead_becomes_account_contact_and_opportunity(
    api: Api, org: Org, creds: Credentials
) -> None:
    lead_id = api.create("Lead", **LEAD)
    response = Admin(api, org).convert(lead_id)
    assert response.status_code == 200, response.text
    ids = response.json()
    assert set(ids) == {"leadId", "accountId", "contactId", "opportunityId"}
    assert ids["leadId"] == lead_id

    converted = "ConvertedAccountId, ConvertedContactId, ConvertedOpportunityId"
    lead = _one(api, f"SELECT IsConverted, ConvertedDate, Status, {converted} FROM Lead "
                     f"WHERE Id = '{lead_id}'")  # fmt: skip
    assert lead["IsConverted"] is True
    assert lead["ConvertedDate"] == org.clock.now().date().isoformat()
    assert lead["Status"] == "Closed - Converted"
    assert (lead["ConvertedAccountId"], lead["ConvertedContactId"],
            lead["ConvertedOpportunityId"]) == (ids["accountId"], ids["contactId"],
                                                ids["opportunityId"])  # fmt: skip

    account = _one(api, "SELECT Name, Website, Phone, Industry, AnnualRevenue, NumberOfEmployees, "
                        "Rating, AccountSource, BillingStreet, BillingCity, BillingState, "
                        "BillingPostalCode, BillingCountry, OwnerId FROM Account "
                        f"WHERE Id = '{ids['accountId']}'")  # fmt: skip
    del account["attributes"]
    assert account == {
        "Name": "Acme Corp", "Website": "https://acme.com", "Phone": "+1 555 0100",
        "Industry": "Technology", "AnnualRevenue": 5000000.0, "NumberOfEmployees": 120,
        "Rating": "Hot", "AccountSource": "Web", "BillingStreet": "1 Main St",
        "BillingCity": "Springfield", "BillingState": "IL", "BillingPostalCode": "62701",
        "BillingCountry": "USA", "OwnerId": creds.user_id,
    }  # fmt: skip

    contact = _one(api, "SELECT AccountId, Salutation, FirstName, LastName, Title, Email, Phone, "
                        "MobilePhone, Description, LeadSource, DoNotCall, MailingStreet, "
                        "MailingCity, MailingState, MailingPostalCode, MailingCountry, OwnerId "
                        f"FROM Contact WHERE Id = '{ids['contactId']}'")  # fmt: skip
    del contact["attributes"]
    assert contact == {
        "AccountId": ids["accountId"], "Salutation": "Dr.", "FirstName": "Jane",
        "LastName": "Doe", "Title": "CTO", "Email": "jane@acme.com", "Phone": "+1 555 0100",
        "MobilePhone": "+1 555 0101", "Description": "Met at the booth", "LeadSource": "Web",
        "DoNotCall": True, "MailingStreet": "1 Main St", "MailingCity": "Springfield",
        "MailingState": "IL", "MailingPostalCode": "62701", "MailingCountry": "USA",
        "OwnerId": creds.user_id,
    }  # fmt: skip

    opportunity = _one(api, "SELECT Name, AccountId, StageName, CloseDate, LeadSource, OwnerId, "
                            "IsClosed FROM Opportunity "
                            f"WHERE Id = '{ids['opportunityId']}'")  # fmt: skip
    del opportunity["attributes"]
    assert opportunity == {
        "Name": "Acme Corp", "AccountId": ids["accountId"], "StageName": "Prospecting",
        "CloseDate": _quarter_end(org), "LeadSource": "Web", "OwnerId": creds.user_id,
        "IsClosed": False,
    }  # fmt: skip


def test_a_converted_lead_is_read_only(api: Api, org: Org, creds: Credentials) -> None:
    lead_id = api.create("Lead", LastName="Doe", Company="Acme")
    admin = Admin(api, org)
    assert admin.convert(lead_id, createOpportunity=False).json()["opportunityId"] is None
    response = api.patch(f"/sobjects/Lead/{lead_id}", json={"Title": "CEO"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    again = admin.convert(lead_id)
    assert again.status_code == 400
    assert "already converted" in again.json()["error"]


def test_merging_fills_only_blank_fields(api: Api, org: Org, creds: Credentials) -> None:
    account_id = api.create("Account", Name="Acme Inc.", Phone="+1 555 9999")
    contact_id = api.create(
        "Contact", AccountId=account_id, LastName="Doe", Title="VP", LeadSource="Phone Inquiry"
    )
    lead_id = api.create("Lead", **LEAD)
    response = Admin(api, org).convert(
        lead_id, accountId=account_id, contactId=contact_id, overwriteLeadSource=True,
        opportunityName="Acme - Expansion", convertedStatus="Closed - Converted",
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["accountId"] == account_id
    assert response.json()["contactId"] == contact_id
    account = _one(api, f"SELECT Name, Phone, Website FROM Account WHERE Id = '{account_id}'")
    assert (account["Name"], account["Phone"], account["Website"]) == (
        "Acme Inc.", "+1 555 9999", "https://acme.com"
    )  # fmt: skip
    contact = _one(
        api, f"SELECT Title, Email, LeadSource, DoNotCall FROM Contact WHERE Id = '{contact_id}'"
    )
    # Existing values stay, blanks are filled, LeadSource is overwritten on request, and the
    # DoNotCall checkbox of an existing contact is left alone.
    assert (contact["Title"], contact["Email"], contact["LeadSource"], contact["DoNotCall"]) == (
        "VP", "jane@acme.com", "Web", False
    )  # fmt: skip
    opportunity = _one(
        api, f"SELECT Name FROM Opportunity WHERE Id = '{response.json()['opportunityId']}'"
    )
    assert opportunity["Name"] == "Acme - Expansion"
    assert len(api.query_all_records("SELECT Id FROM Account")) == 1


def test_a_new_owner_owns_the_new_records(api: Api, org: Org, creds: Credentials) -> None:
    rep = create_user(org, username="rep@localforce.test", last_name="Rep")
    lead_id = api.create("Lead", LastName="Doe", Company="Acme")
    ids = Admin(api, org).convert(lead_id, ownerId=rep).json()
    for sobject, key in (("Account", "accountId"), ("Contact", "contactId"),
                         ("Opportunity", "opportunityId")):  # fmt: skip
        assert _one(api, f"SELECT OwnerId FROM {sobject} WHERE Id = '{ids[key]}'")["OwnerId"] == rep


def test_campaign_members_and_activities_follow_the_contact(
    api: Api, org: Org, creds: Credentials
) -> None:
    campaign = api.create("Campaign", Name="Webinar")
    lead_id = api.create("Lead", LastName="Doe", Company="Acme")
    member = api.create("CampaignMember", CampaignId=campaign, LeadId=lead_id, Status="Responded")
    task = api.create("Task", WhoId=lead_id, Subject="Chat", Status="Completed")
    ids = Admin(api, org).convert(lead_id).json()
    row = _one(api, f"SELECT LeadId, ContactId FROM CampaignMember WHERE Id = '{member}'")
    assert (row["LeadId"], row["ContactId"]) == (lead_id, ids["contactId"])
    opportunity = _one(
        api, f"SELECT CampaignId FROM Opportunity WHERE Id = '{ids['opportunityId']}'"
    )
    assert opportunity["CampaignId"] == campaign
    moved = _one(api, f"SELECT WhoId, AccountId FROM Task WHERE Id = '{task}'")
    assert (moved["WhoId"], moved["AccountId"]) == (ids["contactId"], ids["accountId"])


def test_bad_conversions_are_refused_before_anything_is_written(
    api: Api, org: Org, creds: Credentials
) -> None:
    admin = Admin(api, org)
    lead_id = api.create("Lead", LastName="Doe", Company="Acme")
    account_id = api.create("Account", Name="Other")
    stranger = api.create("Contact", LastName="Roe")
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("00Q000000000000EAA", {}, 404, "leadId: no Lead"),
        ("not-an-id", {}, 400, "is not a Lead ID"),
        (lead_id, {"convertedStatus": "Working - Contacted"}, 400, "not a converted lead status"),
        (lead_id, {"contactId": stranger}, 400, "contactId needs the accountId"),
        (lead_id, {"accountId": account_id, "contactId": stranger}, 400, "does not belong"),
        (lead_id, {"accountId": "001000000000000AAA"}, 400, "accountId: no Account"),
        (lead_id, {"ownerId": "005000000000000AAA"}, 400, "ownerId: no User"),
        (lead_id, {"createOpportunity": "yes"}, 400, "must be true or false"),
        (lead_id, {"doNotCreateOpportunity": True}, 400, "unknown field"),
    ]
    for target, options, status, fragment in cases:
        response = admin.convert(target, **options)
        assert response.status_code == status, (options, response.text)
        assert fragment in response.json()["error"], (options, response.text)
    assert _one(api, f"SELECT IsConverted FROM Lead WHERE Id = '{lead_id}'")["IsConverted"] is False
    assert len(api.query_all_records("SELECT Id FROM Account")) == 1


def test_a_duplicate_rule_can_stop_a_conversion(api: Api, org: Org, creds: Credentials) -> None:
    admin = Admin(api, org)
    admin.rule("duplicate", object="Contact", name="Contact_Email", action="alert",
               matchFields=["Email"])  # fmt: skip
    existing = api.create("Contact", LastName="Doe", Email="jane@acme.com")
    lead_id = api.create("Lead", LastName="Doe", Company="Acme", Email="jane@acme.com")
    refused = admin.convert(lead_id)
    assert refused.status_code == 400
    body = refused.json()
    assert (body["errorCode"], body["error"], body["fields"]) == (
        "DUPLICATES_DETECTED", "Use one of these records?", []
    )  # fmt: skip
    [match] = body["duplicateResult"]["matchResults"]
    assert match["matchRecords"][0]["record"]["Id"] == existing
    # The whole conversion rolled back: no account, the lead untouched.
    assert api.query_all_records("SELECT Id FROM Account") == []
    lead = _one(api, f"SELECT IsConverted, Status FROM Lead WHERE Id = '{lead_id}'")
    assert (lead["IsConverted"], lead["Status"]) == (False, "Open - Not Contacted")
    # An alert rule lets the conversion through with allowSave.
    assert admin.convert(lead_id, allowSave=True).status_code == 200


def test_duplicate_rules_searching_leads_skip_the_lead_being_converted(
    api: Api, org: Org, creds: Credentials
) -> None:
    Admin(api, org).rule(
        "duplicate", object="Contact", name="Email_Everywhere", matchFields=["Email"],
        matchObjects=["Contact", "Lead"],
    )  # fmt: skip
    lead_id = api.create("Lead", LastName="Doe", Company="Acme", Email="jane@acme.com")
    assert Admin(api, org).convert(lead_id).status_code == 200
