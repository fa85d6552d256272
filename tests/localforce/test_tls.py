"""The self-signed certificate: its shape, its reuse, and real HTTPS clients trusting it."""

from __future__ import annotations

import ipaddress
import ssl
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette

from localforce.bootstrap import bootstrap
from localforce.oauth import oauth_routes
from localforce.org import Org
from localforce.server import Listener, free_port, serving_in_thread
from localforce.tls import ensure_certificate


def _load(cert_path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(cert_path.read_bytes())


def test_certificate_shape(tmp_path: Path) -> None:
    cert_path, key_path = ensure_certificate(tmp_path)

    assert (cert_path, key_path) == (tmp_path / "tls" / "cert.pem", tmp_path / "tls" / "key.pem")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    cert = _load(cert_path)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=3650)
    assert cert.issuer == cert.subject
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert key.public_key() == cert.public_key()


def test_certificate_is_reused(tmp_path: Path) -> None:
    cert_path, key_path = ensure_certificate(tmp_path)
    cert, key = cert_path.read_bytes(), key_path.read_bytes()
    assert ensure_certificate(tmp_path) == (cert_path, key_path)
    assert (cert_path.read_bytes(), key_path.read_bytes()) == (cert, key)


def test_an_incomplete_pair_is_replaced_by_a_matching_one(tmp_path: Path) -> None:
    cert_path, key_path = ensure_certificate(tmp_path)
    old_cert = cert_path.read_bytes()
    key_path.unlink()
    ensure_certificate(tmp_path)
    assert cert_path.read_bytes() != old_cert
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert key.public_key() == _load(cert_path).public_key()
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["tls"]  # no staging directory left behind


@pytest.fixture
def https_org(tmp_path: Path) -> Iterator[tuple[str, Path, Org]]:
    """The org's OAuth routes served over HTTPS by uvicorn on a free loopback port."""
    cert_path, key_path = ensure_certificate(tmp_path)
    org = Org.open(None)
    listener = Listener(
        app=Starlette(routes=oauth_routes(org)),
        host="127.0.0.1",
        port=free_port(),
        certfile=cert_path,
        keyfile=key_path,
    )
    try:
        with serving_in_thread(listener) as base:
            yield base, cert_path, org
    finally:
        org.close()


def test_clients_trust_the_certificate_over_real_https(
    https_org: tuple[str, Path, Org],
) -> None:
    base, cert_path, org = https_org
    creds = bootstrap(org)
    assert creds is not None
    form = {
        "grant_type": "password",
        "client_id": creds.app.client_id,
        "client_secret": creds.app.client_secret,
        "username": creds.username,
        "password": creds.password,
    }
    context = ssl.create_default_context(cafile=str(cert_path))
    with httpx.Client(verify=context) as client:
        body = client.post(f"{base}/services/oauth2/token", data=form).json()
    # The HTTPS listener reports itself as the instance URL.
    assert body["instance_url"] == base

    response = requests.post(f"{base}/services/oauth2/token", data=form, verify=str(cert_path))
    assert response.status_code == 200

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.post(f"{base}/services/oauth2/token", data=form)  # the system store does not know it
