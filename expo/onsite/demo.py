"""The on-site part of the demo show: entrance check-ins of the visitors who came, on the show days so far
(today only up to now), and the booth scans behind the leads. A visitor enters after registering and
before their first booth scan of the day; walk-ups enter right after registering at the venue."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from ..core.demo import DemoWorld
from ..extensions import db
from .models import Scan

GATES = ("North 北门", "South 南门", "East 东门")
WALK_UP_MINUTES = 15  # from registering at the desk to the gate, at most


def contribute(world: DemoWorld) -> None:
    rng = world.rng
    onsite_id = world.user_ids["onsite"]
    for edition in world.editions:
        windows = world.show_windows(edition)
        if not windows:
            continue
        first_lead: dict[tuple[int, int], datetime] = {}  # (registration, day) -> first booth scan that day
        for lead in world.leads.get(edition.id, []):
            day = _day_of(windows, lead.at)
            key = (lead.registration_id, day)
            first_lead[key] = min(first_lead.get(key, lead.at), lead.at)
        lead_days: dict[int, set[int]] = {}
        for registration_id, day in first_lead:
            lead_days.setdefault(registration_id, set()).add(day)

        rows = []
        for registration in world.registrations.get(edition.id, []):
            if not registration.came:
                continue
            open_days = [d for d, (start, end) in enumerate(windows) if end >= registration.created_at]
            # A walk-up registered at the venue during a show day: they came in right after.
            walk_up_day = next((d for d, (start, end) in enumerate(windows)
                                if start <= registration.created_at <= end), None)
            days = set(lead_days.get(registration.id, ()))
            if walk_up_day is not None:
                days.add(walk_up_day)
            if not days and open_days:
                days = set(rng.sample(open_days, k=rng.randint(1, min(2, len(open_days)))))
            for day in sorted(days):
                start, end = windows[day]
                earliest = max(start, registration.created_at)
                latest = min(end, first_lead.get((registration.id, day), end))
                if day == walk_up_day:
                    latest = min(latest, registration.created_at + timedelta(minutes=WALK_UP_MINUTES))
                rows.append(_scan(world, edition, onsite_id, None, registration.id, "checkin",
                                  world.moment(earliest, latest), gate=rng.choice(GATES)))
        for lead in world.leads.get(edition.id, []):
            row = _scan(world, edition, lead.captured_by_id or onsite_id, lead.exhibitor_id, lead.registration_id,
                        "lead", lead.at)
            row["lead_id"] = lead.id
            rows.append(row)
        if rows:
            db.session.execute(insert(Scan), rows)


def _day_of(windows, moment: datetime) -> int:
    return next(d for d, (start, end) in enumerate(windows) if start <= moment <= end)


def _scan(world, edition, user_id, exhibitor_id, registration_id, kind, moment, gate=None) -> dict:
    return {"organizer_id": world.organizer.id, "edition_id": edition.id, "user_id": user_id,
            "exhibitor_id": exhibitor_id, "registration_id": registration_id, "kind": kind,
            "client_scan_id": secrets.token_hex(16), "raw_code": "(demo)", "gate": gate, "scanned_at": moment,
            "received_at": moment, "result": "ok", "reason": None,
            "admitted_on": moment.astimezone(ZoneInfo(edition.timezone)).date() if kind == "checkin" else None}
