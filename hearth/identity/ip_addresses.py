"""Visitors' IP addresses: parsing, the public/non-public test, and truncation for storage.

Pure: the standard library's `ipaddress` and nothing else. The caller picks which string is
the client's address (the socket's peer, or the right entry of ``X-Forwarded-For`` behind a
proxy it trusts); this module only reads it.

- `parse_ip` reads one address, IPv4 or IPv6, as it appears in a request: ``"203.0.113.7"``,
  ``" 2001:db8::1 "``, ``"[2001:db8::1]:443"``, ``"203.0.113.7:51234"``,
  ``'"[2001:db8::1]"'`` (a quoted ``Forwarded: for=`` value). An IPv4-mapped IPv6 address
  (``::ffff:203.0.113.7``, what a dual-stack socket reports) comes back as the IPv4 address,
  and an IPv6 zone (``fe80::1%eth0``) is dropped. Anything else gives None.
- `is_public` says whether an address can belong to a company on the Internet. Private,
  loopback, link-local, multicast, unspecified, reserved, documentation and carrier-grade NAT
  (``100.64.0.0/10``) addresses are not public, and are never looked up.
- `truncate_ip` is what Hearth stores: the address with its host part zeroed, IPv4 to its /24
  (``203.0.113.7`` -> ``203.0.113.0``) and IPv6 to its /48 (``2001:db8:1:2::7`` ->
  ``2001:db8:1::``). These are the prefixes analytics tools keep when they anonymise an
  address (Google Analytics zeroes the last IPv4 octet and the last 80 IPv6 bits): enough to
  see a network, not a household or a device. A workspace that opts in keeps full addresses
  (`ip_for_storage`).
"""

import ipaddress

__all__ = [
    "IPV4_STORED_PREFIX",
    "IPV6_STORED_PREFIX",
    "IPAddress",
    "ip_for_storage",
    "is_public",
    "parse_ip",
    "truncate_ip",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
"""An IPv4 or IPv6 address, as `ipaddress.ip_address` returns it."""

IPV4_STORED_PREFIX = 24
"""Bits of an IPv4 address kept in storage: the /24 network."""
IPV6_STORED_PREFIX = 48
"""Bits of an IPv6 address kept in storage: the /48 network (one site's allocation)."""

_MAX_INPUT_LENGTH = 100  # longer than any written address with brackets, zone and port
_CARRIER_GRADE_NAT = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598, shared address space
_IPV6_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")  # deprecated, but never global


def parse_ip(value: str | None) -> IPAddress | None:
    """The address written in `value`, or None if it is not one address.

    Accepts surrounding whitespace and double quotes, ``[v6]`` and ``[v6]:port``, and
    ``v4:port``. IPv4-mapped IPv6 addresses come back as IPv4; IPv6 zones are dropped.
    A list (``"203.0.113.7, 10.0.0.1"``) is not one address: the caller chooses the entry.
    """
    if value is None or len(value) > _MAX_INPUT_LENGTH:
        return None
    text = value.strip().removeprefix('"').removesuffix('"').strip()
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and _is_port(rest[1:]))):
            return None
        text = host
    elif text.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has two or more
        text, _, port = text.partition(":")
        if not _is_port(port):
            return None
    text = text.partition("%")[0]  # an IPv6 zone names an interface on one host
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_public(ip: IPAddress) -> bool:
    """True if `ip` is a globally routable unicast address that can belong to a company.

    False for private, loopback, link-local, multicast, unspecified, reserved, documentation,
    benchmarking and carrier-grade NAT (``100.64.0.0/10``) addresses, and IPv6 site-local
    ones. An IPv4-mapped IPv6 address is judged as its IPv4 address.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public(ip.ipv4_mapped)
        if ip in _IPV6_SITE_LOCAL:
            return False
    elif ip in _CARRIER_GRADE_NAT:
        return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
    )


def truncate_ip(ip: IPAddress) -> IPAddress:
    """`ip` with its host part zeroed: the first address of its /24 (IPv4) or /48 (IPv6).

    ``truncate_ip(truncate_ip(ip)) == truncate_ip(ip)``. An IPv4-mapped IPv6 address is
    truncated as its IPv4 address.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return truncate_ip(ip.ipv4_mapped)
        return ipaddress.IPv6Network((ip, IPV6_STORED_PREFIX), strict=False).network_address
    return ipaddress.IPv4Network((ip, IPV4_STORED_PREFIX), strict=False).network_address


def ip_for_storage(ip: IPAddress, *, keep_full_ip: bool = False) -> str:
    """The text Hearth stores for `ip`: truncated (`truncate_ip`) unless the workspace opted in.

    ``ip_for_storage(ip_address("203.0.113.7"))`` -> ``"203.0.113.0"``; with
    ``keep_full_ip=True`` -> ``"203.0.113.7"``. IPv6 comes out in its compressed form.
    """
    return str(ip if keep_full_ip else truncate_ip(ip))


def _is_port(port: str) -> bool:
    """True if `port` is a TCP/UDP port number, 0 to 65535."""
    return port.isascii() and port.isdigit() and len(port) <= 5 and int(port) <= 65535
