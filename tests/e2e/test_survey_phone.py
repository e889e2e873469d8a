"""A visitor answers the survey on a 375×740 phone in Chinese (zh_CN), in a real browser: the badge page links to
it, a missing required answer is asked for with nothing typed lost, the answers go in and the thank-you page
shows; no sideways scroll on any of these pages, every request to our own origin. Then the organizer reads the
results on a laptop. Screenshots go to the ``shots`` folder as survey-*.png."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from expo.extensions import db
from expo.surveys import services
from expo.surveys.models import SurveyResponse

from ..surveys.test_surveys import build_survey
from .conftest import sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 740}
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def world(make):
    t = make.tenant(exhibitors=0, visitors=8)
    survey, qs = build_survey(t.edition)
    for registration, score in zip(t.registrations[1:], (10, 9, 4, 8, 6, 10, 2)):
        services.submit(services.Taker(survey, registration=registration),
                        {f"q{qs[0].id}": [str(score)], f"q{qs[4].id}": ["停车太难了"]})
    db.session.commit()
    values = {"key": t.registration.access_key, "survey": survey.id, "edition": t.edition.id,
              "questions": [q.id for q in qs], "manager": t.users["manager"].email,
              "path": services.take_path(survey, registration_id=t.registration.id)}
    db.session.remove()
    return values


def _no_sideways_scroll(page):
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] + 1, (page.url, widths)


def test_survey_on_a_phone_in_chinese(new_page, live_server, world, shots, app):
    page = new_page("zh-CN", viewport=PHONE)
    foreign = []
    own = urlsplit(live_server).netloc
    page.on("request", lambda r: foreign.append(r.url)
            if urlsplit(r.url).netloc not in (own, "") and not r.url.startswith("data:") else None)
    page.goto(f"/lang/zh_CN?next=/r/{world['key']}")
    section = page.locator("#visitor-surveys-section")
    assert "展会体验如何？" in section.inner_text()
    page.screenshot(path=str(shots / "survey-zh-375-badge-page.png"), full_page=True)
    with page.expect_navigation():
        section.locator("a.survey-link").click()
    assert urlsplit(page.url).path == world["path"]
    assert "您向同事推荐本展会的可能性有多大？" in page.inner_text("body")
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / "survey-zh-375-form.png"), full_page=True)

    q_nps, q_rating, q_single, q_multiple, q_text = world["questions"]
    page.click(f"label[for=q{q_rating}-4]")
    page.fill(f"#q{q_text}", "餐饮排队太久，希望增加餐位")
    with page.expect_navigation():
        page.click("#survey-submit")  # the required recommend question is not answered
    assert page.locator(f"#question-{q_nps} .error").is_visible()
    assert page.input_value(f"#q{q_text}") == "餐饮排队太久，希望增加餐位"
    assert page.is_checked(f"#q{q_rating}-4")
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / "survey-zh-375-error.png"), full_page=True)

    page.click(f"label[for=q{q_nps}-9]")
    page.click(f"label[for=q{q_single}-0]")
    page.click(f"label[for=q{q_multiple}-1]")
    page.click(f"label[for=q{q_multiple}-2]")
    with page.expect_navigation():
        page.click("#survey-submit")
    assert urlsplit(page.url).path == world["path"] + "/thanks"
    assert "谢谢" in page.inner_text("body") or "Thank you" in page.inner_text("body")
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / "survey-zh-375-thanks.png"), full_page=True)
    assert foreign == []

    with app.app_context():
        stored = db.session.scalar(select(SurveyResponse).order_by(SurveyResponse.id.desc()))
        assert stored.nps == 9 and stored.language == "zh"
        assert {a.question_id: a.choices for a in stored.answers}[q_multiple] == [1, 2]
        db.session.remove()

    laptop = new_page("en-US", viewport=LAPTOP)
    sign_in(laptop, world["manager"])
    laptop.goto(f"/org/editions/{world['edition']}/surveys/{world['survey']}/results")
    assert laptop.locator("#nps-card").is_visible()
    laptop.wait_for_selector("#chart-mix canvas")
    _no_sideways_scroll(laptop)
    laptop.screenshot(path=str(shots / "survey-en-1366-results.png"), full_page=True)


def test_results_page_on_a_phone(new_page, world, shots):
    page = new_page("en-US", viewport=PHONE)
    sign_in(page, world["manager"])
    page.goto(f"/org/editions/{world['edition']}/surveys/{world['survey']}/results")
    assert page.locator("#nps-card").is_visible()
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / "survey-en-375-results.png"), full_page=True)
    page.goto(f"/org/editions/{world['edition']}/surveys/{world['survey']}")
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / "survey-en-375-edit.png"), full_page=True)
    page.goto(f"/org/editions/{world['edition']}/surveys/{world['survey']}/kiosk")
    assert page.locator("#kiosk-qr svg").is_visible()
    _no_sideways_scroll(page)
    page.screenshot(path=str(shots / "survey-en-375-kiosk.png"), full_page=True)
