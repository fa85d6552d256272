from sqlalchemy import select
from sqlalchemy.orm import Session

from hearth.collect.settings import load_tracking_settings
from hearth.storage.models import SiteKey
from tests.hearth.wire import now_ms, page

from .conftest import Site, add_user, form_value
from .test_collect import send


def test_settings_show_the_snippet_with_the_site_key(site: Site) -> None:
    add_user(site.engine, "ada@example.com")
    site.sign_in("ada@example.com")

    response = site.hearth.get("/settings/tracking")

    with Session(site.engine) as session:
        key = session.scalars(select(SiteKey.public_key)).one()
    assert response.status_code == 200
    assert f'data-site="{key}"' in response.text
    assert "http://127.0.0.1:8000/hearth.js" in response.text


def test_admins_save_settings_and_bad_ones_are_explained(site: Site) -> None:
    add_user(site.engine, "ada@example.com")
    site.sign_in("ada@example.com")
    page_ = site.hearth.get("/settings/tracking")
    token = form_value(page_, "csrf_token")

    saved = site.hearth.post(
        "/settings/tracking",
        data={
            "csrf_token": token,
            "allowed_origins": "https://www.acme.com/\nhttps://acme.com",
            "respect_privacy_signals": "true",
            "retention_days": "30",
        },
        follow_redirects=False,
    )
    bad = site.hearth.post(
        "/settings/tracking",
        data={"csrf_token": token, "allowed_origins": "acme.com", "retention_days": "30"},
    )

    assert saved.status_code == 303
    with Session(site.engine) as session:
        settings = load_tracking_settings(session, 1)
    assert settings.allowed_origins == ("https://www.acme.com", "https://acme.com")
    assert settings.respect_privacy_signals and settings.retention_days == 30
    assert bad.status_code == 400 and "is not an origin" in bad.text
    # The tag to install now asks the snippet to respect the signals too.
    assert 'data-respect-privacy="true"' in site.hearth.get("/settings/tracking").text


def test_a_new_api_key_is_shown_once(site: Site) -> None:
    add_user(site.engine, "ada@example.com")
    site.sign_in("ada@example.com")
    token = form_value(site.hearth.get("/settings/tracking"), "csrf_token")

    created = site.hearth.post(
        "/settings/tracking/api-keys", data={"csrf_token": token, "name": "form backend"}
    )

    assert 'id="new-api-key"' in created.text and "hk_" in created.text
    later = site.hearth.get("/settings/tracking")
    assert "form backend" in later.text and 'id="new-api-key"' not in later.text


def test_visitors_appear_on_the_visitors_page(site: Site) -> None:
    add_user(site.engine, "ada@example.com")
    site.sign_in("ada@example.com")
    site.hearth.get("/settings/tracking")  # makes the site key
    with Session(site.engine) as session:
        key = session.scalars(select(SiteKey.public_key)).one()
    send(site, key, [page(now_ms(), "/pricing", "?utm_source=newsletter")])

    response = site.hearth.get("/visitors")

    assert 'http-equiv="refresh"' in response.text
    assert "/pricing" in response.text and "newsletter" in response.text
    send(site, key, [page(now_ms())], headers={"User-Agent": "Googlebot/2.1"})
    counts = site.hearth.get("/settings/tracking").text
    assert "<td>1</td><td>0</td><td>0</td><td>1</td>" in counts
