"""The rule formula language: parsing, checking against an object, evaluating. No I/O."""

from __future__ import annotations

from typing import Any

import pytest

from localforce.automation.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Compare,
    ExpressionError,
    compile_formula,
    parse,
)
from localforce.schema import ObjectDef
from localforce.standard_objects import standard_objects

LEAD: ObjectDef = next(o for o in standard_objects() if o.name == "Lead")

NEW_LEAD: dict[str, Any] = {
    "LastName": "Doe",
    "FirstName": None,
    "Company": "Acme Corp",
    "Email": "jane@acme.com",
    "NumberOfEmployees": 50,
    "AnnualRevenue": 1.5e6,
    "Status": "Open - Not Contacted",
    "DoNotCall": 0,
    "IsConverted": 0,
    "Title": "",
}


def holds(text: str, new: dict[str, Any] | None = None, old: dict[str, Any] | None = None) -> bool:
    return compile_formula(text, LEAD).evaluate(NEW_LEAD if new is None else new, old)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Company = 'Acme Corp'", True),
        ('Company == "Acme Corp"', True),
        ("Company = 'acme corp'", False),  # text comparison is case-sensitive
        ("company <> 'Other'", True),  # field names are case-insensitive
        ("Company != 'Acme Corp'", False),
        ("NumberOfEmployees > 10", True),
        ("NumberOfEmployees >= 50 && NumberOfEmployees <= 50", True),
        ("NumberOfEmployees < 50 || AnnualRevenue > 1000000", True),
        ("AnnualRevenue > 2000000.5", False),
        ("NumberOfEmployees > -1", True),
        ("ISBLANK(FirstName)", True),
        ("ISBLANK(Title)", True),  # an empty text is blank
        ("ISBLANK(LastName)", False),
        ("FirstName = NULL", True),
        ("FirstName = ''", True),
        ("FirstName > 'A'", False),  # blanks never order
        ("NOT(ISBLANK(Email))", True),
        ("CONTAINS(Email, '@acme.')", True),
        ("CONTAINS(Email, '@ACME.')", False),
        ("BEGINS(Company, 'Acme')", True),
        ("BEGINS(FirstName, 'A')", False),
        ("LEN(Company) = 9", True),
        ("LEN(FirstName) = 0", True),
        ("ISPICKVAL(Status, 'Open - Not Contacted')", True),
        ("DoNotCall", False),
        ("DoNotCall = FALSE", True),
        ("NOT(IsConverted) && TRUE", True),
        ("AND(ISNEW(), LEN(Company) > 3, Email != 'x')", True),
        ("OR(FALSE, FALSE)", False),
        ("(Company = 'x' || Company = 'Acme Corp') && NOT(DoNotCall)", True),
        ("ISCHANGED(Company)", False),  # false on create
        ("PRIORVALUE(Company) = 'Acme Corp'", True),  # the new value on create
        ("Company = 'it\\'s'", False),
    ],
)
def test_formulas_on_a_new_record(text: str, expected: bool) -> None:
    assert holds(text) is expected


def test_change_functions_compare_with_the_stored_row() -> None:
    old = {**NEW_LEAD, "Company": "Old Name", "NumberOfEmployees": 50}
    assert holds("ISCHANGED(Company)", old=old)
    assert not holds("ISCHANGED(NumberOfEmployees)", old=old)
    assert holds("PRIORVALUE(Company) = 'Old Name'", old=old)
    assert not holds("ISNEW()", old=old)
    # A blank that stays blank is not a change; text blank and NULL are the same blank.
    assert not holds("ISCHANGED(Title)", new={**NEW_LEAD, "Title": None}, old=old)


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("Company = ", 10, "expected a value"),
        ("Company = 'open", 10, "not closed"),
        ("LEN(Company", 11, "expected ')'"),
        ("Company = 'a' Email", 14, "unexpected name 'Email'"),
        ("Company # 'a'", 8, "unexpected character"),
        ("Nope__c = 'a'", 0, "field Nope__c does not exist on Lead"),
        ("Owner.Name = 'a'", 5, "unexpected character '.'"),
        ("NumberOfEmployees = 'ten'", 18, "cannot compare number with text"),
        ("DoNotCall > FALSE", 10, "does not apply to booleans"),
        ("LEN(Company)", 0, "must be true or false"),
        ("ISCHANGED('Company')", 10, "needs a field name"),
        ("CONTAINS(NumberOfEmployees, 'x')", 9, "CONTAINS() expects text"),
        ("NOT(Company)", 4, "NOT() expects boolean"),
        ("LEN(Company, Email) > 1", 0, "takes 1 argument"),
        ("__import__('os') = 'x'", 0, "unexpected character '_'"),
        ("eval('1') = 'x'", 0, "unknown function EVAL"),
        ("AND() ", 0, "at least one argument"),
        ("- Company", 0, "'-' must be followed by a number"),
        ("Company = 'a\\q'", 12, "unknown escape"),
        ("   ", 0, "empty"),
    ],
)
def test_bad_formulas_say_where(text: str, position: int, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_formula(text, LEAD)
    assert caught.value.position == position
    assert fragment in caught.value.message
    assert f"at position {position}" in str(caught.value)


def test_size_limits_keep_the_parser_off_the_recursion_limit() -> None:
    deep = "(" * (MAX_DEPTH + 1) + "TRUE" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(ExpressionError, match="nests deeper than"):
        parse(deep)
    calls = "NOT(" * (MAX_DEPTH + 1) + "TRUE" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(ExpressionError, match="nests deeper than"):
        parse(calls)
    assert compile_formula("(" * MAX_DEPTH + "TRUE" + ")" * MAX_DEPTH, LEAD).evaluate({}, None)
    with pytest.raises(ExpressionError, match="longer than 3900"):
        parse("TRUE" + " " * MAX_LENGTH)
    # A long flat formula is fine: && chains are loops, not recursion.
    flat = " && ".join(["NumberOfEmployees > 1"] * 150)
    assert len(flat) < MAX_LENGTH
    assert holds(flat)


def test_parsing_is_pure_and_cached() -> None:
    assert parse("Company = 'x'") is parse("Company = 'x'")
    # Keywords and function names read in any case; `==` and `<>` are `=` and `!=`.
    assert parse("true") == parse("TRUE")
    assert parse("len(a) <> 1") == parse("LEN(a) != 1")
    for spelling, op in (("a == 1", "="), ("a <> 1", "!="), ("a >= 1", ">=")):
        node = parse(spelling)
        assert isinstance(node, Compare)
        assert node.op == op
