"""SOQL building: literals, identifiers, IN-list chunks, and the escaping property that any text
round-trips through a query, checked with localforce's own parser and over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import quote as url_quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hearth.errors import InvalidInputError
from hearth.salesforce import SalesforceClient, identifier, in_list_chunks, quote
from hearth.salesforce.soql import Literal, escape_literal
from localforce.soql import Comparison, InValues, StringValue, parse

# Lone surrogates cannot be sent as UTF-8, so no client can put them in a query.
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300)


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-1.5, "-1.5"),
        (Decimal("10.50"), "10.50"),
        (Decimal("1E+3"), "1000"),
        ("Bob's \\ BBQ", "'Bob\\'s \\\\ BBQ'"),
        ('a"b\n\t\r\b\f', "'a\\\"b\\n\\t\\r\\b\\f'"),
        ("50%_off", "'50%_off'"),
        (date(2024, 1, 31), "2024-01-31"),
        (datetime(2024, 1, 31, 10, 0, 0, 999_999, tzinfo=UTC), "2024-01-31T10:00:00Z"),
        (
            datetime(2024, 1, 31, 12, 0, tzinfo=timezone(timedelta(hours=2))),
            "2024-01-31T10:00:00Z",
        ),
    ],
)
def test_quote(value: Literal, literal: str) -> None:
    assert quote(value) == literal


@pytest.mark.parametrize(
    "value", [datetime(2024, 1, 1), float("nan"), float("inf"), Decimal("NaN")]
)
def test_quote_refuses_ambiguous_values(value: Literal) -> None:
    with pytest.raises(InvalidInputError):
        quote(value)


def test_quote_refuses_other_types() -> None:
    with pytest.raises(TypeError):
        quote([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name", ["Lead", "Email", "Hearth_Score__c", "Account.Owner.Name", "ns__Thing__r.Name"]
)
def test_valid_identifiers_pass(name: str) -> None:
    assert identifier(name) == name


@pytest.mark.parametrize(
    "name", ["", "1Lead", "Name'", "Name OR Id", "Account..Name", "_x", "Name_", "Na-me", "Émail"]
)
def test_invalid_identifiers_are_refused(name: str) -> None:
    with pytest.raises(InvalidInputError):
        identifier(name)


@given(TEXT)
def test_any_text_round_trips_through_the_soql_parser(text: str) -> None:
    query = parse(f"SELECT Id FROM Lead WHERE LastName = {quote(text)}")
    assert isinstance(query.where, Comparison)
    assert isinstance(query.where.value, StringValue)
    assert query.where.value.value == text


@given(TEXT)
def test_escaping_only_ever_lengthens(text: str) -> None:
    assert escape_literal(text).replace("\\\\", "").count("\\") <= len(text)
    assert len(escape_literal(text)) >= len(text)


@given(st.lists(TEXT, max_size=60), st.integers(min_value=400, max_value=3_000))
def test_in_list_chunks_cover_every_value_within_the_bound(values: list[str], bound: int) -> None:
    values = [v[:20] for v in values]
    chunks = list(in_list_chunks("Email", values, query="SELECT Id FROM Lead WHERE {}",
                                 max_url_bytes=bound))  # fmt: skip
    prefix = "/services/data/v66.0/query?q="
    assert all(len(prefix) + len(url_quote(c, safe="")) <= bound for c in chunks)
    literals: list[str] = []
    for chunk in chunks:
        where = parse(chunk).where
        assert isinstance(where, InValues)
        literals += [v.value for v in where.values if isinstance(v, StringValue)]
    assert literals == values


def test_in_list_chunks_refuse_bad_templates_and_giant_values() -> None:
    with pytest.raises(InvalidInputError):
        list(in_list_chunks("Email", ["a"], query="SELECT Id FROM Lead"))
    with pytest.raises(InvalidInputError):
        list(in_list_chunks("Email", ["a"], query="SELECT Id FROM Lead WHERE {} OR {}"))
    with pytest.raises(InvalidInputError):
        list(in_list_chunks("Email", ["x" * 500], query="SELECT Id FROM Lead WHERE {}",
                            max_url_bytes=300))  # fmt: skip
    with pytest.raises(InvalidInputError):
        list(in_list_chunks("Email OR", ["a"], query="SELECT Id FROM Lead WHERE {}"))


@pytest.mark.anyio
async def test_any_name_is_found_by_a_quoted_query_over_http(sf: SalesforceClient) -> None:
    names = st.text(
        alphabet=st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"]), min_size=1,
        max_size=80,
    ).filter(lambda s: s.strip() == s)  # fmt: skip

    # Hypothesis drives the examples; each is written and read back over HTTP.
    examples: list[str] = []

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(names)
    def collect(name: str) -> None:
        examples.append(name)

    collect()
    examples += ['O\'Brien \\ "Q"', "100%_sure", "tab\\t not a tab"]
    for name in examples:
        lead_id = await sf.create("Lead", {"LastName": name, "Company": "Fuzz"})
        found = [
            r["Id"]
            async for r in sf.query(
                f"SELECT Id FROM Lead WHERE LastName = {quote(name)} AND Company = 'Fuzz'"
            )
        ]
        assert lead_id in found, name
        await sf.delete("Lead", lead_id)
