"""Meetings: slots, requests from both sides, answers, moves, caps, double booking refused, timelines, mails,
attendance derived from booth scans, reminders with frozen time."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from expo.core.models import Activity, AuditEntry, MailMessage
from expo.core.services import ServiceError
from expo.extensions import db
from expo.matchmaking import meeting_tasks
from expo.matchmaking import meeting_panels, meetings
from expo.matchmaking.meeting_models import Meeting, MeetingSlot

from ..conftest import Browser, count


@pytest.fixture
def world(make):
    """A live edition starting tomorrow (slots are in the future), one exhibitor with staff, three visitors."""
    edition = make.edition(starts_on=date.today() + timedelta(days=1))
    exhibitor = make.exhibitor(edition, "Mesh Chairs Ltd")
    admin = make.user("exhibitor_admin", exhibitor=exhibitor)
    booth = make.user("booth_staff", exhibitor=exhibitor)
    visitors = [make.registration(edition, name=f"Buyer {n}") for n in range(3)]
    slots = meetings.add_slots(exhibitor, edition.starts_on, time(10, 0), time(12, 0), 30, ["T1"], actor_id=admin.id)
    db.session.commit()
    return {"edition": edition, "exhibitor": exhibitor, "admin": admin, "booth": booth, "visitors": visitors,
            "slots": slots}


def test_slots_are_made_in_the_editions_local_time_and_not_twice(world):
    slots = world["slots"]
    assert len(slots) == 4
    # Asia/Shanghai is UTC+8: 10:00 there is 02:00 UTC
    assert slots[0].starts_at == datetime.combine(world["edition"].starts_on, time(2, 0), timezone.utc)
    assert all(s.minutes == 30 for s in slots)
    again = meetings.add_slots(world["exhibitor"], world["edition"].starts_on, time(10, 0), time(13, 0), 30, ["T1"])
    assert len(again) == 2  # 12:00 and 12:30 only
    with pytest.raises(ServiceError):
        meetings.add_slots(world["exhibitor"], world["edition"].starts_on + timedelta(days=30), time(10), time(11), 30)
    with pytest.raises(ServiceError):
        meetings.add_slots(world["exhibitor"], world["edition"].starts_on, time(10), time(11), 2)


def test_a_visitor_requests_the_exhibitor_accepts_on_both_timelines(world):
    visitor, slot = world["visitors"][0], world["slots"][0]
    meeting = meetings.request_by_visitor(visitor, slot, message="Ergonomic chairs for 200 desks")
    db.session.commit()
    assert meeting.status == "requested" and meeting.requested_by == "visitor" and meeting.sequence == 0
    # the exhibitor is asked by mail (its staff), without the visitor's contact details yet
    staff_mails = db.session.scalars(select(MailMessage).where(
        MailMessage.recipient.in_([world["admin"].email, world["booth"].email]))).all()
    assert len(staff_mails) == 2 and "Meeting request" in staff_mails[0].subject
    assert "email" not in meetings.visitor_as_seen(meeting)
    with pytest.raises(ServiceError):
        meetings.accept(meeting, "visitor")  # one does not accept one's own request
    meetings.accept(meeting, "exhibitor", actor_id=world["booth"].id)
    db.session.commit()
    assert meeting.status == "accepted" and meeting.sequence == 1
    assert meetings.visitor_as_seen(meeting)["email"] == visitor.person.email
    kinds = db.session.execute(select(Activity.subject_type, Activity.kind).where(
        Activity.kind.like("meeting.%"))).all()
    assert set(kinds) == {("person", "meeting.requested"), ("company", "meeting.requested"),
                          ("person", "meeting.accepted"), ("company", "meeting.accepted")}
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("meeting.%"))).all()
    assert "meeting.requested" in actions and "meeting.accepted" in actions
    # both sides get the invitation with its calendar file
    visitor_mail = db.session.scalars(select(MailMessage).where(MailMessage.recipient == visitor.person.email,
                                                                 MailMessage.subject.like("Meeting agreed%"))).one()
    assert [a.filename for a in visitor_mail.attachments] == ["meeting.ics"]


def test_a_taken_slot_is_refused_and_a_visitor_is_never_in_two_places(world, make):
    a, b, _c = world["visitors"]
    slot, second = world["slots"][0], world["slots"][1]
    meetings.request_by_visitor(a, slot)
    with pytest.raises(ServiceError, match="taken"):
        meetings.request_by_visitor(b, slot)
    # the same visitor at the same time with another exhibitor
    other = make.exhibitor(world["edition"], "Desk Co")
    other_slots = meetings.add_slots(other, world["edition"].starts_on, time(10, 15), time(11, 15), 60)
    with pytest.raises(ServiceError, match="another meeting"):
        meetings.request_by_visitor(a, other_slots[0])  # 10:15-11:15 overlaps 10:00-10:30
    # one open meeting per exhibitor and visitor: a second request is refused, a move is the way
    with pytest.raises(ServiceError, match="already"):
        meetings.request_by_visitor(a, second)
    db.session.commit()
    assert count(Meeting) == 1


def test_an_exhibitor_invites_without_a_time_and_the_visitor_picks_one(world):
    visitor = world["visitors"][1]
    meeting = meetings.request_by_exhibitor(world["exhibitor"], visitor, message="Come see the new range",
                                            actor_id=world["admin"].id)
    assert meeting.slot_id is None and meeting.requested_by == "exhibitor"
    assert visitor.id in meetings.open_pairs(world["exhibitor"].id)
    with pytest.raises(ServiceError, match="Pick a time"):
        meetings.accept(meeting, "visitor")
    meetings.accept(meeting, "visitor", slot=world["slots"][2])
    db.session.commit()
    assert meeting.status == "accepted" and meeting.slot_id == world["slots"][2].id
    assert meeting.starts_at == world["slots"][2].starts_at


def test_decline_cancel_and_reschedule_keep_the_uid_and_raise_the_sequence(world):
    a, b, _c = world["visitors"]
    first = meetings.request_by_visitor(a, world["slots"][0])
    meetings.decline(first, "exhibitor", reason="Fully booked that morning")
    assert first.status == "declined"
    with pytest.raises(ServiceError):
        meetings.accept(first, "exhibitor")  # a declined meeting is over
    # the slot is free again
    second = meetings.request_by_visitor(b, world["slots"][0])
    meetings.accept(second, "exhibitor")
    uid = second.uid
    meetings.reschedule(second, "exhibitor", world["slots"][3])
    assert second.status == "requested" and second.requested_by == "exhibitor" and second.sequence == 2
    assert second.uid == uid and second.slot_id == world["slots"][3].id
    meetings.accept(second, "visitor")
    meetings.cancel(second, "visitor", reason="Flight changed")
    db.session.commit()
    assert second.status == "cancelled" and second.sequence == 4 and second.uid == uid
    cancel_mails = db.session.scalars(select(MailMessage).where(MailMessage.subject.like("Meeting cancelled%"))).all()
    assert cancel_mails and all(m.attachments[0].filename == "meeting.ics" for m in cancel_mails)


def test_caps_per_visitor_category(world, make):
    edition = world["edition"]
    meetings.set_caps(edition, {"buyer": 1})
    other = make.exhibitor(edition, "Lamp Co")
    other_slots = meetings.add_slots(other, edition.starts_on, time(14), time(15), 30)
    visitor = world["visitors"][0]
    meetings.request_by_visitor(visitor, world["slots"][0])
    with pytest.raises(ServiceError, match="at most 1"):
        meetings.request_by_visitor(visitor, other_slots[0])
    vip = make.registration(edition, category="vip")
    meetings.request_by_visitor(vip, other_slots[0])  # no cap for VIPs
    meetings.request_by_visitor(vip, world["slots"][1])
    assert meetings.caps(edition.id) == {"buyer": 1}


def test_a_booth_scan_during_the_meeting_marks_it_met(world, monkeypatch):
    visitor = world["visitors"][0]
    meeting = meetings.request_by_visitor(visitor, world["slots"][0])
    meetings.accept(meeting, "exhibitor")
    db.session.commit()
    # show day, five minutes into the meeting: the booth scans the visitor's badge (the on-site scan path)
    during = meeting.starts_at + timedelta(minutes=5)
    monkeypatch.setattr(meetings, "utcnow", lambda: during)
    from expo.onsite import services as onsite
    from expo.visitors import services as visitor_services

    from ..conftest import new_scan_id

    onsite.record_scan(world["booth"], code=visitor_services.badge_code(visitor), kind="lead",
                       client_scan_id=new_scan_id(), scanned_at=during.isoformat())
    assert meetings.attended_from_scans(now=during) == 1
    db.session.commit()
    assert meeting.status == "attended" and meeting.arrived_at is not None


def test_staff_mark_no_show_only_once_the_meeting_began(world, monkeypatch):
    meeting = meetings.request_by_visitor(world["visitors"][0], world["slots"][0])
    meetings.accept(meeting, "exhibitor")
    with pytest.raises(ServiceError, match="not begun"):
        meetings.mark_no_show(meeting)
    monkeypatch.setattr(meetings, "utcnow", lambda: meeting.starts_at + timedelta(minutes=20))
    meetings.mark_no_show(meeting)
    assert meeting.status == "no_show"
    meetings.mark_arrived(meeting)  # came late after all
    assert meeting.status == "attended"


def test_reminders_go_once_within_the_hour_before(world, monkeypatch):
    meeting = meetings.request_by_visitor(world["visitors"][0], world["slots"][0])
    meetings.accept(meeting, "exhibitor")
    db.session.commit()
    before = count(MailMessage)
    early = meeting.starts_at - timedelta(hours=3)
    monkeypatch.setattr(meeting_tasks, "utcnow", lambda: early)
    assert meeting_tasks.send_meeting_reminders() == 0
    soon = meeting.starts_at - timedelta(minutes=45)
    monkeypatch.setattr(meeting_tasks, "utcnow", lambda: soon)
    assert meeting_tasks.send_meeting_reminders() == 1
    assert meeting_tasks.send_meeting_reminders() == 0  # once only
    reminders = db.session.scalars(select(MailMessage).where(MailMessage.subject.like("Reminder%"))).all()
    assert count(MailMessage) == before + 3  # the visitor and the two staff members
    assert {m.recipient for m in reminders} == {world["visitors"][0].person.email, world["admin"].email,
                                               world["booth"].email}
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).reminded_at == soon


def test_met_pairs_for_the_history_signal(world):
    a, b, _c = world["visitors"]
    m1 = meetings.request_by_visitor(a, world["slots"][0])
    meetings.accept(m1, "exhibitor")
    m2 = meetings.request_by_visitor(b, world["slots"][1])
    meetings.decline(m2, "exhibitor")
    db.session.commit()
    pairs = meetings.met_pairs([world["edition"].id])
    exhibitor_id = world["exhibitor"].id
    assert sorted(pairs) == sorted([(exhibitor_id, a.id, "accepted"), (exhibitor_id, b.id, "declined")])
    assert meetings.met_pairs([]) == []


def test_pages_visitor_requests_and_exhibitor_accepts(app, world):
    visitor = world["visitors"][0]
    key = visitor.access_key
    slot_id, exhibitor_id = world["slots"][0].id, world["exhibitor"].id
    public = Browser(app)
    badge = public.get(f"/r/{key}").get_data(as_text=True)
    assert "visitor-meetings-section" in badge
    page = public.get(f"/r/{key}/meetings").get_data(as_text=True)
    assert "Mesh Chairs Ltd" in page
    page = public.get(f"/r/{key}/meetings?exhibitor={exhibitor_id}").get_data(as_text=True)
    assert f'value="{slot_id}"' in page
    response = public.post(f"/r/{key}/meetings/request", {"slot_id": str(slot_id), "message": "Hello"})
    assert response.status_code == 302
    meeting = db.session.scalars(select(Meeting)).one()
    staff = Browser(app, world["booth"])
    listing = staff.get("/portal/meetings").get_data(as_text=True)
    assert f'id="meeting-{meeting.id}"' in listing and "Hello" in listing
    response = staff.post("/portal/meetings/answer", {"meeting_id": str(meeting.id), "move": "accept"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == "accepted"
    ics = public.get(f"/r/{key}/meetings.ics")
    assert ics.mimetype == "text/calendar" and meeting.uid in ics.get_data(as_text=True)
    # another visitor's key cannot answer this meeting
    other = Browser(app)
    other.post(f"/r/{world['visitors'][1].access_key}/meetings/answer",
               {"meeting_id": str(meeting.id), "move": "cancel"})
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == "accepted"


def test_exhibitor_slots_page_publishes_and_withdraws(app, world):
    admin = Browser(app, world["admin"])
    day = world["edition"].starts_on.isoformat()
    response = admin.post("/portal/meeting-slots", {"day": day, "start": "14:00", "end": "15:00", "minutes": "20",
                                                    "tables": "A, B"})
    assert response.status_code == 302
    assert count(MeetingSlot) == 4 + 6
    free = db.session.scalars(select(MeetingSlot).where(MeetingSlot.table_label == "A")).first()
    assert admin.post("/portal/meeting-slots/delete", {"slot_id": str(free.id)}).status_code == 302
    assert count(MeetingSlot) == 9
    page = admin.post("/portal/meeting-slots", {"day": day, "start": "x", "end": "15:00", "minutes": "20"})
    assert page.status_code == 200 and "A time like 09:30." in page.get_data(as_text=True)


def test_demo_meetings_keep_the_invariants(ctx):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from expo import demo
    from expo.matchmaking.meeting_models import LIVE

    now = datetime(2026, 5, 20, 11, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    demo.generate(visitors=60, exhibitors=6, editions=2, now=now)
    rows = db.session.execute(select(Meeting.slot_id, Meeting.registration_id, Meeting.starts_at, Meeting.status,
                                     Meeting.created_at)).all()
    assert rows and {r.status for r in rows} & {"attended", "accepted"}
    live = [r for r in rows if r.status in LIVE]
    assert len({r.slot_id for r in live}) == len(live)
    assert len({(r.registration_id, r.starts_at) for r in live}) == len(live)
    assert all(r.created_at <= now and r.created_at <= r.starts_at for r in rows)
    assert all(r.starts_at > now for r in rows if r.status == "requested")


def test_another_exhibitors_staff_cannot_touch_the_meeting(app, world, make):
    meeting = meetings.request_by_visitor(world["visitors"][0], world["slots"][0])
    rival = make.exhibitor(world["edition"], "Rival Chairs")
    rival_staff = make.user("booth_staff", exhibitor=rival)
    db.session.commit()
    browser = Browser(app, rival_staff)
    assert f'id="meeting-{meeting.id}"' not in browser.get("/portal/meetings").get_data(as_text=True)
    browser.post("/portal/meetings/answer", {"meeting_id": str(meeting.id), "move": "decline"})
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == "requested"


def test_the_exhibitor_invites_from_the_portal_and_the_visitor_picks_a_time(app, world):
    visitor = world["visitors"][2]
    staff = Browser(app, world["booth"])
    response = staff.post("/portal/meetings/request", {"registration_id": str(visitor.id),
                                                       "next": "/portal/meetings"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/portal/meetings")
    meeting = db.session.scalars(select(Meeting)).one()
    assert meeting.requested_by == "exhibitor" and meeting.slot_id is None
    public = Browser(app)
    page = public.get(f"/r/{visitor.access_key}/meetings").get_data(as_text=True)
    assert f'id="pick-{meeting.id}"' in page
    public.post(f"/r/{visitor.access_key}/meetings/answer", {"meeting_id": str(meeting.id), "move": "accept",
                                                            "slot_id": str(world["slots"][1].id)})
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting.id)
    assert meeting.status == "accepted" and meeting.slot_id == world["slots"][1].id
    # a second invitation to the same visitor is refused while this one stands
    staff.post("/portal/meetings/request", {"registration_id": str(visitor.id)})
    assert count(Meeting) == 1


def test_personal_data_lists_the_meetings_and_erasure_cancels_those_to_come(world):
    from expo.core.scoping import Scope
    from expo.visitors import privacy

    visitor = world["visitors"][0]
    meeting = meetings.request_by_visitor(visitor, world["slots"][0], message="My private note")
    db.session.commit()
    data = privacy.personal_data(visitor.person)
    assert data["meetings"][0]["exhibitor"] == "Mesh Chairs Ltd" and data["meetings"][0]["message"] == "My private note"
    meeting_panels.forget_visitor(Scope(visitor.organizer_id), [visitor.id])
    db.session.commit()
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting.id)
    assert meeting.status == "cancelled" and meeting.message == ""
    assert meetings.free_slots(world["exhibitor"].id)[0].id == world["slots"][0].id


def test_organizer_sets_caps_and_reads_the_edition_meetings(app, world, make):
    from expo.core.models import Organizer

    organizer = db.session.get(Organizer, world["edition"].organizer_id)
    manager = make.user("manager", organizer)
    analyst = make.user("analyst", organizer)
    meetings.request_by_visitor(world["visitors"][0], world["slots"][0])
    db.session.commit()
    edition_id = world["edition"].id
    browser = Browser(app, manager)
    page = browser.get(f"/org/editions/{edition_id}/meetings").get_data(as_text=True)
    assert "Mesh Chairs Ltd" in page and 'id="meeting-caps"' in page
    browser.post(f"/org/editions/{edition_id}/meetings/caps", {"cap_buyer": "3", "cap_vip": ""})
    assert meetings.caps(edition_id) == {"buyer": 3}
    browser.post(f"/org/editions/{edition_id}/meetings/caps", {"cap_buyer": "-5"})
    assert meetings.caps(edition_id) == {"buyer": 3}
    reader = Browser(app, analyst)
    assert 'name="cap_buyer"' not in reader.get(f"/org/editions/{edition_id}/meetings").get_data(as_text=True)


def test_person_and_company_pages_show_the_meetings(app, world, make):
    from expo.core.models import Organizer

    visitor = world["visitors"][0]
    meeting = meetings.request_by_visitor(visitor, world["slots"][0])
    meetings.accept(meeting, "exhibitor")
    owner = make.user("owner", db.session.get(Organizer, world["edition"].organizer_id))
    db.session.commit()
    browser = Browser(app, owner)
    person = browser.get(f"/org/persons/{visitor.person_id}").get_data(as_text=True)
    assert 'id="panel-meetings"' in person and "Mesh Chairs Ltd" in person
    assert "Meeting agreed" in person  # the timeline
    company = browser.get(f"/org/companies/{world['exhibitor'].company_id}").get_data(as_text=True)
    assert 'id="panel-meetings"' in company


# --- review fixes -------------------------------------------------------------------------------------

def _calendars(recipients, subject_like="%"):
    """(recipient, parsed calendar) of every mail with a calendar file to these addresses."""
    from expo.matchmaking import ical

    mails = db.session.scalars(select(MailMessage).where(MailMessage.recipient.in_(list(recipients)),
                                                         MailMessage.subject.like(subject_like))
                               .order_by(MailMessage.id)).all()
    return [(m.recipient, ical.read(a.data)) for m in mails for a in m.attachments]


def _staff(world):
    return {world["admin"].email, world["booth"].email}


def test_slots_of_other_lengths_never_overlap_at_one_table(world):
    edition, exhibitor = world["edition"], world["exhibitor"]
    # T1 has 10:00-12:00 in 30-minute slots: 45-minute slots there would double-book the table
    with pytest.raises(ServiceError, match="overlaps"):
        meetings.add_slots(exhibitor, edition.starts_on, time(10, 0), time(11, 30), 45, ["T1"])
    with pytest.raises(ServiceError, match="overlaps"):
        meetings.add_slots(exhibitor, edition.starts_on, time(9, 45), time(10, 15), 30, ["T1"])
    assert count(MeetingSlot) == 4
    # the same slots again are kept; another table, or right after, is fine
    assert meetings.add_slots(exhibitor, edition.starts_on, time(10, 0), time(11, 0), 30, ["T1"]) == []
    assert len(meetings.add_slots(exhibitor, edition.starts_on, time(10, 0), time(11, 30), 45, ["T2"])) == 2
    assert len(meetings.add_slots(exhibitor, edition.starts_on, time(12, 0), time(13, 30), 45, ["T1"])) == 2
    db.session.commit()
    rows = db.session.execute(select(MeetingSlot.table_label, MeetingSlot.starts_at, MeetingSlot.ends_at)).all()
    for table in ("T1", "T2"):
        spans = sorted((s, e) for t, s, e in rows if t == table)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_the_exhibitors_calendar_file_names_the_visitor_only_as_shared(world, make):
    private = make.registration(world["edition"], name="Private Person", share=False)
    meeting = meetings.request_by_visitor(private, world["slots"][0])
    meetings.accept(meeting, "exhibitor")
    db.session.commit()
    staff_files = _calendars(_staff(world))
    assert len(staff_files) == 2
    for _recipient, cal in staff_files:
        assert cal["events"][0]["attendees"] == []
    (_r, own), = _calendars([private.person.email])
    assert own["events"][0]["attendees"] == [f"mailto:{private.person.email}"]
    # a visitor who shares: their address once agreed, as visitor_as_seen shows it
    shared = world["visitors"][1]
    agreed = meetings.request_by_visitor(shared, world["slots"][1])
    meetings.accept(agreed, "exhibitor")
    db.session.commit()
    files = _calendars(_staff(world))
    assert [c["events"][0]["attendees"] for _r, c in files[2:]] == [[f"mailto:{shared.person.email}"]] * 2


def test_a_moved_request_cancelled_by_the_visitor_leaks_no_address_to_the_exhibitor(world):
    visitor = world["visitors"][0]
    meeting = meetings.request_by_visitor(visitor, world["slots"][0])
    meetings.reschedule(meeting, "exhibitor", world["slots"][2])
    meetings.cancel(meeting, "visitor")
    db.session.commit()
    files = _calendars(_staff(world))
    assert files and all(visitor.person.email not in str(c) for _r, c in files)


def test_a_slot_with_past_meetings_can_be_withdrawn_and_they_keep_their_time(app, world):
    declined = meetings.request_by_visitor(world["visitors"][0], world["slots"][0])
    meetings.decline(declined, "exhibitor")
    live = meetings.request_by_visitor(world["visitors"][1], world["slots"][1])
    db.session.commit()
    when, slot_id = declined.starts_at, world["slots"][0].id
    admin = Browser(app, world["admin"])
    assert admin.post("/portal/meeting-slots/delete", {"slot_id": str(slot_id)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(MeetingSlot, slot_id) is None
    declined = db.session.get(Meeting, declined.id)
    assert declined.slot_id is None and declined.starts_at == when and declined.status == "declined"
    # a slot a live meeting holds is refused with words, not a 500
    response = admin.post("/portal/meeting-slots/delete", {"slot_id": str(world["slots"][1].id)})
    assert response.status_code == 302 and db.session.get(MeetingSlot, world["slots"][1].id) is not None
    with pytest.raises(ServiceError, match="cancel the meeting first"):
        meetings.remove_slot(db.session.get(MeetingSlot, world["slots"][1].id))
    assert db.session.get(Meeting, live.id).status == "requested"


@pytest.mark.parametrize("bad", ["hi\x00there", "lone \ud800 surrogate"])
def test_text_no_database_can_hold_is_refused(app, world, bad):
    visitor, exhibitor = world["visitors"][0], world["exhibitor"]
    with pytest.raises(ServiceError, match="cannot be stored"):
        meetings.request_by_visitor(visitor, world["slots"][0], message=bad)
    with pytest.raises(ServiceError, match="cannot be stored"):
        meetings.add_slots(exhibitor, world["edition"].starts_on, time(14), time(15), 20, [bad])
    meeting = meetings.request_by_visitor(visitor, world["slots"][0])
    with pytest.raises(ServiceError, match="cannot be stored"):
        meetings.decline(meeting, "exhibitor", reason=bad)
    with pytest.raises(ServiceError, match="cannot be stored"):
        meetings.cancel(meeting, "visitor", reason=bad)
    db.session.commit()
    assert meeting.status == "requested"
    if "\x00" in bad:  # through the pages (a form cannot carry a lone surrogate)
        admin = Browser(app, world["admin"])
        day = world["edition"].starts_on.isoformat()
        codes = [
            Browser(app).post(f"/r/{world['visitors'][1].access_key}/meetings/request",
                              {"slot_id": str(world["slots"][1].id), "message": bad}).status_code,
            admin.post("/portal/meeting-slots", {"day": day, "start": "14:00", "end": "15:00", "minutes": "20",
                                                 "tables": bad}).status_code,
            admin.post("/portal/meetings/request", {"registration_id": str(world["visitors"][2].id),
                                                    "message": bad}).status_code,
            admin.post("/portal/meetings/answer", {"meeting_id": str(meeting.id), "move": "decline",
                                                   "reason": bad}).status_code,
        ]
        assert 500 not in codes
        assert count(Meeting) == 1 and count(MeetingSlot) == 4


def test_the_slot_form_takes_hours_and_minutes_only(app, world):
    admin = Browser(app, world["admin"])
    day = world["edition"].starts_on.isoformat()
    for start, end in (("14:00+08:00", "15:00"), ("14:00", "15:00Z"), ("14:00:30", "15:00"), ("24:00", "25:00")):
        page = admin.post("/portal/meeting-slots", {"day": day, "start": start, "end": end, "minutes": "20"})
        assert page.status_code == 200 and "A time like 09:30." in page.get_data(as_text=True)
    assert count(MeetingSlot) == 4
    assert admin.post("/portal/meeting-slots", {"day": day, "start": "14:00", "end": "15:00",
                                                "minutes": "20"}).status_code == 302
    assert count(MeetingSlot) == 7


def test_a_cancelled_registrations_meetings_cannot_be_agreed_and_the_beat_cancels_them(app, world):
    from expo.visitors import services as visitor_services

    visitor = world["visitors"][0]
    meeting = meetings.request_by_visitor(visitor, world["slots"][0])
    db.session.commit()
    visitor_services.cancel_registration(visitor)
    db.session.commit()
    with pytest.raises(ServiceError, match="Only confirmed"):
        meetings.accept(meeting, "exhibitor")
    db.session.rollback()
    listing = Browser(app, world["booth"]).get("/portal/meetings").get_data(as_text=True)
    waiting = listing.split('id="meetings-waiting"')[1].split("</section>")[0]
    assert f'id="meeting-{meeting.id}"' not in waiting
    before = count(MailMessage)
    meeting_tasks.send_meeting_reminders()
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == "cancelled"
    assert meetings.free_slots(world["exhibitor"].id)[0].id == world["slots"][0].id
    told = db.session.scalars(select(MailMessage.recipient).where(MailMessage.id > 0)).all()[before:]
    assert set(told) >= _staff(world)


def test_declining_a_moved_meeting_cancels_it_in_both_calendars(world):
    visitor = world["visitors"][0]
    meeting = meetings.request_by_visitor(visitor, world["slots"][0])
    meetings.accept(meeting, "exhibitor")
    meetings.reschedule(meeting, "exhibitor", world["slots"][2])
    db.session.commit()
    assert meeting.sequence == 2
    moved = _calendars(_staff(world) | {visitor.person.email}, "Meeting moved%")
    # the mover's calendar (the exhibitor's staff) gets the new time too, not only the visitor's
    assert {r for r, _c in moved} == _staff(world) | {visitor.person.email}
    assert all(c["method"] == "REQUEST" and c["events"][0]["sequence"] == 2 for _r, c in moved)
    meetings.decline(meeting, "visitor")
    db.session.commit()
    assert meeting.status == "declined" and meeting.sequence == 3
    cancels = _calendars(_staff(world) | {visitor.person.email}, "Meeting declined%")
    assert {r for r, _c in cancels} == _staff(world) | {visitor.person.email}
    assert all(c["method"] == "CANCEL" and c["events"][0]["sequence"] == 3
               and c["events"][0]["uid"] == meeting.uid for _r, c in cancels)


def test_a_never_agreed_request_declined_sends_no_calendar_file(world):
    meeting = meetings.request_by_visitor(world["visitors"][0], world["slots"][0])
    meetings.decline(meeting, "exhibitor")
    db.session.commit()
    assert meeting.sequence == 0
    assert _calendars(_staff(world) | {world["visitors"][0].person.email}, "Meeting declined%") == []


def test_a_moved_meeting_is_reminded_again(world, monkeypatch):
    meeting = meetings.request_by_visitor(world["visitors"][0], world["slots"][0])
    meetings.accept(meeting, "exhibitor")
    db.session.commit()
    soon = meeting.starts_at - timedelta(minutes=45)
    monkeypatch.setattr(meeting_tasks, "utcnow", lambda: soon)
    monkeypatch.setattr(meetings, "utcnow", lambda: soon)
    assert meeting_tasks.send_meeting_reminders() == 1
    meetings.reschedule(meeting, "exhibitor", world["slots"][3])
    assert meeting.reminded_at is None
    meetings.accept(meeting, "visitor")
    db.session.commit()
    later = meeting.starts_at - timedelta(minutes=45)
    monkeypatch.setattr(meeting_tasks, "utcnow", lambda: later)
    assert meeting_tasks.send_meeting_reminders() == 1


def test_erasure_cancels_each_meeting_through_the_service(world):
    from expo.core.scoping import Scope
    from expo.matchmaking import ical
    from expo.visitors import privacy

    visitor = world["visitors"][0]
    meeting = meetings.request_by_visitor(visitor, world["slots"][0], message="call me")
    meetings.accept(meeting, "exhibitor")
    db.session.commit()
    mails_before = db.session.scalar(select(db.func.max(MailMessage.id)))
    privacy.erase_person(visitor.person, by="visitor")
    db.session.commit()
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting.id)
    assert meeting.status == "cancelled" and meeting.sequence == 2 and meeting.message == ""
    assert "meeting.cancelled" in db.session.scalars(select(AuditEntry.action)).all()
    assert ("company", "meeting.cancelled") in db.session.execute(
        select(Activity.subject_type, Activity.kind)).all()
    new = db.session.scalars(select(MailMessage).where(MailMessage.id > mails_before)).all()
    assert {m.recipient for m in new} == _staff(world)  # the erased visitor is mailed nothing
    cal = ical.read(new[0].attachments[0].data)
    assert cal["method"] == "CANCEL" and cal["events"][0]["sequence"] == 2 and cal["events"][0]["attendees"] == []
    meeting_panels.forget_visitor(Scope(visitor.organizer_id), [visitor.id])  # again: nothing left to do


def test_a_withdrawn_exhibitor_is_neither_offered_nor_requestable(app, world):
    exhibitor = world["exhibitor"]
    exhibitor.status = "cancelled"
    db.session.commit()
    assert meetings.exhibitors_with_free_slots(world["edition"].id) == []
    assert meetings.free_slots(exhibitor.id) == []
    assert meetings.exhibitor_offering(world["edition"].id, exhibitor.id) is None
    with pytest.raises(ServiceError, match="withdrawn"):
        meetings.request_by_visitor(world["visitors"][0], world["slots"][0])
    with pytest.raises(ServiceError, match="withdrawn"):
        meetings.request_by_exhibitor(exhibitor, world["visitors"][0])
    page = Browser(app).get(f"/r/{world['visitors'][0].access_key}/meetings?exhibitor={exhibitor.id}")
    assert 'id="exhibitor-slots"' not in page.get_data(as_text=True)


def test_the_visitor_opens_any_exhibitor_directly(app, world, make, monkeypatch):
    """The chosen exhibitor is looked up by id, not searched in the first 1,000 by name."""
    exhibitor = world["exhibitor"]
    monkeypatch.setattr(meetings, "exhibitors_with_free_slots", lambda *a, **k: [])  # as if beyond the list
    page = Browser(app).get(f"/r/{world['visitors'][0].access_key}/meetings?exhibitor={exhibitor.id}")
    text = page.get_data(as_text=True)
    assert 'id="exhibitor-slots"' in text and f'value="{world["slots"][0].id}"' in text
    other = make.edition(starts_on=world["edition"].starts_on)
    foreign = make.exhibitor(other, "Elsewhere Ltd")
    db.session.commit()
    page = Browser(app).get(f"/r/{world['visitors'][0].access_key}/meetings?exhibitor={foreign.id}")
    assert 'id="exhibitor-slots"' not in page.get_data(as_text=True)


def test_caps_count_meetings_held_too(world, make, monkeypatch):
    edition = world["edition"]
    meetings.set_caps(edition, {"buyer": 1})
    visitor = world["visitors"][0]
    meeting = meetings.request_by_visitor(visitor, world["slots"][0])
    meetings.accept(meeting, "exhibitor")
    monkeypatch.setattr(meetings, "utcnow", lambda: meeting.starts_at + timedelta(minutes=1))
    meetings.mark_arrived(meeting)
    other = make.exhibitor(edition, "Lamp Co")
    later = meetings.add_slots(other, edition.starts_on, time(14), time(15), 30)
    with pytest.raises(ServiceError, match="at most 1"):
        meetings.request_by_visitor(visitor, later[0])


def test_arrived_only_around_the_time_and_no_cancel_once_over(world, monkeypatch):
    meeting = meetings.request_by_visitor(world["visitors"][0], world["slots"][0])
    meetings.accept(meeting, "exhibitor")
    with pytest.raises(ServiceError, match="not begun"):
        meetings.mark_arrived(meeting)  # the day before
    monkeypatch.setattr(meetings, "utcnow", lambda: meeting.starts_at - timedelta(minutes=10))
    meetings.mark_arrived(meeting)  # early at the stand: fine
    assert meeting.status == "attended"
    other = meetings.request_by_visitor(world["visitors"][1], world["slots"][1])
    meetings.accept(other, "exhibitor")
    monkeypatch.setattr(meetings, "utcnow", lambda: other.ends_at + timedelta(hours=2))
    with pytest.raises(ServiceError, match="over"):
        meetings.cancel(other, "exhibitor")
    meetings.mark_no_show(other)
    assert other.status == "no_show"


def test_the_visitors_page_loads_invitations_free_times_at_once(app, world, make):
    from sqlalchemy import event

    edition, visitor = world["edition"], world["visitors"][1]
    companies = [make.exhibitor(edition) for _ in range(6)]
    for exhibitor in companies:
        meetings.add_slots(exhibitor, edition.starts_on, time(14), time(15), 30)
    db.session.commit()
    browser = Browser(app)

    def queries():
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert browser.get(f"/r/{visitor.access_key}/meetings").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    meetings.request_by_exhibitor(companies[0], visitor, None)
    db.session.commit()
    one = queries()
    for exhibitor in companies[1:]:
        meetings.request_by_exhibitor(exhibitor, visitor, None)
    db.session.commit()
    assert queries() <= one + 1


def test_the_visitor_moves_their_meeting_to_another_free_time(app, world):
    visitor = world["visitors"][0]
    meeting = meetings.request_by_visitor(visitor, world["slots"][0])
    meetings.accept(meeting, "exhibitor")
    db.session.commit()
    key = visitor.access_key
    public = Browser(app)
    listing = public.get(f"/r/{key}/meetings").get_data(as_text=True)
    assert f'id="move-{meeting.id}"' in listing
    page = public.get(f"/r/{key}/meetings/move?meeting={meeting.id}").get_data(as_text=True)
    assert f'id="slot-{world["slots"][2].id}"' in page and f'id="slot-{world["slots"][0].id}"' not in page
    response = public.post(f"/r/{key}/meetings/move", {"meeting_id": str(meeting.id),
                                                        "slot_id": str(world["slots"][2].id)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/r/{key}/meetings")
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting.id)
    assert meeting.slot_id == world["slots"][2].id and meeting.status == "requested"
    assert meeting.requested_by == "visitor" and meeting.sequence == 2
    # the exhibitor confirms the new time
    meetings.accept(meeting, "exhibitor")
    db.session.commit()
    # another visitor's key cannot move it; a slot of another exhibitor is refused
    Browser(app).post(f"/r/{world['visitors'][1].access_key}/meetings/move",
                      {"meeting_id": str(meeting.id), "slot_id": str(world["slots"][3].id)})
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).slot_id == world["slots"][2].id


def test_the_booths_phone_offers_arrived_only_from_shortly_before_the_start(app, world, monkeypatch):
    from expo.matchmaking import meeting_views

    meeting = meetings.request_by_visitor(world["visitors"][0], world["slots"][0])
    meetings.accept(meeting, "exhibitor")
    db.session.commit()
    staff = Browser(app, world["booth"])
    # the show day, an hour before the meeting: listed, but nothing to tap yet
    monkeypatch.setattr(meeting_views, "utcnow", lambda: meeting.starts_at - timedelta(hours=1))
    page = staff.get("/portal/meetings/today").get_data(as_text=True)
    assert f'id="today-{meeting.id}"' in page and 'value="arrived"' not in page
    monkeypatch.setattr(meeting_views, "utcnow", lambda: meeting.starts_at - timedelta(minutes=10))
    assert 'value="arrived"' in staff.get("/portal/meetings/today").get_data(as_text=True)
