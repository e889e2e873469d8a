"""The customers pages in a real browser (Chromium): the Pareto, stage and tier charts are drawn, no script fails,
and at 1366 px and on a 375 px phone no page scrolls sideways, in English and Chinese. Screenshots go to
$EXPO_SCREENSHOTS (default: the test's tmp dir) as customers-<lang>-<width>-<page>.png."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from expo import demo
from expo.core.models import Edition
from expo.extensions import db

from ..e2e.conftest import browser, live_server  # noqa: F401 (fixtures)
from .test_pages_browser import LOCALES, VIEWPORTS, drawn, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(make):
    accounts = demo.generate(visitors=150, exhibitors=12, editions=3)
    live = db.session.scalar(select(Edition).where(Edition.status == "live"))
    values = {"accounts": accounts, "edition": live.id}
    db.session.remove()
    return values


def test_customers_pages_in_the_browser(browser, live_server, world, shots):  # noqa: F811
    errors, overflow = [], []
    e = world["edition"]
    pages = [("overview", f"/org/editions/{e}/customers", ("chart-pareto", "chart-stages", "chart-tiers")),
             ("companies", f"/org/editions/{e}/customers/companies", ()),
             ("persons", f"/org/editions/{e}/customers/persons?stage=formation", ()),
             ("weights", f"/org/editions/{e}/customers/weights", ())]
    for language, locale in LOCALES.items():
        for device, viewport in VIEWPORTS.items():
            context = browser.new_context(base_url=live_server, locale=locale, viewport=viewport)
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.on("pageerror", lambda error, page=page: errors.append(f"{page.url}: {error}"))
            page.goto(f"/lang/{language}?next=/login")
            sign_in(page, world["accounts"]["owner"])
            for name, url, charts in pages:
                page.goto(url)
                page.wait_for_load_state("load")
                for chart in charts:
                    assert drawn(page, chart), f"{name}: {chart} not drawn ({language}, {device})"
                width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
                if width[0] > width[1]:
                    overflow.append(f"{name} ({language}, {device}): {width[0]}px in {width[1]}px")
                page.wait_for_timeout(400)
                page.screenshot(path=str(shots / f"customers-{language}-{viewport['width']}-{name}.png"),
                                full_page=True)
            context.close()
    assert not errors, errors
    assert not overflow, overflow
