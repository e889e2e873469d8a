"""Import kind of the on-site module: check-ins of a past (or this) edition.

A row names the visitor (registration reference or email: registrations are imported first) and the
moment of entry. An imported check-in is a scan like the gate's — kind "checkin", raw code "import",
scanned by the importing user — admitted once per show day (a second entry that day is stored as a
duplicate, as the gate would). A check-in with the same reference, or of the same visitor at the same
moment, is matched: a rerun of the same file adds nothing.
"""
from __future__ import annotations

import hashlib
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, or_, select

from ..core.db import utcnow
from ..core.imports import Field, Kind, in_edition_zone
from ..core.services import ServiceError
from ..extensions import db
from ..visitors.services import VISITOR_FIELDS, find_registrations
from .models import Scan


def checkin_fields() -> tuple[Field, ...]:
    return (
        Field("external_ref", _l("Check-in reference"), max_length=100, example="CI-99812",
              aliases=("check-in id", "scan id", "id", "签到编号", "入场编号", "编号")),
        *VISITOR_FIELDS,
        Field("scanned_at", _l("Checked in at"), "datetime", required=True, example="2024-03-19 09:12",
              aliases=("time", "date", "entry time", "check-in time", "签到时间", "入场时间", "时间")),
        Field("gate", _l("Gate"), max_length=60, example="North gate", aliases=("entrance", "入口", "通道", "闸口")),
    )


def process_checkins(context, rows, write: bool) -> None:
    if context.user_id is None:
        raise ServiceError(_l("Check-ins are imported by a staff member: name one (expo import --user)."))
    find_registrations(context, rows)
    pending = [r for r in rows if r.status is None]
    if not pending:
        return
    zone = ZoneInfo(context.edition.timezone or "UTC")
    for row in pending:
        row.values["at"] = in_edition_zone(context.edition, row.values["scanned_at"])
        row.values["day"] = row.values["at"].astimezone(zone).date()
    refs = {r.values["external_ref"] for r in pending if r.values.get("external_ref")}
    reg_ids = {r.values["registration_id"] for r in pending}
    by_ref, by_moment, admitted = set(), set(), set()
    for scan in db.session.execute(select(Scan.external_ref, Scan.registration_id, Scan.scanned_at, Scan.admitted_on)
                                   .where(Scan.edition_id == context.edition.id, Scan.kind == "checkin",
                                          or_(Scan.external_ref.in_(refs), Scan.registration_id.in_(reg_ids)))):
        if scan.external_ref:
            by_ref.add(scan.external_ref)
        by_moment.add((scan.registration_id, scan.scanned_at.replace(microsecond=0)))
        if scan.admitted_on:
            admitted.add((scan.registration_id, scan.admitted_on))
    memory = context.remember("checkins")
    seen_refs, seen_moments, seen_days = (memory.setdefault(n, set()) for n in ("refs", "moments", "days"))
    values = []
    now = utcnow()
    for row in pending:
        v = row.values
        moment = (v["registration_id"], v["at"].replace(microsecond=0))
        ref = v.get("external_ref")
        if (ref and (ref in by_ref or ref in seen_refs)) or moment in by_moment or moment in seen_moments:
            row.status, row.note = "matched", "check-in"
            continue
        row.status = "new"
        day = (v["registration_id"], v["day"])
        first = day not in admitted and day not in seen_days
        seen_moments.add(moment)
        if ref:
            seen_refs.add(ref)
        if first:
            seen_days.add(day)
        # unique per user across editions (a source system may number check-ins from 1 each edition)
        client_id = f"import:{context.edition.id}:" + (
            ref if ref and len(ref) <= 40 else
            hashlib.sha256((ref or f"{moment[0]}|{moment[1].isoformat()}").encode()).hexdigest()[:40])
        values.append({"organizer_id": context.organizer_id, "edition_id": context.edition.id,
                       "user_id": context.user_id, "registration_id": v["registration_id"], "kind": "checkin",
                       "client_scan_id": client_id[:64], "raw_code": "import", "gate": v.get("gate"),
                       "scanned_at": v["at"], "received_at": now, "result": "ok" if first else "duplicate",
                       "reason": None, "admitted_on": v["day"] if first else None, "external_ref": ref})
        row.written = write
    if write and values:
        db.session.execute(insert(Scan), values)


def importers() -> list[Kind]:
    return [Kind("checkins", _l("Check-ins (this or a past edition)"), checkin_fields(), process_checkins,
                 needs_edition=True,
                 description=_l("Entries at the gate: the registrations must be imported first."),
                 one_of=(("registration_ref", "visitor_email"),))]
