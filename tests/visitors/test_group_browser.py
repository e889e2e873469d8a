"""Qualified registration in a real browser: the public form with an exhibitor's invitation link and a group
of colleagues (rows shown one at a time by static/registration.js), on a phone; then the staff pages (setup,
approvals, invitations report) and the exhibitor's invitation page. Screenshots go to $EXPO_SCREENSHOTS as
registration-*.png (the user guide uses them)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from expo.core.db import utcnow
from expo.core.scoping import Scope
from expo.extensions import db
from expo.visitors import invitations, policy
from expo.visitors import services as visitor_services
from expo.visitors.models import Registration

from ..conftest import PASSWORD
from ..e2e.conftest import CHROMIUM_ARGS, browser, live_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 667}


@pytest.fixture
def world(make):
    t = make.tenant("A", exhibitors=["深圳宏达家具 Hongda Furniture", "Nordic Office"], visitors=0, leads=False)
    edition = t.edition
    edition.name = "深圳国际家具展 2027 Shenzhen International Furniture Fair"
    policy.save_setup(edition, opens_at=utcnow() - timedelta(days=3), closes_at=utcnow() + timedelta(days=30),
                      invitation_only=False, rules=[policy.CategoryRule("buyer", 500, False),
                                                    policy.CategoryRule("media", 20, True),
                                                    policy.CategoryRule("vip", None, True)])
    code = invitations.exhibitor_codes(Scope(t.organizer.id, t.exhibitor.id), t.exhibitor)[0]
    invitations.create_code(Scope(t.organizer.id, t.exhibitor.id), t.exhibitor, "Newsletter March", 200)
    for n, (name, category) in enumerate((("刘洋 Liu Yang", "media"), ("Anna Berg", "vip"), ("孙丽", "media"))):
        visitor_services.register(edition, visitor_services.RegistrationData(
            name=name, email=f"press{n}@example.com", company="Design Weekly", category=category, consent=True),
            send_confirmation=False)
    for n, name in enumerate(("王伟", "Maria Rossi", "李娜")):
        visitor_services.register(edition, visitor_services.RegistrationData(
            name=name, email=f"guest{n}@example.com", company="Rossi Interiors", category="buyer", consent=True,
            invitation_code=code.code), send_confirmation=False)
    db.session.commit()
    values = {"slug": edition.slug, "code": code.code, "edition_id": edition.id, "owner": t.users["owner"].email,
              "exhibitor_admin": t.users["exhibitor_admin"].email}
    db.session.remove()
    return values


def _sign_in(page, email):
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    assert "/login" not in page.url


def test_group_registration_with_an_invitation_link_on_a_phone(browser, live_server, world, shots):  # noqa: F811
    errors = []
    context = browser.new_context(base_url=live_server, locale="en-US", viewport=PHONE, is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/e/{world['slug']}?invite={world['code']}")
    assert "Hongda Furniture" in page.locator("#invited-by").inner_text()
    page.fill("input[name=name]", "陈杰 Chen Jie")
    page.fill("input[name=email]", "chen.jie@example.cn")
    page.fill("input[name=company]", "杰达办公用品有限公司")
    page.locator("#group summary").click()
    rows = page.locator("[data-colleague]")
    assert rows.nth(0).is_visible() and not rows.nth(1).is_visible()  # one row at a time
    page.fill("input[name='colleagues-0-name']", "刘洋")
    page.fill("input[name='colleagues-0-email']", "liu.yang@example.cn")
    page.locator("[data-add-colleague]").click()
    assert rows.nth(1).is_visible() and not rows.nth(2).is_visible()
    page.fill("input[name='colleagues-1-name']", "Sun Li")
    page.fill("input[name='colleagues-1-email']", "sun.li@example.cn")
    page.fill("input[name='colleagues-1-job_title']", "Designer")
    page.check("input[name=group_consent]")
    page.check("input[name=consent]")
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    page.locator("#group").screenshot(path=str(shots / "registration-group-en.png"))
    with page.expect_navigation():
        page.locator("#register button[type=submit]").click()
    assert page.url.endswith("/mail-sent")
    context.close()
    assert not errors, errors

    registrations = list(db.session.scalars(select(Registration).where(Registration.source == "exhibitor_invitation")
                                            .order_by(Registration.id)))[3:]
    assert [r.person.email for r in registrations] == ["chen.jie@example.cn", "liu.yang@example.cn",
                                                       "sun.li@example.cn"]
    assert registrations[1].group_contact_id == registrations[0].id


def test_staff_and_exhibitor_pages(browser, live_server, world, shots):  # noqa: F811
    errors = []
    for who, pages in (("owner", (("setup", f"/org/editions/{world['edition_id']}/registration-setup"),
                                  ("approvals", f"/org/editions/{world['edition_id']}/approvals"),
                                  ("report", f"/org/editions/{world['edition_id']}/invitations"))),
                       ("exhibitor_admin", (("portal", "/portal/invitations"),))):
        context = browser.new_context(base_url=live_server, locale="en-US", viewport={"width": 1280, "height": 800})
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        _sign_in(page, world[who])
        for name, url in pages:
            page.goto(url)
            if name == "approvals":
                assert page.locator("#approval-queue tbody tr").count() == 3
            page.screenshot(path=str(shots / f"registration-{name}-en.png"), full_page=True)
        context.close()
    assert not errors, errors
