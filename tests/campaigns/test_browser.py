"""The campaign pages in a real browser (Chromium): the report's funnel chart drawn, the draft's preview,
the segment builder form, the phone-sized unsubscribe page; no JavaScript error, no CSP refusal, nothing
wider than a phone. Screenshots go to $EXPO_SCREENSHOTS as campaign-<lang>-<width>-<page>.png: look at them."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from expo.campaigns import services
from expo.campaigns.models import Campaign, Recipient
from expo.campaigns.segments import Segment
from expo.core import services as core
from expo.core.scoping import Scope
from expo.extensions import db
from expo.onsite import services as onsite
from expo.visitors import services as visitors

from ..conftest import PASSWORD, new_scan_id
from ..e2e.conftest import browser, live_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 375, "height": 667}}
LANGUAGES = {"en": "en-US", "zh_CN": "zh-CN"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明")


@pytest.fixture
def world(make, app):
    rng = random.Random(7)
    organizer = make.organizer("华展会展")
    scope = Scope(organizer.id)
    show = core.create_show(scope, "深圳国际家具展")
    last = make.edition(organizer, show=show, starts_on=date.today() - timedelta(days=364), name="深圳国际家具展 2025")
    live = make.edition(organizer, show=show, starts_on=date.today() - timedelta(days=1), name="深圳国际家具展 2026")
    office = core.add_category(scope, show, "办公家具 Office furniture")
    chairs = core.add_category(scope, show, "办公椅 Office chairs", office)
    owner, gate = make.user("owner", organizer), make.user("onsite", organizer)
    for n in range(140):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if n % 3 else "")
        visitors.register(last, visitors.RegistrationData(
            name=name, email=f"buyer{n}@example.cn", category="buyer" if n % 4 else "trade_visitor", consent=True,
            interest_ids=[chairs.id], country="CN", locale="zh_CN" if n % 5 else "en"), send_confirmation=False)
    app.config["CAMPAIGN_RATE_PER_MINUTE"] = 1000
    data = services.CampaignData(
        name="2026 邀请：去年的办公椅采购商", segment=Segment(attended="previous", categories=["buyer"],
                                                        interests=[chairs.id], registered="no"),
        subject_en="Your invitation to Shenzhen Furniture Fair 2026", body_en="Dear {name},\n\nregister: {link}",
        subject_zh="诚邀您参观深圳国际家具展 2026", body_zh="{name}，您好：\n\n现在登记：{link}")
    campaign = services.create_campaign(scope, live, data, actor_id=owner.id)
    services.start(campaign, actor_id=owner.id)
    db.session.commit()
    app.config.pop("CAMPAIGN_RATE_PER_MINUTE")
    recipients = list(db.session.scalars(db.select(Recipient).where(Recipient.campaign_id == campaign.id)))
    for i, recipient in enumerate(recipients[:44]):  # opened the link
        services.registration_link(live, services.link_token(recipient.id))
        if i % 5 < 2:  # and registered through it; half of those came already
            person = recipient.person
            registration = visitors.register(live, visitors.RegistrationData(
                name=person.name, email=person.email, category="buyer", consent=True, locale=recipient.locale,
                source="campaign", campaign_id=campaign.id), send_confirmation=False)
            if i % 2:
                onsite.record_scan(gate, code=visitors.badge_code(registration), kind="checkin",
                                   client_scan_id=new_scan_id(), edition_id=live.id)
    services.create_campaign(scope, live, services.CampaignData(
        name="展会进行中：尚未登记的采购商", segment=Segment(attended="show", categories=["buyer"], registered="no"),
        subject_zh="展会正在举办", body_zh="{name}，您好：{link}"), actor_id=owner.id)
    db.session.commit()
    values = {"owner": owner.email, "edition": live.id, "sent": campaign.id,
              "draft": db.session.scalar(db.select(Campaign.id).where(Campaign.status == "draft")),
              "unsubscribe": f"/u/{services.unsubscribe_token(campaign.id, recipients[0].person_id)}"}
    db.session.remove()
    return values


def _sign_in(page, email):
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    assert "/login" not in page.url


def test_campaign_pages_in_the_browser(browser, live_server, world, shots):  # noqa: F811
    errors, overflow, csp = [], [], []
    base = f"/org/editions/{world['edition']}/campaigns"
    pages = (("report", f"{base}/{world['sent']}/report"), ("list", base), ("preview", f"{base}/{world['draft']}"),
             ("form", f"{base}/{world['draft']}/edit"), ("unsubscribe", world["unsubscribe"]))
    for language, locale in LANGUAGES.items():
        for device, viewport in VIEWPORTS.items():
            context = browser.new_context(base_url=live_server, locale=locale, viewport=viewport, device_scale_factor=1)
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
            page.goto(f"/lang/{language}?next=/login")
            _sign_in(page, world["owner"])
            for name, url in pages:
                page.goto(url)
                page.wait_for_load_state("load")
                if name == "report":
                    page.wait_for_selector("#campaign-funnel canvas")
                    assert page.locator("#figures .kpi-value").first.inner_text().replace(",", "") == "105"
                if name == "preview":
                    assert page.locator("#preview tbody tr").count() == 20
                if viewport["width"] < 576:
                    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
                    if widths[0] > widths[1]:
                        overflow.append(f"{url} ({language}): {widths[0]}px in {widths[1]}px")
                page.screenshot(path=str(shots / f"campaign-{language}-{viewport['width']}-{name}.png"), full_page=True)
            context.close()
    assert not errors, errors
    assert not csp, csp
    assert not overflow, overflow
