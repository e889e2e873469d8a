"""Sending campaigns in the background: one batch per run, at most the rate per minute; the next batch is
scheduled a minute later until nobody is left (and the beat's ``send_due_batches`` catches a lost one)."""
from celery import shared_task

from ..core.tasks import deliver_mail
from ..extensions import db
from . import services


@shared_task
def send_batch(campaign_id: int) -> int:
    """Mail one batch of the campaign's pending recipients; returns how many mails were queued."""
    batch = services.send_batch(campaign_id)
    for message_id in batch.message_ids:
        deliver_mail.delay(message_id)  # held until the commit below
    if batch.ran and batch.more:
        send_batch.apply_async((campaign_id,), countdown=services.BATCH_INTERVAL.total_seconds())
    db.session.commit()
    return len(batch.message_ids)


@shared_task
def send_due_batches() -> int:
    """Beat, every minute: a batch for every campaign that is sending and whose minute is over."""
    sent = 0
    for campaign_id in services.due_campaigns():
        sent += send_batch(campaign_id)
    return sent


@shared_task
def send_due_digests() -> int:
    """Beat, every hour: the next issue of every repeating digest whose period is over (campaigns.digests)."""
    from . import digests

    started = digests.send_due()
    db.session.commit()  # each new issue's first batch is handed to the worker after this commit
    return len(started)
