"""Core background work: mail delivery."""
from celery import shared_task
from flask import current_app

from ..extensions import db
from . import services
from .models import MailMessage


@shared_task(bind=True, max_retries=5)
def deliver_mail(self, message_id: int) -> None:
    message = db.session.get(MailMessage, message_id)
    if message is None or message.status == "sent":
        return
    try:
        services.deliver_mail(message, current_app.config["SMTP_URL"], current_app.config["MAIL_FROM"])
    except OSError as exc:
        db.session.commit()  # keep the failure on record
        raise self.retry(exc=exc, countdown=min(600, 10 * 2 ** self.request.retries)) from exc
    except Exception:
        db.session.commit()
        raise
    db.session.commit()
