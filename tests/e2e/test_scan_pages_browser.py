"""Both scan pages in a real browser, driven the way a hardware scanner drives them: it types the badge code
as keystrokes and presses Enter. The entrance check-in page (on-site staff) and the booth scanner (exhibitor
staff) must send the scan with JavaScript on and off, show the verdict, store a Scan row, refuse a forged
code, and add the scan to the recent-scans strip in the edition's time zone (never the browser's) with its
date, time and the visitor's name, newest first. And the pages where they are used: the check-in page on a
tablet, the booth scanner on a phone (360–375 px, nothing sideways), a verdict band of at least 30 % of the
screen, in English and Chinese; screenshots go to $EXPO_SCREENSHOTS (default: the test's tmp dir)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from expo.core.models import Organizer
from expo.extensions import db
from expo.onsite.models import SCAN_RESULT, Scan
from expo.visitors.badges import badge_code

from .conftest import sign_in

pytestmark = pytest.mark.e2e

EDITION_ZONE = "Asia/Shanghai"
BROWSER_ZONE = "America/Los_Angeles"  # 15 or 16 hours away from the edition: another time and mostly another date
VISITOR = "王小明"
HIDDEN = "Sophie Dubois"  # did not agree to share her contact details with exhibitors


def _world(make) -> dict:
    """A live edition with an on-site user, an exhibitor's booth staff and two visitors; plain values only."""
    edition = make.edition(status="live", timezone=EDITION_ZONE)
    onsite = make.user("onsite", organizer=_organizer(edition))
    exhibitor = make.exhibitor(edition, name="Guangzhou Lighting Co")
    staff = make.user("booth_staff", exhibitor=exhibitor)
    shared = make.registration(edition, name=VISITOR, company="深圳宏达家具有限公司")
    hidden = make.registration(edition, name=HIDDEN, company="Maison Dubois", share=False)
    db.session.commit()
    values = {"edition_id": edition.id, "onsite_email": onsite.email, "onsite_id": onsite.id,
              "staff_email": staff.email, "staff_id": staff.id,
              "code": badge_code(shared), "hidden_code": badge_code(hidden), "registration_id": shared.id}
    db.session.remove()  # hold no connection or snapshot while the server thread writes
    return values


def _organizer(edition):
    return db.session.get(Organizer, edition.organizer_id)


@pytest.fixture
def open_page(new_page):
    """A page in a fresh context (own cookies) whose clock runs in BROWSER_ZONE; JS errors fail the test."""
    return lambda *, javascript=True, locale="en-US": new_page(locale, javascript=javascript,
                                                                timezone_id=BROWSER_ZONE)

def _scanner_types(page, code, expected_class):
    """What a USB/Bluetooth scanner does: keystrokes into the focused field, then Enter. Waits for the verdict."""
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'code'", timeout=5_000)
    # blank the previous verdict, or the last one would be taken for this scan's answer
    page.eval_on_selector("#scan-result", "panel => { panel.className = panel.className.replace("
                                          "/\\b(ok|duplicate|refused|error)\\b/g, ''); panel.replaceChildren(); }")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    try:
        page.wait_for_selector(f"#scan-result.{expected_class} .verdict", state="visible", timeout=5_000)
    except Exception as error:  # noqa: BLE001 - the assertion below says what the scanner saw
        raise AssertionError(f"Enter sent no scan or showed no {expected_class!r} verdict on {page.url}: "
                             f"{page.inner_text('#scan-result')!r}") from error
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'code' "
                           "&& document.activeElement.value === ''", timeout=5_000)


def _scans(user_id) -> list[Scan]:
    db.session.remove()
    return list(db.session.scalars(select(Scan).where(Scan.user_id == user_id).order_by(Scan.id)))


def _recent_rows(page) -> list[list[str]]:
    """The recent-scans strip: the text of every data row's cells, top to bottom."""
    return page.eval_on_selector("#recent-scans", """table => Array.from(table.querySelectorAll('tr'))
        .filter(row => row.querySelector('td'))
        .map(row => Array.from(row.cells).map(cell => cell.innerText.trim()))""")


def _edition_time(scan: Scan) -> str:
    return scan.scanned_at.astimezone(ZoneInfo(EDITION_ZONE)).strftime("%Y-%m-%d %H:%M:%S")


def _forged(code: str) -> str:
    return code[:-6] + ("A" if code[-6] != "A" else "B") + code[-5:]  # one character of the signature


def test_checkin_page_enter_from_a_scanner_admits_and_lists_the_visitor(app, make, open_page):
    world = _world(make)
    page = open_page()
    sign_in(page, world["onsite_email"])
    page.goto(f"/org/editions/{world['edition_id']}/checkin")

    _scanner_types(page, world["code"], "ok")
    assert VISITOR in page.inner_text("#scan-result")
    scans = _scans(world["onsite_id"])
    assert [(s.kind, s.result, s.registration_id) for s in scans] == [("checkin", "ok", world["registration_id"])]

    _scanner_types(page, world["code"], "duplicate")
    _scanner_types(page, _forged(world["code"]), "refused")
    assert "Forged or altered badge" in page.inner_text("#scan-result")
    assert VISITOR not in page.inner_text("#scan-result")
    scans = _scans(world["onsite_id"])
    assert [(s.result, s.reason) for s in scans] == [("ok", None), ("duplicate", None),
                                                     ("refused", "invalid_signature")]

    # the rows the script added: newest first, date and time in the edition's zone, the visitor's name
    added = _recent_rows(page)
    assert len(added) == 3, added
    for row, scan in zip(added, reversed(scans)):
        assert row[0] == _edition_time(scan), (row, scan.scanned_at, "browser zone leaked into the strip")
    assert VISITOR in added[1][1] and VISITOR in added[2][1]
    assert VISITOR not in added[0][1]
    # and the page the server renders on a reload says exactly the same
    page.reload()
    assert _recent_rows(page) == added


def test_booth_scanner_enter_from_a_scanner_captures_a_lead(app, make, open_page):
    world = _world(make)
    page = open_page()
    sign_in(page, world["staff_email"])
    page.goto("/portal/scan")

    _scanner_types(page, world["code"], "ok")
    assert VISITOR in page.inner_text("#scan-result")
    _scanner_types(page, world["hidden_code"], "ok")
    assert HIDDEN not in page.inner_text("#scan-result")
    _scanner_types(page, _forged(world["code"]), "refused")
    assert "Forged or altered badge" in page.inner_text("#scan-result")

    scans = _scans(world["staff_id"])
    assert [(s.kind, s.result, s.reason) for s in scans] == [("lead", "ok", None), ("lead", "ok", None),
                                                             ("lead", "refused", "invalid_signature")]
    assert scans[0].lead_id is not None

    added = _recent_rows(page)
    assert [row[0] for row in added] == [_edition_time(s) for s in reversed(scans)]
    assert VISITOR in added[2][1]
    assert HIDDEN not in added[1][1], "booth staff see only what the visitor agreed to share"
    page.reload()
    assert _recent_rows(page) == added


def test_checkin_page_takes_the_keystrokes_back_after_a_click_elsewhere(app, make, open_page):
    world = _world(make)
    page = open_page()
    sign_in(page, world["onsite_email"])
    page.goto(f"/org/editions/{world['edition_id']}/checkin")
    page.fill("#gate", "North 1")  # typing into the gate field stays there
    assert page.input_value("#code") == ""
    page.click("h1")  # a tap somewhere on the page: the field loses the focus
    assert page.evaluate("() => document.activeElement.id") != "code"

    page.keyboard.type(world["code"])  # the scanner types anyway
    page.keyboard.press("Enter")

    page.wait_for_selector("#scan-result.ok .verdict", state="visible", timeout=5_000)
    assert page.evaluate("() => document.activeElement.id") == "code"
    scans = _scans(world["onsite_id"])
    assert [(s.result, s.gate, s.raw_code) for s in scans] == [("ok", "North 1", world["code"])]


@pytest.mark.parametrize("where", ["checkin", "booth"])
def test_scan_pages_enter_submits_without_javascript(app, make, open_page, where):
    world = _world(make)
    page = open_page(javascript=False)
    if where == "checkin":
        sign_in(page, world["onsite_email"])
        page.goto(f"/org/editions/{world['edition_id']}/checkin")
        user_id = world["onsite_id"]
    else:
        sign_in(page, world["staff_email"])
        page.goto("/portal/scan")
        user_id = world["staff_id"]

    page.focus("#code")
    page.keyboard.type(world["code"])
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert "ok" in page.get_attribute("#scan-result", "class").split()
    assert VISITOR in page.inner_text("#scan-result")
    assert [s.result for s in _scans(user_id)] == ["ok"]
    rows = _recent_rows(page)
    assert len(rows) == 1 and VISITOR in rows[0][1]


# --- how the pages look where they are used: the check-in page on a tablet, the booth scanner on a phone ----

DEVICES = {"tablet": {"width": 768, "height": 1024}, "tablet-landscape": {"width": 1024, "height": 768},
           "phone": {"width": 360, "height": 740}, "phone-375": {"width": 375, "height": 667}}
# the entrance works on tablets (and a phone at a side door), the booth on phones (and a tablet on the counter)
USES = [("tablet-landscape", "checkin"), ("tablet", "checkin"), ("phone", "checkin"),
        ("phone", "booth"), ("phone-375", "booth"), ("tablet", "booth")]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_scan_pages_on_tablet_and_phone(app, make, browser, live_server, shots, language):
    world = _world(make)
    errors = []
    pages = {"checkin": (f"/org/editions/{world['edition_id']}/checkin", world["onsite_email"]),
             "booth": ("/portal/scan", world["staff_email"])}
    seen = set()
    for device, role in USES:
        viewport = DEVICES[device]
        url, email = pages[role]
        context = browser.new_context(base_url=live_server, viewport=viewport, timezone_id=BROWSER_ZONE,
                                      locale="zh-CN" if language == "zh_CN" else "en-US")
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        sign_in(page, email, language)
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == ("zh-CN" if language == "zh_CN" else "en")
        input_box = page.eval_on_selector("#code", "el => el.getBoundingClientRect().toJSON()")
        assert input_box["height"] >= 44, f"the code field is {input_box['height']}px high on {device}"

        expected = "duplicate" if role in seen else "ok"  # the same visitor on every device
        seen.add(role)
        _scanner_types(page, world["code"], expected)
        band = page.eval_on_selector("#scan-result", "el => el.getBoundingClientRect().toJSON()")
        assert band["height"] >= 0.3 * viewport["height"], (device, role, band)
        assert band["width"] >= page.eval_on_selector("main .scan-layout", "el => el.clientWidth") - 1
        with app.test_request_context(), force_locale(language):
            word = SCAN_RESULT.label(expected)
        assert page.inner_text("#scan-result .verdict").strip() == word
        colour = page.eval_on_selector("#scan-result", "el => getComputedStyle(el).backgroundColor")
        assert colour not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"), f"the verdict band has no colour: {colour}"
        page.screenshot(path=str(shots / f"{language}-{device}-{role}.png"), full_page=True)
        added = _recent_rows(page)[0]  # the script's row says what the server's says, in this language too
        page.reload()
        assert _recent_rows(page)[0] == added
        if viewport["width"] < 576:
            # nothing on the page (the shell's navbar is base.html's business) sticks out sideways
            wide = page.evaluate("""() => Array.from(document.querySelectorAll('main, main *'))
                .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                .map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))""")
            assert not wide, f"{role} is wider than a {device} ({viewport['width']}px): {wide[:5]}"
        context.close()
    assert not errors, errors
