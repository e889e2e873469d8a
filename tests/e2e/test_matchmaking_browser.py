"""Matchmaking in a real browser, in English and Chinese: the organizer's Matchmaking page (weights saved, a run
asked, the backtest drawn by ECharts beside the settings) at 1366×768, the exhibitor's "Visitors to invite" and
the visitor's "Exhibitors to see" on a 375×667 phone; nothing sticks out sideways. Screenshots go to
$EXPO_SCREENSHOTS (default: the test's tmp dir)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from expo.core import services as core
from expo.core.db import utcnow
from expo.core.scoping import Scope
from expo.exhibitors import services as exhibitor_services
from expo.extensions import db
from expo.leads import services as lead_services
from expo.matchmaking import services
from expo.matchmaking.models import MatchmakingSettings

from .conftest import sign_in

pytestmark = pytest.mark.e2e
PHONE = {"width": 375, "height": 667}
LAPTOP = {"width": 1366, "height": 768}

EXHIBITORS = [("深圳宏达办公家具有限公司", "Office chairs 办公椅", "Mesh office chair", "网布办公椅",
               "Ergonomic mesh chair with lumbar support 人体工学网布椅"),
              ("Nordic Desk GmbH", "Desks 办公桌", "Standing desk", "升降办公桌", "Electric height-adjustable desk"),
              ("佛山新光照明", "LED 照明", "LED panel light", "LED面板灯", "Office LED panel, 4000K 办公照明"),
              ("Harbor Textiles Ltd.", "Curtains 窗帘", "Blackout curtain", "遮光窗帘", "Hotel blackout curtains")]
VISITORS = [("王小明", "ergonomic chairs 人体工学椅", ["Office chairs 办公椅", "Desks 办公桌"]),
            ("Anna Schmidt", "LED lighting for offices", ["LED 照明"]),
            ("李娜", "酒店窗帘", ["Curtains 窗帘"]),
            ("Tom Baker", "standing desks", ["Desks 办公桌"]),
            ("陈静", "办公椅 和 照明", ["Office chairs 办公椅", "LED 照明"])]


def _world(make) -> dict:
    """Two editions of a furniture show: last year's (closed, with leads) and this year's (live)."""
    live = make.edition(status="live", timezone="Asia/Shanghai", name="Office Expo 2026")
    scope, show = Scope(live.organizer_id), live.show
    parent = core.add_category(scope, show, "Office furniture 办公家具")
    cats = {name: core.add_category(scope, show, name, None if name.startswith(("LED", "Curtains")) else parent)
            for name in {c for _n, c, *_r in EXHIBITORS}}
    past = core.create_edition(scope, show, "Office Expo 2025", live.starts_on - timedelta(days=364),
                               live.starts_on - timedelta(days=361), status="closed")
    from expo.core.models import Organizer

    manager = make.user("manager", db.session.get(Organizer, live.organizer_id))
    exhibitors = {}
    for edition in (past, live):
        for name, category, p_en, p_zh, description in EXHIBITORS:
            exhibitor = make.exhibitor(edition, name=name)
            exhibitor.categories = [cats[category]]
            exhibitor.company.description = description
            if edition is live:
                exhibitors[name] = exhibitor
                exhibitor_services.create_product(exhibitor, exhibitor_services.ProductData(
                    name_en=p_en, name_zh=p_zh, description_en=description, category_ids=[cats[category].id]))
            else:
                exhibitors[(edition.id, name)] = exhibitor
    registrations = {}
    for edition in (past, live):
        for n, (name, need, interests) in enumerate(VISITORS):
            registration = make.registration(edition, name=name, email=f"v{n}@example.com",
                                             interest_ids=[cats[c].id for c in interests],
                                             answers={"needs": need}, source="import")
            registrations[(edition.id, name)] = registration
    # last year: each visitor was scanned at the stands of their categories, and rated hot
    for (edition_id, name), registration in registrations.items():
        if edition_id != past.id:
            continue
        interests = dict((v[0], v[2]) for v in VISITORS)[name]
        for ex_name, category, *_rest in EXHIBITORS:
            if category in interests:
                lead_id, _ = lead_services.capture_lead(exhibitors[(past.id, ex_name)], registration, manager, utcnow())
    admin = make.user("exhibitor_admin", exhibitor=exhibitors[EXHIBITORS[0][0]])
    db.session.commit()
    values = {"manager": manager.email, "admin": admin.email, "edition_id": live.id,
              "key": registrations[(live.id, "王小明")].access_key}
    db.session.remove()
    return values

def _nothing_sideways(page, what):
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"{what} scrolls sideways: {width}"


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_matchmaking_pages(app, make, new_page, shots, language):
    world = _world(make)
    locale = "zh-CN" if language == "zh_CN" else "en-US"

    # the organizer: weights saved, a run asked (eager here), the backtest run and drawn
    page = new_page(locale, viewport=LAPTOP)
    sign_in(page, world["manager"], language)
    url = f"/org/editions/{world['edition_id']}/matchmaking"
    page.goto(url)
    page.fill("#weight_text", "2")
    page.uncheck("#exclude_met")  # last year's visitors met these stands: suggest them again all the same
    with page.expect_navigation():
        page.click("#save-settings")
    assert page.locator("#weight_text").input_value() in ("2.0", "2")
    page.goto(url)  # (the "saved" toast would sit over the header's button on a narrow page)
    with page.expect_navigation():
        page.click("form[action$='/matchmaking/run'] button")
    page.goto(url)
    with page.expect_navigation():
        page.click("form[action$='/matchmaking/backtest'] button")
    with app.app_context():
        settings = db.session.query(MatchmakingSettings).filter_by(edition_id=world["edition_id"]).one()
        assert settings.status == "done" and settings.computed_rows > 0
        assert "model" in (settings.backtest or {}), settings.backtest
        db.session.remove()
    page.goto(url)
    page.wait_for_selector("#backtest-chart canvas")
    assert page.locator("#backtest-table tbody tr").count() == 2
    assert page.locator("#pair-list .pair").count() >= 3
    _nothing_sideways(page, "the matchmaking page")
    page.screenshot(path=str(shots / f"matchmaking-{language}-1366.png"), full_page=True)

    # the same page on a phone
    phone = new_page(locale, viewport=PHONE)
    sign_in(phone, world["manager"], language)
    phone.goto(url)
    phone.wait_for_selector("#backtest-chart canvas")
    phone.screenshot(path=str(shots / f"matchmaking-{language}-phone.png"), full_page=True)

    # the exhibitor: visitors to invite, with reasons, never an email address
    exhibitor = new_page(locale, viewport=PHONE)
    sign_in(exhibitor, world["admin"], language)
    exhibitor.goto("/portal/visitors-to-invite")
    cards = exhibitor.locator(".invite-card")
    assert cards.count() >= 2
    content = exhibitor.content()
    assert not any(f"v{n}@example.com" in content for n in range(len(VISITORS)))  # no visitor's address
    _nothing_sideways(exhibitor, "visitors to invite")
    exhibitor.screenshot(path=str(shots / f"visitors-to-invite-{language}-phone.png"), full_page=True)

    # the visitor, on a phone, no account: exhibitors to see with reasons in the page's language
    visitor = new_page(locale, viewport=PHONE)
    visitor.goto(f"/lang/{language}?next=/r/{world['key']}/exhibitors")
    visitor.goto(f"/r/{world['key']}/exhibitors")
    first = visitor.locator(".rec-card").first
    assert first.locator(".rec-name").inner_text() == "深圳宏达办公家具有限公司"
    reasons = first.locator(".rec-reasons li").all_inner_texts()
    assert reasons, "a recommendation without its reasons"
    text = " ".join(reasons)
    if language == "zh_CN":
        assert "办公椅" in text and "Office chairs" not in text
    else:
        assert "Office chairs" in text and "You both" in text
    _nothing_sideways(visitor, "exhibitors to see")
    visitor.screenshot(path=str(shots / f"exhibitors-to-see-{language}-phone.png"), full_page=True)
    visitor.goto(f"/r/{world['key']}")
    visitor.screenshot(path=str(shots / f"visitor-badge-page-{language}-phone.png"), full_page=True)
