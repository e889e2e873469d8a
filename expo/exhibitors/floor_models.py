"""The floor plan (issue 8): an edition's halls and the stands drawn in them.

A hall is a rectangle of ``width_m`` × ``depth_m`` metres; a stand is a rectangle inside it (``x``, ``y`` from the
hall's top-left corner, ``w`` × ``h``, in metres) with its number, its floor area and its booth type. A stand is
assigned to at most one exhibitor (``exhibitor_id``, one column) and an exhibitor holds at most one stand (a unique
key); the assignment is made under a row lock (expo.exhibitors.floorplan.assign_stand)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..extensions import db

__all__ = ["Hall", "Stand"]


class Hall(db.Model):
    __tablename__ = "halls"
    __table_args__ = (
        UniqueConstraint("edition_id", "name"),
        CheckConstraint("width_m > 0 AND depth_m > 0", name="positive_size"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    name: Mapped[str] = mapped_column(String(20))  # copied to Exhibitor.hall (String(20)) on assignment
    width_m: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    depth_m: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stands: Mapped[list[Stand]] = relationship(back_populates="hall", order_by="Stand.number",
                                               cascade="all, delete-orphan", passive_deletes=True)


class Stand(db.Model):
    __tablename__ = "stands"
    __table_args__ = (
        UniqueConstraint("hall_id", "number"),
        UniqueConstraint("exhibitor_id"),  # an exhibitor holds one stand at most
        CheckConstraint("area_m2 > 0", name="positive_area"),
        CheckConstraint("x >= 0 AND y >= 0 AND w > 0 AND h > 0", name="valid_rectangle"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20))  # copied to Exhibitor.stand on assignment
    area_m2: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    booth_type_id: Mapped[int | None] = mapped_column(ForeignKey("booth_types.id"), index=True)
    x: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    y: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    w: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    h: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    hall: Mapped[Hall] = relationship(back_populates="stands")
    booth_type = relationship("BoothType")
    exhibitor = relationship("Exhibitor")

    @property
    def label(self) -> str:
        return f"{self.hall.name}-{self.number}"
