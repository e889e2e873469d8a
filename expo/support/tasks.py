"""Support tickets in the background: overdue tickets escalated to the organizer's managers, once each (Celery
beat, declared in expo/support/ticket_part.py). The task base holds every ``delay`` until the commit."""
from __future__ import annotations

from datetime import datetime

from celery import shared_task

from ..core.db import utcnow
from ..core.tasks import deliver_mail
from ..extensions import db
from . import services


def run_escalation(now: datetime | None = None) -> int:
    """Claim the overdue tickets no manager heard of, mail the managers, commit, hand the mails to delivery.
    Returns how many mails were queued. ``now``: frozen time in tests."""
    messages = services.escalate_overdue(now or utcnow())
    for message in messages:
        deliver_mail.delay(message.id)
    db.session.commit()
    return len(messages)


@shared_task
def escalate_overdue_tickets() -> int:
    return run_escalation()
