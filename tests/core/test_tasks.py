"""The task base (expo.core.tasks): a task asked for inside a transaction is sent when that transaction
commits, and never when it rolls back — the worker never reads rows that are not there."""
from __future__ import annotations

from expo.core.models import MailMessage
from expo.extensions import db
from expo.visitors import services as visitor_services
from expo.visitors.models import Registration

from ..conftest import count


def _register(edition, email):
    return visitor_services.register(edition, visitor_services.RegistrationData(
        name="李娜", email=email, category="buyer", consent=True))


def test_a_task_waits_for_the_commit(app, make):
    edition = make.edition()
    db.session.commit()
    _register(edition, "lina@example.cn")
    db.session.flush()
    assert count(MailMessage) == 0  # asked for, not sent: the registration is not committed yet
    db.session.commit()
    db.session.expire_all()
    assert [m.recipient for m in db.session.query(MailMessage)] == ["lina@example.cn"]


def test_a_rolled_back_transaction_sends_nothing(app, make):
    edition = make.edition()
    db.session.commit()
    _register(edition, "gone@example.cn")
    db.session.rollback()
    db.session.commit()  # a later commit does not send what the rollback dropped
    assert count(Registration) == 0 and count(MailMessage) == 0
