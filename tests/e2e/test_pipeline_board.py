"""The booth-sales board in a real browser: drag a card to the next stage (SortableJS, saved by fetch);
a drop on "lost" asks for the reason; and the same moves by keyboard / without JavaScript
through each card's "Move to …" form. Screenshots (laptop and phone, English and Chinese) go to ``shots``."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from playwright.sync_api import expect

from expo.core.scoping import Scope
from expo.exhibitors import pipeline
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.models import Exhibitor
from expo.extensions import db

from .conftest import sign_in


def _board(make):
    t = make.tenant("P", exhibitors=0, visitors=0, leads=False)
    scope = Scope(t.organizer.id)
    shell = pipeline.save_booth_type(scope, t.edition, code="SHELL", name_en="Shell scheme", name_zh="标准展位",
                                     price_per_m2=Decimal("1500"))
    deals = {}
    for name, status in (("Alpha Furniture", "prospect"), ("深圳宏达家具有限公司", "prospect"),
                         ("Beta Lighting", "negotiating"), ("Gamma Textiles", "contracted")):
        exhibitor = exhibitor_services.add_exhibitor(scope, t.edition, name, status=status, area_m2=Decimal(18))
        exhibitor.booth_type = shell
        exhibitor.expected_close_on = date(2026, 12, 20)
        deals[name] = exhibitor
    db.session.commit()
    return t, {name: e.id for name, e in deals.items()}


def _status(exhibitor_id):
    db.session.expire_all()
    return db.session.get(Exhibitor, exhibitor_id).status


def test_drag_a_card_to_the_next_stage(app, make, new_page, shots):
    t, ids = _board(make)
    page = new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, t.users["manager"].email)
    page.goto(f"/org/editions/{t.edition.id}/pipeline")
    card = page.locator(f'.kanban-card[data-id="{ids["Alpha Furniture"]}"]')
    page.screenshot(path=str(shots / "pipeline-board-en.png"), full_page=True)

    card.locator(".kanban-meta").first.drag_to(page.locator('.kanban-cards[data-stage="contacted"]'))
    page.wait_for_selector(f'.kanban-cards[data-stage="contacted"] .kanban-card[data-id="{ids["Alpha Furniture"]}"]')
    expect(page.locator("[data-board-status]")).to_contain_text("Contacted")
    assert _status(ids["Alpha Furniture"]) == "contacted"
    assert page.locator('.kanban-col[data-stage="contacted"] [data-count]').inner_text() == "1"

    # a drop on "lost" asks why first (the stage filter shows just the two columns, side by side)
    page.goto(f"/org/editions/{t.edition.id}/pipeline?stage=negotiating&stage=lost")
    beta = page.locator(f'.kanban-card[data-id="{ids["Beta Lighting"]}"]')
    beta.locator(".kanban-meta").first.drag_to(page.locator('.kanban-cards[data-stage="lost"]'))
    page.wait_for_selector("#lost-modal.show")
    page.fill("#lost-reason", "Chose another show")
    page.click("#lost-modal button[type=submit]")
    expect(page.locator("[data-board-status]")).to_contain_text("Lost")
    assert _status(ids["Beta Lighting"]) == "lost"
    assert db.session.get(Exhibitor, ids["Beta Lighting"]).lost_reason == "Chose another show"


def test_move_by_keyboard_form_without_javascript(app, make, new_page, shots):
    t, ids = _board(make)
    page = new_page("zh-CN", javascript=False, viewport={"width": 375, "height": 740})
    sign_in(page, t.users["sales"].email, "zh_CN")
    page.goto(f"/org/editions/{t.edition.id}/pipeline")
    card = page.locator(f'.kanban-card[data-id="{ids["深圳宏达家具有限公司"]}"]')
    card.locator("summary").focus()
    page.keyboard.press("Enter")  # opens "Move to …"
    card.locator("select[name=status]").select_option("negotiating")
    page.screenshot(path=str(shots / "pipeline-board-zh-phone.png"), full_page=True)
    with page.expect_navigation():
        card.locator("button[type=submit]").press("Enter")
    assert _status(ids["深圳宏达家具有限公司"]) == "negotiating"
    # lost without a reason: refused, said on the page
    card = page.locator(f'.kanban-card[data-id="{ids["深圳宏达家具有限公司"]}"]')
    card.locator("summary").click()
    card.locator("select[name=status]").select_option("lost")
    with page.expect_navigation():
        card.locator("button[type=submit]").click()
    assert _status(ids["深圳宏达家具有限公司"]) == "negotiating"
    assert page.locator(".alert").count() >= 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, "the page scrolls sideways; only the board itself may"


def test_company_and_deal_pages_on_a_phone(app, make, new_page, shots):
    from expo.exhibitors import accounts

    t, ids = _board(make)
    scope = Scope(t.organizer.id)
    exhibitor = db.session.get(Exhibitor, ids["深圳宏达家具有限公司"])
    contact = accounts.add_contact(scope, exhibitor.company, accounts.ContactData("王伟", "总经理", "wang@example.cn",
                                                                                  "+86 139 2233 4455"))
    accounts.log_activity(scope, exhibitor.company, kind="call", happened_on=None, summary="电话沟通展位位置",
                          contact=contact, exhibitor=exhibitor, actor_id=t.users["sales"].id)
    contract = accounts.add_contract(scope, exhibitor, number="HT-2026-001", signed_on=date(2026, 11, 1),
                                     amount=Decimal("27000"))
    accounts.add_payment(scope, contract, amount=Decimal("8100"), paid_on=date(2026, 11, 8), method="transfer")
    db.session.commit()
    for language, locale in (("en", "en-US"), ("zh_CN", "zh-CN")):
        page = new_page(locale, viewport={"width": 375, "height": 740})
        sign_in(page, t.users["sales"].email, language)
        page.goto(f"/org/companies/{exhibitor.company_id}")
        assert page.locator("#contacts").get_by_text("王伟").count() >= 1
        page.screenshot(path=str(shots / f"pipeline-company-{language}-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 376
        page.goto(f"/org/editions/{t.edition.id}/pipeline/{exhibitor.id}")
        assert page.locator("#contracts").get_by_text("HT-2026-001").count() >= 1
        page.screenshot(path=str(shots / f"pipeline-deal-{language}-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 376
