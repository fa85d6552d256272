"""ChainResolver and CachedResolver, over fakes and over the real resolvers."""

import ipaddress
from pathlib import Path

import pytest

from hearth.identity import (
    CachedResolver,
    ChainResolver,
    CompanyResolver,
    CsvRangeResolver,
    MaxMindResolver,
    ResolvedCompany,
)
from hearth.identity.ip_addresses import IPAddress
from tests.hearth.identity.mmdb_files import write_mmdb


def ip(text: str) -> IPAddress:
    return ipaddress.ip_address(text)


class FakeResolver:
    """Answers from a dict of address -> domain; records every question and `close`."""

    def __init__(self, answers: dict[str, str], source: str = "fake") -> None:
        self.answers = answers
        self.source = source
        self.asked: list[str] = []
        self.closed = False

    def resolve(self, ip: IPAddress) -> ResolvedCompany | None:
        self.asked.append(str(ip))
        domain = self.answers.get(str(ip))
        if domain is None:
            return None
        network = ipaddress.ip_network(ip)
        return ResolvedCompany(domain=domain, name=None, source=self.source, network=network)

    def close(self) -> None:
        self.closed = True


def test_fakes_satisfy_the_protocol() -> None:
    resolver: CompanyResolver = FakeResolver({})
    assert resolver.resolve(ip("8.8.8.8")) is None


def test_chain_asks_in_order_and_stops_at_the_first_answer() -> None:
    first = FakeResolver({"8.8.8.8": "google.com"}, source="first")
    second = FakeResolver({"8.8.8.8": "other.com", "1.1.1.1": "cloudflare.com"}, "second")
    chain = ChainResolver([first, second])
    google = chain.resolve(ip("8.8.8.8"))
    assert google is not None and (google.domain, google.source) == ("google.com", "first")
    cloudflare = chain.resolve(ip("1.1.1.1"))
    assert cloudflare is not None and cloudflare.source == "second"
    assert chain.resolve(ip("9.9.9.9")) is None
    assert first.asked == ["8.8.8.8", "1.1.1.1", "9.9.9.9"]
    assert second.asked == ["1.1.1.1", "9.9.9.9"]


def test_chain_never_asks_about_private_addresses_and_closes_all() -> None:
    first, second = FakeResolver({"10.0.0.1": "acme.com"}), FakeResolver({})
    chain = ChainResolver([first, second])
    assert chain.resolve(ip("10.0.0.1")) is None
    assert first.asked == [] and second.asked == []
    chain.close()
    assert first.closed and second.closed


def test_empty_chain_knows_nothing() -> None:
    assert ChainResolver([]).resolve(ip("8.8.8.8")) is None


def test_cache_remembers_answers_and_misses() -> None:
    fake = FakeResolver({"8.8.8.8": "google.com"})
    cached = CachedResolver(fake, maxsize=10)
    for _ in range(3):
        google = cached.resolve(ip("8.8.8.8"))
        assert google is not None and google.domain == "google.com"
        assert cached.resolve(ip("9.9.9.9")) is None
    assert fake.asked == ["8.8.8.8", "9.9.9.9"]
    info = cached.cache_info()
    assert (info.hits, info.misses, info.currsize) == (4, 2, 2)


def test_cache_evicts_the_least_recently_used() -> None:
    fake = FakeResolver({})
    cached = CachedResolver(fake, maxsize=2)
    for address in ("8.8.8.1", "8.8.8.2", "8.8.8.1", "8.8.8.3", "8.8.8.1", "8.8.8.2"):
        cached.resolve(ip(address))
    # 8.8.8.2 was evicted by 8.8.8.3 (8.8.8.1 had been used since), then asked again.
    assert fake.asked == ["8.8.8.1", "8.8.8.2", "8.8.8.3", "8.8.8.2"]
    cached.clear()
    cached.resolve(ip("8.8.8.1"))
    assert fake.asked[-1] == "8.8.8.1"


def test_cache_skips_private_addresses_and_closes_the_resolver() -> None:
    fake = FakeResolver({"192.168.1.1": "acme.com"})
    cached = CachedResolver(fake)
    assert cached.resolve(ip("192.168.1.1")) is None
    assert fake.asked == []
    assert cached.cache_info().currsize == 0
    cached.close()
    assert fake.closed


def test_cache_needs_room_for_one_answer() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CachedResolver(FakeResolver({}), maxsize=0)


def test_a_cached_chain_of_the_real_resolvers(tmp_path: Path) -> None:
    mmdb = write_mmdb(
        tmp_path / "enterprise.mmdb",
        {"64.1.2.0/24": {"traits": {"domain": "acme.com", "organization": "Acme"}}},
        database_type="GeoIP2-Enterprise",
    )
    csv_file = tmp_path / "ranges.csv"
    csv_file.write_text("network,domain,name\n64.1.0.0/16,acme-group.com,Acme Group\n")
    resolver = CachedResolver(ChainResolver([MaxMindResolver(mmdb), CsvRangeResolver(csv_file)]))
    acme = resolver.resolve(ip("64.1.2.3"))
    group = resolver.resolve(ip("64.1.9.9"))
    assert acme is not None and (acme.domain, acme.source) == ("acme.com", "maxmind")
    assert group is not None and (group.domain, group.source) == ("acme-group.com", "csv")
    assert resolver.resolve(ip("65.0.0.1")) is None
    resolver.close()
