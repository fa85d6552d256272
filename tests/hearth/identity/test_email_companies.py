"""Company domains from email addresses and domains: never free mail, never disposable."""

import pytest

from hearth.identity import (
    company_domain,
    company_domain_from_email,
    is_disposable_email_domain,
    is_personal_mail_domain,
)
from hearth.matching import company_domain_for_email


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("ann@acme.com", "acme.com"),
        ("Ann.Lee+x@EU.Acme.co.uk ", "acme.co.uk"),
        ("ann@bücher.de", "xn--bcher-kva.de"),
        ("ann@gmail.com", None),  # free mail
        ("ann@outlook.com", None),
        ("ann@comcast.net", None),  # an Internet provider's mail
        ("x@guerrillamail.com", None),  # disposable
        ("x@10minutemail.com", None),
        ("x@sharklasers.com", None),
        ("x@mailinator.com", None),  # on both lists
        ("x@eu.trashmail.com", None),  # a subdomain of a disposable domain
        ("x@zouz.fr.nf", None),  # a listed subdomain under a domain that is not listed
        ("x@other.fr.nf", "fr.nf"),
        ("not an address", None),
        ("ann@localhost", None),
        ("ann@10.0.0.1", None),
        ("", None),
        (None, None),
    ],
)
def test_company_domain_from_email(email: str | None, expected: str | None) -> None:
    assert company_domain_from_email(email) == expected


@pytest.mark.parametrize(
    "email", ["ann@acme.com", "ann@gmail.com", "ann@yahoo.co.uk", "bob@sub.acme.io", "x"]
)
def test_free_mail_has_one_source_of_truth(email: str) -> None:
    # For addresses that are not disposable, the answer is exactly hearth.matching's.
    assert company_domain_from_email(email) == company_domain_for_email(email)


@pytest.mark.parametrize(
    ("domain", "disposable"),
    [
        ("guerrillamail.com", True),
        ("GuerrillaMail.com", True),
        ("eu.guerrillamail.com", True),
        ("zouz.fr.nf", True),
        ("fr.nf", False),
        ("acme.com", False),
        ("gmail.com", False),  # free mail, not disposable
        ("", False),
        ("not a domain", False),
    ],
)
def test_is_disposable_email_domain(domain: str, disposable: bool) -> None:
    assert is_disposable_email_domain(domain) is disposable


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.acme.co.uk/about", "acme.co.uk"),
        ("Acme.com", "acme.com"),
        ("gmail.com", None),
        ("comcast.net", None),
        ("t-online.de", None),
        ("guerrillamail.com", None),
        ("zouz.fr.nf", None),
        ("localhost", None),
        ("10.0.0.1", None),
        ("n/a", None),
        (None, None),
    ],
)
def test_company_domain(value: str | None, expected: str | None) -> None:
    assert company_domain(value) == expected


def test_is_personal_mail_domain_takes_normalised_domains() -> None:
    assert is_personal_mail_domain("gmail.com")
    assert is_personal_mail_domain("guerrillamail.com")
    assert not is_personal_mail_domain("acme.com")
