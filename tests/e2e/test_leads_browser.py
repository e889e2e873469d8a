"""The exhibitor's lead pages in a real browser on a phone (360×800), in English and Chinese: the list with a filter
chosen in the filter bar (chips, counts), a selection of leads downloaded as vCards, a lead qualified in taps
(rating chip, answer chips, a note) and the questions page; nothing sticks out sideways. Screenshots go to
$EXPO_SCREENSHOTS (default: the test's tmp dir)."""
from __future__ import annotations

import pytest
import vobject

from expo.extensions import db
from expo.leads import questions as lq
from expo.leads import services as lead_services
from expo.leads.models import Lead

from .conftest import sign_in

pytestmark = pytest.mark.e2e
PHONE = {"width": 360, "height": 800}


def _world(make) -> dict:
    edition = make.edition(status="live", timezone="Asia/Shanghai")
    exhibitor = make.exhibitor(edition, name="深圳宏达家具有限公司")
    admin = make.user("exhibitor_admin", exhibitor=exhibitor)
    lq.save_question(exhibitor, lq.QuestionInput("single", "Budget this year?", "今年预算？",
                                                 "under_10k | Under 10k | 一万以下\nover_10k | Over 10k | 一万以上"),
                     actor_id=admin.id)
    lq.save_question(exhibitor, lq.QuestionInput("multi", "Products", "感兴趣的产品",
                                                 "sofas | Sofas | 沙发\nbeds | Beds | 床\ndesks | Desks | 书桌"),
                     actor_id=admin.id)
    lq.save_question(exhibitor, lq.QuestionInput("yes_no", "Wants a visit", "需要上门拜访", "", True), actor_id=admin.id)
    ids = []
    for name, company, share, rating in (("王小明", "佛山金雅家居有限公司", True, "hot"),
                                         ("Anna Maria Schmidt", "Möbel Schmidt GmbH", True, None),
                                         ("Sophie Dubois", "Maison Dubois", False, "cold")):
        registration = make.registration(edition, name=name, company=company, share=share)
        lead_id, _ = lead_services.capture_lead(exhibitor, registration, admin, edition_start(edition))
        lead_services.update_lead(db.session.get(Lead, lead_id), rating=rating, notes="",
                                  answers={"products": ["sofas"]} if share else {}, actor_id=admin.id)
        ids.append(lead_id)
    db.session.commit()
    values = {"email": admin.email, "ids": ids}
    db.session.remove()
    return values


def edition_start(edition):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    return datetime.combine(edition.starts_on, time(10), ZoneInfo("Asia/Shanghai"))


def _nothing_sideways(page, what):
    # (what is inside a box that scrolls sideways on purpose — the table, the rating pills — does not count)
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('main, main *'))
        .filter(el => { for (let up = el.parentElement; up; up = up.parentElement) {
            if (['auto', 'scroll'].includes(getComputedStyle(up).overflowX)) return false; } return true; })
        .filter(el => !el.closest('.dropdown-menu'))
        .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))""")
    assert not wide, f"{what} is wider than a phone: {wide[:5]}"
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"{what} scrolls sideways: {width}"


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_lead_pages_on_a_phone(app, make, browser, live_server, shots, language):
    world = _world(make)
    context = browser.new_context(base_url=live_server, viewport=PHONE, accept_downloads=True,
                                  locale="zh-CN" if language == "zh_CN" else "en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, world["email"], language)

    # the list: choose an answer in the filter bar; the chip shows, the URL keeps it
    page.goto("/portal/leads")
    page.select_option("#filter-answer", "products:sofas")
    with page.expect_navigation():
        page.click("#lead-filters button[type=submit]")
    assert "answer=products%3Asofas" in page.url
    assert page.locator(".filter-chip").count() == 1
    assert page.locator("#leads tbody tr").count() == 2
    _nothing_sideways(page, "the lead list")
    page.screenshot(path=str(shots / f"leads-list-{language}-phone.png"), full_page=True)

    # tick one lead and download its vCard
    page.check(f"input[name=ids][value='{world['ids'][0]}']")
    with page.expect_download() as download:
        page.click("#vcard-selection")
    text = open(download.value.path(), encoding="utf-8").read()
    assert [card.fn.value for card in vobject.readComponents(text)] == ["王小明"]

    # remove the chip: every lead again
    with page.expect_navigation():
        page.click(".filter-chip")
    assert page.locator("#leads tbody tr").count() == 3

    # qualify a lead in taps
    page.goto(f"/portal/leads/{world['ids'][1]}")
    page.click("label[for=rating-warm]")
    page.click("label[for=q_budget_this_year-2]")
    page.click("label[for=q_products-2]")
    page.click("label[for=q_wants_a_visit-1]")
    page.fill("textarea[name=notes]", "下周寄样品")
    _nothing_sideways(page, "the lead page")
    page.screenshot(path=str(shots / f"lead-{language}-phone.png"), full_page=True)
    with page.expect_navigation():
        page.click("form.narrow button[type=submit]")
    assert page.url.endswith("/portal/leads")
    with app.app_context():
        lead = db.session.get(Lead, world["ids"][1])
        assert (lead.rating, lead.notes) == ("warm", "下周寄样品")
        assert lq.answers_of([lead.id])[lead.id] == {"budget_this_year": "over_10k", "products": ["sofas", "beds"],
                                                     "wants_a_visit": "yes"}
        db.session.remove()

    # the questions page
    page.goto("/portal/lead-questions")
    assert page.locator("#questions-table tbody tr").count() == 3
    _nothing_sideways(page, "the questions page")
    page.screenshot(path=str(shots / f"lead-questions-{language}-phone.png"), full_page=True)
    context.close()
    assert not errors, errors


def _wedge(page, code, expected_class):
    """A keyboard-wedge scan on the booth scanner: keystrokes, Enter, the verdict shown."""
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'code'")
    page.eval_on_selector("#scan-result", "panel => { panel.className = panel.className.replace("
                                          "/\\b(ok|duplicate|refused|error|queued)\\b/g, ''); panel.replaceChildren(); }")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#scan-result.{expected_class} .verdict", state="visible")


def test_an_offline_rating_survives_questions_changed_meanwhile(app, make, browser, live_server):
    """Offline at the booth: two visitors rated, a note and an answer each; meanwhile the exhibitor admin deletes
    that question. Back online the ratings and notes are stored: the server leaves the stale answer out (200,
    ``ignored``), and should a server refuse an answer (a 400 naming ``answers.<key>``) the scanner sends the
    rating and the note again without the answers instead of dropping them."""
    from sqlalchemy import select

    from expo.visitors.badges import badge_code

    edition = make.edition(status="live", timezone="Asia/Shanghai")
    exhibitor = make.exhibitor(edition, name="Guangzhou Lighting Co")
    admin = make.user("exhibitor_admin", exhibitor=exhibitor)
    staff = make.user("booth_staff", exhibitor=exhibitor)
    lq.save_question(exhibitor, lq.QuestionInput("single", "Budget", "预算",
                                                 "small | Under 10k | 一万以下\nbig | Over 10k | 一万以上"),
                     actor_id=admin.id)
    first, second = (make.registration(edition, name=name) for name in ("王小明", "Li Na"))
    codes = [badge_code(first), badge_code(second)]
    ids = {"exhibitor": exhibitor.id, "admin": admin.id, "first": first.id, "second": second.id}
    email = staff.email
    db.session.commit()
    db.session.remove()

    context = browser.new_context(base_url=live_server, viewport=PHONE, locale="en-US", timezone_id="Asia/Shanghai",
                                  service_workers="allow")
    context.set_default_timeout(15_000)
    errors = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, email, "en")
    page.goto("/portal/scan")
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    page.reload()
    page.wait_for_selector("#scan-form[data-offline-check=ready]")
    page.wait_for_selector("#sync-pill[data-state=online]")

    context.set_offline(True)
    for code, rating, note in ((codes[0], "hot", "Wants 200 lamps"), (codes[1], "warm", "Call in May")):
        _wedge(page, code, "queued")
        page.click("#lead-card .lead-more summary")
        page.click("#lead-card label:has-text('Over 10k')")
        page.fill("#lead-note", note)
        page.click(f"#lead-card .rating-chip[data-rating={rating}]")
        page.wait_for_function("() => document.getElementById('lead-status').textContent.length > 0")
    page.wait_for_selector("#sync-pill[data-waiting='2'][data-state=offline]")

    # meanwhile, at the office: the question is deleted (nobody's answer is on the server yet)
    with app.app_context():
        lq.delete_question(lq.exhibitor_questions(ids["exhibitor"])[0], actor_id=ids["admin"])
        db.session.commit()
        db.session.remove()

    patches = []

    def refuse_warm_once(route):
        body = route.request.post_data_json or {}
        patches.append(body)
        if body.get("rating") == "warm" and "answers" in body:  # a server refusing an answer, as older ones did
            route.fulfill(status=400, content_type="application/json",
                          body='{"error": "No such question.", "field": "answers.budget"}')
        else:
            route.continue_()

    context.route("**/api/v1/leads/*", refuse_warm_once)
    context.set_offline(False)
    page.wait_for_selector("#sync-pill[data-waiting='0'][data-state=online]", timeout=30_000)

    with app.app_context():
        leads = {lead.registration_id: lead for lead in db.session.scalars(
            select(Lead).where(Lead.exhibitor_id == ids["exhibitor"]))}
        assert (leads[ids["first"]].rating, leads[ids["first"]].notes) == ("hot", "Wants 200 lamps")
        assert (leads[ids["second"]].rating, leads[ids["second"]].notes) == ("warm", "Call in May")
        assert lq.answers_of([lead.id for lead in leads.values()]) == {}
        db.session.remove()
    warm = [body for body in patches if body.get("rating") == "warm"]
    assert len(warm) == 2 and "answers" in warm[0] and "answers" not in warm[1], patches
    assert errors == []
    context.close()
