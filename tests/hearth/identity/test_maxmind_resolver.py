"""MaxMindResolver over small MaxMind DB files in each layout, written with mmdb-writer."""

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hearth.identity import (
    MaxMindLayout,
    MaxMindResolver,
    ResolvedCompany,
    ResolverDataError,
)
from hearth.identity.ip_addresses import IPAddress
from tests.hearth.identity.mmdb_files import write_mmdb


def ip(text: str) -> IPAddress:
    return ipaddress.ip_address(text)


DOMAIN_RECORDS = {
    "8.0.0.0/8": {"domain": "level3.net"},
    "8.8.8.0/24": {"domain": "google.com"},
    "1.1.1.0/24": {"domain": "www.Cloudflare.com"},  # normalised on the way out
    "24.0.0.0/12": {"domain": "comcast.net"},  # an Internet provider: no company
    "31.13.64.0/18": {"domain": "guerrillamail.com"},  # disposable: no company
    "45.0.0.0/16": {"domain": "not a domain"},
    "46.0.0.0/16": {"domain": ""},
    "10.0.0.0/8": {"domain": "acme.com"},  # private: never looked up
    "2001:4860::/32": {"domain": "google.com"},
}


@pytest.fixture
def domain_db(tmp_path: Path) -> Path:
    return write_mmdb(tmp_path / "domain.mmdb", DOMAIN_RECORDS, database_type="GeoIP2-Domain")


def test_domain_layout(domain_db: Path) -> None:
    with MaxMindResolver(domain_db) as resolver:
        assert resolver.layout is MaxMindLayout.DOMAIN
        assert resolver.database_type == "GeoIP2-Domain"
        assert resolver.resolve(ip("8.8.8.8")) == ResolvedCompany(
            domain="google.com",
            name=None,
            source="maxmind",
            network=ipaddress.ip_network("8.8.8.0/24"),
        )
        level3 = resolver.resolve(ip("8.8.4.4"))
        assert level3 is not None and level3.domain == "level3.net"
        assert level3.network == ipaddress.ip_network("8.8.0.0/21")  # the part outside /24
        cloudflare = resolver.resolve(ip("1.1.1.1"))
        assert cloudflare is not None and cloudflare.domain == "cloudflare.com"


def test_domain_layout_ipv6(domain_db: Path) -> None:
    with MaxMindResolver(domain_db) as resolver:
        google = resolver.resolve(ip("2001:4860:4860::8888"))
        assert google is not None
        assert google.domain == "google.com"
        assert google.network == ipaddress.ip_network("2001:4860::/32")
        assert resolver.resolve(ip("2a00:1450::1")) is None
        mapped = resolver.resolve(ip("::ffff:8.8.8.8"))
        assert mapped is not None and mapped.domain == "google.com"


@pytest.mark.parametrize(
    "address",
    [
        "9.9.9.9",  # not in the file
        "24.1.2.3",  # an Internet provider's domain
        "31.13.64.1",  # a disposable domain
        "45.0.0.1",  # not a domain
        "46.0.0.1",  # empty
        "10.1.2.3",  # private, though the file has it
        "127.0.0.1",
        "100.64.0.1",
        "fe80::1",
    ],
)
def test_domain_layout_misses(domain_db: Path, address: str) -> None:
    with MaxMindResolver(domain_db) as resolver:
        assert resolver.resolve(ip(address)) is None


def test_isp_layout_names_no_company(tmp_path: Path) -> None:
    path = write_mmdb(
        tmp_path / "isp.mmdb",
        {
            "8.8.8.0/24": {
                "autonomous_system_number": 15169,
                "autonomous_system_organization": "GOOGLE",
                "isp": "Google",
                "organization": "Google LLC",
            },
            # A customer's own file in the ISP shape may add a domain.
            "140.82.112.0/20": {
                "domain": "github.com",
                "isp": "GitHub",
                "organization": "GitHub, Inc.",
            },
        },
        database_type="GeoIP2-ISP",
    )
    with MaxMindResolver(path) as resolver:
        assert resolver.layout is MaxMindLayout.ISP
        assert resolver.resolve(ip("8.8.8.8")) is None
        assert resolver.resolve(ip("140.82.112.3")) == ResolvedCompany(
            domain="github.com",
            name="GitHub, Inc.",
            source="maxmind",
            network=ipaddress.ip_network("140.82.112.0/20"),
        )


def test_asn_database_reads_as_isp(tmp_path: Path) -> None:
    path = write_mmdb(
        tmp_path / "asn.mmdb",
        {"8.8.8.0/24": {"autonomous_system_number": 15169}},
        database_type="GeoLite2-ASN",
    )
    with MaxMindResolver(path) as resolver:
        assert resolver.layout is MaxMindLayout.ISP
        assert resolver.resolve(ip("8.8.8.8")) is None


ENTERPRISE_RECORDS = {
    "64.0.0.0/10": {"traits": {"domain": "comcast.net", "isp": "Comcast"}},
    "64.1.2.0/24": {
        "country": {"iso_code": "US"},
        "traits": {
            "domain": "acme.com",
            "organization": "Acme Inc.",
            "isp": "Level 3 Communications",
            "connection_type": "Corporate",
        },
    },
    "64.1.3.0/24": {"traits": {"domain": "initech.com", "isp": "Initech ISP"}},
    "64.1.4.0/24": {"traits": {"organization": "No Domain Ltd"}},
    "64.1.5.0/24": {"country": {"iso_code": "US"}},
    "2a01:111::/32": {"traits": {"domain": "microsoft.com", "organization": "Microsoft"}},
}


def test_enterprise_layout(tmp_path: Path) -> None:
    path = write_mmdb(
        tmp_path / "enterprise.mmdb", ENTERPRISE_RECORDS, database_type="GeoIP2-Enterprise"
    )
    with MaxMindResolver(path) as resolver:
        assert resolver.layout is MaxMindLayout.ENTERPRISE
        assert resolver.resolve(ip("64.1.2.3")) == ResolvedCompany(
            domain="acme.com",
            name="Acme Inc.",
            source="maxmind",
            network=ipaddress.ip_network("64.1.2.0/24"),
        )
        initech = resolver.resolve(ip("64.1.3.3"))
        assert initech is not None
        assert (initech.domain, initech.name) == ("initech.com", None)  # isp is not the name
        assert resolver.resolve(ip("64.2.0.1")) is None  # comcast.net
        assert resolver.resolve(ip("64.1.4.4")) is None  # no domain
        assert resolver.resolve(ip("64.1.5.5")) is None  # no traits
        microsoft = resolver.resolve(ip("2a01:111:f400::1"))
        assert microsoft is not None and microsoft.domain == "microsoft.com"


def test_custom_database_is_read_by_record_shape(tmp_path: Path) -> None:
    path = write_mmdb(
        tmp_path / "custom.mmdb",
        {
            "8.8.8.0/24": {"domain": "google.com", "organization": "Google"},
            "64.1.2.0/24": {"traits": {"domain": "acme.com", "organization": "Acme"}},
            "64.1.3.0/24": "not a map",
        },
        database_type="Acme-Company-Map",
    )
    with MaxMindResolver(path) as resolver:
        assert resolver.layout is MaxMindLayout.RECORD_SHAPE
        google = resolver.resolve(ip("8.8.8.8"))
        acme = resolver.resolve(ip("64.1.2.2"))
        assert google is not None and (google.domain, google.name) == ("google.com", "Google")
        assert acme is not None and (acme.domain, acme.name) == ("acme.com", "Acme")
        assert resolver.resolve(ip("64.1.3.3")) is None


def test_ipv4_only_database_answers_none_for_ipv6(tmp_path: Path) -> None:
    path = write_mmdb(
        tmp_path / "v4.mmdb",
        {"8.8.8.0/24": {"domain": "google.com"}},
        database_type="GeoIP2-Domain",
        ip_version=4,
    )
    with MaxMindResolver(path) as resolver:
        google = resolver.resolve(ip("8.8.8.8"))
        assert google is not None and google.network == ipaddress.ip_network("8.8.8.0/24")
        assert resolver.resolve(ip("2001:4860::1")) is None


@pytest.mark.parametrize(
    "database_type", ["GeoIP2-City", "GeoLite2-Country", "GeoIP2-Anonymous-IP"]
)
def test_databases_without_company_data_are_refused(tmp_path: Path, database_type: str) -> None:
    path = write_mmdb(
        tmp_path / "city.mmdb",
        {"8.8.8.0/24": {"city": {"names": {"en": "Mountain View"}}}},
        database_type=database_type,
    )
    with pytest.raises(ResolverDataError, match="names no companies") as caught:
        MaxMindResolver(path)
    assert caught.value.path == str(path)
    assert caught.value.line is None


def test_missing_and_broken_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ResolverDataError, match="cannot open as a MaxMind DB"):
        MaxMindResolver(tmp_path / "missing.mmdb")
    garbage = tmp_path / "garbage.mmdb"
    garbage.write_bytes(b"this is not a MaxMind DB file" * 10)
    with pytest.raises(ResolverDataError, match="cannot open as a MaxMind DB"):
        MaxMindResolver(garbage)


def test_concurrent_lookups_agree(domain_db: Path) -> None:
    addresses = [ip(a) for a in ("8.8.8.8", "8.8.4.4", "1.1.1.1", "9.9.9.9", "2001:4860::1")]
    with MaxMindResolver(domain_db) as resolver:
        expected = [resolver.resolve(a) for a in addresses]
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda _: [resolver.resolve(a) for a in addresses], range(200)))
    assert all(result == expected for result in results)


def test_close_is_idempotent_and_later_lookups_raise(domain_db: Path) -> None:
    resolver = MaxMindResolver(domain_db)
    resolver.close()
    resolver.close()
    with pytest.raises(RuntimeError, match="closed"):
        resolver.resolve(ip("8.8.8.8"))
    assert resolver.resolve(ip("10.0.0.1")) is None  # private: not even looked at
