"""The exhibitor's lead: one per (exhibitor, registration), made by scanning the visitor's badge."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
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
