"""Rebooking in the background: offers past their deadline expire (Celery beat, declared in the module)."""
from __future__ import annotations

from celery import shared_task

from ..extensions import db
from . import rebooking


@shared_task
def expire_rebooking_offers() -> int:
    expired = rebooking.expire_due()
    db.session.commit()
    return expired
