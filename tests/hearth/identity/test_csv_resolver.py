"""CsvRangeResolver: both file forms, nesting, bad rows, a large file, and a brute-force oracle."""

import ipaddress
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth.identity import CsvRangeResolver, ResolvedCompany, ResolverDataError
from hearth.identity.ip_addresses import IPAddress


def ip(text: str) -> IPAddress:
    return ipaddress.ip_address(text)


def write(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def found(resolver: CsvRangeResolver, address: str) -> tuple[str, str | None, str] | None:
    """(domain, name, network) of the answer for `address`, or None."""
    company = resolver.resolve(ip(address))
    if company is None:
        return None
    assert company.source == "csv"
    return company.domain, company.name, str(company.network)


def test_network_form(tmp_path: Path) -> None:
    path = write(
        tmp_path / "networks.csv",
        "network,domain,name\n"
        "8.8.8.0/24,google.com,Google LLC\n"
        '140.82.112.0/20,https://www.GitHub.com/,"GitHub, Inc."\n'
        "1.1.1.1,cloudflare.com,\n"
        "2001:4860::/32,google.com,Google LLC\n",
    )
    resolver = CsvRangeResolver(path)
    assert resolver.rows == 4
    assert resolver.resolve(ip("8.8.8.8")) == ResolvedCompany(
        domain="google.com",
        name="Google LLC",
        source="csv",
        network=ipaddress.ip_network("8.8.8.0/24"),
    )
    assert found(resolver, "140.82.121.4") == ("github.com", "GitHub, Inc.", "140.82.112.0/20")
    assert found(resolver, "1.1.1.1") == ("cloudflare.com", None, "1.1.1.1/32")
    assert found(resolver, "1.1.1.2") is None
    assert found(resolver, "2001:4860:4860::8888") == (
        "google.com",
        "Google LLC",
        "2001:4860::/32",
    )
    assert found(resolver, "2001:4861::1") is None
    assert found(resolver, "::ffff:8.8.8.8") == ("google.com", "Google LLC", "8.8.8.0/24")


def test_range_form(tmp_path: Path) -> None:
    path = write(
        tmp_path / "ranges.csv",
        "start,end,domain\n"
        "8.8.8.0,8.8.8.255,google.com\n"
        "9.9.9.1,9.9.9.10,quad9.net\n"
        "2a00:1450::,2a00:1450:ffff:ffff:ffff:ffff:ffff:ffff,google.com\n",
    )
    resolver = CsvRangeResolver(path)
    assert found(resolver, "8.8.8.8") == ("google.com", None, "8.8.8.0/24")
    # A range that is not one network: the network reported is the part holding the address.
    assert found(resolver, "9.9.9.1") == ("quad9.net", None, "9.9.9.1/32")
    assert found(resolver, "9.9.9.9") == ("quad9.net", None, "9.9.9.8/31")
    assert found(resolver, "9.9.9.11") is None
    assert found(resolver, "9.9.9.0") is None
    assert found(resolver, "2a00:1450:4001::1") == ("google.com", None, "2a00:1450::/32")


def test_header_aliases_extra_columns_comments_and_bom(tmp_path: Path) -> None:
    path = write(
        tmp_path / "export.csv",
        "# exported from our CRM\n"
        "\n"
        "Start_IP, End_IP ,ASN,Domain,Name\n"
        "8.8.8.0,8.8.8.255,15169,google.com,Google\n"
        "# a comment between rows\n"
        "\n"
        "9.9.9.0,9.9.9.255,19281,quad9.net\n",
        encoding="utf-8-sig",
    )
    resolver = CsvRangeResolver(path)
    assert resolver.rows == 2
    assert found(resolver, "8.8.8.8") == ("google.com", "Google", "8.8.8.0/24")
    assert found(resolver, "9.9.9.9") == ("quad9.net", None, "9.9.9.0/24")


def test_most_specific_network_wins(tmp_path: Path) -> None:
    path = write(
        tmp_path / "nested.csv",
        "network,domain,name\n"
        "8.8.8.0/24,google.com,Google\n"  # order in the file does not matter
        "8.0.0.0/8,level3.com,Level 3\n"
        "8.8.0.0/16,google.com,Google wide\n"
        "8.8.8.8,dns.google,Google DNS\n"
        "2001:db8::/32,example.org,\n",  # documentation range: never public
    )
    resolver = CsvRangeResolver(path)
    assert found(resolver, "8.8.8.8") == ("dns.google", "Google DNS", "8.8.8.8/32")
    assert found(resolver, "8.8.8.9") == ("google.com", "Google", "8.8.8.0/24")
    assert found(resolver, "8.8.9.1") == ("google.com", "Google wide", "8.8.0.0/16")
    assert found(resolver, "8.9.0.1") == ("level3.com", "Level 3", "8.0.0.0/8")
    assert found(resolver, "9.0.0.0") is None
    assert found(resolver, "7.255.255.255") is None
    assert found(resolver, "2001:db8::1") is None


def test_overlapping_ranges_smallest_then_latest_wins(tmp_path: Path) -> None:
    path = write(
        tmp_path / "overlap.csv",
        "start,end,domain\n"
        "11.0.0.0,11.0.0.99,alpha.com\n"
        "11.0.0.50,11.0.0.119,beta.com\n"  # 70 addresses: smaller than alpha's 100
        "11.0.0.200,11.0.0.209,gamma.com\n"
        "11.0.0.200,11.0.0.209,delta.com\n",  # the same range again: the later row wins
    )
    resolver = CsvRangeResolver(path)
    assert found(resolver, "11.0.0.49") == ("alpha.com", None, "11.0.0.0/26")
    assert found(resolver, "11.0.0.50") == ("beta.com", None, "11.0.0.50/31")
    assert found(resolver, "11.0.0.110") == ("beta.com", None, "11.0.0.96/28")
    assert found(resolver, "11.0.0.120") is None
    assert found(resolver, "11.0.0.205") == ("delta.com", None, "11.0.0.200/29")


def test_personal_mail_domains_answer_none_and_mask_larger_ranges(tmp_path: Path) -> None:
    path = write(
        tmp_path / "isp.csv",
        "network,domain\n"
        "24.0.0.0/8,acme.com\n"
        "24.1.0.0/16,comcast.net\n"  # an Internet provider's pool inside acme's range
        "25.0.0.0/8,gmail.com\n"
        "26.0.0.0/8,guerrillamail.com\n",
    )
    resolver = CsvRangeResolver(path)
    assert found(resolver, "24.2.0.1") == ("acme.com", None, "24.0.0.0/8")
    assert found(resolver, "24.1.2.3") is None
    assert found(resolver, "25.1.1.1") is None
    assert found(resolver, "26.1.1.1") is None


def test_private_ranges_are_never_looked_up(tmp_path: Path) -> None:
    path = write(
        tmp_path / "private.csv",
        "network,domain\n10.0.0.0/8,acme.com\n100.64.0.0/10,acme.com\nfc00::/7,acme.com\n",
    )
    resolver = CsvRangeResolver(path)
    for address in ("10.1.2.3", "100.64.1.1", "fd00::1", "127.0.0.1"):
        assert resolver.resolve(ip(address)) is None


def test_an_empty_file_with_a_header_resolves_nothing(tmp_path: Path) -> None:
    resolver = CsvRangeResolver(write(tmp_path / "empty.csv", "network,domain\n"))
    assert resolver.rows == 0
    assert resolver.resolve(ip("8.8.8.8")) is None
    assert resolver.resolve(ip("2001:4860::1")) is None


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", None, "no header row"),
        ("# only a comment\n\n", None, "no header row"),
        ("ip,company\n8.8.8.0/24,google.com\n", 1, "no 'domain' column"),
        ("network,start,end,domain\n", 1, "both 'network' and 'start'/'end'"),
        ("start,domain\n", 1, "needs 'network', or 'start' and 'end'"),
        ("network,domain\n8.8.8.0/24,google.com\n8.8.8.0/33,x.com\n", 3, "prefix length"),
        ("network,domain\n8.8.8.1/24,google.com\n", 2, "did you mean 8.8.8.0/24"),
        ("network,domain\n\n\n8.8.8.256/32,google.com\n", 4, "not an IP network"),
        ("network,domain\n08.8.8.0/24,google.com\n", 2, "not an IP network"),
        ("network,domain\nfe80::1%eth0,google.com\n", 2, "not an IP network"),
        ("network,domain\n8.8.8.0/24\n", 2, "1 cells where the header has 2"),
        ("network,domain,name\n8.8.8.0/24,google.com,Google, LLC\n", 2, "quote a name"),
        ("network,domain\n8.8.8.0/24,\n", 2, "the domain is empty"),
        ("network,domain\n8.8.8.0/24,localhost\n", 2, "'localhost' is not a domain name"),
        ("network,domain\n8.8.8.0/24,10.0.0.1\n", 2, "is not a domain name"),
        ("start,end,domain\n8.8.8.9,8.8.8.1,google.com\n", 2, "start 8.8.8.9 comes after"),
        ("start,end,domain\n8.8.8.0,2001::1,google.com\n", 2, "different IP versions"),
        ("start,end,domain\n8.8.8.0,x,google.com\n", 2, "end 'x' is not an IP address"),
        ('network,domain\n"8.8.8.0/24,google.com\n', 2, "not valid CSV"),
    ],
)
def test_bad_files_name_the_line(tmp_path: Path, text: str, line: int | None, message: str) -> None:
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(ResolverDataError, match=message) as caught:
        CsvRangeResolver(path)
    error = caught.value
    assert error.line == line
    assert error.path == str(path)
    where = f"{path}, line {line}: " if line is not None else f"{path}: "
    assert str(error).startswith(where)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ResolverDataError, match="cannot read") as caught:
        CsvRangeResolver(tmp_path / "missing.csv")
    assert caught.value.line is None
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("network,domain,name\n8.8.8.0/24,google.com,Müller\n".encode("latin-1"))
    with pytest.raises(ResolverDataError, match="not UTF-8"):
        CsvRangeResolver(latin1)


def test_a_large_file_loads(tmp_path: Path) -> None:
    rng = random.Random(6)
    path = tmp_path / "large.csv"
    with path.open("w", encoding="utf-8") as file:
        file.write("network,domain,name\n")
        for row in range(100_000):
            block = rng.randrange(1 << 24) << 8  # some /24s nest in nothing, some collide
            file.write(f"{ipaddress.IPv4Address(block)}/24,company{row % 20_000}.com,Co {row}\n")
        file.write("2001:4860::/32,google.com,Google\n")
    resolver = CsvRangeResolver(path)
    assert resolver.rows == 100_001
    for _ in range(1_000):
        address = ipaddress.IPv4Address(rng.randrange(1 << 32))
        company = resolver.resolve(address)
        assert company is None or address in company.network
    assert found(resolver, "2001:4860::1") == ("google.com", "Google", "2001:4860::/32")


# Rows drawn inside 11.0.0.0 + 0..511 (public), so that they nest and overlap often.
_BASE = int(ipaddress.IPv4Address("11.0.0.0"))
_SPAN = 512
_ROWS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=_SPAN - 1),
        st.integers(min_value=0, max_value=_SPAN // 2),
        st.sampled_from(["alpha.com", "beta.com", "comcast.net"]),
        st.booleans(),  # written as a CIDR network when it is one
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(_ROWS, st.lists(st.integers(min_value=0, max_value=_SPAN + 10), min_size=1, max_size=40))
def test_lookup_agrees_with_a_brute_force_scan(
    rows: list[tuple[int, int, str, bool]], probes: list[int]
) -> None:
    ranges = [(start, min(start + length, _SPAN - 1), domain) for start, length, domain, _ in rows]
    lines = ["start,end,domain,name"]
    for order, (start, end, domain) in enumerate(ranges):
        first, last = ipaddress.IPv4Address(_BASE + start), ipaddress.IPv4Address(_BASE + end)
        lines.append(f"{first},{last},{domain},row {order}")
    with tempfile.TemporaryDirectory() as directory:
        resolver = CsvRangeResolver(write(Path(directory) / "rows.csv", "\n".join(lines)))
    for probe in probes:
        containing = [
            (end - start, -order, domain, order)
            for order, (start, end, domain) in enumerate(ranges)
            if start <= probe <= end
        ]
        address = ipaddress.IPv4Address(_BASE + probe)
        company = resolver.resolve(address)
        if not containing or min(containing)[2] == "comcast.net":
            assert company is None
            continue
        _, _, domain, order = min(containing)
        assert company is not None
        assert (company.domain, company.name) == (domain, f"row {order}")
        start, end, _ = ranges[order]
        assert address in company.network
        assert _BASE + start <= int(company.network.network_address)
        assert int(company.network.broadcast_address) <= _BASE + end


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**16 - 1), st.integers(112, 128)), max_size=15))
def test_ipv6_networks_agree_with_a_brute_force_scan(networks: list[tuple[int, int]]) -> None:
    base = int(ipaddress.IPv6Address("2a00:1450::"))
    parsed = [
        ipaddress.IPv6Network((base + offset, prefix), strict=False) for offset, prefix in networks
    ]
    lines = ["network,domain,name"] + [f"{net},acme.com,row {i}" for i, net in enumerate(parsed)]
    with tempfile.TemporaryDirectory() as directory:
        resolver = CsvRangeResolver(write(Path(directory) / "v6.csv", "\n".join(lines)))
    for network in parsed:
        for address in (network.network_address, network.broadcast_address):
            containing = [
                (net.num_addresses, -order, order)
                for order, net in enumerate(parsed)
                if address in net
            ]
            company = resolver.resolve(address)
            assert company is not None
            order = min(containing)[2]
            assert company.name == f"row {order}"
            assert company.network == parsed[order]
