"""Real-browser fixtures: the session `app` served over HTTP in a background thread, and headless Chromium.

Chromium is Debian's (/usr/bin/chromium): Playwright cannot download its own browsers here. A missing
browser fails the run loudly instead of skipping, so a broken CI image cannot pass silently.
"""
from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("EXPO_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def live_server(app):
    """Base URL of the app served by werkzeug on 127.0.0.1 and a free port, for the whole module."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"e2e tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium; or set "
                    f"EXPO_E2E_CHROMIUM to another Chromium binary). Playwright cannot download browsers here.",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser, live_server):
    """Opens a page in a fresh browser context (its own cookies: one user each); JS errors fail the test."""
    contexts, errors = [], []

    def open_page(locale="en-US", *, javascript=True, timezone_id=None, viewport=None):
        context = browser.new_context(base_url=live_server, locale=locale, timezone_id=timezone_id,
                                      java_script_enabled=javascript,
                                      viewport=viewport or {"width": 1024, "height": 768})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors in the browser: {errors}"


def sign_in(page, email: str, language: str = "en", password: str | None = None) -> None:
    """Sign in through the login form in ``language`` (the language switch first, then the form), with the
    tests' password unless another is given (the demo's)."""
    from ..conftest import PASSWORD

    page.goto(f"/lang/{language}?next=/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password or PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    assert "/login" not in page.url, f"sign-in failed for {email}: {page.inner_text('body')[:500]}"
