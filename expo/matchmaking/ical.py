"""Meetings as iCalendar (RFC 5545/5546) with the ``icalendar`` library: an invitation or update is
METHOD:REQUEST, a cancellation METHOD:CANCEL; the UID never changes for a meeting and SEQUENCE grows with every
update sent, so calendar programs replace the entry they hold instead of adding another one."""
from __future__ import annotations

from datetime import datetime, timezone

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Expo CRM//Meetings//EN"
STATUS = {"requested": "TENTATIVE", "accepted": "CONFIRMED", "attended": "CONFIRMED", "no_show": "CONFIRMED",
          "declined": "CANCELLED", "cancelled": "CANCELLED"}


def _address(email: str, name: str = "", role: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["cn"] = vText(name)
    if role:
        address.params["role"] = vText(role)
    return address


def meeting_event(meeting, *, summary: str, location: str = "", description: str = "",
                  organizer_email: str = "", organizer_name: str = "", attendees=(),
                  stamp: datetime | None = None) -> Event:
    """One VEVENT of a meeting (which must have a time). ``attendees``: (email, name) pairs."""
    event = Event()
    event.add("uid", meeting.uid)
    event.add("dtstamp", stamp or datetime.now(timezone.utc))
    event.add("dtstart", meeting.starts_at.astimezone(timezone.utc))
    event.add("dtend", meeting.ends_at.astimezone(timezone.utc))
    event.add("sequence", meeting.sequence)
    event.add("status", STATUS.get(meeting.status, "CONFIRMED"))
    event.add("summary", summary)
    if location:
        event.add("location", location)
    if description:
        event.add("description", description)
    if organizer_email:
        event.add("organizer", _address(organizer_email, organizer_name))
    for email, name in attendees:
        if email:
            event.add("attendee", _address(email, name, "REQ-PARTICIPANT"))
    return event


def calendar(events, method: str | None = None) -> bytes:
    """A VCALENDAR of the events; ``method``: REQUEST (new or updated), CANCEL, or None (a plain
    download, PUBLISH-like)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    for event in events:
        cal.add_component(event)
    return cal.to_ical()


def meeting_calendar(meeting, method: str, **event_fields) -> bytes:
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(method)
    return calendar([meeting_event(meeting, **event_fields)], method)


def read(data: bytes | str) -> dict:
    """Parse a calendar back: its method and its events (uid, sequence, status, start, end, summary,
    location, organizer, attendees) — what a calendar program reads of it."""
    cal = Calendar.from_ical(data)
    events = []
    for component in cal.walk("VEVENT"):
        attendees = component.get("attendee")
        if attendees is None:
            attendees = []
        elif not isinstance(attendees, list):
            attendees = [attendees]
        events.append({
            "uid": str(component.get("uid")), "sequence": int(component.get("sequence", 0)),
            "status": str(component.get("status", "")), "start": component.decoded("dtstart"),
            "end": component.decoded("dtend"), "summary": str(component.get("summary", "")),
            "location": str(component.get("location", "")),
            "organizer": str(component.get("organizer", "")), "attendees": [str(a) for a in attendees]})
    method = cal.get("method")
    return {"method": str(method) if method is not None else None, "prodid": str(cal.get("prodid")),
            "events": events}
