"""Scans: every read of a badge code is a fact, refused ones too."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import UTCDateTime, utcnow
from ..core.models import _in
from ..extensions import db

SCAN_KINDS = ("lead", "checkin")
SCAN_RESULTS = ("ok", "duplicate", "refused")


class Scan(db.Model):
    """One read of a badge code, as it happened: the raw text, both clocks, who, where, the outcome."""

    __tablename__ = "scans"
    __table_args__ = (
        UniqueConstraint("user_id", "client_scan_id"),  # a retry from the same scanner is stored once
        CheckConstraint(_in("kind", SCAN_KINDS), name="valid_kind"),
        CheckConstraint(_in("result", SCAN_RESULTS), name="valid_result"),
        CheckConstraint("(result = 'refused') = (reason IS NOT NULL)", name="refusal_has_reason"),
        Index("ix_scans_edition_id_kind_result", "edition_id", "kind", "result"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int | None] = mapped_column(ForeignKey("editions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id"), index=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    client_scan_id: Mapped[str] = mapped_column(String(64))
    raw_code: Mapped[str] = mapped_column(Text)
    gate: Mapped[str | None] = mapped_column(String(60))
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the device's clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the server's clock
    result: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(40))
