"""Salesforce record IDs: key prefixes, the 18-character checksum, and validation.

A 15-character ID is case-sensitive. The 18-character form appends three characters that encode,
for each 5-character chunk, which positions are upper-case letters; that makes the long form safe
to compare case-insensitively, and lets us restore the canonical casing from any casing of it.
"""

from __future__ import annotations

__all__ = ["BASE62", "InvalidId", "make_id", "normalize_id", "to18"]

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# Digits in ASCII order, so that IDs generated from a counter sort like the counter.
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE62_SET = frozenset(BASE62)
_COUNTER_WIDTH = 9


class InvalidId(ValueError):
    """The text is not a well-formed Salesforce ID."""


def _suffix(id15: str) -> str:
    out = []
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX_ALPHABET[bits])
    return "".join(out)


def to18(id15: str) -> str:
    """The 18-character form of a 15-character ID."""
    if len(id15) != 15 or not set(id15) <= _BASE62_SET:
        raise InvalidId(id15)
    return id15 + _suffix(id15)


def normalize_id(text: str) -> str:
    """Canonical 18-character ID from a 15-character ID or an 18-character ID in any casing.

    Raises InvalidId when the text cannot be an ID (wrong length, characters or checksum).
    """
    if len(text) == 15:
        return to18(text)
    if len(text) != 18 or not set(text) <= _BASE62_SET:
        raise InvalidId(text)
    suffix = text[15:].upper()
    chars = []
    for chunk in range(3):
        pos = _SUFFIX_ALPHABET.find(suffix[chunk])
        if pos < 0:
            raise InvalidId(text)
        for i, ch in enumerate(text[chunk * 5 : chunk * 5 + 5]):
            upper = bool(pos & (1 << i))
            if upper and not ch.isalpha():
                raise InvalidId(text)
            chars.append(ch.upper() if upper else ch.lower())
    return to18("".join(chars))


def make_id(key_prefix: str, pod: str, counter: int) -> str:
    """The 18-character ID of the `counter`-th record of an object.

    Layout: 3-character key prefix, 2-character pod, a reserved "0", then the counter in base 62
    over 9 characters; IDs of one object therefore sort in creation order.
    """
    if counter < 0 or counter >= 62**_COUNTER_WIDTH:
        raise ValueError(f"record counter out of range: {counter}")
    digits = []
    for _ in range(_COUNTER_WIDTH):
        counter, rem = divmod(counter, 62)
        digits.append(BASE62[rem])
    return to18(key_prefix + pod + "0" + "".join(reversed(digits)))
