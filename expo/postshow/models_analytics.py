"""Edition analytics (issue 11): the pre-aggregated figures of an edition's analytics page, and the index the
exhibitor-results query needs at millions of leads."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import UTCDateTime, utcnow
from ..extensions import db
from ..leads.models import Lead


class AnalyticsSnapshot(db.Model):
    """One edition's analytics figures (codes and numbers only: labels and links are made per request), computed
    by grouped queries and refreshed by the Celery beat task ``refresh_analytics`` or on the organizer's demand."""

    __tablename__ = "analytics_snapshots"

    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[int] = mapped_column(default=0)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


# Leads per exhibitor with their rating, read from the index alone (the exhibitor-results query).
Index("ix_leads_exhibitor_id_rating", Lead.exhibitor_id, Lead.rating)
