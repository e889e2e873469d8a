"""The dashboard, the edition report and the audit log in a real browser (Chromium): every chart is drawn
(a canvas, not the empty-state sentence), no script fails, and on a 375 px phone no page scrolls sideways.
Screenshots go to $EXPO_SCREENSHOTS (default: the test's tmp dir) as <lang>-<width>-<page>.png."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from expo import demo
from expo.core.models import Edition
from expo.core.services import audit
from expo.extensions import db

from ..e2e.conftest import browser, live_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 375, "height": 667}}
LOCALES = {"en": "en-US", "zh_CN": "zh-CN"}
DASHBOARD_CHARTS = ("chart-pace", "chart-categories", "chart-checkins", "chart-leads")
REPORT_CHARTS = ("chart-by-category", "chart-by-source", "chart-by-day", "chart-leads")


@pytest.fixture
def world(make):
    accounts = demo.generate(visitors=150, exhibitors=12, editions=2)
    live = db.session.scalar(select(Edition).where(Edition.status == "live"))
    # a long Chinese detail that must wrap, not widen the page
    audit("company.updated", organizer_id=live.organizer_id, object_type="companies", object_id=1,
          details={"fields": ["name", "description"], "note": "深圳市宏达家具制造有限公司" * 6,
                   "url": "https://example.com/" + "a" * 120})
    db.session.commit()
    values = {"accounts": accounts, "edition": live.id}
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


def test_dashboard_report_and_audit_log_in_the_browser(browser, live_server, world, shots):  # noqa: F811
    errors, overflow = [], []
    pages = [("dashboard", f"/org/editions/{world['edition']}", DASHBOARD_CHARTS),
             ("report", f"/org/editions/{world['edition']}/report", REPORT_CHARTS),
             ("audit", "/org/audit", ())]
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
                page.wait_for_timeout(500)  # the charts' entry animation
                page.screenshot(path=str(shots / f"{language}-{viewport['width']}-{name}.png"), full_page=True)
            context.close()
    assert not errors, errors
    assert not overflow, overflow
