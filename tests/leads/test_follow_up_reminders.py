"""Follow-up reminders (expo.leads.follow_up.send_reminders, Celery beat follow_up_tasks): each exhibitor user gets
one mail listing their open leads whose next step's day has come in the edition's zone — once per lead and
date, with frozen time; a new date reminds again; won and lost leads, other exhibitors' leads never show."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from expo.core.models import AuditEntry, MailMessage
from expo.core.registry import registry
from expo.extensions import db
from expo.leads import follow_up, follow_up_tasks

ZONE = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 3)
# 08:00 on the 3rd in Shanghai is still the 2nd in UTC (00:00 UTC).
MORNING = datetime(2026, 12, 3, 8, 0, tzinfo=ZONE).astimezone(timezone.utc)


@pytest.fixture
def world(make):
    t = make.tenant("A", exhibitors=2, visitors=4)
    _ex, admin, booth = t.exhibitors[0]
    t.admin, t.booth = admin, booth
    t.second = t.capture(booth, t.registrations[1])
    t.third = t.capture(admin, t.registrations[2])  # captured by the admin
    other_ex, other_admin, other_booth = t.exhibitors[1]
    t.foreign = t.capture(other_booth, t.registrations[0])
    db.session.commit()
    return t


def _mails():
    return list(db.session.scalars(select(MailMessage).order_by(MailMessage.id)))


def test_reminders_once_per_lead_and_date(world):
    t = world
    follow_up.move(t.lead, "contacted", actor_id=t.booth.id, next_step_on=TODAY, now=MORNING - timedelta(days=2))
    follow_up.set_next_step(t.second, TODAY + timedelta(days=1), actor_id=t.booth.id)  # tomorrow
    follow_up.set_next_step(t.third, TODAY - timedelta(days=2), actor_id=t.admin.id)  # overdue
    follow_up.set_next_step(t.foreign, TODAY, actor_id=t.exhibitors[1][1].id)  # another exhibitor's
    db.session.commit()

    # the evening before (Shanghai): nothing due today yet except the overdue one
    assert len(follow_up.send_reminders(MORNING - timedelta(hours=12))) == 1
    db.session.commit()
    assert [m.recipient for m in _mails()] == [t.admin.email]
    assert f"/portal/leads/{t.third.id}" in _mails()[0].body_text and "(overdue)" in _mails()[0].body_text

    messages = follow_up.send_reminders(MORNING)
    db.session.commit()
    assert sorted(m.recipient for m in messages) == sorted([t.booth.email, t.exhibitors[1][2].email])
    booth_mail = next(m for m in messages if m.recipient == t.booth.email)
    assert f"/portal/leads/{t.lead.id}" in booth_mail.body_text
    assert f"/portal/leads/{t.second.id}" not in booth_mail.body_text  # tomorrow's
    assert f"/portal/leads/{t.foreign.id}" not in booth_mail.body_text  # the other exhibitor's, mailed to its own
    assert t.registrations[0].person.name in booth_mail.body_text  # the visitor shares their name

    # once: the same morning again, and the next days, mail nothing for these leads
    assert follow_up.send_reminders(MORNING) == []
    assert follow_up.send_reminders(MORNING + timedelta(hours=30)) != []  # only the second lead, now due
    db.session.commit()
    assert follow_up.send_reminders(MORNING + timedelta(days=3)) == []
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "lead.reminded")) == 4

    # a new date reminds again, on that date
    follow_up.set_next_step(t.lead, TODAY + timedelta(days=7), actor_id=t.booth.id)
    db.session.commit()
    assert follow_up.send_reminders(MORNING + timedelta(days=6)) == []
    assert [m.recipient for m in follow_up.send_reminders(MORNING + timedelta(days=7))] == [t.booth.email]


def test_closed_leads_and_inactive_users(world):
    t = world
    follow_up.set_next_step(t.lead, TODAY, actor_id=t.booth.id)
    follow_up.set_next_step(t.second, TODAY, actor_id=t.booth.id)
    follow_up.move(t.second, "contacted", actor_id=t.booth.id, now=MORNING)
    follow_up.move(t.second, "won", actor_id=t.booth.id, now=MORNING)  # closed: its next step is cleared
    t.booth.active = False  # left the company: the exhibitor's admins hear of its leads
    db.session.commit()
    messages = follow_up.send_reminders(MORNING)
    assert [m.recipient for m in messages] == [t.admin.email]
    assert f"/portal/leads/{t.lead.id}" in messages[0].body_text
    assert f"/portal/leads/{t.second.id}" not in messages[0].body_text


def test_the_beat_task_commits_and_queues(world, monkeypatch):
    t = world
    follow_up.set_next_step(t.lead, TODAY, actor_id=t.booth.id)
    db.session.commit()
    monkeypatch.setattr(follow_up_tasks, "utcnow", lambda: MORNING)
    assert follow_up_tasks.send_follow_up_reminders() == 1
    assert follow_up_tasks.send_follow_up_reminders() == 0
    db.session.expire_all()
    assert len(_mails()) == 1 and _mails()[0].recipient == t.booth.email
    entry = registry.beat_schedule()["lead-follow-up-reminders"]
    assert entry["task"] == follow_up_tasks.send_follow_up_reminders.name
