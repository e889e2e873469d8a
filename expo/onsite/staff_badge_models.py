"""Staff badges with a quota by booth size (issue 8): an exhibitor's booth staff registered for badges
(registrations of category "exhibitor_staff"), and the edition's quota rule (base + 1 per N m²)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..extensions import db
from ..visitors.models import Registration

DEFAULT_BASE = 2  # badges every exhibitor gets
DEFAULT_PER_M2 = Decimal("9")  # one more badge for every this many m² of booth


class StaffBadgeQuota(db.Model):
    """An edition's staff badge rule: ``base`` badges plus one per ``per_m2`` m² (None: no extra)."""

    __tablename__ = "staff_badge_quotas"
    __table_args__ = (
        CheckConstraint("base BETWEEN 0 AND 1000", name="valid_base"),
        CheckConstraint("per_m2 IS NULL OR per_m2 > 0", name="positive_per_m2"),
        CheckConstraint("maximum IS NULL OR maximum >= 0", name="valid_maximum"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), unique=True)
    base: Mapped[int] = mapped_column(default=DEFAULT_BASE)
    per_m2: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    maximum: Mapped[int | None]  # a cap whatever the booth size
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffBadge(db.Model):
    """One booth staff member's badge: the registration it made, for which exhibitor. Removing it cancels
    the registration (the badge no longer admits) and frees the place in the quota."""

    __tablename__ = "staff_badges"
    __table_args__ = (
        Index("ix_staff_badges_exhibitor_id_active", "exhibitor_id", "removed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration] = relationship()

