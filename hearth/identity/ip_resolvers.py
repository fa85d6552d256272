"""Reverse-IP lookups: which company's network a visitor's IP address belongs to.

One seam, `CompanyResolver`: ``resolve(ip) -> ResolvedCompany | None`` and ``close()``. Hearth
ships two resolvers a customer points at their own data, and two that compose them:

- `MaxMindResolver(path)`: a MaxMind DB (``.mmdb``) file in the GeoIP2 Domain, ISP or
  Enterprise layout, or a custom file whose records have the same shape.
- `CsvRangeResolver(path)`: a CSV of IP networks or ranges and the domain each belongs to.
- `ChainResolver([...])`: asks several resolvers in order; the first answer wins.
- `CachedResolver(resolver)`: remembers recent answers (visitors' addresses repeat).

Every resolver answers None for an address that is not public (`is_public`: private,
loopback, CGNAT, ...) without looking it up, and never answers with a domain that is not a
company's: a value that `normalize_domain` rejects, a free-mail or Internet provider's mail
domain (``comcast.net``) or a disposable one gives None (`company_domain`). The formats and
how to point Hearth at a file are in ``docs/ip-resolution.md``.

Errors::

    ConfigError (hearth.errors)
    └── ResolverDataError     a file is missing, unreadable or malformed; carries path and line
"""

import bisect
import csv
import enum
import functools
import heapq
import ipaddress
import os
import socket
import threading
from array import array
from collections.abc import Iterable, Iterator, Mapping, MutableSequence, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

import maxminddb

from hearth.errors import ConfigError
from hearth.identity.email_companies import company_domain, is_personal_mail_domain
from hearth.identity.ip_addresses import IPAddress, is_public
from hearth.matching.domains import normalize_domain

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "CachedResolver",
    "ChainResolver",
    "CompanyResolver",
    "CsvRangeResolver",
    "MaxMindLayout",
    "MaxMindResolver",
    "ResolvedCompany",
    "ResolverDataError",
    "resolvers_from_config",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_MAX_NAME_LENGTH = 255  # longer organisation names are cut; Salesforce's Account.Name is 255
_UNCHECKED, _COMPANY, _PERSONAL = 0, 1, 2
_EXPECTED_HEADER = "expected network,domain[,name] or start,end,domain[,name]"


class ResolverDataError(ConfigError):
    """A resolver's data file is missing, unreadable or malformed.

    `line` is the 1-based line of a CSV file the problem was found on, None when the whole
    file is at fault.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str, *, line: int | None = None):
        where = f"{os.fspath(path)}, line {line}" if line is not None else os.fspath(path)
        super().__init__(f"{where}: {reason}")
        self.path = os.fspath(path)
        self.line = line
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class ResolvedCompany:
    """The company whose network an address is in.

    `domain` is a company's registrable domain, normalised (``"acme.com"``). `name` is the
    organisation's name when the data has one. `source` names the resolver (``"maxmind"``,
    ``"csv"``). `network` is the network the address matched in the data: the more specific it
    is, the more the answer is worth (a /32 of an office beats a /12 of a cloud).
    """

    domain: str
    name: str | None
    source: str
    network: IPNetwork

    def __post_init__(self) -> None:
        if normalize_domain(self.domain) != self.domain:
            raise ValueError(f"not a normalised domain: {self.domain!r}")
        if not self.source:
            raise ValueError("source must name the resolver")


class CompanyResolver(Protocol):
    """Answers which company's network an IP address is in; None when it does not know.

    `resolve` must be safe to call from several threads at once, answer None for addresses
    that are not public, and never raise for an address it has no data for. `close` releases
    files; a closed resolver must not be asked again.
    """

    def resolve(self, ip: IPAddress) -> ResolvedCompany | None: ...

    def close(self) -> None: ...


class MaxMindLayout(enum.Enum):
    """Where a MaxMind DB record keeps the domain and the organisation's name.

    - ``DOMAIN`` (GeoIP2-Domain): ``{"domain": "acme.com"}``; MaxMind's has no name, a
      customer's file may add ``organization``.
    - ``ISP`` (GeoIP2-ISP, GeoLite2-ASN): ``{"isp", "organization",
      "autonomous_system_organization", ...}``. These databases have no domain, so they name
      no company and the resolver answers None, unless a record also carries a ``"domain"``
      (a customer's own file in that shape): then `name` is ``organization``.
    - ``ENTERPRISE`` (GeoIP2-Enterprise): ``{"traits": {"domain", "organization", "isp",
      ...}}``: `domain` is ``traits.domain``, `name` is ``traits.organization`` (``isp`` names
      the network's operator, not the company, so it is never used as the name).
    - ``RECORD_SHAPE``: any other ``database_type`` (a customer's own file): each record is
      read as Enterprise if it has ``traits``, otherwise by its top-level ``domain`` and
      ``organization``.
    """

    DOMAIN = "domain"
    ISP = "isp"
    ENTERPRISE = "enterprise"
    RECORD_SHAPE = "record-shape"


# MaxMind's database types that hold nothing about companies: refused at open, so a customer
# who points Hearth at a City database learns it at once rather than by never matching.
_NO_COMPANY_DATABASE_TYPES = ("City", "Country", "Anonymous", "Connection-Type", "Densit")


def _layout_of(database_type: str) -> MaxMindLayout | None:
    """The layout `database_type` (from the file's metadata) promises; None if it has none."""
    kind = database_type.lower()
    if "enterprise" in kind:
        return MaxMindLayout.ENTERPRISE
    if "domain" in kind:
        return MaxMindLayout.DOMAIN
    if "isp" in kind or "asn" in kind:
        return MaxMindLayout.ISP
    if any(name.lower() in kind for name in _NO_COMPANY_DATABASE_TYPES):
        return None
    return MaxMindLayout.RECORD_SHAPE


class MaxMindResolver:
    """A MaxMind DB file, opened once (memory-mapped) and read by any number of threads.

    The layout comes from the file's ``database_type`` (`MaxMindLayout`). Raises
    `ResolverDataError` if the file is missing, is not a MaxMind DB, or is a kind with no
    company data (City, Country, Anonymous IP, Connection Type). IPv6 addresses asked of an
    IPv4-only file answer None.
    """

    source = "maxmind"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self._reader = maxminddb.open_database(os.fspath(path))
        except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
            raise ResolverDataError(path, f"cannot open as a MaxMind DB: {exc}") from exc
        metadata = self._reader.metadata()
        layout = _layout_of(str(metadata.database_type))
        if layout is None:
            self._reader.close()
            raise ResolverDataError(
                path,
                f"a {metadata.database_type} database names no companies; use a GeoIP2 "
                "Domain, ISP or Enterprise database, or a file with the same record shape",
            )
        self.layout = layout
        self.database_type = str(metadata.database_type)
        self._ip_version = int(metadata.ip_version)
        self._closed = False
        self._close_lock = threading.Lock()

    def resolve(self, ip: IPAddress) -> ResolvedCompany | None:
        """The company `ip` belongs to according to the file, or None."""
        ip = _unmapped(ip)
        if not is_public(ip) or (ip.version == 6 and self._ip_version == 4):
            return None
        if self._closed:
            raise RuntimeError(f"{self.path} is closed")
        try:
            record, prefix_length = self._reader.get_with_prefix_len(ip)
        except ValueError:  # closed meanwhile, or an address the file cannot hold
            if self._closed:
                raise RuntimeError(f"{self.path} is closed") from None
            return None
        if not isinstance(record, dict):
            return None
        found = self._domain_and_name(record)
        if found is None:
            return None
        domain, name = found
        network = ipaddress.ip_network((ip, prefix_length), strict=False)
        return ResolvedCompany(domain=domain, name=name, source=self.source, network=network)

    def close(self) -> None:
        """Closes the file. Call it when no lookup is running; later lookups raise."""
        with self._close_lock:
            if not self._closed:
                self._closed = True
                self._reader.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _domain_and_name(self, record: Mapping[str, object]) -> tuple[str, str | None] | None:
        """The company domain and organisation name in `record`, by the file's layout."""
        layout = self.layout
        if layout is MaxMindLayout.RECORD_SHAPE:
            layout = MaxMindLayout.ENTERPRISE if "traits" in record else MaxMindLayout.ISP
        if layout is MaxMindLayout.ENTERPRISE:
            traits = record.get("traits")
            if not isinstance(traits, dict):
                return None
            fields: Mapping[str, object] = traits
        else:
            fields = record
        domain = company_domain(_text(fields.get("domain")))
        if domain is None:
            return None
        return domain, _text(fields.get("organization"))


class CsvRangeResolver:
    """A CSV file of IP networks or ranges and their companies' domains, held in memory.

    The file is UTF-8 with a header row naming its columns, in either form (names are
    case-insensitive, other columns are ignored)::

        network,domain,name            start,end,domain,name
        203.0.113.0/24,acme.com,Acme   203.0.113.0,203.0.113.255,acme.com,Acme
        2001:db8:a::/48,acme.com,      2001:db8:a::,2001:db8:a:ffff:ffff:ffff:ffff:ffff,acme.com,

    ``network`` is a CIDR network (host bits zero) or one address; ``start`` and ``end`` (or
    ``start_ip`` and ``end_ip``) are the first and last address of a range, both of one IP
    version. ``name`` is optional. Blank lines and lines starting with ``#`` are skipped.
    IPv4 and IPv6 rows mix freely.

    When networks nest or overlap, the smallest one that contains the address wins; of two
    equal ones, the later row. A row whose domain is a free-mail, Internet provider's or
    disposable domain (``comcast.net``) is kept as "no company": its addresses answer None
    even inside a larger range with a company. Private ranges may be listed; private
    addresses are never looked up.

    Raises `ResolverDataError` naming the line of the first bad row. Lookups are a binary
    search over disjoint ranges built at load: O(log n), safe from any number of threads.
    """

    source = "csv"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.rows = 0
        self._companies: list[tuple[str, str | None]] = []
        # Per company: _UNCHECKED, _COMPANY or _PERSONAL (free-mail or disposable). Checked on
        # first lookup, not at load, which then costs one normalisation per distinct domain.
        self._kinds = bytearray()
        self._tables = {4: _RangeTable(4), 6: _RangeTable(6)}
        for version, start, end, company in self._read_rows():
            self._tables[version].add(start, end, company)
            self.rows += 1
        for table in self._tables.values():
            table.build()

    def resolve(self, ip: IPAddress) -> ResolvedCompany | None:
        """The company `ip` belongs to according to the file, or None."""
        ip = _unmapped(ip)
        if not is_public(ip):
            return None
        found = self._tables[ip.version].find(int(ip))
        if found is None:
            return None
        start, end, company_index = found
        domain, name = self._companies[company_index]
        kind = self._kinds[company_index]
        if kind == _UNCHECKED:  # two threads may both check: same answer, written twice
            kind = _PERSONAL if is_personal_mail_domain(domain) else _COMPANY
            self._kinds[company_index] = kind
        if kind == _PERSONAL:
            return None
        network = _network_within(ip, start, end)
        return ResolvedCompany(domain=domain, name=name, source=self.source, network=network)

    def close(self) -> None:
        """Nothing to release: the file is read once, at load."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _read_rows(self) -> Iterator[tuple[int, int, int, int]]:
        """(IP version, first, last, company index) for every data row, validated."""
        line = 0
        columns: _Columns | None = None
        companies: dict[tuple[str, str | None], int] = {}
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as file:
                reader = csv.reader(file, strict=True)
                for row in reader:
                    line = reader.line_num
                    if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
                        continue
                    try:
                        if columns is None:
                            columns = _Columns.from_header(row)
                            continue
                        version, start, end = columns.addresses(row)
                        company = self._company(columns, row, companies)
                    except _BadRow as exc:
                        raise ResolverDataError(self.path, str(exc), line=line) from None
                    yield version, start, end, company
        except OSError as exc:
            raise ResolverDataError(self.path, f"cannot read: {exc.strerror or exc}") from exc
        except UnicodeDecodeError:
            raise ResolverDataError(self.path, "not UTF-8 text", line=line + 1) from None
        except csv.Error as exc:
            raise ResolverDataError(self.path, f"not valid CSV: {exc}", line=line + 1) from None
        if columns is None:
            raise ResolverDataError(self.path, f"no header row; {_EXPECTED_HEADER}")

    def _company(
        self,
        columns: "_Columns",
        row: Sequence[str],
        known: dict[tuple[str, str | None], int],
    ) -> int:
        """The index in `_companies` of the row's (domain, name), added if new."""
        raw_domain = columns.cell(row, columns.domain)
        name = _text(columns.cell(row, columns.name))
        key = (raw_domain, name)
        index = known.get(key)
        if index is not None:
            return index
        if not raw_domain:
            raise _BadRow("the domain is empty")
        domain = normalize_domain(raw_domain)
        if domain is None:
            raise _BadRow(f"{raw_domain!r} is not a domain name")
        known[key] = index = len(self._companies)
        self._companies.append((domain, name))
        self._kinds.append(_UNCHECKED)
        return index


class ChainResolver:
    """Asks `resolvers` in order; the first company found is the answer."""

    def __init__(self, resolvers: Iterable[CompanyResolver]) -> None:
        self.resolvers = tuple(resolvers)

    def resolve(self, ip: IPAddress) -> ResolvedCompany | None:
        if not is_public(ip):
            return None
        for resolver in self.resolvers:
            if (company := resolver.resolve(ip)) is not None:
                return company
        return None

    def close(self) -> None:
        """Closes every resolver in the chain."""
        for resolver in self.resolvers:
            resolver.close()


DEFAULT_CACHE_SIZE = 65_536


class CachedResolver:
    """Remembers the last `maxsize` answers of `resolver`, misses included (an LRU cache).

    The cache lives in memory only and holds full addresses; nothing is stored. Safe from
    any number of threads.
    """

    def __init__(self, resolver: CompanyResolver, *, maxsize: int = DEFAULT_CACHE_SIZE) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.resolver = resolver
        self._cached = functools.lru_cache(maxsize=maxsize)(resolver.resolve)

    def resolve(self, ip: IPAddress) -> ResolvedCompany | None:
        if not is_public(ip):
            return None
        return self._cached(ip)

    def cache_info(self) -> "functools._CacheInfo":
        """Hits, misses, maximum and current size, as `functools.lru_cache` counts them."""
        return self._cached.cache_info()

    def clear(self) -> None:
        """Forgets every answer (after the underlying data changed)."""
        self._cached.cache_clear()

    def close(self) -> None:
        self._cached.cache_clear()
        self.resolver.close()


class _BadRow(ValueError):
    """A CSV row (or the header) breaks the format; the message says how."""


@dataclass(frozen=True)
class _Columns:
    """Where the cells of a CSV file's rows are, from its header."""

    network: int | None
    start: int | None
    end: int | None
    domain: int
    name: int | None
    required: int  # cells a row needs: up to the last required column
    width: int  # cells in the header

    @classmethod
    def from_header(cls, header: Sequence[str]) -> "_Columns":
        names = [cell.strip().lower() for cell in header]
        position = {name: index for index, name in reversed(list(enumerate(names)))}

        def find(*aliases: str) -> int | None:
            return next((position[alias] for alias in aliases if alias in position), None)

        network, domain, name = find("network", "cidr"), find("domain"), find("name")
        start, end = find("start", "start_ip"), find("end", "end_ip")
        if domain is None:
            raise _BadRow(f"the header has no 'domain' column; {_EXPECTED_HEADER}")
        if network is not None and (start is not None or end is not None):
            raise _BadRow(f"the header has both 'network' and 'start'/'end'; {_EXPECTED_HEADER}")
        if network is None and (start is None or end is None):
            raise _BadRow(f"the header needs 'network', or 'start' and 'end'; {_EXPECTED_HEADER}")
        required = max(i for i in (network, start, end, domain) if i is not None) + 1
        return cls(network, start, end, domain, name, required, len(names))

    def addresses(self, row: Sequence[str]) -> tuple[int, int, int]:
        """(IP version, first address, last address) of `row`, as integers."""
        if len(row) < self.required or (
            len(row) > self.width and any(cell.strip() for cell in row[self.width :])
        ):
            raise _BadRow(
                f"{len(row)} cells where the header has {self.width} "
                "(quote a name that contains a comma)"
            )
        if self.network is not None:
            return _parse_network(row[self.network])
        assert self.start is not None and self.end is not None
        version, first = _parse_address(row[self.start], "start")
        end_version, last = _parse_address(row[self.end], "end")
        if version != end_version:
            raise _BadRow(
                f"start {row[self.start].strip()} and end {row[self.end].strip()} are of "
                "different IP versions"
            )
        if first > last:
            raise _BadRow(
                f"start {row[self.start].strip()} comes after end {row[self.end].strip()}"
            )
        return version, first, last

    def cell(self, row: Sequence[str], index: int | None) -> str:
        """The stripped cell at `index`; empty if the column is absent or the row short."""
        return row[index].strip() if index is not None and index < len(row) else ""


def _parse_network(text: str) -> tuple[int, int, int]:
    """(IP version, first, last address) of a CIDR network or single address in `text`.

    Parsed with `socket.inet_pton`, several times faster than `ipaddress` for a million
    rows, and as strict: no leading zeros in IPv4, no zones in IPv6.
    """
    value = text.strip()
    address, slash, prefix_text = value.partition("/")
    try:
        version, number = _address_number(address)
    except ValueError:
        raise _BadRow(f"{value!r} is not an IP network (CIDR) or address") from None
    bits = 32 if version == 4 else 128
    if not slash:
        return version, number, number
    if not (prefix_text.isascii() and prefix_text.isdigit() and int(prefix_text) <= bits):
        raise _BadRow(f"{value!r} has no valid prefix length (0 to {bits})")
    host_bits = bits - int(prefix_text)
    host_mask = (1 << host_bits) - 1
    if number & host_mask:
        suggestion = ipaddress.ip_network(value, strict=False)
        raise _BadRow(f"{value!r} has host bits set; did you mean {suggestion}?")
    return version, number, number | host_mask


def _parse_address(text: str, column: str) -> tuple[int, int]:
    """(IP version, address as an integer) of the address in `text`."""
    value = text.strip()
    try:
        return _address_number(value)
    except ValueError:
        raise _BadRow(f"{column} {value!r} is not an IP address") from None


def _address_number(text: str) -> tuple[int, int]:
    """(IP version, integer) of an IPv4 or IPv6 address; ValueError if `text` is not one."""
    try:
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except OSError:
        pass
    try:
        return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
    except OSError:
        raise ValueError(text) from None


def _unmapped(ip: IPAddress) -> IPAddress:
    """`ip`, or the IPv4 address inside it if it is IPv4-mapped (``::ffff:8.8.8.8``)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _text(value: object) -> str | None:
    """`value` as a stripped, non-empty string of at most 255 characters, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text[:_MAX_NAME_LENGTH] or None


def _network_within(ip: IPAddress, start: int, end: int) -> IPNetwork:
    """The largest CIDR network inside the range `start`..`end` that contains `ip`."""
    address_type = type(ip)
    for network in ipaddress.summarize_address_range(address_type(start), address_type(end)):
        if ip in network:
            return network
    raise AssertionError("the address is not in its range")  # pragma: no cover


class _RangeTable:
    """Disjoint address ranges of one IP version, each pointing at the row that wins it.

    Rows are added in file order (`add`), then indexed once (`build`): a sweep over every
    range boundary in order, keeping the rows open at that point in a heap ordered by size
    (smallest first), then by row (later first). Adjacent pieces won by the same row are
    merged. `find` is then a binary search. IPv4 addresses are kept in arrays of 8-byte
    integers (a list costs ~40 bytes an entry); IPv6 ones need Python integers.
    """

    def __init__(self, version: int) -> None:
        self._row_starts: MutableSequence[int] = array("Q") if version == 4 else []
        self._row_ends: MutableSequence[int] = array("Q") if version == 4 else []
        self._row_companies = array("q")
        self._starts: MutableSequence[int] = array("Q") if version == 4 else []
        self._ends: MutableSequence[int] = array("Q") if version == 4 else []
        self._winners = array("q")

    def add(self, start: int, end: int, company: int) -> None:
        """Adds the row `start`..`end` (inclusive) of company index `company`."""
        self._row_starts.append(start)
        self._row_ends.append(end)
        self._row_companies.append(company)

    def build(self) -> None:
        """Computes the disjoint pieces and their winning rows from the rows added."""
        row_starts, row_ends = self._row_starts, self._row_ends
        by_start = sorted(range(len(row_starts)), key=row_starts.__getitem__)
        boundaries = _distinct(
            heapq.merge(map(row_starts.__getitem__, by_start), sorted(e + 1 for e in row_ends))
        )
        starts, ends, winners = self._starts, self._ends, self._winners
        open_rows: list[tuple[int, int, int]] = []  # (size, -row, row)
        next_row = 0
        boundary = next(boundaries, None)
        while boundary is not None:
            following = next(boundaries, None)
            while next_row < len(by_start) and row_starts[by_start[next_row]] == boundary:
                row = by_start[next_row]
                heapq.heappush(open_rows, (row_ends[row] - row_starts[row], -row, row))
                next_row += 1
            while open_rows and row_ends[open_rows[0][2]] < boundary:
                heapq.heappop(open_rows)
            if open_rows and following is not None:
                winner = open_rows[0][2]
                if winners and winners[-1] == winner and ends[-1] + 1 == boundary:
                    ends[-1] = following - 1
                else:
                    starts.append(boundary)
                    ends.append(following - 1)
                    winners.append(winner)
            boundary = following

    def find(self, address: int) -> tuple[int, int, int] | None:
        """(first, last, company index) of the row that wins `address`, or None."""
        index = bisect.bisect_right(self._starts, address) - 1
        if index < 0 or address > self._ends[index]:
            return None
        row = self._winners[index]
        return self._row_starts[row], self._row_ends[row], self._row_companies[row]


def _distinct(numbers: Iterable[int]) -> Iterator[int]:
    """`numbers`, sorted, without repeats."""
    previous = None
    for number in numbers:
        if number != previous:
            yield number
            previous = number


def resolvers_from_config(spec: str, *, cache_size: int = DEFAULT_CACHE_SIZE) -> CompanyResolver:
    """The resolver `HEARTH_IP_RESOLVERS` describes: ``kind:path`` entries, comma-separated,
    tried in order (`maxmind:` a .mmdb file, `csv:` an IP-range CSV), cached unless
    `cache_size` is 0. Raises `ResolverDataError` / `ConfigError` for a bad entry or file."""
    opened: list[CompanyResolver] = []
    kinds: dict[str, type[MaxMindResolver] | type[CsvRangeResolver]] = {
        "maxmind": MaxMindResolver,
        "csv": CsvRangeResolver,
    }
    try:
        for entry in filter(None, (part.strip() for part in spec.split(","))):
            kind, colon, path = entry.partition(":")
            if not colon or kind not in kinds or not path:
                raise ConfigError(
                    f"HEARTH_IP_RESOLVERS: {entry!r} is not maxmind:<path> or csv:<path>"
                )
            opened.append(kinds[kind](path))
    except BaseException:
        for resolver in opened:
            resolver.close()
        raise
    chain: CompanyResolver = ChainResolver(opened)
    return CachedResolver(chain, maxsize=cache_size) if cache_size else chain
