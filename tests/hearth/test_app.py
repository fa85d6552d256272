from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import make_url
from starlette.testclient import TestClient

from hearth import Settings, __version__, create_app
from hearth.errors import ConfigError

UNREACHABLE_POSTGRESQL = "postgresql://postgres:db-s3cret@127.0.0.1:1/hearth?connect_timeout=2"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
SECRET_KEY = "test-secret-key-0123456789"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(
        Settings(secret_key=SECRET_KEY, database_url=f"sqlite:///{tmp_path / 'hearth.db'}")
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_home_page_names_the_database_backend_but_never_its_password(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(password="db-s3cret")  # the test server trusts, so any password works
    settings = Settings(
        secret_key=SECRET_KEY, database_url=url.render_as_string(hide_password=False)
    )

    with TestClient(create_app(settings)) as client:
        response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Hearth is up" in response.text
    assert f"Version {__version__}" in response.text
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[url.get_backend_name()]
    assert f"<dd>{label}</dd>" in response.text
    assert "not paired" in response.text
    assert "db-s3cret" not in response.text


def test_home_page_names_the_paired_salesforce_org(tmp_path: Path) -> None:
    settings = Settings(
        secret_key=SECRET_KEY,
        database_url=f"sqlite:///{tmp_path / 'hearth.db'}",
        salesforce_login_url="http://127.0.0.1:8001/",
    )

    with TestClient(create_app(settings)) as client:
        response = client.get("/")

    assert "paired with <code>http://127.0.0.1:8001</code>" in response.text
    assert "not paired" not in response.text


def test_healthz_checks_the_database(database_url: str) -> None:
    with TestClient(
        create_app(Settings(secret_key=SECRET_KEY, database_url=database_url))
    ) as client:
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_reports_an_unreachable_database_without_details() -> None:
    with TestClient(
        create_app(Settings(secret_key=SECRET_KEY, database_url=UNREACHABLE_POSTGRESQL))
    ) as client:
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "detail": "the database does not answer"}


def test_unknown_api_path_is_a_json_404(client: TestClient) -> None:
    response = client.get("/api/nothing-here", headers=BROWSER)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found: /api/nothing-here"}


def test_unknown_page_is_an_html_404_for_browsers(client: TestClient) -> None:
    response = client.get("/nothing-here", headers=BROWSER)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not found: /nothing-here" in response.text


def test_wrong_method_keeps_the_allow_header(client: TestClient) -> None:
    response = client.post("/healthz")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize(
    ("path", "headers", "content_type"),
    [("/api/fail", {}, "application/json"), ("/fail", BROWSER, "text/html")],
)
def test_an_unhandled_error_reveals_nothing(
    tmp_path: Path, path: str, headers: dict[str, str], content_type: str
) -> None:
    app: FastAPI = create_app(
        Settings(secret_key=SECRET_KEY, database_url=f"sqlite:///{tmp_path / 'hearth.db'}")
    )

    def fail() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route(path, fail)

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(path, headers=headers)

    assert response.status_code == 500
    assert response.headers["content-type"].startswith(content_type)
    assert "Internal server error" in response.text
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_refuses_to_start_without_a_secret_key_outside_demo_mode(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'hearth.db'}"

    with pytest.raises(ConfigError, match="HEARTH_SECRET_KEY is not set"):
        create_app(Settings(database_url=database_url))
    with pytest.raises(ConfigError, match="at least 16 characters"):
        create_app(Settings(database_url=database_url, secret_key="short"))
    # A demonstration runs on a key of its own.
    assert create_app(Settings(database_url=database_url, demo_mode=True)) is not None
