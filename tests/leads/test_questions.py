"""The exhibitor's own qualifying questions: defined by the exhibitor admin on a portal page (added, reworded
without losing answers, reordered, switched off, deleted while unanswered), answered on the lead page together
with the rating and the note — every change audited, the visitor's timeline gets the rating only, hostile input
a form error, never a 500."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from expo.core.models import Activity, AuditEntry
from expo.core.scoping import Scope
from expo.extensions import db
from expo.leads import questions as lq
from expo.leads import services as lead_services
from expo.leads.models import Lead, LeadAnswer, LeadQuestion

from ..conftest import Browser, field_errors


@pytest.fixture
def t(make):
    t = make.tenant("A")
    db.session.commit()
    return t


def _questions(t):
    db.session.expire_all()
    return lq.exhibitor_questions(t.exhibitor.id)


def test_the_admin_defines_questions_on_the_portal_page(app, t):
    admin = Browser(app, t.users["exhibitor_admin"])
    page = admin.get("/portal/lead-questions").get_data(as_text=True)
    assert "No questions yet" in page
    response = admin.post("/portal/lead-questions", {"kind": "single", "label_en": "Budget this year?",
                                                     "label_zh": "今年预算？",
                                                     "choices_text": "Under 10k | 一万以下\nOver 10k | 一万以上"})
    assert response.status_code == 302
    admin.post("/portal/lead-questions", {"kind": "yes_no", "label_en": "Visit wanted", "required": "1"})
    admin.post("/portal/lead-questions", {"kind": "text", "label_zh": "下一步"})
    budget, visit, step = _questions(t)
    assert (budget.key, visit.key, step.key) == ("budget_this_year", "visit_wanted", "question")
    assert budget.choices == [{"value": "under_10k", "en": "Under 10k", "zh": "一万以下"},
                              {"value": "over_10k", "en": "Over 10k", "zh": "一万以上"}]
    assert visit.required and not budget.required
    page = admin.get("/portal/lead-questions").get_data(as_text=True)
    assert "Budget this year?" in page and "今年预算？" in page and "下一步" in page

    # reorder, switch off, delete
    admin.post("/portal/lead-questions/move", {"question_id": step.id, "direction": "up"})
    assert [q.key for q in _questions(t)] == ["budget_this_year", "question", "visit_wanted"]
    admin.post("/portal/lead-questions/active", {"question_id": visit.id, "active": "0"})
    with app.test_request_context():
        assert [q["key"] for q in lead_services.lead_questions_for(t.exhibitor)] == ["budget_this_year", "question"]
    admin.post("/portal/lead-questions/delete", {"question_id": step.id})
    assert [q.key for q in _questions(t)] == ["budget_this_year", "visit_wanted"]
    actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("lead_question.%"))
                                                    .order_by(AuditEntry.id))]
    assert actions == ["lead_question.created"] * 3 + ["lead_question.moved", "lead_question.deactivated",
                                                       "lead_question.deleted"]
    # the editing form shows the choices with their codes, so they stay when the words change
    page = admin.get(f"/portal/lead-questions?edit={budget.id}").get_data(as_text=True)
    assert "under_10k | Under 10k | 一万以下" in html.unescape(page)


@pytest.mark.parametrize("form, field", [
    ({"kind": "single", "label_en": "Budget", "choices_text": "only one"}, "choices_text"),
    ({"kind": "single", "label_en": "Budget", "choices_text": "a | A |\na | B |"}, "choices_text"),
    ({"kind": "single", "label_en": "Budget", "choices_text": "\n".join(f"c{n} | C{n} |" for n in range(40))},
     "choices_text"),
    ({"kind": "single", "label_en": "Budget", "choices_text": "x" * 100_000}, "choices_text"),
    ({"kind": "nonsense", "label_en": "Budget"}, "kind"),
    ({"kind": "text", "label_en": "", "label_zh": ""}, "label_en"),
    ({"kind": "text", "label_en": "Bud\x00get"}, "label_en"),
    ({"kind": "text", "label_en": "x" * 301}, "label_en"),
    ({"kind": "single", "label_en": "Budget", "choices_text": "a | A\x00 |\nb | B |"}, "choices_text"),
])
def test_hostile_question_forms_are_form_errors(app, t, form, field):
    admin = Browser(app, t.users["exhibitor_admin"])
    response = admin.post("/portal/lead-questions", form)
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), field)
    assert _questions(t) == []


def test_foreign_or_junk_question_ids_change_nothing(app, make, t):
    other = make.tenant("B")
    theirs = lq.save_question(other.exhibitor, lq.QuestionInput("yes_no", "Theirs"),
                              actor_id=other.users["exhibitor_admin"].id)
    db.session.commit()
    admin = Browser(app, t.users["exhibitor_admin"])
    for junk in (str(theirs.id), "abc", "99999999999999", "-1", "1\x00"):
        for url, data in (("/portal/lead-questions/active", {"active": "0"}), ("/portal/lead-questions/delete", {}),
                          ("/portal/lead-questions/move", {"direction": "up"})):
            response = admin.post(url, {**data, "question_id": junk})
            assert response.status_code == 302
        # (a NUL in a URL is refused by the app before any view: a 400)
        assert admin.get(f"/portal/lead-questions?edit={junk}").status_code == (400 if "\x00" in junk else 200)
        response = admin.post("/portal/lead-questions", {"question_id": junk, "kind": "text", "label_en": "Stolen"})
        assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(LeadQuestion, theirs.id).active and db.session.get(LeadQuestion, theirs.id).label_en == "Theirs"


def _setup_questions(t):
    admin = t.users["exhibitor_admin"]
    qs = [lq.save_question(t.exhibitor, lq.QuestionInput("single", "Budget", "预算", "low | Low | 低\nhigh | High | 高"),
                           actor_id=admin.id),
          lq.save_question(t.exhibitor, lq.QuestionInput("multi", "Products", "产品", "sofas | Sofas | 沙发\nbeds | Beds | 床"),
                           actor_id=admin.id),
          lq.save_question(t.exhibitor, lq.QuestionInput("yes_no", "Visit", "拜访"), actor_id=admin.id),
          lq.save_question(t.exhibitor, lq.QuestionInput("text", "Next step", "下一步"), actor_id=admin.id)]
    db.session.commit()
    return qs


def test_the_lead_page_edits_rating_answers_and_note(app, t):
    _setup_questions(t)
    booth = Browser(app, t.users["booth_staff"])
    page = booth.get(f"/portal/leads/{t.lead.id}").get_data(as_text=True)
    assert 'name="q_budget"' in page and 'name="q_products"' in page and 'name="q_next_step"' in page
    response = booth.post(f"/portal/leads/{t.lead.id}", {
        "rating": "warm", "notes": "Call back in May", "q_budget": "high", "q_products": ["beds", "sofas"],
        "q_visit": "yes", "q_next_step": "Send the catalogue"})
    assert response.status_code == 302
    db.session.expire_all()
    lead = db.session.get(Lead, t.lead.id)
    assert (lead.rating, lead.notes) == ("warm", "Call back in May")
    assert lq.answers_of([lead.id])[lead.id] == {"budget": "high", "products": ["sofas", "beds"], "visit": "yes",
                                                 "next_step": "Send the catalogue"}
    # editable later: a changed answer, a cleared one
    booth.post(f"/portal/leads/{t.lead.id}", {"rating": "hot", "notes": "Call back in May", "q_budget": "low",
                                              "q_products": ["beds"], "q_visit": "", "q_next_step": ""})
    db.session.expire_all()
    assert lq.answers_of([t.lead.id])[t.lead.id] == {"budget": "low", "products": ["beds"]}
    page = booth.get(f"/portal/leads/{t.lead.id}").get_data(as_text=True)
    assert 'value="low" autocomplete="off" checked' in page
    # audited, without what was written
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.updated")
                                      .order_by(AuditEntry.id)))
    assert [e.details["fields"] for e in entries] == [["rating", "notes", "answers"], ["rating", "answers"]]
    assert all("May" not in str(e.details) and "catalogue" not in str(e.details) for e in entries)
    # the visitor's timeline: ratings only
    timeline = list(db.session.scalars(select(Activity).where(Activity.subject_type == "person",
                                                              Activity.subject_id == t.registration.person_id,
                                                              Activity.kind.like("lead.%")).order_by(Activity.id)))
    assert [a.kind for a in timeline] == ["lead.captured", "lead.rated", "lead.rated"]
    text = str([a.details for a in timeline])
    assert "May" not in text and "catalogue" not in text and "beds" not in text and "high" not in text


@pytest.mark.parametrize("form, field", [
    ({"q_budget": "medium"}, "q_budget"),
    ({"q_products": ["sofas", "tables"]}, "q_products"),
    ({"q_visit": "maybe"}, "q_visit"),
    ({"q_next_step": "a\x00b"}, "q_next_step"),
    ({"q_next_step": "x" * 1001}, "q_next_step"),
])
def test_hostile_answers_are_form_errors(app, t, form, field):
    _setup_questions(t)
    booth = Browser(app, t.users["booth_staff"])
    response = booth.post(f"/portal/leads/{t.lead.id}", {"rating": "hot", "notes": "kept?", **form})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), field)
    db.session.expire_all()
    assert db.session.get(Lead, t.lead.id).rating is None and db.session.query(LeadAnswer).count() == 0


def test_a_deactivated_question_keeps_its_answers_on_the_lead_page(app, t):
    budget, *_rest = _setup_questions(t)
    lead_services.update_lead(t.lead, answers={"budget": "high"}, actor_id=t.users["booth_staff"].id)
    lq.set_active(budget, False, actor_id=t.users["exhibitor_admin"].id)
    db.session.commit()
    booth = Browser(app, t.users["booth_staff"])
    page = booth.get(f"/portal/leads/{t.lead.id}").get_data(as_text=True)
    assert 'name="q_budget"' in page and "no longer asked" in page
    # nobody can delete it: it has answers
    admin = Browser(app, t.users["exhibitor_admin"])
    admin.post("/portal/lead-questions/delete", {"question_id": budget.id})
    assert [q.key for q in _questions(t)][0] == "budget"


def test_erasure_takes_the_answers_with_the_notes(app, t):
    _setup_questions(t)
    lead_services.update_lead(t.lead, rating="hot", notes="secret", answers={"next_step": "secret too"},
                              actor_id=t.users["booth_staff"].id)
    db.session.commit()
    lead_services.forget_visitor(Scope(t.organizer.id), [t.registration.id])
    db.session.commit()
    db.session.expire_all()
    lead = db.session.get(Lead, t.lead.id)
    assert lead.notes == "" and lead.rating == "hot"
    assert db.session.query(LeadAnswer).count() == 0


def test_placeholders_of_the_lead_templates_go_through_gettext():
    """Every placeholder text on the lead pages is translatable (``_()``), the bilingual example too."""
    import pathlib
    import re

    templates = pathlib.Path(__file__).resolve().parents[2] / "templates" / "leads"
    for path in templates.glob("*.html"):
        for value in re.findall(r'placeholder="([^"]*)"', path.read_text(encoding="utf-8")):
            assert not value.strip() or value.strip().startswith("{{ _("), (path.name, value)
