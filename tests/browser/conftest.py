"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

`.ci/run` installs the browser. Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path(os.environ.get("HEARTH_TEST_CHROMIUM", "/usr/bin/chromium"))
# Closed network: keep Chromium from reaching out at start-up.
_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A fresh browser per test: Playwright's sync API holds an event loop on this thread while
    it runs, which would break async tests that a worker runs after it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium); "
            "set HEARTH_TEST_CHROMIUM to use another binary.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=_ARGS
        )
        yield launched
        launched.close()
