"""Celery tasks of recommendations: a full run over an edition (asked from the organizer's page, the CLI or the
demo), and the beat's refresh of editions computed before (full when exhibitors' offers changed, else
incremental for the registrations changed since the last run)."""
from __future__ import annotations

import logging

from celery import shared_task

from ..core.models import Edition
from ..extensions import db

log = logging.getLogger(__name__)


@shared_task
def compute_edition(edition_id: int) -> int | None:
    from . import services

    edition = db.session.get(Edition, edition_id)
    if edition is None:
        return None
    try:
        stored = services.compute(edition)
    except Exception as error:  # the run is marked failed with its reason for the organizer's page
        db.session.rollback()
        log.exception("matchmaking run of edition %s failed", edition_id)
        services.fail_run(db.session.get(Edition, edition_id), f"{type(error).__name__}: {error}")
        db.session.commit()
        return None  # on the page as "failed" with its reason; the next run starts afresh
    db.session.commit()
    return stored


@shared_task
def refresh_recommendations() -> int:
    """Every few minutes: runs whose worker died (queued/running too long) are marked failed, then each edition
    computed before (or failed) gets what changed since — each edition in its own try and commit, a failure
    marked on its settings (status failed, its reason) without stopping the others."""
    from . import services

    services.expire_stale_runs()
    done = 0
    for edition_id in services.editions_to_refresh():
        try:
            edition = db.session.get(Edition, edition_id)
            if services.refresh(edition) is not None:
                done += 1
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            log.exception("matchmaking refresh of edition %s failed", edition_id)
            try:
                services.fail_run(db.session.get(Edition, edition_id), f"{type(error).__name__}: {error}")
            except Exception:  # noqa: BLE001 (the next edition still gets its turn)
                db.session.rollback()
                log.exception("could not mark the refresh of edition %s failed", edition_id)
    return done


@shared_task
def run_backtest(edition_id: int) -> None:
    from . import services

    edition = db.session.get(Edition, edition_id)
    if edition is None:
        return
    try:
        services.store_backtest(edition)
    except Exception as error:
        db.session.rollback()
        log.exception("matchmaking backtest of edition %s failed", edition_id)
        services.store_backtest_error(db.session.get(Edition, edition_id), f"{type(error).__name__}: {error}")
    db.session.commit()
