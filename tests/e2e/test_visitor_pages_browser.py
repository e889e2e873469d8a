"""The visitor's pages in a real browser on a 375×667 phone, in English and Chinese: the front door, the
show page with its form (and its errors), "check your inbox" (with its "send it again" form), the confirmation
page the mail links to — no sideways scroll, 16 px inputs, tap
targets of at least 44 px, the QR drawn at least 240 px wide, every request to our own origin; then the
organizer's registrations list, desk page (with its confirm dialog) and duplicate review on a laptop.
Screenshots go to $EXPO_SCREENSHOTS (default: the test's tmp dir) as visitors-<lang>-<width>-<page>.png."""
from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from expo.core import services as core
from expo.core.models import MailMessage
from expo.core.scoping import Scope
from expo.extensions import db
from expo.visitors import services as visitors

from ..conftest import PASSWORD

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 667}
LAPTOP = {"width": 1366, "height": 768}
LANGUAGES = {"en": "en-US", "zh_CN": "zh-CN"}


@pytest.fixture
def world(make):
    organizer = make.organizer("深圳会展 Shenzhen Fairs")
    show = core.create_show(Scope(organizer.id), "深圳国际家具展 Shenzhen International Furniture Fair")
    core.add_category(Scope(organizer.id), show, "办公家具 Office furniture")
    core.add_category(Scope(organizer.id), show, "照明 Lighting")
    edition = make.edition(organizer, show=show, status="registration_open",
                           name="深圳国际家具展 2027 Shenzhen International Furniture Fair")
    manager = make.user("manager", organizer)
    for n in range(30):  # two colleagues share a switchboard; one visitor registered twice under two emails
        phone = "+86 755 8888 9999" if n in (3, 4) else f"139{n:08d}"
        make.registration(edition, name=f"访客 {n:02d}", company=f"广州百利家居有限公司 {n:02d}", phone=phone)
    make.registration(make.edition(organizer, show=show, status="closed", starts_on=date.today() - timedelta(days=400)),
                      name="访客 07", company="广州百利家居有限公司 07", email="fangke07@qq.example.com", source="import")
    db.session.commit()
    values = {"slug": edition.slug, "edition": edition.id, "manager": manager.email,
              "registration": visitors.registrations_page(Scope(organizer.id), edition, visitors.RegistrationFilters(),
                                                          per_page=25).items[0].id}
    db.session.remove()
    return values


def _watch_origin(page, live_server):
    foreign = []
    own = urlsplit(live_server).netloc
    page.on("request", lambda request: foreign.append(request.url)
            if urlsplit(request.url).netloc not in (own, "") and not request.url.startswith("data:") else None)
    return foreign


def _badge_link(email: str) -> str:
    """The badge page's path from the confirmation mail in the outbox (the form answers "check your inbox")."""
    db.session.remove()
    body = db.session.scalar(select(MailMessage.body_text).where(MailMessage.recipient == email)
                             .order_by(MailMessage.id.desc()).limit(1))
    db.session.remove()  # hold no connection or snapshot while the server thread writes
    assert body, f"no mail to {email} in the outbox"
    return urlsplit(re.search(r"https?://\S+/r/[\w-]+", body).group(0)).path


def _fits_the_phone(page, name):
    scroll, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{name}: scrolls sideways ({scroll} > {inner})"


def test_visitor_pages_on_a_phone_in_both_languages(browser, live_server, world, shots):
    for lang, locale in LANGUAGES.items():
        context = browser.new_context(base_url=live_server, locale=locale, viewport=PHONE, is_mobile=True,
                                      has_touch=True)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        foreign = _watch_origin(page, live_server)

        page.goto("/")
        _fits_the_phone(page, f"{lang} front door")
        assert page.locator(".show-card").count() == 1
        page.screenshot(path=str(shots / f"visitors-{lang}-375-front-door.png"), full_page=True)
        with page.expect_navigation():
            page.click(".show-card a.btn-primary")
        assert f"/e/{world['slug']}" in page.url

        # an empty submit: the errors sit next to their fields, in the page's language
        with page.expect_navigation():
            page.click("#register button[type=submit]")
        _fits_the_phone(page, f"{lang} form with errors")
        assert page.locator(".field .error").count() >= 2
        page.screenshot(path=str(shots / f"visitors-{lang}-375-form-errors.png"), full_page=True)
        for selector in ("#name", "#email", "#phone", "#category"):
            size = page.eval_on_selector(selector, "el => parseFloat(getComputedStyle(el).fontSize)")
            assert size >= 16, f"{lang} {selector}: {size}px (iOS zooms into inputs under 16 px)"
        height = page.eval_on_selector("#register button[type=submit]", "el => el.getBoundingClientRect().height")
        assert height >= 44, f"{lang}: the submit button is {height}px high"

        page.fill("#name", "李华" if lang == "zh_CN" else "Li Hua")
        page.fill("#email", f"li.hua.{lang}@example.cn")
        page.fill("#phone", "+86 139 1234 5678")
        page.check("#consent")
        with page.expect_navigation():
            page.click("#register button[type=submit]")
        # "check your inbox": the same page whoever the address belongs to; the badge link comes by mail
        assert urlsplit(page.url).path == f"/e/{world['slug']}/mail-sent", page.inner_text("main")[:500]
        assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh_CN" else "en")
        assert page.locator("#mail-sent-title").is_visible()
        assert not page.locator(".hp-field input").is_visible() or page.eval_on_selector(
            ".hp-field", "el => el.getBoundingClientRect().right <= 0"), "the honeypot shows"
        height = page.eval_on_selector("button[type=submit]", "el => el.getBoundingClientRect().height")
        assert height >= 44, f"{lang}: the send-again button is {height}px high"
        _fits_the_phone(page, f"{lang} check your inbox")
        page.screenshot(path=str(shots / f"visitors-{lang}-375-mail-sent.png"), full_page=True)
        page.fill("#email", f"li.hua.{lang}@example.cn")
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.locator("#link-requested").is_visible()
        _fits_the_phone(page, f"{lang} link asked for again")

        page.goto(_badge_link(f"li.hua.{lang}@example.cn"))
        page.wait_for_function("() => document.getElementById('badge-qr').complete")
        width = page.eval_on_selector("#badge-qr", "img => img.getBoundingClientRect().width")
        natural = page.eval_on_selector("#badge-qr", "img => img.naturalWidth")
        assert width >= 240 and natural > 0, (width, natural)
        assert page.locator("#save-hint").is_visible()
        _fits_the_phone(page, f"{lang} confirmation")
        page.screenshot(path=str(shots / f"visitors-{lang}-375-confirmation.png"), full_page=True)

        assert not foreign, f"{lang}: requests to other hosts: {foreign}"
        assert not errors, f"{lang}: JavaScript errors: {errors}"
        context.close()


def test_registrations_list_desk_and_duplicates_on_a_laptop(browser, live_server, world, shots):
    for lang, locale in LANGUAGES.items():
        context = browser.new_context(base_url=live_server, locale=locale, viewport=LAPTOP)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        foreign = _watch_origin(page, live_server)
        page.goto("/login")
        page.fill("input[name=email]", world["manager"])
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.press("input[name=password]", "Enter")

        page.goto(f"/org/editions/{world['edition']}/registrations?sort=name")
        assert page.locator("#registrations tbody tr").count() == 25
        assert "30" in page.inner_text("#export-xlsx")
        page.screenshot(path=str(shots / f"visitors-{lang}-1366-registrations.png"), full_page=True)
        with page.expect_navigation():
            page.select_option("#filter-category", "media")
            page.click(".filter-bar button[type=submit]")
        assert "category=media" in page.url
        assert page.locator(".filter-chip").count() == 1

        page.goto(f"/org/editions/{world['edition']}/registrations/{world['registration']}")
        page.click("#desk-actions form[data-confirm] button.btn-outline-danger")
        dialog = page.locator("#confirm-modal")
        dialog.wait_for(state="visible")
        page.screenshot(path=str(shots / f"visitors-{lang}-1366-desk-confirm.png"))
        dialog.locator("[data-bs-dismiss=modal].btn-outline-secondary").click()
        dialog.wait_for(state="hidden")
        assert page.locator("#desk-actions").is_visible()

        page.goto("/org/duplicates")
        assert page.locator(".duplicate-pair").count() == 2
        page.screenshot(path=str(shots / f"visitors-{lang}-1366-duplicates.png"), full_page=True)

        assert not foreign, f"{lang}: requests to other hosts: {foreign}"
        assert not errors, f"{lang}: JavaScript errors: {errors}"
        context.close()

