"""Celery task of the predictions: one run (asked from the organizer's page with "Compute now")."""
from __future__ import annotations

import logging

from celery import shared_task

from ..extensions import db

log = logging.getLogger(__name__)


@shared_task
def compute_predictions(run_id: int) -> str | None:
    from . import backtest
    from .models_predictions import PredictionRun

    run = db.session.get(PredictionRun, run_id)
    if run is None or run.status != "queued":
        return None
    try:
        backtest.compute(run.edition, run.kind, run=run)
    except Exception as error:  # the run is marked failed with its reason for the organizer's page
        db.session.rollback()
        log.exception("prediction run %s failed", run_id)
        run = db.session.get(PredictionRun, run_id)
        backtest.fail(run, f"{type(error).__name__}: {error}")
    db.session.commit()
    return run.status
