"""The exhibitor's lead: one per (exhibitor, registration), made by scanning the visitor's badge."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.states import Machine, State
from ..extensions import db

LEAD_RATING = Machine("lead_rating", [
    State("hot", _l("Hot"), "danger", "fire"), State("warm", _l("Warm"), "warning", "thermometer-half"),
    State("cold", _l("Cold"), "info", "snow"),
])
LEAD_RATINGS = LEAD_RATING.codes


class Lead(db.Model):
    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("exhibitor_id", "registration_id"),
        UniqueConstraint("exhibitor_id", "external_ref"),
        CheckConstraint(f"rating IS NULL OR {LEAD_RATING.check('rating')}", name="valid_rating"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id"), index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    captured_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    rating: Mapped[str | None] = mapped_column(String(4))
    notes: Mapped[str] = mapped_column(Text, default="")
    external_ref: Mapped[str | None] = mapped_column(String(100))  # the source system's id (imports)
    scan_count: Mapped[int] = mapped_column(default=1)
    first_scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration = relationship("Registration")
    captured_by = relationship("User")


# --- the exhibitor's own qualifying questions (defined in the portal, asked at the booth) ---------------

QUESTION_KINDS = {"text": _l("Text"), "single": _l("Single choice"), "multi": _l("Multiple choice"),
                  "yes_no": _l("Yes / no")}
CHOICE_KINDS = ("single", "multi")


class LeadQuestion(db.Model):
    """One qualifying question of an exhibitor. ``key`` names its answers and never changes: the wording
    (both languages) and the choices' labels can be edited without losing what was answered before. A choice
    keeps its ``value`` (the stored answer) when its labels change."""

    __tablename__ = "lead_questions"
    __table_args__ = (
        UniqueConstraint("exhibitor_id", "key"),
        CheckConstraint("kind IN ('text', 'single', 'multi', 'yes_no')", name="valid_kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id"))  # indexed by (exhibitor_id, key)
    key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    label_en: Mapped[str] = mapped_column(String(300), default="")
    label_zh: Mapped[str] = mapped_column(String(300), default="")
    # [{"value": "budget_2027", "en": "Budget in 2027", "zh": "2027年预算"}, …] for single and multiple choice
    choices: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    required: Mapped[bool] = mapped_column(default=False)  # marked on the scanner; a lead saves without it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def kind_label(self) -> str:
        return str(QUESTION_KINDS.get(self.kind, self.kind))


class LeadAnswer(db.Model):
    """One answer of a lead to one of the exhibitor's questions, by the question's stable key: a row per
    value (a multiple-choice answer is a row per chosen value), so that the lead list filters and counts
    by answer in plain SQL on every database."""

    __tablename__ = "lead_answers"
    __table_args__ = (
        Index("ix_lead_answers_lead_id_question_key", "lead_id", "question_key"),
        Index("ix_lead_answers_exhibitor_id_question_key", "exhibitor_id", "question_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(Text)
