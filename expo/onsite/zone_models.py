"""Gates and zones of an edition: where a badge is scanned, which part of the venue it opens, who may enter.

A zone (the halls, a conference room, the VIP lounge) has names in both languages, an optional capacity, its
access rules (which visitor categories, on which show days), and a re-entry policy. A gate belongs to one zone
and lets people in, out, or both. Every change bumps the edition's ``ZoneSetup.stamp``: the scan path keeps
the edition's set-up in memory and reloads it when the stamp it reads differs (expo.onsite.zones).
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import UTCDateTime, utcnow
from ..core.states import Machine, State
from ..extensions import db

REENTRY = Machine("zone_reentry", [
    State("free", _l("Free: in and out as often as they like"), "success", "arrow-left-right"),
    State("daily", _l("Once a day: no re-entry the same day after leaving"), "warning", "calendar-day"),
    State("none", _l("No re-entry after leaving, for the whole show"), "danger", "box-arrow-right"),
])
GATE_DIRECTION = Machine("gate_direction", [
    State("in", _l("Entry"), "success", "box-arrow-in-right"),
    State("out", _l("Exit"), "secondary", "box-arrow-right"),
    State("both", _l("Entry and exit"), "info", "arrow-left-right"),
])
NAME_MAX = 80
CODE_MAX = 40
GATE_NAME_MAX = 60


class Zone(db.Model):
    """A part of the venue behind gates. ``access``: visitor category -> None (any day) or the ISO dates of the
    show days it may enter; a category not named may not enter. ``admission``: entering it is the visitor's
    admission to the show that day (the main entrance), counted once a day."""

    __tablename__ = "zones"
    __table_args__ = (
        CheckConstraint(REENTRY.check("reentry"), name="valid_reentry"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="valid_capacity"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    name_en: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    name_zh: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    capacity: Mapped[int | None]
    access: Mapped[dict] = mapped_column(JSON, default=dict)
    reentry: Mapped[str] = mapped_column(String(10), default="free")
    admission: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def name(self, language: str = "en") -> str:
        first, second = (self.name_zh, self.name_en) if language.startswith("zh") else (self.name_en, self.name_zh)
        return first or second


class Gate(db.Model):
    """A scanning point: its code (what scanners send as ``gate``), a name, its zone, its direction."""

    __tablename__ = "gates"
    __table_args__ = (
        UniqueConstraint("edition_id", "code"),
        CheckConstraint(GATE_DIRECTION.check("direction"), name="valid_direction"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    code: Mapped[str] = mapped_column(String(CODE_MAX))
    name: Mapped[str] = mapped_column(String(GATE_NAME_MAX), default="")
    direction: Mapped[str] = mapped_column(String(4), default="both")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ZoneSetup(db.Model):
    """The version of an edition's gates and zones: a new random stamp on every change (a rolled-back change
    never leaves a stamp that a later one could repeat). No row: the edition has never had any."""

    __tablename__ = "zone_setups"
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    stamp: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
