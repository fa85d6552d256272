"""Domain and email normalisation: literal cases and properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearth.matching import (
    company_domain_for_email,
    email_domain,
    is_free_mail_domain,
    normalize_domain,
    normalize_email,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acme.com", "acme.com"),
        ("http://www.acme.com", "acme.com"),
        ("https://acme.co.uk/x", "acme.co.uk"),
        ("shop.acme.co.uk", "acme.co.uk"),
        ("https://www2.acme.com/", "acme.com"),
        ("http://https://www.Acme.com/a", "acme.com"),
        ("https:acme.com", "acme.com"),
        ("//acme.com/path", "acme.com"),
        ("HTTPS://ACME.COM:8443", "acme.com"),
        ("acme.com.", "acme.com"),
        ("  acme.com\t", "acme.com"),
        ("https://user:secret@acme.com/", "acme.com"),
        ("acme.com?utm_source=x", "acme.com"),
        ("acme.com#top", "acme.com"),
        ("acme.com, acme.de", "acme.com"),
        ("acme.com (main site)", "acme.com"),
        ("Bücher.DE", "xn--bcher-kva.de"),
        ("https://www.xn--bcher-kva.de/", "xn--bcher-kva.de"),
        ("faß.de", "xn--fa-hia.de"),
        ("acme.github.io", "acme.github.io"),
        ("github.io", "github.io"),
        ("s3.amazonaws.com", "amazonaws.com"),
        ("shop.myshopify.com", "shop.myshopify.com"),
        ("https://www.myshopify.com", "myshopify.com"),
        ("www2.github.io", "github.io"),
        ("a.b.c.example.com.au", "example.com.au"),
    ],
)
def test_normalize_domain(value: str, expected: str) -> None:
    assert normalize_domain(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "n/a",
        "Acme Corp",
        "localhost",
        "http://localhost:8080",
        "10.0.0.1",
        "http://192.168.1.1/admin",
        "[::1]:443",
        "2001:db8::1",
        "co.uk",
        "com",
        "acme.local",
        "john.smith",
        "a..com",
        "-acme.com",
        "acme.com:http",
        "xn--zz.com",
        "http://",
        "acme_corp.com",
    ],
)
def test_normalize_domain_rejects(value: str | None) -> None:
    assert normalize_domain(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" J.Doe+news@Acme.COM ", "j.doe+news@acme.com"),
        ("ann@mail.acme.co.uk", "ann@mail.acme.co.uk"),
        ("ann@gmail.com", "ann@gmail.com"),
    ],
)
def test_normalize_email_keeps_the_address_apart_from_case_and_whitespace(
    value: str, expected: str
) -> None:
    assert normalize_email(value) == expected


@pytest.mark.parametrize(
    "value", [None, "", "ann", "@acme.com", "ann@", "ann@localhost", "a b@acme.com", "a@10.0.0.1"]
)
def test_normalize_email_rejects(value: str | None) -> None:
    assert normalize_email(value) is None


def test_email_domain_is_the_whole_host() -> None:
    assert email_domain("Ann@Mail.Acme.co.uk") == "mail.acme.co.uk"
    assert email_domain("ann@Bücher.de") == "xn--bcher-kva.de"
    assert email_domain("nope") is None


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("ann@eu.acme.co.uk", "acme.co.uk"),
        ("ann@acme.com", "acme.com"),
        ("ann@gmail.com", None),
        ("ann@GoogleMail.com", None),
        ("ann@outlook.com", None),
        ("ann@yahoo.co.uk", None),
        ("ann@yahoo.fr", None),
        ("ann@hey.com", None),
        ("x@privaterelay.appleid.com", None),
        ("not an email", None),
        (None, None),
    ],
)
def test_company_domain_for_email(email: str | None, expected: str | None) -> None:
    assert company_domain_for_email(email) == expected


def test_free_mail_domains() -> None:
    assert is_free_mail_domain("gmail.com")
    assert is_free_mail_domain("GMAIL.COM.")
    assert is_free_mail_domain("mail.yahoo.co.uk")
    assert not is_free_mail_domain("acme.com")
    assert not is_free_mail_domain("garbage")


_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True).filter(
    lambda label: label[2:4] != "--"  # "ab--" is reserved for encodings such as xn--
)
_SUFFIX = st.sampled_from(["com", "co.uk", "de", "io", "com.au", "org", "xn--p1ai"])
_DOMAIN = st.builds(lambda label, suffix: f"{label}.{suffix}", _LABEL, _SUFFIX)
_VARIANTS = [
    "http://www.{d}/path?q=1#f",
    "HTTPS://{D}:8443",
    "{d}.",
    " {d} ",
    "https://http://{d}",
    "user@{d}",
]
# No "sub.{d}" variant: when {d} is itself a private suffix (za.com, x0.com), "sub.{d}" is
# somebody else's registrable domain. Subdomains are covered by the literal cases above.


@given(_DOMAIN, st.sampled_from(_VARIANTS))
def test_website_variants_normalise_to_the_domain(domain: str, variant: str) -> None:
    assert normalize_domain(variant.format(d=domain, D=domain.upper())) == domain


@given(st.text())
def test_normalize_domain_never_raises_and_is_idempotent(text: str) -> None:
    once = normalize_domain(text)
    assert normalize_domain(once) == once


@given(st.from_regex(r"[ -~]{0,10}(https?://)?[a-zA-Z0-9.\-:@\[\]/]{0,30}", fullmatch=True))
def test_normalize_domain_is_idempotent_on_url_like_text(text: str) -> None:
    once = normalize_domain(text)
    assert normalize_domain(once) == once


@given(st.text())
def test_email_functions_never_raise_and_normalize_email_is_idempotent(text: str) -> None:
    once = normalize_email(text)
    assert normalize_email(once) == once
    email_domain(text)
    company_domain_for_email(text)
