"""A hand-written recursive-descent parser: SOQL text in, `Query` out.

    parse("SELECT Id FROM Lead WHERE Email = 'a@b.com'") -> Query(...)

It does no I/O and knows no schema: whether `Foo__c` exists is the compiler's question. It does
enforce what Salesforce rejects on syntax alone, so the emulator fails where the real org fails:
AND and OR mixed at one level without parentheses, COUNT() beside other items, an alias outside
an aggregate query, FIELDS(ALL) without LIMIT 200, OFFSET above 2,000, string literals over
4,000 characters and statements over 100,000.

Grammar (keywords are case-insensitive; [] optional, {} repeated):

    query      = SELECT items FROM name [alias] [USING SCOPE name] [WHERE cond]
                 [WITH SECURITY_ENFORCED] [GROUP BY group {, group} [HAVING cond]]
                 [ORDER BY order {, order}] [LIMIT int] [OFFSET int]
                 [FOR (VIEW|REFERENCE|UPDATE) {, ...}] [ALL ROWS]
    item       = field [alias] | call [alias] | COUNT() | FIELDS(ALL|STANDARD|CUSTOM)
               | "(" child-query ")"
    cond       = unary {AND unary} | unary {OR unary}
    unary      = [NOT] ( "(" cond ")" | simple )
    simple     = operand (op value | LIKE string | [NOT] IN "(" values | query ")"
                 | (INCLUDES|EXCLUDES) "(" strings ")")
    order      = operand [ASC|DESC] [NULLS (FIRST|LAST)]

A child subquery allows SELECT (fields, FIELDS(), nested subqueries), FROM, WHERE, ORDER BY,
LIMIT and OFFSET; a semi-join subquery allows one field, FROM and WHERE. A clause outside those
sets is reported as an unexpected token, as Salesforce does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from localforce.soql.ast import (
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
    FieldPath,
    FieldsCategory,
    FieldsFunction,
    ForOption,
    From,
    GroupItem,
    Includes,
    InSubquery,
    InValues,
    Like,
    Not,
    NullValue,
    NumberValue,
    Operand,
    Or,
    OrderItem,
    Position,
    Query,
    SelectExpr,
    SelectItem,
    StringValue,
    SubQuery,
    Value,
)
from localforce.soql.errors import ErrorKind, SoqlSyntaxError
from localforce.soql.lexer import Lexer, Token, TokenKind

__all__ = ["MAX_NESTING", "MAX_OFFSET", "MAX_QUERY_LENGTH", "parse"]

MAX_QUERY_LENGTH = 100_000
MAX_OFFSET = 2000
MAX_INTEGER = 2**31 - 1  # LIMIT, OFFSET and date-literal n are 32-bit ints in Salesforce
MAX_FIELDS_LIMIT = 200  # FIELDS(ALL) and FIELDS(CUSTOM) need LIMIT <= 200
# Parentheses and subqueries recurse; a cap keeps hostile input from exhausting Python's stack.
MAX_NESTING = 100

# Salesforce's reserved words: never a field name or an alias.
_RESERVED = frozenset(
    {
        "AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "GROUP", "HAVING", "IN", "INCLUDES",
        "LAST", "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "WHERE", "WITH",
    }
)  # fmt: skip
# Words that can follow `FROM Object`, so they are never taken for its alias.
_AFTER_FROM = _RESERVED | {"USING", "ORDER", "OFFSET", "FOR", "ALL", "UPDATE"}
# `Group` is a standard sObject even though GROUP is reserved.
_RESERVED_OBJECT_NAMES = _RESERVED - {"GROUP"}

_SCOPES = frozenset(
    {
        "delegated", "everything", "mine", "mine_and_my_groups", "my_territory",
        "my_team_territory", "team",
    }
)  # fmt: skip
_OPERATORS = {
    "=": ComparisonOperator.EQ,
    "!=": ComparisonOperator.NE,
    "<>": ComparisonOperator.NE,
    "<": ComparisonOperator.LT,
    "<=": ComparisonOperator.LE,
    ">": ComparisonOperator.GT,
    ">=": ComparisonOperator.GE,
}
_AGGREGATES = {f.value: f for f in AggregateFunction}
_DATE_FUNCTIONS = {f.value: f for f in DateFunction}
_DATE_LITERALS = {k.value: k for k in DateLiteralKind}
_FIELDS_CATEGORIES = {c.value: c for c in FieldsCategory}
_FOR_OPTIONS = {o.value: o for o in ForOption}
_UNSUPPORTED_FUNCTIONS = frozenset(
    {
        "TOLABEL", "FORMAT", "CONVERTCURRENCY", "CONVERTTIMEZONE", "GROUPING", "ROLLUP", "CUBE",
        "DISTANCE", "GEOLOCATION",
    }
)  # fmt: skip
_DIGITS = frozenset("0123456789")


class _Context(enum.Enum):
    TOP = "top"
    CHILD = "child"  # (SELECT ... FROM Contacts) in a select list
    SEMI_JOIN = "semi_join"  # Id IN (SELECT ... )


@dataclass(frozen=True, slots=True)
class _Clause:
    """Where a condition sits, which decides what it may contain."""

    name: str
    aggregates: bool
    semi_joins: bool


_WHERE = _Clause("WHERE", aggregates=False, semi_joins=True)
_SEMI_JOIN_WHERE = _Clause("a semi-join's WHERE", aggregates=False, semi_joins=False)
_HAVING = _Clause("HAVING", aggregates=True, semi_joins=False)


def parse(text: str) -> Query:
    """Parses one SOQL statement; raises `SoqlSyntaxError` for anything else."""
    if len(text) > MAX_QUERY_LENGTH:
        raise Lexer(text).error(
            f"SOQL statements cannot be longer than {MAX_QUERY_LENGTH} characters",
            MAX_QUERY_LENGTH,
        )
    parser = _Parser(text)
    query = parser.query(_Context.TOP)
    parser.expect_kind(TokenKind.EOF)
    return query


class _Parser:
    def __init__(self, text: str) -> None:
        self._lexer = Lexer(text)
        self._ahead: list[Token] = []
        self._depth = 0

    # --- token plumbing ----------------------------------------------------------------------

    def _peek(self, k: int = 0) -> Token:
        while len(self._ahead) <= k:
            self._ahead.append(self._lexer.next_token())
        return self._ahead[k]

    def _advance(self) -> Token:
        token = self._peek()
        del self._ahead[0]
        return token

    def _at(self, word: str, k: int = 0) -> bool:
        token = self._peek(k)
        return token.kind is TokenKind.NAME and token.value == word

    def _accept(self, word: str) -> Token | None:
        return self._advance() if self._at(word) else None

    def _accept_kind(self, kind: TokenKind) -> Token | None:
        return self._advance() if self._peek().kind is kind else None

    def _expect(self, word: str) -> Token:
        if not self._at(word):
            raise self._unexpected(self._peek(), f"expected {word}")
        return self._advance()

    def expect_kind(self, kind: TokenKind) -> Token:
        if self._peek().kind is not kind:
            raise self._unexpected(self._peek())
        return self._advance()

    def _pos(self, token: Token) -> Position:
        return self._lexer.position(token.start)

    def _error(
        self, message: str, at: Token | Position, kind: ErrorKind = ErrorKind.MALFORMED_QUERY
    ) -> SoqlSyntaxError:
        position = at if isinstance(at, Position) else self._pos(at)
        return SoqlSyntaxError(message, position, query=self._lexer.text, kind=kind)

    def _unexpected(self, token: Token, hint: str = "") -> SoqlSyntaxError:
        suffix = f" ({hint})" if hint else ""
        return self._error(f"unexpected token: {token.display}{suffix}", token)

    def _enter(self, token: Token) -> None:
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise self._error(
                f"query is nested more than {MAX_NESTING} levels deep",
                token,
                ErrorKind.QUERY_TOO_COMPLICATED,
            )

    def _leave(self) -> None:
        self._depth -= 1

    # --- statement ---------------------------------------------------------------------------

    def query(self, context: _Context) -> Query:
        select_token = self._expect("SELECT")
        self._enter(select_token)
        alias_token: Token | None = None
        select: tuple[SelectItem, ...]
        if context is _Context.SEMI_JOIN:
            field = self._field_path()
            select = (SelectExpr(pos=field.pos, expr=field),)
        else:
            select, alias_token = self._select_list(context)
        self._expect("FROM")
        from_ = self._from(context)
        top = context is _Context.TOP
        using_scope = self._using_scope() if top else None
        where = None
        if self._accept("WHERE"):
            where = self._condition(_SEMI_JOIN_WHERE if context is _Context.SEMI_JOIN else _WHERE)
        with_security_enforced = top and self._with()
        group_by = self._group_by() if top else ()
        having = self._condition(_HAVING) if group_by and self._accept("HAVING") else None
        ordered = context is not _Context.SEMI_JOIN
        order_by = self._order_by(aggregates=top) if ordered else ()
        limit = self._limit_or_offset("LIMIT") if ordered else None
        offset = self._limit_or_offset("OFFSET") if ordered else None
        for_options = self._for_options() if top else ()
        all_rows = False
        if top and self._accept("ALL"):
            self._expect("ROWS")
            all_rows = True
        query = Query(
            pos=self._pos(select_token),
            select=select,
            from_=from_,
            using_scope=using_scope,
            where=where,
            with_security_enforced=with_security_enforced,
            group_by=group_by,
            having=having,
            order_by=order_by,
            limit=limit,
            offset=offset,
            for_options=for_options,
            all_rows=all_rows,
        )
        if alias_token is not None and not query.is_aggregate:
            raise self._error("Only aggregate expressions use field aliasing", alias_token)
        self._check_fields_limit(query)
        self._leave()
        return query

    def _check_fields_limit(self, query: Query) -> None:
        for item in query.select:
            if (
                isinstance(item, FieldsFunction)
                and item.category is not FieldsCategory.STANDARD
                and (query.limit is None or query.limit > MAX_FIELDS_LIMIT)
            ):
                raise self._error(
                    f"The SOQL FIELDS function must have a LIMIT of at most {MAX_FIELDS_LIMIT}",
                    item.pos,
                )

    # --- SELECT ------------------------------------------------------------------------------

    def _select_list(self, context: _Context) -> tuple[tuple[SelectItem, ...], Token | None]:
        """The items, and the first alias token (aliases are legal only in aggregate queries,
        which is known once GROUP BY has been read)."""
        items: list[SelectItem] = []
        first_alias: Token | None = None
        while True:
            item, alias = self._select_item(context)
            items.append(item)
            first_alias = first_alias or alias
            if not self._accept_kind(TokenKind.COMMA):
                break
        for item in items:
            if isinstance(item, CountAll) and len(items) > 1:
                raise self._error("COUNT() must be the only item in the SELECT list", item.pos)
        return tuple(items), first_alias

    def _select_item(self, context: _Context) -> tuple[SelectItem, Token | None]:
        token = self._peek()
        top = context is _Context.TOP
        if token.kind is TokenKind.LPAREN:
            self._advance()
            if not self._at("SELECT"):
                raise self._unexpected(self._peek(), "expected a subquery")
            query = self.query(_Context.CHILD)
            self.expect_kind(TokenKind.RPAREN)
            return SubQuery(pos=self._pos(token), query=query), None
        if token.kind is not TokenKind.NAME or token.value in _RESERVED:
            raise self._unexpected(token)
        if token.value == "TYPEOF" and self._peek(1).kind is TokenKind.NAME:
            raise self._error("TYPEOF is not supported by localforce", token)
        expr: FieldPath | Aggregate | DateFunctionCall
        if self._peek(1).kind is TokenKind.LPAREN:
            if token.value == "FIELDS":
                return self._fields_function(), None
            if top and token.value == "COUNT" and self._peek(2).kind is TokenKind.RPAREN:
                for _ in range(3):
                    self._advance()
                return CountAll(pos=self._pos(token)), None
            if not top:
                raise self._function_error(token, "a subquery's SELECT list")
            expr = self._call(aggregates=True, clause="the SELECT list")
        else:
            expr = self._field_path()
        # A name is taken as an alias only when what follows fits, so a misspelt keyword
        # (`SELECT Id FRM Account`) is reported where it is rather than one token later.
        alias: Token | None = None
        if (
            top
            and self._is_alias(self._peek())
            and (self._peek(1).kind is TokenKind.COMMA or self._at("FROM", 1))
        ):
            alias = self._advance()
        item = SelectExpr(pos=expr.pos, expr=expr, alias=alias.text if alias else None)
        return item, alias

    def _fields_function(self) -> FieldsFunction:
        name = self._advance()
        self.expect_kind(TokenKind.LPAREN)
        argument = self._peek()
        category = _FIELDS_CATEGORIES.get(argument.value)
        if argument.kind is not TokenKind.NAME or category is None:
            raise self._unexpected(argument, "expected ALL, STANDARD or CUSTOM")
        self._advance()
        self.expect_kind(TokenKind.RPAREN)
        return FieldsFunction(pos=self._pos(name), category=category)

    def _field_path(self) -> FieldPath:
        token = self._peek()
        if token.kind is not TokenKind.NAME or token.value in _RESERVED:
            raise self._unexpected(token)
        self._advance()
        return FieldPath(pos=self._pos(token), parts=tuple(token.text.split(".")))

    def _call(self, *, aggregates: bool, clause: str) -> Aggregate | DateFunctionCall:
        """A function applied to a field; the caller has seen NAME "(" ahead."""
        name = self._peek()
        aggregate = _AGGREGATES.get(name.value)
        if aggregate is None or not aggregates:
            return self._date_function_call(clause)
        self._advance()
        return Aggregate(pos=self._pos(name), function=aggregate, field=self._argument())

    def _date_function_call(self, clause: str) -> DateFunctionCall:
        name = self._peek()
        function = _DATE_FUNCTIONS.get(name.value)
        if function is None:
            raise self._function_error(name, clause)
        self._advance()
        return DateFunctionCall(pos=self._pos(name), function=function, field=self._argument())

    def _argument(self) -> FieldPath:
        self.expect_kind(TokenKind.LPAREN)
        field = self._field_path()
        self.expect_kind(TokenKind.RPAREN)
        return field

    def _function_error(self, name: Token, clause: str) -> SoqlSyntaxError:
        if name.value in _UNSUPPORTED_FUNCTIONS:
            return self._error(f"{name.text}() is not supported by localforce", name)
        if name.value in _AGGREGATES or name.value in _DATE_FUNCTIONS:
            return self._error(f"{name.text}() is not allowed in {clause}", name)
        return self._error(f"unknown function: {name.text}()", name)

    def _operand(self, *, aggregates: bool, clause: str) -> Operand:
        token = self._peek()
        if (
            token.kind is TokenKind.NAME
            and token.value not in _RESERVED
            and self._peek(1).kind is TokenKind.LPAREN
        ):
            return self._call(aggregates=aggregates, clause=clause)
        return self._field_path()

    # --- FROM and the clauses after it --------------------------------------------------------

    def _from(self, context: _Context) -> From:
        token = self._peek()
        if (
            token.kind is not TokenKind.NAME
            or "." in token.text
            or token.value in _RESERVED_OBJECT_NAMES
        ):
            raise self._unexpected(token, "expected an object name")
        self._advance()
        alias: str | None = None  # taken only when what follows fits, as for select aliases
        if (
            context is _Context.TOP
            and self._is_alias(self._peek())
            and self._peek().value not in _AFTER_FROM
            and self._ends_from(self._peek(1))
        ):
            alias = self._advance().text
        return From(pos=self._pos(token), name=token.text, alias=alias)

    @staticmethod
    def _is_alias(token: Token) -> bool:
        return (
            token.kind is TokenKind.NAME and token.value not in _RESERVED and "." not in token.text
        )

    @staticmethod
    def _ends_from(token: Token) -> bool:
        """Whether `token` can follow `FROM Object alias`."""
        return token.kind is TokenKind.EOF or (
            token.kind is TokenKind.NAME and token.value in _AFTER_FROM
        )

    def _using_scope(self) -> str | None:
        if not self._accept("USING"):
            return None
        self._expect("SCOPE")
        token = self._peek()
        scope = token.text.lower()
        if token.kind is not TokenKind.NAME or scope not in _SCOPES:
            raise self._unexpected(token, "expected a scope such as mine or everything")
        self._advance()
        return scope

    def _with(self) -> bool:
        if not self._accept("WITH"):
            return False
        token = self._peek()
        if self._accept("SECURITY_ENFORCED"):
            return True
        if token.kind is TokenKind.NAME:
            raise self._error(f"WITH {token.text} is not supported by localforce", token)
        raise self._unexpected(token)

    def _group_by(self) -> tuple[GroupItem, ...]:
        if not self._accept("GROUP"):
            return ()
        self._expect("BY")
        items = [self._group_item()]
        while self._accept_kind(TokenKind.COMMA):
            items.append(self._group_item())
        return tuple(items)

    def _group_item(self) -> GroupItem:
        token = self._peek()
        if token.kind is TokenKind.NAME and self._peek(1).kind is TokenKind.LPAREN:
            return self._date_function_call("GROUP BY")
        return self._field_path()

    def _order_by(self, *, aggregates: bool) -> tuple[OrderItem, ...]:
        if not self._accept("ORDER"):
            return ()
        self._expect("BY")
        items = [self._order_item(aggregates=aggregates)]
        while self._accept_kind(TokenKind.COMMA):
            items.append(self._order_item(aggregates=aggregates))
        return tuple(items)

    def _order_item(self, *, aggregates: bool) -> OrderItem:
        expr = self._operand(aggregates=aggregates, clause="ORDER BY")
        descending = self._accept("DESC") is not None
        if not descending:
            self._accept("ASC")
        nulls_last = False
        if self._accept("NULLS"):
            nulls_last = self._accept("LAST") is not None
            if not nulls_last:
                self._expect("FIRST")
        return OrderItem(pos=expr.pos, expr=expr, descending=descending, nulls_last=nulls_last)

    def _limit_or_offset(self, word: str) -> int | None:
        if not self._accept(word):
            return None
        number = self._peek()
        value = self._integer(word)
        if word == "OFFSET" and value > MAX_OFFSET:
            raise self._error(
                f"Maximum SOQL offset allowed is {MAX_OFFSET}",
                number,
                ErrorKind.NUMBER_OUTSIDE_VALID_RANGE,
            )
        return value

    def _integer(self, what: str) -> int:
        """A non-negative 32-bit integer written as plain digits."""
        token = self._peek()
        if token.kind is not TokenKind.NUMBER or not all(c in _DIGITS for c in token.text):
            raise self._error(f"{what} must be a non-negative integer", token)
        self._advance()
        # Bound the length first: int() refuses strings of more than 4,300 digits.
        significant = token.text.lstrip("0")
        if len(significant) > len(str(MAX_INTEGER)) or int(significant or "0") > MAX_INTEGER:
            raise self._error(
                f"{what} must be at most {MAX_INTEGER}", token, ErrorKind.NUMBER_OUTSIDE_VALID_RANGE
            )
        return int(significant or "0")

    def _for_options(self) -> tuple[ForOption, ...]:
        if not self._accept("FOR"):
            return ()
        options = [self._for_option()]
        while self._accept_kind(TokenKind.COMMA):
            options.append(self._for_option())
        return tuple(options)

    def _for_option(self) -> ForOption:
        token = self._peek()
        option = _FOR_OPTIONS.get(token.value)
        if token.kind is not TokenKind.NAME or option is None:
            raise self._unexpected(token, "expected VIEW, REFERENCE or UPDATE")
        self._advance()
        return option

    # --- conditions --------------------------------------------------------------------------

    def _condition(self, clause: _Clause) -> Condition:
        first = self._unary(clause)
        joiner = self._peek()
        if not (self._at("AND") or self._at("OR")):
            return first
        operands = [first]
        while self._accept(joiner.value):
            operands.append(self._unary(clause))
        if self._at("AND") or self._at("OR"):
            # SOQL gives AND and OR no relative precedence, so `a AND b OR c` is an error.
            raise self._error(
                f"unexpected token: {self._peek().text} "
                "(AND and OR cannot be mixed without parentheses)",
                self._peek(),
            )
        node = And if joiner.value == "AND" else Or
        return node(pos=first.pos, operands=tuple(operands))

    def _unary(self, clause: _Clause) -> Condition:
        token = self._accept("NOT")
        if token is None:
            return self._primary(clause)
        return Not(pos=self._pos(token), operand=self._primary(clause))

    def _primary(self, clause: _Clause) -> Condition:
        token = self._peek()
        if token.kind is not TokenKind.LPAREN:
            return self._simple(clause)
        self._enter(token)
        self._advance()
        condition = self._condition(clause)
        self.expect_kind(TokenKind.RPAREN)
        self._leave()
        return condition

    def _simple(self, clause: _Clause) -> Condition:
        left = self._operand(aggregates=clause.aggregates, clause=clause.name)
        token = self._peek()
        if token.kind is TokenKind.OPERATOR:
            self._advance()
            return Comparison(
                pos=left.pos, left=left, operator=_OPERATORS[token.text], value=self._value()
            )
        if self._accept("LIKE"):
            pattern = self._peek()
            if pattern.kind is not TokenKind.STRING:
                raise self._unexpected(pattern, "LIKE needs a quoted string")
            self._advance()
            return Like(pos=left.pos, left=left, pattern=self._lexer.like_pattern(pattern))
        if self._accept("IN"):
            return self._in(left, negated=False, clause=clause)
        if self._at("NOT") and self._at("IN", 1):
            self._advance()
            self._advance()
            return self._in(left, negated=True, clause=clause)
        if self._at("INCLUDES") or self._at("EXCLUDES"):
            if not isinstance(left, FieldPath):
                raise self._error(f"{token.text} needs a field on its left", token)
            self._advance()
            return Includes(
                pos=left.pos,
                left=left,
                excludes=token.value == "EXCLUDES",
                values=self._string_list(),
            )
        raise self._unexpected(token)

    def _in(self, left: Operand, *, negated: bool, clause: _Clause) -> InValues | InSubquery:
        self.expect_kind(TokenKind.LPAREN)
        select = self._peek()
        if self._at("SELECT"):
            if not clause.semi_joins:
                raise self._error(f"a semi-join subquery is not allowed in {clause.name}", select)
            if not isinstance(left, FieldPath):
                raise self._error("a semi-join needs a field on its left", select)
            query = self.query(_Context.SEMI_JOIN)
            self.expect_kind(TokenKind.RPAREN)
            return InSubquery(pos=left.pos, left=left, negated=negated, query=query)
        values = [self._value()]
        while self._accept_kind(TokenKind.COMMA):
            values.append(self._value())
        self.expect_kind(TokenKind.RPAREN)
        return InValues(pos=left.pos, left=left, negated=negated, values=tuple(values))

    def _string_list(self) -> tuple[StringValue, ...]:
        self.expect_kind(TokenKind.LPAREN)
        values = [self._string()]
        while self._accept_kind(TokenKind.COMMA):
            values.append(self._string())
        self.expect_kind(TokenKind.RPAREN)
        return tuple(values)

    def _string(self) -> StringValue:
        token = self._peek()
        if token.kind is not TokenKind.STRING:
            raise self._unexpected(token, "expected a quoted string")
        self._advance()
        return StringValue(pos=self._pos(token), value=token.value)

    # --- values ------------------------------------------------------------------------------

    def _value(self) -> Value:
        token = self._peek()
        pos = self._pos(token)
        kind = token.kind
        if kind is TokenKind.STRING:
            return self._string()
        if kind is TokenKind.NUMBER:
            self._advance()
            return NumberValue(pos=pos, value=Decimal(token.text))
        if kind is TokenKind.DATE:
            self._advance()
            return DateValue(pos=pos, value=self._date(token))
        if kind is TokenKind.DATETIME:
            self._advance()
            return DateTimeValue(pos=pos, value=self._datetime(token))
        if kind is TokenKind.COLON and self._peek(1).kind is TokenKind.NAME:
            raise self._error(
                f"bind variables (:{self._peek(1).text}) are only supported in Apex", token
            )
        if kind is TokenKind.NAME:
            if token.value in ("TRUE", "FALSE"):
                self._advance()
                return BooleanValue(pos=pos, value=token.value == "TRUE")
            if token.value == "NULL":
                self._advance()
                return NullValue(pos=pos)
            literal = _DATE_LITERALS.get(token.value)
            if literal is not None:
                self._advance()
                return self._date_literal(token, literal)
        raise self._unexpected(token)

    def _date_literal(self, name: Token, kind: DateLiteralKind) -> DateLiteral:
        pos = self._pos(name)
        if not kind.takes_n:
            return DateLiteral(pos=pos, kind=kind)
        colon = self._peek()
        if colon.kind is not TokenKind.COLON or colon.start != name.end:
            raise self._error(f"{name.text} needs a number, as in {name.text}:7", colon)
        self._advance()
        number = self._peek()
        if number.start != colon.end:
            raise self._error(f"{name.text}:n needs the number right after the colon", number)
        return DateLiteral(pos=pos, kind=kind, n=self._integer(f"{name.text}:n"))

    def _date(self, token: Token) -> date:
        text = token.text  # the lexer guarantees the shape YYYY-MM-DD
        try:
            return date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
        except ValueError:
            raise self._error(f"invalid date: {text}", token) from None

    def _datetime(self, token: Token) -> datetime:
        """`YYYY-MM-DDThh:mm:ss[.f+](Z|±hh:mm|±hhmm)` (shape checked by the lexer) as UTC.
        Fractions beyond microseconds are dropped."""
        text = token.text
        i = 19
        microsecond = 0
        if text[i] == ".":
            j = i + 1
            while text[j] in _DIGITS:
                j += 1
            microsecond = int(text[i + 1 : j][:6].ljust(6, "0"))
            i = j
        offset_minutes = 0
        if text[i] != "Z":
            hours, minutes = int(text[i + 1 : i + 3]), int(text[-2:])
            if minutes > 59:
                raise self._error(f"invalid time zone offset in {text}", token)
            offset_minutes = (hours * 60 + minutes) * (1 if text[i] == "+" else -1)
        try:
            written = datetime(
                int(text[0:4]),
                int(text[5:7]),
                int(text[8:10]),
                int(text[11:13]),
                int(text[14:16]),
                int(text[17:19]),
                microsecond,
                tzinfo=timezone(timedelta(minutes=offset_minutes)),
            )
            return written.astimezone(UTC)
        except (ValueError, OverflowError):
            # Out-of-range fields, an offset of 24h or more, or a UTC instant outside years 1-9999.
            raise self._error(f"invalid datetime: {text}", token) from None
