"""Visitor-category rules (issue 7): the first active rule whose conditions all hold decides the category,
in order; a rule without conditions is the default; no match keeps the visitor's choice. The registration
shows which rule decided; staff can override (audited, shown as "set by staff"); the rules page has field
errors and a live test."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from expo.core.models import AuditEntry, Organizer
from expo.extensions import db
from expo.visitors import questions as qs
from expo.visitors import rules as rs
from expo.visitors.models import Registration

from ..conftest import Browser, csrf_token, field_errors

AUTHORITY = "decides | I decide | 我决定\ninfluences | I recommend | 我有建议权\nnone | Neither | 都不是"
COMPANY = "distributor | Distributor | 经销商\nretailer | Retailer | 零售商\npress | Press | 媒体"


def _question(edition, key, kind, choices=""):
    return qs.save_question(edition, qs.QuestionInput(key=key, kind=kind, label_en=key.title(),
                                                      label_zh=key, choices_text=choices))


def _rule(edition, name, category, *conditions):
    return rs.save_rule(edition, rs.RuleInput(name=name, category=category, conditions=list(conditions)))


@pytest.fixture
def ruled(make):
    edition = make.edition(status="registration_open")
    _question(edition, "authority", "single", AUTHORITY)
    _question(edition, "company_type", "single", COMPANY)
    _question(edition, "products", "multi", "chairs | Chairs | 椅子\ndesks | Desks | 桌子")
    _rule(edition, "Purchase decision makers", "buyer", ("authority", "equals", "decides"),
          ("company_type", "equals", "distributor"))
    _rule(edition, "Press", "media", ("company_type", "equals", "press"))
    _rule(edition, "Chair people", "trade_visitor", ("products", "contains", "chairs"))
    db.session.commit()
    return edition


def _answers(edition, **values):
    return qs.read_answers(edition, {f"q_{k}": v for k, v in values.items()})[0]


def test_all_conditions_must_hold_and_the_first_match_wins(ruled):
    category, rule = rs.decide_category(ruled, _answers(ruled, authority="decides", company_type="distributor",
                                                        products="chairs"))
    assert (category, rule.name) == ("buyer", "Purchase decision makers")  # chairs would match too: later
    category, rule = rs.decide_category(ruled, _answers(ruled, authority="influences", company_type="distributor",
                                                        products="chairs"))
    assert (category, rule.name) == ("trade_visitor", "Chair people")
    assert rs.decide_category(ruled, _answers(ruled, authority="decides", company_type="retailer")) == (None, None)


def test_plain_answers_are_read_too(ruled):
    category, rule = rs.decide_category(ruled, {"company_type": "press"})
    assert (category, rule.name) == ("media", "Press")


def test_order_decides_and_a_rule_without_conditions_is_the_default(ruled):
    default = _rule(ruled, "Everyone else", "public")
    assert rs.decide_category(ruled, {})[1].id == default.id
    chair = next(r for r in rs.edition_rules(ruled) if r.name == "Chair people")
    rs.move_rule(chair, "up")
    rs.move_rule(chair, "up")
    assert [r.name for r in rs.edition_rules(ruled)][0] == "Chair people"
    category, rule = rs.decide_category(ruled, _answers(ruled, authority="decides", company_type="distributor",
                                                        products="chairs"))
    assert (category, rule.name) == ("trade_visitor", "Chair people")


def test_a_deactivated_rule_does_not_decide(ruled):
    press = next(r for r in rs.edition_rules(ruled) if r.name == "Press")
    rs.set_rule_active(press, False)
    assert rs.decide_category(ruled, {"company_type": "press"}) == (None, None)


def test_registering_applies_the_rules_and_the_page_says_which(app, client, make, ruled):
    url = f"/e/{ruled.slug}"
    response = client.post(url, data={
        "name": "王芳", "email": "wang.fang@example.cn", "category": "public", "consent": "y",
        "q_authority": "decides", "q_company_type": "distributor", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    registration = db.session.scalar(select(Registration).where(Registration.edition_id == ruled.id))
    assert (registration.category, registration.category_set_by) == ("buyer", "rule")
    assert rs.decided_by(registration) == "rule “Purchase decision makers”"
    owner = make.user("owner", db.session.get(Organizer, ruled.organizer_id))
    db.session.commit()
    page = Browser(app, owner).get(f"/org/editions/{ruled.id}/registrations/{registration.id}").get_data(
        as_text=True)
    assert "Buyer" in page and "rule “Purchase decision makers”" in page


def test_no_rule_matching_keeps_the_visitors_choice(make, ruled):
    registration = make.registration(ruled, category="vip", answers=_answers(ruled, company_type="retailer"))
    assert (registration.category, registration.category_set_by, registration.category_rule_id) == \
        ("vip", "visitor", None)


def test_imports_keep_the_category_they_bring(make, ruled):
    registration = make.registration(ruled, category="public", source="import",
                                     answers=_answers(ruled, company_type="press"))
    assert registration.category == "public"


def test_staff_override_is_audited_and_shown(app, make, ruled):
    registration = make.registration(ruled, category="public", answers=_answers(ruled, company_type="press"))
    assert registration.category == "media"
    organizer = db.session.get(Organizer, ruled.organizer_id)
    onsite, sales = make.user("onsite", organizer), make.user("sales", organizer)
    db.session.commit()
    url = f"/org/editions/{ruled.id}/registrations/{registration.id}/category"
    assert Browser(app, sales).post(url, data={"category": "vip"}).status_code == 403
    desk = Browser(app, onsite)
    assert desk.post(url, data={"category": "bogus"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, registration.id).category == "media"
    assert desk.post(url, data={"category": "vip"}).status_code == 302
    db.session.expire_all()
    changed = db.session.get(Registration, registration.id)
    assert (changed.category, changed.category_set_by, changed.category_rule_id) == ("vip", "staff", None)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "registration.category"))
    assert entry.user_id == onsite.id
    assert entry.details == {"category": "vip", "previous": "media", "decided_by": "rule “Press”"}
    page = desk.get(f"/org/editions/{ruled.id}/registrations/{registration.id}").get_data(as_text=True)
    assert "set by staff" in page


@pytest.fixture
def owner_browser(app, make, ruled):
    owner = make.user("owner", db.session.get(Organizer, ruled.organizer_id))
    db.session.commit()
    return Browser(app, owner)


@pytest.mark.parametrize("data, field, message", [
    ({"name": "", "category": "buyer"}, "name", "Give the rule a name"),
    ({"name": "X", "category": "astronaut"}, "category", "Choose a visitor category"),
    ({"name": "X", "category": "buyer", "key_0": "nowhere", "value_0": "1"}, "key_0", "Choose a question"),
    ({"name": "X", "category": "buyer", "key_0": "authority", "value_0": "boss"}, "value_0", "decides"),
    ({"name": "X", "category": "buyer", "key_1": "authority", "value_1": ""}, "value_1", "Give the answer"),
    ({"name": "X\x00", "category": "buyer"}, "name", "cannot be stored"),
])
def test_a_bad_rule_gets_field_errors(owner_browser, ruled, data, field, message):
    response = owner_browser.post(f"/org/editions/{ruled.id}/category-rules", data=data)
    assert response.status_code == 200
    assert message in " ".join(field_errors(response.get_data(as_text=True), field))
    assert len(rs.edition_rules(ruled)) == 3


def test_rules_page_adds_a_rule_and_tests_answers_live(owner_browser, ruled):
    response = owner_browser.post(f"/org/editions/{ruled.id}/category-rules", data={
        "name": "Retail buyers", "category": "buyer", "key_0": "company_type", "op_0": "equals",
        "value_0": "retailer"})
    assert response.status_code == 302
    assert rs.edition_rules(ruled)[-1].conditions == [{"key": "company_type", "op": "equals", "value": "retailer"}]
    page = owner_browser.get(f"/org/editions/{ruled.id}/category-rules/test?q_company_type=retailer").get_data(
        as_text=True)
    assert "These answers → Buyer, by the rule “Retail buyers”." in page.replace("&#34;", '"')
    page = owner_browser.get(f"/org/editions/{ruled.id}/category-rules/test?q_company_type=").get_data(as_text=True)
    assert "no rule matches" in page
    page = owner_browser.get(f"/org/editions/{ruled.id}/category-rules/test?q_company_type=nasa").get_data(
        as_text=True)
    assert "Choose among the options given." in field_errors(page, "q_company_type")


def test_the_demo_show_has_bilingual_questions_rules_and_decided_categories(ctx):
    from expo import demo

    demo.generate(visitors=120, exhibitors=4, editions=2)
    live = db.session.scalar(select(Registration.edition_id).order_by(Registration.edition_id.desc()).limit(1))
    questions = qs.all_questions(live)
    assert [q.key for q in questions] == ["purchase_authority", "company_type", "products", "annual_budget",
                                          "main_market"]
    assert all(q.label_en and q.label_zh for q in questions)
    edition_rules = list(db.session.scalars(select(rs.CategoryRule).where(rs.CategoryRule.edition_id == live)))
    assert len(edition_rules) == 3
    registrations = list(db.session.scalars(select(Registration).where(  # visitors (booth staff answer nothing)
        Registration.edition_id == live, Registration.category != "exhibitor_staff")))
    by_rule = [r for r in registrations if r.category_set_by == "rule"]
    assert by_rule and all(r.category_rule_id for r in by_rule)
    assert all(r.answers["purchase_authority"]["v"] == 1 for r in registrations)
    # the budget is asked only of those who decide
    assert all(("annual_budget" in r.answers) == (r.answers["purchase_authority"]["value"] == "decides")
               for r in registrations)
    assert {row.key for row in qs.answer_rows(registrations[0], "zh_CN")} >= {"purchase_authority", "company_type"}


def test_redecide_after_new_answers_but_never_over_staff(make, ruled):
    registration = make.registration(ruled, category="public", answers=_answers(ruled, company_type="retailer"))
    assert registration.category_set_by == "visitor"
    registration.answers = qs.keep_unasked(registration.answers, _answers(ruled, company_type="press"),
                                           qs.active_questions(ruled))
    assert rs.redecide(registration, ruled) is True and registration.category == "media"
    rs.override_category(registration, "vip")
    registration.answers = _answers(ruled, authority="decides", company_type="distributor")
    assert rs.redecide(registration, ruled) is False and registration.category == "vip"


def test_keep_unasked_keeps_answers_to_retired_questions(make, ruled):
    retired = {"old_question": {"v": 1, "value": "x"}, "company_type": {"v": 1, "value": "retailer"}}
    kept = qs.keep_unasked(retired, _answers(ruled, company_type="press"), qs.active_questions(ruled))
    assert kept == {"old_question": {"v": 1, "value": "x"}, "company_type": {"v": 1, "value": "press"}}
