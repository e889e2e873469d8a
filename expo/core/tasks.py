"""Celery on the app: a task base that runs in the app context and dispatches after the commit.

A service that asks for background work calls ``some_task.delay(id)`` in the middle of its
transaction; the base class holds the message until that transaction commits (and drops it on a
rollback), so a worker never reads rows that are not there yet. Outside a transaction it sends at once.
Tasks take ids, never objects, and re-read their rows in the worker.
"""
from __future__ import annotations

from celery import Celery, Task, shared_task
from flask import Flask, current_app, has_app_context

from ..extensions import db
from . import services
from .db import on_commit
from .models import MailMessage


def init_celery(app: Flask) -> Celery:
    class AppTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

        def apply_async(self, args=None, kwargs=None, **options):
            if has_app_context() and db.session().in_transaction():
                on_commit(lambda: Task.apply_async(self, args, kwargs, **options))
                return None
            return super().apply_async(args, kwargs, **options)

    celery_app = Celery(app.name, task_cls=AppTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


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
