"""``GET /hearth.js`` (headers, gzip, ETag, the size budget) and the demo website's pages."""

import gzip
import re

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from hearth.web.demo_site import DEMO_PAGES, demo_site_router
from hearth.web.snippet import SNIPPET_PATH, Snippet, accepts_gzip, snippet_router

# What a website pays for the snippet, compressed as served.
GZIP_BUDGET_BYTES = 3 * 1024


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.include_router(snippet_router())
    return TestClient(app)


def _raw_get(
    client: TestClient, accept_encoding: str, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    """GET /hearth.js without the client's own decompression: the bytes as sent."""
    with client.stream(
        "GET", "/hearth.js", headers={"Accept-Encoding": accept_encoding, **headers}
    ) as response:
        return response.status_code, dict(response.headers), b"".join(response.iter_raw())


def test_the_snippet_is_served_as_javascript_with_short_caching(client: TestClient) -> None:
    status, headers, body = _raw_get(client, "identity")
    assert status == 200
    assert headers["content-type"] == "application/javascript; charset=utf-8"
    assert headers["cache-control"] == "public, max-age=300"
    assert headers["vary"] == "Accept-Encoding"
    assert headers["x-content-type-options"] == "nosniff"
    assert "content-encoding" not in headers
    assert re.fullmatch(r'"[0-9a-f]{20}"', headers["etag"])
    assert body == Snippet.load().body
    # The maintainers' comment block is left out; the code is served as written.
    source = SNIPPET_PATH.read_bytes()
    assert body.startswith(b"/* Hearth tracking snippet, docs/tracking.md */")
    assert b"Sessions. localStorage" in source
    assert b"Sessions. localStorage" not in body
    assert source.endswith(body[body.index(b"*/") + 2 :])


def test_gzip_when_the_client_accepts_it(client: TestClient) -> None:
    status, headers, body = _raw_get(client, "br, gzip;q=0.8")
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["etag"].endswith('-gzip"')
    assert gzip.decompress(body) == Snippet.load().body
    assert int(headers["content-length"]) == len(body)


def test_the_snippet_stays_within_its_size_budget(client: TestClient) -> None:
    _, _, body = _raw_get(client, "gzip")
    assert len(body) < GZIP_BUDGET_BYTES


@pytest.mark.parametrize("accept_encoding", ["gzip", "identity"])
def test_a_matching_etag_is_answered_with_304(client: TestClient, accept_encoding: str) -> None:
    _, first, _ = _raw_get(client, accept_encoding)
    status, headers, body = _raw_get(client, accept_encoding, **{"If-None-Match": first["etag"]})
    assert (status, body) == (304, b"")
    assert headers["etag"] == first["etag"]
    assert headers["cache-control"] == "public, max-age=300"
    # Weak comparison, lists and "*" as RFC 9110 says.
    for value in (f"W/{first['etag']}", f'"other", {first["etag"]}', "*"):
        assert _raw_get(client, accept_encoding, **{"If-None-Match": value})[0] == 304
    assert _raw_get(client, accept_encoding, **{"If-None-Match": '"other"'})[0] == 200


def test_a_changed_snippet_changes_the_etag() -> None:
    one = Snippet.from_source(b"/* notes */\nconsole.log(1);\n")
    two = Snippet.from_source(b"/* notes */\nconsole.log(2);\n")
    assert one.etag != two.etag
    assert one.body.endswith(b"\nconsole.log(1);\n")
    assert Snippet.from_source(b"var a;\n").body == b"var a;\n"


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("GZIP", True),
        ("deflate, gzip;q=1.0, *;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("identity", False),
        ("", False),
        ("*", True),
        ("*;q=0", False),
        ("br, *;q=0.1", True),
        ("gzip;q=0, *", False),
        ("x-gzip", True),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def _demo(site_key: str | None, **options: bool) -> TestClient:
    app = FastAPI()
    app.include_router(demo_site_router(lambda: site_key, **options))
    return TestClient(app)


def test_every_demo_page_carries_the_snippet_with_the_site_key() -> None:
    client = _demo("site_Demo123")
    tag = '<script src="/hearth.js" data-site="site_Demo123" defer></script>'
    for path in DEMO_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert tag in response.text, path
        assert 'id="no-site-key"' not in response.text
    home = client.get("/demo/").text
    for link in ("/demo/pricing", "/demo/blog/warm-leads", "/demo/contact"):
        assert f'href="{link}"' in home
    assert "utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=spring_launch" in home
    contact = client.get("/demo/contact").text
    assert 'name="name"' in contact
    assert 'name="email" type="email"' in contact


def test_the_site_key_is_looked_up_for_every_page() -> None:
    keys = iter(["site_first", "site_second"])
    app = FastAPI()
    app.include_router(demo_site_router(lambda: next(keys)))
    client = TestClient(app)
    assert 'data-site="site_first"' in client.get("/demo/").text
    assert 'data-site="site_second"' in client.get("/demo/pricing").text


def test_without_a_site_key_the_demo_says_so_and_carries_no_snippet() -> None:
    page = _demo(None).get("/demo/").text
    assert 'id="no-site-key"' in page
    assert "hearth.js" not in page


def test_the_tag_options_become_data_attributes() -> None:
    page = _demo("site_x", respect_privacy=True, allow_automation=True).get("/demo/").text
    assert (
        '<script src="/hearth.js" data-site="site_x" data-respect-privacy="true" '
        'data-allow-automation="true" defer></script>'
    ) in page


def test_the_site_key_is_escaped() -> None:
    page = _demo('site_"><script>').get("/demo/").text
    assert 'data-site="site_&#34;&gt;&lt;script&gt;"' in page


def test_the_contact_form_redirects_to_the_thank_you_page() -> None:
    client = _demo("site_x")
    response = client.post(
        "/demo/contact",
        data={"name": "Ada", "email": "ada@example.com"},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/demo/thanks")
    redirect = client.get("/demo", follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"]) == (308, "/demo/")
