"""Which company a domain or an email address names: never a free-mail or disposable one.

Pure. Free-mail domains are `hearth.matching.domains`' (its `is_free_mail_domain` is the one
list Hearth has); this module adds disposable (throw-away) domains, from the blocklist shipped
inside the ``disposable-email-domains`` package, a snapshot of
github.com/disposable-email-domains. Nothing is fetched at run time; updating the list means
bumping the pinned version.

- `company_domain_from_email`: ``"ann@eu.acme.co.uk"`` -> ``"acme.co.uk"``;
  ``"ann@gmail.com"`` (free mail) and ``"x@mailinator.com"`` (disposable) -> None.
- `company_domain`: the same rule for a domain from anywhere else (an IP resolver's data, a
  form field): normalised with `normalize_domain`, and None for free-mail and disposable
  domains. Internet providers' mail domains (``comcast.net``, ``t-online.de``) are on the
  free-mail list, so an IP range that resolves to one names no company either.
"""

from disposable_email_domains import allowlist as _disposable_allowlist
from disposable_email_domains import blocklist as _disposable_blocklist

from hearth.matching.domains import (
    company_domain_for_email,
    email_domain,
    is_free_mail_domain,
    normalize_domain,
)

__all__ = [
    "company_domain",
    "company_domain_from_email",
    "is_disposable_email_domain",
    "is_personal_mail_domain",
]

_DISPOSABLE_DOMAINS = frozenset(_disposable_blocklist) - frozenset(_disposable_allowlist)


def is_disposable_email_domain(domain: str) -> bool:
    """True if `domain`, or a parent of it down to its registrable domain, is disposable.

    ``"mailinator.com"`` and ``"eu.mailinator.com"`` -> True; ``"acme.com"`` -> False. The
    check stops at the registrable domain, so a listed name under a shared suffix (a dynamic
    DNS host) does not condemn its neighbours.
    """
    host = email_domain(f"x@{domain}")  # lowercase ASCII host, or None if it is not one
    registrable = normalize_domain(host)
    if host is None or registrable is None:
        return False
    while True:
        if host in _DISPOSABLE_DOMAINS:
            return True
        if host == registrable or "." not in host:
            return False
        host = host.partition(".")[2]


def company_domain(value: str | None) -> str | None:
    """The registrable domain `value` names if it can be a company's, else None.

    ``"https://www.acme.co.uk/"`` -> ``"acme.co.uk"``; ``"gmail.com"``, ``"comcast.net"``,
    ``"mailinator.com"``, ``"localhost"``, ``"10.0.0.1"`` -> None.
    """
    domain = normalize_domain(value)
    if domain is None or is_free_mail_domain(domain):
        return None
    if domain in _DISPOSABLE_DOMAINS or is_disposable_email_domain(value or ""):
        return None
    return domain


def is_personal_mail_domain(domain: str) -> bool:
    """True if `domain`, a normalised registrable domain, is a free-mail or disposable one.

    For callers that have already normalised (`normalize_domain`) and want to tell "not a
    domain" from "not a company's domain"; `company_domain` does both at once, and also
    catches a listed disposable subdomain (``zouz.fr.nf``) of a registrable domain that is not
    listed.
    """
    return domain in _DISPOSABLE_DOMAINS or is_free_mail_domain(domain)


def company_domain_from_email(email: str | None) -> str | None:
    """The registrable domain of the company `email` belongs to, or None.

    None for anything that is not an address, for free-mail addresses (as
    `hearth.matching.domains.company_domain_for_email`) and for disposable addresses, including
    those at a subdomain of a disposable domain.
    """
    domain = company_domain_for_email(email)
    host = email_domain(email)
    if domain is None or host is None or is_disposable_email_domain(host):
        return None
    return domain
