"""The surveys part of the demo: a visitor and an exhibitor survey in every edition (closed in the past ones,
open in the live one), answered by part of those who came, with scores that differ by visitor category and
improve a little from one edition to the next, and free-text answers in Chinese and English on a few topics
(parking, food, Wi-Fi, signage, buyers' quality, halls' air) so the results pages show topics and trends.
Rows are written directly, with their timeline entries (no mail, no audit of a made-up submission)."""
from __future__ import annotations

from datetime import timedelta

from ..core import activity
from ..core.demo import DemoWorld
from ..exhibitors.models import PARTICIPATING_STATUSES
from ..extensions import db
from ..visitors.models import Registration
from .models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse

VISITOR_TEXTS = [
    "停车太难了，停车场太小", "停车位不够，排了半小时", "停车收费太贵了", "The parking was full by 10 am",
    "Not enough parking near Hall 2", "Parking signs were confusing",
    "午餐太贵，餐饮选择少", "餐饮排队太久", "Food court was crowded and expensive", "More vegetarian food options please",
    "展馆WiFi信号差", "WiFi kept dropping in the hall", "No wifi signal near the stage", "WiFi 登录太麻烦",
    "指示牌不清楚，找不到展位", "Signage to the halls was poor", "The app map helped me find the booths",
    "Great exhibitors, found two new suppliers", "展商质量很高，找到了新的供应商", "Very good seminars on sourcing",
    "讲座很有收获", "", "", "",
]
EXHIBITOR_TEXTS = [
    "买家质量比去年好", "专业买家多，询盘质量高", "Buyer quality was better than last year", "Too many students, few real buyers",
    "学生太多，真正的采购商少", "Hall 3 was too hot in the afternoon", "三号馆空调不够，下午太热", "The air conditioning failed on day 2",
    "布展时间太短", "Build-up time was too short", "Move-in logistics were chaotic at gate B", "卸货区太拥挤",
    "", "",
]


def contribute(world: DemoWorld) -> None:
    for n, edition in enumerate(world.editions):
        live = edition.id == world.live.id
        uplift = n * 0.35  # the show gets a little better every year
        visitor = _survey(world, edition, "visitor", live)
        _visitor_answers(world, edition, visitor, uplift, 0.12 if live else 0.3)
        exhibitor = _survey(world, edition, "exhibitor", live)
        _exhibitor_answers(world, edition, exhibitor, uplift, 0.3 if live else 0.7)
    db.session.flush()


def _survey(world, edition, audience: str, live: bool) -> Survey:
    visitor = audience == "visitor"
    survey = Survey(organizer_id=world.organizer.id, edition_id=edition.id, audience=audience,
                    status="open" if live else "closed",
                    title_en="Your visit to the show" if visitor else "Your show as an exhibitor",
                    title_zh="您的参观体验" if visitor else "您的参展体验",
                    intro_en="Two minutes that help us make the next edition better. Thank you!",
                    intro_zh="只需两分钟，帮助我们把下一届办得更好。谢谢！",
                    created_by_id=world.user_ids.get("manager"))
    questions = [
        SurveyQuestion(kind="nps", required=True, text_en="How likely are you to recommend the show to a colleague?",
                       text_zh="您向同事推荐本展会的可能性有多大？", options=[]),
        SurveyQuestion(kind="rating", text_en="How was the organisation on site?", text_zh="您对现场组织工作的评价？",
                       options=[]),
        SurveyQuestion(kind="rating", text_en="How useful were the contacts you made?" if visitor else
                       "How good were the buyers you met?", text_zh="您建立的联系有多大价值？" if visitor else
                       "您接触到的买家质量如何？", options=[]),
        SurveyQuestion(kind="single", text_en="Will you come back next year?" if visitor else
                       "Will you exhibit next year?", text_zh="明年还会再来吗？" if visitor else "明年还会参展吗？",
                       options=[{"en": "Yes", "zh": "会"}, {"en": "Maybe", "zh": "可能"}, {"en": "No", "zh": "不会"}]),
        SurveyQuestion(kind="multiple", text_en="What did you come for?" if visitor else "What were your goals?",
                       text_zh="您此行的目的？" if visitor else "您的参展目标？",
                       options=[{"en": "New suppliers", "zh": "寻找新供应商"}, {"en": "Market trends", "zh": "了解市场趋势"},
                                {"en": "Meet partners", "zh": "会见合作伙伴"}, {"en": "Seminars", "zh": "参加讲座"}]
                       if visitor else
                       [{"en": "New buyers", "zh": "开发新买家"}, {"en": "Brand awareness", "zh": "品牌推广"},
                        {"en": "Launch products", "zh": "发布新品"}, {"en": "Meet distributors", "zh": "会见经销商"}]),
        SurveyQuestion(kind="text", text_en="What should we improve?", text_zh="我们应该改进什么？", options=[]),
    ]
    for position, question in enumerate(questions, start=1):
        question.organizer_id, question.position = world.organizer.id, position
        survey.questions.append(question)
    db.session.add(survey)
    db.session.flush()
    return survey


CATEGORY_SHIFT = {"buyer": 0.8, "vip": 1.2, "trade_visitor": 0.2, "public": -0.8, "media": 0.0}


def _score(rng, mean: float) -> int:
    return max(0, min(10, round(rng.gauss(mean, 2.1))))


def _answers(world, survey: Survey, response: SurveyResponse, score: int, texts: list[str]) -> None:
    rng = world.rng
    q_nps, q_org, q_contacts, q_back, q_goals, q_text = survey.questions
    quality = max(1, min(5, round(1 + score * 0.4 + rng.uniform(-1, 1))))
    values = [(q_nps, score, []), (q_org, max(1, min(5, quality + rng.choice((-1, 0, 0, 1)))), []),
              (q_contacts, quality, []), (q_back, 0 if score >= 8 else 1 if score >= 5 else 2, []),
              (q_goals, None, sorted(rng.sample(range(4), rng.randint(1, 3))))]
    for question, number, choices in values:
        if number is None and not choices:
            continue
        response.answers.append(SurveyAnswer(organizer_id=survey.organizer_id, question_id=question.id,
                                             number=number, choices=choices, text=""))
    text = rng.choice(texts)
    if text:
        response.answers.append(SurveyAnswer(organizer_id=survey.organizer_id, question_id=q_text.id, text=text,
                                             choices=[]))


def _when(world, edition, rng):
    moment = world.now - timedelta(hours=rng.randint(1, 30)) if edition.id == world.live.id else None
    if moment is None:
        from datetime import datetime, time, timezone

        moment = datetime.combine(edition.ends_on, time(12), tzinfo=timezone.utc) + timedelta(hours=rng.randint(0, 200))
    return min(moment, world.now)


def _visitor_answers(world, edition, survey, uplift: float, share: float) -> None:
    rng = world.rng
    came = [r for r in world.registrations.get(edition.id, []) if r.came and not r.cancelled]
    chosen = [r for r in came if rng.random() < share]
    if not chosen:
        return
    categories = dict(db.session.execute(db.select(Registration.id, Registration.category).where(
        Registration.id.in_([r.id for r in chosen]))).all())
    rows, activities = [], []
    for registration in chosen:
        score = _score(rng, 7.2 + uplift + CATEGORY_SHIFT.get(categories.get(registration.id), 0))
        response = SurveyResponse(organizer_id=survey.organizer_id, survey_id=survey.id, edition_id=edition.id,
                                  registration_id=registration.id, person_id=registration.person_id, nps=score,
                                  language=rng.choice(("zh", "zh", "en")), channel=rng.choice(("link", "kiosk")),
                                  submitted_at=_when(world, edition, rng))
        _answers(world, survey, response, score, VISITOR_TEXTS)
        rows.append(response)
    db.session.add_all(rows)
    db.session.flush()
    for response in rows:
        activities.append({"kind": "survey.answered", "organizer_id": survey.organizer_id, "subject_type": "person",
                           "subject_id": response.person_id, "edition_id": edition.id, "at": response.submitted_at,
                           "object_type": "survey_responses", "object_id": response.id,
                           "details": {"survey": survey.title_en, "survey_id": survey.id, "nps": response.nps}})
    activity.record_many(activities)


def _exhibitor_answers(world, edition, survey, uplift: float, share: float) -> None:
    rng = world.rng
    exhibitors = [e for e in world.exhibitors.get(edition.id, []) if e.status in PARTICIPATING_STATUSES]
    rows = []
    for exhibitor in exhibitors:
        if rng.random() >= share:
            continue
        hall_shift = -1.5 if exhibitor.hall == "3" else 0.3  # hall 3 was too hot
        score = _score(rng, 7.1 + uplift + hall_shift)
        response = SurveyResponse(organizer_id=survey.organizer_id, survey_id=survey.id, edition_id=edition.id,
                                  exhibitor_id=exhibitor.id, company_id=exhibitor.company_id, nps=score,
                                  language=rng.choice(("zh", "en")), channel="link",
                                  submitted_at=_when(world, edition, rng))
        _answers(world, survey, response, score, EXHIBITOR_TEXTS)
        rows.append(response)
    if not rows:
        return
    db.session.add_all(rows)
    db.session.flush()
    activity.record_many([{"kind": "survey.answered", "organizer_id": survey.organizer_id, "subject_type": "company",
                           "subject_id": r.company_id, "edition_id": edition.id, "at": r.submitted_at,
                           "object_type": "survey_responses", "object_id": r.id,
                           "details": {"survey": survey.title_en, "survey_id": survey.id, "nps": r.nps}}
                          for r in rows])
