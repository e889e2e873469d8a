"""The floor plan (issue 8): halls, stands, and a stand assigned to an exhibitor of the pipeline.

A stand is *free* (nobody, or an exhibitor who fell out: lost or cancelled), *held* (an exhibitor still in the
pipeline: prospect, contacted, negotiating) or *sold* (contracted, paid, exhibited). Assigning takes the stand's
row lock (PostgreSQL) or the write lock (SQLite) first, then reads the stand afresh: two sales reps clicking
"assign" on the same stand at the same moment get one assignment and one clear refusal, never two exhibitors on
one stand. Assigning copies the hall, stand number, m² and booth type onto the exhibitor."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ..core import activity
from ..core.db import take_write_lock, utcnow
from ..core.models import Edition
from ..core.scoping import Scope, get_scoped, scoped
from ..core.services import ServiceError, audit, unstorable
from ..core.states import Machine, State
from ..extensions import db
from .models import PARTICIPATING_STATUSES, WITHDRAWN_STATUSES, BoothType, Company, Exhibitor
from .floor_models import Hall, Stand
from .pipeline import MAX_AREA

# What the plan shows per stand (not stored: it follows the assigned exhibitor's stage).
STAND_STATE = Machine("stand_state", [
    State("free", _l("Free"), "success", "square"),
    State("held", _l("Held"), "warning", "hourglass-split"),
    State("sold", _l("Sold"), "danger", "check-square-fill"),
])
# Fill, stroke and text colours of the plan (SVG presentation attributes: the CSP forbids style attributes).
# Sold is dark with white text, held is amber with a hatch, free is light green: told apart without colour too.
COLOURS = {"free": ("#d3f9d8", "#2b8a3e", "#1b4d2a"), "held": ("#ffe8a1", "#e67700", "#5c3c00"),
           "sold": ("#c92a2a", "#7d1a1a", "#ffffff")}
HELD_STATUSES = ("prospect", "contacted", "negotiating")
MAX_METRES = Decimal("10000")  # a hall or a stand larger than 10 km is a typing error
MAX_STANDS_IMPORT = 2000


def stand_state(stand: Stand) -> str:
    exhibitor = stand.exhibitor
    if exhibitor is None or exhibitor.status in WITHDRAWN_STATUSES:
        return "free"
    return "sold" if exhibitor.status in PARTICIPATING_STATUSES else "held"


# --- reading ---------------------------------------------------------------------------------------------

@dataclass
class HallPlan:
    hall: Hall
    stands: list[Stand]
    states: dict[int, str]  # stand id -> free | held | sold

    @property
    def counts(self) -> dict[str, int]:
        out = {code: 0 for code in STAND_STATE.codes}
        for state in self.states.values():
            out[state] += 1
        return out


@dataclass
class FloorPlan:
    halls: list[HallPlan]
    counts: dict[str, int] = field(default_factory=dict)  # free / held / sold stands
    areas: dict[str, Decimal] = field(default_factory=dict)  # m² per state

    @property
    def stands(self) -> int:
        return sum(self.counts.values())

    @property
    def area(self) -> Decimal:
        return sum(self.areas.values(), Decimal(0))

    def stand(self, stand_id: int) -> Stand | None:
        return next((s for h in self.halls for s in h.stands if s.id == stand_id), None)

    def state(self, stand: Stand) -> str:
        return next(h.states[stand.id] for h in self.halls if stand.id in h.states)


def floor_plan(scope: Scope, edition: Edition) -> FloorPlan:
    """Every hall of the edition with its stands and their state, and the totals (3 queries)."""
    halls = list(db.session.scalars(scoped(Hall, scope).where(Hall.edition_id == edition.id).order_by(Hall.name)))
    stands = list(db.session.scalars(
        scoped(Stand, scope).where(Stand.edition_id == edition.id)
        .options(joinedload(Stand.exhibitor).joinedload(Exhibitor.company), joinedload(Stand.booth_type))
        .order_by(Stand.number)))
    by_hall: dict[int, list[Stand]] = {}
    for stand in stands:
        by_hall.setdefault(stand.hall_id, []).append(stand)
    plan = FloorPlan([], {code: 0 for code in STAND_STATE.codes}, {code: Decimal(0) for code in STAND_STATE.codes})
    for hall in halls:
        mine = sorted(by_hall.get(hall.id, []), key=lambda s: _natural(s.number))
        states = {s.id: stand_state(s) for s in mine}
        for s in mine:
            plan.counts[states[s.id]] += 1
            plan.areas[states[s.id]] += s.area_m2
        plan.halls.append(HallPlan(hall, mine, states))
    return plan


def fit_text(text: str, width_m: float, font_m: float) -> str:
    """The text cut (with "…") to what fits ``width_m`` metres at a font ``font_m`` metres high: a Han character
    is about one font size wide, a Latin letter about 0.55."""
    room, used = float(width_m) / float(font_m), 0.0
    for n, char in enumerate(text):
        used += 1.0 if ord(char) > 0x2E80 else 0.58
        if used > room:
            return text[: max(0, n - 1)].rstrip() + "…"
    return text


def _natural(text: str):
    """A1, A2, A10 in that order."""
    import re

    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def candidates(scope: Scope, edition: Edition) -> list[Exhibitor]:
    """The edition's exhibitors a stand may go to (not lost or cancelled), those without a stand first."""
    has_stand = select(Stand.id).where(Stand.exhibitor_id == Exhibitor.id).exists()
    return list(db.session.scalars(
        scoped(Exhibitor, scope).join(Company).where(Exhibitor.edition_id == edition.id,
                                                     Exhibitor.status.not_in(WITHDRAWN_STATUSES))
        .options(selectinload(Exhibitor.company)).order_by(has_stand, Company.name)))


def stand_of(exhibitor: Exhibitor) -> Stand | None:
    return db.session.scalar(select(Stand).where(Stand.exhibitor_id == exhibitor.id))


def booth_types(scope: Scope, edition: Edition) -> list[BoothType]:
    return list(db.session.scalars(scoped(BoothType, scope).where(BoothType.edition_id == edition.id)
                                   .order_by(BoothType.code)))


# --- halls ---------------------------------------------------------------------------------------------

def _metres(value, field_name: str, *, zero: bool = False) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise ServiceError(_l("Enter a number of metres."), field_name) from None
    if not number.is_finite() or number < 0 or (number == 0 and not zero) or number > MAX_METRES:
        raise ServiceError(_l("Enter a number of metres between 0 and 10,000."), field_name)
    return number.quantize(Decimal("0.01"))


def _name(value, field_name: str, message) -> str:
    text = (value or "").strip()
    if not text:
        raise ServiceError(message, field_name)
    if len(text) > 20 or unstorable(text):
        raise ServiceError(_l("At most 20 characters, letters and digits."), field_name)
    return text


def save_hall(scope: Scope, edition: Edition, *, name, width_m, depth_m, hall: Hall | None = None,
              actor_id: int | None = None) -> Hall:
    """Add a hall (``hall`` None) or change one. Its stands must still fit inside it."""
    name = _name(name, "name", _l("A hall needs a name."))
    width, depth = _metres(width_m, "width_m"), _metres(depth_m, "depth_m")
    same = scoped(Hall, scope, Hall.id).where(Hall.edition_id == edition.id, func.lower(Hall.name) == name.lower())
    if hall is not None:
        same = same.where(Hall.id != hall.id)
    if db.session.scalar(same):
        raise ServiceError(_l("This edition has a hall with this name already."), "name")
    if hall is None:
        hall = Hall(organizer_id=scope.organizer_id, edition_id=edition.id, name=name, width_m=width, depth_m=depth)
        db.session.add(hall)
        action = "hall.created"
    else:
        too_small = [s.number for s in hall.stands if s.x + s.w > width or s.y + s.h > depth]
        if too_small:
            raise ServiceError(_l("Stands %(numbers)s would lie outside the hall.", numbers=", ".join(too_small)),
                               "width_m")
        old_name = hall.name
        hall.name, hall.width_m, hall.depth_m = name, width, depth
        if old_name != name:  # the exhibitors' copy of the hall name follows
            for stand in hall.stands:
                if stand.exhibitor is not None and stand.exhibitor.hall == old_name:
                    stand.exhibitor.hall = name
        action = "hall.updated"
    db.session.flush()
    audit(action, organizer_id=scope.organizer_id, user_id=actor_id, obj=hall,
          details={"hall": name, "width_m": str(width), "depth_m": str(depth)})
    return hall


def delete_hall(hall: Hall, *, actor_id: int | None = None) -> None:
    taken = [s.number for s in hall.stands if s.exhibitor_id is not None]
    if taken:
        raise ServiceError(_l("Release stands %(numbers)s first: they are assigned.", numbers=", ".join(taken)))
    audit("hall.deleted", organizer_id=hall.organizer_id, user_id=actor_id, obj=hall, details={"hall": hall.name})
    db.session.delete(hall)
    db.session.flush()


# --- stands --------------------------------------------------------------------------------------------

@dataclass
class StandData:
    number: str
    x: object
    y: object
    w: object
    h: object
    area_m2: object = None  # None or "": w × h
    booth_type_id: int | None = None


def _overlaps(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def save_stand(scope: Scope, hall: Hall, data: StandData, *, stand: Stand | None = None,
               actor_id: int | None = None) -> Stand:
    """Add a stand to the hall (``stand`` None) or change one: inside the hall, over no other stand."""
    number = _name(data.number, "number", _l("A stand needs a number."))
    x, y = _metres(data.x, "x", zero=True), _metres(data.y, "y", zero=True)
    w, h = _metres(data.w, "w"), _metres(data.h, "h")
    if x + w > hall.width_m:
        raise ServiceError(_l("The stand ends beyond the hall's width (%(width)s m).", width=hall.width_m), "w")
    if y + h > hall.depth_m:
        raise ServiceError(_l("The stand ends beyond the hall's depth (%(depth)s m).", depth=hall.depth_m), "h")
    area = (w * h).quantize(Decimal("0.01")) if data.area_m2 in (None, "") else _metres(data.area_m2, "area_m2")
    if area > MAX_AREA:  # what a deal can hold (pipeline.MAX_AREA, the column's size)
        raise ServiceError(_l("A stand of %(area)s m² is larger than any booth (%(max)s m² at most).",
                              area=area, max=MAX_AREA), "area_m2" if data.area_m2 not in (None, "") else "w")
    booth_type = None
    if data.booth_type_id:
        booth_type = get_scoped(BoothType, data.booth_type_id, scope)
        if booth_type is None or booth_type.edition_id != hall.edition_id:
            raise ServiceError(_l("No such booth type."), "booth_type_id")
    others = [s for s in hall.stands if stand is None or s.id != stand.id]
    same = next((s for s in others if s.number.lower() == number.lower()), None)
    if same is not None:
        raise ServiceError(_l("Hall %(hall)s has a stand %(number)s already.", hall=hall.name, number=same.number),
                           "number")
    clash = next((s for s in others if _overlaps((x, y, w, h), (s.x, s.y, s.w, s.h))), None)
    if clash is not None:
        raise ServiceError(_l("The stand would overlap stand %(number)s.", number=clash.number), "x")
    if stand is None:
        stand = Stand(organizer_id=scope.organizer_id, edition_id=hall.edition_id, hall=hall)
        db.session.add(stand)
        action = "stand.created"
    else:
        action = "stand.updated"
    old_number = stand.number
    stand.number, stand.x, stand.y, stand.w, stand.h, stand.area_m2 = number, x, y, w, h, area
    stand.booth_type_id = booth_type.id if booth_type else None
    db.session.flush()
    if stand.exhibitor is not None and action == "stand.updated":  # the exhibitor's copy follows
        exhibitor = stand.exhibitor
        if exhibitor.stand == old_number:
            exhibitor.stand = number
        exhibitor.area_m2 = area
        if booth_type is not None:
            exhibitor.booth_type_id = booth_type.id
    audit(action, organizer_id=scope.organizer_id, user_id=actor_id, obj=stand,
          details={"stand": f"{hall.name}-{number}", "area_m2": str(area)})
    return stand


def delete_stand(stand: Stand, *, actor_id: int | None = None) -> None:
    if stand.exhibitor_id is not None:
        raise ServiceError(_l("Release the stand first: it is assigned."))
    audit("stand.deleted", organizer_id=stand.organizer_id, user_id=actor_id, obj=stand,
          details={"stand": stand.label})
    stand.hall.stands.remove(stand)
    db.session.delete(stand)
    db.session.flush()


# --- assignment ------------------------------------------------------------------------------------------

def _lock(model, ids) -> dict:
    """Rows of ``model`` read afresh and locked to the end of the transaction, in id order (PostgreSQL: row locks;
    SQLite: the write lock, taken before the first read)."""
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return {}
    rows = db.session.scalars(select(model).where(model.id.in_(ids)).order_by(model.id).with_for_update(of=model)
                              .execution_options(populate_existing=True))
    return {row.id: row for row in rows}


def _taken(stand: Stand):
    return ServiceError(_l("Stand %(stand)s was taken a moment ago: look at the plan again.", stand=stand.label),
                        "exhibitor_id")


def assign_stand(stand: Stand, exhibitor: Exhibitor, *, actor_id: int | None = None) -> bool:
    """Give the stand to the exhibitor: refused when another exhibitor (still in the game) holds it. A stand
    held by a lost or cancelled deal is taken over; the exhibitor's previous stand, if any, is released.
    Returns False when the exhibitor holds this stand already.

    Locks, always in this order so that concurrent assignments never wait on each other in a circle: the
    exhibitors concerned (this one and the stand's holder), then the stands concerned (this one and the
    exhibitor's previous one), each group in id order; then everything is read again under the locks."""
    if exhibitor.organizer_id != stand.organizer_id or exhibitor.edition_id != stand.edition_id:
        raise ServiceError(_l("This exhibitor does not take part in this edition."), "exhibitor_id")
    take_write_lock(db.session)
    stand_id, exhibitor_id = stand.id, exhibitor.id
    holder_id = db.session.scalar(select(Stand.exhibitor_id).where(Stand.id == stand_id))
    exhibitors = _lock(Exhibitor, [exhibitor_id, holder_id])
    exhibitor = exhibitors[exhibitor_id]
    previous_id = db.session.scalar(select(Stand.id).where(Stand.exhibitor_id == exhibitor_id))
    stands = _lock(Stand, [stand_id, previous_id])
    stand = stands.get(stand_id)
    if stand is None:
        raise ServiceError(_l("This stand no longer exists."))
    if exhibitor.status in WITHDRAWN_STATUSES:
        raise ServiceError(_l("%(company)s is lost or cancelled: move it back into the pipeline first.",
                              company=exhibitor.company.name), "exhibitor_id")
    if stand.exhibitor_id == exhibitor.id:
        return False
    previous_holder = None
    if stand.exhibitor_id is not None:
        holder = exhibitors.get(stand.exhibitor_id)
        if holder is None:  # assigned between the first look and the locks: to someone else
            holder = db.session.get(Exhibitor, stand.exhibitor_id)
            if holder.status in WITHDRAWN_STATUSES:
                raise _taken(stand)
        if holder.status not in WITHDRAWN_STATUSES:
            raise ServiceError(_l("Stand %(stand)s is taken by %(company)s already.", stand=stand.label,
                                  company=holder.company.name), "exhibitor_id")
        previous_holder = holder
        _release(stand, holder, actor_id=actor_id, reason="withdrawn")
    moved_from = stands.get(previous_id) if previous_id != stand_id else None
    if moved_from is not None:
        _release(moved_from, exhibitor, actor_id=actor_id, reason="moved")
    stand.exhibitor_id = exhibitor.id
    stand.assigned_at = utcnow()
    exhibitor.hall, exhibitor.stand, exhibitor.area_m2 = stand.hall.name, stand.number, stand.area_m2
    if stand.booth_type_id is not None:
        exhibitor.booth_type_id = stand.booth_type_id
    db.session.flush()
    details = {"stand": stand.label, "exhibitor_id": exhibitor.id, "company": exhibitor.company.name,
               "area_m2": str(stand.area_m2)}
    if moved_from is not None:
        details["from_stand"] = moved_from.label
    if previous_holder is not None:
        details["previous_exhibitor_id"] = previous_holder.id
    audit("stand.assigned", organizer_id=stand.organizer_id, user_id=actor_id, obj=stand, details=details)
    activity.record("stand.assigned", organizer_id=exhibitor.organizer_id, subject_type="company",
                    subject_id=exhibitor.company_id, edition_id=exhibitor.edition_id, user_id=actor_id, obj=stand,
                    details={"stand": stand.label, "edition": exhibitor.edition.name, "area_m2": str(stand.area_m2)})
    return True


def _release(stand: Stand, exhibitor: Exhibitor, *, actor_id: int | None, reason: str) -> None:
    stand.exhibitor_id = None
    stand.assigned_at = None
    if (exhibitor.hall, exhibitor.stand) == (stand.hall.name, stand.number):
        exhibitor.hall, exhibitor.stand = "", ""
    db.session.flush()  # the unique key on exhibitor_id: the old row lets go before a new one takes it
    audit("stand.released", organizer_id=stand.organizer_id, user_id=actor_id, obj=stand,
          details={"stand": stand.label, "exhibitor_id": exhibitor.id, "company": exhibitor.company.name,
                   "reason": reason})
    activity.record("stand.released", organizer_id=exhibitor.organizer_id, subject_type="company",
                    subject_id=exhibitor.company_id, edition_id=exhibitor.edition_id, user_id=actor_id, obj=stand,
                    details={"stand": stand.label, "edition": exhibitor.edition.name})


def release_stand(stand: Stand, *, actor_id: int | None = None) -> bool:
    """Take the stand back from its exhibitor (the exhibitor stays in the pipeline, without a stand). Locks in
    assign_stand's order: the holder, then the stand."""
    take_write_lock(db.session)
    stand_id = stand.id
    holder_id = db.session.scalar(select(Stand.exhibitor_id).where(Stand.id == stand_id))
    if holder_id is None:
        return False
    holder = _lock(Exhibitor, [holder_id])[holder_id]
    stand = _lock(Stand, [stand_id]).get(stand_id)
    if stand is None or stand.exhibitor_id != holder.id:
        return False  # released or given to someone else a moment ago
    _release(stand, holder, actor_id=actor_id, reason="released")
    return True


# --- import from CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS = ("hall", "number", "x", "y", "w", "h", "area_m2", "booth_type")


@dataclass
class ImportResult:
    added: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def import_stands(scope: Scope, edition: Edition, text: str, *, actor_id: int | None = None) -> ImportResult:
    """Stands from CSV (a header line naming hall, number, x, y, w, h, and optionally area_m2, booth_type):
    each good line is added (its hall too, sized to hold it), each bad line reported with its number."""
    result = ImportResult()
    if unstorable(text):
        result.errors.append((0, str(_l("The file holds characters no database can store."))))
        return result
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS[:6] if c not in header]
    if missing:
        result.errors.append((1, str(_l("Missing columns: %(columns)s.", columns=", ".join(missing)))))
        return result
    reader.fieldnames = header
    types = {t.code.lower(): t.id for t in booth_types(scope, edition)}
    halls = {h.name.lower(): h for h in db.session.scalars(scoped(Hall, scope).where(Hall.edition_id == edition.id))}
    for line, row in enumerate(reader, start=2):
        if line - 1 > MAX_STANDS_IMPORT:
            result.errors.append((line, str(_l("At most %(n)s stands per file.", n=MAX_STANDS_IMPORT))))
            break
        row = {k: (v or "").strip() if isinstance(v, str) else "" for k, v in row.items() if k}
        try:
            with db.session.begin_nested():
                hall_name = _name(row.get("hall"), "hall", _l("A hall needs a name."))
                hall = halls.get(hall_name.lower())
                x, y = _metres(row.get("x"), "x", zero=True), _metres(row.get("y"), "y", zero=True)
                w, h = _metres(row.get("w"), "w"), _metres(row.get("h"), "h")
                if hall is None:
                    hall = save_hall(scope, edition, name=hall_name, width_m=x + w, depth_m=y + h, actor_id=actor_id)
                    halls[hall_name.lower()] = hall
                elif x + w > hall.width_m or y + h > hall.depth_m:
                    save_hall(scope, edition, name=hall.name, width_m=max(hall.width_m, x + w),
                              depth_m=max(hall.depth_m, y + h), hall=hall, actor_id=actor_id)
                code = row.get("booth_type", "").lower()
                if code and code not in types:
                    raise ServiceError(_l("No booth type with the code %(code)s.", code=row.get("booth_type")))
                save_stand(scope, hall, StandData(row.get("number"), x, y, w, h, row.get("area_m2") or None,
                                                  types.get(code)), actor_id=actor_id)
        except ServiceError as error:
            result.errors.append((line, str(error)))
        else:
            result.added += 1
    return result
