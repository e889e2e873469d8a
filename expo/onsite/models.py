"""Scans: every read of a badge code is a fact, refused ones too."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import UTCDateTime, utcnow
from ..core.states import Machine, State
from ..extensions import db

SCAN_KIND = Machine("scan_kind", [State("lead", _l("Lead"), "primary", "person-vcard"),
                                   State("checkin", _l("Check-in"), "info", "door-open")])
SCAN_RESULT = Machine("scan_result", [
    State("ok", _l("Valid"), "success", "check-lg"), State("duplicate", _l("Already scanned"), "warning", "arrow-repeat"),
    State("refused", _l("Invalid"), "danger", "x-lg"),
])
# Why a badge code is refused, from the cheapest check to the last (see verify_code).
SCAN_REASON = Machine("scan_reason", [
    State("malformed", _l("Not a badge code"), "danger", "question-circle"),
    State("unsupported_version", _l("Unknown badge version"), "danger", "question-circle"),
    State("other_edition", _l("Badge of another show or edition"), "danger", "calendar-x"),
    State("invalid_signature", _l("Forged or altered badge"), "danger", "shield-exclamation"),
    State("unknown_registration", _l("Unknown registration"), "danger", "person-x"),
    State("revoked", _l("Revoked badge"), "danger", "slash-circle"),
    State("not_admitted", _l("Registration not confirmed"), "warning", "hourglass-split"),
    State("exhibitor_not_taking_part", _l("Your company does not take part in this edition"), "danger", "shop"),
    # At a gate of a zone (expo.onsite.zones.gate_decision): the badge is good, the zone's rules refuse it.
    State("zone_category_not_allowed", _l("Not allowed in this zone (visitor category)"), "danger", "sign-stop"),
    State("zone_closed_today", _l("Not admitted to this zone today"), "danger", "calendar-x"),
    State("reentry_not_allowed", _l("No re-entry after leaving"), "danger", "box-arrow-right"),
    State("wrong_direction", _l("Wrong direction for this gate"), "warning", "sign-turn-right"),
    State("unknown_gate", _l("Unknown gate: choose one of the show's gates"), "warning", "signpost-split"),
])
SCAN_KINDS = SCAN_KIND.codes
SCAN_RESULTS = SCAN_RESULT.codes
REFUSAL_REASONS = SCAN_REASON.codes


class Scan(db.Model):
    """One read of a badge code, as it happened: the raw text, both clocks, who, where, the outcome."""

    __tablename__ = "scans"
    __table_args__ = (
        UniqueConstraint("user_id", "client_scan_id"),  # a retry from the same scanner is stored once
        UniqueConstraint("edition_id", "external_ref"),  # an imported check-in is stored once
        CheckConstraint(SCAN_KIND.check("kind"), name="valid_kind"),
        CheckConstraint(SCAN_RESULT.check("result"), name="valid_result"),
        CheckConstraint("(result = 'refused') = (reason IS NOT NULL)", name="refusal_has_reason"),
        Index("ix_scans_edition_id_kind_result", "edition_id", "kind", "result"),
        # One admission per registration and show day, whatever two gates do at the same moment.
        Index("uq_scans_registration_id_admitted_on", "registration_id", "admitted_on", unique=True,
              sqlite_where=text("admitted_on IS NOT NULL"), postgresql_where=text("admitted_on IS NOT NULL")),
        CheckConstraint("admitted_on IS NULL OR (kind = 'checkin' AND result = 'ok')", name="admission_is_ok_checkin"),
        CheckConstraint("direction IS NULL OR direction IN ('in', 'out')", name="valid_direction"),
        Index("ix_scans_zone_id_scanned_at", "zone_id", "scanned_at"),  # who is inside a zone (occupancy)
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
    external_ref: Mapped[str | None] = mapped_column(String(100))  # the source system's id (imports)
    admitted_on: Mapped[date | None] = mapped_column(Date)  # an admitted check-in: its show day (edition's zone)
    # A check-in at a gate of a zone (expo.onsite.zones): which zone, and "in" or "out"; None elsewhere.
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"))
    direction: Mapped[str | None] = mapped_column(String(3))


# The badge print queue (walk-up kiosk and desk) has its own file; its table registers with the models.
from . import print_models  # noqa: E402,F401
# Gates and zones (expo.onsite.zones) too.
from . import zone_models  # noqa: E402,F401
# Staff badges (expo.onsite.staff_badges) too.
from . import staff_badge_models  # noqa: E402,F401
