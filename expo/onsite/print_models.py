"""The badge print queue of an edition: walk-up kiosks and the help desk ask for a badge, the desk printer's
page prints it. A print job is never an entry: it writes no scan (check-in is a separate, explicit step)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.states import Machine, State
from ..extensions import db

PRINT_JOB_STATUS = Machine("print_job_status", [
    State("queued", _l("Waiting to print"), "warning", "hourglass-split"),
    State("printing", _l("Being printed"), "info", "printer"),
    State("printed", _l("Printed"), "success", "printer"),
    State("failed", _l("Failed"), "danger", "exclamation-triangle"),
    State("cancelled", _l("Removed from the queue"), "secondary", "x-circle"),
], moves={
    "queued": ("printing", "printed", "failed", "cancelled"),
    # Claimed by a desk when its PDF is made; back to "queued" when the claim times out (or "failed").
    "printing": ("queued", "printed", "failed", "cancelled"),
    "failed": ("queued", "cancelled"),  # retry
    "printed": (),
    "cancelled": (),
})
# Where the request came from: a visitor at a kiosk, or staff at the desk (a print, or a reissued badge).
PRINT_JOB_ORIGIN = Machine("print_job_origin", [
    State("kiosk", _l("Kiosk"), "info", "tablet"),
    State("desk", _l("Desk"), "primary", "person-badge"),
    State("reissue", _l("Desk, new badge"), "warning", "arrow-repeat"),
])


class PrintJob(db.Model):
    """One badge to print, as asked: for which registration, which badge serial, by whom, from where, when;
    then printed (by whom, when) or failed (why), retried. At most one job per registration waits in the
    queue at a time, and one request (``request_key``: the form's id) makes one job, whatever is retried."""

    __tablename__ = "print_jobs"
    __table_args__ = (
        UniqueConstraint("edition_id", "request_key"),
        CheckConstraint(PRINT_JOB_STATUS.check("status"), name="valid_status"),
        CheckConstraint(PRINT_JOB_ORIGIN.check("origin"), name="valid_origin"),
        CheckConstraint("badge_serial >= 1", name="positive_badge_serial"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # Two clicks on "print" (or two kiosks) never queue the same badge twice (waiting or being printed).
        Index("uq_print_jobs_registration_id_queued", "registration_id", unique=True,
              sqlite_where=text("status IN ('queued', 'printing')"),
              postgresql_where=text("status IN ('queued', 'printing')")),
        Index("ix_print_jobs_edition_id_status", "edition_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    badge_serial: Mapped[int] = mapped_column()  # the serial asked for (a reissue asks for the new one)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    origin: Mapped[str] = mapped_column(String(10))
    station: Mapped[str] = mapped_column(String(60), default="")  # the kiosk's or desk's name
    request_key: Mapped[str] = mapped_column(String(64))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)  # how often it was sent back to the queue after failing
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure: Mapped[str] = mapped_column(String(200), default="")
    # Who made the PDF of this job and when ("printing"): two desk printers never print the same badge.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration = relationship("Registration")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    done_by = relationship("User", foreign_keys=[done_by_id])
    claimed_by = relationship("User", foreign_keys=[claimed_by_id])

    @property
    def status_state(self) -> State:
        return PRINT_JOB_STATUS.state(self.status)

    @property
    def origin_state(self) -> State:
        return PRINT_JOB_ORIGIN.state(self.origin)
