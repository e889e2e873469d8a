"""Meetings in a real browser on phones (375×667 for the visitor, 360×800 for the booth): a visitor opens their badge
page, follows "Your meetings", picks an exhibitor and a time and sends the request; the exhibitor's booth staff
accept it on the meetings page, then mark the visitor arrived on "Today's meetings". Nothing scrolls sideways.
Screenshots go to $EXPO_SCREENSHOTS (default: the test's tmp dir)."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from expo.core.db import utcnow
from expo.extensions import db
from expo.matchmaking import meetings
from expo.matchmaking.meeting_models import Meeting

from .conftest import sign_in

pytestmark = pytest.mark.e2e
VISITOR_PHONE = {"width": 375, "height": 667}
BOOTH_PHONE = {"width": 360, "height": 800}


def _world(make) -> dict:
    edition = make.edition(status="live", timezone="Asia/Shanghai", starts_on=date.today() + timedelta(days=1))
    exhibitor = make.exhibitor(edition, name="深圳宏达家具有限公司")
    make.exhibitor(edition, name="Möbel Schmidt GmbH")  # one without slots: not listed
    booth = make.user("booth_staff", exhibitor=exhibitor)
    meetings.add_slots(exhibitor, edition.starts_on, time(10), time(11, 30), 30, ["T1"])
    visitor = make.registration(edition, name="王小明", company="佛山金雅家居有限公司")
    db.session.commit()
    values = {"key": visitor.access_key, "booth": booth.email, "exhibitor_id": exhibitor.id}
    db.session.remove()
    return values


def _nothing_sideways(page, what):
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"{what} scrolls sideways: {width}"


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_visitor_requests_a_slot_and_the_booth_accepts_it_on_phones(app, make, browser, live_server, shots,
                                                                        language):
    world = _world(make)
    locale = "zh-CN" if language == "zh_CN" else "en-US"
    errors = []

    # --- the visitor, on their phone, from their badge page ---
    visitor = browser.new_context(base_url=live_server, viewport=VISITOR_PHONE, locale=locale)
    page = visitor.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/lang/{language}?next=/r/{world['key']}")
    assert page.locator("#visitor-meetings-section").is_visible()
    page.click("#meetings-link")
    page.wait_for_url(f"**/r/{world['key']}/meetings")
    listed = page.locator("#exhibitors-with-slots li")
    assert listed.count() == 1 and "深圳宏达家具有限公司" in listed.first.inner_text()
    page.screenshot(path=str(shots / f"meetings-visitor-exhibitors-{language}.png"), full_page=True)
    listed.first.locator("a").click()
    page.wait_for_selector("#exhibitor-slots")
    assert page.locator("#exhibitor-slots input[type=radio]").count() == 3
    page.locator("#exhibitor-slots input[type=radio]").nth(1).check()
    page.fill("#message", "想看新款办公椅 / the new office chairs")
    _nothing_sideways(page, "the visitor's slot picker")
    page.screenshot(path=str(shots / f"meetings-visitor-pick-{language}.png"), full_page=True)
    with page.expect_navigation():
        page.click("#send-request")
    mine = page.locator("#my-meetings li")
    assert mine.count() == 1
    assert "10:30" in mine.first.inner_text()
    page.screenshot(path=str(shots / f"meetings-visitor-requested-{language}.png"), full_page=True)

    # --- the booth staff, on theirs ---
    booth = browser.new_context(base_url=live_server, viewport=BOOTH_PHONE, locale=locale)
    staff = booth.new_page()
    staff.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(staff, world["booth"], language)
    staff.goto("/portal/meetings")
    waiting = staff.locator("#meetings-waiting li")
    assert waiting.count() == 1 and "王小明" in waiting.first.inner_text()
    assert "the new office chairs" in waiting.first.inner_text()
    _nothing_sideways(staff, "the meetings page")
    staff.screenshot(path=str(shots / f"meetings-booth-request-{language}.png"), full_page=True)
    with staff.expect_navigation():
        waiting.first.locator("button.btn-success").click()
    agreed = staff.locator("#meetings-agreed li")
    assert agreed.count() == 1 and "10:30" in agreed.first.inner_text()
    staff.screenshot(path=str(shots / f"meetings-booth-accepted-{language}.png"), full_page=True)

    with app.app_context():
        meeting = db.session.scalars(select(Meeting)).one()
        assert meeting.status == "accepted" and meeting.requested_by == "visitor"
        db.session.remove()

    # the visitor sees it agreed, with the calendar link
    page.reload()
    assert page.locator("#calendar-link").is_visible()
    page.screenshot(path=str(shots / f"meetings-visitor-agreed-{language}.png"), full_page=True)

    # Show day: the clock reaches the meeting (its slot moved to begin a minute ago), the visitor turns up and
    # the booth staff tap "Arrived" on their phone.
    with app.app_context():
        meeting = db.session.scalars(select(Meeting)).one()
        start = utcnow() - timedelta(minutes=1)
        for row in (meeting, meeting.slot):
            row.starts_at, row.ends_at = start, start + timedelta(minutes=30)
        db.session.commit()
        db.session.remove()
    staff.goto("/portal/meetings/today")
    card = staff.locator("#today-meetings li.card")
    assert card.count() == 1 and "王小明" in card.first.inner_text()
    _nothing_sideways(staff, "today's meetings")
    staff.screenshot(path=str(shots / f"meetings-booth-today-{language}.png"), full_page=True)
    arrived = card.first.locator("button.btn-success")
    assert arrived.bounding_box()["height"] >= 44  # a thumb's tap target
    with staff.expect_navigation():
        arrived.click()
    staff.screenshot(path=str(shots / f"meetings-booth-arrived-{language}.png"), full_page=True)
    with app.app_context():
        assert db.session.scalars(select(Meeting)).one().status == "attended"
        db.session.remove()

    visitor.close()
    booth.close()
    assert not errors, errors


def test_the_exhibitor_admin_publishes_slots_and_the_organizer_sees_the_meetings(app, make, browser, live_server,
                                                                                 shots):
    edition = make.edition(status="live", timezone="Asia/Shanghai", starts_on=date.today() + timedelta(days=1))
    exhibitor = make.exhibitor(edition, name="Nordic Living Ltd.")
    admin = make.user("exhibitor_admin", exhibitor=exhibitor)
    from expo.core.models import Organizer

    manager = make.user("manager", db.session.get(Organizer, edition.organizer_id))
    visitor = make.registration(edition, name="Sophie Dubois")
    db.session.commit()
    emails, edition_id, visitor_id, exhibitor_id = (admin.email, manager.email), edition.id, visitor.id, exhibitor.id
    db.session.remove()

    context = browser.new_context(base_url=live_server, viewport={"width": 1366, "height": 768})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, emails[0], "en")
    page.goto("/portal/meeting-slots")
    page.fill("#start", "14:00")
    page.fill("#end", "16:00")
    page.fill("#minutes", "20")
    page.fill("#tables", "T1, T2")
    with page.expect_navigation():
        page.click("#publish-slots")
    assert page.locator("#slots-table tbody tr").count() == 12
    page.screenshot(path=str(shots / "meetings-slots-desktop.png"), full_page=True)

    with app.app_context():
        from expo.visitors.models import Registration

        slot = meetings.free_slots(exhibitor_id)[0]
        meetings.request_by_visitor(db.session.get(Registration, visitor_id), slot, message="Outdoor sofas")
        db.session.commit()
        db.session.remove()

    manager_context = browser.new_context(base_url=live_server, viewport={"width": 1366, "height": 768})
    org = manager_context.new_page()
    org.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(org, emails[1], "en")
    org.goto(f"/org/editions/{edition_id}/meetings")
    assert "Nordic Living Ltd." in org.locator("#edition-meetings").inner_text()
    org.fill("#cap_buyer", "5")
    with org.expect_navigation():
        org.locator("#meeting-caps button[type=submit]").click()
    assert org.locator("#cap_buyer").input_value() == "5"
    org.screenshot(path=str(shots / "meetings-organizer-desktop.png"), full_page=True)
    context.close()
    manager_context.close()
    assert not errors, errors
