"""Badges in bulk, in the worker: one task per job (see visitors.badge_layouts.run_batch)."""
from celery import shared_task

from ..extensions import db


@shared_task
def print_badges(job_id: int) -> int:
    from ..core import jobs
    from .badge_layouts import run_batch

    try:
        return run_batch(job_id)
    except Exception as error:  # the job page must say it failed, whatever happened
        db.session.rollback()
        jobs.fail(job_id, f"{type(error).__name__}: {error}")
        raise
