"""A small formula language for rule conditions, in the spirit of Salesforce formulas. Pure.

Validation rules, duplicate-rule conditions and assignment-rule criteria are written in it.
Text goes in, a checked tree comes out; nothing is ever handed to `eval`, and the tokenizer
walks the characters by hand. Grammar (keywords and function names are case-insensitive):

    formula    := or_expr END
    or_expr    := and_expr ( "||" and_expr )*
    and_expr   := comparison ( "&&" comparison )*
    comparison := primary [ ( "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" ) primary ]
    primary    := STRING | NUMBER | "-" NUMBER | TRUE | FALSE | NULL
                | NAME "(" [ or_expr ( "," or_expr )* ] ")"       -- a function call
                | NAME                                            -- a field of the record
                | "(" or_expr ")"
    STRING     := '...' or "..." with backslash escapes \\ \' \" \n \t
    NUMBER     := digits [ "." digits ]

Functions: AND(b, ...), OR(b, ...), NOT(b), ISBLANK(x), ISNEW(), ISCHANGED(field),
PRIORVALUE(field), ISPICKVAL(field, 'text'), CONTAINS(text, 'text'), BEGINS(text, 'text'),
LEN(text).

Semantics follow Salesforce's with "blank fields as blanks": an empty text is blank, `=` holds
between two blanks and never between a blank and a value, ordering comparisons with a blank are
false, text comparison is case-sensitive. Dates and date-times compare as their ISO text.
`ISCHANGED` is false and `PRIORVALUE` is the new value when the record is being created.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from ..schema import FieldType, ObjectDef
from ..values import Stored

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "ExpressionError", "Formula", "compile_formula", "parse"]

# Salesforce caps a validation rule's formula at 3,900 characters.
MAX_LENGTH = 3900
# Parenthesis and call nesting; checking and evaluating recurse once per level.
MAX_DEPTH = 64


class ExpressionError(ValueError):
    """A formula that does not parse or does not fit the object; `position` is a 0-based offset."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at position {position})")
        self.message = message
        self.position = position


# -- syntax tree --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | float | bool | None
    pos: int


@dataclass(frozen=True, slots=True)
class FieldRef:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # upper-cased
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # one of _COMPARISONS, "==" and "<>" already folded to "=" and "!="
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Logical:
    op: str  # "AND" or "OR"
    operands: tuple[Node, ...]
    pos: int


Node = Literal | FieldRef | Call | Compare | Logical

# -- tokens -------------------------------------------------------------------------------

_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
_SPELLINGS = {"==": "=", "<>": "!="}
# Longest first, so "<=" wins over "<".
_OPERATORS = ("&&", "||", "==", "!=", "<>", "<=", ">=", "=", "<", ">", "(", ")", ",", "-")
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}


class _Kind(Enum):
    NAME = "name"
    STRING = "string"
    NUMBER = "number"
    OP = "operator"
    END = "end of formula"


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    text: str
    pos: int


def _is_name_start(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _is_name_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif _is_name_start(ch):
            start = i
            while i < len(text) and _is_name_char(text[i]):
                i += 1
            out.append(_Token(_Kind.NAME, text[start:i], start))
        elif ch.isascii() and ch.isdigit():
            start = i
            while i < len(text) and text[i].isascii() and text[i].isdigit():
                i += 1
            if text[i : i + 1] == "." and text[i + 1 : i + 2].isdigit():
                i += 1
                while i < len(text) and text[i].isascii() and text[i].isdigit():
                    i += 1
            out.append(_Token(_Kind.NUMBER, text[start:i], start))
        elif ch in "'\"":
            start = i
            value, i = _string(text, i)
            out.append(_Token(_Kind.STRING, value, start))
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None:
                raise ExpressionError(f"unexpected character {ch!r}", i)
            out.append(_Token(_Kind.OP, op, i))
            i += len(op)
    out.append(_Token(_Kind.END, "", len(text)))
    return out


def _string(text: str, start: int) -> tuple[str, int]:
    """The value of the string literal opening at `start`, and the offset just past it."""
    quote = text[start]
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == quote:
            return "".join(chars), i + 1
        if ch == "\\":
            escaped = _ESCAPES.get(text[i + 1 : i + 2])
            if escaped is None:
                raise ExpressionError("unknown escape sequence in a string", i)
            chars.append(escaped)
            i += 2
        else:
            chars.append(ch)
            i += 1
    raise ExpressionError("the string is not closed", start)


# -- parser -------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at_op(self, *ops: str) -> bool:
        return self.current.kind is _Kind.OP and self.current.text in ops

    def expect_op(self, op: str) -> _Token:
        if not self.at_op(op):
            found = _describe(self.current)
            raise ExpressionError(f"expected '{op}' but found {found}", self.current.pos)
        return self.take()

    def nest(self, pos: int) -> None:
        """Enter a parenthesis or call; refuses nesting that would exhaust Python's stack."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"the formula nests deeper than {MAX_DEPTH} levels", pos)

    def formula(self) -> Node:
        node = self.or_expr()
        if self.current.kind is not _Kind.END:
            raise ExpressionError(f"unexpected {_describe(self.current)}", self.current.pos)
        return node

    def or_expr(self) -> Node:
        return self._chain("||", "OR", self.and_expr)

    def and_expr(self) -> Node:
        return self._chain("&&", "AND", self.comparison)

    def _chain(self, symbol: str, op: str, operand: Callable[[], Node]) -> Node:
        first = operand()
        operands = [first]
        while self.at_op(symbol):
            self.take()
            operands.append(operand())
        if len(operands) == 1:
            return first
        return Logical(op, tuple(operands), first.pos)

    def comparison(self) -> Node:
        left = self.primary()
        if self.current.kind is _Kind.OP and (
            self.current.text in _COMPARISONS or self.current.text in _SPELLINGS
        ):
            op_token = self.take()
            right = self.primary()
            op = _SPELLINGS.get(op_token.text, op_token.text)
            return Compare(op, left, right, op_token.pos)
        return left

    def primary(self) -> Node:
        token = self.current
        if token.kind is _Kind.STRING:
            self.take()
            return Literal(token.text, token.pos)
        if token.kind is _Kind.NUMBER:
            self.take()
            return Literal(float(token.text), token.pos)
        if self.at_op("-"):
            self.take()
            number = self.current
            if number.kind is not _Kind.NUMBER:
                raise ExpressionError("'-' must be followed by a number", token.pos)
            self.take()
            return Literal(-float(number.text), token.pos)
        if self.at_op("("):
            self.nest(self.take().pos)
            inner = self.or_expr()
            self.expect_op(")")
            self.depth -= 1
            return inner
        if token.kind is _Kind.NAME:
            self.take()
            keyword = token.text.upper()
            if self.at_op("("):
                return self.call(keyword, token.pos)
            if keyword in ("TRUE", "FALSE"):
                return Literal(keyword == "TRUE", token.pos)
            if keyword == "NULL":
                return Literal(None, token.pos)
            return FieldRef(token.text, token.pos)
        raise ExpressionError(f"expected a value but found {_describe(token)}", token.pos)

    def call(self, name: str, pos: int) -> Node:
        self.nest(self.expect_op("(").pos)
        args: list[Node] = []
        if not self.at_op(")"):
            args.append(self.or_expr())
            while self.at_op(","):
                self.take()
                args.append(self.or_expr())
        self.expect_op(")")
        self.depth -= 1
        if name in ("AND", "OR"):
            if not args:
                raise ExpressionError(f"{name}() needs at least one argument", pos)
            return Logical(name, tuple(args), pos)
        return Call(name, tuple(args), pos)


def _describe(token: _Token) -> str:
    if token.kind is _Kind.END:
        return "the end of the formula"
    return f"{token.kind.value} '{token.text}'"


@lru_cache(maxsize=1024)
def parse(text: str) -> Node:
    """The syntax tree of a formula; raises ExpressionError with the offending position."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the formula is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    return _Parser(text).formula()


# -- checking against an object -------------------------------------------------------------


class Type(Enum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    NULL = "null"  # the NULL literal: fits any type


def _field_type(kind: FieldType) -> Type:
    if kind is FieldType.BOOLEAN:
        return Type.BOOLEAN
    if kind.is_number:
        return Type.NUMBER
    return Type.TEXT


@dataclass(frozen=True, slots=True)
class _Signature:
    params: tuple[Type | str, ...]  # "field": a field reference of any type
    result: Type | str  # "field": the type of the field argument


_FUNCTIONS: dict[str, _Signature] = {
    "NOT": _Signature((Type.BOOLEAN,), Type.BOOLEAN),
    "ISBLANK": _Signature(("any",), Type.BOOLEAN),
    "ISNEW": _Signature((), Type.BOOLEAN),
    "ISCHANGED": _Signature(("field",), Type.BOOLEAN),
    "PRIORVALUE": _Signature(("field",), "field"),
    "ISPICKVAL": _Signature(("field", Type.TEXT), Type.BOOLEAN),
    "CONTAINS": _Signature((Type.TEXT, Type.TEXT), Type.BOOLEAN),
    "BEGINS": _Signature((Type.TEXT, Type.TEXT), Type.BOOLEAN),
    "LEN": _Signature((Type.TEXT,), Type.NUMBER),
}


def _fits(actual: Type, wanted: Type) -> bool:
    return actual is wanted or actual is Type.NULL


class _Checker:
    """Resolves field names to their canonical spelling and checks every operand's type."""

    def __init__(self, obj: ObjectDef) -> None:
        self.obj = obj
        self.types: dict[str, Type] = {}

    def check(self, node: Node) -> tuple[Node, Type]:
        if isinstance(node, Literal):
            return node, _literal_type(node.value)
        if isinstance(node, FieldRef):
            definition = self.obj.field(node.name)
            if definition is None:
                raise ExpressionError(
                    f"field {node.name} does not exist on {self.obj.name}", node.pos
                )
            kind = _field_type(definition.type)
            self.types[definition.name] = kind
            return FieldRef(definition.name, node.pos), kind
        if isinstance(node, Logical):
            operands = tuple(self.expect(o, Type.BOOLEAN, node.op) for o in node.operands)
            return Logical(node.op, operands, node.pos), Type.BOOLEAN
        if isinstance(node, Compare):
            left, left_type = self.check(node.left)
            right, right_type = self.check(node.right)
            if Type.NULL not in (left_type, right_type) and left_type is not right_type:
                raise ExpressionError(
                    f"cannot compare {left_type.value} with {right_type.value} using '{node.op}'",
                    node.pos,
                )
            if node.op not in ("=", "!=") and Type.BOOLEAN in (left_type, right_type):
                raise ExpressionError(f"'{node.op}' does not apply to booleans", node.pos)
            return Compare(node.op, left, right, node.pos), Type.BOOLEAN
        return self.call(node)

    def expect(self, node: Node, wanted: Type, where: str) -> Node:
        checked, actual = self.check(node)
        if not _fits(actual, wanted):
            raise ExpressionError(
                f"{where} expects {wanted.value} but got {actual.value}", node.pos
            )
        return checked

    def call(self, node: Call) -> tuple[Node, Type]:
        signature = _FUNCTIONS.get(node.name)
        if signature is None:
            raise ExpressionError(f"unknown function {node.name}", node.pos)
        if len(node.args) != len(signature.params):
            raise ExpressionError(
                f"{node.name}() takes {len(signature.params)} argument(s), got {len(node.args)}",
                node.pos,
            )
        args: list[Node] = []
        field_type = Type.NULL
        for arg, param in zip(node.args, signature.params, strict=True):
            if param == "field":
                if not isinstance(arg, FieldRef):
                    raise ExpressionError(f"{node.name}() needs a field name", arg.pos)
                checked, field_type = self.check(arg)
                args.append(checked)
            elif param == "any":
                args.append(self.check(arg)[0])
            else:
                assert isinstance(param, Type)
                args.append(self.expect(arg, param, f"{node.name}()"))
        result = field_type if signature.result == "field" else signature.result
        assert isinstance(result, Type)
        return Call(node.name, tuple(args), node.pos), result


def _literal_type(value: str | float | bool | None) -> Type:
    if value is None:
        return Type.NULL
    if isinstance(value, bool):
        return Type.BOOLEAN
    if isinstance(value, float):
        return Type.NUMBER
    return Type.TEXT


# -- evaluation -------------------------------------------------------------------------------

Value = str | float | bool | None
_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class _Context:
    new: Mapping[str, Stored]
    old: Mapping[str, Any] | None
    types: Mapping[str, Type]

    def value(self, name: str, row: Mapping[str, Any]) -> Value:
        raw = row.get(name)
        if raw is None or raw == "":
            return None
        kind = self.types[name]
        if kind is Type.BOOLEAN:
            return bool(raw)
        if kind is Type.NUMBER:
            return float(raw)
        return str(raw)


def _blank(value: Value) -> bool:
    return value is None or value == ""


def _equal(left: Value, right: Value) -> bool:
    if _blank(left) or _blank(right):
        return _blank(left) and _blank(right)
    return left == right


def _order(op: str, left: Value, right: Value) -> bool:
    # The checker only lets equal types meet here; blanks never order.
    if _blank(left) or _blank(right):
        return False
    both_text = isinstance(left, str) and isinstance(right, str)
    both_numbers = isinstance(left, float) and isinstance(right, float)
    return (both_text or both_numbers) and bool(_ORDERINGS[op](left, right))


def _text(value: Value) -> str:
    return "" if value is None else str(value)


def _evaluate(node: Node, ctx: _Context) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, FieldRef):
        return ctx.value(node.name, ctx.new)
    if isinstance(node, Logical):
        if node.op == "AND":
            return all(_evaluate(o, ctx) for o in node.operands)
        return any(_evaluate(o, ctx) for o in node.operands)
    if isinstance(node, Compare):
        left, right = _evaluate(node.left, ctx), _evaluate(node.right, ctx)
        if node.op == "=":
            return _equal(left, right)
        if node.op == "!=":
            return not _equal(left, right)
        return _order(node.op, left, right)
    return _call(node, ctx)


def _field_name(node: Node) -> str:
    assert isinstance(node, FieldRef)  # guaranteed by the checker
    return node.name


def _call(node: Call, ctx: _Context) -> Value:
    name, args = node.name, node.args
    if name == "ISNEW":
        return ctx.old is None
    if name in ("ISCHANGED", "PRIORVALUE"):
        field = _field_name(args[0])
        current = ctx.value(field, ctx.new)
        prior = current if ctx.old is None else ctx.value(field, ctx.old)
        return prior if name == "PRIORVALUE" else not _equal(prior, current)
    values = [_evaluate(a, ctx) for a in args]
    if name == "NOT":
        return not values[0]
    if name == "ISBLANK":
        return _blank(values[0])
    if name == "ISPICKVAL":
        return _equal(values[0], values[1])
    if name == "CONTAINS":
        return _text(values[1]) in _text(values[0])
    if name == "BEGINS":
        return _text(values[0]).startswith(_text(values[1]))
    assert name == "LEN"
    return float(len(_text(values[0])))


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula checked against one object; `evaluate` tells whether it holds for a save."""

    text: str
    object_name: str
    root: Node
    types: Mapping[str, Type]

    def evaluate(self, new: Mapping[str, Stored], old: Mapping[str, Any] | None) -> bool:
        return bool(_evaluate(self.root, _Context(new, old, self.types)))


def compile_formula(text: str, obj: ObjectDef) -> Formula:
    """Parse `text` and check it against `obj`: known fields, fitting types, a boolean result."""
    if not text.strip():
        raise ExpressionError("the formula is empty", 0)
    checker = _Checker(obj)
    tree = parse(text)
    root, kind = checker.check(tree)
    if not _fits(kind, Type.BOOLEAN):
        raise ExpressionError(f"the formula must be true or false, not {kind.value}", tree.pos)
    return Formula(text=text, object_name=obj.name, root=root, types=dict(checker.types))
