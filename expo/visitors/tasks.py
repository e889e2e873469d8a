"""Background work for visitors. Tasks take ids and re-read rows in the worker."""
from celery import shared_task

from ..core.services import on_commit
from ..core.tasks import deliver_mail
from ..extensions import db
from . import notifications


@shared_task
def send_confirmation(registration_id: int) -> None:
    """Put the confirmation (with the badge) in the outbox, then hand it to delivery."""
    message = notifications.confirmation_mail(registration_id)
    if message is None:
        return
    message_id = message.id
    on_commit(lambda: deliver_mail.delay(message_id))
    db.session.commit()
