"""Qualification questions (issue 7): every type read and checked (hostile input gets a clear error next to
the question, never a 500), conditional questions shown and hidden on the server, versions keeping the
wording a visitor answered, both languages, the staff pages' field errors, reorder / deactivate / delete
rules, and the export's column per question."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from expo.core.models import AuditEntry, Organizer
from expo.extensions import db
from expo.visitors import questions as qs
from expo.visitors import services as visitor_services
from expo.visitors.models import Person, Registration

from ..conftest import Browser, csrf_token, field_errors, login


def add(edition, key, kind="text", *, label_en=None, label_zh="", required=False, choices="", when=None,
        help_en="", help_zh=""):
    data = qs.QuestionInput(key=key, kind=kind, required=required,
                            label_en=f"Question {key}" if label_en is None else label_en,
                            label_zh=label_zh, help_en=help_en, help_zh=help_zh, choices_text=choices)
    if when:
        data.condition_key, data.condition_op, data.condition_value = when
    return qs.save_question(edition, data)


AUTHORITY = "decides | I decide | 我决定\ninfluences | I recommend | 我有建议权\nnone | Neither | 都不是"
PRODUCTS = "chairs | Office chairs | 办公椅\ndesks | Desks | 办公桌\nsofas | Sofas | 沙发"


@pytest.fixture
def form_edition(make):
    """An open edition with one question of every type, and a conditional one."""
    edition = make.edition(status="registration_open")
    add(edition, "authority", "single", label_en="Your role in purchasing", label_zh="您在采购中的角色",
        required=True, choices=AUTHORITY)
    add(edition, "budget", "number", label_en="Annual budget (USD)", label_zh="年度预算（美元）", required=True,
        when=("authority", "equals", "decides"))
    add(edition, "products", "multi", label_en="Products of interest", label_zh="感兴趣的产品", choices=PRODUCTS)
    add(edition, "market", "country", label_en="Main market", label_zh="主要市场")
    add(edition, "importer", "yes_no", label_en="Do you import?", label_zh="您是否进口？")
    add(edition, "visit_day", "date", label_en="Planned visit day", label_zh="计划参观日期")
    add(edition, "note", "text", label_en="Anything else?", label_zh="其他？")
    db.session.commit()
    return edition


def _organizer(edition):
    return db.session.get(Organizer, edition.organizer_id)


def _visitor(**overrides):
    data = {"name": "李华", "email": "li.hua@example.cn", "company": "深圳宏达家具有限公司", "category": "trade_visitor",
            "consent": "y"}
    data.update(overrides)
    return data


def _post(client, edition, data):
    url = f"/e/{edition.slug}"
    token = csrf_token(client, url)
    return client.post(url, data={**data, "csrf_token": token})


# --- reading answers -----------------------------------------------------------------------------

def test_every_type_is_read_and_stored_with_its_version(form_edition):
    answers, errors = qs.read_answers(form_edition, MultiDict([
        ("q_authority", "decides"), ("q_budget", "1,250,000"), ("q_products", "desks"), ("q_products", "chairs"),
        ("q_market", "de"), ("q_importer", "yes"), ("q_visit_day", "2026-05-02"), ("q_note", "  two\x0bvans \n")]))
    assert errors == {}
    assert answers == {
        "authority": {"v": 1, "value": "decides"}, "budget": {"v": 1, "value": 1250000},
        "products": {"v": 1, "value": ["chairs", "desks"]},  # in the question's order, once each
        "market": {"v": 1, "value": "DE"}, "importer": {"v": 1, "value": "yes"},
        "visit_day": {"v": 1, "value": "2026-05-02"}, "note": {"v": 1, "value": "two vans"}}


def test_decimal_numbers_are_kept(form_edition):
    answers, errors = qs.read_answers(form_edition, {"q_authority": "decides", "q_budget": "-12.5"})
    assert errors == {} and answers["budget"]["value"] == -12.5


@pytest.mark.parametrize("field, value, message", [
    ("q_note", "evil\x00byte", "cannot be stored"),
    ("q_note", "x" * 501, "At most 500"),
    ("q_budget", "1" + "0" * 30, "between"),
    ("q_budget", "-1e30", "between"),
    ("q_budget", "NaN", "between"),
    ("q_budget", "Infinity", "between"),
    ("q_budget", "12abc", "Enter a number"),
    ("q_budget", "1e999999999", "between"),
    ("q_visit_day", "2026-02-30", "YYYY-MM-DD"),
    ("q_visit_day", "tomorrow", "YYYY-MM-DD"),
    ("q_visit_day", "1066-10-14", "between 1900 and 2100"),
    ("q_authority", "owner' OR 1=1", "Choose among"),
    ("q_products", "yachts", "Choose among"),
    ("q_market", "XX", "Choose a country"),
    ("q_market", "China", "Choose a country"),
    ("q_importer", "maybe", "yes or no"),
])
def test_hostile_answers_get_a_clear_error(form_edition, field, value, message):
    data = {"q_authority": "decides", "q_budget": "100", field: value}
    answers, errors = qs.read_answers(form_edition, data)
    assert message in errors[field]
    assert field.removeprefix("q_") not in answers


def test_hostile_answers_on_the_public_form_show_beside_the_question_and_store_nothing(client, form_edition):
    response = _post(client, form_edition, _visitor(q_authority="decides", q_budget="1" + "0" * 30,
                                                    q_visit_day="2026-13-01", q_note="nul\x00", q_market="ZZZ"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "between" in field_errors(page, "q_budget")[0]
    assert field_errors(page, "q_visit_day") and field_errors(page, "q_note") and field_errors(page, "q_market")
    assert db.session.scalar(select(Registration.id).where(Registration.edition_id == form_edition.id)) is None


def test_a_required_question_must_be_answered(client, form_edition):
    response = _post(client, form_edition, _visitor())
    page = response.get_data(as_text=True)
    assert field_errors(page, "q_authority") == ["Please answer this question."]
    assert db.session.scalar(select(Person.id).where(Person.email == "li.hua@example.cn")) is None


# --- conditions ----------------------------------------------------------------------------------

def test_a_hidden_question_is_not_required_and_its_value_is_dropped(client, form_edition):
    # budget is required, but only asked of those who decide: a recommender need not answer it, and a value
    # sent anyway (a tampered form, or one typed before changing the answer) is not stored.
    response = _post(client, form_edition, _visitor(q_authority="influences", q_budget="5000"))
    assert response.status_code == 302
    registration = db.session.scalar(select(Registration).where(Registration.edition_id == form_edition.id))
    assert registration.answers == {"authority": {"v": 1, "value": "influences"}}


def test_a_hidden_question_is_not_checked_either(form_edition):
    answers, errors = qs.read_answers(form_edition, {"q_authority": "none", "q_budget": "1e40"})
    assert errors == {} and "budget" not in answers


def test_a_shown_conditional_question_is_required(client, form_edition):
    page = _post(client, form_edition, _visitor(q_authority="decides")).get_data(as_text=True)
    assert field_errors(page, "q_budget") == ["Please answer this question."]


def test_conditions_chain_and_contains_on_multiple_choice(make):
    edition = make.edition()
    add(edition, "products", "multi", choices=PRODUCTS)
    add(edition, "chair_count", "number", when=("products", "contains", "chairs"))
    add(edition, "chair_kind", "text", when=("chair_count", "equals", "100"))
    answers, _ = qs.read_answers(edition, MultiDict([("q_products", "desks"), ("q_products", "chairs"),
                                                     ("q_chair_count", "100"), ("q_chair_kind", "mesh")]))
    assert set(answers) == {"products", "chair_count", "chair_kind"}
    # products without chairs: chair_count hidden, and so chair_kind (which depends on it) too
    answers, _ = qs.read_answers(edition, MultiDict([("q_products", "desks"), ("q_chair_count", "100"),
                                                     ("q_chair_kind", "mesh")]))
    assert set(answers) == {"products"}


def test_text_contains_is_case_insensitive(make):
    edition = make.edition()
    add(edition, "company_type", "text")
    add(edition, "distributor_size", "number", when=("company_type", "contains", "distributor"))
    answers, _ = qs.read_answers(edition, {"q_company_type": "Regional DISTRIBUTOR", "q_distributor_size": "12"})
    assert answers["distributor_size"]["value"] == 12


def test_the_form_carries_the_condition_for_the_script(client, form_edition):
    page = client.get(f"/e/{form_edition.slug}").get_data(as_text=True)
    assert 'data-question="q_budget" data-when-field="q_authority" data-when-op="equals" data-when-value="decides"' \
        in page
    assert "/static/questions.js" in page and "<script>" not in page


# --- versions ----------------------------------------------------------------------------------

def test_a_reworded_question_keeps_the_wording_its_answers_answered(app, client, make, form_edition):
    assert _post(client, form_edition, _visitor(q_authority="decides", q_budget="10")).status_code == 302
    first = db.session.scalar(select(Registration).where(Registration.edition_id == form_edition.id))
    question = db.session.scalar(select(qs.Question).where(qs.Question.key == "authority",
                                                           qs.Question.edition_id == form_edition.id))
    edit = qs.question_input(question)
    edit.label_en = "Who signs the purchase orders?"
    edit.choices_text = "decides | I sign them | 我签字\ninfluences | I recommend | 我有建议权\nnone | Neither | 都不是"
    qs.save_question(form_edition, edit, question=question)
    db.session.commit()
    assert question.version == 2
    second = visitor_services.register(form_edition, visitor_services.RegistrationData(
        name="Anna", email="anna@example.com", category="buyer", consent=True,
        answers=qs.read_answers(form_edition, {"q_authority": "decides", "q_budget": "5"})[0]),
        send_confirmation=False)
    db.session.commit()
    assert second.answers["authority"] == {"v": 2, "value": "decides"}

    old = {row.key: row for row in qs.answer_rows(first, "en")}["authority"]
    new = {row.key: row for row in qs.answer_rows(second, "en")}["authority"]
    assert (old.label, old.text, old.version, old.outdated) == ("Your role in purchasing", "I decide", 1, True)
    assert (new.label, new.text, new.outdated) == ("Who signs the purchase orders?", "I sign them", False)

    owner = make.user("owner", _organizer(form_edition))
    db.session.commit()
    login(client, owner)
    page = client.get(f"/org/editions/{form_edition.id}/registrations/{first.id}").get_data(as_text=True)
    assert "Your role in purchasing" in page and "I decide" in page and "version 1" in page
    assert "Who signs the purchase orders?" not in page


def test_required_order_and_condition_changes_make_no_new_version(form_edition):
    question = db.session.scalar(select(qs.Question).where(qs.Question.key == "note",
                                                           qs.Question.edition_id == form_edition.id))
    edit = qs.question_input(question)
    edit.required = True
    edit.condition_key, edit.condition_value = "importer", "yes"
    qs.save_question(form_edition, edit, question=question)
    assert question.version == 1 and question.required and question.condition_key == "importer"


def test_answers_stored_before_versions_stay_readable(make):
    edition = make.edition()
    add(edition, "authority", "single", label_en="Your role in purchasing", choices=AUTHORITY)
    registration = make.registration(edition)
    registration.answers = {"authority": "decides", "legacy_field": "kept as typed"}
    db.session.commit()
    rows = {row.key: row for row in qs.answer_rows(registration, "en")}
    assert (rows["authority"].label, rows["authority"].text, rows["authority"].version) == \
        ("Your role in purchasing", "I decide", None)
    assert (rows["legacy_field"].label, rows["legacy_field"].text) == ("legacy_field", "kept as typed")


# --- both languages ------------------------------------------------------------------------------

def test_the_form_speaks_the_visitors_language_and_falls_back_to_the_other(client, form_edition):
    add(form_edition, "english_only", "text", label_en="Only in English")
    add(form_edition, "chinese_only", "text", label_en="", label_zh="只有中文")
    db.session.commit()
    english = client.get(f"/e/{form_edition.slug}").get_data(as_text=True)
    assert "Your role in purchasing" in english and "I recommend" in english and "只有中文" in english
    client.get("/lang/zh_CN")
    chinese = client.get(f"/e/{form_edition.slug}").get_data(as_text=True)
    assert "您在采购中的角色" in chinese and "我有建议权" in chinese and "Only in English" in chinese
    assert "Your role in purchasing" not in chinese
    assert "德国" in chinese  # the country list in Chinese


def test_the_confirmation_page_shows_the_answers_in_the_visitors_language(client, form_edition):
    client.get("/lang/zh_CN")
    assert _post(client, form_edition, _visitor(q_authority="decides", q_budget="10", q_products="sofas",
                                                q_importer="no")).status_code == 302
    registration = db.session.scalar(select(Registration).where(Registration.edition_id == form_edition.id))
    page = client.get(f"/r/{registration.access_key}").get_data(as_text=True)
    assert "您在采购中的角色" in page and "我决定" in page and "沙发" in page


# --- staff pages --------------------------------------------------------------------------------

@pytest.fixture
def owner_browser(app, make, form_edition):
    owner = make.user("owner", _organizer(form_edition))
    db.session.commit()
    return Browser(app, owner)


def _questions_url(edition, suffix=""):
    return f"/org/editions/{edition.id}/questions{suffix}"


@pytest.mark.parametrize("data, field, message", [
    ({"key": "colour", "kind": "single", "label_en": "Colour", "choices_text": ""}, "choices_text", "at least two"),
    ({"key": "colour", "kind": "multi", "label_en": "Colour", "choices_text": "red | Red\nred | Rot"},
     "choices_text", "used twice"),
    ({"key": "colour", "kind": "text", "label_en": ""}, "label_en", "English or Chinese"),
    ({"key": "Bad Key!", "kind": "text", "label_en": "X"}, "key", "small letters"),
    ({"key": "authority", "kind": "text", "label_en": "X"}, "key", "Another question"),
    ({"key": "colour", "kind": "text", "label_en": "X", "condition_key": "nowhere", "condition_value": "1"},
     "condition_key", "no question with this code"),
    ({"key": "colour", "kind": "text", "label_en": "X", "condition_key": "authority", "condition_value": "boss"},
     "condition_value", "decides, influences, none"),
    ({"key": "colour", "kind": "text", "label_en": "X\x00", "choices_text": ""}, "label_en", "cannot be stored"),
    ({"key": "colour", "kind": "rocket", "label_en": "X"}, "kind", "Choose a type"),
])
def test_a_bad_question_gets_field_errors(owner_browser, form_edition, data, field, message):
    response = owner_browser.post(_questions_url(form_edition), data=data)
    assert response.status_code == 200
    assert message in " ".join(field_errors(response.get_data(as_text=True), field))
    assert db.session.scalar(select(qs.Question).where(qs.Question.key == "colour")) is None


def test_a_condition_on_a_later_question_or_a_loop_is_refused(owner_browser, form_edition):
    authority = db.session.scalar(select(qs.Question).where(qs.Question.key == "authority",
                                                            qs.Question.edition_id == form_edition.id))
    # authority (first) may not depend on budget (asked after it, and depending on authority: a loop)
    response = owner_browser.post(_questions_url(form_edition), data={
        **vars(qs.question_input(authority)), "question_id": authority.id, "condition_key": "budget",
        "condition_op": "equals", "condition_value": "1"})
    assert "asked before it" in field_errors(response.get_data(as_text=True), "condition_key")[0]
    response = owner_browser.post(_questions_url(form_edition), data={
        **vars(qs.question_input(authority)), "question_id": authority.id, "condition_key": "authority",
        "condition_op": "equals", "condition_value": "decides"})
    assert "itself" in field_errors(response.get_data(as_text=True), "condition_key")[0]


def test_loops_are_found_along_the_chain(make):
    edition = make.edition()
    add(edition, "a", "text")
    add(edition, "b", "text", when=("a", "equals", "x"))
    add(edition, "c", "text", when=("b", "equals", "x"))
    first = db.session.scalar(select(qs.Question).where(qs.Question.key == "a", qs.Question.edition_id == edition.id))
    edit = qs.question_input(first)
    edit.condition_key, edit.condition_value = "c", "x"
    with pytest.raises(qs.QuestionErrors) as refused:
        qs.save_question(edition, edit, question=first)
    assert "condition_key" in refused.value.errors


def test_add_edit_and_preview(owner_browser, form_edition):
    response = owner_browser.post(_questions_url(form_edition), data={
        "key": "company_type", "kind": "single", "label_en": "Company type", "label_zh": "公司类型",
        "choices_text": "distributor | Distributor | 经销商\nretailer | Retailer | 零售商", "required": "1"})
    assert response.status_code == 302
    question = db.session.scalar(select(qs.Question).where(qs.Question.key == "company_type"))
    assert question.position == 8 and question.required and question.choices[0] == {
        "value": "distributor", "en": "Distributor", "zh": "经销商"}
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "question.created")) is not None
    page = owner_browser.get(_questions_url(form_edition)).get_data(as_text=True)
    assert "Company type" in page and "公司类型" in page
    preview = owner_browser.get(_questions_url(form_edition, "/preview?lang=zh_CN")).get_data(as_text=True)
    assert "公司类型" in preview and "经销商" in preview
    checked = owner_browser.get(_questions_url(form_edition, "/preview?check=1&q_authority=decides&q_budget=1e40"))
    assert "between" in field_errors(checked.get_data(as_text=True), "q_budget")[0]


def test_reorder_keeps_conditions_after_what_they_depend_on(owner_browser, form_edition):
    budget = db.session.scalar(select(qs.Question).where(qs.Question.key == "budget",
                                                         qs.Question.edition_id == form_edition.id))
    response = owner_browser.post(_questions_url(form_edition, "/move"),
                                  data={"question_id": budget.id, "direction": "up"})
    assert response.status_code == 302
    assert "must stay after" in owner_browser.get(_questions_url(form_edition)).get_data(as_text=True)
    db.session.expire_all()
    assert [q.key for q in qs.all_questions(form_edition)][:2] == ["authority", "budget"]
    products = db.session.scalar(select(qs.Question).where(qs.Question.key == "products",
                                                           qs.Question.edition_id == form_edition.id))
    owner_browser.post(_questions_url(form_edition, "/move"), data={"question_id": products.id, "direction": "up"})
    db.session.expire_all()
    assert [q.key for q in qs.all_questions(form_edition)][:3] == ["authority", "products", "budget"]


def test_deactivate_keeps_answers_and_delete_only_without_answers(client, owner_browser, form_edition):
    assert _post(client, form_edition, _visitor(q_authority="influences", q_note="hello")).status_code == 302
    note = db.session.scalar(select(qs.Question).where(qs.Question.key == "note",
                                                       qs.Question.edition_id == form_edition.id))
    owner_browser.post(_questions_url(form_edition, "/delete"), data={"question_id": note.id})
    db.session.expire_all()
    assert db.session.get(qs.Question, note.id) is not None  # answered: cannot be deleted
    owner_browser.post(_questions_url(form_edition, "/active"), data={"question_id": note.id, "active": "0"})
    db.session.expire_all()
    assert db.session.get(qs.Question, note.id).active is False
    assert "q_note" not in Browser(owner_browser.client.application).get(f"/e/{form_edition.slug}").get_data(
        as_text=True)
    registration = db.session.scalar(select(Registration).where(Registration.edition_id == form_edition.id))
    assert {row.key: row.text for row in qs.answer_rows(registration, "en")}["note"] == "hello"
    # the authority question has dependents: it cannot be deactivated before them
    authority = db.session.scalar(select(qs.Question).where(qs.Question.key == "authority",
                                                            qs.Question.edition_id == form_edition.id))
    with pytest.raises(Exception, match="depending on this one"):
        qs.set_active(authority, False)
    date_question = db.session.scalar(select(qs.Question).where(qs.Question.key == "visit_day",
                                                                qs.Question.edition_id == form_edition.id))
    owner_browser.post(_questions_url(form_edition, "/delete"), data={"question_id": date_question.id})
    db.session.expire_all()
    assert db.session.get(qs.Question, date_question.id) is None


def test_another_organizers_question_cannot_be_touched(app, make, form_edition):
    other = make.edition()
    owner = make.user("owner", _organizer(other))
    db.session.commit()
    browser = Browser(app, owner)
    budget = db.session.scalar(select(qs.Question).where(qs.Question.key == "budget",
                                                         qs.Question.edition_id == form_edition.id))
    assert browser.post(_questions_url(form_edition, "/active"), data={"question_id": budget.id}).status_code == 404
    browser.post(_questions_url(other, "/active"), data={"question_id": budget.id, "active": "0"})
    db.session.expire_all()
    assert db.session.get(qs.Question, budget.id).active is True


# --- exports -----------------------------------------------------------------------------------

def test_the_export_has_a_column_per_question(client, owner_browser, form_edition):
    assert _post(client, form_edition, _visitor(q_authority="decides", q_budget="250000", q_products="chairs",
                                                q_market="US", q_importer="yes")).status_code == 302
    body = owner_browser.get(f"/org/editions/{form_edition.id}/registrations.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    header, row = rows[0], dict(zip(rows[0], rows[1]))
    for title in ("Your role in purchasing", "Annual budget (USD)", "Products of interest", "Main market",
                  "Do you import?", "Planned visit day", "Anything else?", "Category decided by"):
        assert title in header
    assert (row["Your role in purchasing"], row["Annual budget (USD)"], row["Products of interest"],
            row["Main market"], row["Do you import?"]) == ("I decide", "250000", "Office chairs", "United States",
                                                           "Yes")
    xlsx = owner_browser.get(f"/org/editions/{form_edition.id}/registrations.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_the_pages_carry_no_inline_code(client, owner_browser, form_edition):
    from ..test_csp import check_answer

    base = f"/org/editions/{form_edition.id}"
    for url in (_questions_url(form_edition), _questions_url(form_edition, "/preview?lang=zh_CN"),
                _questions_url(form_edition, "/preview?check=1&q_budget=x"), f"{base}/category-rules",
                f"{base}/category-rules/test?q_authority=decides"):
        check_answer(owner_browser.get(url), url)
    check_answer(owner_browser.post(_questions_url(form_edition), data={"key": "1", "kind": "single"}), "errors")
    check_answer(owner_browser.post(f"{base}/category-rules", data={"name": ""}), "rule errors")
    check_answer(_post(client, form_edition, _visitor(q_budget="x")), "public form with errors")


def test_yes_and_no_follow_the_language_asked_for_not_the_pages(app, make):
    """The staff preview shows the Chinese form from an English page: its yes/no choices are Chinese too."""
    edition = make.edition()
    question = qs.save_question(edition, qs.QuestionInput(key="visited", kind="yes_no", label_en="Visited before?",
                                                          label_zh="以前来过吗？"))
    db.session.commit()
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        [field] = qs.form_questions(edition, "zh_CN", questions=[question])
        assert [text for _value, text in field.options] == ["是", "否"]
        [field] = qs.form_questions(edition, "en", questions=[question])
        assert [text for _value, text in field.options] == ["Yes", "No"]
        assert question.wording().display("yes", "zh_CN") == "是"
