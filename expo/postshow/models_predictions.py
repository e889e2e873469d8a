"""Prediction runs and their scores (issue 11): pages, the API and the CLI read these precomputed rows.

A run is one computation for (edition, kind): who of the edition's customers comes back at the next edition
("exhibitor": companies rebooking, "visitor": persons returning). It keeps the model's backtest on the
organizer's history (AUC, the recency-only baseline's AUC, Brier score, reliability bins) in ``metrics``; each
score keeps the probability, its reasons ({feature, weight, figures}, turned into words when read) and the
features it was computed from.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.models import Edition
from ..core.states import Machine, State
from ..extensions import db

PREDICTION_KIND = Machine("prediction_kind", [
    State("exhibitor", _l("Exhibitors rebooking"), "primary", "shop"),
    State("visitor", _l("Visitors returning"), "info", "person"),
])
PREDICTION_STATUS = Machine("prediction_status", [
    State("queued", _l("Queued"), "secondary", "hourglass"),
    State("done", _l("Done"), "success", "check-circle"),
    State("too_little_history", _l("Too little history"), "warning", "exclamation-circle"),
    State("failed", _l("Failed"), "danger", "x-circle"),
])


class PredictionRun(db.Model):
    __tablename__ = "prediction_runs"
    __table_args__ = (
        CheckConstraint(PREDICTION_KIND.check("kind"), name="valid_kind"),
        CheckConstraint(PREDICTION_STATUS.check("status"), name="valid_status"),
        Index("ix_prediction_runs_edition_id_kind_created_at", "edition_id", "kind", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    message: Mapped[str] = mapped_column(Text, default="")
    trained_on: Mapped[int] = mapped_column(default=0)  # (customer, edition) pairs the model learnt from
    scored: Mapped[int] = mapped_column(default=0)
    # Backtest and model: {"auc", "baseline_auc", "brier", "bins": [...], "editions": [...], "coefficients": {...}}
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    edition: Mapped[Edition] = relationship()

    @property
    def status_state(self) -> State:
        return PREDICTION_STATUS.state(self.status)

    @property
    def kind_state(self) -> State:
        return PREDICTION_KIND.state(self.kind)


class PredictionScore(db.Model):
    __tablename__ = "prediction_scores"
    __table_args__ = (
        CheckConstraint("probability >= 0 AND probability <= 1", name="probability_in_range"),
        Index("ix_prediction_scores_run_id_probability", "run_id", "probability"),
        Index("ix_prediction_scores_run_id_subject_id", "run_id", "subject_id", unique=True),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("prediction_runs.id", ondelete="CASCADE"))
    subject_id: Mapped[int]  # company id (kind exhibitor) or person id (kind visitor)
    probability: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    features: Mapped[dict] = mapped_column(JSON, default=dict)
