"""Lead follow-up reminders in the background (Celery beat, declared in expo.leads MODULE): each exhibitor user
gets one mail listing their leads whose next step's day has come, each lead once per date. The task base holds
every ``delay`` until the commit."""
from __future__ import annotations

from celery import shared_task

from ..core.db import utcnow
from ..core.tasks import deliver_mail
from ..extensions import db
from . import follow_up


@shared_task
def send_follow_up_reminders() -> int:
    """Beat: claim the due reminders, queue the mails, commit, hand them to delivery. Returns the mails queued."""
    messages = follow_up.send_reminders(utcnow())
    for message in messages:
        deliver_mail.delay(message.id)
    db.session.commit()
    return len(messages)
