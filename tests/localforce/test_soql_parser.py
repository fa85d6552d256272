"""Literal cases for the SOQL parser: each construct, the rules Salesforce enforces, and errors."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

import localforce.soql as soql
from localforce.soql import (
    Aggregate,
    AggregateFunction,
    And,
    BooleanValue,
    Comparison,
    ComparisonOperator,
    Condition,
    CountAll,
    DateFunction,
    DateFunctionCall,
    DateLiteral,
    DateLiteralKind,
    DateTimeValue,
    DateValue,
    ErrorKind,
    FieldPath,
    FieldsCategory,
    FieldsFunction,
    ForOption,
    Includes,
    InSubquery,
    InValues,
    Like,
    Not,
    NullValue,
    NumberValue,
    Or,
    Position,
    Query,
    SelectExpr,
    SoqlSyntaxError,
    StringValue,
    SubQuery,
    parse,
)
from localforce.soql import ast as soql_ast

P = Position(offset=0, row=1, column=1)  # positions are not compared, any will do


def where(condition: str) -> Condition:
    query = parse(f"SELECT Id FROM Lead WHERE {condition}")
    assert query.where is not None
    return query.where


def value(literal: str) -> soql.Value:
    condition = where(f"X = {literal}")
    assert isinstance(condition, Comparison)
    return condition.value


def string(literal: str) -> str:
    result = value(literal)
    assert isinstance(result, StringValue)
    return result.value


def error(text: str) -> SoqlSyntaxError:
    with pytest.raises(SoqlSyntaxError) as info:
        parse(text)
    return info.value


def field(*parts: str) -> FieldPath:
    return FieldPath(pos=P, parts=parts)


# --- public API --------------------------------------------------------------------------------


def test_exports_match_all() -> None:
    public = {
        name
        for name, obj in vars(soql).items()
        if not name.startswith("_") and not inspect.ismodule(obj)
    }
    assert public == set(soql.__all__)


def test_every_ast_class_is_exported() -> None:
    assert set(soql_ast.__all__) <= set(soql.__all__)


# --- SELECT ------------------------------------------------------------------------------------


def test_minimal_query() -> None:
    query = parse("SELECT Id FROM Account")
    assert query == Query(
        pos=P,
        select=(SelectExpr(pos=P, expr=field("Id")),),
        from_=soql.From(pos=P, name="Account"),
    )


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Name", ("Name",)),
        ("Account.Owner.Email", ("Account", "Owner", "Email")),
        ("Custom__c", ("Custom__c",)),
        ("Rel__r.Field__c", ("Rel__r", "Field__c")),
        ("ns__Obj__r.ns__F2__c", ("ns__Obj__r", "ns__F2__c")),
    ],
)
def test_field_paths(text: str, parts: tuple[str, ...]) -> None:
    item = parse(f"SELECT {text} FROM Contact").select[0]
    assert item == SelectExpr(pos=P, expr=field(*parts))


def test_select_list_keeps_order_and_case() -> None:
    query = parse("SELECT id, NAME, account.name FROM contact")
    assert [item.expr for item in query.select if isinstance(item, SelectExpr)] == [
        field("id"),
        field("NAME"),
        field("account", "name"),
    ]
    assert query.from_.name == "contact"


def test_count_all() -> None:
    query = parse("SELECT COUNT() FROM Lead WHERE IsConverted = false")
    assert query.select == (CountAll(pos=P),)
    assert not query.is_aggregate


@pytest.mark.parametrize("text", ["SELECT Id, COUNT() FROM Lead", "SELECT COUNT(), Id FROM Lead"])
def test_count_all_must_be_alone(text: str) -> None:
    err = error(text)
    assert "COUNT()" in err.message
    assert err.position.column == text.index("COUNT") + 1


@pytest.mark.parametrize("function", list(AggregateFunction))
def test_aggregates_with_and_without_alias(function: AggregateFunction) -> None:
    query = parse(
        f"SELECT {function.value}(Amount), {function.value.lower()}(Amount) total FROM Opp"
    )
    aggregate = Aggregate(pos=P, function=function, field=field("Amount"))
    assert query.select == (
        SelectExpr(pos=P, expr=aggregate),
        SelectExpr(pos=P, expr=aggregate, alias="total"),
    )
    assert query.is_aggregate


def test_group_by_with_aliases_and_having() -> None:
    query = parse(
        "SELECT Type, COUNT(Id) n FROM Case WHERE IsClosed = false "
        "GROUP BY Type HAVING COUNT(Id) > 1 AND Type != null ORDER BY COUNT(Id) DESC"
    )
    assert query.group_by == (field("Type"),)
    count = Aggregate(pos=P, function=AggregateFunction.COUNT, field=field("Id"))
    assert query.having == And(
        pos=P,
        operands=(
            Comparison(
                pos=P,
                left=count,
                operator=ComparisonOperator.GT,
                value=NumberValue(pos=P, value=Decimal(1)),
            ),
            Comparison(
                pos=P, left=field("Type"), operator=ComparisonOperator.NE, value=NullValue(pos=P)
            ),
        ),
    )
    assert query.order_by[0].expr == count
    assert query.order_by[0].descending


def test_plain_field_alias_is_allowed_in_a_grouped_query() -> None:
    query = parse("SELECT Name n, MAX(Amount) m FROM Opportunity GROUP BY Name")
    assert [item.alias for item in query.select if isinstance(item, SelectExpr)] == ["n", "m"]


def test_alias_outside_an_aggregate_query_is_rejected() -> None:
    err = error("SELECT Name n FROM Account")
    assert err.message == "Only aggregate expressions use field aliasing"
    assert err.position.column == 13


def test_date_functions_in_select_and_group_by() -> None:
    query = parse(
        "SELECT CALENDAR_YEAR(CreatedDate) yr, COUNT(Id) FROM Opportunity "
        "GROUP BY CALENDAR_YEAR(CreatedDate)"
    )
    call = DateFunctionCall(pos=P, function=DateFunction.CALENDAR_YEAR, field=field("CreatedDate"))
    assert query.select[0] == SelectExpr(pos=P, expr=call, alias="yr")
    assert query.group_by == (call,)


@pytest.mark.parametrize("category", list(FieldsCategory))
def test_fields_function(category: FieldsCategory) -> None:
    query = parse(f"SELECT FIELDS({category.value.lower()}) FROM Account LIMIT 200")
    assert query.select == (FieldsFunction(pos=P, category=category),)


def test_fields_standard_needs_no_limit() -> None:
    assert parse("SELECT Id, FIELDS(STANDARD) FROM Account").limit is None


@pytest.mark.parametrize("suffix", ["", " LIMIT 201"])
@pytest.mark.parametrize("category", ["ALL", "CUSTOM"])
def test_fields_all_and_custom_need_limit_200(category: str, suffix: str) -> None:
    err = error(f"SELECT FIELDS({category}) FROM Account{suffix}")
    assert "LIMIT of at most 200" in err.message
    assert err.position.column == 8


def test_fields_with_an_unknown_category() -> None:
    err = error("SELECT FIELDS(SOME) FROM Account")
    assert err.message == "unexpected token: SOME (expected ALL, STANDARD or CUSTOM)"


def test_child_subquery() -> None:
    query = parse(
        "SELECT Id, (SELECT Id, Email FROM Contacts WHERE Email != null "
        "ORDER BY Email LIMIT 5 OFFSET 1) FROM Account"
    )
    sub = query.select[1]
    assert isinstance(sub, SubQuery)
    assert sub.pos.column == 12
    child = sub.query
    assert child.from_.name == "Contacts"
    assert len(child.select) == 2
    assert child.where is not None
    assert child.order_by[0].expr == field("Email")
    assert (child.limit, child.offset) == (5, 1)


def test_nested_child_subqueries() -> None:
    query = parse("SELECT Id, (SELECT Id, (SELECT Id FROM Cases) FROM Contacts) FROM Account")
    outer = query.select[1]
    assert isinstance(outer, SubQuery)
    assert isinstance(outer.query.select[1], SubQuery)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT (SELECT COUNT() FROM Contacts) FROM Account", "COUNT() is not allowed"),
        ("SELECT (SELECT MAX(Age__c) FROM Contacts) FROM Account", "MAX() is not allowed"),
        ("SELECT (SELECT Id FROM Contacts GROUP BY Id) FROM Account", "unexpected token: GROUP"),
        ("SELECT (SELECT Id FROM Contacts c) FROM Account", "unexpected token: c"),
        ("SELECT (Id) FROM Account", "unexpected token: Id (expected a subquery)"),
    ],
)
def test_child_subquery_restrictions(text: str, message: str) -> None:
    assert message in error(text).message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT toLabel(Status) FROM Lead", "toLabel() is not supported by localforce"),
        ("SELECT FORMAT(Amount) FROM Opp", "FORMAT() is not supported by localforce"),
        ("SELECT convertCurrency(Amount) FROM Opp", "not supported by localforce"),
        ("SELECT Shout(Name) FROM Lead", "unknown function: Shout()"),
        ("SELECT TYPEOF What WHEN Account THEN Name END FROM Event", "TYPEOF is not supported"),
        ("SELECT Id FROM Lead GROUP BY ROLLUP(Status)", "ROLLUP() is not supported"),
    ],
)
def test_unsupported_select_features_are_rejected_clearly(text: str, message: str) -> None:
    err = error(text)
    assert message in err.message
    assert err.kind is ErrorKind.MALFORMED_QUERY


# --- FROM and trailing clauses --------------------------------------------------------------


def test_from_alias() -> None:
    query = parse("SELECT a.Name FROM Account a WHERE a.Name != null")
    assert query.from_ == soql.From(pos=P, name="Account", alias="a")
    assert query.select[0] == SelectExpr(pos=P, expr=field("a", "Name"))


def test_group_is_a_valid_object_name() -> None:
    assert parse("SELECT Id FROM Group").from_.name == "Group"


def test_every_clause_in_order() -> None:
    query = parse(
        "SELECT Id FROM Account USING SCOPE Mine WHERE Name != null WITH SECURITY_ENFORCED "
        "ORDER BY Name LIMIT 10 OFFSET 20 FOR VIEW, REFERENCE"
    )
    assert query.using_scope == "mine"
    assert query.with_security_enforced
    assert (query.limit, query.offset) == (10, 20)
    assert query.for_options == (ForOption.VIEW, ForOption.REFERENCE)
    assert not query.all_rows


def test_for_update_and_all_rows() -> None:
    assert parse("SELECT Id FROM Lead FOR UPDATE").for_options == (ForOption.UPDATE,)
    assert parse("SELECT Id FROM Lead ALL ROWS").all_rows


def test_clauses_out_of_order_are_rejected() -> None:
    err = error("SELECT Id FROM Lead LIMIT 5 WHERE Name = 'x'")
    assert err.message == "unexpected token: WHERE"
    assert err.position.column == 29


def test_having_needs_group_by() -> None:
    assert error("SELECT COUNT(Id) FROM Lead HAVING COUNT(Id) > 1").message == (
        "unexpected token: HAVING"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT Id FROM Lead USING SCOPE galaxy", "expected a scope such as mine or everything"),
        ("SELECT Id FROM Lead WITH USER_MODE", "WITH USER_MODE is not supported by localforce"),
        ("SELECT Id FROM Lead WITH DATA CATEGORY Geo__c AT usa__c", "WITH DATA is not supported"),
        ("SELECT Id FROM Lead FOR LUNCH", "expected VIEW, REFERENCE or UPDATE"),
        ("SELECT Id FROM Lead ALL", "unexpected token: <EOF> (expected ROWS)"),
    ],
)
def test_bad_trailing_clauses(text: str, message: str) -> None:
    assert message in error(text).message


def test_order_by_directions_and_nulls() -> None:
    query = parse(
        "SELECT Id FROM Lead ORDER BY Name, Email ASC, Company DESC, City NULLS LAST, "
        "State DESC NULLS FIRST, Account.Name ASC NULLS LAST"
    )
    assert [(o.expr, o.descending, o.nulls_last) for o in query.order_by] == [
        (field("Name"), False, False),
        (field("Email"), False, False),
        (field("Company"), True, False),
        (field("City"), False, True),
        (field("State"), True, False),
        (field("Account", "Name"), False, True),
    ]


def test_order_by_date_function() -> None:
    query = parse("SELECT Id FROM Lead ORDER BY DAY_ONLY(CreatedDate) DESC")
    assert query.order_by[0].expr == DateFunctionCall(
        pos=P, function=DateFunction.DAY_ONLY, field=field("CreatedDate")
    )


def test_nulls_needs_first_or_last() -> None:
    assert error("SELECT Id FROM Lead ORDER BY Name NULLS").message == (
        "unexpected token: <EOF> (expected FIRST)"
    )


@pytest.mark.parametrize("clause", ["LIMIT", "OFFSET"])
@pytest.mark.parametrize("bad", ["-1", "1.5", "'3'", "x", ""])
def test_limit_and_offset_need_non_negative_integers(clause: str, bad: str) -> None:
    err = error(f"SELECT Id FROM Lead {clause} {bad}")
    assert err.message == f"{clause} must be a non-negative integer"
    assert err.kind is ErrorKind.MALFORMED_QUERY


def test_limit_zero_and_leading_zeros() -> None:
    assert parse("SELECT Id FROM Lead LIMIT 0").limit == 0
    assert parse("SELECT Id FROM Lead LIMIT 0007").limit == 7


def test_offset_up_to_2000_is_accepted() -> None:
    assert parse("SELECT Id FROM Lead OFFSET 2000").offset == 2000


def test_offset_above_2000_is_number_outside_valid_range() -> None:
    err = error("SELECT Id FROM Lead OFFSET 2001")
    assert err.kind is ErrorKind.NUMBER_OUTSIDE_VALID_RANGE
    assert err.message == "Maximum SOQL offset allowed is 2000"
    assert err.position.column == 28


@pytest.mark.parametrize("number", ["2147483648", "9" * 5000, "0" * 20 + "2147483648"])
def test_huge_limit_is_out_of_range(number: str) -> None:
    assert error(f"SELECT Id FROM Lead LIMIT {number}").kind is (
        ErrorKind.NUMBER_OUTSIDE_VALID_RANGE
    )


def test_largest_limit() -> None:
    assert parse("SELECT Id FROM Lead LIMIT 2147483647").limit == 2**31 - 1


# --- conditions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("=", ComparisonOperator.EQ),
        ("!=", ComparisonOperator.NE),
        ("<>", ComparisonOperator.NE),
        ("<", ComparisonOperator.LT),
        ("<=", ComparisonOperator.LE),
        (">", ComparisonOperator.GT),
        (">=", ComparisonOperator.GE),
    ],
)
def test_comparison_operators(op: str, expected: ComparisonOperator) -> None:
    assert where(f"Amount{op}5") == Comparison(
        pos=P, left=field("Amount"), operator=expected, value=NumberValue(pos=P, value=Decimal(5))
    )


def test_like() -> None:
    assert where("Name LIKE 'Acme%'") == Like(pos=P, left=field("Name"), pattern="Acme%")


@pytest.mark.parametrize(
    ("literal", "pattern"),
    [
        (r"'Ter%'", "Ter%"),
        (r"'Ter\%'", r"Ter\%"),
        (r"'Ter\%%'", r"Ter\%%"),
        (r"'a\_b_c'", r"a\_b_c"),
        (r"'back\\slash'", r"back\\slash"),
        (r"'it\'s'", "it's"),
        (r"'tab\there'", "tab\there"),
        (r"'\u0041%'", "A%"),
        (r"'\u005C%'", r"\\%"),
    ],
)
def test_like_pattern_keeps_literal_wildcards_apart(literal: str, pattern: str) -> None:
    condition = where(f"Name LIKE {literal}")
    assert isinstance(condition, Like)
    assert condition.pattern == pattern


@pytest.mark.parametrize("bad", ["5", "null", "Name", "('a')"])
def test_like_needs_a_string(bad: str) -> None:
    assert (
        "LIKE needs a quoted string" in error(f"SELECT Id FROM Lead WHERE Name LIKE {bad}").message
    )


def test_in_and_not_in() -> None:
    assert where("Status IN ('Open', 'New')") == InValues(
        pos=P,
        left=field("Status"),
        negated=False,
        values=(StringValue(pos=P, value="Open"), StringValue(pos=P, value="New")),
    )
    condition = where("Amount NOT IN (1, 2.5, null)")
    assert isinstance(condition, InValues)
    assert condition.negated
    assert condition.values == (
        NumberValue(pos=P, value=Decimal(1)),
        NumberValue(pos=P, value=Decimal("2.5")),
        NullValue(pos=P),
    )


def test_in_needs_a_value() -> None:
    err = error("SELECT Id FROM Lead WHERE Id IN ()")
    assert err.message == "unexpected token: )"
    assert err.position.column == 34


def test_semi_join_and_anti_join() -> None:
    condition = where("Id IN (SELECT LeadId FROM CampaignMember WHERE Status = 'Sent')")
    assert isinstance(condition, InSubquery)
    assert not condition.negated
    assert condition.left == field("Id")
    assert condition.query.select == (SelectExpr(pos=P, expr=field("LeadId")),)
    assert condition.query.from_.name == "CampaignMember"
    anti = where("Id NOT IN (SELECT WhoId FROM Task)")
    assert isinstance(anti, InSubquery)
    assert anti.negated


@pytest.mark.parametrize(
    ("subquery", "message"),
    [
        ("SELECT Id, Name FROM Contact", "unexpected token: , (expected FROM)"),
        ("SELECT Id FROM Contact ORDER BY Name", "unexpected token: ORDER"),
        ("SELECT Id FROM Contact LIMIT 5", "unexpected token: LIMIT"),
        ("SELECT COUNT() FROM Contact", "unexpected token: ("),
        (
            "SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account)",
            "a semi-join subquery is not allowed in a semi-join's WHERE",
        ),
    ],
)
def test_semi_join_restrictions(subquery: str, message: str) -> None:
    assert message in error(f"SELECT Id FROM Lead WHERE Id IN ({subquery})").message


def test_semi_join_is_not_allowed_in_having() -> None:
    text = "SELECT Type FROM Case GROUP BY Type HAVING Type IN (SELECT Name FROM Account)"
    assert error(text).message == "a semi-join subquery is not allowed in HAVING"


def test_includes_and_excludes() -> None:
    assert where("Tags__c INCLUDES ('a;b', 'c')") == Includes(
        pos=P,
        left=field("Tags__c"),
        excludes=False,
        values=(StringValue(pos=P, value="a;b"), StringValue(pos=P, value="c")),
    )
    condition = where("Tags__c excludes ('x')")
    assert isinstance(condition, Includes)
    assert condition.excludes


@pytest.mark.parametrize("bad", ["(1)", "('a', null)", "'a'"])
def test_includes_needs_string_list(bad: str) -> None:
    error(f"SELECT Id FROM Lead WHERE Tags__c INCLUDES {bad}")


def _cmp(name: str, number: int) -> Comparison:
    return Comparison(
        pos=P,
        left=field(name),
        operator=ComparisonOperator.EQ,
        value=NumberValue(pos=P, value=Decimal(number)),
    )


def test_and_chains_flatten() -> None:
    assert where("a = 1 AND b = 2 AND c = 3") == And(
        pos=P, operands=(_cmp("a", 1), _cmp("b", 2), _cmp("c", 3))
    )


def test_or_chains_flatten() -> None:
    assert where("a = 1 OR b = 2 OR c = 3") == Or(
        pos=P, operands=(_cmp("a", 1), _cmp("b", 2), _cmp("c", 3))
    )


def test_parentheses_group() -> None:
    assert where("(a = 1 AND b = 2) OR c = 3") == Or(
        pos=P, operands=(And(pos=P, operands=(_cmp("a", 1), _cmp("b", 2))), _cmp("c", 3))
    )
    assert where("a = 1 AND (b = 2 OR c = 3)") == And(
        pos=P, operands=(_cmp("a", 1), Or(pos=P, operands=(_cmp("b", 2), _cmp("c", 3))))
    )
    assert where("((a = 1))") == _cmp("a", 1)


@pytest.mark.parametrize(
    ("condition", "column"),
    [
        ("a = 1 AND b = 2 OR c = 3", 43),
        ("a = 1 OR b = 2 AND c = 3", 42),
        ("a = 1 AND b = 2 AND c = 3 OR d = 4", 53),
        ("(a = 1 OR b = 2) AND c = 3 OR d = 4", 54),
    ],
)
def test_mixing_and_with_or_needs_parentheses(condition: str, column: int) -> None:
    err = error(f"SELECT Id FROM Lead WHERE {condition}")
    assert "AND and OR cannot be mixed without parentheses" in err.message
    assert err.position.column == column


def test_not_binds_to_the_next_condition() -> None:
    assert where("NOT a = 1 AND b = 2") == And(
        pos=P, operands=(Not(pos=P, operand=_cmp("a", 1)), _cmp("b", 2))
    )
    assert where("NOT (a = 1 OR b = 2)") == Not(
        pos=P, operand=Or(pos=P, operands=(_cmp("a", 1), _cmp("b", 2)))
    )
    assert where("a = 1 OR NOT b = 2") == Or(
        pos=P, operands=(_cmp("a", 1), Not(pos=P, operand=_cmp("b", 2)))
    )


def test_not_not_is_rejected() -> None:
    assert error("SELECT Id FROM Lead WHERE NOT NOT a = 1").message == "unexpected token: NOT"


def test_date_function_on_the_left() -> None:
    assert where("CALENDAR_YEAR(CreatedDate) = 2024") == Comparison(
        pos=P,
        left=DateFunctionCall(
            pos=P, function=DateFunction.CALENDAR_YEAR, field=field("CreatedDate")
        ),
        operator=ComparisonOperator.EQ,
        value=NumberValue(pos=P, value=Decimal(2024)),
    )


def test_day_only_against_a_date() -> None:
    condition = where("DAY_ONLY(CreatedDate) = 2024-01-31")
    assert isinstance(condition, Comparison)
    assert condition.value == DateValue(pos=P, value=date(2024, 1, 31))


def test_aggregates_are_not_allowed_in_where() -> None:
    err = error("SELECT Id FROM Lead WHERE COUNT(Id) > 1")
    assert err.message == "COUNT() is not allowed in WHERE"
    assert err.position.column == 27


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT Id FROM Lead WHERE Name", "unexpected token: <EOF>"),
        ("SELECT Id FROM Lead WHERE = 'x'", "unexpected token: ="),
        ("SELECT Id FROM Lead WHERE Name == 'x'", "unexpected token: ="),
        ("SELECT Id FROM Lead WHERE (Name = 'x'", "unexpected token: <EOF>"),
        ("SELECT Id FROM Lead WHERE Name = 'x')", "unexpected token: )"),
        ("SELECT Id FROM Lead WHERE Name = 'x' AND", "unexpected token: <EOF>"),
        ("SELECT Id FROM Lead WHERE Name = Company", "unexpected token: Company"),
        ("SELECT Id FROM Lead WHERE From = 1", "unexpected token: From"),
        ("SELECT Id FROM Lead WHERE Name NOT LIKE 'x'", "unexpected token: NOT"),
    ],
)
def test_malformed_conditions(text: str, message: str) -> None:
    assert error(text).message == message


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "expected", "is_integer"),
    [
        ("0", Decimal(0), True),
        ("42", Decimal(42), True),
        ("-42", Decimal(-42), True),
        ("+42", Decimal(42), True),
        ("3.14", Decimal("3.14"), False),
        ("-0.5", Decimal("-0.5"), False),
        ("1" * 60, Decimal("1" * 60), True),
    ],
)
def test_numbers(literal: str, expected: Decimal, is_integer: bool) -> None:
    number = value(literal)
    assert number == NumberValue(pos=P, value=expected)
    assert isinstance(number, NumberValue)
    assert number.is_integer is is_integer


@pytest.mark.parametrize("bad", ["1.", "1.2.3", "12abc", ".5", "1e5", "--1", "+"])
def test_malformed_numbers(bad: str) -> None:
    error(f"SELECT Id FROM Lead WHERE X = {bad}")


@pytest.mark.parametrize(
    ("literal", "expected"),
    [("true", True), ("FALSE", False), ("True", True)],
)
def test_booleans(literal: str, expected: bool) -> None:
    assert value(literal) == BooleanValue(pos=P, value=expected)


def test_null() -> None:
    assert value("NULL") == NullValue(pos=P)


def test_date() -> None:
    assert value("2024-02-29") == DateValue(pos=P, value=date(2024, 2, 29))


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("2024-01-31T10:00:00Z", datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("2024-01-31T10:00:00.000Z", datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("2024-01-31T10:00:00.5Z", datetime(2024, 1, 31, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2024-01-31T10:00:00.1234567Z", datetime(2024, 1, 31, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2024-01-31T10:00:00+02:00", datetime(2024, 1, 31, 8, tzinfo=UTC)),
        ("2024-01-31T10:00:00-0500", datetime(2024, 1, 31, 15, tzinfo=UTC)),
        ("2024-01-01T01:00:00+05:30", datetime(2023, 12, 31, 19, 30, tzinfo=UTC)),
        ("2024-12-31T23:30:00-01:00", datetime(2025, 1, 1, 0, 30, tzinfo=UTC)),
        ("2024-01-31T10:00:00.250-08:00", datetime(2024, 1, 31, 18, 0, 0, 250000, tzinfo=UTC)),
    ],
)
def test_datetimes_normalise_to_utc(literal: str, expected: datetime) -> None:
    result = value(literal)
    assert result == DateTimeValue(pos=P, value=expected)
    assert isinstance(result, DateTimeValue)
    assert result.value.tzinfo is UTC


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("2024-02-30", "invalid date: 2024-02-30"),
        ("2023-02-29", "invalid date: 2023-02-29"),
        ("0000-01-01", "invalid date: 0000-01-01"),
        ("2024-13-01", "invalid date: 2024-13-01"),
        ("2024-1-01", "malformed date"),
        ("2024-01-01T10:00:00", "expected a time zone"),
        ("2024-01-01T10:00Z", "malformed datetime: expected ':'"),
        ("2024-01-01T25:00:00Z", "invalid datetime"),
        ("2024-01-01T10:00:60Z", "invalid datetime"),
        ("2024-01-01T10:00:00+24:00", "invalid datetime"),
        ("2024-01-01T10:00:00+01:60", "invalid time zone offset"),
        ("2024-01-01T10:00:00+1", "malformed datetime"),
        ("2024-01-01T10:00:00.Z", "malformed datetime"),
        ("0001-01-01T00:00:00+01:00", "invalid datetime"),
        ("9999-12-31T23:00:00-02:00", "invalid datetime"),
        ("2024-01-01t10:00:00Z", "unexpected character: t"),
        ("2024-01-01T10:00:00Zulu", "unexpected character: u"),
    ],
)
def test_malformed_dates_and_datetimes(bad: str, message: str) -> None:
    err = error(f"SELECT Id FROM Lead WHERE X = {bad}")
    assert message in err.message


@pytest.mark.parametrize("kind", [k for k in DateLiteralKind if not k.takes_n])
def test_date_literals(kind: DateLiteralKind) -> None:
    assert value(kind.value.lower()) == DateLiteral(pos=P, kind=kind)


@pytest.mark.parametrize("kind", [k for k in DateLiteralKind if k.takes_n])
def test_date_literals_with_n(kind: DateLiteralKind) -> None:
    assert value(f"{kind.value}:7") == DateLiteral(pos=P, kind=kind, n=7)


def test_date_literal_zero() -> None:
    assert value("LAST_N_DAYS:0") == DateLiteral(pos=P, kind=DateLiteralKind.LAST_N_DAYS, n=0)


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        ("LAST_N_DAYS", "LAST_N_DAYS needs a number, as in LAST_N_DAYS:7"),
        ("LAST_N_DAYS :7", "LAST_N_DAYS needs a number"),
        ("LAST_N_DAYS: 7", "needs the number right after the colon"),
        ("LAST_N_DAYS:-7", "LAST_N_DAYS:n must be a non-negative integer"),
        ("LAST_N_DAYS:1.5", "LAST_N_DAYS:n must be a non-negative integer"),
        ("LAST_N_DAYS:x", "LAST_N_DAYS:n must be a non-negative integer"),
        ("TODAY:3", "unexpected token: :"),
        ("LAST_N_DAYS:99999999999", "LAST_N_DAYS:n must be at most 2147483647"),
    ],
)
def test_malformed_date_literals(literal: str, message: str) -> None:
    assert message in error(f"SELECT Id FROM Lead WHERE X = {literal}").message


def test_date_literals_in_an_in_list() -> None:
    condition = where("CloseDate IN (TODAY, LAST_N_DAYS:3, 2024-01-01)")
    assert isinstance(condition, InValues)
    assert [type(v) for v in condition.values] == [DateLiteral, DateLiteral, DateValue]


def test_bind_variables_are_apex_only() -> None:
    err = error("SELECT Id FROM Lead WHERE Email IN :emails")
    assert err.message == "unexpected token: :"
    err = error("SELECT Id FROM Lead WHERE Email = :email")
    assert err.message == "bind variables (:email) are only supported in Apex"
    assert err.position.column == 35


# --- strings and escapes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("''", ""),
        ("'plain'", "plain"),
        (r"'Bob\'s BBQ'", "Bob's BBQ"),
        (r"'say \"hi\"'", 'say "hi"'),
        ("'raw \"double\"'", 'raw "double"'),
        (r"'a\\b'", "a\\b"),
        (r"'\n\N'", "\n\n"),
        (r"'\r\R'", "\r\r"),
        (r"'\t\T'", "\t\t"),
        (r"'\b\B'", "\b\b"),
        (r"'\f\F'", "\f\f"),
        (r"'\u00e9\u00E9'", "éé"),
        (r"'\uD83D\uDE00'", "\U0001f600"),
        (r"'50\%\_'", "50%_"),
        ("'raw\nnewline'", "raw\nnewline"),
        ("'ünïcödé 日本'", "ünïcödé 日本"),
        (r"'\\\''", "\\'"),
    ],
)
def test_string_escapes(literal: str, expected: str) -> None:
    assert string(literal) == expected


@pytest.mark.parametrize(
    ("literal", "column"),
    [
        (r"'a\q'", 3),
        (r"'\x41'", 2),
        (r"'\U00e9'", 2),
        (r"'\u00e'", 2),
        (r"'\u00eg'", 2),
        (r"'\u+0e9'", 2),
        (r"'\uD83D'", 2),
        (r"'\uDE00'", 2),
        (r"'ok\uD83Dx'", 4),
        (r"'\ '", 2),
    ],
)
def test_invalid_escapes_point_at_the_backslash(literal: str, column: int) -> None:
    prefix = "SELECT Id FROM Lead WHERE X = "
    err = error(prefix + literal)
    assert "escape" in err.message
    assert err.position.column == len(prefix) + column


@pytest.mark.parametrize("text", ["'open", r"'escaped quote\'", "'trailing backslash\\"])
def test_unterminated_string(text: str) -> None:
    err = error(f"SELECT Id FROM Lead WHERE X = {text}")
    assert err.message == "unterminated string literal"
    assert err.position.column == 31


def test_string_literal_length_limit() -> None:
    assert string("'" + "x" * 4000 + "'") == "x" * 4000
    assert string("'" + "\\n" * 4000 + "'") == "\n" * 4000
    err = error("SELECT Id FROM Lead WHERE X = '" + "x" * 4001 + "'")
    assert err.message == "string literal is longer than 4000 characters"
    assert err.position.column == 31


# --- case-insensitivity and layout ---------------------------------------------------------------


def test_keywords_are_case_insensitive() -> None:
    upper = parse(
        "SELECT Id, COUNT(Id) c FROM Lead WHERE Name LIKE 'a%' AND Status NOT IN ('x') "
        "AND CreatedDate = LAST_N_DAYS:3 AND IsDeleted = FALSE GROUP BY Id "
        "HAVING COUNT(Id) > 0 ORDER BY Id DESC NULLS LAST LIMIT 5 OFFSET 1"
    )
    lower = parse(
        "select Id, count(Id) c from Lead where Name like 'a%' and Status not in ('x') "
        "and CreatedDate = last_n_days:3 and IsDeleted = false group by Id "
        "having count(Id) > 0 order by Id desc nulls last limit 5 offset 1"
    )
    mixed = parse(
        "SeLeCt Id, CoUnT(Id) c FrOm Lead WhErE Name LiKe 'a%' AnD Status NoT In ('x') "
        "aNd CreatedDate = Last_N_Days:3 AnD IsDeleted = fAlSe GrOuP bY Id "
        "HaViNg CoUnT(Id) > 0 OrDeR By Id DeSc NuLlS LaSt LiMiT 5 OfFsEt 1"
    )
    assert upper == lower == mixed


def test_whitespace_and_newlines_are_free() -> None:
    compact = parse("SELECT Id,Name FROM Lead WHERE(Name='x'OR Amount>=5)LIMIT 5")
    spread = parse(
        "SELECT\tId ,\n  Name\r\nFROM Lead\n\nWHERE ( Name = 'x' OR Amount >= 5 )\fLIMIT 5"
    )
    assert compact == spread


# --- error reporting ---------------------------------------------------------------------------


def test_caret_diagram_for_a_misspelt_keyword() -> None:
    err = error("SELECT Id FRM Account")
    assert err.kind is ErrorKind.MALFORMED_QUERY
    assert err.position == Position(offset=10, row=1, column=11)
    assert err.salesforce_message() == (
        "\nSELECT Id FRM Account\n          ^\nERROR at Row:1:Column:11\n"
        "unexpected token: FRM (expected FROM)"
    )
    assert str(err) == "unexpected token: FRM (expected FROM) (row 1, column 11)"


def test_caret_diagram_on_a_later_row_shows_that_row() -> None:
    err = error("SELECT Id\nFROM Lead\r\nWHERE Name = 'x' AND\n   LIMIT 5")
    assert (err.position.row, err.position.column) == (4, 4)
    assert err.salesforce_message() == (
        "\n   LIMIT 5\n   ^\nERROR at Row:4:Column:4\nunexpected token: LIMIT"
    )


def test_end_of_input_points_past_the_last_character() -> None:
    err = error("SELECT Id FROM")
    assert err.message == "unexpected token: <EOF> (expected an object name)"
    assert err.position == Position(offset=14, row=1, column=15)


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("", "unexpected token: <EOF> (expected SELECT)", 1),
        ("   ", "unexpected token: <EOF> (expected SELECT)", 4),
        ("DELETE FROM Lead", "unexpected token: DELETE (expected SELECT)", 1),
        ("SELECT * FROM Lead", "unexpected character: *", 8),
        ("SELECT FROM Lead", "unexpected token: FROM", 8),
        ("SELECT Id, FROM Lead", "unexpected token: FROM", 12),
        ("SELECT Id FROM Lead Lead2 Lead3", "unexpected token: Lead2", 21),
        (
            "SELECT Id FROM Account.Name",
            "unexpected token: Account.Name (expected an object name)",
            16,
        ),
        ("SELECT Account. FROM Lead", "a field path segment must start with a letter", 16),
        ("SELECT Account..Name FROM Lead", "a field path segment must start with a letter", 16),
        ("SELECT _Id FROM Lead", "unexpected character: _", 8),
        ('SELECT Id FROM Lead WHERE Name = "x"', 'unexpected character: "', 34),
        ("SELECT Id FROM Lead WHERE Name ! 'x'", "unexpected character: !", 32),
        ("SELECT Id FROM Lead; DROP TABLE Lead", "unexpected character: ;", 20),
        ("SELECT Id FROM Lead WHERE Name = 'x' 'y'", "unexpected token: 'y'", 38),
    ],
)
def test_error_messages_and_positions(text: str, message: str, column: int) -> None:
    err = error(text)
    assert (err.message, err.position.column) == (message, column)


def test_first_error_wins_even_when_a_later_token_cannot_be_lexed() -> None:
    # The misplaced keyword comes before the bad escape, so it is what gets reported.
    err = error(r"SELECT Id FROM Lead LIMIT 5 WHERE Name = 'a\q'")
    assert err.message == "unexpected token: WHERE"


def test_query_length_limit() -> None:
    base = "SELECT Id FROM Lead WHERE Name = 'x'"
    padded = base + " " * (soql.MAX_QUERY_LENGTH - len(base))
    assert parse(padded).from_.name == "Lead"
    err = error(padded + " ")
    assert err.kind is ErrorKind.MALFORMED_QUERY
    assert "100000 characters" in err.message
    assert err.position.offset == soql.MAX_QUERY_LENGTH


def test_deep_nesting_is_query_too_complicated() -> None:
    depth = soql.MAX_NESTING + 1
    err = error("SELECT Id FROM Lead WHERE " + "(" * depth + "a = 1" + ")" * depth)
    assert err.kind is ErrorKind.QUERY_TOO_COMPLICATED
    assert parse("SELECT Id FROM Lead WHERE " + "(" * 50 + "a = 1" + ")" * 50).where is not None


# --- AST construction checks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: DateLiteral(pos=P, kind=DateLiteralKind.LAST_N_DAYS), "LAST_N_DAYS needs n"),
        (lambda: DateLiteral(pos=P, kind=DateLiteralKind.TODAY, n=3), "TODAY takes no n"),
        (lambda: DateLiteral(pos=P, kind=DateLiteralKind.N_DAYS_AGO, n=-1), "non-negative n"),
        (lambda: FieldPath(pos=P, parts=("Account", "")), "non-empty parts"),
        (lambda: FieldPath(pos=P, parts=()), "non-empty parts"),
        (lambda: DateTimeValue(pos=P, value=datetime(2024, 1, 1)), "aware and in UTC"),
        (lambda: InValues(pos=P, left=field("Id"), negated=False, values=()), "at least one"),
        (
            lambda: Query(pos=P, select=(), from_=soql.From(pos=P, name="Lead")),
            "at least one item",
        ),
    ],
)
def test_nodes_validate_on_construction(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        build()
    assert message in str(info.value)


def test_nodes_are_frozen_and_hashable() -> None:
    query = parse("SELECT Id FROM Lead WHERE Name IN ('a', 'b')")
    with pytest.raises(AttributeError):
        query.limit = 5  # type: ignore[misc]
    assert hash(query) == hash(parse("select Id from Lead where Name in ('a','b')"))


def test_positions_are_recorded_on_every_node() -> None:
    text = "SELECT Id,\n  Account.Name FROM Contact\nWHERE Email LIKE 'a%'"
    query = parse(text)
    assert query.pos == Position(offset=0, row=1, column=1)
    second = query.select[1]
    assert second.pos == Position(offset=13, row=2, column=3)
    assert query.from_.pos == Position(offset=31, row=2, column=21)
    assert query.where is not None
    assert query.where.pos == Position(offset=45, row=3, column=7)


# --- performance -------------------------------------------------------------------------------


def test_a_100kb_query_with_4000_in_values_parses_quickly() -> None:
    values = ", ".join(f"'l{i:05d}@example.com'" for i in range(4000))
    text = f"SELECT Id, Email FROM Lead WHERE Email IN ({values}) ORDER BY Email"
    text += " " * (soql.MAX_QUERY_LENGTH - len(text))
    assert len(text) == soql.MAX_QUERY_LENGTH
    started = time.perf_counter()
    query = parse(text)
    elapsed = time.perf_counter() - started
    assert isinstance(query.where, InValues)
    assert len(query.where.values) == 4000
    assert elapsed < 0.5, f"parsing took {elapsed:.3f}s"
