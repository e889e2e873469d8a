"""Matchmaking tables: settings, exclusions and stored recommendations (this file); slots and meetings
(meeting_models)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import UTCDateTime, utcnow
from ..core.states import Machine, State
from ..extensions import db

# A run of the engine over an edition: asked (queued), running, done or failed. Any state may be asked again.
RUN_STATUS = Machine("matchmaking_run_status", [
    State("idle", _l("Never computed"), "secondary", "dash-circle"),
    State("queued", _l("Queued"), "info", "hourglass"),
    State("running", _l("Computing"), "primary", "arrow-repeat"),
    State("done", _l("Up to date"), "success", "check-circle"),
    State("failed", _l("Failed"), "danger", "x-octagon"),
], moves={"idle": ("queued", "running"), "queued": ("running", "failed", "queued"),
          "running": ("done", "failed", "queued"), "done": ("queued", "running", "failed"),
          "failed": ("queued", "running")})

# Directions: exhibitors to see for a visitor; visitors to invite for an exhibitor.
FOR_VISITOR, FOR_EXHIBITOR = "v", "e"
DIRECTIONS = (FOR_VISITOR, FOR_EXHIBITOR)

# Why a pair is kept apart: set by the organizer (blocked) or by the exhibitor ("not interested").
EXCLUSION_REASON = Machine("matchmaking_exclusion", [
    State("blocked", _l("Blocked by the organizer"), "danger", "slash-circle"),
    State("dismissed", _l("Not interested (exhibitor)"), "secondary", "eye-slash"),
])

TOP_N = 20  # stored per registration and per exhibitor


class MatchmakingSettings(db.Model):
    """One per edition: the organizer's weights per signal and exclusion rules, the state of the last run,
    and the last backtest (kept here so that the settings page never waits for it)."""

    __tablename__ = "matchmaking_settings"
    __table_args__ = (
        CheckConstraint(RUN_STATUS.check("status"), name="valid_status"),
        CheckConstraint("top_n BETWEEN 1 AND 50", name="valid_top_n"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), unique=True)
    weights: Mapped[dict] = mapped_column(JSON, default=dict)  # signal -> weight (0..5); missing: the default
    exclude_competitors: Mapped[bool] = mapped_column(default=True)
    exclude_met: Mapped[bool] = mapped_column(default=True)  # a lead or an agreed/held meeting in this edition
    exclude_met_before: Mapped[bool] = mapped_column(default=False)  # ... at an earlier edition of the show
    top_n: Mapped[int] = mapped_column(default=TOP_N)
    status: Mapped[str] = mapped_column(String(10), default="idle")
    run_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last full or incremental run's start: rows changed after it are recomputed by the next beat.
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    computed_rows: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    backtest: Mapped[dict | None] = mapped_column(JSON)
    backtest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MatchmakingExclusion(db.Model):
    """A pair (exhibitor, registration) never recommended either way."""

    __tablename__ = "matchmaking_exclusions"
    __table_args__ = (
        UniqueConstraint("exhibitor_id", "registration_id"),
        CheckConstraint(EXCLUSION_REASON.check("reason"), name="valid_reason"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id"))  # indexed by the unique key
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(10), default="blocked")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Recommendation(db.Model):
    """One stored recommendation: for a visitor (direction "v": an exhibitor to see) or for an exhibitor
    (direction "e": a visitor to invite), its rank, score, the signals' contributions and the structured
    reasons (turned into words in the reader's language by explain.py when shown)."""

    __tablename__ = "recommendations"
    __table_args__ = (
        UniqueConstraint("direction", "registration_id", "exhibitor_id"),
        CheckConstraint("direction IN ('v', 'e')", name="valid_direction"),
        CheckConstraint("rank >= 1", name="valid_rank"),
        Index("ix_recommendations_registration_id_direction_rank", "registration_id", "direction", "rank"),
        Index("ix_recommendations_exhibitor_id_direction_rank", "exhibitor_id", "direction", "rank"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    direction: Mapped[str] = mapped_column(String(1))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column()
    score: Mapped[float] = mapped_column(Float)
    signals: Mapped[dict] = mapped_column(JSON, default=dict)  # signal -> weighted contribution
    reasons: Mapped[list] = mapped_column(JSON, default=list)  # structured, see explain.py
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


from . import meeting_models  # noqa: E402,F401
