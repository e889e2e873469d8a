"""The pre-show → on-site path in a real browser: a visitor registers and gets a QR badge, booth staff
scan it on the scanner page (OK, then duplicate), garbage and forged codes are refused, the lead is listed;
and the pages switch language."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.support import Translations
from sqlalchemy import select

from expo.config import ROOT
from expo.core.models import MailMessage
from expo.extensions import db

from ..conftest import PASSWORD

pytestmark = pytest.mark.e2e

SCREENSHOT = Path("/tmp/e2e-scanner.png")
VISITOR = "李华"
VISITOR_COMPANY = "上海华贸进出口有限公司"


def _badge_link(email: str) -> str:
    """The path of the badge page, from the confirmation mail in the outbox: the form itself answers "check
    your inbox", whoever the address belongs to (no registration oracle)."""
    db.session.remove()
    body = db.session.scalar(select(MailMessage.body_text).where(MailMessage.recipient == email)
                             .order_by(MailMessage.id.desc()).limit(1))
    db.session.remove()  # hold no connection or snapshot while the server thread writes
    assert body, f"no mail to {email} in the outbox"
    return urlsplit(re.search(r"https?://\S+/r/[\w-]+", body).group(0)).path


def _world(make):
    """An organizer with a live edition and an exhibitor whose booth staff can sign in; returns plain values."""
    edition = make.edition(status="live")
    exhibitor = make.exhibitor(edition, name="Guangzhou Lighting Co")
    staff = make.user("booth_staff", exhibitor=exhibitor)
    db.session.commit()
    values = {"slug": edition.slug, "staff_email": staff.email}
    db.session.remove()  # hold no connection or snapshot while the server thread writes
    return values


def _scan(page, code, expected_class):
    # blank the previous verdict first, or a second "refused" would be seen before its own answer arrived
    page.eval_on_selector("#scan-result", "panel => { panel.className = 'scan-result'; panel.replaceChildren(); }")
    page.fill("#code", code)
    with page.expect_response(lambda response: response.url.endswith("/api/v1/scans")) as answer:
        page.press("#code", "Enter")
    assert answer.value.status == 200, f"scan API answered {answer.value.status}: {answer.value.text()}"
    result = page.wait_for_selector(f"#scan-result.{expected_class}", state="visible")
    assert page.input_value("#code") == "", "the scanner field must be cleared for the next badge"
    return result


def _verdict(page):
    return page.inner_text("#scan-result .verdict").strip()


def test_register_scan_and_lead_in_browser(app, make, new_page):
    world = _world(make)

    # --- the visitor registers on the public page ---------------------------------------------------
    visitor = new_page()
    visitor.goto(f"/e/{world['slug']}")
    assert visitor.locator("html").get_attribute("lang") == "en"
    visitor.fill("#name", VISITOR)
    visitor.fill("#email", "lihua@example.cn")
    visitor.fill("#company", VISITOR_COMPANY)
    visitor.select_option("#category", "buyer")
    visitor.check("#share_with_exhibitors")
    visitor.check("#consent")
    with visitor.expect_navigation():
        visitor.click("form.narrow button[type=submit]")
    assert visitor.url.endswith("/mail-sent"), (
        f"registration did not reach the check-your-inbox page: {visitor.url}\n{visitor.inner_text('main')}")
    visitor.goto(_badge_link("lihua@example.cn"))  # the link in the confirmation mail
    assert VISITOR in visitor.inner_text("h1")

    # the QR image really loaded (not a broken image)
    visitor.wait_for_function("() => document.getElementById('badge-qr').complete")
    natural = visitor.eval_on_selector("#badge-qr", "img => [img.naturalWidth, img.naturalHeight]")
    assert natural[0] > 0 and natural[1] > 0, f"the badge QR image did not load: natural size {natural}"

    visitor.click("details summary")  # "Badge code as text"
    code = visitor.inner_text("#badge-code").strip()
    assert code and code.isalnum(), f"unexpected badge text {code!r}"

    # --- booth staff sign in in their own browser context and scan the badge --------------------------
    staff = new_page()
    staff.goto("/login")
    staff.fill("#email", world["staff_email"])
    staff.fill("#password", PASSWORD)
    with staff.expect_navigation():
        staff.click("form.narrow button[type=submit]")
    assert "/login" not in staff.url, f"sign-in failed: {staff.inner_text('main')}"

    staff.goto("/portal/scan")
    # a hardware scanner just types: the field must have the focus without a click (autofocus lands
    # shortly after the load event, hence the wait)
    staff.wait_for_function("() => document.activeElement && document.activeElement.id === 'code'", timeout=5_000)
    _scan(staff, code, "ok")
    assert _verdict(staff) == "Valid"
    assert staff.inner_text("#scan-result .who").strip() == VISITOR
    assert VISITOR_COMPANY in staff.inner_text("#scan-result .what")
    verdict_px = float(staff.eval_on_selector("#scan-result .verdict",
                                              "el => parseFloat(getComputedStyle(el).fontSize)"))
    assert verdict_px >= 36, f"the verdict must be readable at arm's length, font-size is {verdict_px}px"
    staff.screenshot(path=str(SCREENSHOT), full_page=True)

    # --- the lead is listed ---------------------------------------------------------------------------
    staff.goto("/portal/leads")
    leads = staff.inner_text("#leads")
    assert VISITOR in leads and VISITOR_COMPANY in leads, leads

    # --- the same badge again is a duplicate; garbage and forged codes are refused ---------------------
    staff.goto("/portal/scan")
    _scan(staff, code, "duplicate")
    assert _verdict(staff) == "Already scanned"
    assert staff.inner_text("#scan-result .who").strip() == VISITOR

    _scan(staff, "hello, not a badge!", "refused")
    assert _verdict(staff) == "Invalid"
    assert staff.inner_text("#scan-result .reason").strip() == "Not a badge code"
    assert staff.locator("#scan-result .who").count() == 0

    forged = code[:-6] + ("A" if code[-6] != "A" else "B") + code[-5:]  # one character of the signature
    _scan(staff, forged, "refused")
    assert staff.inner_text("#scan-result .reason").strip() == "Forged or altered badge"

    # one lead, scanned twice
    staff.goto("/portal/leads")
    rows = staff.locator("#leads tr").all_inner_texts()
    assert len(rows) == 2, rows  # header + the one lead
    assert rows[1].split("\t")[-1].strip() == "2", rows


def _chinese(msgid: str) -> tuple[str, Path | None]:
    """The zh catalog's translation of msgid, read straight from the compiled file (not through the app's
    own lookup, so a catalog the app fails to find is noticed); msgid itself while none is compiled."""
    for mo in sorted((ROOT / "expo" / "translations").glob("zh*/LC_MESSAGES/messages.mo")):
        with mo.open("rb") as handle:
            return Translations(handle, domain="messages").gettext(msgid), mo
    return msgid, None


def test_language_switch(app, make, new_page):
    world = _world(make)

    page = new_page()
    page.goto(f"/e/{world['slug']}")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.inner_text(".lang strong").strip() == "English"
    assert page.inner_text("main h2").strip() == "Visitor pre-registration"

    with page.expect_navigation():
        page.click(".lang a:text-is('中文')")
    assert page.url.split("?")[0].endswith(f"/e/{world['slug']}"), f"language switch left the page: {page.url}"
    # Flask-Babel parses "zh_CN" into zh_Hans_CN: the template must still see zh_CN
    assert page.locator("html").get_attribute("lang") == "zh-CN", "the page did not switch to Chinese"
    assert page.inner_text(".lang strong").strip() == "中文"
    for selector, msgid in (("main h2", "Visitor pre-registration"), ("form.narrow button[type=submit]", "Register")):
        expected, catalog = _chinese(msgid)
        assert page.inner_text(selector).strip() == expected, (
            f"{selector} is not translated although {catalog} translates {msgid!r} as {expected!r}: Flask-Babel "
            f"looks the catalog up for Locale.parse('zh_CN') == zh_Hans_CN, i.e. in zh_Hans_CN/ or zh/, not zh_CN/")

    # the choice sticks to the session, and switching back works
    page.goto(f"/e/{world['slug']}")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    with page.expect_navigation():
        page.click(".lang a:text-is('English')")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.inner_text("main h2").strip() == "Visitor pre-registration"
