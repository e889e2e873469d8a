"""The lead API (GET/PATCH /api/v1/leads/<id>) and ``lead_questions_for``: scoped like the pages, every answer as
the OpenAPI document says, hostile bodies refused with a 400 naming the field, never a 500; every change audited,
the visitor's timeline gets the rating only."""
from __future__ import annotations

import pytest
import schemathesis
from flask_babel import force_locale
from sqlalchemy import select

from expo.core.models import Activity, AuditEntry
from expo.core.openapi import DOCUMENT_PATH
from expo.core.services import CONTACT_VIEWED
from expo.extensions import db
from expo.leads import questions as lq
from expo.leads import services as lead_services
from expo.leads.models import Lead, LeadAnswer

from ..conftest import csrf_token, login


def add_questions(exhibitor, actor):
    made = [
        lq.save_question(exhibitor, lq.QuestionInput("single", "Budget", "预算",
                                                     "low | Under 10k | 一万以下\nhigh | Over 10k | 一万以上"),
                         actor_id=actor.id),
        lq.save_question(exhibitor, lq.QuestionInput("multi", "Interests", "兴趣",
                                                     "sofas | Sofas | 沙发\nbeds | Beds | 床\ndesks | Desks | 书桌"),
                         actor_id=actor.id),
        lq.save_question(exhibitor, lq.QuestionInput("yes_no", "Wants a visit", "需要拜访", "", True),
                         actor_id=actor.id),
        lq.save_question(exhibitor, lq.QuestionInput("text", "Next step", "下一步"), actor_id=actor.id),
    ]
    return made


@pytest.fixture
def world(make):
    t = make.tenant("A", tokens=True, exhibitors=2)
    other = make.tenant("B", tokens=True)
    add_questions(t.exhibitor, t.users["exhibitor_admin"])
    admin_lead = t.capture(t.users["exhibitor_admin"], make.registration(t.edition, name="Li Na", email="li@example.cn"))
    db.session.commit()
    t.admin_lead = admin_lead
    t.other = other
    return t


def bearer(t, role):
    return {"Authorization": f"Bearer {t.tokens[role][1]}"}


@pytest.fixture
def operations(app):
    schema = schemathesis.openapi.from_wsgi(DOCUMENT_PATH, app)
    path = "/api/v1/leads/{lead_id}"
    return schema[path]["GET"], schema[path]["PATCH"]


def test_lead_questions_for_in_the_current_language(app, world):
    with app.test_request_context():
        with force_locale("zh_CN"):
            zh = lead_services.lead_questions_for(world.exhibitor)
        with force_locale("en"):
            en = lead_services.lead_questions_for(world.exhibitor.id)
    assert [q["key"] for q in en] == ["budget", "interests", "wants_a_visit", "next_step"]
    assert en[0] == {"key": "budget", "label": "Budget", "kind": "single", "required": False,
                     "choices": [{"value": "low", "label": "Under 10k"}, {"value": "high", "label": "Over 10k"}]}
    assert zh[0]["label"] == "预算" and zh[0]["choices"][0]["label"] == "一万以下"
    assert en[2]["kind"] == "yes_no" and en[2]["required"] is True
    assert [c["value"] for c in en[2]["choices"]] == ["yes", "no"]
    assert en[3]["choices"] == []
    with app.test_request_context():
        lq.set_active(lq.exhibitor_questions(world.exhibitor.id)[1], False, actor_id=world.users["exhibitor_admin"].id)
        assert [q["key"] for q in lead_services.lead_questions_for(world.exhibitor)] == [
            "budget", "wants_a_visit", "next_step"]
        # another exhibitor has none of them
        assert lead_services.lead_questions_for(world.exhibitors[1][0]) == []


def test_get_and_patch_with_a_token(client, world, operations):
    get, patch = operations
    booth = bearer(world, "booth_staff")
    response = client.get(f"/api/v1/leads/{world.lead.id}", headers=booth)
    assert response.status_code == 200
    get.validate_response(response)
    body = response.json
    assert body["rating"] is None and body["answers"] == {} and body["visitor"]["category"]
    assert [q["key"] for q in body["questions"]] == ["budget", "interests", "wants_a_visit", "next_step"]

    response = client.patch(f"/api/v1/leads/{world.lead.id}", headers=booth, json={
        "rating": "hot", "notes": "  Wants 200 sofas  ",
        "answers": {"budget": "high", "interests": ["desks", "sofas"], "wants_a_visit": True, "next_step": "Quote"}})
    assert response.status_code == 200, response.json
    patch.validate_response(response)
    assert response.json["rating"] == "hot" and response.json["notes"] == "Wants 200 sofas"
    assert response.json["answers"] == {"budget": "high", "interests": ["sofas", "desks"], "wants_a_visit": "yes",
                                        "next_step": "Quote"}

    # partial: only what is given changes; null clears one answer
    response = client.patch(f"/api/v1/leads/{world.lead.id}", headers=booth,
                            json={"answers": {"next_step": None, "budget": "low"}})
    assert response.status_code == 200
    assert response.json["rating"] == "hot" and response.json["notes"] == "Wants 200 sofas"
    assert response.json["answers"] == {"budget": "low", "interests": ["sofas", "desks"], "wants_a_visit": "yes"}

    db.session.expire_all()
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.updated")
                                      .order_by(AuditEntry.id)))
    assert [e.details["fields"] for e in entries] == [["rating", "notes", "answers"], ["answers"]]
    assert entries[1].details["answer_keys"] == ["next_step", "budget"] or \
        sorted(entries[1].details["answer_keys"]) == ["budget", "next_step"]
    for entry in entries:  # what changed, never what was written
        assert "Wants 200 sofas" not in str(entry.details) and "Quote" not in str(entry.details)
    # the visitor's timeline: the rating, never notes or answers
    activities = list(db.session.scalars(select(Activity).where(Activity.kind == "lead.rated")))
    assert len(activities) == 1 and activities[0].details["to"] == "hot"
    assert "sofas" not in str(activities[0].details).lower()

    # the same PATCH again changes nothing and is not audited again
    client.patch(f"/api/v1/leads/{world.lead.id}", headers=booth, json={"rating": "hot"})
    db.session.expire_all()
    assert db.session.query(AuditEntry).filter_by(action="lead.updated").count() == 2


def test_session_needs_the_csrf_token(client, world):
    login(client, world.users["booth_staff"])
    assert client.patch(f"/api/v1/leads/{world.lead.id}", json={"rating": "warm"}).status_code == 400
    token = csrf_token(client, "/portal/leads")
    response = client.patch(f"/api/v1/leads/{world.lead.id}", json={"rating": "warm"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.json["rating"] == "warm"
    assert client.get(f"/api/v1/leads/{world.lead.id}").status_code == 200


def test_scoped(client, world):
    # booth staff: their own captures only; the admin sees every lead of the exhibitor
    admin_lead = world.admin_lead.id
    assert client.get(f"/api/v1/leads/{admin_lead}", headers=bearer(world, "booth_staff")).status_code == 404
    assert client.patch(f"/api/v1/leads/{admin_lead}", headers=bearer(world, "booth_staff"),
                        json={"rating": "hot"}).status_code == 404
    assert client.get(f"/api/v1/leads/{admin_lead}", headers=bearer(world, "exhibitor_admin")).status_code == 200
    assert client.get(f"/api/v1/leads/{world.lead.id}", headers=bearer(world, "exhibitor_admin")).status_code == 200
    # another organizer's exhibitor staff: a 404, as for a lead that does not exist
    for role in ("exhibitor_admin", "booth_staff"):
        assert client.get(f"/api/v1/leads/{world.lead.id}", headers=bearer(world.other, role)).status_code == 404
        assert client.patch(f"/api/v1/leads/{world.lead.id}", headers=bearer(world.other, role),
                            json={"rating": "cold"}).status_code == 404
    # organizer staff read no leads here
    for role in ("owner", "manager", "onsite"):
        assert client.get(f"/api/v1/leads/{world.lead.id}", headers=bearer(world, role)).status_code == 403
    assert client.get(f"/api/v1/leads/{world.lead.id}").status_code == 401
    assert client.get("/api/v1/leads/99999999999").status_code in (401, 404)
    assert client.get("/api/v1/leads/99999999999", headers=bearer(world, "booth_staff")).status_code == 404
    db.session.expire_all()
    assert db.session.get(Lead, world.lead.id).rating is None


@pytest.mark.parametrize("body, field", [
    ({"rating": "lukewarm"}, "rating"),
    ({"rating": 3}, "rating"),
    ({"notes": 12}, "notes"),
    ({"notes": "a\x00b"}, "notes"),
    ({"notes": "x" * 5001}, "notes"),
    ({"notes": "\ud800"}, "notes"),
    ({"answers": []}, "answers"),
    ({"answers": "budget=high"}, "answers"),
    ({"answers": {f"k{n}": "x" for n in range(lq.MAX_GIVEN_ANSWERS + 1)}}, "answers"),
    ({"rating": "hot", "owner": "me"}, "owner"),
    ({"rating": "lukewarm", "notes": "kept?", "answers": {"budget": "high"}}, "rating"),
])
def test_hostile_bodies_are_400s_naming_the_field(client, world, operations, body, field):
    _get, patch = operations
    response = client.patch(f"/api/v1/leads/{world.lead.id}", headers=bearer(world, "booth_staff"), json=body)
    assert response.status_code == 400, response.json
    assert response.json["field"] == field
    patch.validate_response(response)
    db.session.expire_all()
    lead = db.session.get(Lead, world.lead.id)
    assert lead.rating is None and lead.notes == ""  # nothing stored, not even the good part of the body
    assert db.session.query(LeadAnswer).count() == 0


@pytest.mark.parametrize("answers, key", [
    ({"no_such_question": "x"}, "no_such_question"),
    ({"budget": "medium"}, "budget"),
    ({"budget": ["high"]}, "budget"),
    ({"budget": 1}, "budget"),
    ({"interests": "chairs"}, "interests"),
    ({"interests": [1, 2]}, "interests"),
    ({"interests": [["sofas"]]}, "interests"),
    ({"wants_a_visit": "maybe"}, "wants_a_visit"),
    ({"wants_a_visit": 1}, "wants_a_visit"),
    ({"next_step": "a\x00b"}, "next_step"),
    ({"next_step": "x" * 100_000}, "next_step"),
    ({"next_step": {"nested": True}}, "next_step"),
])
def test_an_answer_that_cannot_be_stored_is_ignored_and_reported_never_costing_the_rest(
        client, world, operations, answers, key):
    """A bad answer is left out and named in ``ignored`` (a 200): the rating, the notes and the good answers of
    the same PATCH are stored — an offline scanner's queued change is never thrown away for one answer."""
    _get, patch = operations
    response = client.patch(f"/api/v1/leads/{world.lead.id}", headers=bearer(world, "booth_staff"),
                            json={"rating": "hot", "notes": "Met at the booth",
                                  "answers": {**answers, "wants_a_visit" if key != "wants_a_visit" else "budget":
                                              "yes" if key != "wants_a_visit" else "high"}})
    assert response.status_code == 200, response.json
    patch.validate_response(response)
    assert list(response.json["ignored"]) == [f"answers.{key}"] and response.json["ignored"][f"answers.{key}"]
    db.session.expire_all()
    lead = db.session.get(Lead, world.lead.id)
    assert lead.rating == "hot" and lead.notes == "Met at the booth"
    stored = lq.answers_of([lead.id]).get(lead.id, {})
    assert stored == ({"wants_a_visit": "yes"} if key != "wants_a_visit" else {"budget": "high"})
    assert db.session.query(LeadAnswer).filter_by(question_key=key).count() == 0


def test_an_offline_qualification_survives_questions_changed_meanwhile(client, world, operations):
    """The exhibitor admin deletes a question and removes a choice while a phone is offline; the phone's
    queued PATCH (rating, note, answers to the old questions) arrives later: the rating, the note and every
    answer that still fits are stored, the stale ones reported."""
    _get, patch = operations
    admin = world.users["exhibitor_admin"]
    budget, interests, _visit, next_step = lq.exhibitor_questions(world.exhibitor.id)
    lq.delete_question(next_step, actor_id=admin.id)
    lq.save_question(world.exhibitor, lq.QuestionInput("multi", "Interests", "兴趣", "sofas | Sofas | 沙发\nbeds | Beds | 床"),
                     question=interests, actor_id=admin.id)  # "desks" no longer offered
    db.session.commit()
    response = client.patch(f"/api/v1/leads/{world.lead.id}", headers=bearer(world, "booth_staff"), json={
        "rating": "hot", "notes": "Wants 200 sofas, call Monday",
        "answers": {"budget": "high", "interests": ["sofas", "desks"], "next_step": "Quote"}})
    assert response.status_code == 200, response.json
    patch.validate_response(response)
    assert response.json["rating"] == "hot" and response.json["notes"] == "Wants 200 sofas, call Monday"
    assert response.json["answers"] == {"budget": "high"}
    assert set(response.json["ignored"]) == {"answers.interests", "answers.next_step"}
    # a PATCH where everything is stored says so
    response = client.patch(f"/api/v1/leads/{world.lead.id}", headers=bearer(world, "booth_staff"),
                            json={"answers": {"interests": ["beds"]}})
    assert response.status_code == 200 and response.json["ignored"] == {}
    patch.validate_response(response)
    # GET answers the lead without `ignored`
    assert "ignored" not in client.get(f"/api/v1/leads/{world.lead.id}", headers=bearer(world, "booth_staff")).json


def test_patch_records_the_contact_view_like_get(client, world):
    booth = bearer(world, "booth_staff")

    def views():
        db.session.expire_all()
        return db.session.query(AuditEntry).filter(AuditEntry.action == CONTACT_VIEWED).count()

    before = views()
    assert client.get(f"/api/v1/leads/{world.lead.id}", headers=booth).status_code == 200
    after_get = views()
    assert after_get == before + 1
    assert client.patch(f"/api/v1/leads/{world.lead.id}", headers=booth, json={"rating": "warm"}).status_code == 200
    assert views() == after_get + 1


@pytest.mark.parametrize("data", ["{not json", "[1, 2]", "null", '"hot"', "[" * 50_000])
def test_bodies_that_are_no_object_are_400s(client, world, data):
    response = client.patch(f"/api/v1/leads/{world.lead.id}", headers=bearer(world, "booth_staff"), data=data,
                            content_type="application/json")
    assert response.status_code == 400 and "error" in response.json


def test_changing_a_questions_wording_keeps_the_answers(client, world):
    booth = bearer(world, "booth_staff")
    client.patch(f"/api/v1/leads/{world.lead.id}", headers=booth,
                 json={"answers": {"budget": "high", "interests": ["beds"]}})
    admin = world.users["exhibitor_admin"]
    budget, interests = lq.exhibitor_questions(world.exhibitor.id)[:2]
    lq.save_question(world.exhibitor, lq.QuestionInput("single", "Budget for 2027", "2027年预算",
                                                       "low | Small | 小\nhigh | Large | 大\nnone | None | 无"),
                     question=budget, actor_id=admin.id)
    # a choice that leads picked cannot be removed; its words can change
    with pytest.raises(lq.QuestionErrors) as refused:
        lq.save_question(world.exhibitor, lq.QuestionInput("multi", "Interests", "", "sofas | Sofas |\ndesks | Desks |"),
                         question=interests, actor_id=admin.id)
    assert "beds" in str(refused.value.errors["choices_text"])
    with pytest.raises(lq.QuestionErrors) as refused:
        lq.save_question(world.exhibitor, lq.QuestionInput("text", "Budget"), question=budget, actor_id=admin.id)
    assert "kind" in refused.value.errors
    db.session.commit()
    response = client.get(f"/api/v1/leads/{world.lead.id}", headers=booth)
    assert response.json["answers"] == {"budget": "high", "interests": ["beds"]}
    assert response.json["questions"][0] == {"key": "budget", "label": "Budget for 2027", "kind": "single",
                                             "required": False, "choices": [{"value": "low", "label": "Small"},
                                                                            {"value": "high", "label": "Large"},
                                                                            {"value": "none", "label": "None"}]}
