"""The pre-aggregated analytics figures: one snapshot row per edition, refreshed by Celery beat every
``REFRESH_MINUTES`` for editions in season (from ``SEASON_BEFORE`` days before opening to ``SEASON_AFTER`` after the
end) and on the organizer's demand. The analytics page and its JSON read the snapshot (one primary-key read);
a missing or outdated-shape snapshot is computed on the spot."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from celery import shared_task
from sqlalchemy import select

from ..core.models import Edition
from ..core.scoping import Scope
from ..extensions import db
from . import analytics
from .models_analytics import AnalyticsSnapshot

REFRESH_MINUTES = 10
SEASON_BEFORE = 120
SEASON_AFTER = 60
LARGE_EDITION = 20_000  # registrations from which the edition page's dashboard is read from the snapshot too


def refresh(scope: Scope, edition: Edition, *, now: datetime | None = None) -> AnalyticsSnapshot:
    """Compute the edition's figures again and store them (the caller commits)."""
    now = now or datetime.now(timezone.utc)
    data = analytics.edition_analytics(scope, edition, now=now)
    if data["editions"][-1]["registrations"] >= LARGE_EDITION:
        from .services import edition_dashboard

        data["dashboard"] = edition_dashboard(scope, edition, now=now)
    snapshot = db.session.get(AnalyticsSnapshot, edition.id)
    if snapshot is None:
        snapshot = AnalyticsSnapshot(edition_id=edition.id, organizer_id=scope.organizer_id)
        db.session.add(snapshot)
    snapshot.computed_at, snapshot.data, snapshot.duration_ms = now, data, data["duration_ms"]
    db.session.flush()
    return snapshot


def current(scope: Scope, edition: Edition, *, now: datetime | None = None) -> AnalyticsSnapshot:
    """The edition's stored figures, computed first when there are none (or of an older shape)."""
    snapshot = db.session.get(AnalyticsSnapshot, edition.id)
    if snapshot is None or snapshot.organizer_id != scope.organizer_id \
            or (snapshot.data or {}).get("version") != analytics.VERSION:
        snapshot = refresh(scope, edition, now=now)
        db.session.commit()
    return snapshot


def dashboard(scope: Scope, edition: Edition) -> dict:
    """The edition page's dashboard figures (services.edition_dashboard): computed on each request for an edition
    under ``LARGE_EDITION`` registrations, else read from the snapshot (its time in ``as_of``) while it is of
    today in the edition's zone."""
    from zoneinfo import ZoneInfo

    from .services import edition_dashboard

    snapshot = db.session.get(AnalyticsSnapshot, edition.id)
    if snapshot is not None and snapshot.organizer_id == scope.organizer_id and "dashboard" in (snapshot.data or {}):
        zone = ZoneInfo(edition.timezone)
        if snapshot.computed_at.astimezone(zone).date() == datetime.now(timezone.utc).astimezone(zone).date():
            return {**snapshot.data["dashboard"], "as_of": snapshot.computed_at.isoformat()}
    return edition_dashboard(scope, edition)


def stale(snapshot: AnalyticsSnapshot, now: datetime | None = None) -> bool:
    now = now or datetime.now(timezone.utc)
    return now - snapshot.computed_at > timedelta(minutes=2 * REFRESH_MINUTES)


def in_season(now: datetime | None = None):
    today = (now or datetime.now(timezone.utc)).date()
    return select(Edition).where(Edition.starts_on <= today + timedelta(days=SEASON_BEFORE),
                                 Edition.ends_on >= today - timedelta(days=SEASON_AFTER))


@shared_task
def refresh_analytics() -> int:
    """Celery beat: refresh the snapshots of every edition in season, each in its own transaction."""
    done = 0
    for edition in db.session.scalars(in_season()).all():
        refresh(Scope(edition.organizer_id), edition)
        db.session.commit()
        done += 1
    return done


@shared_task
def refresh_edition(edition_id: int) -> int | None:
    """Compute one edition's figures again (the page's "Compute again"); returns the time it took (ms)."""
    edition = db.session.get(Edition, edition_id)
    if edition is None:
        return None
    snapshot = refresh(Scope(edition.organizer_id), edition)
    db.session.commit()
    return snapshot.duration_ms
