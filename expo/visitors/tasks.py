"""Background work for visitors. Tasks take ids and re-read rows in the worker; the task base
(expo.core.tasks) holds every ``delay`` until the caller's transaction has committed."""
from celery import shared_task

from ..core.tasks import deliver_mail
from ..extensions import db
from . import notifications


@shared_task
def send_confirmation(registration_id: int, public_url: str | None = None, promoted: bool = False) -> None:
    """Put the confirmation (with the badge) in the outbox, then hand it to delivery. ``promoted``: the
    visitor comes off the waiting list (the mail says a place became free)."""
    message = notifications.confirmation_mail(registration_id, public_url, promoted=promoted)
    if message is None:
        return
    deliver_mail.delay(message.id)
    db.session.commit()


@shared_task
def send_registration_link(registration_id: int, public_url: str | None = None) -> None:
    """The link again, to an already registered address typed into the public form (or "send it again")."""
    message = notifications.registration_link_mail(registration_id, public_url)
    if message is None:
        return
    deliver_mail.delay(message.id)
    db.session.commit()


@shared_task
def send_status_mail(registration_id: int, kind: str, public_url: str | None = None) -> None:
    """Waitlisted, waiting for approval, refused or cancelled at the visitor's request: told by mail (policy)."""
    from . import policy

    message = policy.status_mail(registration_id, kind, public_url)
    if message is None:
        return
    deliver_mail.delay(message.id)
    db.session.commit()
