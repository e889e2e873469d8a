"""Surveys (R18, R21, R27): writing questionnaires, signed links, taking them through the test client (bad
token, wrong taker, hostile input, missing answers, one response per taker, concurrent duplicates), the
timeline and audit entries, and the scores other modules read."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from expo.core.models import Activity, AuditEntry
from expo.core.registry import registry
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.extensions import db
from expo.postshow import rebooking
from expo.surveys import services
from expo.surveys.models import SurveyAnswer, SurveyResponse

from ..conftest import Browser, race


def build_survey(edition, audience="visitor", *, status="open"):
    scope = Scope(edition.organizer_id)
    survey = services.create_survey(scope, edition, services.SurveyData(
        audience=audience, title_en="How was the show?", title_zh="展会体验如何？"))
    nps = services.add_question(survey, services.QuestionData(
        kind="nps", text_en="How likely are you to recommend the show to a colleague?",
        text_zh="您向同事推荐本展会的可能性有多大？", required=True))
    rating = services.add_question(survey, services.QuestionData(
        kind="rating", text_en="How was the organisation?", text_zh="您对组织工作的评价？"))
    single = services.add_question(survey, services.QuestionData(
        kind="single", text_en="How did you come?", text_zh="您如何到达？", options_en="Metro\nCar\nBus",
        options_zh="地铁\n汽车\n公交"))
    multiple = services.add_question(survey, services.QuestionData(
        kind="multiple", text_en="What did you do?", text_zh="您做了什么？", options_en="Met exhibitors\nTalks\nFood",
        options_zh="见展商\n听讲座\n餐饮"))
    text = services.add_question(survey, services.QuestionData(
        kind="text", text_en="What should we improve?", text_zh="我们应改进什么？"))
    if status != "draft":
        services.set_status(survey, "open")
    if status == "closed":
        services.set_status(survey, "closed")
    db.session.commit()
    return survey, (nps, rating, single, multiple, text)


def answers(qs, nps="9", rating="4", single="0", multiple=("0", "2"), text="More parking please"):
    q_nps, q_rating, q_single, q_multiple, q_text = qs
    out = {f"q{q_nps.id}": [nps], f"q{q_rating.id}": [rating], f"q{q_single.id}": [single],
           f"q{q_multiple.id}": list(multiple), f"q{q_text.id}": [text]}
    return out


# --- writing ------------------------------------------------------------------------------------------

def test_questions_are_bilingual_ordered_and_checked(make):
    t = make.tenant(exhibitors=0, visitors=0)
    survey, qs = build_survey(t.edition, status="draft")
    assert [q.kind for q in survey.questions] == ["nps", "rating", "single", "multiple", "text"]
    assert qs[2].option_labels("zh") == ["地铁", "汽车", "公交"]
    services.move_question(qs[4], -1)
    assert [q.kind for q in survey.questions] == ["nps", "rating", "single", "text", "multiple"]
    with pytest.raises(ServiceError, match="two options"):
        services.add_question(survey, services.QuestionData(kind="single", text_en="Pick", options_en="Only"))
    with pytest.raises(ServiceError, match="as many Chinese"):
        services.add_question(survey, services.QuestionData(kind="single", text_en="Pick", options_en="A\nB",
                                                            options_zh="甲"))
    with pytest.raises(ServiceError):
        services.add_question(survey, services.QuestionData(kind="nps", text_en="bad\x00text"))
    with pytest.raises(ServiceError, match="Write the question"):
        services.add_question(survey, services.QuestionData(kind="nps"))
    empty = services.create_survey(Scope(t.organizer.id), t.edition, services.SurveyData(title_en="Empty"))
    with pytest.raises(ServiceError, match="Add a question"):
        services.set_status(empty, "open")


def test_questions_lock_once_answered(make):
    t = make.tenant(exhibitors=0, visitors=1)
    survey, qs = build_survey(t.edition)
    services.submit(services.Taker(survey, registration=t.registration), answers(qs))
    with pytest.raises(ServiceError, match="answers already"):
        services.add_question(survey, services.QuestionData(kind="text", text_en="More?"))
    with pytest.raises(ServiceError, match="answers already"):
        services.delete_question(qs[4])
    with pytest.raises(ServiceError, match="kinds and options"):
        services.update_question(qs[0], services.QuestionData(kind="rating", text_en="Changed"))
    services.update_question(qs[0], services.QuestionData(kind="nps", text_en="Would you recommend us?",
                                                          text_zh="您会推荐我们吗？", required=True))
    assert qs[0].text("en") == "Would you recommend us?"


# --- links --------------------------------------------------------------------------------------------

def test_take_path_names_the_taker_and_nothing_else(make):
    a = make.tenant("A", exhibitors=1, visitors=1)
    b = make.tenant("B", exhibitors=1, visitors=1)
    survey, _qs = build_survey(a.edition)
    path = services.take_path(survey, registration_id=a.registration.id)
    token = path.removeprefix("/s/")
    taker = services.taker_of(token)
    assert taker.registration.id == a.registration.id and taker.subject == ("person", a.registration.person_id)
    # Another organizer's registration, an exhibitor for a visitor survey, tampering: no taker.
    assert services.taker_of(services.take_token(survey, registration_id=b.registration.id)) is None
    assert services.taker_of(services.take_token(survey, exhibitor_id=a.exhibitor.id)) is None
    assert services.taker_of(token[:-2] + "xx") is None
    assert services.taker_of("\x00" * 5) is None and services.taker_of("a" * 500) is None
    exhibitor_survey, _ = build_survey(a.edition, "exhibitor")
    exhibitor_taker = services.taker_of(services.take_token(exhibitor_survey, exhibitor_id=a.exhibitor.id))
    assert exhibitor_taker.exhibitor == a.exhibitor
    assert services.taker_of(services.take_token(exhibitor_survey, exhibitor_id=b.exhibitor.id)) is None
    # a cancelled registration, an exhibitor that did not take a booth: no taker either
    a.exhibitor.status = "cancelled"
    assert services.taker_of(services.take_token(exhibitor_survey, exhibitor_id=a.exhibitor.id)) is None
    a.registration.status = "cancelled"
    assert services.taker_of(token) is None


# --- taking through the client ------------------------------------------------------------------------

def test_a_visitor_answers_by_the_link_once(app, make):
    t = make.tenant(exhibitors=0, visitors=1)
    survey, qs = build_survey(t.edition)
    path = services.take_path(survey, registration_id=t.registration.id)
    visitor = Browser(app)
    page = visitor.get(path)
    assert page.status_code == 200 and "How likely are you to recommend" in page.get_data(as_text=True)
    response = visitor.post(path, data={f"q{qs[0].id}": "10", f"q{qs[1].id}": "5", f"q{qs[2].id}": "1",
                                        f"q{qs[3].id}": ["0", "1"], f"q{qs[4].id}": "停车太难了"})
    assert response.status_code == 302 and response.headers["Location"].endswith(path + "/thanks")
    thanks = visitor.get(path + "/thanks").get_data(as_text=True)
    assert "Thank you" in thanks and f'href="/r/{t.registration.access_key}"' in thanks
    stored = db.session.scalar(select(SurveyResponse))
    assert stored.nps == 10 and stored.person_id == t.registration.person_id and stored.channel == "link"
    by_question = {a.question_id: a for a in stored.answers}
    assert by_question[qs[3].id].choices == [0, 1] and by_question[qs[4].id].text == "停车太难了"
    # Answering again is refused with a clear message; the first answers stay.
    again = visitor.post(path, data={f"q{qs[0].id}": "0"})
    assert "answered this survey already" in again.get_data(as_text=True)
    assert db.session.scalar(select(SurveyResponse)).nps == 10
    assert services.responded(survey) == {t.registration.id}
    # On the timeline of the person, with the score; and in the audit log.
    entry = db.session.scalar(select(Activity).where(Activity.kind == "survey.answered"))
    assert (entry.subject_type, entry.subject_id) == ("person", t.registration.person_id)
    assert entry.details["nps"] == 10 and entry.edition_id == t.edition.id
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.answered")) is not None


def test_bad_tokens_and_hostile_input_never_500(app, make):
    t = make.tenant(exhibitors=0, visitors=1)
    survey, qs = build_survey(t.edition)
    visitor = Browser(app)
    for bad in ("nonsense", "a" * 300, "%00", services.take_token(survey, registration_id=t.registration.id)[:-3]):
        assert visitor.get(f"/s/{bad}").status_code == 404
    path = services.take_path(survey, registration_id=t.registration.id)
    response = visitor.post(path, data={f"q{qs[0].id}": "99999999999999999999999", f"q{qs[1].id}": "\x00",
                                        f"q{qs[2].id}": "7", f"q{qs[3].id}": ["0", "-1"],
                                        f"q{qs[4].id}": "Keep\x00 this text"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose a number from 0 to 10." in page and "Choose a number from 1 to 5." in page
    assert "Choose one of the answers shown." in page and "Choose among the options shown." in page
    assert "Keep this text" in page  # nothing typed is lost
    assert db.session.scalar(select(SurveyResponse)) is None


def test_missing_required_answers_are_asked_for_and_nothing_is_lost(app, make):
    t = make.tenant(exhibitors=0, visitors=1)
    survey, qs = build_survey(t.edition)
    path = services.take_path(survey, registration_id=t.registration.id)
    visitor = Browser(app)
    response = visitor.post(path, data={f"q{qs[1].id}": "3", f"q{qs[4].id}": "The food was cold"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Please answer this question." in page
    assert "The food was cold" in page and f'id="q{qs[1].id}-3" value="3" checked' in page
    response = visitor.post(path, data={f"q{qs[0].id}": "6", f"q{qs[1].id}": "3"})
    assert response.status_code == 302
    stored = db.session.scalar(select(SurveyResponse))
    assert stored.nps == 6 and len(stored.answers) == 2  # unanswered optional questions store nothing


def test_closed_and_draft_surveys_take_no_answers(app, make):
    t = make.tenant(exhibitors=0, visitors=1)
    survey, qs = build_survey(t.edition, status="closed")
    visitor = Browser(app)
    path = services.take_path(survey, registration_id=t.registration.id)
    assert "This survey is closed" in visitor.get(path).get_data(as_text=True)
    visitor.post(path, data={f"q{qs[0].id}": "9"})
    assert db.session.scalar(select(SurveyResponse)) is None
    with pytest.raises(ServiceError, match="closed"):
        services.submit(services.Taker(survey, registration=t.registration), answers(qs))


def test_concurrent_duplicate_submits_store_one_response(app, make):
    t = make.tenant(exhibitors=0, visitors=1)
    survey, qs = build_survey(t.edition)
    survey_id, registration_id = survey.id, t.registration.id
    form = answers(qs)
    db.session.commit()

    def act(n):
        from expo.surveys.models import Survey
        from expo.visitors.models import Registration

        taker = services.Taker(db.session.get(Survey, survey_id),
                               registration=db.session.get(Registration, registration_id))
        return services.submit(taker, form).id

    outcomes = race(app, act, [1, 2, 3])
    stored = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, ServiceError)]
    assert len(stored) == 1 and len(refused) == 2
    assert all("already" in str(e) for e in refused)
    assert db.session.scalar(select(db.func.count(SurveyResponse.id))) == 1
    assert db.session.scalar(select(db.func.count(Activity.id)).where(Activity.kind == "survey.answered")) == 1


def test_an_exhibitor_answers_for_the_company_and_rebooking_reads_it(app, make):
    t = make.tenant(exhibitors=2, visitors=0)
    survey, qs = build_survey(t.edition, "exhibitor")
    admin = t.users["exhibitor_admin"]
    portal = Browser(app, admin)
    page = portal.get("/portal/surveys").get_data(as_text=True)
    path = services.take_path(survey, exhibitor_id=t.exhibitor.id)
    assert path in page
    assert portal.post(path, data={f"q{qs[0].id}": "7"}).status_code == 302
    assert "Answered, thank you!" in portal.get("/portal/surveys").get_data(as_text=True)
    entry = db.session.scalar(select(Activity).where(Activity.kind == "survey.answered"))
    assert (entry.subject_type, entry.subject_id) == ("company", t.exhibitor.company_id)
    other = t.exhibitors[1][0]
    services.submit(services.Taker(survey, exhibitor=other), answers(qs, nps="3"))
    scope = Scope(t.organizer.id)
    assert services.company_scores(scope, t.edition.id) == {t.exhibitor.company_id: 7.0, other.company_id: 3.0}
    assert services.exhibitor_satisfaction(scope, [t.exhibitor.id]) == {t.exhibitor.id: 7.0}
    assert "expo.surveys.services" in {h.__module__ for h in registry.hook("exhibitor_satisfaction")}
    results = rebooking.exhibitor_results(scope, [t.exhibitor.id, other.id])
    assert results[t.exhibitor.id]["satisfaction"] == 7.0 and results[other.id]["satisfaction"] == 3.0


def test_scores_and_open_surveys_for_other_modules(make):
    t = make.tenant(exhibitors=0, visitors=3)
    survey, qs = build_survey(t.edition)
    for registration, score in zip(t.registrations, ("10", "4")):
        services.submit(services.Taker(survey, registration=registration), answers(qs, nps=score))
    scope = Scope(t.organizer.id)
    assert services.person_scores(scope, t.edition.id) == {t.registrations[0].person_id: 10.0,
                                                           t.registrations[1].person_id: 4.0}
    assert services.open_surveys(scope, t.edition.id, "visitor") == [survey]
    assert services.open_surveys(scope, t.edition.id, "exhibitor") == []
    other = make.tenant("B", exhibitors=0, visitors=0)
    assert services.person_scores(Scope(other.organizer.id), t.edition.id) == {}


def test_the_badge_page_links_to_the_open_survey(app, make):
    t = make.tenant(exhibitors=0, visitors=1)
    survey, qs = build_survey(t.edition)
    visitor = Browser(app)
    page = visitor.get(f"/r/{t.registration.access_key}").get_data(as_text=True)
    path = services.take_path(survey, registration_id=t.registration.id)
    assert 'id="visitor-surveys-section"' in page and path in page
    services.submit(services.Taker(survey, registration=t.registration), answers(qs))
    db.session.commit()
    page = visitor.get(f"/r/{t.registration.access_key}").get_data(as_text=True)
    assert path not in page and "answered, thank you!" in page


def test_the_kiosk_opens_the_survey_from_a_badge(app, make):
    t = make.tenant(exhibitors=0, visitors=1)
    survey, qs = build_survey(t.edition)
    staff = Browser(app, t.users["onsite"])
    url = f"/org/editions/{t.edition.id}/surveys/{survey.id}/kiosk"
    assert staff.get(url).status_code == 200
    bad = staff.post(url, data={"code": "not a badge\x00"})
    assert bad.status_code == 400 and "Scan or type" in bad.get_data(as_text=True)
    response = staff.post(url, data={"code": t.code})
    assert response.status_code == 302
    path = services.take_path(survey, registration_id=t.registration.id)
    assert response.headers["Location"].endswith(path + "?via=kiosk")
    done = staff.post(path + "?via=kiosk", data={f"q{qs[0].id}": "8"})
    assert done.status_code == 302
    thanks = staff.get(done.headers["Location"]).get_data(as_text=True)
    assert 'id="kiosk-next"' in thanks and t.registration.access_key not in thanks  # the next visitor's tablet
    assert db.session.scalar(select(SurveyResponse)).channel == "kiosk"
    again = staff.post(url, data={"code": t.code})
    assert "answered the survey already" in again.get_data(as_text=True)


def test_the_visitor_language_is_used(app, make):
    t = make.tenant(exhibitors=0, visitors=1)
    survey, qs = build_survey(t.edition)
    t.registration.locale = "zh_CN"
    db.session.commit()
    page = Browser(app).get(services.take_path(survey, registration_id=t.registration.id)).get_data(as_text=True)
    assert "您向同事推荐本展会的可能性有多大？" in page and "展会体验如何？" in page


def test_personal_data_shows_the_answers_and_erasure_blanks_the_free_text(app, make):
    from expo.visitors import privacy

    t = make.tenant(exhibitors=0, visitors=1)
    survey, qs = build_survey(t.edition)
    services.submit(services.Taker(survey, registration=t.registration), answers(qs, text="My name is Wang Wei"))
    db.session.commit()
    person = t.registration.person
    section = next(s for s in privacy.personal_data_sections(person) if s["key"] == "surveys")
    shown = {row["question"]: row["answer"] for row in section["rows"]}
    assert shown["What should we improve?"] == "My name is Wang Wei"
    assert shown["What did you do?"] == "Met exhibitors, Food" and shown["How did you come?"] == "Metro"
    privacy.erase_person(person, by="visitor")
    db.session.commit()
    texts = [a.text for a in db.session.scalars(select(SurveyAnswer))]
    assert "My name is Wang Wei" not in texts
    assert db.session.scalar(select(SurveyResponse)).nps == 9  # the score stays, anonymous
    assert services.taker_of(services.take_token(survey, registration_id=t.registration.id)) is None


def test_the_organizer_edits_moves_and_deletes_questions(app, make):
    t = make.tenant("A", exhibitors=0, visitors=1)
    other = make.tenant("B", exhibitors=0, visitors=0)
    survey, qs = build_survey(t.edition, status="draft")
    manager = Browser(app, t.users["manager"])
    page = f"/org/editions/{t.edition.id}/surveys/{survey.id}"
    assert "How did you come?" in manager.get(page).get_data(as_text=True)
    changed = manager.post(page, data={"action": "update_question", "question_id": str(qs[2].id), "kind": "single",
                                       "text_en": "How did you travel?", "text_zh": "您如何出行？",
                                       "options_en": "Metro\nCar\nBus\nTaxi", "options_zh": "地铁\n汽车\n公交\n出租车"})
    assert changed.status_code == 302
    assert manager.post(page, data={"action": "down", "question_id": str(qs[0].id)}).status_code == 302
    assert manager.post(page, data={"action": "delete_question", "question_id": str(qs[4].id)}).status_code == 302
    db.session.expire_all()
    assert [q.text_en for q in survey.questions][:2] == ["How was the organisation?",
                                                         "How likely are you to recommend the show to a colleague?"]
    assert survey.questions[2].option_labels("zh")[-1] == "出租车" and len(survey.questions) == 4
    bad = manager.post(page, data={"action": "update_question", "question_id": str(qs[1].id), "kind": "nuclear",
                                   "text_en": "x"})
    assert bad.status_code == 400 and "Choose the kind of question." in bad.get_data(as_text=True)
    assert manager.post(page, data={"action": "up", "question_id": "abc\x00"}).status_code == 404
    # Another organizer's survey does not exist here; nor does this survey under another edition's URL.
    foreign, _ = build_survey(other.edition)
    assert manager.get(f"/org/editions/{t.edition.id}/surveys/{foreign.id}").status_code == 404
    assert manager.get(f"/org/editions/{t.edition.id}/surveys/99999999999999/results").status_code == 404
