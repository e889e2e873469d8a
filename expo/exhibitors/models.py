"""Companies (persistent) and their participation in an edition (exhibitors)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.models import Category, Edition, _in
from ..extensions import db

EXHIBITOR_STATUSES = ("prospect", "contacted", "negotiating", "contracted", "paid", "exhibited", "lost", "cancelled")

exhibitor_categories = Table(
    "exhibitor_categories",
    db.metadata,
    Column("exhibitor_id", ForeignKey("exhibitors.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Company(db.Model):
    __tablename__ = "companies"
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Exhibitor(db.Model):
    __tablename__ = "exhibitors"
    __table_args__ = (
        UniqueConstraint("edition_id", "company_id"),
        CheckConstraint(_in("status", EXHIBITOR_STATUSES), name="valid_status"),
        CheckConstraint("area_m2 IS NULL OR area_m2 > 0", name="positive_area"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    hall: Mapped[str] = mapped_column(String(20), default="")
    stand: Mapped[str] = mapped_column(String(20), default="")
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    status: Mapped[str] = mapped_column(String(20), default="prospect")
    sales_rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    company: Mapped[Company] = relationship()
    edition: Mapped[Edition] = relationship()
    categories: Mapped[list[Category]] = relationship(secondary=exhibitor_categories)

    @property
    def booth(self) -> str:
        return "-".join(p for p in (self.hall, self.stand) if p)
