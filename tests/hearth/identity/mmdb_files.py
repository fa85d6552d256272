"""Small MaxMind DB files for tests, written with mmdb-writer."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet


def write_mmdb(
    path: Path,
    records: Mapping[str, Any],
    *,
    database_type: str,
    ip_version: int = 6,
) -> Path:
    """Writes `records` ({network: record}, larger networks first) to `path` and returns it.

    An IPv6 file holds IPv4 networks too, where MaxMind's files keep them (``::a.b.c.d/96+``).
    """
    writer = MMDBWriter(
        ip_version=ip_version,
        database_type=database_type,
        ipv4_compatible=ip_version == 6,
        description=f"Hearth test {database_type}",
    )
    for network, record in records.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path
