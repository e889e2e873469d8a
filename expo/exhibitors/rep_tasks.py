"""The reps' follow-ups in the background: overdue ones mailed to the managers, once each (Celery beat, declared
in expo.exhibitors PARTS["reps"]). The task base holds every ``delay`` until the commit."""
from __future__ import annotations

from celery import shared_task

from ..core.db import utcnow
from ..core.tasks import deliver_mail
from ..extensions import db
from . import followups


@shared_task
def escalate_overdue_follow_ups() -> int:
    """Beat: claim the follow-ups overdue by a day that no manager heard of, mail the managers of each organizer
    one list, commit, hand the mails to delivery. Returns how many mails were queued."""
    messages = followups.escalate_overdue(utcnow())
    for message in messages:
        deliver_mail.delay(message.id)
    db.session.commit()
    return len(messages)
