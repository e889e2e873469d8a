"""The Predictions page in a real browser (Chromium) on a generated history: the calibration chart drawn, no
script error, no sideways scrolling on a 375 px phone or a 1366 px laptop, in English and Chinese, both tabs.
Screenshots go to $EXPO_SCREENSHOTS as <lang>-<width>-predictions-<kind>.png."""
from __future__ import annotations

import pytest

from expo.extensions import db
from expo.postshow import backtest, predictions

from ..conftest import PASSWORD
from ..e2e.conftest import browser, live_server  # noqa: F401 (fixtures)
from .test_exhibitor_dashboard_browser import LOCALES, VIEWPORTS, drawn
from .test_predictions import NOW, generated_history

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(make, monkeypatch):
    organizer, _show, editions, satisfaction = generated_history(make, editions=4, companies=90)
    monkeypatch.setattr(predictions, "company_satisfaction", lambda scope, edition_id: satisfaction.get(edition_id, {}))
    for kind in ("exhibitor", "visitor"):
        backtest.compute(editions[-1], kind, now=NOW)
    manager = make.user("manager", organizer, email="manager@predictions.example.com")
    values = {"edition": editions[-1].id, "email": manager.email}
    db.session.commit()
    db.session.remove()
    return values


def test_predictions_page_in_the_browser(browser, live_server, world, shots):  # noqa: F811
    errors, overflow = [], []
    for language, locale in LOCALES.items():
        for device, viewport in VIEWPORTS.items():
            context = browser.new_context(base_url=live_server, locale=locale, viewport=viewport)
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.on("pageerror", lambda error, page=page: errors.append(f"{page.url}: {error}"))
            page.goto(f"/lang/{language}?next=/login")
            page.fill("input[name=email]", world["email"])
            page.fill("input[name=password]", PASSWORD)
            with page.expect_navigation():
                page.press("input[name=password]", "Enter")
            for kind in ("exhibitor", "visitor"):
                response = page.goto(f"/org/editions/{world['edition']}/predictions?kind={kind}")
                assert response.status == 200
                page.wait_for_load_state("load")
                assert drawn(page, "calibration"), f"calibration not drawn ({language}, {device}, {kind})"
                assert page.locator("#prediction-scores tbody tr").count() > 0
                width = page.evaluate("() => { const m = document.querySelector('main'); "
                                      "return [m.scrollWidth, m.clientWidth]; }")
                if width[0] > width[1]:
                    overflow.append(f"{kind} ({language}, {device}): {width[0]}px in {width[1]}px")
                page.wait_for_timeout(300)
                page.screenshot(path=str(shots / f"{language}-{viewport['width']}-predictions-{kind}.png"),
                                full_page=True)
            context.close()
    assert not errors, errors
    assert not overflow, overflow
