"""Parsing, the public test and truncation of visitors' IP addresses."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearth.identity import (
    IPV4_STORED_PREFIX,
    IPV6_STORED_PREFIX,
    IPAddress,
    ip_for_storage,
    is_public,
    parse_ip,
    truncate_ip,
)

ip = ipaddress.ip_address

# Random addresses rarely fall in the special ranges, so draw from those as well.
_SPECIAL_NETWORKS = [
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "192.168.0.0/16",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::ffff:0:0/96",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
    "2001:db8::/32",
]
any_ip = st.one_of(
    st.ip_addresses(v=4),
    st.ip_addresses(v=6),
    st.sampled_from(_SPECIAL_NETWORKS).flatmap(lambda net: st.ip_addresses(network=net)),
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("  8.8.8.8\t", "8.8.8.8"),
        ("8.8.8.8:51234", "8.8.8.8"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ('"[2001:db8::1]:4711"', "2001:db8::1"),
        ("::ffff:8.8.8.8", "8.8.8.8"),
        ("[::ffff:8.8.8.8]:80", "8.8.8.8"),
        ("fe80::1%eth0", "fe80::1"),
        ("::1", "::1"),
    ],
)
def test_parse_ip_reads_one_address(value: str, expected: str) -> None:
    assert parse_ip(value) == ip(expected)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "unknown",
        "8.8.8",
        "8.8.8.256",
        "08.8.8.8",
        "8.8.8.8, 10.0.0.1",
        "8.8.8.8:",
        "8.8.8.8:99999",
        "8.8.8.8:http",
        "[2001:db8::1",
        "[2001:db8::1]443",
        "[2001:db8::1]:x",
        "2001:db8::1::2",
        "acme.com",
        "1" * 200,
    ],
)
def test_parse_ip_refuses_anything_else(value: str | None) -> None:
    assert parse_ip(value) is None


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("140.82.112.3", True),
        ("2001:4860:4860::8888", True),
        ("10.1.2.3", False),  # private
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),  # loopback
        ("169.254.10.1", False),  # link-local
        ("100.64.0.1", False),  # carrier-grade NAT
        ("100.127.255.254", False),
        ("0.0.0.0", False),  # unspecified
        ("224.0.0.251", False),  # multicast
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("192.0.2.1", False),  # documentation
        ("198.51.100.1", False),
        ("203.0.113.1", False),
        ("198.18.0.1", False),  # benchmarking
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),  # unique local
        ("fec0::1", False),  # site-local
        ("ff02::1", False),  # multicast
        ("2001:db8::1", False),  # documentation
        ("::ffff:10.0.0.1", False),  # IPv4-mapped: judged as IPv4
        ("::ffff:8.8.8.8", True),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(ip(address)) is public


@pytest.mark.parametrize(
    ("address", "truncated"),
    [
        ("203.0.113.7", "203.0.113.0"),
        ("8.8.8.255", "8.8.8.0"),
        ("8.8.8.0", "8.8.8.0"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::"),
        ("2001:db8:1::", "2001:db8:1::"),
        ("::ffff:8.8.4.4", "8.8.4.0"),
    ],
)
def test_truncate_ip_keeps_the_24_or_48(address: str, truncated: str) -> None:
    assert truncate_ip(ip(address)) == ip(truncated)


def test_ip_for_storage_truncates_unless_the_workspace_opted_in() -> None:
    assert ip_for_storage(ip("203.0.113.7")) == "203.0.113.0"
    assert ip_for_storage(ip("2001:db8:1:2::7")) == "2001:db8:1::"
    assert ip_for_storage(ip("203.0.113.7"), keep_full_ip=True) == "203.0.113.7"
    assert ip_for_storage(ip("2001:db8:1:2::7"), keep_full_ip=True) == "2001:db8:1:2::7"


@given(any_ip)
def test_truncate_is_idempotent_and_stays_in_the_network(address: IPAddress) -> None:
    truncated = truncate_ip(address)
    assert truncate_ip(truncated) == truncated
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV4_STORED_PREFIX if address.version == 4 else IPV6_STORED_PREFIX
    network = ipaddress.ip_network((truncated, prefix))  # strict: host bits are zero
    assert address in network


@given(any_ip)
def test_is_public_agrees_with_ipaddress(address: IPAddress) -> None:
    judged = address
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        judged = address.ipv4_mapped
    special = (
        judged.is_private
        or judged.is_loopback
        or judged.is_link_local
        or judged.is_multicast
        or judged.is_unspecified
        or judged.is_reserved
        or judged in ipaddress.ip_network("100.64.0.0/10")
    )
    if is_public(address):
        assert judged.is_global and not special
    site_local = isinstance(judged, ipaddress.IPv6Address) and judged.is_site_local
    if judged.is_global and not special and not site_local:
        assert is_public(address)


@given(any_ip, st.integers(min_value=0, max_value=65535))
def test_parse_ip_reads_what_str_writes(address: IPAddress, port: int) -> None:
    expected = address
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        expected = address.ipv4_mapped
    assert parse_ip(str(address)) == expected
    with_port = f"{address}:{port}" if address.version == 4 else f"[{address}]:{port}"
    assert parse_ip(with_port) == expected
