"""SOQL over REST: `/query`, `/queryAll`, paging, relationships, errors (reference §4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from localforce import oauth
from localforce.bootstrap import Credentials
from localforce.org import Org

from .conftest import Api


def _leads(api: Api, count: int, **extra: Any) -> list[str]:
    ids: list[str] = []
    for start in range(0, count, 200):
        records = [
            {
                "attributes": {"type": "Lead"},
                "LastName": f"L{i:05d}",
                "Company": f"Company {i % 7}",
                "Email": f"l{i}@example.com" if i % 3 else None,
                "NumberOfEmployees": i,
                **extra,
            }
            for i in range(start, min(start + 200, count))
        ]
        response = api.post("/composite/sobjects", json={"records": records})
        assert response.status_code == 200
        ids += [r["id"] for r in response.json()]
    return ids


def _total(api: Api, soql: str) -> int:
    response = api.query(soql)
    assert response.status_code == 200, response.text
    return int(response.json()["totalSize"])


def test_basic_shape_and_attributes(api: Api) -> None:
    lead = api.create("Lead", LastName="Doe", Company="Acme", Email="jd@acme.com")
    body = api.query("SELECT Id, Email, NumberOfEmployees FROM Lead").json()
    assert body["totalSize"] == 1 and body["done"] is True and "nextRecordsUrl" not in body
    (record,) = body["records"]
    assert record == {
        "attributes": {"type": "Lead", "url": f"/services/data/v62.0/sobjects/Lead/{lead}"},
        "Id": lead,
        "Email": "jd@acme.com",
        "NumberOfEmployees": None,
    }


def test_field_names_and_keywords_are_case_insensitive_output_canonical(api: Api) -> None:
    api.create("Lead", LastName="Doe", Company="Acme")
    body = api.query("select lastname, COMPANY from LEAD where company = 'ACME'").json()
    assert list(body["records"][0])[1:] == ["LastName", "Company"]


def test_where_operators(api: Api) -> None:
    _leads(api, 60)
    assert _total(api, "SELECT Id FROM Lead WHERE NumberOfEmployees >= 50") == 10
    assert _total(api, "SELECT Id FROM Lead WHERE NumberOfEmployees < 10 AND Email != null") == 6
    assert _total(api, "SELECT Id FROM Lead WHERE Email = null") == 20
    assert _total(api, "SELECT Id FROM Lead WHERE Company IN ('Company 1', 'company 2')") == 18
    # SOQL's != and NOT IN match nulls too.
    assert _total(api, "SELECT Id FROM Lead WHERE Email != 'l1@example.com'") == 59
    assert _total(api, "SELECT Id FROM Lead WHERE Email NOT IN ('l1@example.com')") == 59
    assert _total(api, "SELECT Id FROM Lead WHERE NOT (NumberOfEmployees > 5)") == 6
    soql = (
        "SELECT Id FROM Lead WHERE (NumberOfEmployees = 1 OR NumberOfEmployees = 2) "
        "AND Email != null"
    )
    assert _total(api, soql) == 2


def test_like_is_case_insensitive_and_honours_escapes(api: Api) -> None:
    api.create("Lead", LastName="100% Sure", Company="A_B")
    api.create("Lead", LastName="100 Sure", Company="AxB")
    assert _total(api, "SELECT Id FROM Lead WHERE LastName LIKE '100%'") == 2
    assert _total(api, "SELECT Id FROM Lead WHERE LastName LIKE '100\\%%'") == 1
    assert _total(api, "SELECT Id FROM Lead WHERE Company LIKE 'a_b'") == 2
    assert _total(api, "SELECT Id FROM Lead WHERE Company LIKE 'a\\_b'") == 1


def test_string_escapes(api: Api) -> None:
    api.create("Account", Name="Bob's BBQ \\ Grill")
    assert _total(api, "SELECT Id FROM Account WHERE Name = 'Bob\\'s BBQ \\\\ Grill'") == 1


def test_date_literals_and_datetimes(api: Api, org: Org, creds: Credentials) -> None:
    api.create("Lead", LastName="Old", Company="A")
    org.clock.advance(timedelta(days=10))
    api.token = oauth.issue_session(org, creds.user_id, creds.app.client_id)
    api.create("Lead", LastName="New", Company="A")
    assert _total(api, "SELECT Id FROM Lead WHERE CreatedDate = TODAY") == 1
    assert _total(api, "SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS:3") == 1
    assert _total(api, "SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS:30") == 2
    assert _total(api, "SELECT Id FROM Lead WHERE CreatedDate < LAST_N_DAYS:3") == 1
    assert _total(api, "SELECT Id FROM Lead WHERE CreatedDate > 2000-01-01T00:00:00Z") == 2
    assert _total(api, "SELECT Id FROM Lead WHERE CreatedDate > 2000-01-01T00:00:00+02:00") == 2
    assert _total(api, "SELECT Id FROM Lead WHERE CreatedDate > 2999-01-01T00:00:00.000Z") == 0


def test_date_field_comparison(api: Api) -> None:
    account = api.create("Account", Name="A")
    for day in ("2024-01-31", "2024-02-01"):
        api.create("Opportunity", Name=day, StageName="Prospecting", CloseDate=day,
                   AccountId=account)  # fmt: skip
    assert _total(api, "SELECT Id FROM Opportunity WHERE CloseDate > 2024-01-31") == 1
    assert _total(api, "SELECT Id FROM Opportunity WHERE CALENDAR_MONTH(CloseDate) = 1") == 1


def test_order_by_nulls_limit_offset(api: Api) -> None:
    for name, email in (("b", "z@x.com"), ("a", None), ("c", "a@x.com")):
        api.create("Lead", LastName=name, Company="A", Email=email)
    names = lambda soql: [r["LastName"] for r in api.query(soql).json()["records"]]  # noqa: E731
    assert names("SELECT LastName FROM Lead ORDER BY Email") == ["a", "c", "b"]
    assert names("SELECT LastName FROM Lead ORDER BY Email NULLS LAST") == ["c", "b", "a"]
    assert names("SELECT LastName FROM Lead ORDER BY Email DESC NULLS LAST") == ["b", "c", "a"]
    assert names("SELECT LastName FROM Lead ORDER BY LastName LIMIT 2") == ["a", "b"]
    assert names("SELECT LastName FROM Lead ORDER BY LastName LIMIT 1 OFFSET 1") == ["b"]
    body = api.query("SELECT LastName FROM Lead ORDER BY LastName LIMIT 2").json()
    assert body["totalSize"] == 2


def test_count(api: Api) -> None:
    _leads(api, 30)
    body = api.query("SELECT COUNT() FROM Lead WHERE NumberOfEmployees > 9").json()
    assert body == {"totalSize": 20, "done": True, "records": []}


def test_aggregate_group_by(api: Api) -> None:
    _leads(api, 14)
    body = api.query(
        "SELECT Company, COUNT(Id) n, MAX(NumberOfEmployees) FROM Lead "
        "GROUP BY Company ORDER BY Company LIMIT 2"
    ).json()
    assert body["records"] == [
        {"attributes": {"type": "AggregateResult"}, "Company": "Company 0", "n": 2, "expr0": 7},
        {"attributes": {"type": "AggregateResult"}, "Company": "Company 1", "n": 2, "expr0": 8},
    ]


def test_parent_relationships_nest_and_null(api: Api, creds: Any) -> None:
    account = api.create("Account", Name="Acme", Website="acme.com")
    api.create("Contact", LastName="With", AccountId=account)
    api.create("Contact", LastName="Without")
    body = api.query(
        "SELECT LastName, Account.Name, Account.Owner.Username FROM Contact ORDER BY LastName"
    ).json()
    with_account, without = body["records"]
    assert with_account["Account"] == {
        "attributes": {
            "type": "Account",
            "url": f"/services/data/v62.0/sobjects/Account/{account}",
        },
        "Name": "Acme",
        "Owner": {
            "attributes": {
                "type": "User",
                "url": f"/services/data/v62.0/sobjects/User/{creds.user_id}",
            },
            "Username": creds.username,
        },
    }
    assert without["Account"] is None
    filtered = api.query("SELECT Id FROM Contact WHERE Account.Website = 'ACME.com'").json()
    assert filtered["totalSize"] == 1


def test_child_subquery(api: Api) -> None:
    account = api.create("Account", Name="Acme")
    api.create("Account", Name="Empty")
    for name in ("b", "a", "c"):
        api.create("Contact", LastName=name, AccountId=account)
    body = api.query(
        "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName LIMIT 2) FROM Account "
        "ORDER BY Name"
    ).json()
    acme, empty = body["records"]
    assert acme["Contacts"]["totalSize"] == 2 and acme["Contacts"]["done"] is True
    assert [c["LastName"] for c in acme["Contacts"]["records"]] == ["a", "b"]
    assert empty["Contacts"] is None


def test_polymorphic_who(api: Api) -> None:
    lead = api.create("Lead", LastName="Lead Person", Company="A")
    api.create("Task", Subject="Chat", WhoId=lead, Status="Completed")
    (task,) = api.query("SELECT Subject, Who.Name, IsClosed FROM Task").json()["records"]
    assert task["Who"]["attributes"]["type"] == "Lead"
    assert task["Who"]["Name"] == "Lead Person" and task["IsClosed"] is True


def test_semi_join(api: Api) -> None:
    account = api.create("Account", Name="Has contact")
    api.create("Account", Name="No contact")
    api.create("Contact", LastName="x", AccountId=account)
    body = api.query("SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact)")
    assert [r["Name"] for r in body.json()["records"]] == ["Has contact"]
    anti = api.query("SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)")
    assert [r["Name"] for r in anti.json()["records"]] == ["No contact"]


def test_id_literals_accept_15_and_18_characters(api: Api) -> None:
    lead = api.create("Lead", LastName="x", Company="A")
    assert _total(api, f"SELECT Id FROM Lead WHERE Id = '{lead[:15]}'") == 1
    assert _total(api, f"SELECT Id FROM Lead WHERE Id = '{lead.lower()}'") == 1


def test_query_all_sees_the_recycle_bin(api: Api) -> None:
    lead = api.create("Lead", LastName="x", Company="A")
    assert api.delete(f"/sobjects/Lead/{lead}").status_code == 204
    assert _total(api, "SELECT Id FROM Lead") == 0
    body = api.get("/queryAll", params={"q": "SELECT Id, IsDeleted FROM Lead"}).json()
    assert body["records"][0]["IsDeleted"] is True


def test_fields_function(api: Api) -> None:
    api.create("Lead", LastName="x", Company="A")
    (record,) = api.query("SELECT FIELDS(ALL) FROM Lead LIMIT 1").json()["records"]
    assert {"Id", "LastName", "Company", "SystemModstamp"} <= set(record)
    unbounded = api.query("SELECT FIELDS(ALL) FROM Lead")
    assert unbounded.status_code == 400


def test_paging_in_pages_of_2000(api: Api) -> None:
    _leads(api, 4100)
    body = api.query("SELECT Id FROM Lead").json()
    assert body["totalSize"] == 4100 and body["done"] is False and len(body["records"]) == 2000
    assert body["nextRecordsUrl"].startswith("/services/data/v62.0/query/0r8")
    ids = [r["Id"] for r in api.query_all_records("SELECT Id FROM Lead")]
    assert len(ids) == len(set(ids)) == 4100


def test_batch_size_header(api: Api) -> None:
    _leads(api, 450)
    body = api.query("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=200"})
    assert len(body.json()["records"]) == 200 and body.json()["done"] is False


def test_paging_is_stable_while_writes_happen(api: Api) -> None:
    ids = _leads(api, 4500)
    for soql in ("SELECT Id FROM Lead", "SELECT Id FROM Lead ORDER BY LastName DESC"):
        before = set(ids)
        first = api.query(soql).json()
        # Writes between pages: new records, and an update that changes the sort key.
        ids += _leads(api, 300)
        api.patch(f"/sobjects/Lead/{ids[-1]}", json={"LastName": "AAAA"})
        seen = [r["Id"] for r in first["records"]]
        body = first
        while not body["done"]:
            body = api.get(body["nextRecordsUrl"]).json()
            seen += [r["Id"] for r in body["records"]]
        # The result set is the one the query saw when it started: no record twice or lost.
        assert len(seen) == len(set(seen)) == len(before)
        assert set(seen) == before


def test_next_records_url_can_be_retried(api: Api) -> None:
    _leads(api, 2500)
    first = api.query("SELECT Id FROM Lead").json()
    again = [api.get(first["nextRecordsUrl"]).json() for _ in range(2)]
    assert again[0] == again[1] and len(again[0]["records"]) == 500


def test_invalid_locator(api: Api) -> None:
    response = api.get("/query/0r8000000000000AAA-2000")
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FRM Lead", "MALFORMED_QUERY"),
        ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY"),
        ("SELECT Nope FROM Lead", "INVALID_FIELD"),
        ("SELECT Nope.Name FROM Contact", "INVALID_FIELD"),
        ("SELECT Id FROM Nope", "INVALID_TYPE"),
        ("SELECT Id, (SELECT Id FROM Nopes) FROM Account", "INVALID_TYPE"),
        ("SELECT Id FROM Lead WHERE Email = 5", "INVALID_FIELD"),
        ("SELECT Id FROM Lead WHERE Id = 'abc'", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Lead WHERE a = 1 AND b = 2 OR c = 3", "MALFORMED_QUERY"),
        ("SELECT Id FROM Lead LIMIT 1 OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE"),
        ("SELECT Id FROM Lead WHERE CreatedDate > 2024-01-01", "INVALID_FIELD"),
    ],
)
def test_errors_are_salesforce_shaped(api: Api, soql: str, code: str) -> None:
    response = api.query(soql)
    assert response.status_code == 400
    (error,) = response.json()
    assert error["errorCode"] == code
    assert "Traceback" not in error["message"]


def test_invalid_field_message_has_caret_diagram(api: Api) -> None:
    (error,) = api.query("SELECT Nope FROM Lead").json()
    assert error["message"].startswith(
        "\nSELECT Nope FROM Lead\n       ^\nERROR at Row:1:Column:8\n"
    )
    assert "No such column 'Nope' on entity 'Lead'" in error["message"]


def test_missing_q_parameter(api: Api) -> None:
    response = api.get("/query")
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_custom_fields_are_queryable(api: Api, org: Org) -> None:
    from localforce.schema import FieldDef, FieldType

    org.add_custom_field(
        "Lead",
        FieldDef(name="Visitor_Id__c", label="Visitor Id", type=FieldType.STRING, length=64,
                 custom=True, external_id=True, unique=True),
    )  # fmt: skip
    api.create("Lead", LastName="x", Company="A", visitor_id__c="v-1")
    body = api.query("SELECT Visitor_Id__c FROM Lead WHERE Visitor_Id__c = 'V-1'").json()
    assert body["records"][0]["Visitor_Id__c"] == "v-1"


def test_website_substring_search_uses_the_trigram_index(api: Api, org: Org) -> None:
    acme = api.create("Account", Name="Acme", Website="http://www.ACME.com/about")
    api.create("Account", Name="Acme UK", Website="https://acme.co.uk")
    other = api.create("Account", Name="Other", Website="other.io")
    soql = "SELECT Name FROM Account WHERE Website LIKE '%acme.com%'"
    assert [r["Name"] for r in api.query(soql).json()["records"]] == ["Acme"]
    # The index follows updates and deletes.
    api.patch(f"/sobjects/Account/{other}", json={"Website": "www.acme.com"})
    api.patch(f"/sobjects/Account/{acme}", json={"Website": "acme.org"})
    assert [r["Name"] for r in api.query(soql).json()["records"]] == ["Other"]
    org.conn.execute('DELETE FROM "Account" WHERE "Id" = ?', (other,))
    assert api.query(soql).json()["totalSize"] == 0
    # Patterns the index cannot narrow still answer correctly, by the LIKE alone.
    assert api.query("SELECT Id FROM Account WHERE Website LIKE '%.uk'").json()["totalSize"] == 1


def test_trigram_prefilter_is_in_the_query_plan(org: Org) -> None:
    from localforce.org import SUBSTRING_INDEXED, substring_index_name
    from localforce.soql import parse
    from localforce.soql.compiler import compile_query

    text = "SELECT Id FROM Account WHERE Website LIKE '%acme.com%'"
    compiled = compile_query(
        parse(text), org.schema, text=text, today=org.clock.now().date(),
        include_deleted=False, substring_indexed=SUBSTRING_INDEXED,
        index_name=substring_index_name,
    )  # fmt: skip
    plan = " ".join(
        str(row[-1])
        for row in org.conn.execute("EXPLAIN QUERY PLAN " + compiled.sql(), compiled.params)
    )
    assert "_lf_trigram_Account_Website" in plan and "USING INTEGER PRIMARY KEY" in plan
