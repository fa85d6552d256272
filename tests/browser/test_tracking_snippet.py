"""The tracking snippet in real headless Chromium, on the demo website served by uvicorn.

A test-only ``POST /collect`` records the raw bodies the browser sends (the real collect
endpoint is built elsewhere); the tests read them with the real parser,
`hearth.tracking.events.parse_batch`, so what the snippet sends is checked against the wire
format itself.

Time is Playwright's fake clock (``context.clock``): installed before the first page loads and
paused, so every second of "activity" is one ``run_for(1000)`` and the 15-minute idle timeout is
crossed without waiting. Headless Chromium keeps every page visible (minimising its window or
opening another tab or window changes nothing), so hiding a tab overrides
``document.visibilityState`` and dispatches ``visibilitychange``, as the browser would.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI, Request
from fastapi.responses import Response
from playwright.sync_api import Browser, BrowserContext, Page

from hearth.tracking.events import (
    Activity,
    Event,
    IdentificationSource,
    Identify,
    PageView,
    ParsedBatch,
    UtmValues,
    parse_batch,
)
from hearth.web.demo_site import demo_site_router
from hearth.web.snippet import snippet_router
from localforce.server import Listener, free_port, serving_in_thread

SITE_KEY = "site_demo_browser_test"
# hearth.js counts a moment as active within 5 s of the latest input (its WINDOW).
ACTIVE_WINDOW_SECONDS = 5
WAIT_SECONDS = 15.0


class Recorder:
    """A stand-in for the collect endpoint: keeps every body with the time it arrived."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[tuple[datetime, bytes]] = []

    def record(self, body: bytes) -> None:
        with self._lock:
            self._received.append((datetime.now(UTC), body))

    def count(self) -> int:
        with self._lock:
            return len(self._received)

    def batches(self) -> list[ParsedBatch]:
        with self._lock:
            received = list(self._received)
        return [parse_batch(body, received_at=at) for at, body in received]

    def wait_for(self, done: Callable[[list[ParsedBatch]], bool], what: str) -> list[ParsedBatch]:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            batches = self.batches()
            if done(batches):
                return batches
            if time.monotonic() > deadline:
                raise AssertionError(f"the collect endpoint never received {what}: {batches}")
            time.sleep(0.05)


@contextmanager
def demo_server(
    *, respect_privacy: bool = False, allow_automation: bool = True
) -> Iterator[tuple[str, Recorder]]:
    """The snippet, the demo website and a recording collect endpoint on one uvicorn server."""
    recorder = Recorder()
    app = FastAPI()
    app.include_router(snippet_router())
    app.include_router(
        demo_site_router(
            lambda: SITE_KEY, respect_privacy=respect_privacy, allow_automation=allow_automation
        )
    )

    @app.post("/collect")
    async def collect(request: Request) -> Response:
        recorder.record(await request.body())
        return Response(status_code=204)

    with serving_in_thread(Listener(app=app, host="127.0.0.1", port=free_port())) as base:
        yield base, recorder


def events(batches: list[ParsedBatch]) -> list[Event]:
    return [event for batch in batches for event in batch.events]


def pageviews(batches: list[ParsedBatch]) -> list[PageView]:
    return [event for event in events(batches) if isinstance(event, PageView)]


def activities(batches: list[ParsedBatch]) -> list[Activity]:
    return [event for event in events(batches) if isinstance(event, Activity)]


def identifies(batches: list[ParsedBatch]) -> list[Identify]:
    return [event for event in events(batches) if isinstance(event, Identify)]


def active_seconds(batches: list[ParsedBatch], path: str, session: str | None = None) -> int:
    return sum(
        event.seconds
        for event in activities(batches)
        if event.path == path and session in (None, event.client_session_id)
    )


def be_active(page: Page, seconds: int) -> None:
    """Move the mouse and scroll once a second, for `seconds` seconds of the page's clock."""
    for second in range(seconds):
        page.mouse.move(100 + 40 * (second % 5), 200 + 30 * (second % 3))
        scroll(page)
        page.clock.run_for(1000)


def scroll(page: Page) -> None:
    """Turn the mouse wheel, down at the top of the page and up elsewhere, and wait for the
    scroll to end, so that no scroll event lands at a later moment of the fake clock."""
    pixels = page.evaluate(
        """() => {
            if (document.scrollingElement.scrollHeight <= innerHeight) return 0;
            window.scrolled = new Promise(r => addEventListener('scrollend', r, {once: true}));
            return scrollY > 0 ? -120 : 120;
        }"""
    )
    if pixels:
        page.mouse.wheel(0, pixels)
        page.evaluate("() => window.scrolled")


def set_hidden(page: Page, hidden: bool) -> None:
    """Hide or show the tab as the browser does: the visibility state, then the event."""
    page.evaluate(
        """hidden => {
            if (hidden) {
                const property = value => ({configurable: true, get: () => value});
                Object.defineProperty(document, 'visibilityState', property('hidden'));
                Object.defineProperty(document, 'hidden', property(true));
            } else {
                delete document.visibilityState;
                delete document.hidden;
            }
            document.dispatchEvent(new Event('visibilitychange'));
        }""",
        hidden,
    )


def paused_context(browser: Browser) -> BrowserContext:
    context = browser.new_context()
    start = datetime.now(UTC)
    context.clock.install(time=start)
    context.clock.pause_at(start + timedelta(seconds=1))
    return context


def test_a_visit_is_reported_in_the_wire_format(browser: Browser) -> None:
    with demo_server() as (base, recorder):
        context = paused_context(browser)
        page = context.new_page()
        home = (
            f"{base}/demo/?utm_source=LinkedIn&utm_medium=social"
            "&utm_campaign=q4_launch&utm_content=carousel"
        )
        page.goto(home)

        # 10 s of input, then none: active until 5 s after the last input.
        be_active(page, 10)
        page.clock.run_for(20_000)
        # Hidden: 10 s of input count for nothing.
        set_hidden(page, True)
        be_active(page, 10)
        page.clock.run_for(20_000)
        set_hidden(page, False)
        page.clock.run_for(20_000)
        # Another window has the focus: a pointer passing over the page counts for nothing.
        page.evaluate("dispatchEvent(new FocusEvent('blur'))")
        be_active(page, 5)
        page.clock.run_for(20_000)
        page.evaluate("dispatchEvent(new FocusEvent('focus'))")

        page.click("#campaign-link")
        page.wait_for_url("**/demo/pricing?*")
        be_active(page, 3)
        page.clock.run_for(20_000)
        # 16 minutes without input end the session; the next input starts another.
        page.clock.run_for(16 * 60_000)
        be_active(page, 3)

        page.click("text=Contact")
        page.wait_for_url("**/demo/contact")
        page.fill("input[name=name]", "Ada Lovelace")
        page.fill("input[name=email]", "Ada@Lovelace.example")
        page.click("button[type=submit]")
        page.wait_for_url("**/demo/thanks")

        # A single-page app's navigation, and the identify API.
        page.evaluate("history.pushState({}, '', '/demo/thanks/next?utm_medium=spa')")
        assert page.evaluate(
            """hearth.identify(' ann@acme.example ', {name: 'Ann Lee', title: 'CTO',
                linkedin: 'https://linkedin.com/in/annlee', plan: 'ignored'})"""
        )
        assert not page.evaluate("hearth.identify('not an address')")
        be_active(page, 4)
        sent_before_close = recorder.count()
        page.close()

        batches = recorder.wait_for(
            lambda got: active_seconds(got, "/demo/thanks/next") > 0,
            "the last page's activity",
        )
        context.close()

    # The last page's seconds went out on pagehide, in a batch sent after the tab closed.
    assert any(
        isinstance(event, Activity) and event.path == "/demo/thanks/next"
        for batch in batches[sent_before_close:]
        for event in batch.events
    )
    assert all(batch.rejected == () for batch in batches)
    assert {batch.site_key for batch in batches} == {SITE_KEY}
    assert len({batch.anonymous_id for batch in batches}) == 1
    ids = [event.event_id for event in events(batches)]
    assert len(ids) == len(set(ids))

    views = pageviews(batches)
    assert [view.path for view in views] == [
        "/demo/",
        "/demo/pricing",
        "/demo/contact",
        "/demo/thanks",
        "/demo/thanks/next",
    ]
    assert views[0].utm == UtmValues(
        source="LinkedIn", medium="social", campaign="q4_launch", content="carousel"
    )
    assert views[0].title == "Acme Rockets: rockets for every team"
    assert views[1].utm == UtmValues(
        source="newsletter", medium="email", campaign="spring_launch", content="hero_button"
    )
    assert views[1].referrer == home
    assert views[4].utm == UtmValues(medium="spa")
    assert views[4].referrer == f"{base}/demo/thanks"

    first, second = views[0].client_session_id, views[2].client_session_id
    assert first != second
    assert views[1].client_session_id == first
    assert {view.client_session_id for view in views[2:]} == {second}

    # Active time: within a second of what the test did, nothing while hidden or unfocused.
    assert abs(active_seconds(batches, "/demo/") - (10 - 1 + ACTIVE_WINDOW_SECONDS)) <= 1
    assert abs(active_seconds(batches, "/demo/pricing", first) - (3 - 1 + 5)) <= 1
    assert abs(active_seconds(batches, "/demo/pricing", second) - 3) <= 1
    assert abs(active_seconds(batches, "/demo/thanks/next") - 4) <= 1
    assert all(1 <= event.seconds <= 60 for event in activities(batches))

    form, api = identifies(batches)
    assert (form.email, form.source, form.traits.name) == (
        "ada@lovelace.example",
        IdentificationSource.FORM,
        "Ada Lovelace",
    )
    assert (api.email, api.source) == ("ann@acme.example", IdentificationSource.API)
    assert (api.traits.name, api.traits.title, api.traits.linkedin) == (
        "Ann Lee",
        "CTO",
        "https://linkedin.com/in/annlee",
    )


def test_tabs_share_a_session_until_the_last_one_closes(browser: Browser) -> None:
    with demo_server() as (base, recorder):
        context = browser.new_context()
        first_tab = context.new_page()
        first_tab.goto(f"{base}/demo/")
        second_tab = context.new_page()
        second_tab.goto(f"{base}/demo/pricing")
        batches = recorder.wait_for(lambda got: len(pageviews(got)) == 2, "two page views")
        home, pricing = sorted(pageviews(batches), key=lambda view: view.path)
        assert home.client_session_id == pricing.client_session_id

        # A reload is not a new visit; closing every tab ends it.
        second_tab.reload()
        recorder.wait_for(lambda got: len(pageviews(got)) == 3, "the reload's page view")
        first_tab.close()
        second_tab.close()
        third_tab = context.new_page()
        third_tab.goto(f"{base}/demo/blog/warm-leads")
        batches = recorder.wait_for(lambda got: len(pageviews(got)) == 4, "a new tab's view")
        context.close()

    views = pageviews(batches)
    assert views[2].path == "/demo/pricing"
    assert views[2].client_session_id == home.client_session_id
    assert views[3].path == "/demo/blog/warm-leads"
    assert views[3].client_session_id != home.client_session_id
    assert {view.anonymous_id for view in views} == {home.anonymous_id}


def _browse(context: BrowserContext, base: str) -> None:
    """Everything that makes the snippet send: a visit, activity, a form, the API, closing."""
    page = context.new_page()
    page.goto(f"{base}/demo/contact")
    page.mouse.move(50, 50)
    page.fill("input[name=email]", "ada@lovelace.example")
    page.click("button[type=submit]")
    page.wait_for_url("**/demo/thanks")
    page.evaluate("window.hearth.identify('ada@lovelace.example')")
    page.close()


def test_privacy_signals_stop_the_snippet_when_the_tag_asks(browser: Browser) -> None:
    signals = {
        "Global Privacy Control": (
            "Object.defineProperty(navigator, 'globalPrivacyControl', {get: () => true})"
        ),
        "Do Not Track": "Object.defineProperty(navigator, 'doNotTrack', {get: () => '1'})",
    }
    with demo_server(respect_privacy=True) as (base, recorder):
        for script in signals.values():
            private = browser.new_context()
            private.add_init_script(script)
            _browse(private, base)
            private.close()
        # The same visit without a signal is reported; only it is.
        control = browser.new_context()
        _browse(control, base)
        batches = recorder.wait_for(
            lambda got: len(identifies(got)) == 2, "the control visit's identify calls"
        )
        control.close()
    assert len({batch.anonymous_id for batch in batches}) == 1
    assert [view.path for view in pageviews(batches)] == ["/demo/contact", "/demo/thanks"]


def test_automated_browsers_are_not_tracked_unless_the_tag_allows_it(browser: Browser) -> None:
    with demo_server(allow_automation=False) as (base, recorder):
        automated = browser.new_context()
        assert automated.new_page().evaluate("navigator.webdriver") is True
        _browse(automated, base)
        automated.close()
        # The same visit from a browser that is not automated is reported; only it is.
        person = browser.new_context()
        person.add_init_script("Object.defineProperty(navigator, 'webdriver', {get: () => false})")
        _browse(person, base)
        batches = recorder.wait_for(lambda got: len(identifies(got)) == 2, "the person's visit")
        person.close()
    assert len({batch.anonymous_id for batch in batches}) == 1
    assert [view.path for view in pageviews(batches)] == ["/demo/contact", "/demo/thanks"]
