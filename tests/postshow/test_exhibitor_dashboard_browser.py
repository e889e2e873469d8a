"""The exhibitor's dashboard, the portal's rebooking page and the organizer's rebooking pages in a real browser
(Chromium) on the demo show: charts drawn, no script error, no sideways scrolling of the page's content on a 375 px phone or a laptop, in English
and Chinese. Screenshots go to $EXPO_SCREENSHOTS as <lang>-<width>-<page>.png."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from expo import demo
from expo.core.models import Edition, User
from expo.extensions import db
from expo.postshow.models import RebookingOffer

from ..e2e.conftest import browser, live_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 375, "height": 667}}
LOCALES = {"en": "en-US", "zh_CN": "zh-CN"}
DASHBOARD_CHARTS = ("chart-by-day", "chart-by-hour", "chart-profile-category")


@pytest.fixture
def world(make):
    accounts = demo.generate(visitors=200, exhibitors=12, editions=2)
    live = db.session.scalar(select(Edition).where(Edition.status == "live"))
    admin = db.session.scalar(select(User).where(User.email == accounts["exhibitor_admin"]))
    offer = db.session.scalar(select(RebookingOffer).where(RebookingOffer.company_id == admin.exhibitor.company_id))
    declined = db.session.scalar(select(RebookingOffer.id).where(RebookingOffer.status == "declined").limit(1))
    values = {"accounts": accounts, "edition": live.id, "offer": offer.id if offer else None, "declined": declined}
    db.session.remove()
    return values


def sign_in(page, email):
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", demo.DEMO_PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")


def drawn(page, chart_id: str) -> bool:
    page.wait_for_function(f"() => document.querySelector('#{chart_id} canvas') || "
                           f"document.querySelector('#{chart_id}.chart-empty')")
    return page.eval_on_selector(f"#{chart_id}", "el => !!el.querySelector('canvas') && el.offsetHeight > 100")


def test_exhibitor_and_organizer_rebooking_pages_in_the_browser(browser, live_server, world, shots):  # noqa: F811
    errors, overflow = [], []
    exhibitor_pages = [("exhibitor-dashboard", "/portal/dashboard", DASHBOARD_CHARTS)]
    if world["offer"]:
        exhibitor_pages.append(("portal-rebooking", f"/portal/rebooking/{world['offer']}", ()))
    organizer_pages = [("rebooking", f"/org/editions/{world['edition']}/rebooking", ())]
    if world["declined"]:
        organizer_pages.append(("rebooking-offer", f"/org/editions/{world['edition']}/rebooking/{world['declined']}", ()))
    for language, locale in LOCALES.items():
        for device, viewport in VIEWPORTS.items():
            for who, pages in (("exhibitor_admin", exhibitor_pages), ("manager", organizer_pages)):
                context = browser.new_context(base_url=live_server, locale=locale, viewport=viewport)
                context.set_default_timeout(15_000)
                page = context.new_page()
                page.on("pageerror", lambda error, page=page: errors.append(f"{page.url}: {error}"))
                page.goto(f"/lang/{language}?next=/login")
                sign_in(page, world["accounts"][who])
                for name, url, charts in pages:
                    response = page.goto(url)
                    assert response.status == 200, (url, response.status)
                    page.wait_for_load_state("load")
                    for chart in charts:
                        assert drawn(page, chart), f"{name}: {chart} not drawn ({language}, {device})"
                    # The page's own content (the top bar is shared by every module's entries: not this test's)
                    width = page.evaluate("() => { const m = document.querySelector('main'); "
                                          "return [m.scrollWidth, m.clientWidth]; }")
                    if width[0] > width[1]:
                        overflow.append(f"{name} ({language}, {device}): {width[0]}px in {width[1]}px")
                    page.wait_for_timeout(500)
                    page.screenshot(path=str(shots / f"{language}-{viewport['width']}-{name}.png"), full_page=True)
                context.close()
    assert not errors, errors
    assert not overflow, overflow
