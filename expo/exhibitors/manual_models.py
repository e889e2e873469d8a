"""The exhibitor manual (issue 8): the organizer's manual text in sections, forms with deadlines that every
exhibitor of the edition fills in (fascia name, power order, catalogue entry…), their answers, and the
reminders sent before a deadline (one per form and exhibitor)."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.states import Machine, State
from ..extensions import db

__all__ = ["MANUAL_SUBMISSION_STATUS", "FIELD_TYPES", "ManualSection", "ManualForm", "ManualSubmission",
           "ManualReminder"]

# A form's answers: sent (locked after the deadline), or opened again by the organizer (editable until sent).
MANUAL_SUBMISSION_STATUS = Machine("manual_submission_status", [
    State("submitted", _l("Submitted"), "success", "check-circle"),
    State("reopened", _l("Reopened"), "warning", "unlock"),
], moves={"submitted": ("reopened",), "reopened": ("submitted",)})

# The kinds of field a form may ask for.
FIELD_TYPES = {"text": _l("Text"), "number": _l("Number"), "choice": _l("Choice"), "yes_no": _l("Yes / no")}


class ManualSection(db.Model):
    """One chapter of the edition's exhibitor manual (move-in times, rules, contacts…)."""

    __tablename__ = "manual_sections"
    __table_args__ = (CheckConstraint("title <> ''", name="has_a_title"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ManualForm(db.Model):
    """A form every exhibitor of the edition fills in by its deadline (the last day, in the edition's time
    zone). ``fields``: a list of {"key", "label", "type" (FIELD_TYPES), "choices" (list), "required"}."""

    __tablename__ = "manual_forms"
    __table_args__ = (
        CheckConstraint("title <> ''", name="has_a_title"),
        CheckConstraint("remind_days BETWEEN 0 AND 90", name="valid_remind_days"),
        Index("ix_manual_forms_edition_id_deadline", "edition_id", "deadline"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date]
    mandatory: Mapped[bool] = mapped_column(Boolean, default=True)
    remind_days: Mapped[int] = mapped_column(default=7)  # the reminder goes this many days before the deadline
    fields: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ManualSubmission(db.Model):
    """An exhibitor's answers to one form (one row per form and exhibitor)."""

    __tablename__ = "manual_submissions"
    __table_args__ = (
        UniqueConstraint("form_id", "exhibitor_id"),
        CheckConstraint(MANUAL_SUBMISSION_STATUS.check("status"), name="valid_status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("manual_forms.id", ondelete="CASCADE"))
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    form: Mapped[ManualForm] = relationship()

    @property
    def status_state(self) -> State:
        return MANUAL_SUBMISSION_STATUS.state(self.status)


class ManualReminder(db.Model):
    """The reminder mail about a form sent to an exhibitor's admins: at most one per form and exhibitor."""

    __tablename__ = "manual_reminders"
    __table_args__ = (UniqueConstraint("form_id", "exhibitor_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("manual_forms.id", ondelete="CASCADE"))
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id"), index=True)
    recipients: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
