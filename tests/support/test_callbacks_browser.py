"""Call-back pages in a real browser, at 1366×768 and 375×667, in English and Chinese: the lists, a list, the
caller's queue, the call page (recording a reached call with the keyboard) and the report with its charts; no
sideways scrolling on the phone, no JavaScript error, nothing refused by the Content-Security-Policy.
Screenshots go to $EXPO_SCREENSHOTS (default: the test's tmp dir) as callbacks-<lang>-<width>-<page>.png."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from expo.core.scoping import Scope
from expo.extensions import db
from expo.support import callbacks

from ..e2e.conftest import browser, live_server, sign_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 375, "height": 667}}
LANGUAGES = {"en": "en-US", "zh_CN": "zh-CN"}


@pytest.fixture
def world(make):
    t = make.tenant("A", exhibitors=["深圳宏达家具有限公司", "Nordic Office Seating AB", "佛山永丰五金有限公司"],
                    visitors=[("李娜", "li.na@example.cn"), ("John Smith", "john@example.com")], organizer_name="华展会展",
                    edition_name="深圳国际家具展 2026")
    for n, (exhibitor, _a, _b) in enumerate(t.exhibitors):
        exhibitor.status, exhibitor.area_m2 = "paid", Decimal(18 * (n + 1))
        exhibitor.company.phone = f"+86 755 8888 12{n}{n}"
    scope = Scope(t.organizer.id)
    made = callbacks.create_list(scope, t.edition, "展后重点展商回访 Post-show calls to key exhibitors", "exhibitor",
                                 callbacks.Selection(stages=["paid"]))
    callbacks.add_question(made, "yes_no", "Will you exhibit again next year?", "明年还会参展吗？")
    callbacks.add_question(made, "rating", "How satisfied are you with the visitors?", "您对观众质量的满意度如何？")
    callbacks.add_question(made, "choice", "What brought you the most?", "最大的收获是什么？",
                           "New leads | 新线索\nBrand exposure | 品牌曝光\nOrders | 现场订单")
    callbacks.add_question(made, "text", "What should we improve?", "您希望我们改进什么？")
    callbacks.assign(made, [t.users["owner"].id])
    rows = callbacks.targets(made)
    now = datetime.now(timezone.utc)
    q = made.questions
    callbacks.record_call(rows[1], caller_id=t.users["owner"].id, attempt=1, outcome="reached", now=now,
                          answers={str(q[0].id): "yes", str(q[1].id): 4, str(q[2].id): "New leads",
                                   str(q[3].id): "停车太难，希望改善"}, note="很满意")
    callbacks.record_call(rows[2], caller_id=t.users["owner"].id, attempt=1, outcome="wrong_number", now=now)
    db.session.commit()
    values = {"owner": t.users["owner"].email, "edition": t.edition.id, "list": made.id, "first": rows[0].id}
    db.session.remove()
    return values


def test_callback_pages(browser, live_server, world, shots):  # noqa: F811
    errors, overflow, csp = [], [], []
    base = f"/org/editions/{world['edition']}/callbacks"
    pages = (("lists", base), ("list", f"{base}/{world['list']}"), ("queue", f"{base}/queue"),
             ("call", f"{base}/{world['list']}/customers/{world['first']}"), ("report", f"{base}/{world['list']}/report"))
    for language, locale in LANGUAGES.items():
        for device, viewport in VIEWPORTS.items():
            context = browser.new_context(base_url=live_server, locale=locale, viewport=viewport, device_scale_factor=1)
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
            sign_in(page, world["owner"], language)
            for name, url in pages:
                page.goto(url)
                page.wait_for_load_state("load")
                if name == "report":
                    page.wait_for_selector("#reach-chart canvas")
                if viewport["width"] < 576:
                    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
                    if widths[0] > widths[1]:
                        overflow.append(f"{url} ({language}): {widths[0]}px in {widths[1]}px")
                page.screenshot(path=str(shots / f"callbacks-{language}-{viewport['width']}-{name}.png"), full_page=True)
            context.close()
    assert not errors, errors
    assert not overflow, overflow
    assert not csp, csp


def test_record_a_call_with_the_keyboard(browser, live_server, world):  # noqa: F811
    context = browser.new_context(base_url=live_server, locale="en-US", viewport={"width": 375, "height": 667})
    page = context.new_page()
    sign_in(page, world["owner"])
    page.goto(f"/org/editions/{world['edition']}/callbacks/queue")
    with page.expect_navigation():
        page.click("#next-customer a.btn-primary")
    page.click("label[for=outcome-reached]")
    page.click("label[for$='-yes']")
    page.click("label[for$='-5']")
    page.fill("#note", "Wants a bigger booth 想要更大的展位")
    with page.expect_navigation():
        page.click("button[accesskey=s]")
    assert "/callbacks/queue" in page.url
    assert "Nobody is waiting for your call right now." in page.inner_text("body")
    context.close()
