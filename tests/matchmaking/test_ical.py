"""iCalendar files of meetings, read back with the icalendar library: REQUEST for an invitation and each update,
CANCEL for a cancellation, one UID for the meeting's whole life, SEQUENCE growing with each update sent."""
from __future__ import annotations

from datetime import date, time, timedelta

from icalendar import Calendar
from sqlalchemy import select

from expo.core.models import MailMessage
from expo.extensions import db
from expo.matchmaking import ical, meetings


def _calendars_to(email: str) -> list[dict]:
    """The calendar files mailed to this address, oldest first, parsed."""
    out = []
    for message in db.session.scalars(select(MailMessage).where(MailMessage.recipient == email)
                                      .order_by(MailMessage.id)):
        for attachment in message.attachments:
            if attachment.filename.endswith(".ics"):
                assert attachment.content_type == "text/calendar"
                out.append(ical.read(attachment.data))
    return out


def test_invitation_update_and_cancellation_round_trip(make):
    edition = make.edition(starts_on=date.today() + timedelta(days=2), timezone="Asia/Shanghai")
    exhibitor = make.exhibitor(edition, "深圳椅业 Shenzhen Chairs")
    make.user("exhibitor_admin", exhibitor=exhibitor)
    visitor = make.registration(edition, name="王伟")
    slots = meetings.add_slots(exhibitor, edition.starts_on, time(10), time(11), 30, ["T3"])
    meeting = meetings.request_by_visitor(visitor, slots[0])
    db.session.commit()
    assert _calendars_to(visitor.person.email) == []  # a request is no calendar entry yet
    meetings.accept(meeting, "exhibitor")
    db.session.commit()
    meetings.reschedule(meeting, "exhibitor", slots[1])
    db.session.commit()
    meetings.accept(meeting, "visitor")
    db.session.commit()
    meetings.cancel(meeting, "exhibitor", reason="Stand closed")
    db.session.commit()

    calendars = _calendars_to(visitor.person.email)
    # agreed, moved by the exhibitor (tentative until the visitor confirms), confirmed, cancelled
    assert [c["method"] for c in calendars] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    events = [c["events"][0] for c in calendars]
    assert {e["uid"] for e in events} == {meeting.uid}  # the same entry, updated, then cancelled
    sequences = [e["sequence"] for e in events]
    assert sequences == [1, 2, 3, 4]
    first, moved, confirmed, cancelled = events
    assert first["status"] == "CONFIRMED" and first["start"] == slots[0].starts_at
    assert moved["status"] == "TENTATIVE" and moved["start"] == slots[1].starts_at and moved["end"] == slots[1].ends_at
    assert confirmed["status"] == "CONFIRMED" and confirmed["start"] == slots[1].starts_at
    assert cancelled["status"] == "CANCELLED"
    assert "深圳椅业 Shenzhen Chairs" in first["summary"] and "T3" in first["location"]
    assert first["attendees"] == [f"mailto:{visitor.person.email}"]
    assert calendars[0]["prodid"] == ical.PRODID


def test_a_calendar_built_and_parsed_keeps_every_field(make):
    edition = make.edition(starts_on=date.today() + timedelta(days=2))
    exhibitor = make.exhibitor(edition)
    visitor = make.registration(edition)
    slot = meetings.add_slots(exhibitor, edition.starts_on, time(9), time(9, 45), 45)[0]
    meeting = meetings.request_by_visitor(visitor, slot)
    data = ical.meeting_calendar(meeting, "REQUEST", summary="Meeting; with, commas\nand lines",
                                 location="Hall 1, A1", organizer_email="no-reply@expo.local",
                                 organizer_name="Expo", attendees=[("a@example.com", "A, B")])
    raw = Calendar.from_ical(data)  # what any calendar program parses
    assert raw.get("method") == "REQUEST" and raw.get("version") == "2.0"
    parsed = ical.read(data)
    event = parsed["events"][0]
    assert event["summary"] == "Meeting; with, commas\nand lines" and event["location"] == "Hall 1, A1"
    assert event["status"] == "TENTATIVE" and event["sequence"] == 0 and event["uid"] == meeting.uid
    assert event["start"].utcoffset().total_seconds() == 0 and event["end"] - event["start"] == timedelta(minutes=45)
    assert event["organizer"] == "mailto:no-reply@expo.local"


def test_the_visitors_calendar_download_lists_agreed_meetings(app, make):
    edition = make.edition(starts_on=date.today() + timedelta(days=2))
    exhibitor = make.exhibitor(edition, "Lamp Co")
    visitor = make.registration(edition)
    slots = meetings.add_slots(exhibitor, edition.starts_on, time(9), time(10), 30)
    agreed = meetings.request_by_visitor(visitor, slots[0])
    meetings.accept(agreed, "exhibitor")
    db.session.commit()
    response = app.test_client().get(f"/r/{visitor.access_key}/meetings.ics")
    parsed = ical.read(response.get_data())
    assert parsed["method"] is None and [e["uid"] for e in parsed["events"]] == [agreed.uid]
    assert response.headers["Cache-Control"] == "private, no-store"


def test_in_wechat_the_calendar_link_gives_way_to_the_open_in_browser_hint(app, make):
    edition = make.edition(starts_on=date.today() + timedelta(days=2))
    exhibitor = make.exhibitor(edition)
    visitor = make.registration(edition)
    slot = meetings.add_slots(exhibitor, edition.starts_on, time(9), time(9, 30), 30)[0]
    meetings.accept(meetings.request_by_visitor(visitor, slot), "exhibitor")
    db.session.commit()
    client = app.test_client()
    plain = client.get(f"/r/{visitor.access_key}/meetings").get_data(as_text=True)
    wechat = client.get(f"/r/{visitor.access_key}/meetings",
                        headers={"User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0.47"}).get_data(as_text=True)
    assert 'id="calendar-link"' in plain and 'id="calendar-wechat"' not in plain
    assert 'id="calendar-wechat"' in wechat and 'id="calendar-link"' not in wechat
