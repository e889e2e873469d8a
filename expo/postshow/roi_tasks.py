"""The exhibitors' ROI reports mailed in the background (the organizer's button on the edition report)."""
from __future__ import annotations

from celery import shared_task

from ..core.models import Edition
from ..core.services import ServiceError
from ..extensions import db
from . import roi_report


@shared_task
def mail_roi_reports(edition_id: int, actor_id: int | None = None) -> int:
    """Render and queue every participating exhibitor's report, commit, then hand the mails to delivery.
    Returns the mails queued (0 when the edition is unknown, not over, or mailed already)."""
    from ..core.tasks import deliver_mail

    edition = db.session.get(Edition, edition_id)
    if edition is None:
        return 0
    try:
        queued = roi_report.mail_reports(edition, actor_id=actor_id)
    except ServiceError:
        db.session.rollback()
        return 0
    db.session.commit()
    for message_id in queued:
        deliver_mail.delay(message_id)
    return len(queued)
