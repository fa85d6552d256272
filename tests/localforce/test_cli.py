"""The `localforce` command as a user runs it: serve (HTTP and HTTPS), seed, restart, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from localforce.server import free_port

_API = "/services/data/v62.0"


@contextmanager
def _serving(data: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str], int]]:
    port, tls_port = free_port(), free_port()
    connection = data / "connection.json"
    connection.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "localforce", "serve", "--data", str(data),
         "--port", str(port), "--tls-port", str(tls_port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "localforce serve did not start"
            if connection.exists():
                try:
                    httpx.get(f"http://127.0.0.1:{port}/services/data/", timeout=1)
                    break
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        yield process, json.loads(connection.read_text()), port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=15)


def _token(base: str, conn: dict[str, str], **kw: object) -> str:
    response = httpx.post(
        f"{base}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": conn["client_id"],
            "client_secret": conn["client_secret"],
            "username": conn["username"],
            "password": conn["password"],
        },
        **kw,  # type: ignore[arg-type]
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_serve_seed_restart_and_stop(tmp_path: Path) -> None:
    data = tmp_path / "org"
    seeded = subprocess.run(
        [sys.executable, "-m", "localforce", "seed", "--data", str(data), "--accounts", "20",
         "--contacts", "30", "--leads", "30", "--opportunities", "10", "--seed", "3"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    assert json.loads(seeded.stdout.strip().splitlines()[-1])["accounts"] == 20

    with _serving(data) as (process, conn, port):
        assert set(conn) >= {"instance_url", "client_id", "client_secret", "username", "password"}
        https = conn["instance_url"]
        assert https.startswith("https://127.0.0.1:")
        cert = data / "tls" / "cert.pem"
        token = _token(https, conn, verify=ssl.create_default_context(cafile=cert))
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(
            base_url=https, headers=headers, verify=ssl.create_default_context(cafile=cert)
        ) as client:
            assert (
                client.get(f"{_API}/query", params={"q": "SELECT COUNT() FROM Account"}).json()[
                    "totalSize"
                ]
                == 20
            )
            created = client.post(
                f"{_API}/sobjects/Lead", json={"LastName": "Kept", "Company": "K"}
            )
            assert created.status_code == 201
        # The plain-HTTP port serves the same org.
        plain = httpx.get(f"http://127.0.0.1:{port}/services/data/v62.0/limits", headers=headers)
        assert plain.status_code == 200
    assert process.returncode == 0  # Ctrl-C stops it cleanly

    # A restart loses nothing: records, and the credentials written for clients.
    with _serving(data) as (_, again, _):
        assert again["password"] == conn["password"]
        token = _token(again["instance_url"], again, verify=ssl.create_default_context(cafile=cert))
        body = httpx.get(
            f"{again['instance_url']}{_API}/query",
            params={"q": "SELECT LastName FROM Lead WHERE LastName = 'Kept'"},
            headers={"Authorization": f"Bearer {token}"},
            verify=ssl.create_default_context(cafile=cert),
        ).json()
        assert body["totalSize"] == 1


def test_help_explains_every_command() -> None:
    for command in ([], ["serve"], ["seed"]):
        result = subprocess.run(
            [sys.executable, "-m", "localforce", *command, "--help"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0 and "Usage" in result.stdout


def test_seed_refuses_impossible_requests_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "localforce", "seed", "--data", str(tmp_path / "o"),
         "--accounts", "0", "--contacts", "5"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot seed" in result.stderr and "Traceback" not in result.stderr
