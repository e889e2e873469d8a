"""A survey's results: response count and rate, NPS with its 95 % confidence interval, the answers' distribution,
NPS and mean rating by visitor category, country, visitor type (first visit or returning) or by hall for
exhibitors, the previous edition's survey of the same audience, and free-text answers grouped by topic.

NPS = % promoters (9–10) − % detractors (0–6). Its variance under the normal approximation, with p and d the
shares of promoters and detractors among n answers: var = (p + d − (p − d)²) / n; the interval is
NPS ± 1.96·√var (in points, clipped to −100…100).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ..core import services as core
from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..exhibitors.models import PARTICIPATING_STATUSES, Company, Exhibitor
from ..extensions import db
from ..visitors.models import VISITOR_CATEGORY, Person, Registration
from . import topics as topic_model
from .models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse

Z95 = 1.959964


@dataclass
class Nps:
    n: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def score(self) -> float | None:
        return None if not self.n else 100.0 * (self.promoters - self.detractors) / self.n

    @property
    def margin(self) -> float | None:
        """Half the width of the 95 % confidence interval, in NPS points."""
        if not self.n:
            return None
        p, d = self.promoters / self.n, self.detractors / self.n
        variance = max(0.0, p + d - (p - d) ** 2) / self.n
        return 100.0 * Z95 * math.sqrt(variance)

    @property
    def low(self) -> float | None:
        return None if not self.n else max(-100.0, self.score - self.margin)

    @property
    def high(self) -> float | None:
        return None if not self.n else min(100.0, self.score + self.margin)

    def add(self, score: int) -> None:
        self.n += 1
        if score >= 9:
            self.promoters += 1
        elif score <= 6:
            self.detractors += 1
        else:
            self.passives += 1


def nps_of(scores) -> Nps:
    out = Nps()
    for score in scores:
        if score is not None:
            out.add(int(score))
    return out


@dataclass
class Group:
    key: str
    label: str
    n: int = 0
    nps: Nps = field(default_factory=Nps)
    ratings: list[float] = field(default_factory=list)

    @property
    def mean_rating(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None


@dataclass
class QuestionResult:
    question: SurveyQuestion
    answered: int = 0
    counts: list[int] = field(default_factory=list)  # nps 0–10, rating 1–5, choices per option
    mean: float | None = None
    texts: list[str] = field(default_factory=list)
    topics: list = field(default_factory=list)


@dataclass
class Results:
    survey: Survey
    responses: int
    eligible: int
    nps: Nps
    questions: list[QuestionResult]
    breakdowns: dict[str, list[Group]]  # "category" / "country" / "type" / "hall" -> groups, biggest first
    previous: Survey | None = None
    previous_responses: int = 0
    previous_nps: Nps | None = None
    mean_rating: float | None = None

    @property
    def rate(self) -> float | None:
        return self.responses / self.eligible if self.eligible else None


def eligible_count(survey: Survey) -> int:
    """Who could answer: the edition's confirmed registrations, or its participating exhibitors."""
    scope = Scope(survey.organizer_id)
    if survey.audience == "visitor":
        stmt = scoped(Registration, scope, func.count(Registration.id)).where(
            Registration.edition_id == survey.edition_id, Registration.status == "confirmed",
            Registration.erased_at.is_(None))
    else:
        stmt = scoped(Exhibitor, scope, func.count(Exhibitor.id)).where(
            Exhibitor.edition_id == survey.edition_id, Exhibitor.status.in_(PARTICIPATING_STATUSES))
    return db.session.scalar(stmt) or 0


def _rating_means(survey: Survey) -> dict[int, float]:
    """Per response: the mean of its rating answers (1–5)."""
    rows = db.session.execute(
        select(SurveyAnswer.response_id, func.avg(SurveyAnswer.number))
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .where(SurveyQuestion.survey_id == survey.id, SurveyQuestion.kind == "rating",
               SurveyAnswer.number.is_not(None), SurveyAnswer.organizer_id == survey.organizer_id)
        .group_by(SurveyAnswer.response_id))
    return {response_id: float(mean) for response_id, mean in rows}


def _earlier_editions(edition: Edition):
    return select(Edition.id).where(Edition.organizer_id == edition.organizer_id, Edition.show_id == edition.show_id,
                                    Edition.starts_on < edition.starts_on)


def _takers(survey: Survey) -> list[dict]:
    """Per response: its id, NPS and the facts it is broken down by."""
    edition = survey.edition
    if survey.audience == "visitor":
        rows = db.session.execute(
            select(SurveyResponse.id, SurveyResponse.nps, Registration.category, Person.country, Person.id)
            .join(Registration, Registration.id == SurveyResponse.registration_id)
            .join(Person, Person.id == Registration.person_id)
            .where(SurveyResponse.survey_id == survey.id, SurveyResponse.organizer_id == survey.organizer_id)).all()
        ids = {row[4] for row in rows}
        returning = set(db.session.scalars(select(Registration.person_id).where(
            Registration.organizer_id == survey.organizer_id, Registration.person_id.in_(ids),
            Registration.edition_id.in_(_earlier_editions(edition))))) if ids else set()
        return [{"id": r[0], "nps": r[1], "category": r[2], "country": r[3] or "",
                 "type": "returning" if r[4] in returning else "first"} for r in rows]
    rows = db.session.execute(
        select(SurveyResponse.id, SurveyResponse.nps, Exhibitor.hall, Company.country, Company.id)
        .join(Exhibitor, Exhibitor.id == SurveyResponse.exhibitor_id)
        .join(Company, Company.id == Exhibitor.company_id)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.organizer_id == survey.organizer_id)).all()
    ids = {row[4] for row in rows}
    returning = set(db.session.scalars(select(Exhibitor.company_id).where(
        Exhibitor.organizer_id == survey.organizer_id, Exhibitor.company_id.in_(ids),
        Exhibitor.status.in_(PARTICIPATING_STATUSES), Exhibitor.edition_id.in_(_earlier_editions(edition))))) \
        if ids else set()
    return [{"id": r[0], "nps": r[1], "hall": r[2] or "", "country": r[3] or "",
             "type": "returning" if r[4] in returning else "first"} for r in rows]


def _label(dimension: str, key: str, country_name) -> str:
    from flask_babel import gettext as _

    if dimension == "category":
        return str(VISITOR_CATEGORY.label(key)) if key in VISITOR_CATEGORY else key
    if dimension == "country":
        return country_name(key) if key else _("Unknown")
    if dimension == "hall":
        return _("Hall %(hall)s", hall=key) if key else _("No hall")
    return _("Returning") if key == "returning" else _("First time")


def breakdowns(takers: list[dict], ratings: dict[int, float], audience: str, country_name=lambda c: c) \
        -> dict[str, list[Group]]:
    dimensions = ("category", "country", "type") if audience == "visitor" else ("hall", "country", "type")
    out = {}
    for dimension in dimensions:
        groups: dict[str, Group] = {}
        for taker in takers:
            key = taker[dimension]
            group = groups.get(key) or groups.setdefault(key, Group(key, _label(dimension, key, country_name)))
            group.n += 1
            if taker["nps"] is not None:
                group.nps.add(taker["nps"])
            if taker["id"] in ratings:
                group.ratings.append(ratings[taker["id"]])
        out[dimension] = sorted(groups.values(), key=lambda g: (-g.n, g.label))
    return out


def _question_results(survey: Survey, with_topics: bool) -> list[QuestionResult]:
    by_question = defaultdict(list)
    for answer in db.session.scalars(
            select(SurveyAnswer).join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
            .where(SurveyQuestion.survey_id == survey.id, SurveyAnswer.organizer_id == survey.organizer_id)):
        by_question[answer.question_id].append(answer)
    out = []
    for q in survey.questions:
        answers = by_question.get(q.id, [])
        result = QuestionResult(q, answered=len(answers))
        if q.kind in ("nps", "rating"):
            low, high = (0, 10) if q.kind == "nps" else (1, 5)
            result.counts = [0] * (high - low + 1)
            numbers = [a.number for a in answers if a.number is not None and low <= a.number <= high]
            for number in numbers:
                result.counts[number - low] += 1
            result.mean = sum(numbers) / len(numbers) if numbers else None
        elif q.kind in ("single", "multiple"):
            result.counts = [0] * len(q.options)
            for a in answers:
                picked = a.choices if q.kind == "multiple" else ([a.number] if a.number is not None else [])
                for n in picked:
                    if isinstance(n, int) and 0 <= n < len(result.counts):
                        result.counts[n] += 1
        else:
            result.texts = [a.text for a in answers if a.text]
            if with_topics:
                result.topics = topic_model.topics(result.texts)
        out.append(result)
    return out


def previous_survey(survey: Survey) -> Survey | None:
    """The same audience's survey at the previous edition of the show (the one with most answers)."""
    previous = core.previous_edition(survey.edition)
    if previous is None:
        return None
    candidates = list(db.session.scalars(scoped(Survey, Scope(survey.organizer_id)).where(
        Survey.edition_id == previous.id, Survey.audience == survey.audience).order_by(Survey.id)))
    if not candidates:
        return None
    counts = dict(db.session.execute(select(SurveyResponse.survey_id, func.count(SurveyResponse.id)).where(
        SurveyResponse.survey_id.in_([s.id for s in candidates])).group_by(SurveyResponse.survey_id)).all())
    return max(candidates, key=lambda s: (counts.get(s.id, 0), -s.id))


def survey_nps(survey: Survey) -> tuple[int, Nps]:
    count = db.session.scalar(select(func.count(SurveyResponse.id)).where(SurveyResponse.survey_id == survey.id)) or 0
    scores = db.session.scalars(select(SurveyResponse.nps).where(SurveyResponse.survey_id == survey.id,
                                                                 SurveyResponse.nps.is_not(None)))
    return count, nps_of(scores)


def results(survey: Survey, *, with_topics: bool = True, country_name=lambda c: c) -> Results:
    takers = _takers(survey)
    ratings = _rating_means(survey)
    out = Results(survey=survey, responses=len(takers), eligible=eligible_count(survey),
                  nps=nps_of(t["nps"] for t in takers), questions=_question_results(survey, with_topics),
                  breakdowns=breakdowns(takers, ratings, survey.audience, country_name),
                  mean_rating=sum(ratings.values()) / len(ratings) if ratings else None)
    out.previous = previous_survey(survey)
    if out.previous is not None:
        out.previous_responses, out.previous_nps = survey_nps(out.previous)
    return out


def edition_nps(scope: Scope, edition_id: int, audience: str) -> Nps:
    """The NPS of all the edition's answers of one audience (for dashboards)."""
    stmt = (scoped(SurveyResponse, scope, SurveyResponse.nps).join(Survey, Survey.id == SurveyResponse.survey_id)
            .where(SurveyResponse.edition_id == edition_id, Survey.audience == audience,
                   SurveyResponse.nps.is_not(None)))
    return nps_of(db.session.scalars(stmt))
