r"""Escaping text for SOQL string literals, the inverse of the lexer's decoding.

Mirrors simple-salesforce's `format.py` tables so the client and the emulator agree:

    escape_literal("Bob's \\ BBQ")  -> "Bob\\'s \\\\ BBQ"     (put it between quotes yourself)
    escape_like("50%_off")          -> "50\\%\\_off"           (for LIKE; wildcards added by you)

Identifiers cannot be escaped; validate them instead.
"""

from __future__ import annotations

__all__ = ["escape_like", "escape_literal"]

_LITERAL_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "'": "\\'",
        '"': '\\"',
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\b": "\\b",
        "\f": "\\f",
    }
)
_LIKE_ESCAPES = str.maketrans({"%": "\\%", "_": "\\_"})


def escape_literal(value: str) -> str:
    """The text to put between single quotes so SOQL reads back exactly `value`."""
    return value.translate(_LITERAL_ESCAPES)


def escape_like(value: str) -> str:
    """As `escape_literal`, and `%` / `_` made literal, for a LIKE pattern matching `value`."""
    return escape_literal(value).translate(_LIKE_ESCAPES)
