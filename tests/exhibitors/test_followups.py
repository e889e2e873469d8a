"""Follow-ups (R16): the Today page (overdue, today, the next days, in the edition's zone), done and put off,
and the escalation of overdue ones to the managers by mail — with frozen time, once per follow-up."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from expo.core.models import Activity, AuditEntry, MailMessage, Organizer
from expo.core.registry import registry
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.exhibitors import followups, rep_tasks, services
from expo.exhibitors.rep_models import FollowUp
from expo.extensions import db

from ..conftest import Browser, redirect_path

ZONE = ZoneInfo("Asia/Shanghai")
# Frozen "now": 2026-12-01 10:00 in Shanghai (02:00 UTC).
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZONE).astimezone(timezone.utc)
TODAY = date(2026, 12, 1)


@pytest.fixture
def frozen(monkeypatch):
    """Freeze the clock of the follow-ups and of their beat task at ``moment[0]`` (tests move it)."""
    moment = [NOW]
    monkeypatch.setattr(followups, "utcnow", lambda: moment[0])
    monkeypatch.setattr(rep_tasks, "utcnow", lambda: moment[0])
    return moment


def _world(make):
    edition = make.edition(starts_on=TODAY + timedelta(days=60))
    organizer = db.session.get(Organizer, edition.organizer_id)
    rep = make.user("sales", organizer)
    exhibitor = services.add_exhibitor(Scope(organizer.id), edition, "Foshan Sofa Co", status="prospect")
    exhibitor.sales_rep_id = rep.id
    db.session.flush()
    return edition, organizer, rep, exhibitor


def _add(edition, exhibitor, title, day, at=time(9, 0), **kwargs):
    return followups.add_follow_up(Scope(edition.organizer_id), exhibitor, title, day, at=at, now=NOW, **kwargs)


def test_the_today_page_groups_by_day_in_the_editions_zone(make, frozen):
    edition, _organizer, rep, exhibitor = _world(make)
    scope = Scope(edition.organizer_id)
    late = _add(edition, exhibitor, "Send the floor plan", TODAY - timedelta(days=2))
    earlier_today = _add(edition, exhibitor, "Call at 8", TODAY, at=time(8, 0))
    later_today = _add(edition, exhibitor, "Call at 16", TODAY, at=time(16, 0))
    tomorrow = _add(edition, exhibitor, "Visit", TODAY + timedelta(days=1))
    # 23:30 in Shanghai on day +3 is 15:30 UTC on day +3: still day +3 on the page.
    night = _add(edition, exhibitor, "Late mail", TODAY + timedelta(days=3), at=time(23, 30))
    far = _add(edition, exhibitor, "Contract", TODAY + timedelta(days=20))
    done = _add(edition, exhibitor, "Done already", TODAY)
    followups.complete(done, actor_id=rep.id, now=NOW)
    page = followups.today_page(scope, edition, rep.id, now=NOW)
    assert page.today == TODAY
    assert page.overdue == [late]
    assert page.due_today == [earlier_today, later_today]
    assert page.upcoming == [(TODAY + timedelta(days=1), [tomorrow]), (TODAY + timedelta(days=3), [night])]
    assert page.later == 1 and far not in page.due_today
    assert page.done_today == [done]
    assert followups.is_overdue(earlier_today, NOW) and not followups.is_overdue(later_today, NOW)
    # Another rep's page is empty; the team's page has them all.
    other = make.user("sales", db.session.get(Organizer, edition.organizer_id))
    assert followups.today_page(scope, edition, other.id, now=NOW).open_count == 0
    assert followups.today_page(scope, edition, None, now=NOW).open_count == 6


def test_done_snooze_and_reopen(make, frozen):
    edition, _organizer, rep, exhibitor = _world(make)
    late = _add(edition, exhibitor, "Send the floor plan", TODAY - timedelta(days=2), at=time(14, 30))
    # Put off from an overdue date: counted from today; the time of day stays.
    followups.snooze(late, 3, actor_id=rep.id, now=NOW)
    assert late.due_at.astimezone(ZONE) == datetime(2026, 12, 4, 14, 30, tzinfo=ZONE)
    # From a future date: counted from that date.
    followups.snooze(late, 1, actor_id=rep.id, now=NOW)
    assert late.due_at.astimezone(ZONE).date() == date(2026, 12, 5) and late.snoozed == 2
    with pytest.raises(ServiceError):
        followups.snooze(late, 2, actor_id=rep.id, now=NOW)
    assert followups.complete(late, actor_id=rep.id, now=NOW)
    assert not followups.complete(late, actor_id=rep.id, now=NOW)  # once
    with pytest.raises(ServiceError):
        followups.snooze(late, 1, actor_id=rep.id, now=NOW)
    assert late.status == "done" and late.done_by_id == rep.id
    act = db.session.scalar(select(Activity).where(Activity.kind == "follow_up.done"))
    assert act.subject_id == exhibitor.company_id and act.details["title"] == "Send the floor plan"
    assert followups.reopen(late, actor_id=rep.id) and late.status == "open" and late.done_at is None
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "follow_ups")
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["follow_up.added", "follow_up.snoozed", "follow_up.snoozed", "followup.status",
                       "followup.status"]


def test_follow_ups_refuse_bad_input(make, frozen):
    edition, _organizer, rep, exhibitor = _world(make)
    scope = Scope(edition.organizer_id)
    for title, day, field in (("", TODAY, "title"), ("x" * 301, TODAY, "title"), ("ok\x00", TODAY, "title"),
                              ("ok", None, "due_on"), ("ok", date(1900, 1, 1), "due_on")):
        with pytest.raises(ServiceError) as error:
            followups.add_follow_up(scope, exhibitor, title, day, actor_id=rep.id)
        assert error.value.field == field
    with pytest.raises(ServiceError) as error:
        followups.add_follow_up(scope, exhibitor, "ok", TODAY, rep_id=make.user("sales").id)  # another organizer's
    assert error.value.field == "rep_id"
    # No rep named: the exhibitor's rep does it.
    assert followups.add_follow_up(scope, exhibitor, "ok", TODAY).rep_id == rep.id


def test_overdue_follow_ups_are_mailed_to_the_managers_once(app, make, frozen):
    edition, organizer, rep, exhibitor = _world(make)
    managers = [make.user("manager", organizer, email=f"boss{n}@example.com") for n in range(2)]
    make.user("owner", organizer, email="owner@example.com")
    late = _add(edition, exhibitor, "Send the floor plan", TODAY, at=time(9, 0))  # 09:00 today, Shanghai
    done = _add(edition, exhibitor, "Ticked off", TODAY - timedelta(days=5))
    followups.complete(done, actor_id=rep.id, now=NOW)
    # A second organizer, without a manager: its owner hears of its overdue follow-up.
    edition2, organizer2, _rep2, exhibitor2 = _world(make)
    make.user("owner", organizer2, email="owner2@example.com")
    other = _add(edition2, exhibitor2, "Other organizer's call", TODAY - timedelta(days=3))
    db.session.commit()

    assert rep_tasks.escalate_overdue_follow_ups() == 1  # only the other organizer's is a day overdue
    assert db.session.scalars(select(MailMessage.recipient)).all() == ["owner2@example.com"]
    frozen[0] = late.due_at + timedelta(hours=23)
    assert rep_tasks.escalate_overdue_follow_ups() == 0  # late by less than a day
    frozen[0] = late.due_at + timedelta(hours=24, minutes=1)
    assert rep_tasks.escalate_overdue_follow_ups() == 2  # one mail to each manager, not to the owner
    mails = db.session.scalars(select(MailMessage).where(MailMessage.organizer_id == organizer.id)
                               .order_by(MailMessage.id)).all()
    assert sorted(m.recipient for m in mails) == ["boss0@example.com", "boss1@example.com"]
    assert "Foshan Sofa Co" in mails[0].body_text and "Send the floor plan" in mails[0].body_text
    assert "Ticked off" not in mails[0].body_text and "Other organizer" not in mails[0].body_text
    assert f"/org/editions/{edition.id}/sales/today?rep={rep.id}" in mails[0].body_text
    # Idempotent: later runs mail nothing more, even once it is more overdue or put off and overdue again.
    frozen[0] += timedelta(days=2)
    assert rep_tasks.escalate_overdue_follow_ups() == 0
    db.session.expire_all()
    late = db.session.get(FollowUp, late.id)
    assert late.escalated_at is not None
    followups.snooze(late, 1, now=frozen[0])
    db.session.commit()
    frozen[0] += timedelta(days=5)
    assert rep_tasks.escalate_overdue_follow_ups() == 0
    assert db.session.scalar(select(db.func.count(MailMessage.id))) == 3
    assert db.session.get(FollowUp, other.id).escalated_at is not None
    assert managers


def test_the_escalation_runs_on_celery_beat():
    schedule = registry.beat_schedule()
    entry = schedule["sales-follow-ups-escalation"]
    assert entry["task"] == "expo.exhibitors.rep_tasks.escalate_overdue_follow_ups"
    assert entry["task"] == rep_tasks.escalate_overdue_follow_ups.name


# --- pages --------------------------------------------------------------------------------------------

def test_a_rep_plans_ticks_off_and_puts_off_follow_ups_in_the_pages(app, make):
    t = make.tenant("A", leads=False)
    rep, colleague = t.users["sales"], make.user("sales", t.organizer, email="colleague@example.com")
    t.exhibitor.sales_rep_id = rep.id
    db.session.commit()
    base = f"/org/editions/{t.edition.id}/sales"
    browser = Browser(app, rep)
    day = followups.local_today(t.edition) - timedelta(days=1)
    response = browser.post(f"{base}/follow-ups", data={"exhibitor_id": t.exhibitor.id, "title": "Call back",
                                                        "due_on": day.isoformat(), "due_time": "10:30"})
    assert redirect_path(response) == f"{base}/today"
    page = browser.get(f"{base}/today").get_data(as_text=True)
    assert "Call back" in page and t.exhibitor.company.name in page
    follow_up = db.session.scalar(select(FollowUp))
    assert follow_up.rep_id == rep.id and follow_up.due_at.astimezone(ZoneInfo(t.edition.timezone)).time() == time(10, 30)
    # Bad input: a clear answer, nothing stored.
    for data in ({"exhibitor_id": t.exhibitor.id, "title": "x", "due_on": "2026-13-45"},
                 {"exhibitor_id": "99999999999999999999", "title": "x", "due_on": day.isoformat()},
                 {"exhibitor_id": t.exhibitor.id, "title": "", "due_on": day.isoformat()},
                 {"exhibitor_id": t.exhibitor.id, "title": "x", "due_on": "1800-01-01"}):
        assert browser.post(f"{base}/follow-ups", data=data).status_code == 400
    assert db.session.scalar(select(db.func.count(FollowUp.id))) == 1
    # A colleague may not tick off someone else's follow-up; the rep and a manager may.
    assert Browser(app, colleague).post(f"{base}/follow-ups/{follow_up.id}/done").status_code == 403
    assert browser.post(f"{base}/follow-ups/{follow_up.id}/snooze", data={"days": "999999999999"}).status_code == 302
    assert browser.post(f"{base}/follow-ups/{follow_up.id}/snooze", data={"days": "3"}).status_code == 302
    # The manager leads the team: their Today page shows the team's follow-ups unless they pick their own.
    manager = Browser(app, t.users["manager"])
    done_button = f"follow-ups/{follow_up.id}/done"
    assert done_button in manager.get(f"{base}/today").get_data(as_text=True)
    assert done_button not in manager.get(f"{base}/today?rep={t.users['manager'].id}").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(FollowUp, follow_up.id).snoozed == 1
    assert Browser(app, t.users["manager"]).post(f"{base}/follow-ups/{follow_up.id}/done",
                                                 data={"back_rep": "all"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(FollowUp, follow_up.id).status == "done"
    team = browser.get(f"{base}/today?rep=all").get_data(as_text=True)
    assert "Call back" in team  # done today
    accounts = browser.get(f"{base}/accounts").get_data(as_text=True)
    assert t.exhibitor.company.name in accounts


def test_the_demo_has_reps_rules_assignments_and_overdue_follow_ups(app, ctx):
    from expo import demo
    from expo.core.demo import DEMO_DOMAIN, DEMO_PASSWORD
    from expo.core.models import Edition, User
    from expo.exhibitors.models import Exhibitor
    from expo.exhibitors.rep_models import AssignmentRule

    demo.generate(visitors=300, exhibitors=12, editions=2)
    db.session.commit()
    live = db.session.scalar(select(Edition).where(Edition.status == "live"))
    reps = db.session.scalars(select(User).where(User.role == "sales")).all()
    assert len(reps) == 3
    assert {r.kind for r in db.session.scalars(select(AssignmentRule))} == {"region", "round_robin"}  # noqa: E501
    live_exhibitors = db.session.scalars(select(Exhibitor).where(Exhibitor.edition_id == live.id)).all()
    assigned = [e for e in live_exhibitors if e.sales_rep_id]
    assert len(assigned) >= len(live_exhibitors) - 1 and {e.sales_rep_id for e in assigned} == {r.id for r in reps}
    sales = db.session.scalar(select(User).where(User.email == f"sales@{DEMO_DOMAIN}"))
    page = followups.today_page(Scope(live.organizer_id), live, sales.id)
    assert page.overdue and page.due_today and page.upcoming and page.done_today
    browser = Browser(app)
    from ..conftest import login

    login(browser.client, sales.email, DEMO_PASSWORD)
    for path in ("today", "accounts", "today?rep=all"):
        response = browser.get(f"/org/editions/{live.id}/sales/{path}")
        assert response.status_code == 200, path
    manager = Browser(app)
    login(manager.client, f"manager@{DEMO_DOMAIN}", DEMO_PASSWORD)
    for path in ("assignment", "performance"):
        assert manager.get(f"/org/editions/{live.id}/sales/{path}").status_code == 200, path
