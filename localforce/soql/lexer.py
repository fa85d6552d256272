r"""Turns SOQL text into tokens, one at a time, by scanning characters.

Tokens are produced on demand so that the first problem in the text is the one reported, whether
it is a bad character (seen here) or a misplaced word (seen by the parser).

The lexer recognises shapes only; meaning is the parser's: a date token is `dddd-dd-dd` here and
becomes a checked `date` there. String literals are the exception: they are decoded here, because
finding the closing quote already means walking the escapes.

String escapes follow Salesforce's table (`\n \r \t \b \f` in either case, `\" \' \\`,
`\uXXXX`, and the LIKE-only `\% \_`). `\b` decodes to U+0008 (backspace): the English table says
"bell" but the Japanese one says backspace, and simple-salesforce's escaper maps U+0008 to `\b`,
so backspace is what keeps escaping and parsing inverse to each other.
"""

from __future__ import annotations

import bisect
import enum
import string
from dataclasses import dataclass

from localforce.soql.ast import Position
from localforce.soql.errors import SoqlSyntaxError

__all__ = ["MAX_STRING_LENGTH", "Lexer", "Token", "TokenKind"]

MAX_STRING_LENGTH = 4000  # per string literal, Salesforce's documented limit

_LETTERS = frozenset(string.ascii_letters)
_DIGITS = frozenset(string.digits)
_HEX_DIGITS = frozenset(string.hexdigits)
_NAME_CHARS = _LETTERS | _DIGITS | {"_"}
_WHITESPACE = frozenset(" \t\r\n\f")
_PUNCTUATION = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA", ":": "COLON"}

_ESCAPES = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


class TokenKind(enum.Enum):
    NAME = "NAME"  # keyword, identifier or dotted path: `SELECT`, `Account.Name`
    STRING = "STRING"
    NUMBER = "NUMBER"  # `42`, `-1.5`
    DATE = "DATE"  # `2024-01-31`
    DATETIME = "DATETIME"  # `2024-01-31T10:00:00Z`, `...00.000+02:00`, `...00-0500`
    OPERATOR = "OPERATOR"  # = != <> < <= > >=
    LPAREN = "LPAREN"
    RPAREN = "RPAREN"
    COMMA = "COMMA"
    COLON = "COLON"
    EOF = "EOF"


@dataclass(frozen=True, slots=True)
class Token:
    """`text` is the source slice. `value` is the upper-cased text for NAME (keywords are
    case-insensitive), the decoded contents for STRING, and `text` otherwise."""

    kind: TokenKind
    start: int
    end: int
    text: str
    value: str

    @property
    def display(self) -> str:
        """How an error message names this token."""
        return "<EOF>" if self.kind is TokenKind.EOF else self.text


class Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self._pos = 0
        # Offsets where rows start, so any offset maps to (row, column) by bisection.
        self._row_starts = [0]
        newline = text.find("\n")
        while newline >= 0:
            self._row_starts.append(newline + 1)
            newline = text.find("\n", newline + 1)

    def position(self, offset: int) -> Position:
        row = bisect.bisect_right(self._row_starts, offset)
        return Position(offset=offset, row=row, column=offset - self._row_starts[row - 1] + 1)

    def error(self, message: str, offset: int) -> SoqlSyntaxError:
        return SoqlSyntaxError(message, self.position(offset), query=self.text)

    def next_token(self) -> Token:
        text = self.text
        size = len(text)
        i = self._pos
        while i < size and text[i] in _WHITESPACE:
            i += 1
        if i == size:
            self._pos = i
            return Token(TokenKind.EOF, i, i, "", "")
        char = text[i]
        nxt = text[i + 1] if i + 1 < size else ""
        if char in _LETTERS:
            token = self._name(i)
        elif char in _DIGITS or (char in "+-" and nxt in _DIGITS):
            token = self._number_or_date(i)
        elif char == "'":
            token = self._string(i)
        elif char in _PUNCTUATION:
            token = self._simple(TokenKind(_PUNCTUATION[char]), i, i + 1)
        elif char in "<>=" or (char == "!" and nxt == "="):
            width = 2 if char + nxt in ("<=", ">=", "<>", "!=") else 1
            token = self._simple(TokenKind.OPERATOR, i, i + width)
        else:
            raise self.error(f"unexpected character: {char}", i)
        self._pos = token.end
        return token

    def _simple(self, kind: TokenKind, start: int, end: int) -> Token:
        text = self.text[start:end]
        return Token(kind, start, end, text, text)

    def _name(self, start: int) -> Token:
        text = self.text
        size = len(text)
        i = start
        while True:
            while i < size and text[i] in _NAME_CHARS:
                i += 1
            if i < size and text[i] == ".":
                # A dot joins path segments, and every segment starts with a letter.
                if i + 1 >= size or text[i + 1] not in _LETTERS:
                    raise self.error("a field path segment must start with a letter", i + 1)
                i += 1
                continue
            break
        raw = text[start:i]
        return Token(TokenKind.NAME, start, i, raw, raw.upper())

    def _digits_at(self, i: int, count: int) -> bool:
        return i + count <= len(self.text) and all(
            self.text[j] in _DIGITS for j in range(i, i + count)
        )

    def _number_or_date(self, start: int) -> Token:
        text = self.text
        size = len(text)
        i = start + 1 if text[start] in "+-" else start
        digits_start = i
        while i < size and text[i] in _DIGITS:
            i += 1
        kind = TokenKind.NUMBER
        unsigned_year = digits_start == start and i - start == 4
        if unsigned_year and i < size and text[i] == "-":
            i = self._date_rest(start)
            kind = TokenKind.DATE
            if i < size and text[i] == "T":
                i = self._time_rest(i + 1)
                kind = TokenKind.DATETIME
        elif i < size and text[i] == "." and i + 1 < size and text[i + 1] in _DIGITS:
            i += 1
            while i < size and text[i] in _DIGITS:
                i += 1
        if i < size and (text[i] in _NAME_CHARS or text[i] == "."):
            raise self.error(f"unexpected character: {text[i]}", i)
        raw = text[start:i]
        return Token(kind, start, i, raw, raw)

    def _expect_digits(self, i: int, count: int, what: str) -> int:
        if not self._digits_at(i, count):
            raise self.error(f"malformed {what}", i)
        return i + count

    def _expect_char(self, i: int, char: str, what: str) -> int:
        if i >= len(self.text) or self.text[i] != char:
            raise self.error(f"malformed {what}: expected '{char}'", i)
        return i + 1

    def _date_rest(self, start: int) -> int:
        """Scans `-MM-DD` after the year of `YYYY-MM-DD`; returns the end offset."""
        i = self._expect_char(start + 4, "-", "date")
        i = self._expect_digits(i, 2, "date")
        i = self._expect_char(i, "-", "date")
        return self._expect_digits(i, 2, "date")

    def _time_rest(self, i: int) -> int:
        """Scans `hh:mm:ss[.f+](Z|±hh:mm|±hhmm)` after the `T`; returns the end offset."""
        text = self.text
        size = len(text)
        what = "datetime"
        i = self._expect_digits(i, 2, what)
        i = self._expect_char(i, ":", what)
        i = self._expect_digits(i, 2, what)
        i = self._expect_char(i, ":", what)
        i = self._expect_digits(i, 2, what)
        if i < size and text[i] == ".":
            i = self._expect_digits(i + 1, 1, what)
            while i < size and text[i] in _DIGITS:
                i += 1
        if i < size and text[i] == "Z":
            return i + 1
        if i >= size or text[i] not in "+-":
            raise self.error("malformed datetime: expected a time zone (Z, +hh:mm or -hhmm)", i)
        i = self._expect_digits(i + 1, 2, what)
        if i < size and text[i] == ":":
            i += 1
        return self._expect_digits(i, 2, what)

    def _string(self, start: int) -> Token:
        text = self.text
        i = start + 1
        quote = text.find("'", i)
        while True:
            if quote < 0:
                raise self.error("unterminated string literal", start)
            backslash = text.find("\\", i, quote)
            if backslash < 0:
                break
            i = backslash + 2
            if i > quote:  # the backslash escaped this quote; look for the next one
                quote = text.find("'", i)
        value = self._decode(start + 1, quote, like=False)
        if len(value) > MAX_STRING_LENGTH:
            raise self.error(f"string literal is longer than {MAX_STRING_LENGTH} characters", start)
        return Token(TokenKind.STRING, start, quote + 1, text[start : quote + 1], value)

    def like_pattern(self, token: Token) -> str:
        r"""The contents of a STRING token as a LIKE pattern with `\` as its escape character."""
        return self._decode(token.start + 1, token.end - 1, like=True)

    def _decode(self, start: int, end: int, *, like: bool) -> str:
        r"""Decodes the escapes between a string's quotes.

        With `like`, `\%` and `\_` stay escaped and a literal backslash becomes `\\`, so the
        result is a pattern in which only bare `%` and `_` are wildcards.
        """
        text = self.text
        backslash = text.find("\\", start, end)
        if backslash < 0:
            return text[start:end]
        out: list[str] = []
        i = start
        while backslash >= 0:
            out.append(text[i:backslash])
            code = text[backslash + 1]
            i = backslash + 2
            if code in "%_":
                out.append("\\" + code if like else code)
            else:
                if code in _ESCAPES:
                    char = _ESCAPES[code]
                elif code == "u":
                    char, i = self._unicode_escape(backslash, end)
                else:
                    raise self.error(f"invalid escape sequence: \\{code}", backslash)
                out.append("\\\\" if like and char == "\\" else char)
            backslash = text.find("\\", i, end)
        out.append(text[i:end])
        return "".join(out)

    def _hex4(self, i: int, end: int) -> int | None:
        digits = self.text[i : i + 4]
        if i + 4 > end or not all(c in _HEX_DIGITS for c in digits):
            return None
        return int(digits, 16)

    def _unicode_escape(self, backslash: int, end: int) -> tuple[str, int]:
        r"""Decodes `\uXXXX` at `backslash`, joining a UTF-16 surrogate pair written as two
        escapes (`\uD83D\uDE00`), as Java-based Salesforce does. A lone surrogate is rejected: it
        is not a character and could not be stored or sent back as UTF-8."""
        code = self._hex4(backslash + 2, end)
        if code is None:
            raise self.error("invalid unicode escape: expected \\u and four hex digits", backslash)
        i = backslash + 6
        if 0xD800 <= code <= 0xDBFF and self.text.startswith("\\u", i):
            low = self._hex4(i + 2, end)
            if low is not None and 0xDC00 <= low <= 0xDFFF:
                return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), i + 6
        if 0xD800 <= code <= 0xDFFF:
            raise self.error("invalid unicode escape: unpaired surrogate", backslash)
        return chr(code), i
