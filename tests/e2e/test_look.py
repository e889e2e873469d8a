"""How the back office looks: the demo show, signed in as the owner and as an exhibitor admin, every page of
the Bootstrap shell photographed full-page on a laptop (1366×768) and a phone (375×667), in English and
Chinese. Every stylesheet, script, font and image comes from our own origin (no CDN), no page scrolls
sideways on the phone, and no page raises a JavaScript error.

The PNGs go to $EXPO_SCREENSHOTS (default: the test's tmp dir) as <lang>-<width>-<page>.png: look at them.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from expo import demo
from expo.core import services as core
from expo.core.models import Edition, Show
from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.leads.models import Lead
from .conftest import sign_in

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 375, "height": 667}}
LANGUAGES = {"en": "en-US", "zh_CN": "zh-CN"}
ASSETS = {"stylesheet", "script", "font", "image", "media"}
# pages that draw charts: the edition dashboard, booth sales, the exhibitor's dashboard, the post-show reports
CHART_PAGES = {"edition", "forecast", "rep-performance", "exhibitor-dashboard", "tickets-report", "lead-follow-up",
               "analytics", "customers", "predictions"}


@pytest.fixture
def world(make):
    """The demo show (small), and the ids the page addresses need; no connection held afterwards."""
    accounts = demo.generate(visitors=150, exhibitors=10, editions=2)
    show = db.session.scalar(select(Show))
    live = db.session.scalar(select(Edition).where(Edition.status == "live"))
    admin_exhibitor = db.session.scalar(select(Exhibitor).join(Exhibitor.company).where(Exhibitor.edition_id == live.id)
                                        .order_by(Exhibitor.id))
    lead = db.session.scalar(select(Lead).where(Lead.exhibitor_id == admin_exhibitor.id).order_by(Lead.id))
    # two mails in the outbox: one kept (no SMTP), one that failed
    kept = core.queue_mail(show.organizer_id, "li.hua@example.cn", "您的参观证 · SZIFF 2026", "您好，李华：\n您的登记已确认。")
    kept.status = "kept"
    failed = core.queue_mail(show.organizer_id, "buyer@example.com", "Your badge · SZIFF 2026", "Dear buyer,\n...")
    failed.status, failed.error = "failed", "SMTP 550: mailbox unavailable"
    db.session.commit()
    values = {"accounts": accounts, "show": show.id, "edition": live.id, "slug": live.slug,
              "lead": lead.id if lead else None}
    db.session.remove()
    return values


def _pages(world):
    owner = [
        ("dashboard", "/org"),
        ("show", f"/org/shows/{world['show']}"),
        ("show-new", "/org/shows/new"),
        ("edition-new", f"/org/shows/{world['show']}/editions/new"),
        ("edition", f"/org/editions/{world['edition']}"),
        ("exhibitors", f"/org/editions/{world['edition']}/exhibitors"),
        # booth sales (issue 8)
        ("sales-board", f"/org/editions/{world['edition']}/pipeline"),
        ("deals", f"/org/editions/{world['edition']}/pipeline/list"),
        ("sales-settings", f"/org/editions/{world['edition']}/pipeline/settings"),
        ("today", f"/org/editions/{world['edition']}/sales/today"),
        ("my-accounts", f"/org/editions/{world['edition']}/sales/accounts"),
        ("assignment", f"/org/editions/{world['edition']}/sales/assignment"),
        ("rep-performance", f"/org/editions/{world['edition']}/sales/performance"),
        ("floor-plan", f"/org/editions/{world['edition']}/floor-plan"),
        ("forecast", f"/org/editions/{world['edition']}/forecast"),
        ("rebooking", f"/org/editions/{world['edition']}/rebooking"),
        ("manual", f"/org/editions/{world['edition']}/manual"),
        ("staff-badges-quota", f"/org/editions/{world['edition']}/staff-badges"),
        # post-show (issue 11)
        ("surveys", f"/org/editions/{world['edition']}/surveys"),
        ("tickets", f"/org/editions/{world['edition']}/tickets"),
        ("tickets-report", f"/org/editions/{world['edition']}/tickets/report"),
        ("callbacks", f"/org/editions/{world['edition']}/callbacks"),
        ("lead-follow-up", f"/org/editions/{world['edition']}/lead-follow-up"),
        ("analytics", f"/org/editions/{world['edition']}/analytics"),
        ("customers", f"/org/editions/{world['edition']}/customers"),
        ("predictions", f"/org/editions/{world['edition']}/predictions"),
        ("watchlist", f"/org/editions/{world['edition']}/watchlist"),
        ("profile", "/profile"),
        ("outbox", "/org/outbox"),
        ("not-found", "/org/no-such-page"),
    ]
    exhibitor = [("portal", "/portal"), ("staff", "/portal/staff"), ("leads", "/portal/leads"),
                 ("exhibitor-dashboard", "/portal/dashboard"), ("products", "/portal/products"),
                 ("manual-checklist", "/portal/manual"), ("staff-badges", "/portal/staff-badges"),
                 ("rebooking-offers", "/portal/rebooking"), ("support", "/portal/support"),
                 ("surveys-portal", "/portal/surveys")]
    if world["lead"]:
        exhibitor.append(("lead", f"/portal/leads/{world['lead']}"))
    return owner, exhibitor

def test_back_office_look(browser, live_server, world, shots):
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(live_server))
    owner_pages, exhibitor_pages = _pages(world)
    foreign, errors, overflow, taken = [], [], [], []

    for language, browser_locale in LANGUAGES.items():
        for device, viewport in VIEWPORTS.items():
            for role, pages in (("owner", owner_pages), ("exhibitor_admin", exhibitor_pages)):
                context = browser.new_context(base_url=live_server, locale=browser_locale, viewport=viewport,
                                              device_scale_factor=1)
                context.set_default_timeout(15_000)
                page = context.new_page()
                page.on("pageerror", lambda error, page=page: errors.append(f"{page.url}: {error}"))
                page.on("request", lambda request: foreign.append(f"{request.resource_type} {request.url}")
                        if request.resource_type in ASSETS and not request.url.startswith((origin, "data:", "blob:"))
                        else None)
                page.goto(f"/lang/{language}?next=/login")
                if role == "owner":  # the pages anyone sees, before signing in
                    for name, url in (("login", "/login"), ("register", f"/e/{world['slug']}")):
                        page.goto(url)
                        _shoot(page, name, shots, language, viewport, overflow, taken)
                sign_in(page, world["accounts"][role], language, password=demo.DEMO_PASSWORD)
                for name, url in pages:
                    page.goto(url)
                    _shoot(page, name, shots, language, viewport, overflow, taken)
                context.close()

    assert not foreign, f"assets from another origin than {origin}: {foreign}"
    assert not errors, f"JavaScript errors in the browser: {errors}"
    assert not overflow, f"pages that scroll sideways: {overflow}"
    assert len(taken) == len(LANGUAGES) * len(VIEWPORTS) * (2 + len(owner_pages) + len(exhibitor_pages))


def _shoot(page, name, shots, language, viewport, overflow, taken):
    page.wait_for_load_state("load")
    lang = page.locator("html").get_attribute("lang")
    assert lang == ("zh-CN" if language == "zh_CN" else "en"), f"{page.url} is in {lang}, not {language}"
    # Bootstrap's stylesheet really applied (not a 404): the navbar is a flex row with our font stack
    assert page.eval_on_selector(".navbar", "el => getComputedStyle(el).display") == "flex", page.url
    if name not in CHART_PAGES:  # ECharts (1 MB) only where a page declares charts
        assert not page.evaluate("() => !!window.echarts"), f"{page.url} loads ECharts without a chart"
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:  # on a phone, and on a laptop (a bar too full for its width)
        overflow.append(f"{page.url} ({language}): {widths[0]}px wide in a {widths[1]}px window")
    path = shots / f"{language}-{viewport['width']}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    taken.append(path)


def test_menu_toast_and_confirm_dialog(browser, live_server, world, shots):
    """The phone menu opens as an offcanvas; a saved change says so in a toast; a destructive POST asks
    first in a dialog, and goes through only after "Revoke" in it."""
    errors = []
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=VIEWPORTS["phone"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    sign_in(page, world["accounts"]["owner"], "zh_CN", password=demo.DEMO_PASSWORD)

    page.click(".navbar-toggler")
    page.wait_for_selector("#app-menu.show")
    page.wait_for_timeout(400)  # the slide-in transition
    page.screenshot(path=str(shots / "zh_CN-375-menu.png"))
    assert page.is_visible("#app-menu .nav-link[href='/org']")

    page.goto("/profile")
    page.fill("input[name=name]", "Scanner phone")
    with page.expect_navigation():
        page.click("form.narrow button[type=submit]")
    assert page.inner_text("#new-token").startswith("expo_")
    page.goto("/profile")
    revoke = page.locator("form[data-confirm] button[type=submit]")
    assert revoke.count() == 1
    revoke.click()
    dialog = page.wait_for_selector("#confirm-modal.show")
    page.wait_for_timeout(300)
    assert "Scanner phone" in dialog.inner_text()
    page.screenshot(path=str(shots / "zh_CN-375-confirm.png"))
    page.click("#confirm-modal .btn-outline-secondary")  # cancel: nothing happens
    page.wait_for_selector("#confirm-modal", state="hidden")
    assert page.locator("form[data-confirm]").count() == 1
    revoke.click()
    page.wait_for_selector("#confirm-modal.show")
    with page.expect_navigation():
        page.click("#confirm-modal [data-confirm-ok]")
    assert page.locator("form[data-confirm]").count() == 0, "the token was not revoked after confirming"
    context.close()

    context = browser.new_context(base_url=live_server, locale="en-US", viewport=VIEWPORTS["desktop"])
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.goto("/lang/en?next=/login")
    sign_in(page, world["accounts"]["exhibitor_admin"], password=demo.DEMO_PASSWORD)
    page.goto("/portal")
    with page.expect_navigation():
        page.click("form.narrow button[type=submit]")
    toast = page.wait_for_selector("#flash-messages .toast.show")
    assert toast.inner_text().strip() in ("Profile saved.", "Nothing changed.")
    page.wait_for_timeout(400)  # the fade-in
    assert toast.is_visible()
    page.screenshot(path=str(shots / "en-1366-toast.png"))
    context.close()
    assert not errors, f"JavaScript errors in the browser: {errors}"


def test_shell_works_without_javascript(browser, live_server, world, shots):
    """No JavaScript (old phone, strict proxy): the menu is in the page, the user menu's sign-out is
    reachable, flashed messages are plain text, and a confirm-guarded form just submits."""
    context = browser.new_context(base_url=live_server, locale="en-US", viewport=VIEWPORTS["phone"],
                                  java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, world["accounts"]["owner"], password=demo.DEMO_PASSWORD)
    assert page.is_visible("#app-menu .nav-link[href='/org']"), "the menu must show without the offcanvas script"
    assert page.is_visible("#app-menu button:text-is('Sign out')")
    page.goto("/profile")
    page.fill("input[name=name]", "No-JS script")
    with page.expect_navigation():
        page.click("form.narrow button[type=submit]")
    with page.expect_navigation():
        page.click("form[data-confirm] button[type=submit]")  # no dialog: the POST goes straight through
    assert page.locator("form[data-confirm]").count() == 0
    page.goto("/portal/no-such-page")
    page.screenshot(path=str(shots / "en-375-nojs-404.png"), full_page=True)
    page.goto(f"/org/editions/{world['edition']}/exhibitors")
    page.select_option("select[name=status] >> nth=1", index=1)
    with page.expect_navigation():
        page.click("form.status-move button >> nth=0")
    assert page.is_visible("#flash-messages .toast"), "the flashed message must show without Bootstrap's script"
    page.screenshot(path=str(shots / "en-375-nojs-flash.png"), full_page=True)
    context.close()
