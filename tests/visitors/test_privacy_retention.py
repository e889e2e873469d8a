"""Retention (issue 6): the organizer sets, per edition, how many months after the show its visitors' personal
data is kept; then the beat task (or `expo shred --due`) shreds it. A visitor who also registered for an edition
still kept keeps their person record: only this edition's registration-level details go. Dates are moved, the
clock is not waited for."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from expo.cli import main
from expo.core import services as core
from expo.core.models import AuditEntry, Edition
from expo.extensions import db
from expo.leads.models import Lead
from expo.visitors import privacy
from expo.visitors import services as visitors
from expo.visitors.models import Person, Registration
from expo.visitors.privacy_tasks import shred_due_personal_data

from ..conftest import Browser, count


def _move(edition: Edition, *, ended_days_ago: int) -> None:
    """The edition took place long ago: its last day was ``ended_days_ago`` days before today."""
    edition.ends_on = date.today() - timedelta(days=ended_days_ago)
    edition.starts_on = edition.ends_on - timedelta(days=3)
    edition.status = "closed"


def _world(make):
    """An edition that ended 400 days ago with a retention of 12 months: one visitor came only then, one came
    again to this year's edition (kept: no retention set), and an exhibitor's lead of each."""
    t = make.tenant("A", visitors=0, leads=False)
    old = make.edition(t.organizer, show=t.show, name="Expo A long ago")
    exhibitor = make.exhibitor(old)
    booth = make.user("booth_staff", exhibitor=exhibitor)
    once = make.registration(old, name="Once Only", email="once@example.com", phone="+86 139 1111 2222",
                             answers={"Budget": "2 million"})
    twice = make.registration(old, name="Twice Came", email="twice@example.com", company="Returning Co")
    again = make.registration(t.edition, name="Twice Came", email="twice@example.com", company="Returning Co")
    t.capture(booth, once)
    t.capture(booth, twice)
    _move(old, ended_days_ago=400)
    core.set_retention(old, 12)
    db.session.commit()
    return t, old, once, twice, again


def test_the_organizer_sets_the_retention_period_on_the_edition_page(app, make):
    t = make.tenant("A", visitors=0, leads=False)
    db.session.commit()
    owner = Browser(app, t.users["owner"])

    response = owner.post(f"/org/editions/{t.edition.id}/retention", data={"retention_months": "6"})

    assert response.status_code == 302
    db.session.expire_all()
    assert t.edition.retention_months == 6
    page = owner.get(f"/org/editions/{t.edition.id}").get_data(as_text=True)
    assert "Kept for 6 months after the last show day" in page
    assert core.shred_on(t.edition) == core.add_months(t.edition.ends_on, 6) + timedelta(days=1)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "edition.retention"))
    assert entry.details == {"from": None, "to": 6} and entry.user_id == t.users["owner"].id
    # emptied: kept until erased one by one; out of range: an error next to the field
    owner.post(f"/org/editions/{t.edition.id}/retention", data={"retention_months": ""})
    db.session.expire_all()
    assert t.edition.retention_months is None
    assert owner.post(f"/org/editions/{t.edition.id}/retention",
                      data={"retention_months": "-1"}).status_code == 200
    assert Browser(app, t.users["sales"]).post(f"/org/editions/{t.edition.id}/retention",
                                               data={"retention_months": "1"}).status_code == 403


def test_months_are_counted_in_calendar_months():
    assert core.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert core.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert core.add_months(date(2026, 11, 30), 14) == date(2028, 1, 30)
    assert core.add_months(date(2026, 5, 5), 0) == date(2026, 5, 5)


def test_an_edition_is_due_only_after_its_retention_period(make):
    edition = make.edition()
    assert privacy.due_editions() == []  # no period set: kept
    core.set_retention(edition, 1)
    edition.ends_on = core.add_months(date.today(), -1)  # the period ends today: not yet
    edition.starts_on = edition.ends_on
    assert privacy.due_editions() == []
    edition.ends_on = edition.starts_on = edition.ends_on - timedelta(days=1)
    assert privacy.due_editions() == [edition]
    assert privacy.due_editions(today=date.today() - timedelta(days=1)) == []


def test_the_beat_task_shreds_a_due_edition_and_a_returning_visitor_keeps_their_person(make):
    t, old, once, twice, again = _world(make)
    counts = (count(Registration), count(Lead), count(Person))
    db.session.commit()  # outside a transaction, delay() sends at once (inside, it would wait for the commit)

    done = shred_due_personal_data.delay().get()  # the real task, through Celery (eager in the tests)

    assert done == [{"edition_id": old.id, "registrations": 2, "persons": 1}]
    db.session.expire_all()
    assert old.shredded_at is not None
    # the visitor who came only then: erased altogether
    person = db.session.get(Person, once.person_id)
    assert (person.name, person.email, person.phone, person.erased_at is not None) == ("", None, "", True)
    assert db.session.get(Registration, once.id).answers == {}
    # the returning visitor keeps their person and this year's registration; the old one lost its details
    returning = db.session.get(Person, twice.person_id)
    assert (returning.name, returning.email, returning.erased_at) == ("Twice Came", "twice@example.com", None)
    old_registration, kept = db.session.get(Registration, twice.id), db.session.get(Registration, again.id)
    assert old_registration.erased_at is not None and old_registration.company_as_given == ""
    assert visitors.visible_to_exhibitor(old_registration) == {"category": "buyer", "shared": False}
    assert (kept.erased_at, kept.company_as_given, kept.share_with_exhibitors) == (None, "Returning Co", True)
    assert (count(Registration), count(Lead), count(Person)) == counts  # statistics stay
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "edition.shredded"))
    assert (entry.object_id, entry.details) == (old.id, {"registrations": 2, "persons": 1})
    # a second run has nothing to do
    db.session.commit()
    assert shred_due_personal_data.delay().get() == []


def test_a_later_shred_of_the_returning_visitors_last_edition_erases_them(make):
    t, old, _once, twice, again = _world(make)
    privacy.shred_edition(old)
    _move(t.edition, ended_days_ago=40)
    core.set_retention(t.edition, 1)
    db.session.commit()

    shredded = privacy.shred_edition(t.edition)

    assert (shredded.registrations, shredded.persons) == (1, 1)
    db.session.expire_all()
    assert db.session.get(Person, twice.person_id).email is None


def test_expo_shred_lists_then_shreds_the_due_editions(app, make):
    _t, old, once, _twice, _again = _world(make)
    runner = app.test_cli_runner()

    listed = runner.invoke(main, ["shred"])
    assert listed.exit_code == 0, listed.output
    assert f"#{old.id} Expo A long ago" in listed.output and "1 edition(s) due" in listed.output
    db.session.expire_all()
    assert db.session.get(Person, once.person_id).email == "once@example.com"  # listing shreds nothing

    result = runner.invoke(main, ["shred", "--due"])

    assert result.exit_code == 0, result.output
    assert "2 registration(s) shredded, 1 visitor(s) erased" in result.output
    db.session.expire_all()
    assert db.session.get(Person, once.person_id).email is None


def test_the_beat_schedule_runs_the_shredder(app):
    celery = app.extensions["celery"]
    entries = [entry for entry in celery.conf.beat_schedule.values()
               if entry["task"] == "expo.visitors.privacy_tasks.shred_due_personal_data"]
    assert entries and entries[0]["schedule"] <= 24 * 3600
    assert "expo.visitors.privacy_tasks.shred_due_personal_data" in celery.tasks


def test_the_shredded_edition_page_says_so(app, make):
    t, old, *_rest = _world(make)
    privacy.shred_edition(old)
    db.session.commit()
    page = Browser(app, t.users["owner"]).get(f"/org/editions/{old.id}").get_data(as_text=True)
    assert "Shredded on" in page
    assert db.session.scalar(select(func.count(Registration.id)).where(Registration.edition_id == old.id)) == 2
