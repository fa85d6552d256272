"""Hypothesis properties: escaping round-trips, and no input makes the parser fail any other way
than with a `SoqlSyntaxError` that points inside the text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from localforce.soql import (
    MAX_STRING_LENGTH,
    Comparison,
    InValues,
    Like,
    NumberValue,
    Query,
    SoqlSyntaxError,
    StringValue,
    escape_like,
    escape_literal,
    parse,
)
from localforce.soql.ast import DateTimeValue

# Text rich in the characters escaping is about, mixed with anything else.
SPECIALS = "\\'\"\n\r\t\b\f%_ \x00\x07éß日😀"
texts = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from([*SPECIALS, "a", "b"])),
    st.text(alphabet=st.sampled_from(["\\", "'", "u", "0", "%", "_", "n"])),
)


def parse_or_error(text: str) -> Query | SoqlSyntaxError:
    try:
        return parse(text)
    except SoqlSyntaxError as err:
        return err


def assert_well_formed_error(text: str, err: SoqlSyntaxError) -> None:
    offset = err.position.offset
    assert 0 <= offset <= len(text)
    assert err.position.row == text.count("\n", 0, offset) + 1
    assert err.position.column == offset - (text.rfind("\n", 0, offset) + 1) + 1
    diagram = err.salesforce_message()
    assert f"ERROR at Row:{err.position.row}:Column:{err.position.column}" in diagram
    assert diagram.endswith(err.message)


# --- escaping ----------------------------------------------------------------------------------


@given(s=texts)
@example(s='Bob\'s \\ "BBQ"\n')
@example(s="\\u0041")
@example(s="50%_off\\%")
def test_escape_literal_round_trips(s: str) -> None:
    query = parse(f"SELECT Id FROM Lead WHERE Email = '{escape_literal(s)}'")
    assert isinstance(query.where, Comparison)
    assert isinstance(query.where.value, StringValue)
    assert query.where.value.value == s


@given(values=st.lists(texts, min_size=1, max_size=5))
def test_escaped_values_round_trip_in_an_in_list(values: list[str]) -> None:
    listed = ", ".join(f"'{escape_literal(v)}'" for v in values)
    query = parse(f"SELECT Id FROM Lead WHERE Email IN ({listed})")
    assert isinstance(query.where, InValues)
    assert [v.value for v in query.where.values if isinstance(v, StringValue)] == values


def literal_text_of(pattern: str) -> str | None:
    """The one string a LIKE pattern matches, or None when it has a wildcard."""
    out = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(next(chars))
        elif char in "%_":
            return None
        else:
            out.append(char)
    return "".join(out)


@given(s=texts)
@example(s="100%_sure\\")
def test_escape_like_matches_exactly_the_text(s: str) -> None:
    query = parse(f"SELECT Id FROM Lead WHERE Name LIKE '{escape_like(s)}'")
    assert isinstance(query.where, Like)
    assert literal_text_of(query.where.pattern) == s


@given(s=texts)
def test_escape_like_prefix_keeps_the_trailing_wildcard(s: str) -> None:
    query = parse(f"SELECT Id FROM Lead WHERE Name LIKE '{escape_like(s)}%'")
    assert isinstance(query.where, Like)
    assert query.where.pattern.endswith("%")
    assert literal_text_of(query.where.pattern[:-1]) == s


def test_escape_literal_round_trips_at_the_length_limit() -> None:
    s = ("'\\\n" * MAX_STRING_LENGTH)[:MAX_STRING_LENGTH]
    query = parse(f"SELECT Id FROM Lead WHERE Email = '{escape_literal(s)}'")
    assert isinstance(query.where, Comparison)
    assert query.where.value == StringValue(pos=query.where.value.pos, value=s)


# --- values round-trip -------------------------------------------------------------------------


@given(number=st.decimals(allow_nan=False, allow_infinity=False, places=4))
def test_decimal_values_round_trip(number: Decimal) -> None:
    query = parse(f"SELECT Id FROM Opp WHERE Amount = {number:f}")
    assert isinstance(query.where, Comparison)
    assert isinstance(query.where.value, NumberValue)
    assert query.where.value.value == number


@given(
    moment=st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
    offset_minutes=st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
    colon=st.booleans(),
)
def test_datetimes_round_trip_to_utc(moment: datetime, offset_minutes: int, colon: bool) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    written = moment.replace(tzinfo=zone)
    hours, minutes = divmod(abs(offset_minutes), 60)
    sign = "-" if offset_minutes < 0 else "+"
    separator = ":" if colon else ""
    text = moment.isoformat(timespec="microseconds") + f"{sign}{hours:02d}{separator}{minutes:02d}"
    query = parse(f"SELECT Id FROM Lead WHERE CreatedDate >= {text}")
    assert isinstance(query.where, Comparison)
    assert query.where.value == DateTimeValue(
        pos=query.where.value.pos, value=written.astimezone(UTC)
    )


# --- case-insensitivity ------------------------------------------------------------------------

TEMPLATE = (
    "select Id, count(Id) n from Lead where Name like 'a%' and Status not in ('x') "
    "and CreatedDate = last_n_days:3 and IsDeleted = false and Tags__c includes ('a') "
    "group by Id having count(Id) > 0 order by Id desc nulls last limit 5 offset 1"
)
KEYWORDS = {
    "select", "count", "from", "where", "like", "and", "not", "in", "last_n_days", "false",
    "includes", "group", "by", "having", "order", "desc", "nulls", "last", "limit", "offset",
}  # fmt: skip


@given(data=st.data())
def test_keyword_case_never_matters(data: st.DataObject) -> None:
    words = TEMPLATE.split(" ")
    recased = []
    for word in words:
        head = word.split(":")[0].split("(")[0]
        if head in KEYWORDS:
            flips = data.draw(st.lists(st.booleans(), min_size=len(head), max_size=len(head)))
            head = "".join(c.upper() if up else c for c, up in zip(head, flips, strict=True))
            word = head + word[len(head) :]
        recased.append(word)
    assert parse(" ".join(recased)) == parse(TEMPLATE)


# --- fuzzing -----------------------------------------------------------------------------------


@settings(max_examples=500)
@given(text=st.text())
def test_arbitrary_text_only_raises_syntax_errors(text: str) -> None:
    result = parse_or_error(text)
    if isinstance(result, SoqlSyntaxError):
        assert_well_formed_error(text, result)


VOCABULARY = [
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "INCLUDES", "EXCLUDES", "GROUP",
    "BY", "HAVING", "ORDER", "ASC", "DESC", "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "FOR",
    "VIEW", "UPDATE", "ALL", "ROWS", "WITH", "SECURITY_ENFORCED", "USING", "SCOPE", "mine",
    "TYPEOF", "FIELDS", "COUNT", "SUM", "CALENDAR_YEAR", "toLabel", "Id", "Name", "Account.Name",
    "Lead", "Contacts", "a", "(", ")", ",", ":", "=", "!=", "<>", "<", "<=", ">", ">=", "'x'",
    "'\\%'", "'\\q'", "'", "\\", "1", "-2.5", "2000", "2001", "99999999999", "true", "null",
    "2024-01-31", "2024-02-30", "2024-01-31T10:00:00Z", "2024-01-31T10:00:00+25:00", "TODAY",
    "LAST_N_DAYS:7", "LAST_N_DAYS", "THIS_FISCAL_YEAR", "\n", ".", "*", "_",
]  # fmt: skip


@settings(max_examples=1000)
@given(
    prefix=st.sampled_from(["", "SELECT Id FROM Lead WHERE ", "SELECT Id, ", "SELECT "]),
    words=st.lists(st.sampled_from(VOCABULARY), max_size=40),
    separator=st.sampled_from([" ", ""]),
)
def test_soql_shaped_noise_only_raises_syntax_errors(
    prefix: str, words: list[str], separator: str
) -> None:
    text = prefix + separator.join(words)
    result = parse_or_error(text)
    if isinstance(result, SoqlSyntaxError):
        assert_well_formed_error(text, result)


CORPUS = [
    "SELECT Id, Name, Account.Owner.Email FROM Contact WHERE Email LIKE '%@acme.com' LIMIT 10",
    "SELECT COUNT() FROM Lead WHERE CreatedDate = LAST_N_DAYS:30 AND IsConverted = false",
    "SELECT Type, COUNT(Id) n FROM Case GROUP BY Type HAVING COUNT(Id) > 1 ORDER BY Type",
    "SELECT Id, (SELECT Id FROM Contacts ORDER BY Name LIMIT 5) FROM Account a WHERE a.Id != null",
    "SELECT Id FROM Lead WHERE Id IN (SELECT LeadId FROM CampaignMember) AND (A = 1 OR B = 2)",
    "SELECT Id FROM Opp WHERE CloseDate > 2024-01-31T10:00:00.000+02:00 "
    "AND Tags__c INCLUDES ('a;b')",
    "SELECT FIELDS(ALL) FROM Account USING SCOPE mine WITH SECURITY_ENFORCED LIMIT 200 FOR VIEW",
]


@settings(max_examples=1000)
@given(
    query=st.sampled_from(CORPUS),
    index=st.integers(min_value=0),
    edit=st.sampled_from(["delete", "insert", "replace"]),
    char=st.sampled_from(list("()',:=<>!.\\_%-+ \nxZT0")),
)
def test_mutated_queries_only_raise_syntax_errors(
    query: str, index: int, edit: str, char: str
) -> None:
    i = index % (len(query) + 1)
    if edit == "delete":
        text = query[:i] + query[i + 1 :]
    elif edit == "insert":
        text = query[:i] + char + query[i:]
    else:
        text = query[:i] + char + query[i + 1 :]
    result = parse_or_error(text)
    if isinstance(result, SoqlSyntaxError):
        assert_well_formed_error(text, result)


def test_corpus_parses() -> None:
    for query in CORPUS:
        assert isinstance(parse(query), Query)
