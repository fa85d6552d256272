"""A person on the demo website, in real headless Chromium, and what Hearth makes of it.

Hearth itself serves the demo site, the snippet and the real ``POST /collect`` (uvicorn in a
thread, on SQLite and on PostgreSQL); the test browses, idles past the session timeout on
Playwright's fake clock, fills the contact form and closes the tab, then reads the visitor that
Hearth stored and checks it against what it did.

Hearth's clock follows the page's fake one (`FollowedClock`): the collect endpoint corrects each
batch by the difference between its arrival and the browser's send time, so with a browser
clock 16 minutes ahead of the real one it would be that correction, not the visit, that set
the events' times.
"""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hearth import Settings, create_app
from hearth.collect.settings import TrackingSettings, save_tracking_settings
from hearth.collect.tables import companies, tracked_events, visitors
from hearth.storage import Plan, create_engine_for, migrate
from hearth.web.demo_site import demo_site_router
from hearth.workspaces import create_site_key, create_workspace
from localforce.server import Listener, free_port, serving_in_thread

from .test_tracking_snippet import ACTIVE_WINDOW_SECONDS, scroll, set_hidden

WAIT_SECONDS = 20.0
EXPECTED_VIEWS = 4  # home, pricing, contact, thanks


class FollowedClock:
    """A clock that moves only when the test moves the page's fake clock, by as much."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def run_for(self, page: Page, milliseconds: int) -> None:
        page.clock.run_for(milliseconds)
        self.now += timedelta(milliseconds=milliseconds)

    def be_active(self, page: Page, seconds: int) -> None:
        """Move the mouse and scroll once a second, for `seconds` seconds."""
        for second in range(seconds):
            page.mouse.move(100 + 40 * (second % 5), 200 + 30 * (second % 3))
            scroll(page)
            self.run_for(page, 1000)


@pytest.fixture
def hearth(database_url: str) -> Iterator[tuple[str, Any, FollowedClock]]:
    migrate(database_url)
    engine = create_engine_for(database_url)
    with Session(engine) as session, session.begin():
        workspace = create_workspace(session, "Acme Rockets", Plan.BUSINESS)
        key = create_site_key(session, workspace).public_key
        # The browser is headless and driven: this workspace counts its browser tests.
        save_tracking_settings(session, workspace.id, TrackingSettings(allow_automation=True))
    port = free_port()
    clock = FollowedClock(datetime.now(UTC))
    app = create_app(
        Settings(
            database_url=database_url,
            base_url=f"http://127.0.0.1:{port}",
            secret_key="end-to-end-secret-key",
            sync_worker=False,
        ),
        clock=clock,
    )
    app.include_router(demo_site_router(lambda: key, allow_automation=True))
    with serving_in_thread(Listener(app=app, host="127.0.0.1", port=port)) as base:
        yield base, engine, clock
    engine.dispose()


def _settle(engine: Any) -> None:
    """Wait until the batches in flight have arrived (no new event for half a second), so a
    jump of the clocks cannot overtake a beacon and shift its events by the jump."""
    seen, still_since = -1, time.monotonic()
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() - still_since < 0.5:
        with Session(engine) as session:
            stored = session.scalar(select(func.count()).select_from(tracked_events))
        if stored != seen:
            seen, still_since = stored, time.monotonic()
        if time.monotonic() > deadline:
            raise AssertionError("batches kept arriving")
        time.sleep(0.05)


def _identified(engine: Any, email: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with Session(engine) as session:
            row = session.execute(select(visitors).where(visitors.c.email == email)).one_or_none()
        # The last page's seconds arrive after the tab closed.
        if row is not None and row.page_views == EXPECTED_VIEWS and row.active_seconds >= 25:
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"Hearth never stored the visit of {email}: {row}")
        time.sleep(0.1)


def test_a_visit_reaches_hearth_as_the_visitor_did_it(
    browser: Browser, hearth: tuple[str, Any, FollowedClock]
) -> None:
    base, engine, clock = hearth
    context = browser.new_context()
    context.clock.install(time=clock.now)
    context.clock.pause_at(clock.now)
    page = context.new_page()
    page.goto(f"{base}/demo/?utm_source=LinkedIn&utm_medium=social&utm_campaign=q4_launch")

    clock.be_active(page, 10)  # active for 10 s, and 5 s more after the last input
    clock.run_for(page, 20_000)
    set_hidden(page, True)
    clock.be_active(page, 10)  # hidden: counts for nothing
    clock.run_for(page, 20_000)
    set_hidden(page, False)
    page.click("#campaign-link")  # to /demo/pricing, with the newsletter's UTM values
    page.wait_for_url("**/demo/pricing?*")
    clock.be_active(page, 3)
    clock.run_for(page, 20_000)
    _settle(engine)
    clock.run_for(page, 16 * 60_000)  # idle past the 15-minute timeout: a new session
    clock.be_active(page, 3)
    page.click("text=Contact")
    page.wait_for_url("**/demo/contact")
    clock.be_active(page, 2)  # reading the form
    page.fill("input[name=name]", "Ada Lovelace")
    page.fill("input[name=email]", "ada@analytical-engines.com")
    page.click("button[type=submit]")
    page.wait_for_url("**/demo/thanks")
    clock.be_active(page, 4)
    page.close()

    row = _identified(engine, "ada@analytical-engines.com")
    context.close()

    assert (row.name, row.identification_source) == ("Ada Lovelace", "form")
    assert row.company_domain == "analytical-engines.com"
    assert row.page_views == EXPECTED_VIEWS
    assert row.sessions == 2
    expected_active = (10 - 1 + ACTIVE_WINDOW_SECONDS) + (3 - 1 + ACTIVE_WINDOW_SECONDS) + 3 + 2 + 4
    assert abs(row.active_seconds - expected_active) <= 3
    assert row.last_session_pages == ["/demo/pricing", "/demo/contact", "/demo/thanks"]
    sources = row.utm_first_seen["source"]
    assert sorted(sources, key=sources.get) == ["LinkedIn", "newsletter"]
    with Session(engine) as session:
        company = session.execute(select(companies)).one()
    assert (company.domain, company.visitor_count, company.page_views) == (
        "analytical-engines.com",
        1,
        4,
    )
