"""The on-site part of the demo show: entrance check-ins of the visitors who came, on the show days so far
(today only up to now), and the booth scans behind the leads. A visitor enters after registering and
before their first booth scan of the day; walk-ups enter right after registering at the venue."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

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
        if edition is world.live:
            rows += _zones_and_flows(world, edition, windows, rows)
        if rows:
            db.session.execute(insert(Scan), rows)
        if edition is world.live:
            _print_jobs(world, edition, onsite_id)
    from . import staff_badge_demo  # the booth staff's badges of the live edition (issue 8)

    staff_badge_demo.contribute(world)


def _print_jobs(world, edition, onsite_id) -> None:
    """The desk printer's queue of the live show: two walk-up badges waiting, one printed a moment ago."""
    from ..visitors.models import Registration
    from .print_models import PrintJob

    ids = [r.id for r in world.registrations.get(edition.id, []) if r.came and not r.cancelled]
    registrations = list(db.session.scalars(select(Registration).where(
        Registration.id.in_(ids[-20:]), Registration.status == "confirmed").order_by(Registration.id)))[-3:]
    rows = []
    for n, registration in enumerate(registrations):
        printed = n == 0
        asked = world.now - timedelta(minutes=30 - 10 * n)
        rows.append({"organizer_id": edition.organizer_id, "edition_id": edition.id,
                     "registration_id": registration.id, "badge_serial": registration.badge_serial,
                     "status": "printed" if printed else "queued", "origin": "kiosk" if n else "desk",
                     "station": "Kiosk 1" if n else "Desk A", "request_key": secrets.token_hex(16),
                     "requested_by_id": onsite_id, "requested_at": asked, "attempts": 0, "failure": "",
                     "done_by_id": onsite_id if printed else None,
                     "done_at": asked + timedelta(minutes=2) if printed else None})
    if rows:
        db.session.execute(insert(PrintJob), rows)


def _day_of(windows, moment: datetime) -> int:
    return next(d for d, (start, end) in enumerate(windows) if start <= moment <= end)


def _scan(world, edition, user_id, exhibitor_id, registration_id, kind, moment, gate=None) -> dict:
    return {"organizer_id": world.organizer.id, "edition_id": edition.id, "user_id": user_id,
            "exhibitor_id": exhibitor_id, "registration_id": registration_id, "kind": kind,
            "client_scan_id": secrets.token_hex(16), "raw_code": "(demo)", "gate": gate, "scanned_at": moment,
            "received_at": moment, "result": "ok", "reason": None,
            "admitted_on": moment.astimezone(ZoneInfo(edition.timezone)).date() if kind == "checkin" else None,
            "zone_id": None, "direction": None}


# --- gates and zones of the live edition (expo.onsite.zones): the halls, a conference room, a VIP lounge ---
HALL_GATES = {"North 北门": "N1", "South 南门": "S1", "East 东门": "E1"}


def _zones_and_flows(world, edition, windows, rows) -> list[dict]:
    """Zones and gates for the live edition; its entrance check-ins become entries into the halls through the
    gates' codes; some visitors leave (and a few come back), buyers and media visit the conference room, VIPs
    the lounge — the live attendance page and the "inside now" card have something to show."""
    from ..core.scoping import Scope
    from ..visitors.models import Registration
    from . import zones

    rng = world.rng
    scope, owner = Scope(edition.organizer_id), world.user_ids.get("owner")
    everyone = {c: None for c in ("buyer", "trade_visitor", "public", "media", "vip", "exhibitor_staff", "speaker")}
    halls = zones.save_zone(scope, edition, name_en="Exhibition halls", name_zh="展馆", capacity=None,
                            access=everyone, reentry="free", admission=True, actor_id=owner)
    conference = zones.save_zone(scope, edition, name_en="Conference room", name_zh="会议室", capacity=60,
                                 access={"buyer": None, "media": None, "speaker": None}, reentry="daily",
                                 admission=False, actor_id=owner)
    lounge = zones.save_zone(scope, edition, name_en="VIP lounge", name_zh="贵宾休息室", capacity=25,
                             access={"vip": None, "speaker": None}, reentry="free", admission=False, actor_id=owner)
    for name, code in HALL_GATES.items():
        zones.save_gate(scope, edition, code=code, name=name, zone_id=halls.id,
                        direction="in" if code == "N1" else "both", actor_id=owner)
    zones.save_gate(scope, edition, code="CONF", name="Conference room 会议室", zone_id=conference.id,
                    direction="both", actor_id=owner)
    zones.save_gate(scope, edition, code="VIP", name="VIP lounge 贵宾室", zone_id=lounge.id, direction="both",
                    actor_id=owner)
    categories = dict(db.session.execute(select(Registration.id, Registration.category)
                                         .where(Registration.edition_id == edition.id)).all())
    onsite_id = world.user_ids["onsite"]
    extra = []
    for row in rows:
        if row["kind"] != "checkin":
            continue
        row.update(gate=HALL_GATES.get(row["gate"], "N1"), zone_id=halls.id, direction="in")
        entered = row["scanned_at"]
        end = next((e for s, e in windows if s <= entered <= e), entered)
        category = categories.get(row["registration_id"])
        if category in ("buyer", "media") and rng.random() < 0.35:
            extra += _visit(world, edition, onsite_id, row, "CONF", conference.id, entered, end)
        elif category == "vip" and rng.random() < 0.7:
            extra += _visit(world, edition, onsite_id, row, "VIP", lounge.id, entered, end)
        # Most leave through a gate that scans exits on a past day; fewer so far today; some come back.
        leaves = rng.random() < (0.7 if end < world.now - timedelta(minutes=1) else 0.35)
        if leaves and end > entered + timedelta(minutes=30):
            out_at = world.moment(entered + timedelta(minutes=30), end)
            extra.append(_gate_scan(world, edition, onsite_id, row, rng.choice(("S1", "E1")), halls.id, "out", out_at))
            if rng.random() < 0.25 and end > out_at + timedelta(minutes=10):
                back = world.moment(out_at + timedelta(minutes=10), end)
                extra.append(_gate_scan(world, edition, onsite_id, row, rng.choice(("S1", "E1")), halls.id, "in", back))
    return extra


def _visit(world, edition, user_id, entry, code, zone_id, entered, end) -> list[dict]:
    """An entry into a room after the halls' entry, and (mostly) an exit from it."""
    if end <= entered + timedelta(minutes=5):
        return []
    at = world.moment(entered + timedelta(minutes=5), end)
    out = [_gate_scan(world, edition, user_id, entry, code, zone_id, "in", at)]
    if world.rng.random() < 0.75 and end > at + timedelta(minutes=20):
        out.append(_gate_scan(world, edition, user_id, entry, code, zone_id, "out",
                              world.moment(at + timedelta(minutes=20), end)))
    return out


def _gate_scan(world, edition, user_id, entry, code, zone_id, direction, moment) -> dict:
    row = _scan(world, edition, user_id, None, entry["registration_id"], "checkin", moment, gate=code)
    row.update(admitted_on=None, zone_id=zone_id, direction=direction)
    return row

