"""Customer 360 in a real browser: the person page, the company page and the search, at 1366×768 and
375×667, in English and Chinese; no sideways scrolling on the phone, no JavaScript error, no inline style or
script refused. Screenshots go to $EXPO_SCREENSHOTS (default: the test's tmp dir) as
customer-<lang>-<width>-<page>.png: look at them."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from expo.core.scoping import Scope
from expo.exhibitors import services as exhibitors
from expo.extensions import db
from expo.leads import services as leads
from expo.onsite import services as onsite
from expo.visitors import notifications
from expo.visitors import services as visitors

from ..conftest import new_scan_id
from .conftest import sign_in

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 375, "height": 667}}
LANGUAGES = {"en": "en-US", "zh_CN": "zh-CN"}


@pytest.fixture
def world(make):
    """A returning buyer of a furniture fair: two editions, checked in, scanned and rated at three booths,
    mails; her company's people; an exhibitor company with two editions and leads."""
    t = make.tenant("A", exhibitors=["深圳宏达家具有限公司", "Nordic Office Seating AB", "佛山永丰五金有限公司"],
                    visitors=[("李娜", "li.na@hongda-buyer.example.cn")], organizer_name="华展会展",
                    edition_name="深圳国际家具展 2026")
    scope = Scope(t.organizer.id)
    past = make.edition(t.organizer, show=t.show, name="深圳国际家具展 2025", status="closed",
                        starts_on=t.edition.starts_on - timedelta(days=364))
    owner = t.users["owner"]
    person = t.registration.person
    visitors.update_person(scope, person, {"phone": "+86 139 2233 4455", "company": "广州华美办公用品有限公司",
                                           "job_title": "采购总监", "country": "CN"}, actor_id=owner.id)
    old = visitors.register(past, visitors.RegistrationData(
        name="李娜", email=person.email, category="trade_visitor", consent=True, source="import"),
        send_confirmation=False)
    for name, hall, stand, area, price, status in (("深圳宏达家具有限公司", "1", "A08", "54", "81000", "exhibited"),
                                                   ("Nordic Office Seating AB", "2", "C15", "36", "57600", "exhibited")):
        exhibitor = exhibitors.add_exhibitor(scope, past, name, hall=hall, stand=stand, area_m2=Decimal(area),
                                             price=Decimal(price), status="contracted")
        exhibitors.set_status(exhibitor, status, actor_id=owner.id)
    notifications.confirmation_mail(t.registration.id)
    onsite.record_scan(t.users["onsite"], code=t.code, kind="checkin", client_scan_id=new_scan_id(), gate="北门 1",
                       edition_id=t.edition.id)
    for (exhibitor, _admin, booth), rating in zip(t.exhibitors, ("hot", "warm", None)):
        lead = t.lead if exhibitor.id == t.exhibitor.id else t.capture(booth, t.registration)
        if rating:
            leads.update_lead(lead, rating=rating, notes="不要显示这条备注", actor_id=booth.id)
    colleague = visitors.register(t.edition, visitors.RegistrationData(
        name="王伟", email="wang.wei@hongda.example.cn", company="深圳宏达家具 有限公司", job_title="设计经理",
        category="buyer", consent=True), send_confirmation=False)
    t.capture(t.exhibitors[1][2], colleague)
    exhibitors.set_status(t.exhibitor, "paid", actor_id=owner.id)
    t.exhibitor.area_m2, t.exhibitor.price = Decimal("72"), Decimal("108000")
    exhibitors.update_company(t.exhibitor.company, {
        "name": t.exhibitor.company.name, "country": "CN", "website": "www.hongda-furniture.example.cn",
        "email": "sales@hongda-furniture.example.cn", "phone": "+86 755 8888 1234",
        "description": "办公家具与软体沙发制造商，成立于2003年，工厂位于东莞。"}, actor_id=owner.id)
    db.session.commit()
    values = {"owner": owner.email, "person": person.id, "company": t.exhibitor.company_id, "old": old.id}
    db.session.remove()
    return values

def test_person_company_and_search_pages(browser, live_server, world, shots):
    errors, overflow, csp = [], [], []
    pages = (("person", f"/org/persons/{world['person']}"), ("company", f"/org/companies/{world['company']}"),
             ("search", "/org/search?q=li+na"))
    for language, locale in LANGUAGES.items():
        for device, viewport in VIEWPORTS.items():
            context = browser.new_context(base_url=live_server, locale=locale, viewport=viewport, device_scale_factor=1)
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
            page.goto(f"/lang/{language}?next=/login")
            sign_in(page, world["owner"])
            for name, url in pages:
                page.goto(url)
                page.wait_for_load_state("load")
                if name == "person":
                    assert page.locator("#timeline .timeline-item").count() >= 6
                    assert "不要显示这条备注" not in page.content()
                    assert page.locator("#panel-leads tbody tr").count() == 3
                if name == "company":
                    assert page.locator("#bookings tbody tr").count() == 2
                    assert page.locator("#panel-people").inner_text().count("王伟") == 1
                if name == "search":
                    assert page.locator("#results-persons .result-title").first.inner_text() == "李娜"
                if viewport["width"] < 576:
                    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
                    if widths[0] > widths[1]:
                        overflow.append(f"{url} ({language}): {widths[0]}px in {widths[1]}px")
                page.screenshot(path=str(shots / f"customer-{language}-{viewport['width']}-{name}.png"), full_page=True)
            context.close()
    assert not errors, errors
    assert not overflow, overflow
    assert not csp, csp
