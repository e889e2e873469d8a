"""The badge layouts page in a real browser: the colour picker fills the hex field, saving shows the new band in
the preview, and the page is what the user guide shows (screenshots)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from expo.extensions import db
from expo.visitors.models import BadgeLayout

from ..conftest import PASSWORD
from ..e2e.conftest import browser, live_server, new_page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


def _sign_in(page, email):
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    assert "/login" not in page.url


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_layouts_page_edits_a_category_and_previews_it(make, new_page, shots, locale):
    organizer = make.organizer()
    edition = make.edition(organizer, name="深圳国际家具展 Shenzhen Furniture Fair 2026")
    owner = make.user("owner", organizer)
    owner.locale = locale if hasattr(owner, "locale") else None
    db.session.commit()
    page = new_page("zh-CN" if locale == "zh_CN" else "en-US", viewport={"width": 1280, "height": 900})
    _sign_in(page, owner.email)

    page.goto(f"/org/editions/{edition.id}/badges")
    card = page.locator("#layout-vip")
    card.locator("input[type=color]").fill("#8b0000")  # the picker fills the hex field (static/badges.js)
    assert card.locator("input[name=colour]").input_value() == "#8b0000"
    card.locator("input[name=label_en]").fill("VIP GUEST")
    with page.expect_navigation():
        card.locator("button[value=save]").click()

    row = db.session.scalar(select(BadgeLayout).where(BadgeLayout.edition_id == edition.id))
    assert (row.category, row.colour, row.label_en) == ("vip", "#8b0000", "VIP GUEST")
    preview = page.locator("#layout-vip .badge-preview img")
    preview.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    page.locator("#layout-buyer").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    page.screenshot(path=str(shots / f"badge-layouts-{locale}.png"), full_page=False)


def test_print_badges_from_the_filtered_list_in_the_browser(make, new_page, shots):
    organizer = make.organizer()
    edition = make.edition(organizer, name="深圳国际家具展 2026")
    for i in range(5):
        make.registration(edition, name=f"王小明{i}", category="vip" if i < 2 else "buyer")
    onsite = make.user("onsite", organizer)
    db.session.commit()
    page = new_page(viewport={"width": 1280, "height": 800})
    _sign_in(page, onsite.email)

    page.goto(f"/org/editions/{edition.id}/registrations?category=vip")
    page.screenshot(path=str(shots / "badge-print-button.png"))
    page.select_option("#badge-format", "l7163")
    with page.expect_navigation():
        page.click("#print-badges button[type=submit]")

    assert "/org/jobs/" in page.url
    page.wait_for_selector("#job-files a")  # the job page offers the PDF once the job is done
    link = page.locator("#job-files a").first
    assert "badges.pdf" in link.inner_text()
    assert page.locator("#job-done").inner_text() == "2"
    page.screenshot(path=str(shots / "badge-job.png"))
