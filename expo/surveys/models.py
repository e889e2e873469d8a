"""Surveys, their questions, responses and answers.

A survey belongs to one edition and asks one audience: visitors (one response per registration) or exhibitors
(one response per exhibitor of the edition). Questions are bilingual (text_en / text_zh; choice options as
[{"en": ..., "zh": ...}]) and of five kinds: nps (0–10, "how likely to recommend"), rating (1–5), single and
multiple choice, free text. A response keeps the taker (registration and person, or exhibitor and company),
the NPS score of its first NPS question (for the reports and the timeline), and one answer per question.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.models import Edition
from ..core.states import Machine, State
from ..extensions import db

AUDIENCE = Machine("survey_audience", [
    State("visitor", _l("Visitors"), "primary", "person"),
    State("exhibitor", _l("Exhibitors"), "success", "shop"),
])
AUDIENCES = AUDIENCE.codes

# draft: being written, not taken; open: taken by its links; closed: results only (links say it is closed).
SURVEY_STATUS = Machine("survey_status", [
    State("draft", _l("Draft"), "secondary", "pencil"),
    State("open", _l("Open"), "success", "play-circle"),
    State("closed", _l("Closed"), "dark", "stop-circle"),
], moves={"draft": ("open",), "open": ("closed",), "closed": ("open",)})
SURVEY_STATUSES = SURVEY_STATUS.codes

QUESTION_KIND = Machine("survey_question_kind", [
    State("nps", _l("Recommendation (0–10)"), "primary", "hand-thumbs-up"),
    State("rating", _l("Rating (1–5)"), "warning", "star"),
    State("single", _l("Single choice"), "info", "ui-radios"),
    State("multiple", _l("Multiple choice"), "info", "ui-checks"),
    State("text", _l("Free text"), "secondary", "chat-left-text"),
])
QUESTION_KINDS = QUESTION_KIND.codes
CHOICE_KINDS = ("single", "multiple")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Survey(db.Model):
    __tablename__ = "surveys"
    __table_args__ = (
        CheckConstraint(_in("audience", AUDIENCES), name="valid_audience"),
        CheckConstraint(_in("status", SURVEY_STATUSES), name="valid_status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    audience: Mapped[str] = mapped_column(String(20), default="visitor")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    title_en: Mapped[str] = mapped_column(String(200), default="")
    title_zh: Mapped[str] = mapped_column(String(200), default="")
    intro_en: Mapped[str] = mapped_column(Text, default="")
    intro_zh: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    edition: Mapped[Edition] = relationship()
    questions: Mapped[list["SurveyQuestion"]] = relationship(order_by="SurveyQuestion.position, SurveyQuestion.id",
                                                       back_populates="survey", cascade="all, delete-orphan")

    @property
    def status_state(self) -> State:
        return SURVEY_STATUS.state(self.status)

    @property
    def audience_state(self) -> State:
        return AUDIENCE.state(self.audience)

    def title(self, language: str = "en") -> str:
        return (self.title_zh if language == "zh" else self.title_en) or self.title_en or self.title_zh

    def intro(self, language: str = "en") -> str:
        return (self.intro_zh if language == "zh" else self.intro_en) or self.intro_en or self.intro_zh


class SurveyQuestion(db.Model):
    __tablename__ = "survey_questions"
    __table_args__ = (CheckConstraint(_in("kind", QUESTION_KINDS), name="valid_kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    text_en: Mapped[str] = mapped_column(String(500), default="")
    text_zh: Mapped[str] = mapped_column(String(500), default="")
    options: Mapped[list] = mapped_column(JSON, default=list)  # [{"en": ..., "zh": ...}] for choices
    required: Mapped[bool] = mapped_column(default=False)

    survey: Mapped[Survey] = relationship(back_populates="questions")

    @property
    def kind_state(self) -> State:
        return QUESTION_KIND.state(self.kind)

    def text(self, language: str = "en") -> str:
        return (self.text_zh if language == "zh" else self.text_en) or self.text_en or self.text_zh

    def option_labels(self, language: str = "en") -> list[str]:
        key = "zh" if language == "zh" else "en"
        return [(o.get(key) or o.get("en") or o.get("zh") or "") for o in (self.options or [])]


class SurveyResponse(db.Model):
    """One taker's answers to one survey: unique per (survey, registration) or (survey, exhibitor)."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint("survey_id", "registration_id"),
        UniqueConstraint("survey_id", "exhibitor_id"),
        CheckConstraint("(registration_id IS NULL) <> (exhibitor_id IS NULL)", name="one_taker"),
        CheckConstraint("nps IS NULL OR (nps >= 0 AND nps <= 10)", name="nps_in_range"),
        Index("ix_survey_responses_edition_id_survey_id", "edition_id", "survey_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    nps: Mapped[int | None]  # the answer to the survey's first NPS question
    language: Mapped[str] = mapped_column(String(5), default="en")
    channel: Mapped[str] = mapped_column(String(20), default="link")  # link, kiosk
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    survey: Mapped[Survey] = relationship()
    answers: Mapped[list["SurveyAnswer"]] = relationship(back_populates="response", cascade="all, delete-orphan")


class SurveyAnswer(db.Model):
    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True)
    number: Mapped[int | None]  # nps 0–10, rating 1–5, single choice: the option's index
    choices: Mapped[list] = mapped_column(JSON, default=list)  # multiple choice: the options' indexes
    text: Mapped[str] = mapped_column(Text, default="")

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")
    question: Mapped[SurveyQuestion] = relationship()
