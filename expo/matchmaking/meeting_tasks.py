"""Meetings in the background: the mails to each side (with the iCalendar file), reminders before a meeting and
attendance derived from booth scans (Celery beat, declared in the module). Tasks take ids and re-read rows;
the task base holds every ``delay`` until the caller's transaction commits."""
from __future__ import annotations

import re
import unicodedata
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from celery import shared_task
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from ..core import services as core
from ..core.db import utcnow
from ..core.models import Edition
from ..core.tasks import deliver_mail
from ..exhibitors import services as exhibitor_services
from ..exhibitors.models import Exhibitor
from ..extensions import db
from ..visitors.models import Registration
from . import ical
from . import meetings as meeting_services
from .meeting_models import Meeting

FALLBACK_URL = "http://127.0.0.1:5000"
_LINKISH = re.compile(r"://|\bwww\.|@|\w\.[^\W\d_]{2,}", re.IGNORECASE)
# kind -> whose inbox: "other" (the side that did not ask), "requester", "both"
# A move goes to both sides: the mover's calendar gets the updated REQUEST too.
RECIPIENTS = {"requested": "other", "rescheduled": "both", "accepted": "both", "declined": "requester",
              "cancelled": "both", "reminder": "both"}
CANCELLING = ("cancelled", "declined")


def _base() -> str:
    return (current_app.config.get("PUBLIC_URL") or FALLBACK_URL).rstrip("/")


def _safe_name(text: str | None) -> str:
    """A name as a mail may show it: one line, capped, nothing a mail client would turn into a link."""
    text = " ".join("".join(" " if unicodedata.category(c).startswith("C") else c for c in text or "").split())
    if not text or _LINKISH.search(unicodedata.normalize("NFKC", text)):
        return ""
    return text[:60]


def _sides(meeting: Meeting, kind: str) -> list[str]:
    who = RECIPIENTS[kind]
    if kind == "declined" and meeting.sequence > 0:  # a moved meeting was in both calendars: both cancel it
        return ["visitor", "exhibitor"]
    if who == "both":
        if kind == "cancelled" and meeting.sequence == 0:  # never in a calendar: only the other side is told
            return ["exhibitor" if meeting.requested_by == "visitor" else "visitor"]
        return ["visitor", "exhibitor"]
    if who == "requester":
        return [meeting.requested_by]
    return ["exhibitor" if meeting.requested_by == "visitor" else "visitor"]


def _attendees(side: str, registration: Registration, seen: dict, visitor_name: str) -> list[tuple[str, str]]:
    """The ATTENDEE of the calendar file, per recipient side: the visitor's own copy names them; the
    exhibitor's staff see the visitor's address only where visitor_as_seen allows it (shared, agreed)."""
    if side == "visitor":
        return [(registration.person.email or "", visitor_name)]
    email = seen.get("email") if seen.get("shared") else None
    return [(email, visitor_name)] if email else []


def meeting_mails(meeting_id: int, kind: str, only: str | None = None) -> list:
    """Queue the mails of one event of a meeting (``only``: to that side alone); returns the queued messages."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        return []
    registration = db.session.get(Registration, meeting.registration_id)
    exhibitor = db.session.get(Exhibitor, meeting.exhibitor_id)
    edition = db.session.get(Edition, meeting.edition_id)
    zone = ZoneInfo(edition.timezone)
    company = exhibitor.company.name
    seen = meeting_services.visitor_as_seen(meeting)
    visitor_name = _safe_name(seen.get("name")) if seen.get("shared") else ""
    booth = "-".join(p for p in (exhibitor.hall, exhibitor.stand) if p)
    location = ", ".join(p for p in (edition.venue, booth, meeting.table_label) if p)
    method = "CANCEL" if kind in CANCELLING else "REQUEST"
    with_calendar = meeting.starts_at is not None and kind in ("accepted", "rescheduled", *CANCELLING) \
        and (kind not in CANCELLING or meeting.sequence > 0)
    messages = []
    for side in _sides(meeting, kind):
        if only is not None and side != only:
            continue
        if side == "visitor":
            if not registration.person.email or registration.erased_at is not None:
                continue
            recipients = [(registration.person.email, registration.locale or "en")]
            url = f"{_base()}/r/{registration.access_key}/meetings"
        else:
            recipients = [(u.email, u.locale or "en") for u in exhibitor_services.staff(exhibitor) if u.active]
            url = f"{_base()}/portal/meetings"
        for email, locale in recipients:
            with force_locale(locale):
                other = company if side == "visitor" else (visitor_name or _("a visitor"))
                subjects = {
                    "requested": _("Meeting request: %(other)s", other=other),
                    "rescheduled": _("Meeting moved: %(other)s", other=other),
                    "accepted": _("Meeting agreed: %(other)s", other=other),
                    "declined": _("Meeting declined: %(other)s", other=other),
                    "cancelled": _("Meeting cancelled: %(other)s", other=other),
                    "reminder": _("Reminder: meeting with %(other)s", other=other),
                }
                when = meeting.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if meeting.starts_at else ""
                context = {"kind": kind, "side": side, "other": other, "when": when, "location": location,
                           "edition": edition, "url": url, "meeting": meeting, "minutes": (
                               int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)
                               if meeting.starts_at else 0)}
                body = render_template("matchmaking/meetings_mail.txt", **context)
                attachments = []
                if with_calendar:
                    data = ical.meeting_calendar(
                        meeting, method, summary=_("Meeting: %(a)s and %(b)s", a=company,
                                                   b=visitor_name or _("a visitor")),
                        location=location, description=edition.name,
                        organizer_email=parseaddr(current_app.config.get("MAIL_FROM") or "")[1] or "expo@localhost",
                        organizer_name=edition.name,
                        attendees=_attendees(side, registration, seen, visitor_name))
                    attachments.append(("meeting.ics", "text/calendar", data))
                message = core.queue_mail(meeting.organizer_id, email, subjects[kind][:300], body,
                                          attachments=attachments)
            if message is not None:
                messages.append(message)
    return messages


@shared_task
def send_meeting_mail(meeting_id: int, kind: str, only: str | None = None) -> None:
    for message in meeting_mails(meeting_id, kind, only):
        deliver_mail.delay(message.id)
    db.session.commit()


@shared_task
def send_meeting_reminders() -> int:
    """Beat: the meetings starting within REMIND_BEFORE get one reminder each, to both sides. First, the
    meetings to come of cancelled registrations are cancelled (the exhibitor is told)."""
    sent = 0
    now = utcnow()
    meeting_services.cancel_for_cancelled_registrations(now=now)
    db.session.commit()
    for meeting_id in meeting_services.due_reminders(now):
        if not meeting_services.claim_reminder(meeting_id, now):
            continue
        for message in meeting_mails(meeting_id, "reminder"):
            deliver_mail.delay(message.id)
        db.session.commit()
        sent += 1
    db.session.commit()
    return sent


@shared_task
def mark_attended_meetings() -> int:
    """Beat: agreed meetings whose visitor was scanned at the booth around their time become "met"."""
    done = meeting_services.attended_from_scans()
    db.session.commit()
    return done
