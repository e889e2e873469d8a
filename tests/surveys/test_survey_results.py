"""Survey results: NPS and its 95 % confidence interval on fixed data, breakdowns by category, country, visitor
type and hall, the previous edition's survey, free-text topics, and the organizer's pages."""
from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import select

from expo.core import services as core
from expo.core.scoping import Scope
from expo.exhibitors import services as exhibitor_services
from expo.extensions import db
from expo.surveys import results, services, topics
from expo.surveys.models import Survey

from ..conftest import Browser
from .test_surveys import answers, build_survey


def test_nps_and_its_confidence_interval_on_fixed_scores():
    nps = results.nps_of([10, 9, 9, 10, 9, 7, 8, 0, 3, 6])
    assert (nps.n, nps.promoters, nps.passives, nps.detractors) == (10, 5, 2, 3)
    assert nps.score == pytest.approx(20.0)
    # var = (p + d - (p - d)^2) / n = (0.5 + 0.3 - 0.04) / 10
    margin = 100 * 1.959964 * math.sqrt(0.076)
    assert nps.margin == pytest.approx(margin)
    assert (nps.low, nps.high) == (pytest.approx(20 - margin), pytest.approx(20 + margin))
    every_promoter = results.nps_of([10] * 4)
    assert every_promoter.score == 100 and every_promoter.margin == 0 and every_promoter.high == 100
    assert results.nps_of([]).score is None and results.nps_of([]).low is None
    assert results.nps_of([0, 10]).low == -100  # clipped


def _answer(survey, qs, registration, nps, rating="4", text=""):
    services.submit(services.Taker(survey, registration=registration),
                    answers(qs, nps=str(nps), rating=rating, text=text))


def test_breakdowns_by_category_country_and_returning_visitors(make):
    t = make.tenant(exhibitors=0, visitors=0)
    scope = Scope(t.organizer.id)
    before = core.create_edition(scope, t.show, "Earlier", t.edition.starts_on - timedelta(days=365),
                                 t.edition.starts_on - timedelta(days=362), venue="Hall", status="closed")
    buyer_cn = make.registration(t.edition, category="buyer", email="cn@example.com", country="CN")
    buyer_de = make.registration(t.edition, category="buyer", email="de@example.com", country="DE")
    media = make.registration(t.edition, category="media", email="media@example.com", country="CN")
    make.registration(before, category="buyer", email="cn@example.com", country="CN", source="import")  # returning
    make.registration(t.edition, category="public", email="silent@example.com")  # does not answer
    survey, qs = build_survey(t.edition)
    _answer(survey, qs, buyer_cn, 10, rating="5")
    _answer(survey, qs, buyer_de, 5, rating="2")
    _answer(survey, qs, media, 9, rating="4")
    found = results.results(survey)
    assert (found.responses, found.eligible, found.rate) == (3, 4, 0.75)
    assert found.nps.score == pytest.approx(100 * (2 - 1) / 3)
    by_category = {g.key: g for g in found.breakdowns["category"]}
    assert by_category["buyer"].n == 2 and by_category["buyer"].nps.score == 0
    assert by_category["buyer"].mean_rating == pytest.approx(3.5) and by_category["media"].nps.score == 100
    by_country = {g.key: g for g in found.breakdowns["country"]}
    assert by_country["CN"].n == 2 and by_country["CN"].nps.score == 100 and by_country["DE"].nps.score == -100
    by_type = {g.key: g.n for g in found.breakdowns["type"]}
    assert by_type == {"returning": 1, "first": 2}
    q_nps = found.questions[0]
    assert q_nps.counts[10] == 1 and q_nps.counts[5] == 1 and sum(q_nps.counts) == 3
    assert found.questions[2].counts == [3, 0, 0]  # everyone came by metro (option 0)
    assert found.questions[3].counts == [3, 0, 3]


def test_exhibitor_results_by_hall(make):
    t = make.tenant(exhibitors=0, visitors=0)
    scope = Scope(t.organizer.id)
    a = exhibitor_services.add_exhibitor(scope, t.edition, "Hall One Co", hall="1", status="contracted")
    b = exhibitor_services.add_exhibitor(scope, t.edition, "Hall Two Co", hall="2", status="exhibited")
    survey, qs = build_survey(t.edition, "exhibitor")
    services.submit(services.Taker(survey, exhibitor=a), answers(qs, nps="10"))
    services.submit(services.Taker(survey, exhibitor=b), answers(qs, nps="2"))
    found = results.results(survey)
    assert {g.key: g.nps.score for g in found.breakdowns["hall"]} == {"1": 100, "2": -100}
    assert found.eligible == 2 and "category" not in found.breakdowns


def test_against_the_previous_edition_of_the_same_audience(make):
    t = make.tenant(exhibitors=0, visitors=0)
    scope = Scope(t.organizer.id)
    before = core.create_edition(scope, t.show, "Earlier", t.edition.starts_on - timedelta(days=365),
                                 t.edition.starts_on - timedelta(days=362), venue="Hall", status="closed")
    old, old_qs = build_survey(before)
    build_survey(before, "exhibitor")  # another audience: not compared
    for score in (3, 4, 9):
        _answer(old, old_qs, make.registration(before, source="import"), score)
    now, qs = build_survey(t.edition)
    _answer(now, qs, make.registration(t.edition), 10)
    found = results.results(now)
    assert found.previous.id == old.id and found.previous_responses == 3
    assert found.previous_nps.score == pytest.approx(100 * (1 - 2) / 3)
    assert results.results(old).previous is None


TEXTS = ["停车太难了，停车场太小", "停车位不够", "停车收费太贵", "The parking was terrible",
         "Not enough parking spaces near the hall", "parking is a nightmare", "Food was expensive and the queue long",
         "The food court was crowded", "food too expensive", "WiFi kept dropping", "展馆WiFi信号差", "No wifi in hall 2"]


def test_free_text_topics_on_fixed_answers():
    found = topics.topics(TEXTS)
    assert 2 <= len(found) <= topics.MAX_TOPICS
    assert sum(t.size for t in found) == len(TEXTS)
    labelled = {term: t for t in found for term in t.label}
    assert set(labelled["wifi"].answers) == {"WiFi kept dropping", "展馆WiFi信号差", "No wifi in hall 2"}
    assert set(labelled["parking"].answers) >= {"The parking was terrible", "parking is a nightmare"}
    assert "停车位不够" in labelled["停车"].answers
    assert topics.topics(TEXTS, seed=0)[0].label == found[0].label  # the same answers give the same topics


def test_few_answers_make_no_topics():
    assert topics.topics(["Great show", "很好", "Too hot"]) == []
    assert topics.topics([]) == [] and topics.topics(["", "  "] * 5) == []
    assert topics.label_terms("The Parking is bad, 停车太难") == ["parking", "bad", "停车"]


def test_the_organizer_writes_opens_and_reads_a_survey(app, make):
    t = make.tenant(exhibitors=0, visitors=1)
    manager = Browser(app, t.users["manager"])
    base = f"/org/editions/{t.edition.id}/surveys"
    bad = manager.post(base, data={"audience": "visitor", "title_en": "x" * 300})
    assert bad.status_code == 400 and "too long" in bad.get_data(as_text=True)
    created = manager.post(base, data={"audience": "visitor", "title_en": "Visitor survey", "title_zh": "观众问卷"})
    survey = db.session.scalar(select(Survey))
    assert created.headers["Location"].endswith(f"{base}/{survey.id}")
    page = f"{base}/{survey.id}"
    refused = manager.post(page, data={"action": "open"})
    assert refused.status_code == 400 and "Add a question" in refused.get_data(as_text=True)
    missing = manager.post(page, data={"action": "add_question", "kind": "single", "text_en": "Pick one",
                                       "options_en": "Only one"})
    assert missing.status_code == 400 and "Pick one" in missing.get_data(as_text=True)  # what was typed stays
    assert manager.post(page, data={"action": "add_question", "kind": "nps", "text_en": "Recommend us?",
                                    "text_zh": "推荐我们吗？", "required": "y"}).status_code == 302
    assert manager.post(page, data={"action": "add_question", "kind": "text",
                                    "text_en": "What should we improve?"}).status_code == 302
    assert manager.post(page, data={"action": "open"}).status_code == 302
    db.session.expire_all()
    survey = db.session.get(Survey, survey.id)
    assert survey.status == "open" and [q.kind for q in survey.questions] == ["nps", "text"]
    assert manager.post(page, data={"action": "up", "question_id": "999999999999"}).status_code == 404
    for text, score in zip(TEXTS[:7], (10, 9, 3, 8, 10, 0, 7)):
        services.submit(services.Taker(survey, registration=make.registration(t.edition)),
                        {f"q{survey.questions[0].id}": [str(score)], f"q{survey.questions[1].id}": [text]})
    db.session.commit()
    analyst = Browser(app, t.users["analyst"])
    body = analyst.get(f"{page}/results").get_data(as_text=True)
    assert 'id="nps-card"' in body and "95% CI" in body and 'class="row g-3 topics"' in body
    assert "停车位不够" in body and "chart-q" in body
    assert analyst.get(page).status_code == 403
    listing = analyst.get(base).get_data(as_text=True)
    assert "Visitor survey" in listing and "7" in listing
