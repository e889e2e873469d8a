"""The exhibitor manual in a real browser: an exhibitor admin, on a phone (375×667), opens the checklist, sees
what is due, fills in a form before its deadline (text, choice, yes/no), is told about a missing answer next to
the field, sends it, and finds it done on the checklist. The organizer then sees it on a laptop. Nothing scrolls
sideways. Screenshots go to $EXPO_SCREENSHOTS (default: the test's tmp dir)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from expo.core.scoping import Scope
from expo.exhibitors import manual
from expo.exhibitors.manual_models import ManualSubmission
from expo.extensions import db

from .conftest import sign_in

pytestmark = pytest.mark.e2e
PHONE = {"width": 375, "height": 667}
LAPTOP = {"width": 1366, "height": 768}


def _today():
    """Today where the show is (the checklist counts the days in the edition's time zone, not the server's)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _world(make) -> dict:
    edition = make.edition(status="live", timezone="Asia/Shanghai", starts_on=_today() + timedelta(days=20))
    exhibitor = make.exhibitor(edition, name="深圳宏达家具有限公司")
    admin = make.user("exhibitor_admin", exhibitor=exhibitor)
    manager = make.user("manager", organizer=type("O", (), {"id": edition.organizer_id})())
    scope = Scope(edition.organizer_id)
    form = manual.create_form(scope, edition, manual.FormData("Fascia name 楣板名称", _today() + timedelta(days=5),
                                                              description="The name printed above your stand."),
                              fields=[{"label": "Fascia text", "type": "text", "required": True},
                                      {"label": "Language", "type": "choice", "choices": "English\nChinese\nBoth",
                                       "required": True},
                                      {"label": "Lit fascia", "type": "yes_no"}])
    manual.create_form(scope, edition, manual.FormData("Power order 电力申请", _today() + timedelta(days=12),
                                                       mandatory=False),
                       fields=[{"label": "Power", "type": "choice", "choices": "3 kW\n6 kW"}])
    manual.add_section(scope, edition, "Move-in 布展", "Trucks unload at gate 3 from 8:00.")
    db.session.commit()
    values = {"admin": admin.email, "manager": manager.email, "form_id": form.id, "exhibitor_id": exhibitor.id,
              "edition_id": edition.id}
    db.session.remove()
    return values


def _nothing_sideways(page, what):
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"{what} scrolls sideways: {width}"


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_an_exhibitor_completes_a_form_before_its_deadline_on_a_phone(app, make, new_page, shots, language):
    world = _world(make)
    page = new_page("zh-CN" if language == "zh_CN" else "en-US", viewport=PHONE)
    sign_in(page, world["admin"], language)
    page.goto("/portal/manual")
    item = page.locator(f"#item-{world['form_id']}")
    assert item.get_attribute("data-state") == "due"
    assert "5" in item.inner_text()  # due in 5 days
    _nothing_sideways(page, "the checklist")
    page.screenshot(path=str(shots / f"manual-checklist-phone-{language}.png"), full_page=True)

    item.locator("a").click()
    page.wait_for_url(f"**/portal/manual/forms/{world['form_id']}")
    page.select_option("#f2", "Both")
    page.check("#f3-yes")
    with page.expect_navigation():
        page.click("#send-form")  # the fascia text is missing: told next to the field, nothing lost
    assert page.locator(".field.has-error .error").count() == 1
    assert page.locator("#f2").input_value() == "Both"
    page.screenshot(path=str(shots / f"manual-form-error-phone-{language}.png"), full_page=True)
    page.fill("#f1", "HONGDA FURNITURE 宏达家具")
    _nothing_sideways(page, "the form")
    page.screenshot(path=str(shots / f"manual-form-phone-{language}.png"), full_page=True)
    with page.expect_navigation():
        page.click("#send-form")
    page.wait_for_url("**/portal/manual")
    assert page.locator(f"#item-{world['form_id']}").get_attribute("data-state") == "done"
    _nothing_sideways(page, "the checklist after sending")
    page.screenshot(path=str(shots / f"manual-checklist-done-phone-{language}.png"), full_page=True)

    # Before the deadline it stays editable: the form shows the answers, "send again".
    page.goto(f"/portal/manual/forms/{world['form_id']}")
    assert page.locator("#f1").input_value() == "HONGDA FURNITURE 宏达家具"
    assert page.locator("#send-form").is_enabled()

    submission = db.session.scalar(select(ManualSubmission).where(ManualSubmission.form_id == world["form_id"]))
    assert submission.answers == {"f1": "HONGDA FURNITURE 宏达家具", "f2": "Both", "f3": "yes"}

    organizer = new_page("zh-CN" if language == "zh_CN" else "en-US", viewport=LAPTOP)
    sign_in(organizer, world["manager"], language)
    organizer.goto(f"/org/editions/{world['edition_id']}/manual/forms/{world['form_id']}")
    row = organizer.locator(f"#exhibitor-{world['exhibitor_id']}")
    assert row.get_attribute("data-state") == "done"
    assert "HONGDA FURNITURE" in row.inner_text()
    organizer.screenshot(path=str(shots / f"manual-organizer-form-{language}.png"), full_page=True)
    organizer.goto(f"/org/editions/{world['edition_id']}/manual")
    organizer.screenshot(path=str(shots / f"manual-organizer-{language}.png"), full_page=True)
    organizer.set_viewport_size(PHONE)
    organizer.goto(f"/org/editions/{world['edition_id']}/manual")
    organizer.screenshot(path=str(shots / f"manual-organizer-phone-{language}.png"), full_page=True)


def test_an_exhibitor_registers_staff_badges_within_the_quota_on_a_phone(app, make, new_page, shots):
    from decimal import Decimal

    world = _world(make)
    from expo.exhibitors.models import Exhibitor

    exhibitor = db.session.get(Exhibitor, world["exhibitor_id"])
    exhibitor.area_m2 = Decimal("9")  # 2 + 1 per 9 m²: three badges
    db.session.commit()
    db.session.remove()
    page = new_page(viewport=PHONE)
    sign_in(page, world["admin"], "en")
    page.goto("/portal/staff-badges")
    for name in ("Li Na 李娜", "Tom Baker", "Wang Wei 王伟"):
        page.fill("#name", name)
        page.fill("#job_title", "Sales")
        with page.expect_navigation():
            page.click("#add-staff-badge button[type=submit]")
    assert page.locator("#staff-badges tbody tr").count() == 3
    assert page.locator("#quota-full").count() == 1  # the quota is used up: no form any more
    _nothing_sideways(page, "the staff badges page")
    page.screenshot(path=str(shots / "staff-badges-phone-en.png"), full_page=True)

    organizer = new_page(viewport=LAPTOP)
    sign_in(organizer, world["manager"], "en")
    organizer.goto(f"/org/editions/{world['edition_id']}/staff-badges")
    assert "3" in organizer.locator(f"#exhibitor-{world['exhibitor_id']}").inner_text()
    organizer.fill("#base", "3")
    with organizer.expect_navigation():
        organizer.click("#quota-form button[type=submit]")
    assert organizer.locator(f"#exhibitor-{world['exhibitor_id']} td").last.inner_text().strip() == "4"
    organizer.screenshot(path=str(shots / "staff-badges-organizer-en.png"), full_page=True)
