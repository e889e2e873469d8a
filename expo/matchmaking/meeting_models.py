"""Meeting slots and meetings.

An exhibitor publishes slots (a table at its stand, a start, a length); a visitor (from their own page) or the
exhibitor asks for a meeting in a slot; the other side accepts or declines; either side cancels or moves it.
The database keeps the invariants that concurrent requests could break: one live meeting per slot, one open
meeting per (exhibitor, visitor), one live meeting per visitor and start time. Overlaps of different lengths
on the visitor's side and the caps per visitor category are checked under a lock on the registration row
(``meetings.lock_registration``)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.states import Machine, State
from ..extensions import db

MEETING_STATUS = Machine("meeting_status", [
    State("requested", _l("Requested"), "warning", "hourglass-split"),
    State("accepted", _l("Accepted"), "success", "calendar-check"),
    State("declined", _l("Declined"), "secondary", "x-circle"),
    State("cancelled", _l("Cancelled"), "secondary", "calendar-x"),
    State("attended", _l("Met"), "primary", "people"),
    State("no_show", _l("No-show"), "danger", "person-x"),
], {
    "requested": ("accepted", "declined", "cancelled"),
    # A move to another slot by one side asks the other side again (back to requested).
    "accepted": ("requested", "cancelled", "attended", "no_show"),
    # Corrections on site: a visitor marked no-show who turns up late, a wrong tap.
    "attended": ("no_show",),
    "no_show": ("attended",),
    "declined": (),
    "cancelled": (),
})
# Holding the slot and the visitor's time: a request too (first come, first served).
LIVE = ("requested", "accepted", "attended", "no_show")
OPEN = ("requested", "accepted")  # still to happen: one per (exhibitor, visitor)
MET = ("attended",)

MEETING_SIDE = Machine("meeting_side", [
    State("visitor", _l("Visitor"), "info", "person"),
    State("exhibitor", _l("Exhibitor"), "primary", "shop"),
])


def _in(codes) -> str:
    return "status IN (" + ", ".join(f"'{c}'" for c in codes) + ")"


LIVE_WHERE = _in(LIVE)
OPEN_WHERE = _in(OPEN)


class MeetingSlot(db.Model):
    __tablename__ = "meeting_slots"
    __table_args__ = (
        UniqueConstraint("exhibitor_id", "table_label", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_meeting_slots_edition_id_starts_at", "edition_id", "starts_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))  # indexed with starts_at
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id"))  # indexed by the unique key
    table_label: Mapped[str] = mapped_column(String(40), default="")  # "" = at the stand
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    exhibitor = relationship("Exhibitor")

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class Meeting(db.Model):
    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint(MEETING_STATUS.check("status"), name="valid_status"),
        CheckConstraint(MEETING_SIDE.check("requested_by"), name="valid_requested_by"),
        # A time, or no slot and no time (an invitation): a meeting whose slot was withdrawn afterwards
        # (declined, cancelled) keeps its time as history with slot_id NULL.
        CheckConstraint("(slot_id IS NULL AND starts_at IS NULL AND ends_at IS NULL) OR "
                        "(starts_at IS NOT NULL AND ends_at > starts_at)",
                        name="slot_has_time"),
        CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        # No double booking, whatever the race: a slot holds one live meeting…
        Index("uq_meetings_slot_id_live", "slot_id", unique=True,
              sqlite_where=text(LIVE_WHERE), postgresql_where=text(LIVE_WHERE)),
        # …an exhibitor and a visitor have one meeting to come at a time (a move changes it, never adds one)…
        Index("uq_meetings_exhibitor_id_registration_id_open", "exhibitor_id", "registration_id", unique=True,
              sqlite_where=text(OPEN_WHERE), postgresql_where=text(OPEN_WHERE)),
        # …and a visitor is never in two meetings starting at the same time (other overlaps: under the lock).
        Index("uq_meetings_registration_id_starts_at_live", "registration_id", "starts_at", unique=True,
              sqlite_where=text(LIVE_WHERE), postgresql_where=text(LIVE_WHERE)),
        Index("ix_meetings_edition_id_status_starts_at", "edition_id", "status", "starts_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))  # indexed with status, starts_at
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id"))  # indexed by the open pair
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"))  # indexed with starts_at
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_slots.id", ondelete="SET NULL"))  # indexed
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="requested")
    requested_by: Mapped[str] = mapped_column(String(10))  # whose turn it is not: the other side answers
    message: Mapped[str] = mapped_column(String(500), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")  # of a decline or cancellation
    uid: Mapped[str] = mapped_column(String(80), unique=True)  # the iCalendar UID, the same for every update
    sequence: Mapped[int] = mapped_column(default=0)  # the iCalendar SEQUENCE: +1 for each update sent
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    exhibitor = relationship("Exhibitor")
    registration = relationship("Registration")
    slot = relationship("MeetingSlot")

    @property
    def status_state(self):
        return MEETING_STATUS.state(self.status)

    @property
    def table_label(self) -> str:
        return self.slot.table_label if self.slot is not None else ""


class MeetingCap(db.Model):
    """The most meetings (live ones) a visitor of one category may have in an edition, set by the organizer."""

    __tablename__ = "meeting_caps"
    __table_args__ = (
        UniqueConstraint("edition_id", "category"),
        CheckConstraint("max_meetings >= 0", name="max_not_negative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))  # indexed by the unique key
    category: Mapped[str] = mapped_column(String(20))
    max_meetings: Mapped[int]
