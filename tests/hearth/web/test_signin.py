from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hearth.storage.models import WebSession
from hearth.web.sessions import SESSION_COOKIE

from .conftest import PASSWORD, Site, add_user, form_value


def test_sign_in_sets_a_hardened_session_cookie_and_opens_the_settings(site: Site) -> None:
    add_user(site.engine, "ada@example.com")

    response = site.sign_in("ADA@example.com ")

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = next(h for h in response.headers.get_list("set-cookie") if SESSION_COOKIE in h)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    page = site.hearth.get("/settings/salesforce")
    assert page.status_code == 200
    assert "ada@example.com" in page.text
    # Only the token's hash is stored.
    token = site.hearth.cookies[SESSION_COOKIE]
    with Session(site.engine) as session:
        stored = session.scalars(select(WebSession.token_hash)).all()
    assert token not in stored and len(stored) == 1


def test_pages_redirect_to_sign_in_and_come_back(site: Site) -> None:
    add_user(site.engine, "ada@example.com")

    page = site.hearth.get(
        "/settings/salesforce", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert page.status_code == 303
    assert page.headers["location"] == "/signin?next=/settings/salesforce"
    form = site.hearth.get(page.headers["location"])
    response = site.hearth.post(
        "/signin",
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "next": form_value(form, "next"),
            "csrf_token": form_value(form, "csrf_token"),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/settings/salesforce"


def test_api_answers_401_without_a_session(site: Site) -> None:
    response = site.hearth.get("/api/v1/salesforce/connection")

    assert response.status_code == 401
    assert response.json() == {"detail": "Sign in first."}


def test_wrong_password_and_unknown_email_get_the_same_answer(site: Site) -> None:
    add_user(site.engine, "ada@example.com")

    wrong = site.sign_in("ada@example.com", "not the password")
    unknown = site.sign_in("nobody@example.com")
    malformed = site.sign_in("not an address")

    for response in (wrong, unknown, malformed):
        assert response.status_code == 401
        assert "Wrong email or password." in response.text
    assert SESSION_COOKIE not in site.hearth.cookies


def test_repeated_failures_are_throttled_per_email(site: Site) -> None:
    add_user(site.engine, "ada@example.com")
    for _ in range(10):
        assert site.sign_in("ada@example.com", "guess-guess").status_code == 401

    blocked = site.sign_in("ada@example.com")

    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.text


def test_sign_in_without_the_form_token_is_refused(site: Site) -> None:
    add_user(site.engine, "ada@example.com")

    response = site.hearth.post("/signin", data={"email": "ada@example.com", "password": PASSWORD})

    assert response.status_code == 403
    assert SESSION_COOKIE not in site.hearth.cookies


def test_cross_site_posts_are_refused_even_with_a_token(site: Site) -> None:
    add_user(site.engine, "ada@example.com")
    page = site.hearth.get("/signin")

    response = site.hearth.post(
        "/signin",
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "csrf_token": form_value(page, "csrf_token"),
        },
        headers={"Origin": "https://evil.example"},
    )

    assert response.status_code == 403
    assert "evil.example" in response.json()["detail"]


def test_open_redirects_are_not_followed(site: Site) -> None:
    add_user(site.engine, "ada@example.com")
    page = site.hearth.get("/signin")

    response = site.hearth.post(
        "/signin",
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "next": "//evil.example/phish",
            "csrf_token": form_value(page, "csrf_token"),
        },
        follow_redirects=False,
    )

    assert response.headers["location"] == "/"


def test_sign_out_ends_the_session_on_the_server(site: Site) -> None:
    add_user(site.engine, "ada@example.com")
    site.sign_in("ada@example.com")
    token = site.hearth.cookies[SESSION_COOKIE]
    page = site.hearth.get("/settings/salesforce")

    signed_out = site.hearth.post(
        "/signout", data={"csrf_token": form_value(page, "csrf_token")}, follow_redirects=False
    )

    assert signed_out.status_code == 303
    with Session(site.engine) as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0
    # The old cookie, replayed, no longer signs anyone in.
    site.hearth.cookies.set(SESSION_COOKIE, token)
    assert site.hearth.get("/api/v1/session").status_code == 401


def test_sign_out_needs_the_csrf_token(site: Site) -> None:
    add_user(site.engine, "ada@example.com")
    site.sign_in("ada@example.com")

    response = site.hearth.post("/signout", data={"csrf_token": "forged"})

    assert response.status_code == 403
    assert site.hearth.get("/api/v1/session").status_code == 200
