"""The exhibitor's lead: one per (exhibitor, registration), made by scanning the visitor's badge."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.states import Machine, State
from ..extensions import db

LEAD_RATING = Machine("lead_rating", [
    State("hot", _l("Hot"), "danger", "fire"), State("warm", _l("Warm"), "warning", "thermometer-half"),
    State("cold", _l("Cold"), "info", "snow"),
])
LEAD_RATINGS = LEAD_RATING.codes

# The exhibitor's follow-up of a lead after the show (expo.leads.follow_up makes every move). Back moves undo a
# slip (contacted -> to contact), reopen a lost lead, or take a won deal back to the quote when it falls through.
LEAD_FOLLOW_UP = Machine("lead_follow_up", [
    State("to_contact", _l("To contact"), "secondary", "hourglass"),
    State("contacted", _l("Contacted"), "info", "telephone"),
    State("quote_sent", _l("Quote sent"), "primary", "file-earmark-text"),
    State("won", _l("Won"), "success", "trophy"),
    State("lost", _l("Lost"), "dark", "x-circle"),
], moves={
    "to_contact": ("contacted", "quote_sent", "lost"),
    "contacted": ("to_contact", "quote_sent", "won", "lost"),
    "quote_sent": ("contacted", "won", "lost"),
    "won": ("quote_sent", "lost"),
    "lost": ("contacted", "quote_sent"),
})
FOLLOW_UP_STATUSES = LEAD_FOLLOW_UP.codes


class Lead(db.Model):
    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("exhibitor_id", "registration_id"),
        UniqueConstraint("exhibitor_id", "external_ref"),
        CheckConstraint(f"rating IS NULL OR {LEAD_RATING.check('rating')}", name="valid_rating"),
        CheckConstraint(LEAD_FOLLOW_UP.check("follow_up_status"), name="valid_follow_up_status"),
        CheckConstraint("won_value IS NULL OR won_value >= 0", name="won_value_not_negative"),
        Index("ix_leads_exhibitor_id_follow_up_status", "exhibitor_id", "follow_up_status"),
        Index("ix_leads_next_step_on", "next_step_on"),
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

    # follow-up (expo.leads.follow_up): the status, who moved it last and when, the first move out of "to contact",
    # the next step's day (the reminder) and the day a reminder was mailed for, the deal's value, why it was lost
    follow_up_status: Mapped[str] = mapped_column(String(12), default="to_contact", server_default="to_contact")
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    follow_up_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    first_followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_step_on: Mapped[date | None] = mapped_column(Date)
    reminded_on: Mapped[date | None] = mapped_column(Date)
    won_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    lost_reason: Mapped[str] = mapped_column(String(300), default="", server_default="")

    registration = relationship("Registration")
    captured_by = relationship("User", foreign_keys=[captured_by_id])
    follow_up_by = relationship("User", foreign_keys=[follow_up_by_id])


class LeadFollowUp(db.Model):
    """One move of a lead's follow-up status: the lead's history (never changed afterwards)."""

    __tablename__ = "lead_follow_ups"
    __table_args__ = (
        CheckConstraint(LEAD_FOLLOW_UP.check("to_status"), name="valid_to_status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    next_step_on: Mapped[date | None] = mapped_column(Date)
    won_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    lost_reason: Mapped[str] = mapped_column(String(300), default="")

    moved_by = relationship("User")


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
