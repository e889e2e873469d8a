"""The walk-up kiosk in a real browser: on-site staff start kiosk mode on a tablet, a walk-up visitor switches
it to Chinese, fills it in with taps, sees the done screen (which clears itself), and the badge shows up by
itself on the desk printer's queue page (JS polling), where staff mark it printed. Printing is no entry: the
only scan is the kiosk's check-in. Screenshots at 1024×768 and 360×800 in both languages go to
$EXPO_SCREENSHOTS (default: the test's tmp dir)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from expo.core.models import Organizer
from expo.extensions import db
from expo.onsite import kiosk_views
from expo.onsite.models import Scan
from expo.onsite.print_models import PrintJob
from expo.visitors.models import Registration

from ..conftest import PASSWORD
from .conftest import sign_in

pytestmark = pytest.mark.e2e

TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 360, "height": 800}


@pytest.fixture
def world(make):
    edition = make.edition(status="live", timezone="Asia/Shanghai", name="华南国际家具展 2026")
    organizer = db.session.get(Organizer, edition.organizer_id)
    kiosk_user = make.user("onsite", organizer)
    desk_user = make.user("onsite", organizer)
    make.registration(edition, name="Alice Walker", email="alice@example.com")
    db.session.commit()
    values = {"edition_id": edition.id, "kiosk_email": kiosk_user.email, "desk_email": desk_user.email,
              "desk_name": desk_user.name}
    db.session.remove()
    return values

def _no_sideways_scroll(page):
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


def _start_kiosk(page, world, station="Kiosk 1", screenshot=None):
    page.goto(f"/org/editions/{world['edition_id']}/kiosk")
    if screenshot:
        page.screenshot(path=str(screenshot), full_page=True)
    page.fill("#station", station)
    with page.expect_navigation():
        page.click("#kiosk-start button[type=submit]")
    page.wait_for_selector("#kiosk-form")


def _switch(page, language_name):
    with page.expect_navigation():
        page.click(f".kiosk-lang a:has-text('{language_name}')")
    page.wait_for_selector("#kiosk-form")


def _fill_as_visitor(page, *, name, email, category="buyer"):
    page.fill("#name", name)
    page.fill("#company", "深圳宏达家具有限公司")
    page.fill("#job_title", "采购经理")
    page.fill("#email", email)
    page.fill("#phone", "+86 138 0013 8000")
    page.select_option("#country", "CN")
    page.click(f"label[for=category-{category}]")
    page.check("#consent")


def test_a_walk_up_registers_on_a_tablet_in_chinese_and_the_desk_prints_the_badge(new_page, world, shots,
                                                                                   monkeypatch):
    monkeypatch.setattr(kiosk_views, "DONE_SECONDS", 3)
    desk = new_page("en-US", viewport=TABLET)
    sign_in(desk, world["desk_email"])
    desk.goto(f"/org/editions/{world['edition_id']}/print-queue")
    desk.wait_for_selector("#queue-rows")
    assert desk.locator("#queue-waiting").count() == 0

    tablet = new_page("en-US", viewport=TABLET)
    sign_in(tablet, world["kiosk_email"])
    _start_kiosk(tablet, world)
    _switch(tablet, "中文")
    assert tablet.get_attribute("html", "lang") == "zh-CN"
    # the targets a finger must hit are big
    for selector in ("#name", "#kiosk-submit", "label[for=category-buyer]", ".kiosk-lang .btn"):
        box = tablet.locator(selector).first.bounding_box()
        assert box["height"] >= 48, (selector, box)

    _fill_as_visitor(tablet, name="王小明", email="wang.xiaoming@example.cn")
    tablet.screenshot(path=str(shots / "kiosk-form-zh-1024.png"), full_page=True)
    with tablet.expect_navigation():
        tablet.click("#kiosk-submit")

    tablet.wait_for_selector("#kiosk-welcome")
    assert "王小明" in tablet.inner_text("#kiosk-welcome")
    tablet.screenshot(path=str(shots / "kiosk-done-zh-1024.png"), full_page=True)
    # the done screen clears itself: back to an empty form for the next visitor
    tablet.wait_for_selector("#kiosk-form", timeout=10_000)
    assert tablet.input_value("#name") == ""

    # the queue page shows the new job by itself (polling), with who asked for it and from where
    desk.wait_for_selector("#queue-waiting tr[data-status=queued]", timeout=15_000)
    row = desk.locator("#queue-waiting tr[data-status=queued]").first
    assert "王小明" in row.inner_text() and "Kiosk 1" in row.inner_text()
    desk.screenshot(path=str(shots / "kiosk-queue-en-1024.png"), full_page=True)
    pdf = desk.request.get(row.locator("a:has-text('PDF')").get_attribute("href"))
    assert pdf.ok and pdf.body()[:5] == b"%PDF-"
    with desk.expect_navigation():
        row.locator("button:has-text('Printed')").click()
    desk.wait_for_selector("#queue-done tr[data-status=printed]")
    assert desk.locator("#queue-waiting").count() == 0

    registration = db.session.scalar(select(Registration).where(Registration.name_as_given == "王小明"))
    job = db.session.scalar(select(PrintJob).where(PrintJob.registration_id == registration.id))
    assert (job.status, job.origin, job.station) == ("printed", "kiosk", "Kiosk 1")
    scans = list(db.session.scalars(select(Scan).where(Scan.registration_id == registration.id)))
    assert [(s.kind, s.result, s.gate) for s in scans] == [("checkin", "ok", "kiosk:Kiosk 1")]  # printing is no entry
    assert registration.locale == "zh_CN" and registration.source == "walk_up"
    db.session.remove()


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", ["1024", "360"])
def test_kiosk_and_queue_screenshots(new_page, world, shots, language, size, monkeypatch):
    monkeypatch.setattr(kiosk_views, "DONE_SECONDS", 60)
    viewport = TABLET if size == "1024" else PHONE
    page = new_page("en-US", viewport=viewport)
    sign_in(page, world["kiosk_email"])
    if language == "zh":
        page.goto(f"/lang/zh_CN?next=/org/editions/{world['edition_id']}/kiosk")
    _start_kiosk(page, world, station="Hall 1 kiosk", screenshot=shots / f"kiosk-setup-{language}-{size}.png")
    if language == "zh" and page.get_attribute("html", "lang") != "zh-CN":
        _switch(page, "中文")
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / f"kiosk-form-{language}-{size}.png"), full_page=True)

    # a refusal (the address is registered already) is explained on the form
    _fill_as_visitor(page, name="Alice W.", email="alice@example.com")
    with page.expect_navigation():
        page.click("#kiosk-submit")
    page.wait_for_selector("#kiosk-refusal")
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / f"kiosk-refused-{language}-{size}.png"), full_page=True)

    _fill_as_visitor(page, name="王小明" if language == "zh" else "Alex Morgan",
                     email=f"walkup.{language}.{size}@example.com", category="trade_visitor")
    with page.expect_navigation():
        page.click("#kiosk-submit")
    page.wait_for_selector("#kiosk-welcome")
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / f"kiosk-done-{language}-{size}.png"), full_page=True)

    # kiosk mode locks this browser to the kiosk: the desk is out of reach until staff end it
    page.goto(f"/org/editions/{world['edition_id']}/desk?q=alice")
    page.wait_for_selector("#kiosk-form")
    assert "/kiosk/run" in page.url
    with page.expect_navigation():
        page.click("#kiosk-exit")
    page.wait_for_selector("#kiosk-exit-form")
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / f"kiosk-exit-{language}-{size}.png"), full_page=True)
    page.fill("#email", world["kiosk_email"])
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("#kiosk-exit-form button[type=submit]")
    page.wait_for_selector("#kiosk-start")

    page.goto(f"/org/editions/{world['edition_id']}/print-queue")
    page.wait_for_selector("#queue-waiting")
    page.screenshot(path=str(shots / f"kiosk-queue-{language}-{size}.png"), full_page=True)
    page.goto(f"/org/editions/{world['edition_id']}/desk?q=alice")
    page.wait_for_selector("#desk-results")
    page.screenshot(path=str(shots / f"kiosk-desk-{language}-{size}.png"), full_page=True)
