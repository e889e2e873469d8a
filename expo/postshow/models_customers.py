"""Customer value settings (issue 11, customers part): the organizer's weights of the net-value score and the
tier shares (VIP / important / general / low). One row per organizer; no row means the documented defaults
(expo.postshow.values.DEFAULT_COMPANY_WEIGHTS, DEFAULT_PERSON_WEIGHTS, lifecycle.DEFAULT_TIER_SHARES)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import UTCDateTime, utcnow
from ..extensions import db


class CustomerValueSettings(db.Model):
    __tablename__ = "customer_value_settings"
    __table_args__ = (
        CheckConstraint("vip_percent > 0 AND important_percent >= 0 AND general_percent >= 0 AND "
                        "vip_percent + important_percent + general_percent <= 100", name="shares_in_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), unique=True)
    company_weights: Mapped[dict] = mapped_column(JSON, default=dict)  # feature -> weight 0–100
    person_weights: Mapped[dict] = mapped_column(JSON, default=dict)
    vip_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("5"))
    important_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("15"))
    general_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("50"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


__all__ = ["CustomerValueSettings"]
