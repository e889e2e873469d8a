"""The visitor's privacy page in a real browser on a 375×667 phone, in English and Chinese: it fits the screen,
its buttons are tap-sized, withdrawing sharing works by tapping, and erasure asks first. Screenshots go to
$EXPO_SCREENSHOTS (default: the test's tmp dir) as privacy-<lang>-375-<page>.png."""
from __future__ import annotations

import pytest

from expo.extensions import db

from ..e2e.conftest import CHROMIUM_ARGS, browser, live_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 667}
LANGUAGES = {"en": "en-US", "zh_CN": "zh-CN"}


@pytest.fixture
def keys(make):
    t = make.tenant("A", visitors=0)
    edition = t.edition
    edition.name = "深圳国际家具展 2027 Shenzhen International Furniture Fair"
    found = {}
    for lang in LANGUAGES:
        registration = make.registration(edition, name="王小明", email=f"xiaoming.{lang}@example.cn",
                                         phone="+86 139 1234 5678", company="深圳宏达家具有限公司", locale=lang)
        t.capture(t.users["booth_staff"], registration)
        found[lang] = registration.access_key
    db.session.commit()
    db.session.remove()
    return found


def _fits_the_phone(page, name):
    scroll, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{name}: scrolls sideways ({scroll} > {inner})"


def test_privacy_page_on_a_phone_in_both_languages(browser, live_server, keys, shots):  # noqa: F811
    for lang, locale in LANGUAGES.items():
        context = browser.new_context(base_url=live_server, locale=locale, viewport=PHONE, is_mobile=True,
                                      has_touch=True)
        page = context.new_page()
        page.goto(f"/lang/{lang}?next=/r/{keys[lang]}/privacy")
        assert page.locator("#consent-text").is_visible()
        assert page.locator("#withdraw-sharing").is_visible()
        _fits_the_phone(page, f"{lang} privacy")
        for button in ("#withdraw-sharing", "#data-html", "#data-json", "#erase-link"):
            assert page.locator(button).bounding_box()["height"] >= 44, button
        page.screenshot(path=str(shots / f"privacy-{lang}-375-privacy.png"), full_page=True)

        page.locator("#withdraw-sharing").tap()
        page.wait_for_selector("#give-sharing")
        _fits_the_phone(page, f"{lang} privacy after withdrawal")
        page.screenshot(path=str(shots / f"privacy-{lang}-375-withdrawn.png"), full_page=True)

        page.goto(f"/r/{keys[lang]}/data.html")
        _fits_the_phone(page, f"{lang} data page")
        assert page.locator(".data-registration").count() == 1
        page.screenshot(path=str(shots / f"privacy-{lang}-375-data.png"), full_page=True)

        page.goto(f"/r/{keys[lang]}/erase")
        _fits_the_phone(page, f"{lang} erase")
        page.screenshot(path=str(shots / f"privacy-{lang}-375-erase.png"), full_page=True)
        page.locator("#confirm-erase").tap()
        page.wait_for_selector("#erased")
        context.close()
