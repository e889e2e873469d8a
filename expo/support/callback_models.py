"""Call-back lists (回访), their scripted questions, the customers on them and the calls made.

A call list belongs to an edition and calls one audience: the edition's exhibitors (companies) or its
visitors (registrations of persons). Its customers (``CallTarget``) are chosen by filters or by hand and split
between callers (organizer staff). Each call (``Call``) is one attempt on one customer: its outcome, the
answers to the list's script (reached calls only) and a note; attempt numbers are unique per customer, so the
same call cannot be recorded twice. The customer's status follows the last call: reached, refused and wrong
number close it; no answer puts it back in the queue (until the list's attempts run out: not reached); "call
back later" puts it back at the time the customer asked for.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.models import Edition, User
from ..core.states import Machine, State
from ..extensions import db

CALL_AUDIENCE = Machine("call_audience", [
    State("exhibitor", _l("Exhibitors"), "primary", "shop"),
    State("visitor", _l("Visitors and buyers"), "info", "person-badge"),
])
QUESTION_KIND = Machine("call_question_kind", [
    State("yes_no", _l("Yes / no"), "secondary", "toggle-on"),
    State("rating", _l("Rating 1–5"), "secondary", "star"),
    State("choice", _l("Choice"), "secondary", "list-ul"),
    State("text", _l("Text"), "secondary", "fonts"),
])
CALL_OUTCOME = Machine("call_outcome", [
    State("reached", _l("Reached"), "success", "telephone-inbound"),
    State("no_answer", _l("No answer"), "warning", "telephone-x"),
    State("call_back", _l("Call back later"), "info", "clock"),
    State("wrong_number", _l("Wrong number"), "danger", "telephone-minus"),
    State("refused", _l("Refused"), "secondary", "hand-thumbs-down"),
])
# A customer's status on the list. pending and call_back are in a caller's queue; the others are closed.
TARGET_STATUS = Machine("call_target_status", [
    State("pending", _l("To call"), "warning", "telephone"),
    State("call_back", _l("Call back later"), "info", "clock"),
    State("reached", _l("Reached"), "success", "check-circle"),
    State("refused", _l("Refused"), "secondary", "hand-thumbs-down"),
    State("wrong_number", _l("Wrong number"), "danger", "telephone-minus"),
    State("unreachable", _l("No answer after every attempt"), "dark", "telephone-x"),
], moves={
    "pending": ("pending", "call_back", "reached", "refused", "wrong_number", "unreachable"),
    "call_back": ("pending", "call_back", "reached", "refused", "wrong_number", "unreachable"),
    "reached": (), "refused": (), "wrong_number": (), "unreachable": (),
})
OPEN_STATUSES = ("pending", "call_back")
NOT_REACHED_STATUSES = ("refused", "wrong_number", "unreachable")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CallList(db.Model):
    __tablename__ = "call_lists"
    __table_args__ = (
        CheckConstraint(_in("audience", CALL_AUDIENCE.codes), name="valid_audience"),
        CheckConstraint("max_attempts BETWEEN 1 AND 20", name="attempts_in_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(20))
    filters: Mapped[dict] = mapped_column(JSON, default=dict)  # the selection it was made from (words on the page)
    caller_ids: Mapped[list] = mapped_column(JSON, default=list)  # the callers of the last split
    max_attempts: Mapped[int] = mapped_column(default=3)  # unanswered calls before "not reached"
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    edition: Mapped[Edition] = relationship()
    questions: Mapped[list[CallQuestion]] = relationship(order_by="CallQuestion.position",
                                                         cascade="all, delete-orphan", back_populates="call_list")

    @property
    def audience_state(self) -> State:
        return CALL_AUDIENCE.state(self.audience)


class CallQuestion(db.Model):
    __tablename__ = "call_questions"
    __table_args__ = (CheckConstraint(_in("kind", QUESTION_KIND.codes), name="valid_kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    call_list_id: Mapped[int] = mapped_column(ForeignKey("call_lists.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(10))
    text_en: Mapped[str] = mapped_column(String(300), default="")
    text_zh: Mapped[str] = mapped_column(String(300), default="")
    choices: Mapped[list] = mapped_column(JSON, default=list)  # choice: [{"value", "en", "zh"}]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    call_list: Mapped[CallList] = relationship(back_populates="questions")

    @property
    def kind_state(self) -> State:
        return QUESTION_KIND.state(self.kind)

    def text(self, locale: str) -> str:
        return (self.text_zh if str(locale).startswith("zh") else self.text_en) or self.text_en or self.text_zh

    def choice_label(self, value, locale: str) -> str:
        for choice in self.choices or []:
            if choice.get("value") == value:
                return (choice.get("zh") if str(locale).startswith("zh") else choice.get("en")) \
                    or choice.get("en") or choice.get("zh") or value
        return str(value)


class CallTarget(db.Model):
    """One customer on a list: an exhibitor (with its company) or a registration (with its person)."""
    __tablename__ = "call_targets"
    __table_args__ = (
        UniqueConstraint("call_list_id", "exhibitor_id"),
        UniqueConstraint("call_list_id", "registration_id"),
        CheckConstraint("(exhibitor_id IS NULL AND company_id IS NULL AND registration_id IS NOT NULL "
                        "AND person_id IS NOT NULL) OR (exhibitor_id IS NOT NULL AND company_id IS NOT NULL "
                        "AND registration_id IS NULL AND person_id IS NULL)", name="one_customer"),
        CheckConstraint(_in("status", TARGET_STATUS.codes), name="valid_status"),
        CheckConstraint(f"last_outcome IS NULL OR {_in('last_outcome', CALL_OUTCOME.codes)}",
                        name="valid_last_outcome"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_call_targets_queue", "caller_id", "status", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    call_list_id: Mapped[int] = mapped_column(ForeignKey("call_lists.id", ondelete="CASCADE"), index=True)
    exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    caller_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # indexed by ix_call_targets_queue
    position: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # not before this moment (None: now)
    last_outcome: Mapped[str | None] = mapped_column(String(20))
    last_called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    call_list: Mapped[CallList] = relationship()
    caller: Mapped[User | None] = relationship()
    exhibitor = relationship("Exhibitor")
    company = relationship("Company")
    registration = relationship("Registration")
    person = relationship("Person")

    @property
    def status_state(self) -> State:
        return TARGET_STATUS.state(self.status)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Call(db.Model):
    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("target_id", "attempt"),
        CheckConstraint(_in("outcome", CALL_OUTCOME.codes), name="valid_outcome"),
        CheckConstraint("attempt >= 1", name="attempt_positive"),
        CheckConstraint("outcome <> 'call_back' OR call_back_at IS NOT NULL", name="call_back_has_time"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    call_list_id: Mapped[int] = mapped_column(ForeignKey("call_lists.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("call_targets.id", ondelete="CASCADE"))  # unique with attempt
    caller_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    attempt: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(20))
    call_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # str(question id) -> value
    note: Mapped[str] = mapped_column(Text, default="")
    called_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    target: Mapped[CallTarget] = relationship()
    caller: Mapped[User | None] = relationship()

    @property
    def outcome_state(self) -> State:
        return CALL_OUTCOME.state(self.outcome)
