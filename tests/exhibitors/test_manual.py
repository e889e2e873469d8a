"""The exhibitor manual: forms with deadlines, the checklist, submit / lock / reopen, reminders with frozen time
(once per form and exhibitor), who is late, the CSV export, and the pages."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from expo.core.models import Activity, AuditEntry, MailMessage
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.exhibitors import manual, manual_tasks
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.manual_models import ManualReminder, ManualSubmission
from expo.extensions import db

from ..conftest import Browser, count, field_errors, redirect_path

# 2027-03-10 09:00 in Shanghai (UTC+8): the frozen "now" of these tests.
NOW = datetime(2027, 3, 10, 1, 0, tzinfo=timezone.utc)
FIELDS = [dict(label="Fascia name", type="text", required=True),
          dict(label="Sockets", type="number"),
          dict(label="Power", type="choice", choices="3 kW\n6 kW\n10 kW", required=True),
          dict(label="Night cleaning", type="yes_no")]


@pytest.fixture
def world(make):
    edition = make.edition(starts_on=date(2027, 4, 20), timezone="Asia/Shanghai")
    scope = Scope(edition.organizer_id)
    exhibitor = make.exhibitor(edition, "Lamp Works")
    other = make.exhibitor(edition, "Chair Co")
    prospect = exhibitor_services.add_exhibitor(Scope(edition.organizer_id), edition, "Maybe Ltd", status="prospect")
    admin = make.user("exhibitor_admin", exhibitor=exhibitor)
    booth = make.user("booth_staff", exhibitor=exhibitor)
    other_admin = make.user("exhibitor_admin", exhibitor=other)
    make.user("exhibitor_admin", exhibitor=prospect)
    manager = make.user("manager", organizer=type("O", (), {"id": edition.organizer_id})())
    fascia = manual.create_form(scope, edition, manual.FormData("Fascia name", date(2027, 3, 15), remind_days=7),
                                fields=FIELDS[:1] + FIELDS[2:])
    power = manual.create_form(scope, edition, manual.FormData("Power order", date(2027, 4, 1), mandatory=False,
                                                               remind_days=5), fields=FIELDS[1:3])
    db.session.commit()
    return dict(edition=edition, scope=scope, exhibitor=exhibitor, other=other, prospect=prospect, admin=admin,
                booth=booth, other_admin=other_admin, manager=manager, fascia=fascia, power=power)


GOOD = {"f1": "LAMP WORKS 灯具", "f2": "6 kW", "f3": "yes"}


def test_fields_are_checked(world):
    fascia = world["fascia"]
    assert [f["type"] for f in fascia.fields] == ["text", "choice", "yes_no"]
    with pytest.raises(ServiceError) as error:
        manual.add_field(fascia, "Colour", "choice", "red")
    assert error.value.field == "choices"
    with pytest.raises(ServiceError):
        manual.add_field(fascia, "", "text")
    with pytest.raises(ServiceError):
        manual.add_field(fascia, "X", "file")
    with pytest.raises(ServiceError) as error:
        manual.create_form(world["scope"], world["edition"], manual.FormData("", date(2027, 3, 1)))
    assert error.value.field == "title"
    with pytest.raises(ServiceError) as error:
        manual.create_form(world["scope"], world["edition"], manual.FormData("T", None))
    assert error.value.field == "deadline"
    with pytest.raises(ServiceError) as error:
        manual.create_form(world["scope"], world["edition"], manual.FormData("T", date(2027, 3, 1), remind_days=500))
    assert error.value.field == "remind_days"


def test_answers_are_validated_field_by_field(world):
    with pytest.raises(manual.AnswersInvalid) as error:
        manual.submit(world["fascia"], world["exhibitor"], {"f1": " ", "f2": "12 kW", "f3": "maybe"}, now=NOW)
    assert set(error.value.errors) == {"f1", "f2", "f3"}
    with pytest.raises(manual.AnswersInvalid) as error:
        manual.submit(world["power"], world["exhibitor"], {"f1": "1e999999", "f2": "3 kW"}, now=NOW)
    assert set(error.value.errors) == {"f1"}
    with pytest.raises(manual.AnswersInvalid):
        manual.submit(world["fascia"], world["exhibitor"], {**GOOD, "f1": "a\x00b"}, now=NOW)
    submission = manual.submit(world["power"], world["exhibitor"], {"f1": "1,200", "f2": "3 kW"}, now=NOW)
    assert submission.answers == {"f1": "1200", "f2": "3 kW"}


def test_checklist_submit_edit_until_deadline_then_locked_until_reopened(world):
    exhibitor, fascia = world["exhibitor"], world["fascia"]
    items = manual.checklist(exhibitor, NOW)
    assert [(i.form.title, i.state, i.days_left) for i in items] == [("Fascia name", "due", 5),
                                                                    ("Power order", "due", 22)]
    manual.submit(fascia, exhibitor, GOOD, actor_id=world["admin"].id, now=NOW)
    db.session.commit()
    assert manual.checklist(exhibitor, NOW)[0].state == "done"
    # still editable on the deadline day (until midnight in Shanghai)
    last_minute = datetime(2027, 3, 15, 15, 59, tzinfo=timezone.utc)
    manual.submit(fascia, exhibitor, {**GOOD, "f1": "LAMP WORKS"}, now=last_minute)
    db.session.commit()
    assert count(ManualSubmission) == 1
    after = datetime(2027, 3, 15, 16, 0, tzinfo=timezone.utc)
    with pytest.raises(ServiceError, match="locked"):
        manual.submit(fascia, exhibitor, GOOD, now=after)
    db.session.rollback()
    item = manual.checklist(exhibitor, after)[0]
    assert item.state == "done" and not item.editable
    # the other exhibitor never sent it: late
    assert manual.checklist(world["other"], after)[0].state == "late"
    manual.reopen(fascia, world["other"], actor_id=world["manager"].id)
    db.session.commit()
    item = manual.checklist(world["other"], after)[0]
    assert item.state == "reopened" and item.editable
    manual.submit(fascia, world["other"], GOOD, now=after)
    db.session.commit()
    assert manual.checklist(world["other"], after)[0].state == "done"
    with pytest.raises(ServiceError):  # sent again: locked again
        manual.submit(fascia, world["other"], GOOD, now=after)
    db.session.rollback()
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"manual.submitted", "manualsubmission.status", "manual.form_created"} <= actions
    timeline = db.session.scalars(select(Activity).where(Activity.kind == "manual.submitted")).all()
    assert {a.subject_id for a in timeline} == {exhibitor.company_id, world["other"].company_id}


def test_a_prospect_cannot_submit(world):
    with pytest.raises(ServiceError, match="contracted"):
        manual.submit(world["fascia"], world["prospect"], GOOD, now=NOW)


def test_reminders_with_frozen_time_once_per_form_and_exhibitor(world, monkeypatch):
    manual.submit(world["power"], world["other"], {"f1": "2", "f2": "3 kW"}, now=NOW)
    db.session.commit()

    def run(at):
        monkeypatch.setattr(manual_tasks, "utcnow", lambda: at)
        return manual_tasks.send_manual_reminders()

    # 2027-03-07 09:00 Shanghai: fascia's reminder day is 03-08 (7 days before 03-15): nothing yet
    assert run(datetime(2027, 3, 7, 1, 0, tzinfo=timezone.utc)) == 0
    # 03-07 16:30 UTC is 03-08 00:30 in Shanghai: the reminder day has come there
    assert run(datetime(2027, 3, 7, 16, 30, tzinfo=timezone.utc)) == 2  # fascia: both taking part, not the prospect
    mails = db.session.scalars(select(MailMessage).order_by(MailMessage.id)).all()
    assert {m.recipient for m in mails} == {world["admin"].email, world["other_admin"].email}
    assert all("Fascia name" in m.subject and "2027-03-15" in m.subject for m in mails)
    assert "/portal/manual/forms/" in mails[0].body_text
    assert run(NOW) == 0  # once only
    assert run(NOW + timedelta(days=1)) == 0
    # power order (03-27 is 5 days before 04-01): the other exhibitor sent it already
    assert run(datetime(2027, 3, 27, 2, 0, tzinfo=timezone.utc)) == 1
    assert db.session.scalar(select(ManualReminder.recipients).where(ManualReminder.form_id == world["power"].id)) == 1
    assert count(MailMessage) == 3
    # after the deadline: no more reminders (a new exhibitor joins late)
    late = exhibitor_services.add_exhibitor(world["scope"], world["edition"], "Late Co")
    db.session.commit()
    assert run(datetime(2027, 4, 2, 2, 0, tzinfo=timezone.utc)) == 0
    assert late.id


def test_reminder_goes_to_every_active_admin_but_not_booth_staff(world, make, monkeypatch):
    second = make.user("exhibitor_admin", exhibitor=world["exhibitor"])
    db.session.commit()
    monkeypatch.setattr(manual_tasks, "utcnow", lambda: NOW)
    manual_tasks.send_manual_reminders()
    recipients = set(db.session.scalars(select(MailMessage.recipient)))
    assert {world["admin"].email, second.email} <= recipients
    assert world["booth"].email not in recipients


def test_who_is_late_and_export(world):
    after = datetime(2027, 3, 16, 1, 0, tzinfo=timezone.utc)
    manual.submit(world["fascia"], world["exhibitor"], {**GOOD, "f1": "=HYPERLINK(1)"}, now=NOW)
    db.session.commit()
    report = manual.form_reports(world["scope"], world["edition"], after, only=world["fascia"])[0]
    assert [(r.exhibitor.company.name, r.state) for r in report.rows] == [("Chair Co", "late"),
                                                                          ("Lamp Works", "done")]
    text = manual.export_answers(world["scope"], world["edition"], world["fascia"], after)
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Company,Booth,State,Submitted at (UTC),Fascia name,Power,Night cleaning")
    assert "Chair Co" in lines[1] and "Late" in lines[1]
    assert "'=HYPERLINK(1)" in lines[2] and "Yes" in lines[2]  # formula-safe cells


def test_pages_exhibitor_fills_organizer_sees(app, world):
    admin = Browser(app, world["admin"])
    page = admin.get("/portal/manual").get_data(as_text=True)
    assert "Fascia name" in page and "Power order" in page
    form_id = world["fascia"].id
    response = admin.post(f"/portal/manual/forms/{form_id}", {"f1": "", "f2": "6 kW"})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "f1") == ["This field is required."]
    response = admin.post(f"/portal/manual/forms/{form_id}", GOOD)
    assert redirect_path(response) == "/portal/manual"
    page = admin.get("/portal/manual").get_data(as_text=True)
    assert 'data-state="done"' in page
    # another exhibitor's staff cannot see these answers; booth staff cannot fill forms
    assert Browser(app, world["booth"]).get("/portal/manual").status_code == 403
    manager = Browser(app, world["manager"])
    edition_id = world["edition"].id
    page = manager.get(f"/org/editions/{edition_id}/manual").get_data(as_text=True)
    assert "Fascia name" in page
    page = manager.get(f"/org/editions/{edition_id}/manual/forms/{form_id}").get_data(as_text=True)
    assert "LAMP WORKS 灯具" in page
    csv = manager.get(f"/org/editions/{edition_id}/manual/forms/{form_id}/answers.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    response = manager.post(f"/org/editions/{edition_id}/manual", {
        "form-title": "Catalogue entry", "form-deadline": "2027-03-30", "form-remind_days": "3",
        "form-mandatory": "y"})
    new_path = redirect_path(response)
    response = manager.post(new_path, {"field-label": "Entry text", "field-type": "text", "field-required": "y"})
    assert redirect_path(response) == new_path
    response = manager.post(new_path + "/reopen", {"exhibitor_id": "99999999999"})
    assert redirect_path(response) == new_path
    response = manager.post(new_path + "/reopen", {"exhibitor_id": str(world["other"].id)})
    assert redirect_path(response) == new_path
    assert admin.get("/portal/manual/forms/999999").status_code == 404
    response = admin.post(f"/portal/manual/forms/{form_id}", {"f1": "x" * 5000, "f2": "6 kW", "f3": "no"})
    assert response.status_code == 422
