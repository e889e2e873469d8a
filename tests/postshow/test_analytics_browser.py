"""The edition analytics page in a real browser (Chromium) on the demo world: its charts are drawn, no script fails,
a click on a bar opens the list behind it, and on a 375 px phone the page does not scroll sideways.
Screenshots go to $EXPO_SCREENSHOTS (default: the test's tmp dir) as <lang>-<width>-analytics.png."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from expo import demo
from expo.core.models import Edition
from expo.extensions import db

from ..e2e.conftest import browser, live_server  # noqa: F401 (fixtures)
from .test_pages_browser import LOCALES, VIEWPORTS, drawn, sign_in

pytestmark = pytest.mark.e2e
CHARTS = ("chart-trend", "chart-days", "chart-hours", "chart-buyers", "chart-categories", "chart-sources",
          "chart-exhibitors", "chart-distribution", "chart-top")


@pytest.fixture
def world(make):
    accounts = demo.generate(visitors=150, exhibitors=12, editions=2)
    live = db.session.scalar(select(Edition).where(Edition.status == "live"))
    db.session.commit()
    values = {"accounts": accounts, "edition": live.id}
    db.session.remove()
    return values


def test_analytics_page_in_the_browser(browser, live_server, world, shots):  # noqa: F811
    errors, overflow = [], []
    url = f"/org/editions/{world['edition']}/analytics"
    for language, locale in LOCALES.items():
        for device, viewport in VIEWPORTS.items():
            context = browser.new_context(base_url=live_server, locale=locale, viewport=viewport)
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.on("pageerror", lambda error, page=page: errors.append(f"{page.url}: {error}"))
            page.goto(f"/lang/{language}?next=/login")
            sign_in(page, world["accounts"]["owner"])
            page.goto(url)
            page.wait_for_load_state("load")
            for chart in CHARTS:
                assert drawn(page, chart), f"{chart} not drawn ({language}, {device})"
            width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            if width[0] > width[1]:
                overflow.append(f"analytics ({language}, {device}): {width[0]}px in {width[1]}px")
            page.wait_for_timeout(500)
            page.screenshot(path=str(shots / f"{language}-{viewport['width']}-analytics.png"), full_page=True)
            if language == "en" and device == "desktop":  # a figure opens its list
                page.click("#figures a.kpi >> nth=0")
                page.wait_for_load_state("load")
                assert "/registrations" in page.url
            context.close()
    assert not errors, errors
    assert not overflow, overflow
