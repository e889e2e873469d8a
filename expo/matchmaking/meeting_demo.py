"""Demo meetings: most exhibitors publish slots on the show days (mornings and afternoons, 30 minutes); visitors
met some of them. Past slots are held (the visitor's badge was scanned at the booth), missed or cancelled; slots to
come are agreed, asked for by either side, or declined. Nothing happens after ``world.now``: a meeting is asked
for before its time and after the visitor registered."""
from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from ..core import activity
from ..extensions import db
from ..visitors.models import Person, Registration
from .meeting_models import Meeting, MeetingSlot

HOURS = ((time(10, 0), time(12, 0)), (time(14, 0), time(16, 0)))
LENGTH = timedelta(minutes=30)


def _slot_rows(world, edition, exhibitor) -> list[dict]:
    zone = ZoneInfo(edition.timezone)
    rows = []
    day = edition.starts_on
    while day <= edition.ends_on:
        for start, end in HOURS:
            at = datetime.combine(day, start, zone).astimezone(timezone.utc)
            last = datetime.combine(day, end, zone).astimezone(timezone.utc)
            while at + LENGTH <= last:
                rows.append({"organizer_id": exhibitor.organizer_id, "edition_id": edition.id,
                             "exhibitor_id": exhibitor.id, "table_label": "", "starts_at": at,
                             "ends_at": at + LENGTH, "created_at": min(world.now, world.registration_opens(edition)
                                                                       .astimezone(timezone.utc))})
                at += LENGTH
        day += timedelta(days=1)
    return rows


def contribute(world) -> None:
    rng = world.rng
    for edition in world.editions:
        exhibitors = [e for e in world.exhibitors.get(edition.id, []) if rng.random() < 0.7]
        registrations = [r for r in world.registrations.get(edition.id, []) if not r.cancelled]
        if not exhibitors or not registrations:
            continue
        slot_rows = [row for exhibitor in exhibitors for row in _slot_rows(world, edition, exhibitor)]
        db.session.execute(insert(MeetingSlot), slot_rows)
        slots: dict[int, list] = {}
        for slot_id, exhibitor_id, starts_at, ends_at in db.session.execute(
                select(MeetingSlot.id, MeetingSlot.exhibitor_id, MeetingSlot.starts_at, MeetingSlot.ends_at)
                .where(MeetingSlot.edition_id == edition.id)):
            slots.setdefault(exhibitor_id, []).append((slot_id, starts_at, ends_at))
        scanned = {(lead.exhibitor_id, lead.registration_id) for lead in world.leads.get(edition.id, [])}
        busy: set = set()  # (registration id, start): a visitor is in one place at a time
        rows, timeline = [], []
        names = dict(db.session.execute(
            select(Registration.id, func.coalesce(func.nullif(Registration.name_as_given, ""), Person.name))
            .join(Person, Person.id == Registration.person_id).where(Registration.edition_id == edition.id)).all())
        for exhibitor in exhibitors:
            offered = slots.get(exhibitor.id, [])
            for (slot_id, starts_at, ends_at), registration in zip(
                    rng.sample(offered, k=min(len(offered), rng.randint(2, 6))),
                    rng.sample(registrations, k=min(len(registrations), 6))):
                if (registration.id, starts_at) in busy or registration.created_at >= min(starts_at, world.now):
                    continue
                busy.add((registration.id, starts_at))
                asked = world.moment(registration.created_at, min(starts_at, world.now))
                if ends_at <= world.now:  # over
                    if (exhibitor.id, registration.id) in scanned or (registration.came and rng.random() < 0.7):
                        status = "attended"
                    else:
                        status = rng.choice(("no_show", "cancelled"))
                elif starts_at <= world.now:
                    status = "accepted"
                else:
                    status = rng.choice(("accepted", "accepted", "accepted", "requested", "requested", "declined"))
                rows.append({"organizer_id": exhibitor.organizer_id, "edition_id": edition.id,
                             "exhibitor_id": exhibitor.id, "registration_id": registration.id,
                             "slot_id": slot_id,
                             "starts_at": starts_at, "ends_at": ends_at, "status": status,
                             "requested_by": rng.choice(("visitor", "visitor", "exhibitor")), "message": "",
                             "reason": "", "uid": f"meeting-{uuid.uuid4()}@expo-crm",
                             "sequence": 0 if status in ("requested", "declined") else 1,
                             "arrived_at": starts_at + timedelta(minutes=rng.randint(0, 8))
                             if status == "attended" else None,
                             "created_at": asked, "updated_at": asked})
                if status in ("accepted", "attended", "no_show"):
                    kind = {"accepted": "meeting.accepted", "attended": "meeting.attended",
                            "no_show": "meeting.no_show"}[status]
                    details = {"exhibitor": exhibitor.company.name, "visitor": names.get(registration.id, ""),
                               "by": "exhibitor",
                               "when": starts_at.astimezone(ZoneInfo(edition.timezone)).strftime("%Y-%m-%d %H:%M")}
                    at = min(world.now, ends_at) if status != "accepted" else asked
                    timeline += [{"kind": kind, "organizer_id": exhibitor.organizer_id, "subject_type": "person",
                                  "subject_id": registration.person_id, "edition_id": edition.id,
                                  "details": details, "at": at},
                                 {"kind": kind, "organizer_id": exhibitor.organizer_id, "subject_type": "company",
                                  "subject_id": exhibitor.company_id, "edition_id": edition.id,
                                  "details": details, "at": at}]
        if rows:
            db.session.execute(insert(Meeting), rows)
        activity.record_many(timeline)
