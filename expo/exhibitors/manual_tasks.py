"""The exhibitor manual in the background: reminders before a form's deadline (Celery beat, declared in
expo.exhibitors PARTS["manual"]). One mail per exhibitor admin, once per form and exhibitor; the tasks re-read
their rows and commit once per exhibitor reminded."""
from __future__ import annotations

from celery import shared_task
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from ..core.db import utcnow
from ..core.tasks import deliver_mail
from ..extensions import db
from . import manual

FALLBACK_URL = "http://127.0.0.1:5000"


def _render(user, form, exhibitor, edition) -> tuple[str, str]:
    base = (current_app.config.get("PUBLIC_URL") or FALLBACK_URL).rstrip("/")
    with force_locale(user.locale or "en"):
        subject = _("Reminder: %(form)s is due on %(date)s", form=form.title, date=form.deadline.isoformat())
        body = render_template("exhibitors/manual_reminder_mail.txt", user=user, form=form, exhibitor=exhibitor,
                               edition=edition, url=f"{base}/portal/manual/forms/{form.id}")
    return subject, body


@shared_task
def send_manual_reminders() -> int:
    """Beat: remind the exhibitors who have not submitted a form whose reminder day has come. Returns the
    number of (form, exhibitor) reminders sent."""
    now = utcnow()
    sent = 0
    for form_id, exhibitor_id in manual.due_reminders(now):
        messages = manual.queue_reminder(form_id, exhibitor_id, _render, now)
        if messages is None:
            continue
        for message in messages:
            deliver_mail.delay(message.id)
        db.session.commit()
        sent += 1
    db.session.commit()
    return sent
