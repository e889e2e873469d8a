"""Meetings between exhibitors and visitors: slots, requests from either side, the other side's answer,
cancellations and moves, caps per visitor category, attendance (booth scans or staff on site), reminders.

Every move goes through :func:`_move` (legal moves of MEETING_STATUS only, audited, on both timelines, the
other side told by mail after the commit). Services flush; the caller commits once. Who acts is a *side*:
``"visitor"`` (from their own page, no account) or ``"exhibitor"`` (its staff, ``actor_id``).

No double booking, whatever the race: the database holds one live meeting per slot, one open meeting per
(exhibitor, visitor) and one per (visitor, start time) (partial unique indexes, meeting_models); a request
is one INSERT … ON CONFLICT DO NOTHING, so that of a thousand requests for a slot exactly one gets it and
the others a clear refusal. What an index cannot say — a visitor's overlapping meetings of other lengths, the
cap of their category — is checked under a lock on the registration row (FOR UPDATE; SQLite: the write lock).
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..core import activity
from ..core.db import insert_unless_exists, take_write_lock, utcnow
from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit, unstorable
from ..exhibitors.models import WITHDRAWN_STATUSES, Company, Exhibitor
from ..extensions import db
from ..leads import services as leads
from ..visitors.models import VISITOR_CATEGORY, Registration
from ..visitors.services import visible_to_exhibitor
from .meeting_models import LIVE, MEETING_STATUS, OPEN, Meeting, MeetingCap, MeetingSlot

SIDES = ("visitor", "exhibitor")
MIN_MINUTES, MAX_MINUTES = 5, 240
MAX_SLOTS_AT_ONCE = 300
MAX_TEXT = 500
# A booth scan of the visitor this long before the start, or until this long after the end, is the meeting.
SCAN_BEFORE, SCAN_AFTER = timedelta(minutes=30), timedelta(minutes=30)
REMIND_BEFORE = timedelta(hours=1)  # the reminder mail leaves within the hour before a meeting
# Booth staff mark a visitor arrived from this long before the start (not the day before).
ARRIVE_BEFORE = timedelta(minutes=30)


def _text(value: str | None, field: str) -> str:
    if value and unstorable(value):
        raise ServiceError(_l("This text contains characters that cannot be stored."), field)
    value = " ".join((value or "").split())
    if len(value) > MAX_TEXT:
        raise ServiceError(_l("At most %(n)d characters.", n=MAX_TEXT), field)
    return value


# --- slots ----------------------------------------------------------------------------------------------

def add_slots(exhibitor: Exhibitor, day: date, start: time, end: time, minutes: int, tables=("",), *,
              actor_id: int | None = None) -> list[MeetingSlot]:
    """Slots of ``minutes`` from ``start`` to ``end`` (the edition's local time) on ``day``, at each table;
    those that exist already are kept as they are. Returns the new ones."""
    edition = exhibitor.edition
    if not (MIN_MINUTES <= minutes <= MAX_MINUTES):
        raise ServiceError(_l("A meeting lasts %(min)d to %(max)d minutes.", min=MIN_MINUTES, max=MAX_MINUTES),
                           "minutes")
    if not (edition.starts_on <= day <= edition.ends_on):
        raise ServiceError(_l("Pick a day of the show."), "day")
    if end <= start:
        raise ServiceError(_l("The end comes after the start."), "end")
    if any(unstorable(t or "") for t in tables):
        raise ServiceError(_l("This text contains characters that cannot be stored."), "tables")
    tables = list(dict.fromkeys(" ".join(t.split())[:40] for t in tables)) or [""]
    zone = ZoneInfo(edition.timezone)
    first = datetime.combine(day, start, zone).astimezone(timezone.utc)
    last = datetime.combine(day, end, zone).astimezone(timezone.utc)
    step = timedelta(minutes=minutes)
    starts = []
    at = first
    while at + step <= last:
        starts.append(at)
        at += step
    if len(starts) * len(tables) > MAX_SLOTS_AT_ONCE:
        raise ServiceError(_l("At most %(n)d slots at once.", n=MAX_SLOTS_AT_ONCE), "minutes")
    if not starts:
        raise ServiceError(_l("Not even one meeting fits between start and end."), "end")
    lock_exhibitor(exhibitor)
    # A table holds one meeting at a time: slots of other lengths that overlap the new ones are refused
    # (the same slot again is kept as it is). Checked under the exhibitor's lock, so two forms at once
    # cannot both pass.
    existing = set()
    for table, s_at, e_at in db.session.execute(
            select(MeetingSlot.table_label, MeetingSlot.starts_at, MeetingSlot.ends_at).where(
                MeetingSlot.exhibitor_id == exhibitor.id, MeetingSlot.table_label.in_(tables),
                MeetingSlot.starts_at < last, MeetingSlot.ends_at > first)).all():
        if s_at in starts and e_at == s_at + step:
            existing.add((table, s_at))
            continue
        if any(s_at < at + step and e_at > at for at in starts):
            zone_at = s_at.astimezone(zone).strftime("%H:%M")
            raise ServiceError(_l("Table “%(table)s” has a slot at %(time)s that overlaps these: withdraw it first "
                                  "or choose other times.", table=table or _l("the stand"), time=zone_at), "start")
    made = []
    for table in tables:
        for at in starts:
            if (table, at) in existing:
                continue
            slot_id = insert_unless_exists(MeetingSlot, {
                "organizer_id": exhibitor.organizer_id, "edition_id": exhibitor.edition_id,
                "exhibitor_id": exhibitor.id, "table_label": table, "starts_at": at, "ends_at": at + step,
                "created_by_id": actor_id, "created_at": utcnow()}, None, MeetingSlot.id)
            if slot_id is not None:
                made.append(slot_id)
    if made:
        audit("meeting_slots.added", organizer_id=exhibitor.organizer_id, user_id=actor_id,
              details={"exhibitor_id": exhibitor.id, "slots": len(made), "day": day.isoformat(),
                       "minutes": minutes})
    return list(db.session.scalars(select(MeetingSlot).where(MeetingSlot.id.in_(made)))) if made else []


def remove_slot(slot: MeetingSlot, *, actor_id: int | None = None) -> None:
    """Withdraw a slot nobody holds (a slot with a live meeting is cancelled through the meeting). Past
    meetings of the slot (declined, cancelled) keep their time as history; their slot becomes NULL."""
    if db.session.scalar(select(Meeting.id).where(Meeting.slot_id == slot.id, Meeting.status.in_(LIVE))):
        raise ServiceError(_l("This slot has a meeting: cancel the meeting first."), "slot_id")
    audit("meeting_slot.removed", organizer_id=slot.organizer_id, user_id=actor_id, obj=slot,
          details={"exhibitor_id": slot.exhibitor_id, "starts_at": slot.starts_at.isoformat()})
    # what ON DELETE SET NULL does, said here too (SQLite may run without foreign keys)
    db.session.execute(update(Meeting).where(Meeting.slot_id == slot.id).values(slot_id=None),
                       execution_options={"synchronize_session": False})
    db.session.delete(slot)
    db.session.flush()


def slot_of_exhibitor(exhibitor_id: int, slot_id) -> MeetingSlot | None:
    if not isinstance(slot_id, int):
        return None
    return db.session.scalar(select(MeetingSlot).where(MeetingSlot.id == slot_id,
                                                       MeetingSlot.exhibitor_id == exhibitor_id))


def slot_in_edition(edition_id: int, slot_id) -> MeetingSlot | None:
    if not isinstance(slot_id, int):
        return None
    return db.session.scalar(select(MeetingSlot).options(joinedload(MeetingSlot.exhibitor))
                             .where(MeetingSlot.id == slot_id, MeetingSlot.edition_id == edition_id))


def exhibitor_slots(exhibitor_id: int) -> list[tuple[MeetingSlot, Meeting | None]]:
    """Every slot of the exhibitor, in time order, with its live meeting if it has one."""
    live = and_(Meeting.slot_id == MeetingSlot.id, Meeting.status.in_(LIVE))
    return [tuple(row) for row in db.session.execute(
        select(MeetingSlot, Meeting).outerjoin(Meeting, live).where(MeetingSlot.exhibitor_id == exhibitor_id)
        .order_by(MeetingSlot.starts_at, MeetingSlot.table_label)).all()]


def _free_stmt(exhibitor_ids, now: datetime | None):
    taken = select(Meeting.id).where(Meeting.slot_id == MeetingSlot.id, Meeting.status.in_(LIVE)).exists()
    return (select(MeetingSlot).join(Exhibitor, Exhibitor.id == MeetingSlot.exhibitor_id).where(
        MeetingSlot.exhibitor_id.in_(exhibitor_ids), Exhibitor.status.not_in(WITHDRAWN_STATUSES),
        MeetingSlot.starts_at > (now or utcnow()), ~taken)
        .order_by(MeetingSlot.starts_at, MeetingSlot.table_label))


def free_slots(exhibitor_id: int, *, now: datetime | None = None) -> list[MeetingSlot]:
    """The exhibitor's slots still to come that nobody holds (none for a withdrawn exhibitor)."""
    return list(db.session.scalars(_free_stmt([exhibitor_id], now)))


def free_slots_of(exhibitor_ids, *, now: datetime | None = None) -> dict[int, list[MeetingSlot]]:
    """free_slots of several exhibitors in one query (the visitor's invitations without a time)."""
    ids = list(set(exhibitor_ids))
    found: dict[int, list[MeetingSlot]] = {i: [] for i in ids}
    if ids:
        for slot in db.session.scalars(_free_stmt(ids, now)):
            found[slot.exhibitor_id].append(slot)
    return found


def exhibitor_offering(edition_id: int, exhibitor_id) -> dict | None:
    """One exhibitor of the edition as the visitor's page shows it (company, booth), unless withdrawn."""
    if not isinstance(exhibitor_id, int):
        return None
    row = db.session.execute(
        select(Exhibitor.id, Company.name, Exhibitor.hall, Exhibitor.stand)
        .join(Company, Company.id == Exhibitor.company_id)
        .where(Exhibitor.id == exhibitor_id, Exhibitor.edition_id == edition_id,
               Exhibitor.status.not_in(WITHDRAWN_STATUSES))).first()
    if row is None:
        return None
    return {"id": row[0], "name": row[1], "booth": "-".join(p for p in (row[2], row[3]) if p)}


def exhibitors_with_free_slots(edition_id: int, *, q: str = "", limit: int = 100) -> list[dict]:
    """For the visitor's page: the edition's exhibitors with free slots to come (company, booth, how many)."""
    taken = select(Meeting.id).where(Meeting.slot_id == MeetingSlot.id, Meeting.status.in_(LIVE)).exists()
    stmt = (select(Exhibitor.id, Company.name, Exhibitor.hall, Exhibitor.stand, func.count(MeetingSlot.id))
            .join(MeetingSlot, MeetingSlot.exhibitor_id == Exhibitor.id)
            .join(Company, Company.id == Exhibitor.company_id)
            .where(Exhibitor.edition_id == edition_id, Exhibitor.status.not_in(WITHDRAWN_STATUSES),
                   MeetingSlot.starts_at > utcnow(), ~taken)
            .group_by(Exhibitor.id, Company.name, Exhibitor.hall, Exhibitor.stand).order_by(Company.name).limit(limit))
    q = " ".join((q or "").split())[:100]
    if q:
        stmt = stmt.where(Company.name.ilike("%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                                             + "%", escape="\\"))
    return [{"id": i, "name": name, "booth": "-".join(p for p in (hall, stand) if p), "free": n}
            for i, name, hall, stand, n in db.session.execute(stmt)]


# --- caps per visitor category ----------------------------------------------------------------------

def caps(edition_id: int) -> dict[str, int]:
    return dict(db.session.execute(select(MeetingCap.category, MeetingCap.max_meetings)
                                   .where(MeetingCap.edition_id == edition_id)).all())


def set_caps(edition: Edition, values: dict[str, int | None], *, actor_id: int | None = None) -> bool:
    """The most meetings a visitor of each category may hold (None: no limit)."""
    current = {c.category: c for c in db.session.scalars(select(MeetingCap).where(MeetingCap.edition_id == edition.id))}
    changed = {}
    for category, value in values.items():
        if category not in VISITOR_CATEGORY:
            continue
        if value is not None and not (0 <= value <= 1000):
            raise ServiceError(_l("Between 0 and 1000."), f"cap_{category}")
        row = current.get(category)
        if value is None and row is not None:
            db.session.delete(row)
            changed[category] = None
        elif value is not None and row is None:
            db.session.add(MeetingCap(organizer_id=edition.organizer_id, edition_id=edition.id, category=category,
                                      max_meetings=value))
            changed[category] = value
        elif row is not None and row.max_meetings != value:
            row.max_meetings = value
            changed[category] = value
    if changed:
        db.session.flush()
        audit("meeting_caps.changed", organizer_id=edition.organizer_id, user_id=actor_id, object_type="editions",
              object_id=edition.id, details={"caps": changed})
    return bool(changed)


# --- requests -----------------------------------------------------------------------------------------

def lock_exhibitor(exhibitor: Exhibitor) -> None:
    """Hold the exhibitor's row until the commit: its slots are added by one request at a time."""
    take_write_lock(db.session)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Exhibitor.id).where(Exhibitor.id == exhibitor.id).with_for_update())


def lock_registration(registration: Registration) -> None:
    """Hold the visitor's row until the commit: their caps and overlaps are checked by one request at a time."""
    take_write_lock(db.session)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Registration.id).where(Registration.id == registration.id).with_for_update())


def _check_visitor(registration: Registration, starts_at: datetime | None, ends_at: datetime | None, *,
                   exclude: int | None = None, counting: bool = True) -> None:
    if registration.status != "confirmed" or registration.erased_at is not None:
        raise ServiceError(_l("Only confirmed registrations can meet exhibitors."), "registration_id")
    others = select(Meeting).where(Meeting.registration_id == registration.id, Meeting.status.in_(LIVE))
    if exclude is not None:
        others = others.where(Meeting.id != exclude)
    if counting:
        cap = db.session.scalar(select(MeetingCap.max_meetings).where(
            MeetingCap.edition_id == registration.edition_id, MeetingCap.category == registration.category))
        if cap is not None:
            held = db.session.scalar(select(func.count()).select_from(others.subquery()))  # live ones
            if held >= cap:
                raise ServiceError(_l("A visitor of this category may hold at most %(n)d meetings.", n=cap),
                                   "slot_id")
    if starts_at is not None and db.session.scalar(
            select(Meeting.id).where(Meeting.registration_id == registration.id, Meeting.status.in_(LIVE),
                                     Meeting.starts_at < ends_at, Meeting.ends_at > starts_at,
                                     *([Meeting.id != exclude] if exclude is not None else [])).limit(1)):
        raise ServiceError(_l("The visitor has another meeting at that time."), "slot_id")


def _check_slot(slot: MeetingSlot, exhibitor_id: int, edition_id: int, now: datetime) -> None:
    if slot.exhibitor_id != exhibitor_id or slot.edition_id != edition_id:
        raise ServiceError(_l("No such slot."), "slot_id")
    if slot.starts_at <= now:
        raise ServiceError(_l("This slot has begun already."), "slot_id")


def _why_refused(exhibitor_id: int, registration_id: int, slot_id: int | None, starts_at) -> ServiceError:
    """A request the unique indexes refused: which one, in words."""
    if slot_id is not None and db.session.scalar(select(Meeting.id).where(Meeting.slot_id == slot_id,
                                                                          Meeting.status.in_(LIVE))):
        return ServiceError(_l("Someone else has just taken this slot: pick another one."), "slot_id")
    if db.session.scalar(select(Meeting.id).where(Meeting.exhibitor_id == exhibitor_id,
                                                  Meeting.registration_id == registration_id,
                                                  Meeting.status.in_(OPEN))):
        return ServiceError(_l("There is a meeting between you already: move it instead."), "slot_id")
    return ServiceError(_l("The visitor has another meeting at that time."), "slot_id")


def _request(exhibitor: Exhibitor, registration: Registration, slot: MeetingSlot | None, side: str, *,
             message: str, actor_id: int | None) -> Meeting:
    now = utcnow()
    if registration.edition_id != exhibitor.edition_id or registration.organizer_id != exhibitor.organizer_id:
        raise ServiceError(_l("The visitor is not registered for this edition."), "registration_id")
    if exhibitor.status in WITHDRAWN_STATUSES:
        raise ServiceError(_l("This exhibitor has withdrawn from the show."), "exhibitor_id")
    message = _text(message, "message")
    if slot is not None:
        _check_slot(slot, exhibitor.id, exhibitor.edition_id, now)
    lock_registration(registration)
    starts_at, ends_at = (slot.starts_at, slot.ends_at) if slot is not None else (None, None)
    _check_visitor(registration, starts_at, ends_at)
    meeting_id = insert_unless_exists(Meeting, {
        "organizer_id": exhibitor.organizer_id, "edition_id": exhibitor.edition_id, "exhibitor_id": exhibitor.id,
        "registration_id": registration.id, "slot_id": slot.id if slot is not None else None,
        "starts_at": starts_at, "ends_at": ends_at, "status": "requested", "requested_by": side,
        "message": message, "reason": "", "uid": f"meeting-{uuid.uuid4()}@expo-crm", "sequence": 0,
        "created_by_id": actor_id, "created_at": now, "updated_at": now}, None, Meeting.id)
    if meeting_id is None:
        raise _why_refused(exhibitor.id, registration.id, slot.id if slot is not None else None, starts_at)
    meeting = db.session.get(Meeting, meeting_id)
    audit("meeting.requested", organizer_id=meeting.organizer_id, user_id=actor_id, obj=meeting,
          details={"by": side, "exhibitor_id": exhibitor.id, "registration_id": registration.id,
                   "slot_id": meeting.slot_id})
    _record(meeting, "meeting.requested", actor_id=actor_id, side=side)
    _notify(meeting, "requested")
    return meeting


def request_by_visitor(registration: Registration, slot: MeetingSlot, *, message: str = "") -> Meeting:
    """A visitor asks for a meeting in one of an exhibitor's free slots (the exhibitor answers)."""
    if slot is None:
        raise ServiceError(_l("Pick a time."), "slot_id")
    exhibitor = db.session.get(Exhibitor, slot.exhibitor_id)
    return _request(exhibitor, registration, slot, "visitor", message=message, actor_id=None)


def request_by_exhibitor(exhibitor: Exhibitor, registration: Registration, slot: MeetingSlot | None = None, *,
                         message: str = "", actor_id: int | None = None) -> Meeting:
    """An exhibitor invites a visitor, in one of its slots or (``slot=None``) letting the visitor pick one of
    its free slots when accepting. The visitor answers from their page."""
    return _request(exhibitor, registration, slot, "exhibitor", message=message, actor_id=actor_id)


# --- answers and moves ----------------------------------------------------------------------------

def lock_meeting(meeting: Meeting) -> Meeting:
    """Hold the meeting's row and read it again: two taps at once (two staff phones, a retried form) make one
    move, from the state the first one left."""
    take_write_lock(db.session)
    return db.session.execute(select(Meeting).where(Meeting.id == meeting.id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def _move(meeting: Meeting, target: str, side: str, *, actor_id: int | None, reason: str = "",
          details: dict | None = None, notify: str | None = None, notify_only: str | None = None) -> None:
    source = meeting.status
    if not MEETING_STATUS.can_move(source, target) and not (source == target == "requested"):
        raise ServiceError(_l("A meeting that is %(source)s cannot become %(target)s.",
                              source=MEETING_STATUS.label(source), target=MEETING_STATUS.label(target)), "move")
    meeting.status = target
    if reason:
        meeting.reason = reason
    db.session.flush()
    audit(f"meeting.{target}", organizer_id=meeting.organizer_id, user_id=actor_id, obj=meeting,
          details={"from": source, "to": target, "by": side, **(details or {})})
    _record(meeting, f"meeting.{target}", actor_id=actor_id, side=side)
    if notify:
        _notify(meeting, notify, only=notify_only)


def _take_slot(meeting: Meeting, slot: MeetingSlot) -> None:
    """Put the meeting into another slot; a slot taken meanwhile is refused (the index, in a savepoint)."""
    try:
        with db.session.begin_nested():
            meeting.slot_id, meeting.starts_at, meeting.ends_at = slot.id, slot.starts_at, slot.ends_at
            db.session.flush()
    except IntegrityError:
        raise ServiceError(_l("Someone else has just taken this slot: pick another one."), "slot_id") from None


def accept(meeting: Meeting, side: str, *, slot: MeetingSlot | None = None, actor_id: int | None = None) -> None:
    """The side that was asked agrees. An exhibitor's invitation without a time is accepted with one of its
    free slots (``slot``)."""
    lock_meeting(meeting)
    if meeting.status != "requested" or meeting.requested_by == side:
        raise ServiceError(_l("This meeting is not waiting for your answer."), "move")
    registration = meeting.registration
    lock_registration(registration)
    db.session.refresh(registration)  # a registration cancelled meanwhile: its meetings cannot be agreed
    if meeting.slot_id is None:
        if slot is None:
            raise ServiceError(_l("Pick a time."), "slot_id")
        _check_slot(slot, meeting.exhibitor_id, meeting.edition_id, utcnow())
        _check_visitor(registration, slot.starts_at, slot.ends_at, exclude=meeting.id, counting=False)
        _take_slot(meeting, slot)
    else:
        if meeting.starts_at <= utcnow():
            raise ServiceError(_l("This slot has begun already."), "slot_id")
        _check_visitor(registration, None, None, exclude=meeting.id, counting=False)
    meeting.sequence += 1
    _move(meeting, "accepted", side, actor_id=actor_id, notify="accepted")


def decline(meeting: Meeting, side: str, *, reason: str = "", actor_id: int | None = None) -> None:
    """The side that was asked says no. A moved meeting was in both calendars (sequence > 0): the calendar
    entries are cancelled (a higher SEQUENCE, METHOD:CANCEL to both sides)."""
    lock_meeting(meeting)
    if meeting.status != "requested" or meeting.requested_by == side:
        raise ServiceError(_l("This meeting is not waiting for your answer."), "move")
    reason = _text(reason, "reason")
    if meeting.sequence > 0:
        meeting.sequence += 1
    _move(meeting, "declined", side, actor_id=actor_id, reason=reason, notify="declined")


def cancel(meeting: Meeting, side: str, *, reason: str = "", actor_id: int | None = None,
           notify_only: str | None = None) -> None:
    """Either side calls a request or an agreed meeting off; the calendar entry is cancelled. An agreed
    meeting that has ended cannot be cancelled (it was held, or it is a no-show). ``notify_only``: mail
    that side only (an erased visitor is told nothing)."""
    lock_meeting(meeting)
    if meeting.status not in OPEN:
        raise ServiceError(_l("Only meetings to come can be cancelled."), "move")
    if meeting.status == "accepted" and meeting.ends_at is not None and meeting.ends_at <= utcnow():
        raise ServiceError(_l("This meeting is over: mark it met or no-show instead."), "move")
    reason = _text(reason, "reason")
    was_in_calendar = meeting.status == "accepted" or meeting.sequence > 0
    if was_in_calendar:
        meeting.sequence += 1
    _move(meeting, "cancelled", side, actor_id=actor_id, reason=reason, notify="cancelled",
          notify_only=notify_only)


def reschedule(meeting: Meeting, side: str, slot: MeetingSlot, *, actor_id: int | None = None) -> None:
    """One side moves the meeting to another of the exhibitor's slots; the other side is asked again."""
    lock_meeting(meeting)
    if meeting.status not in OPEN:
        raise ServiceError(_l("Only meetings to come can be moved."), "move")
    if slot.id == meeting.slot_id:
        raise ServiceError(_l("The meeting is in this slot already."), "slot_id")
    _check_slot(slot, meeting.exhibitor_id, meeting.edition_id, utcnow())
    registration = meeting.registration
    lock_registration(registration)
    _check_visitor(registration, slot.starts_at, slot.ends_at, exclude=meeting.id, counting=False)
    old = meeting.starts_at
    _take_slot(meeting, slot)
    meeting.sequence += 1
    meeting.reminded_at = None  # the new time gets its own reminder
    meeting.requested_by = side
    _move(meeting, "requested", side, actor_id=actor_id, notify="rescheduled",
          details={"from_time": old.isoformat() if old else None, "to_time": slot.starts_at.isoformat()})


def mark_arrived(meeting: Meeting, *, actor_id: int | None = None, via: str = "staff",
                 at: datetime | None = None) -> None:
    """The visitor came (booth staff on their phone, or a booth scan during the meeting's time)."""
    lock_meeting(meeting)
    if meeting.status not in ("accepted", "no_show"):
        raise ServiceError(_l("Only agreed meetings can be marked."), "move")
    if meeting.starts_at is None or (at or utcnow()) < meeting.starts_at - ARRIVE_BEFORE:
        raise ServiceError(_l("The meeting has not begun yet."), "move")
    meeting.arrived_at = at or meeting.arrived_at or utcnow()
    _move(meeting, "attended", "exhibitor", actor_id=actor_id, details={"via": via})


def mark_no_show(meeting: Meeting, *, actor_id: int | None = None) -> None:
    lock_meeting(meeting)
    if meeting.status not in ("accepted", "attended"):
        raise ServiceError(_l("Only agreed meetings can be marked."), "move")
    if meeting.starts_at is None or meeting.starts_at > utcnow():
        raise ServiceError(_l("The meeting has not begun yet."), "move")
    meeting.arrived_at = None
    _move(meeting, "no_show", "exhibitor", actor_id=actor_id)


def attended_from_scans(*, edition_id: int | None = None, exhibitor_id: int | None = None,
                        now: datetime | None = None) -> int:
    """Agreed meetings whose visitor's badge was scanned at the exhibitor's booth around the meeting's time
    become "met" — derived from the leads (a scan updates the lead's last scan time), never from the scan
    path itself. Returns how many."""
    now = now or utcnow()
    stmt = select(Meeting).where(Meeting.status == "accepted", Meeting.starts_at <= now + SCAN_BEFORE,
                                 Meeting.starts_at >= now - timedelta(days=7))
    if edition_id is not None:
        stmt = stmt.where(Meeting.edition_id == edition_id)
    if exhibitor_id is not None:
        stmt = stmt.where(Meeting.exhibitor_id == exhibitor_id)
    meetings = list(db.session.scalars(stmt))
    if not meetings:
        return 0
    times = leads.scan_times((m.exhibitor_id, m.registration_id) for m in meetings)
    done = 0
    for meeting in meetings:
        scanned = times.get((meeting.exhibitor_id, meeting.registration_id))
        if scanned and meeting.starts_at - SCAN_BEFORE <= scanned[1] <= meeting.ends_at + SCAN_AFTER:
            try:
                mark_arrived(meeting, via="scan", at=scanned[1])
            except ServiceError:  # moved meanwhile (cancelled, marked by hand): theirs stands
                continue
            done += 1
    return done


# --- reading ------------------------------------------------------------------------------------------

def meeting_of_exhibitor(exhibitor_id: int, meeting_id) -> Meeting | None:
    if not isinstance(meeting_id, int):
        return None
    return db.session.scalar(select(Meeting).where(Meeting.id == meeting_id, Meeting.exhibitor_id == exhibitor_id))


def meeting_of_registration(registration_id: int, meeting_id) -> Meeting | None:
    if not isinstance(meeting_id, int):
        return None
    return db.session.scalar(select(Meeting).where(Meeting.id == meeting_id,
                                                   Meeting.registration_id == registration_id))


def _ordered(stmt):
    return stmt.order_by(Meeting.starts_at.is_(None).desc(), Meeting.starts_at, Meeting.id)


def exhibitor_meetings(exhibitor_id: int, *, statuses=None, day: date | None = None, zone: ZoneInfo | None = None
                       ) -> list[Meeting]:
    stmt = select(Meeting).options(joinedload(Meeting.registration).joinedload(Registration.person),
                                   joinedload(Meeting.slot)).where(Meeting.exhibitor_id == exhibitor_id)
    if statuses:
        stmt = stmt.where(Meeting.status.in_(statuses))
    if day is not None:
        start = datetime.combine(day, time.min, zone or ZoneInfo("UTC")).astimezone(timezone.utc)
        stmt = stmt.where(Meeting.starts_at >= start, Meeting.starts_at < start + timedelta(days=1))
    return list(db.session.scalars(_ordered(stmt)))


def registration_meetings(registration_id: int) -> list[Meeting]:
    return list(db.session.scalars(_ordered(
        select(Meeting).options(joinedload(Meeting.exhibitor).joinedload(Exhibitor.company), joinedload(Meeting.slot))
        .where(Meeting.registration_id == registration_id))))


def edition_meetings(scope: Scope, edition_id: int, *, status: str = "", limit: int = 500) -> list[Meeting]:
    stmt = scoped(Meeting, scope).options(
        joinedload(Meeting.exhibitor).joinedload(Exhibitor.company),
        joinedload(Meeting.registration).joinedload(Registration.person), joinedload(Meeting.slot)
    ).where(Meeting.edition_id == edition_id)
    if status in MEETING_STATUS:
        stmt = stmt.where(Meeting.status == status)
    return list(db.session.scalars(_ordered(stmt).limit(limit)))


def edition_counts(scope: Scope, edition_id: int) -> dict[str, int]:
    return dict(db.session.execute(scoped(Meeting, scope, Meeting.status, func.count(Meeting.id))
                                   .where(Meeting.edition_id == edition_id).group_by(Meeting.status)).all())


def visitor_as_seen(meeting: Meeting) -> dict:
    """What the exhibitor may see of the visitor of a meeting: name, company, job title and category while
    the visitor shares them; the contact details (mail, phone) only once the meeting is agreed."""
    seen = visible_to_exhibitor(meeting.registration)
    if meeting.status not in ("accepted", "attended", "no_show"):
        seen = {k: v for k, v in seen.items() if k not in ("email", "phone")}
    return seen


def met_pairs(edition_ids) -> list[tuple[int, int, str]]:
    """(exhibitor id, registration id, status) of every meeting made in these editions (ming's history signal:
    accepted/attended = met, no_show, declined, cancelled, requested)."""
    ids = list(edition_ids)
    if not ids:
        return []
    return [tuple(row) for row in db.session.execute(
        select(Meeting.exhibitor_id, Meeting.registration_id, Meeting.status).where(Meeting.edition_id.in_(ids))
        .order_by(Meeting.id))]


def open_pairs(exhibitor_id: int) -> set[int]:
    """The registrations the exhibitor has a request or an agreed meeting with (no second request)."""
    return set(db.session.scalars(select(Meeting.registration_id).where(Meeting.exhibitor_id == exhibitor_id,
                                                                        Meeting.status.in_(OPEN))))


# --- timelines and mail ------------------------------------------------------------------------------

def when_text(meeting: Meeting) -> str:
    if meeting.starts_at is None:
        return ""
    zone = ZoneInfo(db.session.get(Edition, meeting.edition_id).timezone)
    return meeting.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _record(meeting: Meeting, kind: str, *, actor_id: int | None, side: str) -> None:
    """On the visitor's and the company's timelines: who met whom and when, never the messages."""
    exhibitor = meeting.exhibitor or db.session.get(Exhibitor, meeting.exhibitor_id)
    registration = meeting.registration or db.session.get(Registration, meeting.registration_id)
    details = {"exhibitor": exhibitor.company.name, "visitor": registration.visitor_name, "when": when_text(meeting),
               "by": side}
    for subject_type, subject_id in (("person", registration.person_id), ("company", exhibitor.company_id)):
        activity.record(kind, organizer_id=meeting.organizer_id, subject_type=subject_type, subject_id=subject_id,
                        edition_id=meeting.edition_id, user_id=actor_id, obj=meeting, details=details)


def _notify(meeting: Meeting, kind: str, *, only: str | None = None) -> None:
    """Tell the other side (and, for an agreed or cancelled meeting, both) by mail after the commit;
    ``only``: that side alone."""
    from . import meeting_tasks

    if only is None:
        meeting_tasks.send_meeting_mail.delay(meeting.id, kind)
    else:
        meeting_tasks.send_meeting_mail.delay(meeting.id, kind, only)


def due_reminders(now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(db.session.scalars(select(Meeting.id).join(Registration, Registration.id == Meeting.registration_id)
                                   .where(Meeting.status == "accepted", Meeting.reminded_at.is_(None),
                                          Meeting.starts_at > now, Meeting.starts_at <= now + REMIND_BEFORE,
                                          Registration.status == "confirmed").order_by(Meeting.starts_at)))


def claim_reminder(meeting_id: int, now: datetime | None = None) -> bool:
    """Mark the meeting reminded, once: two overlapping runs never remind twice."""
    result = db.session.execute(update(Meeting).where(Meeting.id == meeting_id, Meeting.reminded_at.is_(None),
                                                      Meeting.status == "accepted")
                                .values(reminded_at=now or utcnow()), execution_options={"synchronize_session": False})
    return result.rowcount == 1



# The moves each side may make on a meeting from its page (answer()); staff also mark attendance.
SIDE_MOVES = {"exhibitor": ("accept", "decline", "cancel", "arrived", "no_show"),
              "visitor": ("accept", "decline", "cancel")}


def answer(meeting: Meeting, side: str, move: str, *, reason: str = "", slot: MeetingSlot | None = None,
           actor_id: int | None = None) -> None:
    """One side's answer to a meeting, by the move's name (the pages' buttons): accept (a visitor accepting an
    invitation without a time picks ``slot``), decline or cancel (with a reason), and for the stand's staff
    arrived / no-show."""
    if move not in SIDE_MOVES.get(side, ()):
        raise ServiceError(_l("No such meeting."))
    if move == "accept":
        accept(meeting, side, slot=slot if meeting.slot_id is None else None, actor_id=actor_id)
    elif move == "decline":
        decline(meeting, side, reason=reason, actor_id=actor_id)
    elif move == "cancel":
        cancel(meeting, side, reason=reason, actor_id=actor_id)
    elif move == "arrived":
        mark_arrived(meeting, actor_id=actor_id)
    else:
        mark_no_show(meeting, actor_id=actor_id)


def cancel_for_cancelled_registrations(*, now: datetime | None = None, limit: int = 500) -> int:
    """Meetings to come of visitors whose registration was cancelled are cancelled (for the visitor: the
    visitors module cannot call up to this one, so the reminder beat does it; until then such meetings can be
    neither accepted nor reminded). The exhibitor is told. Returns how many."""
    rows = list(db.session.scalars(
        select(Meeting).join(Registration, Registration.id == Meeting.registration_id)
        .where(Meeting.status.in_(OPEN), Registration.status == "cancelled").order_by(Meeting.id).limit(limit)))
    done = 0
    for meeting in rows:
        if meeting.status == "accepted" and meeting.ends_at is not None and meeting.ends_at <= (now or utcnow()):
            continue  # over already: staff mark it no-show
        try:
            cancel(meeting, "visitor", reason=str(_l("Registration cancelled.")))
        except ServiceError:
            continue
        done += 1
    return done
