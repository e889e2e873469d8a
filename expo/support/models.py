"""Support tickets (the tickets part); the call-backs part's tables are in callback_models.py.

A ticket is a complaint, a suggestion or a service request about one customer: a company (through its
participation in an edition, ``exhibitor``) or a person (through a registration). It comes from the exhibitor
portal, a visitor's signed link or organizer staff taking a call; it has an urgency, an SLA deadline in working
days (``due_at``, fixed at creation from the SLA settings), an owner among the organizer's staff, notes, a
resolution and the requester's rating of that resolution. ``escalated_at`` is set once, when the escalation task
mailed the managers about it being overdue.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.models import Edition, User
from ..core.states import Machine, State
from ..exhibitors.models import Company, Exhibitor
from ..extensions import db
from ..visitors.models import Person, Registration

TICKET_STATUS = Machine("ticket_status", [
    State("open", _l("Open"), "warning", "envelope-open"),
    State("in_progress", _l("In progress"), "info", "hourglass-split"),
    State("resolved", _l("Resolved"), "success", "check-circle"),
    State("closed", _l("Closed"), "secondary", "archive"),
], moves={
    "open": ("in_progress", "resolved", "closed"),
    "in_progress": ("resolved", "closed"),
    "resolved": ("closed", "in_progress"),  # reopened: back to work
    "closed": (),
})
TICKET_KIND = Machine("ticket_kind", [
    State("complaint", _l("Complaint"), "danger", "exclamation-octagon"),
    State("suggestion", _l("Suggestion"), "primary", "lightbulb"),
    State("request", _l("Request"), "info", "question-circle"),
])
TICKET_URGENCY = Machine("ticket_urgency", [
    State("urgent", _l("Urgent"), "danger", "lightning"),
    State("normal", _l("Normal"), "secondary", "dash-circle"),
])
TICKET_SOURCE = Machine("ticket_source", [
    State("portal", _l("Exhibitor portal"), "primary", "shop"),
    State("visitor", _l("Visitor link"), "info", "person-badge"),
    State("staff", _l("Staff"), "secondary", "telephone"),
])
TICKET_OPEN_STATUSES = ("open", "in_progress")
TICKET_DONE_STATUSES = ("resolved", "closed")


class Ticket(db.Model):
    __tablename__ = "support_tickets"
    __table_args__ = (
        CheckConstraint(TICKET_STATUS.check("status"), name="valid_status"),
        CheckConstraint(TICKET_KIND.check("kind"), name="valid_kind"),
        CheckConstraint(TICKET_URGENCY.check("urgency"), name="valid_urgency"),
        CheckConstraint(TICKET_SOURCE.check("source"), name="valid_source"),
        CheckConstraint("company_id IS NOT NULL OR person_id IS NOT NULL", name="about_a_customer"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="valid_rating"),
        CheckConstraint("sla_days BETWEEN 1 AND 60", name="valid_sla_days"),
        Index("ix_support_tickets_organizer_id_edition_id_status", "organizer_id", "edition_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(20), default="normal")
    status: Mapped[str] = mapped_column(String(20), default="open")
    source: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The customer: a company through its participation (exhibitor), or a person through a registration.
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id"), index=True)
    contact: Mapped[str] = mapped_column(String(200), default="", server_default="")  # who called, how to reach
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sla_days: Mapped[int] = mapped_column(default=5)  # working days, as set when the ticket came in
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str] = mapped_column(Text, default="", server_default="")
    rating: Mapped[int | None]
    rating_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    edition: Mapped[Edition] = relationship()
    company: Mapped[Company | None] = relationship()
    exhibitor: Mapped[Exhibitor | None] = relationship()
    person: Mapped[Person | None] = relationship()
    registration: Mapped[Registration | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    notes: Mapped[list[TicketNote]] = relationship(back_populates="ticket", order_by="TicketNote.id")

    @property
    def status_state(self) -> State:
        return TICKET_STATUS.state(self.status)

    @property
    def kind_state(self) -> State:
        return TICKET_KIND.state(self.kind)

    @property
    def urgency_state(self) -> State:
        return TICKET_URGENCY.state(self.urgency)

    @property
    def source_state(self) -> State:
        return TICKET_SOURCE.state(self.source)

    @property
    def subject_type(self) -> str:
        return "company" if self.company_id is not None else "person"

    @property
    def subject_id(self) -> int:
        return self.company_id if self.company_id is not None else self.person_id

    @property
    def customer_name(self) -> str:
        if self.company is not None:
            return self.company.name
        return self.person.name if self.person is not None else ""


class TicketNote(db.Model):
    """A note of the staff on a ticket (internal), in order."""
    __tablename__ = "support_ticket_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("support_tickets.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="notes")
    user: Mapped[User | None] = relationship()


class SlaSetting(db.Model):
    """Working days to resolve a ticket, by urgency: the organizer's defaults (edition_id NULL) or one edition's.
    ``holidays`` lists ISO days off; ``workdays`` lists weekend days worked (调休 make-up days)."""
    __tablename__ = "support_sla_settings"
    __table_args__ = (
        CheckConstraint("urgent_days BETWEEN 1 AND 60 AND normal_days BETWEEN 1 AND 60", name="valid_days"),
        Index("uq_support_sla_settings_organizer_id_default", "organizer_id", unique=True,
              sqlite_where=text("edition_id IS NULL"), postgresql_where=text("edition_id IS NULL")),
        Index("uq_support_sla_settings_edition_id", "edition_id", unique=True,
              sqlite_where=text("edition_id IS NOT NULL"), postgresql_where=text("edition_id IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int | None] = mapped_column(ForeignKey("editions.id"))
    urgent_days: Mapped[int] = mapped_column(default=2)
    normal_days: Mapped[int] = mapped_column(default=5)
    holidays: Mapped[list] = mapped_column(JSON, default=list)
    workdays: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


from .callback_models import *  # noqa: E402,F401,F403
