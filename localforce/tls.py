"""A self-signed certificate so the org can serve HTTPS on the loopback interface.

Clients trust it by pointing at the file (`httpx`/`requests` with `verify="DIR/tls/cert.pem"`),
so the certificate is its own CA: basicConstraints CA:TRUE, keyCertSign, and a serverAuth leaf's
names (localhost, 127.0.0.1, ::1). It is made once per data directory and reused, so a client
that trusted it once keeps trusting it across restarts.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CERT_FILE", "KEY_FILE", "TLS_DIR", "ensure_certificate"]

TLS_DIR = "tls"
CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
VALIDITY = timedelta(days=3650)


def _certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "localforce"),
            x509.NameAttribute(NameOID.COMMON_NAME, "localforce local org"),
        ]
    )
    public_key = key.public_key()
    # Backdated a day so a client whose clock runs slightly behind still accepts it.
    not_before = datetime.now(UTC) - timedelta(days=1)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        # Key identifiers: OpenSSL's strict verification (Python 3.13's default) requires them.
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(key, hashes.SHA256())
    )


def _write_pair(directory: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Created 0600 from the start: the key is never readable by others, not even briefly.
    fd = os.open(directory / KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_pem)
    (directory / CERT_FILE).write_bytes(_certificate(key).public_bytes(serialization.Encoding.PEM))


def ensure_certificate(data_dir: Path) -> tuple[Path, Path]:
    """`(cert.pem, key.pem)` under `data_dir/tls`, created on first use and reused after."""
    directory = data_dir / TLS_DIR
    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    if cert_path.is_file() and key_path.is_file():
        return cert_path, key_path
    data_dir.mkdir(parents=True, exist_ok=True)
    # Built in a private (0700) staging directory and renamed into place, so a second process
    # starting at the same moment never sees a certificate without its key, or a mismatched pair.
    staging = Path(tempfile.mkdtemp(prefix=".tls-", dir=data_dir))
    try:
        _write_pair(staging)
        try:
            os.rename(staging, directory)
        except OSError:
            # The directory exists and is not empty: another process won the race, or a pair
            # was left half-deleted. Keep a complete pair; replace an incomplete one.
            if not (cert_path.is_file() and key_path.is_file()):
                os.replace(staging / KEY_FILE, key_path)
                os.replace(staging / CERT_FILE, cert_path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cert_path, key_path
