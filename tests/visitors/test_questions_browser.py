"""The qualification questions in a real browser on a 375×667 phone, in English and Chinese: a conditional
question appears only when its answer matches (static/questions.js), disappears again, and a hidden one's
value is not sent; the registration then carries the category the rules gave. Screenshots go to
$EXPO_SCREENSHOTS (default: the test's tmp dir) as questions-<lang>-375-<step>.png; the staff pages as
questions-staff-*.png."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from expo.core.models import Organizer
from expo.extensions import db
from expo.visitors import questions as qs
from expo.visitors import rules as rs
from expo.visitors.models import Registration

from ..e2e.conftest import CHROMIUM_ARGS, browser, live_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 667}
LANGUAGES = {"en": "en-US", "zh_CN": "zh-CN"}


@pytest.fixture
def edition(make):
    edition = make.edition(status="registration_open", name="深圳国际家具展 2027 Shenzhen Furniture Fair")
    rng = __import__("random").Random(7)
    rs.demo_qualifier(edition, rng)  # the demo's questions (budget shown to those who decide) and rules
    owner = make.user("owner", db.session.get(Organizer, edition.organizer_id), email="owner.q@example.com")
    answers, _errors = qs.read_answers(edition, {"q_purchase_authority": "decides", "q_company_type": "distributor",
                                                 "q_products": "office_chairs", "q_annual_budget": "250000",
                                                 "q_main_market": "DE"})
    registration = make.registration(edition, name="Anna Weber", email="anna.weber@example.de", category="public",
                                     answers=answers)
    question = db.session.scalar(select(qs.Question).where(qs.Question.edition_id == edition.id,
                                                           qs.Question.key == "purchase_authority"))
    reworded = qs.question_input(question)
    reworded.label_en = "Who signs your purchase orders?"
    qs.save_question(edition, reworded, question=question)  # version 2: Anna's answer keeps version 1's words
    db.session.commit()
    found = (edition.id, edition.slug, owner.email, registration.id)
    db.session.remove()
    return found


def _fits_the_phone(page, name):
    scroll, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{name}: scrolls sideways ({scroll} > {inner})"


def test_the_conditional_question_on_a_phone_in_both_languages(browser, live_server, edition, shots):  # noqa: F811
    edition_id, slug, _owner, _registration_id = edition
    errors = []
    for n, (lang, locale) in enumerate(LANGUAGES.items()):
        context = browser.new_context(base_url=live_server, locale=locale, viewport=PHONE, is_mobile=True,
                                      has_touch=True)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"/lang/{lang}?next=/e/{slug}")
        budget = page.locator("#question-annual_budget")
        assert page.locator("#question-purchase_authority").is_visible()
        assert budget.is_hidden(), "the budget is asked only of those who decide"
        _fits_the_phone(page, f"{lang} form")

        page.locator('input[name="q_purchase_authority"][value="decides"]').check()
        assert budget.is_visible()
        page.locator("#question-annual_budget-input").fill("250000")
        page.locator('input[name="q_company_type"][value="distributor"]').check()
        page.locator('input[name="q_products"][value="office_chairs"]').check()
        page.locator("#question-main_market-input").select_option("DE")
        page.locator("#questions").screenshot(path=str(shots / f"questions-{lang}-375-shown.png"))

        page.locator('input[name="q_purchase_authority"][value="recommends"]').check()
        assert budget.is_hidden()
        assert page.locator("#question-annual_budget-input").is_disabled()  # not sent
        page.locator('input[name="q_purchase_authority"][value="decides"]').check()
        assert budget.is_visible() and page.locator("#question-annual_budget-input").input_value() == "250000"

        page.locator("#name").fill("王小明" if lang == "zh_CN" else "Anna Weber")
        page.locator("#email").fill(f"questions.{n}@example.com")
        page.locator("#consent").check()
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(f"**/e/{slug}/mail-sent**")
        context.close()
    assert not errors, errors

    db.session.expire_all()
    registrations = list(db.session.scalars(select(Registration).where(Registration.edition_id == edition_id)
                                            .order_by(Registration.id)))
    assert [r.category for r in registrations[1:]] == ["buyer", "buyer"]
    assert all(r.answers["annual_budget"] == {"v": 1, "value": 250000} for r in registrations[1:])
    assert registrations[1].answers["purchase_authority"] == {"v": 2, "value": "decides"}
    assert registrations[2].answers["main_market"]["value"] == "DE"


def test_staff_pages_look(browser, live_server, edition, shots):  # noqa: F811
    edition_id, _slug, owner, registration_id = edition
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.locator("#email").fill(owner)
    page.locator("#password").fill(__import__("tests.conftest", fromlist=["PASSWORD"]).PASSWORD)
    page.locator("form button[type=submit]").click()
    page.goto(f"/org/editions/{edition_id}/questions")
    assert page.locator("#questions-table tbody tr").count() == 5
    page.screenshot(path=str(shots / "questions-staff-list.png"), full_page=True)
    page.goto(f"/org/editions/{edition_id}/category-rules/test?q_purchase_authority=decides"
              "&q_company_type=distributor&q_annual_budget=120000")
    assert "Purchase decision makers" in page.locator("#test-result").inner_text()
    page.screenshot(path=str(shots / "questions-staff-rules.png"), full_page=True)
    page.goto(f"/org/editions/{edition_id}/registrations/{registration_id}")
    assert "Purchase decision makers" in page.locator("#category-state").inner_text()
    assert "Your role in purchasing decisions" in page.locator("#registration-answers").inner_text()
    page.locator("#override-category summary").click()
    page.screenshot(path=str(shots / "questions-staff-registration.png"), full_page=True)
    context.close()


def test_a_number_condition_reads_numbers_as_the_server_does(browser, live_server, make):  # noqa: F811
    """"1,000" is 1000 for a number question, in the browser as on the server (a required question the script
    hid while the server asked for it would leave the visitor stuck); a text answer "05" is not "5"."""
    edition = make.edition(status="registration_open")
    qs.save_question(edition, qs.QuestionInput(key="stands", kind="number", label_en="Stands", label_zh="展位数"))
    qs.save_question(edition, qs.QuestionInput(key="which", kind="text", label_en="Which stands?", label_zh="哪些？",
                                               required=True, condition_key="stands", condition_op="equals",
                                               condition_value="1000"))
    qs.save_question(edition, qs.QuestionInput(key="code", kind="text", label_en="Code", label_zh="代码"))
    qs.save_question(edition, qs.QuestionInput(key="five", kind="text", label_en="Five?", label_zh="五？",
                                               condition_key="code", condition_op="equals", condition_value="5"))
    db.session.commit()
    slug = edition.slug
    db.session.remove()
    page = browser.new_context(base_url=live_server, viewport=PHONE).new_page()
    page.goto(f"/e/{slug}")
    which, five = page.locator("#question-which"), page.locator("#question-five")
    page.locator("#question-stands-input").fill("1,000")
    assert which.is_visible()
    page.locator("#question-stands-input").fill("１０００")  # full-width digits from a Chinese keyboard
    assert which.is_visible()
    page.locator("#question-stands-input").fill("999")
    assert which.is_hidden()
    page.locator("#question-code-input").fill("05")
    assert five.is_hidden()
    page.locator("#question-code-input").fill("5")
    assert five.is_visible()
    page.context.close()
