"""Sales reps (issue 8): the edition's assignment rules (who gets a new prospect) and the reps' follow-ups.

assignment_rules: tried in ``position`` order when an exhibitor without a rep comes in (assignment.assign_new):
"region" (the company's country is in ``countries``) and "category" (the exhibitor offers ``category_id`` or one
below it) give the exhibitor to ``rep_id``; "round_robin" deals it to the next of its chosen reps
(assignment_rule_reps, ``next_index`` turns). follow_ups: a rep's task about one exhibitor, due at a moment;
open → done (or cancelled); overdue ones are mailed to the managers once (``escalated_at``).
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.models import Category, User
from ..core.states import Machine, State
from ..extensions import db

__all__ = ["RULE_KIND", "FOLLOW_UP_STATUS", "AssignmentRule", "AssignmentRuleRep", "FollowUp"]

RULE_KIND = Machine("assignment_rule_kind", [
    State("region", _l("By region"), "info", "globe-asia-australia"),
    State("category", _l("By industry category"), "primary", "diagram-3"),
    State("round_robin", _l("Round-robin"), "secondary", "arrow-repeat"),
])

FOLLOW_UP_STATUS = Machine("follow_up_status", [
    State("open", _l("To do"), "warning", "hourglass-split"),
    State("done", _l("Done"), "success", "check2-circle"),
    State("cancelled", _l("Cancelled"), "secondary", "x-circle"),
], moves={"open": ("done", "cancelled"), "done": ("open",), "cancelled": ("open",)})


class AssignmentRule(db.Model):
    __tablename__ = "assignment_rules"
    __table_args__ = (
        CheckConstraint(RULE_KIND.check("kind"), name="valid_kind"),
        CheckConstraint("(kind = 'region' AND countries <> '' AND rep_id IS NOT NULL)"
                        " OR (kind = 'category' AND category_id IS NOT NULL AND rep_id IS NOT NULL)"
                        " OR (kind = 'round_robin' AND rep_id IS NULL)", name="complete_rule"),
        CheckConstraint("next_index >= 0", name="next_index_not_negative"),
        Index("ix_assignment_rules_edition_id_position", "edition_id", "position"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)
    countries: Mapped[str] = mapped_column(String(400), default="")  # ISO codes, comma-separated: "CN,HK,MO"
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    next_index: Mapped[int] = mapped_column(default=0)  # round-robin: whose turn it is among its reps
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rep: Mapped[User | None] = relationship(foreign_keys=[rep_id])
    category: Mapped[Category | None] = relationship()
    members: Mapped[list[AssignmentRuleRep]] = relationship(order_by="AssignmentRuleRep.position",
                                                           cascade="all, delete-orphan")

    @property
    def kind_state(self) -> State:
        return RULE_KIND.state(self.kind)

    @property
    def country_codes(self) -> list[str]:
        return [c for c in self.countries.split(",") if c]


class AssignmentRuleRep(db.Model):
    """One of the reps a round-robin rule deals new exhibitors to, in turn."""

    __tablename__ = "assignment_rule_reps"
    __table_args__ = (UniqueConstraint("rule_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("assignment_rules.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    user: Mapped[User] = relationship()


class FollowUp(db.Model):
    """A rep's task about one exhibitor: what to do and when."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        CheckConstraint(FOLLOW_UP_STATUS.check("status"), name="valid_status"),
        CheckConstraint("title <> ''", name="has_a_title"),
        CheckConstraint("snoozed >= 0", name="snoozed_not_negative"),
        Index("ix_follow_ups_rep_id_status_due_at", "rep_id", "status", "due_at"),
        Index("ix_follow_ups_status_escalated_at_due_at", "status", "escalated_at", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"), index=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="open")
    snoozed: Mapped[int] = mapped_column(default=0)  # how many times it was put off
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the managers were mailed (once)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    exhibitor = relationship("Exhibitor")
    rep: Mapped[User] = relationship(foreign_keys=[rep_id])

    @property
    def status_state(self) -> State:
        return FOLLOW_UP_STATUS.state(self.status)
